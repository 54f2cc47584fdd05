//! `care_dates`: one row per customer and date worth a greeting, with its next solar
//! occurrence, so a care list or a plan reads an index range instead of every profile. The
//! `care.refresh` job keeps it current: it reads the customers changed since its last step by
//! `(updated_at, id)`, a batch at a time, and derives their dates again; the first step of each
//! local day starts a full pass over the book, which also moves dates that have passed to their
//! next occurrence and repairs anything a long transaction committed behind the cursor.
//!
//! A date is kept at its occurrence for a week after it passes (`next_on` is the next
//! occurrence on or after a week ago), so a plan that catches up after a server was down still
//! finds the birthday it missed; lists start at today and never show those.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_domain::care::{care_dates, CareDate};
use guanxi_domain::profile::{Anniversary, IndividualProfile};

use crate::db::{from_ms, to_ms, Store};
use crate::error::Result;
use crate::sql::SqlBuilder;

/// How long a passed date stays at its occurrence: the longest catch-up of a plan.
pub const GRACE_DAYS: i64 = 7;
/// Customers read per refresh step (one transaction).
pub const BATCH: i64 = 5_000;
/// Changes younger than this are left for the next step: a write that began before the
/// cursor moved but commits after it would otherwise be passed over until the nightly pass.
const SETTLE_MS: i64 = 2_000;

/// What a refresh step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefreshReport {
    /// Customers read.
    pub customers: usize,
    /// Dates written (new or changed; unchanged ones are left alone).
    pub dates: usize,
    /// A full pass began with this step.
    pub full_pass: bool,
    /// More customers wait: run again.
    pub more: bool,
}

/// A `care_dates` row, as stored or as derived, compared field by field.
#[derive(sqlx::FromRow, PartialEq, Eq)]
struct DateRow {
    customer_id: i64,
    occasion: String,
    kind: String,
    label: Option<String>,
    month: i64,
    day: i64,
    year: Option<i64>,
    lunar: crate::rows::Flag,
    owner_id: Option<i64>,
    next_on: String,
}

impl DateRow {
    fn of(customer: i64, owner: Option<i64>, d: &CareDate, next: NaiveDate) -> Self {
        DateRow {
            customer_id: customer,
            occasion: d.key.clone(),
            kind: d.kind.as_str().to_string(),
            label: d.label.clone(),
            month: i64::from(d.date.month),
            day: i64::from(d.date.day),
            year: d.date.year.map(i64::from),
            lunar: crate::rows::Flag(d.date.lunar),
            owner_id: owner,
            next_on: next.to_string(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct CustomerDates {
    id: i64,
    updated_at: i64,
    birthday: Option<String>,
    birthday_lunar: crate::rows::Flag,
    profile: Option<String>,
    created_at: i64,
    owner_id: Option<i64>,
    live: i64,
}

impl Store {
    /// PostgreSQL plans the refresh's lookups by customer from the table's statistics; a
    /// table filled by a first full pass (2.75 M rows at a million customers) still looks empty
    /// to the planner until autovacuum gets to it, and each lookup became a scan of the whole
    /// table (213 s for a day's pass instead of a minute). After each step the
    /// statistics are refreshed once a tenth of the table changed since they were taken.
    async fn analyze_care_dates_if_stale(&self) -> Result<()> {
        if self.backend() != crate::db::Backend::Postgres {
            return Ok(());
        }
        let (changed, live): (i64, i64) = sqlx::query_as(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables \
             WHERE relid = 'care_dates'::regclass",
        )
        .fetch_optional(&self.read)
        .await?
        .unwrap_or((0, 0));
        if changed > 10_000 && changed * 10 > live {
            sqlx::query("ANALYZE care_dates")
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Starts the next refresh step over at the first customer, as the first step of a day
    /// does: a full pass re-reads the whole book.
    pub async fn restart_care_pass(&self) -> Result<()> {
        sqlx::query("DELETE FROM care_progress")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Runs one step of the care-date refresh at `now` (local day `today`, `utc_offset_hours`
    /// east of UTC): see the module notes.
    pub async fn refresh_care_dates(
        &self,
        now: DateTime<Utc>,
        today: NaiveDate,
        utc_offset_hours: i64,
    ) -> Result<RefreshReport> {
        let mut tx = self.begin_write().await?;
        let progress: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT seen_updated_at, seen_id, full_pass_on FROM care_progress WHERE id = 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let today_s = today.to_string();
        let (seen_at, seen_id, full_pass) = match progress {
            Some((at, id, on)) if on == today_s => (at, id, false),
            _ => (i64::MIN, i64::MIN, true),
        };
        let settled = to_ms(now) - SETTLE_MS;
        let rows: Vec<CustomerDates> = sqlx::query_as(
            "SELECT id, updated_at, birthday, birthday_lunar, profile, created_at, owner_id, \
             CASE WHEN deleted_at IS NULL AND merged_into IS NULL \
             THEN 1 ELSE 0 END AS live FROM customers \
             WHERE (updated_at, id) > ($1, $2) AND updated_at <= $3 \
             ORDER BY updated_at, id LIMIT $4",
        )
        .bind(seen_at)
        .bind(seen_id)
        .bind(settled)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let from = today - Duration::days(GRACE_DAYS);
        let mut report = RefreshReport {
            customers: rows.len(),
            full_pass,
            more: rows.len() as i64 == BATCH,
            ..RefreshReport::default()
        };
        let mut computed: Vec<DateRow> = Vec::new();
        for r in rows.iter().filter(|r| r.live == 1) {
            let birthday = r
                .birthday
                .as_deref()
                .and_then(|b| Anniversary::from_storage(b, r.birthday_lunar.0));
            // A profile that no longer parses still has its birthday and first day kept.
            let profile: Option<IndividualProfile> = r
                .profile
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok());
            let since = (from_ms(r.created_at) + Duration::hours(utc_offset_hours)).date_naive();
            for d in care_dates(birthday.as_ref(), profile.as_ref(), since) {
                if let Some(next) = d.next_on(from) {
                    computed.push(DateRow::of(r.id, r.owner_id, &d, next));
                }
            }
        }
        // Only what differs from the stored rows is written: a day's full pass moves the
        // dates that passed and finds little else changed, so it mostly reads.
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut stored: HashMap<(i64, String), DateRow> = HashMap::new();
        for chunk in ids.chunks(1000) {
            let mut q = SqlBuilder::new(
                "SELECT customer_id, occasion, kind, label, month, day, year, lunar, owner_id, \
                 next_on FROM care_dates WHERE customer_id IN ",
            );
            q.int_list(chunk);
            for row in q.query_as::<DateRow>().fetch_all(&mut *tx).await? {
                stored.insert((row.customer_id, row.occasion.clone()), row);
            }
        }
        let mut changed: Vec<&DateRow> = Vec::new();
        for row in &computed {
            match stored.remove(&(row.customer_id, row.occasion.clone())) {
                Some(old) if old == *row => {}
                _ => changed.push(row),
            }
        }
        for (customer, occasion) in stored.keys() {
            sqlx::query("DELETE FROM care_dates WHERE customer_id = $1 AND occasion = $2")
                .bind(customer)
                .bind(occasion.as_str())
                .execute(&mut *tx)
                .await?;
        }
        report.dates = changed.len();
        for chunk in changed.chunks(100) {
            let mut q = SqlBuilder::new(
                "INSERT INTO care_dates (customer_id, occasion, kind, label, month, day, year, \
                 lunar, owner_id, next_on) VALUES ",
            );
            for (i, d) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(")
                    .int(d.customer_id)
                    .push(", ")
                    .text(d.occasion.as_str());
                q.push(", ").text(d.kind.as_str()).push(", ");
                match &d.label {
                    Some(l) => q.text(l.as_str()),
                    None => q.push("NULL"),
                };
                q.push(", ").int(d.month).push(", ").int(d.day).push(", ");
                match d.year {
                    Some(y) => q.int(y),
                    None => q.push("NULL"),
                };
                q.push(if d.lunar.0 { ", true, " } else { ", false, " });
                match d.owner_id {
                    Some(o) => q.int(o),
                    None => q.push("NULL"),
                };
                q.push(", ").text(d.next_on.as_str()).push(")");
            }
            q.push(
                " ON CONFLICT (customer_id, occasion) DO UPDATE SET kind = excluded.kind, \
                 label = excluded.label, month = excluded.month, day = excluded.day, \
                 year = excluded.year, lunar = excluded.lunar, owner_id = excluded.owner_id, \
                 next_on = excluded.next_on",
            );
            q.query().execute(&mut *tx).await?;
        }
        let (at, id) = rows
            .last()
            .map(|r| (r.updated_at, r.id))
            .unwrap_or((seen_at, seen_id));
        sqlx::query(
            "INSERT INTO care_progress (id, seen_updated_at, seen_id, full_pass_on) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             seen_updated_at = excluded.seen_updated_at, seen_id = excluded.seen_id, \
             full_pass_on = excluded.full_pass_on",
        )
        .bind(at)
        .bind(id)
        .bind(today_s)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.analyze_care_dates_if_stale().await?;
        Ok(report)
    }
}
