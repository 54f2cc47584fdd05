//! Applies the lifecycle stage rule ([`guanxi_domain::lifecycle`]) to every scored customer in
//! one statement after each score refresh, and audits how many moved from which stage to which
//! (one entry for the run, not one per customer).

use guanxi_domain::lifecycle::{NEW_WITHIN_DAYS, STAGE_OF_ACTIVITY};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::LifecycleStage;
use serde_json::json;

use crate::audit::{record, AuditEvent};
use crate::db::Store;
use crate::error::Result;

/// The rule as a SQL expression over `customer_scores s` (codes from the domain's table, so
/// the two cannot drift apart; none of it comes from input).
fn stage_expression() -> String {
    let active: Vec<String> = STAGE_OF_ACTIVITY
        .iter()
        .filter(|(_, s)| *s == LifecycleStage::Active)
        .map(|(a, _)| format!("'{a}'"))
        .collect();
    let mut case = format!(
        "CASE WHEN s.activity IN ({}) AND s.frequency = 1 AND s.recency_days <= {NEW_WITHIN_DAYS} THEN '{}'",
        active.join(", "),
        LifecycleStage::New.as_str()
    );
    for (activity, stage) in STAGE_OF_ACTIVITY {
        case.push_str(&format!(
            " WHEN s.activity = '{activity}' THEN '{}'",
            stage.as_str()
        ));
    }
    case.push_str(" END");
    case
}

impl Store {
    /// Sets each scored customer's stage from their purchases; returns how many changed.
    pub async fn apply_lifecycle_rule(&self, at: i64) -> Result<u64> {
        let stage = stage_expression();
        let changed = format!(
            "(SELECT s.customer_id, {stage} AS stage FROM customer_scores s) x \
             WHERE x.customer_id = customers.id AND x.stage IS NOT NULL \
             AND customers.deleted_at IS NULL AND customers.lifecycle_stage <> x.stage"
        );
        let mut tx = self.begin_write().await?;
        let moves: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT customers.lifecycle_stage, x.stage, COUNT(*) FROM customers, {changed} \
             GROUP BY customers.lifecycle_stage, x.stage ORDER BY 1, 2"
        ))
        .fetch_all(&mut *tx)
        .await?;
        if moves.is_empty() {
            return Ok(0);
        }
        let n = sqlx::query(&format!(
            "UPDATE customers SET lifecycle_stage = x.stage, version = customers.version + 1, \
             updated_at = $1 FROM {changed}"
        ))
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        record(
            &mut tx,
            &Actor::system(),
            AuditEvent {
                action: "lifecycle_rule",
                entity: "customer",
                entity_id: None,
                detail: json!({"changed": n, "moves": moves.iter().map(|(from, to, n)| json!({"from": from, "to": to, "customers": n})).collect::<Vec<_>>()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}
