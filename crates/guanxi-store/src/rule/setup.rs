//! Saving rules and reading their firing log. A rule on events starts reading at the newest
//! order or ticket event when it is saved (or its trigger changed): switching a rule on acts
//! on what happens from then, not on years of history.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::rule::{RuleInput, Trigger, TriggerClass};
use guanxi_domain::ValidationErrors;

use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::sql::SqlBuilder;

/// A stored rule with how often it fired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RuleRecord {
    /// Id.
    pub id: i64,
    /// The rule.
    pub rule: RuleInput,
    /// Firings so far.
    pub fired: i64,
    /// Firings whose actions failed.
    pub failed: i64,
    /// When a rule on a set or a threshold last compared the customers.
    pub checked_at: Option<DateTime<Utc>>,
    /// Version, for updates.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One firing in the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FiringRecord {
    /// Id.
    pub id: i64,
    /// The rule.
    pub rule_id: i64,
    /// The customer.
    pub customer_id: i64,
    /// The customer's name.
    pub customer_name: String,
    /// What happened: `in:2026-12-07`, `order:123`, `spend:1000000`, `ticket:9:resolved` …
    pub cause: String,
    /// When it fired.
    pub fired_at: DateTime<Utc>,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// What was done (`task 41; +tag vip; +500 points`), or why it failed.
    pub outcome: Option<String>,
}

type Row = (i64, String, i64, i64, i64, Option<i64>, i64, i64, i64);

const SELECT: &str = "SELECT r.id, r.definition, r.active, \
     (SELECT COUNT(*) FROM rule_firings f WHERE f.rule_id = r.id), \
     (SELECT COUNT(*) FROM rule_firings f WHERE f.rule_id = r.id AND f.status = 'failed'), \
     r.checked_at, r.version, r.created_at, r.updated_at FROM rules r";

fn record(r: Row) -> Result<RuleRecord> {
    let (id, definition, active, fired, failed, checked_at, version, created_at, updated_at) = r;
    let mut rule: RuleInput = serde_json::from_str(&definition)
        .map_err(|e| StoreError::Corrupt(format!("rules.definition: {e}")))?;
    rule.active = active != 0;
    Ok(RuleRecord {
        id,
        rule,
        fired,
        failed,
        checked_at: checked_at.map(from_ms),
        version,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
    })
}

/// Where a rule on `t` starts reading: the newest row of what it watches.
async fn start_cursor(conn: &mut sqlx::AnyConnection, t: &Trigger) -> Result<i64> {
    let table = match t {
        Trigger::OrderPlaced { .. } | Trigger::OrderAnomaly => "orders",
        Trigger::TicketOpened { .. } | Trigger::TicketResolved { .. } => "ticket_events",
        _ => return Ok(0),
    };
    Ok(
        sqlx::query_scalar::<_, Option<i64>>(&format!("SELECT MAX(id) FROM {table}"))
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(0),
    )
}

impl Store {
    /// Every rule, newest first.
    pub async fn list_rules(&self) -> Result<Vec<RuleRecord>> {
        let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY r.id DESC"))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// One rule.
    pub async fn get_rule(&self, id: i64) -> Result<RuleRecord> {
        let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        record(row.ok_or(StoreError::NotFound)?)
    }

    /// Refuses a rule naming a segment, a coupon offer, a survey or a campaign that does not
    /// exist, or a user to notify who is not active.
    pub(crate) async fn check_rule_segments(&self, r: &RuleInput) -> Result<()> {
        let named = [
            ("trigger.segment_id", r.trigger.segment()),
            ("segment_id", r.segment_id),
        ];
        let mut e = ValidationErrors::new();
        for (field, id) in named {
            let Some(id) = id else { continue };
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM segments WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
            if found.is_none() {
                e.push(field, "not_found");
            }
        }
        for (i, a) in r.actions.iter().enumerate() {
            let (table, field, id) = match a {
                guanxi_domain::rule::Action::IssueCoupon { offer_id } => {
                    ("coupon_offers", "offer_id", *offer_id)
                }
                guanxi_domain::rule::Action::SendSurvey { survey_id } => {
                    ("surveys", "survey_id", *survey_id)
                }
                guanxi_domain::rule::Action::EnrolCampaign { campaign_id } => {
                    ("campaigns", "campaign_id", *campaign_id)
                }
                guanxi_domain::rule::Action::Notify {
                    user_id: Some(user),
                    ..
                } => {
                    let mut conn = self.read.acquire().await?;
                    match crate::users::check_active_user(&mut conn, "user_id", Some(*user)).await {
                        Ok(()) => {}
                        Err(StoreError::Invalid(x)) => {
                            e.0.extend(x.0.into_iter().map(|v| v.under(&format!("actions[{i}]"))))
                        }
                        Err(other) => return Err(other),
                    }
                    continue;
                }
                _ => continue,
            };
            let found: Option<i64> =
                sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?;
            if found.is_none() {
                e.push(format!("actions[{i}].{field}"), "not_found");
            }
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(e.into())
        }
    }

    /// Saves a new rule (checked by the caller), audited; a taken name is
    /// `Duplicate { field: "name" }`.
    pub async fn create_rule(&self, actor: &Actor, r: &RuleInput) -> Result<RuleRecord> {
        self.check_rule_segments(r).await?;
        let definition =
            serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let cursor = start_cursor(&mut tx, &r.trigger).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rules (name, definition, trigger_kind, active, cursor, version, \
             created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7, $7) RETURNING id",
        )
        .bind(r.name.as_str())
        .bind(definition.as_str())
        .bind(r.trigger.code())
        .bind(i64::from(r.active))
        .bind(cursor)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_rule",
            "rule",
            Some(id),
            serde_json::json!({"name": r.name, "trigger": r.trigger, "actions": r.actions,
                "segment_id": r.segment_id, "active": r.active}),
        )
        .await?;
        tx.commit().await?;
        self.get_rule(id).await
    }

    /// Changes a rule at `version`, audited. Its log stays, so a customer it already acted on
    /// for a cause is not acted on again for it. A changed trigger starts afresh: events from
    /// now, and (for a set) an empty picture of who was in it.
    pub async fn update_rule(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        r: &RuleInput,
    ) -> Result<RuleRecord> {
        self.check_rule_segments(r).await?;
        let before = self.get_rule(id).await?;
        let definition =
            serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let retrigger = before.rule.trigger != r.trigger;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE rules SET name = $1, definition = $2, trigger_kind = $3, active = $4, \
             version = version + 1, updated_at = $5, updated_by = $6 \
             WHERE id = $7 AND version = $8",
        )
        .bind(r.name.as_str())
        .bind(definition.as_str())
        .bind(r.trigger.code())
        .bind(i64::from(r.active))
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        if retrigger {
            let cursor = start_cursor(&mut tx, &r.trigger).await?;
            sqlx::query("UPDATE rules SET cursor = $1, checked_at = NULL WHERE id = $2")
                .bind(cursor)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if r.trigger.class() == TriggerClass::Set {
                sqlx::query("DELETE FROM rule_members WHERE rule_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        entry(
            &mut tx,
            actor,
            "update_rule",
            "rule",
            Some(id),
            serde_json::json!({"name": r.name, "trigger": r.trigger, "actions": r.actions,
                "segment_id": r.segment_id, "active": r.active, "was_active": before.rule.active}),
        )
        .await?;
        tx.commit().await?;
        self.get_rule(id).await
    }

    /// The latest firings of a rule (all rules when `None`), newest first.
    pub async fn rule_firings(&self, rule: Option<i64>, limit: i64) -> Result<Vec<FiringRecord>> {
        type F = (i64, i64, i64, String, String, i64, String, Option<String>);
        let mut q = SqlBuilder::new(
            "SELECT f.id, f.rule_id, f.customer_id, c.name, f.cause, f.fired_at, f.status, \
             f.outcome FROM rule_firings f JOIN customers c ON c.id = f.customer_id",
        );
        if let Some(r) = rule {
            q.push(" WHERE f.rule_id = ").int(r);
        }
        q.push(" ORDER BY f.id DESC LIMIT ").int(limit);
        let rows: Vec<F> = q.query_as().fetch_all(&self.read).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, rule_id, customer_id, customer_name, cause, at, status, outcome)| {
                    FiringRecord {
                        id,
                        rule_id,
                        customer_id,
                        customer_name,
                        cause,
                        fired_at: from_ms(at),
                        status,
                        outcome,
                    }
                },
            )
            .collect())
    }
}
