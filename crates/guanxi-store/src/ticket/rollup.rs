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

use super::parts::{parts, Parts, SkuOrders};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

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
        let first = (f + offset).div_euclid(DAY_MS) * DAY_MS - offset;
        let first = if first < f { first + DAY_MS } else { first };
        let last = (t + offset).div_euclid(DAY_MS) * DAY_MS - offset;
        if first >= last {
            return Ok(None);
        }
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
                }
                None => push_span(&mut out.live, start, start + DAY_MS),
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
            let p = parts(
                &self.read,
                &Actor::system(),
                start,
                start + DAY_MS,
                SkuOrders::All,
            )
            .await?;
            let figures =
                serde_json::to_string(&p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO ticket_days (day, utc_offset_minutes, figures, computed_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (day) DO UPDATE SET \
                 utc_offset_minutes = excluded.utc_offset_minutes, figures = excluded.figures, \
                 computed_at = excluded.computed_at",
            )
            .bind(day_key(*day))
            .bind(utc_offset_hours * 60)
            .bind(&figures)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
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
