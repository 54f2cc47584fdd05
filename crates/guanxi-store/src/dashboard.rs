//! The figures of the landing dashboard, always within the reader's record scope: a rep's
//! dashboard counts the rep's customers, a manager's the whole book. They are read from
//! rollups per owner and UTC hour that triggers keep in the same transaction as every write
//! (migration 0017), so a view costs the same at a thousand customers and at a million. Months
//! are cut in the shop's time zone as ranges of hours, one index range per month.

use chrono::{Datelike, Utc};
use guanxi_domain::role::Actor;

use crate::customers::scope_owners;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::sql::SqlBuilder;

/// Dashboard figures for one reader.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Dashboard {
    /// Live customers in scope.
    pub customers: i64,
    /// Customers per lifecycle stage code.
    pub by_stage: Vec<(String, i64)>,
    /// New customers per month (`YYYY-MM`, local time), every one of the last `months` months
    /// with months of none as 0, so a chart's axis never skips a month.
    pub new_per_month: Vec<(String, i64)>,
    /// Orders and revenue (minor units) per month, every one of the last `months` months (0
    /// where there were none).
    pub revenue_per_month: Vec<(String, i64, i64)>,
    /// Orders in scope, all time.
    pub orders: i64,
    /// Revenue in scope, all time, minor units.
    pub revenue_minor: i64,
}

impl Store {
    /// Computes the dashboard for `actor` over the last `months` months; months are cut in the
    /// shop's time zone (`utc_offset_hours`). Every figure comes from the rollups that
    /// triggers keep in step with each write (migration 0017): a few thousand rollup rows per
    /// view, however large the book.
    pub async fn dashboard(
        &self,
        actor: &Actor,
        months: i64,
        utc_offset_hours: i64,
    ) -> Result<Dashboard> {
        let months = months.clamp(1, 120);
        let (first, _) = first_of_month(to_ms(Utc::now()), months, utc_offset_hours);
        let labels = month_labels(first, months);
        let bounds = month_bounds(first, months, utc_offset_hours);
        let mut conn = self.read.acquire().await?;
        let owners = scope_owners(&mut conn, actor).await?;

        let mut q = SqlBuilder::new(
            "SELECT stage, CAST(SUM(customers) AS BIGINT) FROM customer_stages WHERE 1 = 1",
        );
        push_owners(&mut q, owners.as_deref());
        q.push(" GROUP BY stage HAVING SUM(customers) > 0 ORDER BY 2 DESC, 1");
        let by_stage: Vec<(String, i64)> = q.query_as().fetch_all(&mut *conn).await?;

        let mut new_per_month: Vec<(String, i64)> = labels.iter().map(|m| (m.clone(), 0)).collect();
        let sums = per_month(
            &mut conn,
            owners.as_deref(),
            &bounds,
            "customer_hours",
            "customers",
            None,
        )
        .await?;
        for (slot, (n, _)) in new_per_month.iter_mut().zip(sums) {
            slot.1 = n;
        }

        let mut revenue_per_month: Vec<(String, i64, i64)> =
            labels.iter().map(|m| (m.clone(), 0, 0)).collect();
        let sums = per_month(
            &mut conn,
            owners.as_deref(),
            &bounds,
            "order_hours",
            "orders",
            Some("revenue_minor"),
        )
        .await?;
        for (slot, (n, r)) in revenue_per_month.iter_mut().zip(sums) {
            slot.1 = n;
            slot.2 = r;
        }

        let mut q = SqlBuilder::new(
            "SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT), \
             CAST(COALESCE(SUM(revenue_minor), 0) AS BIGINT) FROM order_owner_totals WHERE 1 = 1",
        );
        push_owners(&mut q, owners.as_deref());
        let (orders, revenue_minor): (i64, i64) = q.query_as().fetch_one(&mut *conn).await?;

        Ok(Dashboard {
            customers: by_stage.iter().map(|(_, n)| n).sum(),
            by_stage,
            new_per_month,
            revenue_per_month,
            orders,
            revenue_minor,
        })
    }
}

/// A rollup's `count` column (and its `revenue` column, if it has one; 0 otherwise) summed per
/// month of `bounds`, one range of its `(hour, …)` index per month. Month bounds are local
/// midnights, whole hours in UTC.
async fn per_month(
    conn: &mut sqlx::AnyConnection,
    owners: Option<&[i64]>,
    bounds: &[(i64, i64)],
    table: &str,
    count: &str,
    revenue: Option<&str>,
) -> Result<Vec<(i64, i64)>> {
    let revenue = match revenue {
        Some(column) => format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"),
        None => "CAST(0 AS BIGINT)".to_string(),
    };
    let mut q = SqlBuilder::new("");
    for (k, (from, to)) in bounds.iter().enumerate() {
        if k > 0 {
            q.push(" UNION ALL ");
        }
        q.push(&format!(
            "SELECT {k} AS k, CAST(COALESCE(SUM({count}), 0) AS BIGINT), {revenue} \
             FROM {table} WHERE hour >= "
        ))
        .int(from / HOUR_MS)
        .push(" AND hour < ")
        .int(to / HOUR_MS);
        push_owners(&mut q, owners);
    }
    let rows: Vec<(i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
    let mut out = vec![(0, 0); bounds.len()];
    for (k, n, r) in rows {
        if let Some(slot) = usize::try_from(k).ok().and_then(|k| out.get_mut(k)) {
            *slot = (n, r);
        }
    }
    Ok(out)
}

/// `AND owner_key IN (…)`: the reader's scope over a rollup (see [`scope_owners`]).
fn push_owners(q: &mut SqlBuilder, owners: Option<&[i64]>) {
    if let Some(owners) = owners {
        q.push(" AND owner_key IN ").int_list(owners);
    }
}

/// An hour in milliseconds: the rollups' unit of time.
const HOUR_MS: i64 = 3_600_000;

/// Local-midnight bounds `[from, to)` (ms) of `months` consecutive months from `first`.
fn month_bounds(first: chrono::NaiveDate, months: i64, utc_offset_hours: i64) -> Vec<(i64, i64)> {
    (0..u32::try_from(months).unwrap_or(0))
        .filter_map(|k| {
            let a = first.checked_add_months(chrono::Months::new(k))?;
            let b = first.checked_add_months(chrono::Months::new(k + 1))?;
            Some((
                guanxi_domain::segment::local_midnight_ms(a, utc_offset_hours),
                guanxi_domain::segment::local_midnight_ms(b, utc_offset_hours),
            ))
        })
        .collect()
}

/// The `YYYY-MM` labels of `months` consecutive months from the one `first` falls in, oldest
/// first.
fn month_labels(first: chrono::NaiveDate, months: i64) -> Vec<String> {
    (0..u32::try_from(months).unwrap_or(0))
        .filter_map(|k| first.checked_add_months(chrono::Months::new(k)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect()
}

/// The first day of the month `months - 1` months before the one `now_ms` falls in (local),
/// and its local midnight (ms): the charts show `months` whole months, the current one
/// included, never a first bar holding only the tail of its month.
fn first_of_month(now_ms: i64, months: i64, utc_offset_hours: i64) -> (chrono::NaiveDate, i64) {
    let local = chrono::DateTime::from_timestamp_millis(now_ms + utc_offset_hours * 3_600_000)
        .unwrap_or_default()
        .date_naive();
    let back = chrono::Months::new(u32::try_from(months - 1).unwrap_or(0));
    let first = local
        .with_day(1)
        .and_then(|d| d.checked_sub_months(back))
        .unwrap_or_default();
    (
        first,
        guanxi_domain::segment::local_midnight_ms(first, utc_offset_hours),
    )
}

#[cfg(test)]
mod tests {
    use super::{first_of_month, month_bounds, month_labels};

    #[test]
    fn every_month_of_the_window_is_one_range() {
        let jan_2025 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let labels = month_labels(jan_2025, 14);
        assert_eq!(labels.first().map(String::as_str), Some("2025-01"));
        assert_eq!(labels.last().map(String::as_str), Some("2026-02"));
        let bounds = month_bounds(jan_2025, 14, 8);
        assert_eq!(bounds.len(), labels.len());
        // Local midnight of 1 January 2025 in UTC+8 is 16:00 UTC the day before.
        assert_eq!(bounds[0].0, 1_735_660_800_000);
        for w in bounds.windows(2) {
            assert_eq!(w[0].1, w[1].0, "months meet without gap or overlap");
        }
        // February 2025 has 28 days.
        assert_eq!(bounds[1].1 - bounds[1].0, 28 * 86_400_000);
    }

    #[test]
    fn charts_start_on_a_month_boundary() {
        let ms = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        let h8 = 8;
        // 2026-12-01 02:00 UTC is 10:00 on 1 December in UTC+8: 24 months back from December
        // 2026 begins on 1 January 2025, local midnight.
        assert_eq!(
            first_of_month(ms("2026-12-01T02:00:00Z"), 24, h8).1,
            ms("2024-12-31T16:00:00Z")
        );
        // 30 November 20:00 UTC is already 1 December in UTC+8.
        assert_eq!(
            first_of_month(ms("2026-11-30T20:00:00Z"), 1, h8).1,
            ms("2026-11-30T16:00:00Z")
        );
        assert_eq!(
            first_of_month(ms("2026-03-15T00:00:00Z"), 3, 0).1,
            ms("2026-01-01T00:00:00Z")
        );
    }
}
