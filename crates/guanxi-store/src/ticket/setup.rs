//! The service desk's configuration: the category tree, business calendars (seeded once with
//! China's shipped holidays), SLA policies, and desk-wide settings.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guanxi_domain::ticket::calendar::{BusinessCalendar, DayRule, Period};
use guanxi_domain::ticket::holidays::CHINA;
use guanxi_domain::ticket::records::{CalendarDay, NamedCalendar, SlaPolicy, TicketCategory};
use guanxi_domain::ticket::sla::SlaConditions;
use guanxi_domain::ticket::{Priority, TicketKind};
use sqlx::AnyConnection;

use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::rows::{code, Flag};

/// Default reopen window when the setting is missing or unreadable.
const DEFAULT_REOPEN_DAYS: i64 = 7;

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: i64,
    parent_id: Option<i64>,
    code: String,
    name_zh: String,
    name_en: String,
    position: i64,
    active: Flag,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    id: i64,
    name: String,
    position: i64,
    kind: Option<String>,
    category_id: Option<i64>,
    priority: Option<String>,
    tier: Option<String>,
    first_response_minutes: Option<i64>,
    next_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    calendar_id: i64,
    active: Flag,
}

impl PolicyRow {
    pub(crate) fn into_record(self) -> Result<SlaPolicy> {
        Ok(SlaPolicy {
            id: self.id,
            name: self.name,
            position: self.position,
            conditions: SlaConditions {
                kind: self
                    .kind
                    .map(|k| code(TicketKind::parse, &k, "sla kind"))
                    .transpose()?,
                category_id: self.category_id,
                priority: self
                    .priority
                    .map(|p| code(Priority::parse, &p, "sla priority"))
                    .transpose()?,
                tier: self.tier,
            },
            first_response_minutes: self.first_response_minutes,
            next_response_minutes: self.next_response_minutes,
            resolution_minutes: self.resolution_minutes,
            calendar_id: self.calendar_id,
            active: self.active.into(),
        })
    }
}

const POLICY_COLUMNS: &str = "id, name, position, kind, category_id, priority, tier, \
    first_response_minutes, next_response_minutes, resolution_minutes, calendar_id, active";

/// Every category, parents before children in the admin's order.
pub(crate) async fn categories(conn: &mut AnyConnection) -> Result<Vec<TicketCategory>> {
    let rows: Vec<CategoryRow> = sqlx::query_as(
        "SELECT id, parent_id, code, name_zh, name_en, position, active FROM ticket_categories \
         ORDER BY position, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TicketCategory {
            id: r.id,
            parent_id: r.parent_id,
            code: r.code,
            name_zh: r.name_zh,
            name_en: r.name_en,
            position: r.position,
            active: r.active.into(),
        })
        .collect())
}

/// A category and its ancestors, nearest first (empty for none).
pub(crate) fn category_path(all: &[TicketCategory], id: Option<i64>) -> Vec<i64> {
    let mut path = Vec::new();
    let mut next = id;
    while let Some(c) = next.and_then(|id| all.iter().find(|c| c.id == id)) {
        if path.contains(&c.id) {
            break;
        }
        path.push(c.id);
        next = c.parent_id;
    }
    path
}

/// Active policies in evaluation order.
pub(crate) async fn active_policies(conn: &mut AnyConnection) -> Result<Vec<SlaPolicy>> {
    let rows: Vec<PolicyRow> = sqlx::query_as(&format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE active = TRUE ORDER BY position, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(PolicyRow::into_record).collect()
}

#[derive(sqlx::FromRow)]
struct CalendarRow {
    id: i64,
    name: String,
    utc_offset_minutes: i64,
    week: String,
    workday_hours: String,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: String,
    rule: String,
    festival: Option<String>,
    provisional: Flag,
}

fn periods<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A calendar with its dated exceptions.
pub(crate) async fn calendar(conn: &mut AnyConnection, id: i64) -> Result<NamedCalendar> {
    let row: CalendarRow = sqlx::query_as(
        "SELECT id, name, utc_offset_minutes, week, workday_hours FROM business_calendars \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let rows: Vec<DayRow> = sqlx::query_as(
        "SELECT day, rule, festival, provisional FROM calendar_days WHERE calendar_id = $1 \
         ORDER BY day",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut days = Vec::with_capacity(rows.len());
    let mut map = BTreeMap::new();
    for r in rows {
        let day = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("calendar day {}: {e}", r.day)))?;
        let rule = code(DayRule::parse, &r.rule, "calendar rule")?;
        map.insert(day, rule);
        days.push(CalendarDay {
            day,
            rule,
            festival: r.festival,
            provisional: r.provisional.into(),
        });
    }
    let week: [Vec<Period>; 7] = periods(&row.week, "calendar week")?;
    Ok(NamedCalendar {
        id: row.id,
        name: row.name,
        calendar: BusinessCalendar {
            utc_offset_minutes: i32::try_from(row.utc_offset_minutes)
                .map_err(|_| StoreError::Corrupt("calendar offset".into()))?,
            week,
            workday_hours: periods(&row.workday_hours, "calendar workday hours")?,
            days: map,
        },
        days,
    })
}

/// The reopen window in days.
pub(crate) async fn reopen_days(conn: &mut AnyConnection) -> Result<i64> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM service_settings WHERE key = 'reopen_days'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(v.and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_REOPEN_DAYS))
}

impl Store {
    /// Writes the shipped holiday table into every calendar that has not had it yet; runs at
    /// start-up, once per calendar, so an admin's later edits stay.
    pub(crate) async fn seed_calendar_holidays(&self) -> Result<()> {
        let pending: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM business_calendars WHERE holidays_seeded = FALSE")
                .fetch_all(&self.write)
                .await?;
        for id in pending {
            let mut tx = self.begin_write().await?;
            for d in CHINA {
                sqlx::query(
                    "INSERT INTO calendar_days (calendar_id, day, rule, festival, provisional) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (calendar_id, day) DO NOTHING",
                )
                .bind(id)
                .bind(d.date)
                .bind(d.rule.as_str())
                .bind(d.festival)
                .bind(d.provisional)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE business_calendars SET holidays_seeded = TRUE WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The category tree.
    pub async fn ticket_categories(&self) -> Result<Vec<TicketCategory>> {
        let mut conn = self.read.acquire().await?;
        categories(&mut conn).await
    }

    /// Every SLA policy (active or not) in evaluation order.
    pub async fn sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        let rows: Vec<PolicyRow> = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY position, id"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(PolicyRow::into_record).collect()
    }

    /// A business calendar.
    pub async fn business_calendar(&self, id: i64) -> Result<NamedCalendar> {
        let mut conn = self.read.acquire().await?;
        calendar(&mut conn, id).await
    }
}
