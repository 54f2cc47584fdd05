//! The export policy (one row) and the export requests.

use chrono::Utc;
use guanxi_domain::role::Actor;
use serde::Serialize;
use serde_json::json;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::notification::{notify_in, NewNotification};
use crate::setting_row::{set_setting, SettingChange};

/// The shop's export policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ExportPolicy {
    /// Exports of more customers than this need a manager's approval.
    pub approval_threshold: i64,
    /// Optimistic version.
    pub version: i64,
}

/// A request to export more customers than the threshold allows at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ExportRequest {
    /// Id.
    pub id: i64,
    /// Who asked.
    pub requested_by: i64,
    /// What (`customers`).
    pub what: String,
    /// The list's filter, as its query string.
    pub query: String,
    /// The chosen columns, comma-separated codes.
    pub columns: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// Customers it held when asked.
    pub row_count: i64,
    /// Why (required).
    pub reason: String,
    /// `pending`, `approved`, `rejected` or `downloaded`.
    pub status: String,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When (epoch ms).
    pub decided_at: Option<i64>,
    /// The approver's note.
    pub decision_note: Option<String>,
    /// When the approved file was downloaded (epoch ms).
    pub downloaded_at: Option<i64>,
    /// Asked (epoch ms).
    pub created_at: i64,
    /// Optimistic version.
    pub version: i64,
}

/// A request to store.
#[derive(Debug, Clone, Copy)]
pub struct NewExportRequest<'a> {
    /// What (`customers`).
    pub what: &'a str,
    /// The filter as a query string.
    pub query: &'a str,
    /// The columns.
    pub columns: &'a str,
    /// The format.
    pub format: &'a str,
    /// Customers it holds.
    pub row_count: i64,
    /// Why.
    pub reason: &'a str,
}

/// A message for one user (in their language), written with a step.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The user.
    pub user_id: i64,
    /// The text.
    pub message: String,
}

const COLUMNS: &str = "id, requested_by, what, query, columns, format, row_count, reason, status, \
     decided_by, decided_at, decision_note, downloaded_at, created_at, version FROM export_requests";

/// Writes the alerts of one step in its transaction, each once (keyed by the step).
async fn alert_all(
    conn: &mut sqlx::AnyConnection,
    alerts: &[Alert],
    id: i64,
    step: &str,
) -> Result<()> {
    let now = Utc::now();
    for a in alerts {
        let key = format!("export:{id}:{step}:{}", a.user_id);
        notify_in(
            conn,
            &NewNotification {
                user_id: a.user_id,
                customer_id: None,
                source: "export",
                source_id: Some(id),
                message: &a.message,
                dedupe_key: &key,
                at: now,
            },
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// The shop's export policy.
    pub async fn export_policy(&self) -> Result<ExportPolicy> {
        Ok(
            sqlx::query_as("SELECT approval_threshold, version FROM export_policy WHERE id = 1")
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Sets the threshold at the version read, audited.
    pub async fn set_export_policy(
        &self,
        actor: &Actor,
        threshold: i64,
        version: i64,
    ) -> Result<ExportPolicy> {
        let mut tx = self.begin_write().await?;
        let before = self.export_policy().await?;
        set_setting(
            &mut tx,
            actor,
            SettingChange {
                table: "export_policy",
                column: "approval_threshold",
                value: threshold,
                version,
                current: before.version,
                detail: &json!({"approval_threshold":
                    {"before": before.approval_threshold, "after": threshold}}),
            },
        )
        .await?;
        tx.commit().await?;
        self.export_policy().await
    }

    /// Stores a pending request, audited, with the approvers' alerts.
    pub async fn create_export_request(
        &self,
        actor: &Actor,
        r: NewExportRequest<'_>,
        alerts: &[Alert],
    ) -> Result<ExportRequest> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO export_requests (requested_by, what, query, columns, format, row_count, \
             reason, status, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', \
             $8, 1) RETURNING id",
        )
        .bind(actor.user_id())
        .bind(r.what)
        .bind(r.query)
        .bind(r.columns)
        .bind(r.format)
        .bind(r.row_count)
        .bind(r.reason)
        .bind(to_ms(Utc::now()))
        .fetch_one(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "request_export",
            "export_request",
            Some(id),
            json!({"what": r.what, "rows": r.row_count, "format": r.format, "reason": r.reason,
                   "query": r.query, "columns": r.columns}),
        )
        .await?;
        alert_all(&mut tx, alerts, id, "requested").await?;
        tx.commit().await?;
        self.export_request(id).await
    }

    /// One request.
    pub async fn export_request(&self, id: i64) -> Result<ExportRequest> {
        sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The latest requests, newest first: one requester's, or everyone's.
    pub async fn export_requests(
        &self,
        requested_by: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ExportRequest>> {
        let q = crate::sql::newest(COLUMNS, "requested_by", requested_by, limit);
        Ok(q.query_as().fetch_all(&self.read).await?)
    }

    /// Approves or rejects a pending request (the caller checked who may), audited, with the
    /// requester's alert.
    pub async fn decide_export(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        note: Option<&str>,
        alerts: &[Alert],
    ) -> Result<ExportRequest> {
        let status = if approve { "approved" } else { "rejected" };
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE export_requests SET status = $1, decided_by = $2, decided_at = $3, \
             decision_note = $4, version = version + 1 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(actor.user_id())
        .bind(to_ms(Utc::now()))
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::invalid("status", "not_pending"));
        }
        entry(
            &mut tx,
            actor,
            if approve {
                "approve_export"
            } else {
                "reject_export"
            },
            "export_request",
            Some(id),
            json!({"note": note}),
        )
        .await?;
        alert_all(&mut tx, alerts, id, status).await?;
        tx.commit().await?;
        self.export_request(id).await
    }

    /// Claims an approved request's one download for its requester, with the admins'
    /// alerts; `false` when it was not approved (or already taken). The file written after
    /// it is audited as the export, with its row count.
    pub async fn take_approved_export(
        &self,
        actor: &Actor,
        id: i64,
        alerts: &[Alert],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE export_requests SET status = 'downloaded', downloaded_at = $1, \
             version = version + 1 WHERE id = $2 AND status = 'approved' AND requested_by = $3",
        )
        .bind(to_ms(Utc::now()))
        .bind(id)
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        alert_all(&mut tx, alerts, id, "downloaded").await?;
        tx.commit().await?;
        Ok(true)
    }
}
