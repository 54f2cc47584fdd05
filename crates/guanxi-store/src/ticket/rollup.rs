//! The desk's daily rollup (`ticket_days`): each local day's figure parts ([`Parts`]),
//! counted by the `tickets.rollup` job, so the manager's figures for a month or a year add up
//! a few dozen rows instead of aggregating every ticket of the period on each view.
//!
//! Tickets keep changing after the day they were opened (a reply, a breach, a resolution), so
//! a day is counted again while it can still move: the last [`RECENT_DAYS`] days whenever
//! their count is older than [`RECENT_MAX_AGE_MS`], older days once a day, and any day never
//! counted (or counted at another time zone). A day not in the rollup is counted live.

use chrono::{Duration, NaiveDate, Utc};
use guanxi_domain::role::Actor;

use super::parts::{calls_out, order_parts, ticket_parts, Parts, SkuOrders, TicketScope};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::sql::SqlBuilder;

/// How far back days are kept.
pub const ROLLUP_DAYS: i64 = 400;
/// Days that are still moving (recent tickets are answered, breached, resolved).
pub const RECENT_DAYS: i64 = 35;
/// How stale a recent day's count may get before a run counts it again.
pub const RECENT_MAX_AGE_MS: i64 = 5 * 60 * 1000;
/// How stale an older day's count may get.
pub const OLD_MAX_AGE_MS: i64 = 24 * 60 * 60 * 1000;
/// Days one job step counts (the job queues itself again while more are due).
pub const ROLLUP_BATCH: usize = 40;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A period split into what the rollup holds and what must be counted live.
pub(crate) struct Rolled {
    /// The parts of the whole days the rollup holds.
    pub parts: Vec<Parts>,
    /// Spans (epoch ms) to count live: the period's partial ends and days not rolled up.
    pub live: Vec<(i64, i64)>,
    /// When the oldest of the rolled-up days used was counted.
    pub counted_at: Option<i64>,
    /// The rolled-up days as spans (epoch ms).
    pub covered: Vec<(i64, i64)>,
}

fn local_day(ms: i64, offset_ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms + offset_ms)
        .unwrap_or_default()
        .date_naive()
}

fn day_start(day: NaiveDate, offset_ms: i64) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
        - offset_ms
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The whole local days inside `[f, t)`: from the first midnight at or after `f` to the last
/// at or before `t`; `None` when there is none.
fn whole_days(f: i64, t: i64, offset_ms: i64) -> Option<(i64, i64)> {
    let first = (f + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
    let first = if first < f { first + DAY_MS } else { first };
    let last = (t + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
    (first < last).then_some((first, last))
}

/// Adds a span to a list, joined to the previous one when they touch.
fn push_span(spans: &mut Vec<(i64, i64)>, a: i64, b: i64) {
    if a >= b {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.1 == a => last.1 = b,
        _ => spans.push((a, b)),
    }
}

impl Store {
    /// Splits `[f, t)` into the rolled-up whole local days and the spans to count live; `None`
    /// when the period holds no whole day.
    pub(crate) async fn rolled_up_days(
        &self,
        f: i64,
        t: i64,
        utc_offset_hours: i64,
    ) -> Result<Option<Rolled>> {
        let offset = utc_offset_hours * 3_600_000;
        let Some((first, last)) = whole_days(f, t, offset) else {
            return Ok(None);
        };
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT day, figures, computed_at FROM ticket_days \
             WHERE day >= $1 AND day < $2 AND utc_offset_minutes = $3 ORDER BY day",
        )
        .bind(day_key(local_day(first, offset)))
        .bind(day_key(local_day(last, offset)))
        .bind(utc_offset_hours * 60)
        .fetch_all(&self.read)
        .await?;
        let mut out = Rolled {
            parts: Vec::with_capacity(rows.len()),
            live: Vec::new(),
            counted_at: None,
            covered: Vec::new(),
        };
        push_span(&mut out.live, f, first);
        let mut stored = rows.into_iter().peekable();
        let mut start = first;
        while start < last {
            let key = day_key(local_day(start, offset));
            match stored.next_if(|r| r.0 == key) {
                Some((_, figures, at)) => {
                    let p: Parts = serde_json::from_str(&figures)
                        .map_err(|e| StoreError::Corrupt(format!("ticket_days {key}: {e}")))?;
                    out.parts.push(p);
                    out.counted_at = Some(out.counted_at.map_or(at, |c: i64| c.min(at)));
                    push_span(&mut out.covered, start, start + DAY_MS);
                }
                None => push_span(&mut out.live, start, start + DAY_MS),
            }
            start += DAY_MS;
        }
        push_span(&mut out.live, last, t);
        Ok(Some(out))
    }

    /// Like [`Store::rolled_up_days`] for a service agent: each rolled-up day's cells of
    /// `queues` or `teams` (an agent's queues and the teams they lead) and its desk-wide
    /// orders. The agent's own tickets outside those cells are the caller's to count.
    pub(crate) async fn rolled_up_cells(
        &self,
        f: i64,
        t: i64,
        utc_offset_hours: i64,
        queues: &[i64],
        teams: &[i64],
    ) -> Result<Option<Rolled>> {
        let offset = utc_offset_hours * 3_600_000;
        let Some((first, last)) = whole_days(f, t, offset) else {
            return Ok(None);
        };
        let mut q = SqlBuilder::new(
            "SELECT day, queue_key, figures, computed_at FROM ticket_cell_days WHERE day >= ",
        );
        q.text(day_key(local_day(first, offset)))
            .push(" AND day < ")
            .text(day_key(local_day(last, offset)))
            .push(" AND utc_offset_minutes = ")
            .int(utc_offset_hours * 60)
            .push(" AND ((queue_key = -1 AND team_key = -1)");
        if !queues.is_empty() {
            q.push(" OR queue_key IN ").int_list(queues);
        }
        if !teams.is_empty() {
            q.push(" OR team_key IN ").int_list(teams);
        }
        q.push(") ORDER BY day");
        let rows: Vec<(String, i64, String, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut out = Rolled {
            parts: Vec::with_capacity(rows.len()),
            live: Vec::new(),
            counted_at: None,
            covered: Vec::new(),
        };
        let mut by_day: std::collections::BTreeMap<String, (bool, Vec<String>)> =
            std::collections::BTreeMap::new();
        for (day, queue, figures, at) in rows {
            let e = by_day.entry(day).or_default();
            // Only the desk-wide cell has a negative key: it marks the day counted.
            if queue < 0 {
                e.0 = true;
                out.counted_at = Some(out.counted_at.map_or(at, |c: i64| c.min(at)));
            }
            e.1.push(figures);
        }
        push_span(&mut out.live, f, first);
        let mut start = first;
        while start < last {
            let key = day_key(local_day(start, offset));
            match by_day.remove(&key) {
                Some((true, cells)) => {
                    for figures in cells {
                        out.parts.push(serde_json::from_str(&figures).map_err(|e| {
                            StoreError::Corrupt(format!("ticket_cell_days {key}: {e}"))
                        })?);
                    }
                    push_span(&mut out.covered, start, start + DAY_MS);
                }
                _ => push_span(&mut out.live, start, start + DAY_MS),
            }
            start += DAY_MS;
        }
        push_span(&mut out.live, last, t);
        Ok(Some(out))
    }

    /// One step of the rollup as of `now`: counts up to [`ROLLUP_BATCH`] due days, most recent
    /// first, each written in its own short transaction. Returns how many it counted and
    /// whether more are due.
    pub async fn roll_up_service_days(
        &self,
        now: chrono::DateTime<Utc>,
        utc_offset_hours: i64,
    ) -> Result<(usize, bool)> {
        let offset = utc_offset_hours * 3_600_000;
        let now_ms = to_ms(now);
        let today = local_day(now_ms, offset);
        let oldest = today - Duration::days(ROLLUP_DAYS);
        let recent = today - Duration::days(RECENT_DAYS);
        let stored: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT day, utc_offset_minutes, computed_at FROM ticket_days WHERE day >= $1",
        )
        .bind(day_key(oldest))
        .fetch_all(&self.read)
        .await?;
        let mut due = Vec::new();
        let mut day = today - Duration::days(1);
        while day >= oldest {
            let key = day_key(day);
            let max_age = if day >= recent {
                RECENT_MAX_AGE_MS
            } else {
                OLD_MAX_AGE_MS
            };
            let fresh = stored.iter().any(|(k, off, at)| {
                *k == key && *off == utc_offset_hours * 60 && now_ms - at < max_age
            });
            if !fresh {
                due.push(day);
            }
            day -= Duration::days(1);
        }
        let more = due.len() > ROLLUP_BATCH;
        due.truncate(ROLLUP_BATCH);
        for day in &due {
            let start = day_start(*day, offset);
            let (f, t) = (start, start + DAY_MS);
            let cells = ticket_parts(&self.read, &TicketScope::Cells, f, t).await?;
            let orders = order_parts(&self.read, f, t, SkuOrders::All).await?;
            let calls = calls_out(&self.read, &Actor::system(), f, t).await?;
            let desk = Parts::sum(cells.values().cloned().chain([
                orders.clone(),
                Parts {
                    calls_out: calls,
                    ..Parts::default()
                },
            ]));
            let json = |p: &Parts| {
                serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))
            };
            let figures = json(&desk)?;
            let key = day_key(*day);
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO ticket_days (day, utc_offset_minutes, figures, computed_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (day) DO UPDATE SET \
                 utc_offset_minutes = excluded.utc_offset_minutes, figures = excluded.figures, \
                 computed_at = excluded.computed_at",
            )
            .bind(&key)
            .bind(utc_offset_hours * 60)
            .bind(&figures)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM ticket_cell_days WHERE day = $1")
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            // The desk-wide orders go in cell (-1, -1), which also marks the day counted.
            let mut rows = vec![((-1, -1), json(&orders)?)];
            for (cell, p) in &cells {
                rows.push((*cell, json(p)?));
            }
            for chunk in rows.chunks(200) {
                let mut q = SqlBuilder::new(
                    "INSERT INTO ticket_cell_days (day, queue_key, team_key, utc_offset_minutes, \
                     figures, computed_at) VALUES ",
                );
                for (i, ((queue, team), figures)) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push("(")
                        .text(key.clone())
                        .push(", ")
                        .int(*queue)
                        .push(", ")
                        .int(*team)
                        .push(", ")
                        .int(utc_offset_hours * 60)
                        .push(", ")
                        .text(figures.clone())
                        .push(", ")
                        .int(now_ms)
                        .push(")");
                }
                q.query().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok((due.len(), more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_spans_join_and_empty_ones_drop() {
        let mut v = Vec::new();
        push_span(&mut v, 0, 10);
        push_span(&mut v, 10, 20);
        push_span(&mut v, 30, 30);
        push_span(&mut v, 40, 50);
        assert_eq!(v, vec![(0, 20), (40, 50)]);
    }

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let start = day_start(day, 8 * 3_600_000);
        // Midnight in Beijing is 16:00 UTC the day before.
        assert_eq!(
            chrono::DateTime::from_timestamp_millis(start)
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T16:00:00+00:00"
        );
        assert_eq!(local_day(start, 8 * 3_600_000), day);
        assert_eq!(local_day(start - 1, 8 * 3_600_000), day.pred_opt().unwrap());
    }
}
