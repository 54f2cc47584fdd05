//! The membership programme's background passes: the accrual sweep (points for each order
//! placed since the programme started, a chunk of orders per transaction, each posting keyed
//! `order:<id>` so a repeated chunk earns nothing twice) and the tier evaluation (every
//! member's measure over the rolling window against the tiers, only the changes written, each
//! with a row in `loyalty_tier_changes` and an event on the customer's timeline).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use guanxi_domain::loyalty::{ProgramInput, TierBasis};
use guanxi_domain::segment::local_midnight_ms;

use super::ledger::{lock_account, post_lot, posted, EntryKind, NewEntry};
use crate::db::{from_ms, to_ms, Store};
use crate::error::Result;
use crate::events::{project, EventSource, Rows};
use crate::sql::SqlBuilder;

/// Orders one accrual transaction reads.
pub const ACCRUAL_CHUNK: i64 = 2000;
/// Tier changes one transaction writes.
const CHANGE_CHUNK: usize = 1000;

/// Tier changes on the timeline: coded `up`, `down` or `join`, titled "银卡 → 金卡".
pub(crate) const TIER_EVENTS: EventSource = EventSource {
    kind: "tier",
    select: "SELECT customer_id, at, 'tier' AS kind, id AS ref_id, direction AS code, title, \
             CAST(NULL AS TEXT) AS detail, CAST(NULL AS BIGINT) AS amount_minor, \
             CAST(NULL AS TEXT) AS currency, CAST(NULL AS BIGINT) AS user_id, \
             CAST(NULL AS BIGINT) AS version, CAST(NULL AS BIGINT) AS link_id \
             FROM loyalty_tier_changes",
};

/// What an accrual step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AccrualReport {
    /// Orders read.
    pub orders: usize,
    /// Orders that earned points (new postings).
    pub earned: usize,
    /// Points posted.
    pub points: i64,
    /// More orders are waiting (the caller runs another step).
    pub more: bool,
}

/// What a tier evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TierReport {
    /// Members measured.
    pub members: usize,
    /// Members who joined at the first tier.
    pub joined: u64,
    /// Moved up.
    pub up: usize,
    /// Moved down.
    pub down: usize,
}

type OrderRow = (i64, i64, i64, i64);

impl Store {
    /// Posts the points of up to [`ACCRUAL_CHUNK`] orders after the active programme's
    /// `accrued_through`, in one transaction that also moves the mark; no programme, nothing.
    pub async fn loyalty_accrue_orders(&self, utc_offset_hours: i64) -> Result<AccrualReport> {
        let Some((program_id, p, through)) = self.active_loyalty_program().await? else {
            return Ok(AccrualReport::default());
        };
        let orders: Vec<OrderRow> = sqlx::query_as(
            "SELECT o.id, o.customer_id, o.ordered_at, o.total_minor FROM orders o \
             WHERE o.id > $1 ORDER BY o.id LIMIT $2",
        )
        .bind(through)
        .bind(ACCRUAL_CHUNK)
        .fetch_all(&self.read)
        .await?;
        let Some(last) = orders.last().map(|o| o.0) else {
            return Ok(AccrualReport::default());
        };
        let mut lines: HashMap<i64, Vec<(Option<String>, i64)>> = HashMap::new();
        let rows: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT l.order_id, p.category, l.amount_minor FROM order_lines l \
             JOIN products p ON p.id = l.product_id WHERE l.order_id > $1 AND l.order_id <= $2",
        )
        .bind(through)
        .bind(last)
        .fetch_all(&self.read)
        .await?;
        for (order, category, amount) in rows {
            lines.entry(order).or_default().push((category, amount));
        }
        let start = local_midnight_ms(p.starts_on, utc_offset_hours);
        let base = p.tiers.first().map(|t| t.code.clone());
        let mut report = AccrualReport {
            orders: orders.len(),
            more: i64::try_from(orders.len()).unwrap_or(0) == ACCRUAL_CHUNK,
            ..AccrualReport::default()
        };
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        for (id, customer, ordered_at, total) in orders {
            if ordered_at < start {
                continue;
            }
            let at = from_ms(ordered_at);
            let day = (at + Duration::hours(utc_offset_hours)).date_naive();
            let tier: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
                "SELECT tier, program_id FROM loyalty_accounts WHERE customer_id = $1",
            )
            .bind(customer)
            .fetch_optional(&mut *tx)
            .await?;
            let tier = tier
                .filter(|(_, prog)| *prog == Some(program_id))
                .and_then(|(t, _)| t);
            let points = p.order_points(
                tier.as_deref(),
                lines.get(&id).map_or(&[][..], Vec::as_slice),
                total,
                day,
            );
            if points <= 0 {
                continue;
            }
            let key = format!("order:{id}");
            lock_account(&mut tx, customer, to_ms(now)).await?;
            enrol(&mut tx, customer, program_id, base.as_deref(), to_ms(now)).await?;
            if posted(&mut tx, &key).await?.is_some() {
                continue;
            }
            let e = NewEntry {
                customer,
                kind: EntryKind::Accrue,
                points,
                expires_at: p.expiry(at),
                order_id: Some(id),
                amount_minor: Some(total),
                reason: None,
                user_id: None,
                at,
                key: &key,
            };
            post_lot(&mut tx, &e).await?;
            report.earned += 1;
            report.points += points;
        }
        sqlx::query("UPDATE loyalty_programs SET accrued_through = $1 WHERE id = $2")
            .bind(last)
            .bind(program_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Places every member of the active programme in their tier for the window ending at
    /// `now`: customers who bought in the window join (at the first tier), members of an
    /// earlier programme move to this one, and only the members whose tier changes are written.
    pub async fn loyalty_evaluate_tiers(&self, now: DateTime<Utc>) -> Result<TierReport> {
        let Some((program_id, p, _)) = self.active_loyalty_program().await? else {
            return Ok(TierReport::default());
        };
        let Some(base) = p.tiers.first().map(|t| t.code.clone()) else {
            return Ok(TierReport::default());
        };
        let now_ms = to_ms(now);
        let window = p.window_days;
        let mut report = TierReport::default();
        {
            let mut tx = self.begin_write().await?;
            // `window` is one of guanxi_domain::loyalty::program::WINDOWS, never user text.
            // New members are written with their programme and first tier at once: updating a
            // first night's 900 k fresh rows twice more cost PostgreSQL a full rewrite each.
            let inserted = sqlx::query(&format!(
                "INSERT INTO loyalty_accounts (customer_id, program_id, tier, tier_since, \
                 created_at) SELECT cp.customer_id, $1, $3, $2, $2 FROM customer_purchases cp \
                 JOIN customers c ON c.id = cp.customer_id \
                 WHERE cp.orders_{window}d > 0 AND c.deleted_at IS NULL \
                 ON CONFLICT (customer_id) DO NOTHING"
            ))
            .bind(program_id)
            .bind(now_ms)
            .bind(base.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE loyalty_accounts SET program_id = $1 \
                 WHERE program_id IS NULL OR program_id <> $1",
            )
            .bind(program_id)
            .execute(&mut *tx)
            .await?;
            report.joined = inserted
                + sqlx::query(
                    "UPDATE loyalty_accounts SET tier = $1, tier_since = $2 \
                     WHERE program_id = $3 AND tier IS NULL",
                )
                .bind(base.as_str())
                .bind(now_ms)
                .bind(program_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
        }
        let measure = match p.basis {
            TierBasis::Spend => format!(
                "SELECT a.customer_id, a.tier, COALESCE(cp.spend_{window}d_minor, 0) \
                 FROM loyalty_accounts a LEFT JOIN customer_purchases cp \
                 ON cp.customer_id = a.customer_id WHERE a.program_id = $1"
            ),
            TierBasis::Points => {
                "SELECT a.customer_id, a.tier, CAST(COALESCE(e.earned, 0) AS BIGINT) \
                 FROM loyalty_accounts a LEFT JOIN (SELECT customer_id, SUM(points) AS earned \
                 FROM loyalty_entries WHERE kind = 'accrue' AND at >= $2 GROUP BY customer_id) e \
                 ON e.customer_id = a.customer_id WHERE a.program_id = $1"
                    .to_string()
            }
        };
        let mut changes: Vec<(i64, Option<String>, String, i64)> = Vec::new();
        {
            let mut q = sqlx::query_as::<_, (i64, Option<String>, i64)>(&measure).bind(program_id);
            if p.basis == TierBasis::Points {
                q = q.bind(now_ms - window * 86_400_000);
            }
            let mut rows = q.fetch(&self.read);
            while let Some((customer, tier, metric)) = rows.try_next().await? {
                report.members += 1;
                let Some(to) = p.tier_for(tier.as_deref(), metric) else {
                    continue;
                };
                if tier.as_deref() != Some(to.code.as_str()) {
                    changes.push((customer, tier, to.code.clone(), metric));
                }
            }
        }
        // Each chunk is three statements whatever its size (a statement per member held a
        // first night's quarter million moves on PostgreSQL to ten minutes).
        for chunk in changes.chunks(CHANGE_CHUNK) {
            let mut tx = self.begin_write().await?;
            let mut set = SqlBuilder::new("UPDATE loyalty_accounts SET tier = CASE customer_id");
            let mut log = SqlBuilder::new(
                "INSERT INTO loyalty_tier_changes (customer_id, program_id, from_tier, to_tier, \
                 direction, metric, title, at) VALUES ",
            );
            for (i, (customer, from, to, metric)) in chunk.iter().enumerate() {
                let direction = direction(&p, from.as_deref(), to);
                match direction {
                    "up" => report.up += 1,
                    "down" => report.down += 1,
                    _ => {}
                }
                set.push(" WHEN ")
                    .int(*customer)
                    .push(" THEN ")
                    .text(to.clone());
                let title = format!(
                    "{} → {}",
                    from.as_deref()
                        .and_then(|f| p.tier(f))
                        .map_or("—", |t| t.name.as_str()),
                    p.tier(to).map_or(to.as_str(), |t| t.name.as_str())
                );
                if i > 0 {
                    log.push(", ");
                }
                log.push("(")
                    .int(*customer)
                    .push(", ")
                    .int(program_id)
                    .push(", ");
                match from {
                    Some(f) => log.text(f.clone()),
                    None => log.push("NULL"),
                };
                log.push(", ")
                    .text(to.clone())
                    .push(", ")
                    .text(direction)
                    .push(", ")
                    .int(*metric)
                    .push(", ")
                    .text(title)
                    .push(", ")
                    .int(now_ms)
                    .push(")");
            }
            let customers: Vec<i64> = chunk.iter().map(|c| c.0).collect();
            set.push(" END, tier_since = ")
                .int(now_ms)
                .push(" WHERE customer_id IN ")
                .int_list(&customers);
            set.query().execute(&mut *tx).await?;
            log.push(" RETURNING id");
            let ids: Vec<i64> = log.query_scalar().fetch_all(&mut *tx).await?;
            project(&mut tx, &TIER_EVENTS, Rows::Ids(&ids)).await?;
            tx.commit().await?;
        }
        sqlx::query("UPDATE loyalty_programs SET evaluated_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(program_id)
            .execute(&self.write)
            .await?;
        Ok(report)
    }

    /// A member's programme and tier: (programme id, tier code, since).
    pub async fn loyalty_membership(
        &self,
        customer: i64,
    ) -> Result<Option<(i64, Option<String>, Option<DateTime<Utc>>)>> {
        let row: Option<(Option<i64>, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT program_id, tier, tier_since FROM loyalty_accounts WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.and_then(|(p, t, s)| p.map(|p| (p, t, s.map(from_ms)))))
    }
}

/// Joins `customer` (whose account row the caller has locked) to the programme at its first
/// tier, unless a member already.
async fn enrol(
    conn: &mut sqlx::AnyConnection,
    customer: i64,
    program: i64,
    base: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE loyalty_accounts SET program_id = $1, tier = COALESCE(tier, $2), \
         tier_since = COALESCE(tier_since, $3) WHERE customer_id = $4 AND program_id IS NULL",
    )
    .bind(program)
    .bind(base)
    .bind(now)
    .bind(customer)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `up`, `down` or `join` (from no tier, or a tier the programme no longer has).
fn direction(p: &ProgramInput, from: Option<&str>, to: &str) -> &'static str {
    let rank = |c: &str| p.tiers.iter().position(|t| t.code == c);
    match (from.and_then(rank), rank(to)) {
        (Some(f), Some(t)) if t > f => "up",
        (Some(f), Some(t)) if t < f => "down",
        _ => "join",
    }
}
