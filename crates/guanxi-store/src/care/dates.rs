//! `care_dates`: one row per customer and date worth a greeting, with its next solar
//! occurrence, so a care list or a plan reads an index range instead of every profile. The
//! `care.refresh` job keeps it current: it reads the customers changed since its last step by
//! `(updated_at, id)`, a batch at a time, and derives their dates again; the first step of each
//! local day starts a full pass over the book, which also moves dates that have passed to their
//! next occurrence and repairs anything a long transaction committed behind the cursor.
//!
//! Only rows that differ from those stored are written, so a day's full pass mostly reads. On
//! SQLite a step runs on its own rusqlite connection in one `IMMEDIATE` transaction: read
//! through sqlx's `Any` driver the million customers and 2.75 million stored dates of a full
//! pass took 60 s, most of it handing rows across the driver's worker thread.
//!
//! A date is kept at its occurrence for a week after it passes (`next_on` is the next
//! occurrence on or after a week ago), so a plan that catches up after a server was down still
//! finds the birthday it missed; lists start at today and never show those.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_domain::care::{care_dates, CareDate};
use guanxi_domain::profile::{Anniversary, IndividualProfile};

use crate::db::{from_ms, to_ms, Backend, Store};
use crate::error::{Result, StoreError};
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

/// A customer as the refresh reads it.
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

const PROGRESS: &str =
    "SELECT seen_updated_at, seen_id, full_pass_on FROM care_progress WHERE id = 1";
/// The customers after the cursor `(updated_at, id)`, in two index ranges: the rest of the
/// cursor's own `updated_at`, then the later ones. One row-value condition `(updated_at, id) >
/// (…)` made SQLite walk every row of the cursor's `updated_at` again at each step — a bulk
/// load stamps tens of thousands of customers with one time — and the day's pass grew
/// quadratic (30 s of 47 at a million).
const CUSTOMERS_SAME: &str = "SELECT id, updated_at, birthday, birthday_lunar, profile, \
     created_at, owner_id, CASE WHEN deleted_at IS NULL AND merged_into IS NULL THEN 1 ELSE 0 END \
     AS live FROM customers WHERE updated_at = $1 AND id > $2 AND updated_at <= $3 \
     ORDER BY id LIMIT $4";
const CUSTOMERS_AFTER: &str = "SELECT id, updated_at, birthday, birthday_lunar, profile, \
     created_at, owner_id, CASE WHEN deleted_at IS NULL AND merged_into IS NULL THEN 1 ELSE 0 END \
     AS live FROM customers WHERE updated_at > $1 AND updated_at <= $2 \
     ORDER BY updated_at, id LIMIT $3";
const STORED: &str = "SELECT customer_id, occasion, kind, label, month, day, year, lunar, \
     owner_id, next_on FROM care_dates WHERE customer_id IN ";
const UPSERT_MANY: &str = "INSERT INTO care_dates (customer_id, occasion, kind, label, month, \
     day, year, lunar, owner_id, next_on) VALUES ";
const UPSERT_SET: &str = " ON CONFLICT (customer_id, occasion) DO UPDATE SET \
     kind = excluded.kind, label = excluded.label, month = excluded.month, day = excluded.day, \
     year = excluded.year, lunar = excluded.lunar, owner_id = excluded.owner_id, \
     next_on = excluded.next_on";
const DELETE: &str = "DELETE FROM care_dates WHERE customer_id = $1 AND occasion = $2";
const SAVE_PROGRESS: &str = "INSERT INTO care_progress (id, seen_updated_at, seen_id, \
     full_pass_on) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
     seen_updated_at = excluded.seen_updated_at, seen_id = excluded.seen_id, \
     full_pass_on = excluded.full_pass_on";

/// Where a step starts: the cursor, or the beginning when today's full pass is due.
fn start(progress: Option<(i64, i64, String)>, today: &str) -> (i64, i64, bool) {
    match progress {
        Some((at, id, on)) if on == today => (at, id, false),
        _ => (i64::MIN, i64::MIN, true),
    }
}

/// The dates of the live customers among `rows`, next occurrences on or after `from`.
fn derive(rows: &[CustomerDates], from: NaiveDate, utc_offset_hours: i64) -> Vec<DateRow> {
    let mut out = Vec::new();
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
                out.push(DateRow::of(r.id, r.owner_id, &d, next));
            }
        }
    }
    out
}

/// What to write: the derived rows that differ from the stored ones, and the stored rows no
/// longer derived (a child removed, a customer deleted).
fn diff(
    computed: &[DateRow],
    mut stored: HashMap<(i64, String), DateRow>,
) -> (Vec<&DateRow>, Vec<(i64, String)>) {
    let mut changed = Vec::new();
    for row in computed {
        match stored.remove(&(row.customer_id, row.occasion.clone())) {
            Some(old) if old == *row => {}
            _ => changed.push(row),
        }
    }
    (changed, stored.into_keys().collect())
}

fn stored_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("{STORED}({})", marks.join(", "))
}

impl Store {
    /// PostgreSQL plans the refresh's lookups by customer from the table's statistics; a
    /// table filled by a first full pass (2.75 M rows at a million customers) still looks empty
    /// to the planner until autovacuum gets to it, and each lookup became a scan of the whole
    /// table (213 s for a day's pass instead of a minute). After each step the
    /// statistics are refreshed once a tenth of the table changed since they were taken.
    async fn analyze_care_dates_if_stale(&self) -> Result<()> {
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
        if self.backend() == Backend::Sqlite {
            let conn = self.rusqlite(true)?;
            return tokio::task::spawn_blocking(move || {
                refresh_sqlite(conn, now, today, utc_offset_hours)
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        }
        let mut tx = self.begin_write().await?;
        let progress: Option<(i64, i64, String)> =
            sqlx::query_as(PROGRESS).fetch_optional(&mut *tx).await?;
        let today_s = today.to_string();
        let (seen_at, seen_id, full_pass) = start(progress, &today_s);
        let settled = to_ms(now) - SETTLE_MS;
        let mut rows: Vec<CustomerDates> = sqlx::query_as(CUSTOMERS_SAME)
            .bind(seen_at)
            .bind(seen_id)
            .bind(settled)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        if (rows.len() as i64) < BATCH {
            let more: Vec<CustomerDates> = sqlx::query_as(CUSTOMERS_AFTER)
                .bind(seen_at)
                .bind(settled)
                .bind(BATCH - rows.len() as i64)
                .fetch_all(&mut *tx)
                .await?;
            rows.extend(more);
        }
        let computed = derive(&rows, today - Duration::days(GRACE_DAYS), utc_offset_hours);
        let mut stored = HashMap::new();
        for chunk in rows.chunks(1000) {
            let sql = stored_sql(chunk.len());
            let mut q = sqlx::query_as::<_, DateRow>(&sql);
            for r in chunk {
                q = q.bind(r.id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                stored.insert((row.customer_id, row.occasion.clone()), row);
            }
        }
        let (changed, gone) = diff(&computed, stored);
        for (customer, occasion) in &gone {
            sqlx::query(DELETE)
                .bind(customer)
                .bind(occasion.as_str())
                .execute(&mut *tx)
                .await?;
        }
        // A hundred rows a statement: a first pass writes 2.75 M rows at a million customers.
        for chunk in changed.chunks(100) {
            let mut q = SqlBuilder::new(UPSERT_MANY);
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
            q.push(UPSERT_SET);
            q.query().execute(&mut *tx).await?;
        }
        let (at, id) = rows
            .last()
            .map(|r| (r.updated_at, r.id))
            .unwrap_or((seen_at, seen_id));
        sqlx::query(SAVE_PROGRESS)
            .bind(at)
            .bind(id)
            .bind(today_s)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.analyze_care_dates_if_stale().await?;
        Ok(RefreshReport {
            customers: rows.len(),
            dates: changed.len(),
            full_pass,
            more: rows.len() as i64 == BATCH,
        })
    }
}

/// One refresh step on SQLite's own driver (see the module notes): the same statements, in
/// one `IMMEDIATE` transaction.
fn refresh_sqlite(
    mut conn: rusqlite::Connection,
    now: DateTime<Utc>,
    today: NaiveDate,
    utc_offset_hours: i64,
) -> Result<RefreshReport> {
    use rusqlite::{params, OptionalExtension};
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let today_s = today.to_string();
    let progress = tx
        .query_row(PROGRESS, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (seen_at, seen_id, full_pass) = start(progress, &today_s);
    let customer = |r: &rusqlite::Row<'_>| -> rusqlite::Result<CustomerDates> {
        Ok(CustomerDates {
            id: r.get(0)?,
            updated_at: r.get(1)?,
            birthday: r.get(2)?,
            birthday_lunar: crate::rows::Flag(r.get::<_, i64>(3)? != 0),
            profile: r.get(4)?,
            created_at: r.get(5)?,
            owner_id: r.get(6)?,
            live: r.get(7)?,
        })
    };
    let settled = to_ms(now) - SETTLE_MS;
    let mut rows: Vec<CustomerDates> = tx
        .prepare_cached(CUSTOMERS_SAME)?
        .query_map(params![seen_at, seen_id, settled, BATCH], customer)?
        .collect::<std::result::Result<_, _>>()?;
    if (rows.len() as i64) < BATCH {
        let left = BATCH - rows.len() as i64;
        let more: Vec<CustomerDates> = tx
            .prepare_cached(CUSTOMERS_AFTER)?
            .query_map(params![seen_at, settled, left], customer)?
            .collect::<std::result::Result<_, _>>()?;
        rows.extend(more);
    }
    let computed = derive(&rows, today - Duration::days(GRACE_DAYS), utc_offset_hours);
    let mut stored = HashMap::new();
    for chunk in rows.chunks(1000) {
        let mut st = tx.prepare_cached(&stored_sql(chunk.len()))?;
        let ids = rusqlite::params_from_iter(chunk.iter().map(|r| r.id));
        let found = st.query_map(ids, |r| {
            Ok(DateRow {
                customer_id: r.get(0)?,
                occasion: r.get(1)?,
                kind: r.get(2)?,
                label: r.get(3)?,
                month: r.get(4)?,
                day: r.get(5)?,
                year: r.get(6)?,
                lunar: crate::rows::Flag(r.get::<_, i64>(7)? != 0),
                owner_id: r.get(8)?,
                next_on: r.get(9)?,
            })
        })?;
        for row in found {
            let row = row?;
            stored.insert((row.customer_id, row.occasion.clone()), row);
        }
    }
    let (changed, gone) = diff(&computed, stored);
    {
        let mut del = tx.prepare_cached(DELETE)?;
        for (customer, occasion) in &gone {
            del.execute(params![customer, occasion])?;
        }
        let mut up = tx.prepare_cached(&format!(
            "{UPSERT_MANY}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){UPSERT_SET}"
        ))?;
        for d in &changed {
            up.execute(params![
                d.customer_id,
                d.occasion,
                d.kind,
                d.label,
                d.month,
                d.day,
                d.year,
                i64::from(d.lunar.0),
                d.owner_id,
                d.next_on
            ])?;
        }
    }
    let (at, id) = rows
        .last()
        .map(|r| (r.updated_at, r.id))
        .unwrap_or((seen_at, seen_id));
    tx.execute(SAVE_PROGRESS, params![at, id, today_s])?;
    tx.commit()?;
    Ok(RefreshReport {
        customers: rows.len(),
        dates: changed.len(),
        full_pass,
        more: rows.len() as i64 == BATCH,
    })
}
