//! The figures of the landing dashboard, computed by the database (grouping by month is the one
//! dialect difference, behind [`Backend`]) and always within the reader's record scope: a rep's
//! dashboard counts the rep's customers, a manager's the whole book.

use chrono::{Datelike, Utc};
use guanxi_domain::role::Actor;

use crate::customers::push_scope;
use crate::db::{to_ms, Backend, Store};
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
    /// shop's time zone (`utc_offset_hours`).
    pub async fn dashboard(
        &self,
        actor: &Actor,
        months: i64,
        utc_offset_hours: i64,
    ) -> Result<Dashboard> {
        let offset = utc_offset_hours * 3_600_000;
        let months = months.clamp(1, 120);
        let (first, since) = first_of_month(to_ms(Utc::now()), months, utc_offset_hours);
        let labels = month_labels(first, months);
        let month = |col: &str| match self.backend() {
            Backend::Sqlite => {
                format!("strftime('%Y-%m', ({col} + {offset}) / 1000, 'unixepoch')")
            }
            Backend::Postgres => format!(
                "to_char(to_timestamp(({col} + {offset}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')"
            ),
        };
        let mut conn = self.read.acquire().await?;

        let mut q = SqlBuilder::new(
            "SELECT c.lifecycle_stage, COUNT(*) FROM customers c WHERE c.deleted_at IS NULL",
        );
        push_scope(&mut q, actor);
        q.push(" GROUP BY c.lifecycle_stage ORDER BY 2 DESC");
        let by_stage: Vec<(String, i64)> = q.query_as().fetch_all(&mut *conn).await?;

        let m = month("c.created_at");
        let mut q = SqlBuilder::new(&format!(
            "SELECT {m} AS m, COUNT(*) FROM customers c WHERE c.deleted_at IS NULL AND c.created_at >= "
        ));
        q.int(since);
        push_scope(&mut q, actor);
        q.push(" GROUP BY 1 ORDER BY 1");
        let found: Vec<(String, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let new_per_month = every_month(&labels, found, |r| &r.0, |m| (m, 0));

        let m = month("o.ordered_at");
        let mut q = SqlBuilder::new(&format!(
            "SELECT {m} AS m, COUNT(*), CAST(COALESCE(SUM(o.total_minor), 0) AS BIGINT) FROM orders o \
             JOIN customers c ON c.id = o.customer_id WHERE o.ordered_at >= "
        ));
        q.int(since);
        push_scope(&mut q, actor);
        q.push(" GROUP BY 1 ORDER BY 1");
        let found: Vec<(String, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let revenue_per_month = every_month(&labels, found, |r| &r.0, |m| (m, 0, 0));

        drop(conn);
        let (orders, revenue_minor) = self.order_totals(actor).await?;

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

/// The `YYYY-MM` labels of `months` consecutive months from the one `first` falls in, oldest
/// first.
fn month_labels(first: chrono::NaiveDate, months: i64) -> Vec<String> {
    (0..u32::try_from(months).unwrap_or(0))
        .filter_map(|k| first.checked_add_months(chrono::Months::new(k)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect()
}

/// Rows keyed by month (`month_of`) on every label in `labels` — `empty` makes the row of a
/// month with none — plus any later month the rows hold (an order dated ahead), in month order.
fn every_month<T>(
    labels: &[String],
    rows: Vec<T>,
    month_of: impl Fn(&T) -> &str,
    empty: impl Fn(String) -> T,
) -> Vec<T> {
    let mut by_month: std::collections::BTreeMap<String, T> = labels
        .iter()
        .map(|m| (m.clone(), empty(m.clone())))
        .collect();
    for row in rows {
        by_month.insert(month_of(&row).to_string(), row);
    }
    by_month.into_values().collect()
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
    use super::{every_month, first_of_month, month_labels};

    #[test]
    fn every_month_of_the_window_has_a_row() {
        let jan_2025 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let labels = month_labels(jan_2025, 14);
        assert_eq!(labels.first().map(String::as_str), Some("2025-01"));
        assert_eq!(labels.last().map(String::as_str), Some("2026-02"));
        assert_eq!(labels.len(), 14);
        let rows = vec![("2025-03".to_string(), 2), ("2027-01".to_string(), 1)];
        let dense = every_month(&labels, rows, |r| &r.0, |m| (m, 0));
        assert_eq!(dense.len(), 15, "the window plus an order dated ahead");
        assert_eq!(dense[1], ("2025-02".to_string(), 0));
        assert_eq!(dense[2], ("2025-03".to_string(), 2));
        assert_eq!(dense[14], ("2027-01".to_string(), 1));
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
