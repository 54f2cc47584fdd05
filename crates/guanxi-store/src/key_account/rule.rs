//! The shop's key-account rule and the visit cadence. Applying the rule makes every customer
//! it picks a key account (managed by the customer's owner) and ends the rule's earlier picks
//! it no longer picks — unless someone has since written a plan for them or changed them by
//! hand, which makes them the people's, not the rule's. The cadence gives a key account's
//! manager (or the deputy, when the manager has left) a visit task when nobody has been in
//! touch for longer than its cadence, one open task at a time.

use chrono::{DateTime, Utc};
use guanxi_domain::key_account::{top_count, KeyAccountRule, RuleInput};
use guanxi_domain::role::Actor;
use serde::Serialize;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

/// The rule as set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct RuleSettings {
    /// `none`, `abc_a` or `clv_top`.
    pub rule: String,
    /// For `clv_top`: the top percent.
    pub clv_top_percent: i64,
    /// Version.
    pub version: i64,
}

/// What applying the rule did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleReport {
    /// Customers the rule picks now.
    pub picked: i64,
    /// Of them, new key accounts.
    pub added: i64,
    /// Earlier picks it no longer picks, ended.
    pub ended: i64,
}

/// What a cadence run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VisitReport {
    /// Visit tasks given.
    pub tasks: i64,
}

/// Visit tasks one cadence run gives at most (the next run gives the rest).
const VISIT_BATCH: i64 = 500;

impl Store {
    /// The rule.
    pub async fn key_account_rule(&self) -> Result<RuleSettings> {
        Ok(sqlx::query_as(
            "SELECT rule, clv_top_percent, version FROM key_account_settings WHERE id = 1",
        )
        .fetch_one(&self.read)
        .await?)
    }

    /// Sets the rule (checked by the caller) at the version read, audited.
    pub async fn set_key_account_rule(&self, actor: &Actor, r: &RuleInput) -> Result<RuleSettings> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE key_account_settings SET rule = $1, clv_top_percent = $2, \
             version = version + 1, updated_at = $3, updated_by = $4 WHERE id = 1 AND version = $5",
        )
        .bind(r.rule.as_str())
        .bind(r.clv_top_percent)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(r.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            let current: i64 =
                sqlx::query_scalar("SELECT version FROM key_account_settings WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            return Err(StoreError::Conflict {
                current,
                updated_by: None,
            });
        }
        entry(
            &mut tx,
            actor,
            "set_key_account_rule",
            "key_account_settings",
            Some(1),
            serde_json::json!({"rule": r.rule.as_str(), "clv_top_percent": r.clv_top_percent}),
        )
        .await?;
        tx.commit().await?;
        self.key_account_rule().await
    }

    /// Applies the rule to the scored customers, in one transaction, audited with what it did.
    pub async fn apply_key_account_rule(&self, actor: &Actor) -> Result<RuleReport> {
        let settings = self.key_account_rule().await?;
        let rule = KeyAccountRule::parse(&settings.rule)
            .map_err(|_| StoreError::Corrupt(format!("key account rule {}", settings.rule)))?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        // The customers the rule picks, as a subquery.
        let picked_sql = match rule {
            KeyAccountRule::None => {
                "SELECT customer_id FROM customer_scores WHERE 1 = 0".to_string()
            }
            KeyAccountRule::AbcA => "SELECT s.customer_id FROM customer_scores s JOIN customers c \
                ON c.id = s.customer_id WHERE c.deleted_at IS NULL AND s.abc_class = 'A'"
                .to_string(),
            KeyAccountRule::ClvTop => {
                let scored: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM customer_scores s JOIN customers c \
                     ON c.id = s.customer_id WHERE c.deleted_at IS NULL \
                     AND s.clv_minor IS NOT NULL",
                )
                .fetch_one(&mut *tx)
                .await?;
                format!(
                    "SELECT customer_id FROM (SELECT s.customer_id FROM customer_scores s \
                     JOIN customers c ON c.id = s.customer_id WHERE c.deleted_at IS NULL \
                     AND s.clv_minor IS NOT NULL ORDER BY s.clv_minor DESC, s.customer_id \
                     LIMIT {}) top",
                    top_count(scored, settings.clv_top_percent)
                )
            }
        };
        let picked: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({picked_sql}) p"))
            .fetch_one(&mut *tx)
            .await?;
        let added = sqlx::query(&format!(
            "INSERT INTO key_accounts (customer_id, origin, manager_id, deputy_id, cadence_days, \
             contacts, actions, version, created_at, updated_at, created_by, updated_by) \
             SELECT c.id, 'rule', c.owner_id, NULL, 30, '[]', '[]', 1, $1, $1, $2, $2 \
             FROM customers c WHERE c.id IN ({picked_sql}) \
             AND NOT EXISTS (SELECT 1 FROM key_accounts k WHERE k.customer_id = c.id)"
        ))
        .bind(now)
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let ended = sqlx::query(&format!(
            "DELETE FROM key_accounts WHERE origin = 'rule' AND version = 1 \
             AND customer_id NOT IN ({picked_sql})"
        ))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let report = RuleReport {
            picked,
            added: i64::try_from(added).unwrap_or(i64::MAX),
            ended: i64::try_from(ended).unwrap_or(i64::MAX),
        };
        entry(
            &mut tx,
            actor,
            "apply_key_account_rule",
            "key_account_settings",
            Some(1),
            serde_json::json!({"rule": settings.rule, "picked": report.picked,
                "added": report.added, "ended": report.ended}),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Gives a visit task to the manager (or, when the manager is inactive, the deputy) of
    /// every key account nobody has been in touch with for longer than its cadence and that has
    /// no open visit task yet, due today: at most a few hundred per run.
    pub async fn key_account_visits(&self, now: DateTime<Utc>, title: &str) -> Result<VisitReport> {
        let now_ms = to_ms(now);
        let due: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT k.customer_id, CASE WHEN m.active = TRUE THEN k.manager_id \
             WHEN d.active = TRUE THEN k.deputy_id ELSE NULL END \
             FROM key_accounts k JOIN customers c ON c.id = k.customer_id \
             LEFT JOIN users m ON m.id = k.manager_id LEFT JOIN users d ON d.id = k.deputy_id \
             WHERE c.deleted_at IS NULL AND (m.active = TRUE OR d.active = TRUE) AND (k.visit_task_id IS NULL OR EXISTS (SELECT 1 \
             FROM tasks t WHERE t.id = k.visit_task_id AND t.done_at IS NOT NULL)) \
             AND COALESCE((SELECT MAX(i.occurred_at) FROM interactions i \
             WHERE i.customer_id = k.customer_id), 0) < $1 - k.cadence_days * 86400000 \
             ORDER BY k.customer_id LIMIT $2",
        )
        .bind(now_ms)
        .bind(VISIT_BATCH)
        .fetch_all(&self.read)
        .await?;
        let mut tasks = 0;
        for (customer, assignee) in due {
            let Some(assignee) = assignee else { continue };
            let mut tx = self.begin_write().await?;
            let id = crate::timeline::insert_system_task(
                &mut tx,
                customer,
                title,
                None,
                now_ms,
                Some(assignee),
                now_ms,
            )
            .await?;
            sqlx::query("UPDATE key_accounts SET visit_task_id = $1 WHERE customer_id = $2")
                .bind(id)
                .bind(customer)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tasks += 1;
        }
        Ok(VisitReport { tasks })
    }
}
