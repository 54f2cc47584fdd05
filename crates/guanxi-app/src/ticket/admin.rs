//! The desk admin's use cases: the category tree, SLA policies, business calendars, desk-wide
//! settings and queue membership. All need `ManageServiceDesk`, except reading the settings
//! (every desk user sees the limits that apply to them). A change to a policy or a calendar
//! queues the recomputation of open tickets' due times, so the countdowns agents see follow
//! the new rule; the pause history is kept, so nothing accumulated is lost.

use chrono::{NaiveDate, Utc};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::ticket::setup::{
    CalendarDayInput, CalendarInput, CategoryInput, ServiceSettings, SlaPolicyInput,
};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job kind that walks open tickets and recomputes their clocks after a policy or a
/// calendar changed; its payload's `after` is the cursor.
pub const SLA_RECOMPUTE_JOB: &str = "tickets.sla_recompute";

/// Queues the recomputation of open tickets' clocks from ticket id `after` on. Not
/// de-duplicated: a step already running may have read the rule before the latest change, so
/// each change walks the open tickets again (each step is idempotent).
pub async fn queue_recompute(store: &Store, after: i64) -> Result<(), AppError> {
    crate::jobs::queue_system_job(store, SLA_RECOMPUTE_JOB, None, json!({"after": after})).await
}

/// One step of the recomputation (the worker's handler): the next batch of open tickets;
/// `next` is the cursor to continue from, absent when every open ticket has been looked at.
pub async fn recompute_step(store: &Store, after: i64) -> Result<serde_json::Value, AppError> {
    let last = store.recompute_open_slas(after, Utc::now()).await?;
    Ok(json!({"after": after, "next": last}))
}

/// The desk-wide settings (reopen window, attachment limit).
pub async fn settings(store: &Store, actor: &Actor) -> Result<ServiceSettings, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.service_settings().await?)
}

/// Saves the desk-wide settings.
pub async fn save_settings(
    store: &Store,
    actor: &Actor,
    s: ServiceSettings,
) -> Result<ServiceSettings, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let s = s.validate()?;
    store.save_service_settings(actor, &s).await?;
    Ok(s)
}

/// Adds a category to the tree.
pub async fn create_category(
    store: &Store,
    actor: &Actor,
    c: CategoryInput,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let c = c.validate()?;
    Ok(store.create_category(actor, &c).await?)
}

/// Changes a category (names, parent, order, retired or not). A category is retired, never
/// deleted: the tickets filed under it keep it for the figures.
pub async fn update_category(
    store: &Store,
    actor: &Actor,
    id: i64,
    c: CategoryInput,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let c = c.validate()?;
    store.update_category(actor, id, &c).await?;
    // A policy may name the category: open tickets below it may fall under another now.
    queue_recompute(store, 0).await
}

/// Adds an SLA policy and recomputes open tickets under the new order.
pub async fn create_sla_policy(
    store: &Store,
    actor: &Actor,
    p: SlaPolicyInput,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let p = p.validate()?;
    let id = store.create_sla_policy(actor, &p).await?;
    queue_recompute(store, 0).await?;
    Ok(id)
}

/// Changes an SLA policy and recomputes open tickets.
pub async fn update_sla_policy(
    store: &Store,
    actor: &Actor,
    id: i64,
    p: SlaPolicyInput,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let p = p.validate()?;
    store.update_sla_policy(actor, id, &p).await?;
    queue_recompute(store, 0).await
}

/// Every calendar's id and name.
pub async fn calendars(store: &Store, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.business_calendars().await?)
}

/// Adds a business calendar (China's shipped holidays written into it).
pub async fn create_calendar(
    store: &Store,
    actor: &Actor,
    c: CalendarInput,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let c = c.validate()?;
    Ok(store.create_calendar(actor, &c).await?)
}

/// Changes a calendar's name, offset and weekly hours; open tickets are recomputed.
pub async fn update_calendar(
    store: &Store,
    actor: &Actor,
    id: i64,
    c: CalendarInput,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let c = c.validate()?;
    store.update_calendar(actor, id, &c).await?;
    queue_recompute(store, 0).await
}

/// Marks a date as a holiday or a make-up working day; open tickets are recomputed.
pub async fn set_calendar_day(
    store: &Store,
    actor: &Actor,
    calendar: i64,
    d: CalendarDayInput,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let d = d.validate()?;
    store.set_calendar_day(actor, calendar, &d).await?;
    queue_recompute(store, 0).await
}

/// Takes a dated exception off a calendar; open tickets are recomputed.
pub async fn remove_calendar_day(
    store: &Store,
    actor: &Actor,
    calendar: i64,
    day: NaiveDate,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    store.remove_calendar_day(actor, calendar, day).await?;
    queue_recompute(store, 0).await
}

/// Each team's lead, by team id.
pub async fn team_leads(store: &Store, actor: &Actor) -> Result<Vec<(i64, Option<i64>)>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.team_leads().await?)
}

/// Takes an agent off a queue.
pub async fn remove_queue_member(
    store: &Store,
    actor: &Actor,
    queue: i64,
    user: i64,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    Ok(store.remove_queue_member(actor, queue, user).await?)
}
