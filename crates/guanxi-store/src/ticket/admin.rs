//! The desk admin's edits: categories, SLA policies, business calendars and their dated days,
//! desk-wide settings, queue membership. Every edit is audited with what it set. A change to a
//! policy or a calendar moves open tickets' due times: the app layer queues their
//! recomputation ([`Store::recompute_open_slas`]) after the edit commits.

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::attachment::DEFAULT_MAX_KB;
use guanxi_domain::ticket::setup::{
    CalendarDayInput, CalendarInput, CategoryInput, ServiceSettings, SlaPolicyInput,
};
use serde_json::json;
use sqlx::AnyConnection;

use super::setup::{categories, reopen_days};
use super::OPEN_STATUSES;
use crate::audit::entry as audit;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

/// Open tickets one recomputation step looks at.
pub const RECOMPUTE_BATCH: i64 = 200;

async fn exists(conn: &mut AnyConnection, sql: &str, id: i64) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// The attachment limit in KB.
pub(crate) async fn attachment_max_kb(conn: &mut AnyConnection) -> Result<i64> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM service_settings WHERE key = 'attachment_max_kb'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_KB))
}

/// Checks a category's parent: it exists and is not the category itself or below it.
async fn check_parent(
    conn: &mut AnyConnection,
    id: Option<i64>,
    parent: Option<i64>,
) -> Result<()> {
    let Some(parent) = parent else {
        return Ok(());
    };
    let all = categories(conn).await?;
    if !all.iter().any(|c| c.id == parent) {
        return Err(StoreError::invalid("parent_id", "invalid_reference"));
    }
    if let Some(id) = id {
        if super::setup::category_path(&all, Some(parent)).contains(&id) {
            return Err(StoreError::invalid("parent_id", "cycle"));
        }
    }
    Ok(())
}

/// Checks a policy's references: its calendar and its category.
async fn check_policy_refs(conn: &mut AnyConnection, p: &SlaPolicyInput) -> Result<()> {
    if !exists(
        conn,
        "SELECT id FROM business_calendars WHERE id = $1",
        p.calendar_id,
    )
    .await?
    {
        return Err(StoreError::invalid("calendar_id", "invalid_reference"));
    }
    if let Some(c) = p.conditions.category_id {
        if !exists(conn, "SELECT id FROM ticket_categories WHERE id = $1", c).await? {
            return Err(StoreError::invalid(
                "conditions.category_id",
                "invalid_reference",
            ));
        }
    }
    Ok(())
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An UPDATE by id: the id when a row was changed, else not found.
fn updated(rows: u64, id: i64) -> Result<i64> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(id)
    }
}

/// Audits a save (a create when there was no id before, else an update) and commits it.
async fn commit_saved(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    before: Option<i64>,
    saved: i64,
    entity: &str,
    detail: serde_json::Value,
) -> Result<i64> {
    let action = if before.is_some() { "update" } else { "create" };
    audit(&mut tx, actor, action, entity, Some(saved), detail).await?;
    tx.commit().await?;
    Ok(saved)
}

impl Store {
    /// The desk-wide settings.
    pub async fn service_settings(&self) -> Result<ServiceSettings> {
        let mut conn = self.read.acquire().await?;
        Ok(ServiceSettings {
            reopen_days: reopen_days(&mut conn).await?,
            attachment_max_kb: attachment_max_kb(&mut conn).await?,
        })
    }

    /// Saves the desk-wide settings.
    pub async fn save_service_settings(&self, actor: &Actor, s: &ServiceSettings) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (key, value) in [
            ("reopen_days", s.reopen_days),
            ("attachment_max_kb", s.attachment_max_kb),
        ] {
            sqlx::query(
                "INSERT INTO service_settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value.to_string())
            .execute(&mut *tx)
            .await?;
        }
        audit(&mut tx, actor, "update", "service_settings", None, json!(s)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a category; a taken code is a duplicate.
    pub async fn create_category(&self, actor: &Actor, c: &CategoryInput) -> Result<i64> {
        self.save_category(actor, None, c).await
    }

    /// Changes a category (names, place in the tree, order, retired or not).
    pub async fn update_category(&self, actor: &Actor, id: i64, c: &CategoryInput) -> Result<()> {
        self.save_category(actor, Some(id), c).await.map(|_| ())
    }

    async fn save_category(
        &self,
        actor: &Actor,
        id: Option<i64>,
        c: &CategoryInput,
    ) -> Result<i64> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        check_parent(&mut tx, id, c.parent_id).await?;
        let saved = match id {
            None => sqlx::query_scalar(
                "INSERT INTO ticket_categories (parent_id, code, name_zh, name_en, position, \
                     active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     RETURNING id",
            )
            .bind(c.parent_id)
            .bind(&c.code)
            .bind(&c.name_zh)
            .bind(&c.name_en)
            .bind(c.position)
            .bind(c.active)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "code"))?,
            Some(id) => {
                let n = sqlx::query(
                    "UPDATE ticket_categories SET parent_id = $1, code = $2, name_zh = $3, \
                     name_en = $4, position = $5, active = $6, version = version + 1, \
                     updated_at = $7 WHERE id = $8",
                )
                .bind(c.parent_id)
                .bind(&c.code)
                .bind(&c.name_zh)
                .bind(&c.name_en)
                .bind(c.position)
                .bind(c.active)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique(e, "code"))?
                .rows_affected();
                updated(n, id)?
            }
        };
        commit_saved(tx, actor, id, saved, "ticket_category", json!(c)).await
    }

    /// Adds an SLA policy.
    pub async fn create_sla_policy(&self, actor: &Actor, p: &SlaPolicyInput) -> Result<i64> {
        self.save_sla_policy(actor, None, p).await
    }

    /// Changes an SLA policy (its conditions, targets, calendar, order, in use or not).
    pub async fn update_sla_policy(
        &self,
        actor: &Actor,
        id: i64,
        p: &SlaPolicyInput,
    ) -> Result<()> {
        self.save_sla_policy(actor, Some(id), p).await.map(|_| ())
    }

    async fn save_sla_policy(
        &self,
        actor: &Actor,
        id: Option<i64>,
        p: &SlaPolicyInput,
    ) -> Result<i64> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        check_policy_refs(&mut tx, p).await?;
        let c = &p.conditions;
        let kind = c.kind.map(|k| k.as_str());
        let priority = c.priority.map(|k| k.as_str());
        let saved =
            match id {
                None => sqlx::query_scalar(
                    "INSERT INTO sla_policies (name, position, kind, category_id, priority, tier, \
                     first_response_minutes, next_response_minutes, resolution_minutes, \
                     calendar_id, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
                )
                .bind(&p.name)
                .bind(p.position)
                .bind(kind)
                .bind(c.category_id)
                .bind(priority)
                .bind(c.tier.as_deref())
                .bind(p.first_response_minutes)
                .bind(p.next_response_minutes)
                .bind(p.resolution_minutes)
                .bind(p.calendar_id)
                .bind(p.active)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?,
                Some(id) => {
                    let n = sqlx::query(
                        "UPDATE sla_policies SET name = $1, position = $2, kind = $3, \
                     category_id = $4, priority = $5, tier = $6, first_response_minutes = $7, \
                     next_response_minutes = $8, resolution_minutes = $9, calendar_id = $10, \
                     active = $11, version = version + 1, updated_at = $12 WHERE id = $13",
                    )
                    .bind(&p.name)
                    .bind(p.position)
                    .bind(kind)
                    .bind(c.category_id)
                    .bind(priority)
                    .bind(c.tier.as_deref())
                    .bind(p.first_response_minutes)
                    .bind(p.next_response_minutes)
                    .bind(p.resolution_minutes)
                    .bind(p.calendar_id)
                    .bind(p.active)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    updated(n, id)?
                }
            };
        commit_saved(tx, actor, id, saved, "sla_policy", json!(p)).await
    }

    /// Adds a business calendar, with China's shipped holidays written into it.
    pub async fn create_calendar(&self, actor: &Actor, c: &CalendarInput) -> Result<i64> {
        let id = self.save_calendar(actor, None, c).await?;
        self.seed_calendar_holidays().await?;
        Ok(id)
    }

    /// Changes a calendar's name, offset and weekly hours.
    pub async fn update_calendar(&self, actor: &Actor, id: i64, c: &CalendarInput) -> Result<()> {
        self.save_calendar(actor, Some(id), c).await.map(|_| ())
    }

    async fn save_calendar(
        &self,
        actor: &Actor,
        id: Option<i64>,
        c: &CalendarInput,
    ) -> Result<i64> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let week = json_text(&c.week)?;
        let workday = json_text(&c.workday_hours)?;
        let saved = match id {
            None => sqlx::query_scalar(
                "INSERT INTO business_calendars (name, utc_offset_minutes, week, \
                     workday_hours, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
                     RETURNING id",
            )
            .bind(&c.name)
            .bind(i64::from(c.utc_offset_minutes))
            .bind(&week)
            .bind(&workday)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "name"))?,
            Some(id) => {
                let n = sqlx::query(
                    "UPDATE business_calendars SET name = $1, utc_offset_minutes = $2, \
                     week = $3, workday_hours = $4, version = version + 1, updated_at = $5 \
                     WHERE id = $6",
                )
                .bind(&c.name)
                .bind(i64::from(c.utc_offset_minutes))
                .bind(&week)
                .bind(&workday)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique(e, "name"))?
                .rows_affected();
                updated(n, id)?
            }
        };
        commit_saved(tx, actor, id, saved, "business_calendar", json!(c)).await
    }

    /// Marks a date on a calendar as a holiday or a make-up working day (replacing what the
    /// date had); an admin's entry is never provisional.
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        calendar: i64,
        d: &CalendarDayInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if !exists(
            &mut tx,
            "SELECT id FROM business_calendars WHERE id = $1",
            calendar,
        )
        .await?
        {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO calendar_days (calendar_id, day, rule, festival, provisional) \
             VALUES ($1, $2, $3, $4, FALSE) ON CONFLICT (calendar_id, day) DO UPDATE \
             SET rule = excluded.rule, festival = excluded.festival, provisional = FALSE",
        )
        .bind(calendar)
        .bind(d.day.format("%Y-%m-%d").to_string())
        .bind(d.rule.as_str())
        .bind(d.festival.as_deref())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "update",
            "business_calendar",
            Some(calendar),
            json!({"day_set": d}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a dated exception off a calendar (the date follows the weekly hours again).
    pub async fn remove_calendar_day(
        &self,
        actor: &Actor,
        calendar: i64,
        day: NaiveDate,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM calendar_days WHERE calendar_id = $1 AND day = $2")
            .bind(calendar)
            .bind(day.format("%Y-%m-%d").to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        updated(n, calendar)?;
        let detail = json!({"day_removed": day});
        commit_saved(
            tx,
            actor,
            Some(calendar),
            calendar,
            "business_calendar",
            detail,
        )
        .await?;
        Ok(())
    }

    /// The calendars' ids and names, for choosing one.
    pub async fn business_calendars(&self) -> Result<Vec<(i64, String)>> {
        Ok(
            sqlx::query_as("SELECT id, name FROM business_calendars ORDER BY id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Whether a user leads the team a ticket is filed under (a lead hands out the team's
    /// tickets).
    pub async fn leads_ticket_team(&self, user: i64, ticket: i64) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tickets t JOIN teams tm ON tm.id = t.team_id \
             WHERE t.id = $1 AND tm.lead_id = $2",
        )
        .bind(ticket)
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    /// Each team's lead (the first step of a complaint's escalation), by team id.
    pub async fn team_leads(&self) -> Result<Vec<(i64, Option<i64>)>> {
        Ok(sqlx::query_as("SELECT id, lead_id FROM teams ORDER BY id")
            .fetch_all(&self.read)
            .await?)
    }

    /// Takes an agent off a queue.
    pub async fn remove_queue_member(&self, actor: &Actor, queue: i64, user: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM queue_members WHERE queue_id = $1 AND user_id = $2")
            .bind(queue)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        updated(n, queue)?;
        let detail = json!({"member_removed": user});
        commit_saved(tx, actor, Some(queue), queue, "service_queue", detail).await?;
        Ok(())
    }

    /// One step of recomputing open tickets' clocks after a policy or calendar changed: the
    /// next [`RECOMPUTE_BATCH`] open tickets after id `after`, each in its own transaction.
    /// Returns the last id looked at, or `None` when no open ticket is left.
    pub async fn recompute_open_slas(&self, after: i64, now: DateTime<Utc>) -> Result<Option<i64>> {
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM tickets WHERE status IN {OPEN_STATUSES} AND id > $1 \
             ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(RECOMPUTE_BATCH)
        .fetch_all(&self.read)
        .await?;
        for id in &ids {
            self.refresh_ticket_sla(*id, now).await?;
        }
        Ok(ids.last().copied())
    }
}
