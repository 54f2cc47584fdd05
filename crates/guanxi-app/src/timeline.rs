//! One customer's history and the follow-up work on it: interactions (visit, phone, WeChat,
//! email …), follow-up tasks, and the timeline that shows them with orders, newest first.
//! Reads need `ReadCustomers`, writes `WriteCustomers`; the store keeps the record scope, the
//! audit entry and the event stream in the write's transaction.

use chrono::Utc;
use guanxi_domain::interaction::{NewInteraction, NewTask};
use guanxi_domain::records::{Interaction, Task, TimelineCursor, TimelineItem};
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::tasks::{TaskFilter, TaskList};
use guanxi_store::timeline::OpenTask;
use guanxi_store::Store;

use crate::{require, AppError};

/// Records an interaction with a customer (a time in the future is refused).
pub async fn add_interaction(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    i: NewInteraction,
) -> Result<Interaction, AppError> {
    require(actor, Permission::WriteCustomers)?;
    let valid = i.validate(Utc::now())?;
    Ok(store.add_interaction(actor, customer_id, valid).await?)
}

/// Creates a follow-up task on a customer (assigned to the actor unless someone else is named;
/// the assignee must be an active user).
pub async fn add_task(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    t: NewTask,
) -> Result<Task, AppError> {
    require(actor, Permission::WriteCustomers)?;
    let valid = t.validate(actor.user_id())?;
    Ok(store.add_task(actor, customer_id, valid).await?)
}

/// Ticks a task off or reopens it, guarded by the version last read.
pub async fn set_task_done(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    done: bool,
) -> Result<Task, AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.set_task_done(actor, id, version, done).await?)
}

/// One task as stored now (on a customer the actor may see).
pub async fn get_task(store: &Store, actor: &Actor, id: i64) -> Result<Task, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.get_task(actor, id).await?)
}

/// Tasks across customers by a filter, with the true count of all that match and how many of
/// them are overdue at `now_ms`.
pub async fn task_list(
    store: &Store,
    actor: &Actor,
    filter: &TaskFilter,
    now_ms: i64,
) -> Result<TaskList, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.task_list(actor, filter, now_ms).await?)
}

/// How many tasks match a filter and how many of those are overdue at `now_ms`, each exact
/// up to `cap` (above it: "more than `cap`"), for the dashboard.
pub async fn count_tasks_up_to(
    store: &Store,
    actor: &Actor,
    filter: &TaskFilter,
    now_ms: i64,
    cap: i64,
) -> Result<(i64, i64), AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.count_tasks_up_to(actor, filter, now_ms, cap).await?)
}

/// The open tasks assigned to one user, overdue first (the dashboard's list).
pub async fn open_tasks(
    store: &Store,
    actor: &Actor,
    assignee: i64,
    limit: i64,
) -> Result<Vec<OpenTask>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.open_tasks(actor, assignee, limit).await?)
}

/// A page of a customer's timeline, newest first, older than `before` (the `(at, id)` keyset:
/// entries sharing a time are all reached).
pub async fn timeline(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    before: Option<TimelineCursor>,
    limit: i64,
) -> Result<Vec<TimelineItem>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.timeline(actor, customer_id, before, limit).await?)
}
