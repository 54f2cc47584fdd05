//! Customer care use cases: the care list (dates coming up for an owner's customers, and the
//! festivals), recording what was given, care plans (`ManageCare`), and the two background
//! steps the server's schedule runs — deriving the dates from the customer file and firing the
//! plans.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_domain::care::{festivals_between, CarePlanInput, TouchInput};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::segment::AsOf;
use guanxi_domain::ValidationErrors;
use guanxi_store::care::{CarePlanRecord, CareTouch, CareView, FestivalDay};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job that derives care dates from the customer file, a batch per step.
pub const REFRESH_JOB: &str = "care.refresh";
/// The job that fires the active care plans.
pub const PLANS_JOB: &str = "care.plans";
/// Longest look-ahead of a care list, in days.
pub const MAX_DAYS: i64 = 60;

/// What a care list asks for.
#[derive(Debug, Clone, Copy)]
pub struct CareQuery {
    /// Whose customers; `None` for the reader's own, `Some(0)` for everyone they see.
    pub owner: Option<i64>,
    /// How many days ahead, today included (1–60).
    pub days: i64,
}

/// The care list from `today`: `owner`'s customers' dates (the reader's own by default) and
/// the festivals, over `days` days.
pub async fn care_list(
    store: &Store,
    actor: &Actor,
    q: CareQuery,
    today: NaiveDate,
) -> Result<CareView, AppError> {
    require(actor, Permission::ReadCustomers)?;
    if !(1..=MAX_DAYS).contains(&q.days) {
        return Err(AppError::InvalidQuery(ValidationErrors::single(
            "days",
            "out_of_range",
        )));
    }
    let owner = match q.owner {
        None => Some(actor.id),
        Some(0) => None,
        Some(o) => Some(o),
    };
    let to = today + Duration::days(q.days - 1);
    let list = store.care_list(actor, owner, today, to).await?;
    Ok(CareView {
        from: today,
        to,
        owner_id: owner,
        list,
        festivals: festivals_between(today, to)
            .into_iter()
            .map(|(festival, on)| FestivalDay { festival, on })
            .collect(),
    })
}

/// Records a greeting, gift or coupon given to a customer the actor sees.
pub async fn record_touch(
    store: &Store,
    actor: &Actor,
    input: &TouchInput,
    today: NaiveDate,
) -> Result<CareTouch, AppError> {
    require(actor, Permission::WriteCustomers)?;
    let touch = input.validate(today)?;
    Ok(store.record_care_touch(actor, &touch, Utc::now()).await?)
}

/// A customer's recorded touches, newest first.
pub async fn customer_touches(
    store: &Store,
    actor: &Actor,
    customer: i64,
) -> Result<Vec<CareTouch>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.customer_care_touches(actor, customer).await?)
}

/// Every care plan.
pub async fn list_plans(store: &Store, actor: &Actor) -> Result<Vec<CarePlanRecord>, AppError> {
    require(actor, Permission::ManageCare)?;
    Ok(store.list_care_plans().await?)
}

/// The saved segments a plan may target, by name (no sizes: the picker needs none).
pub async fn plan_segments(store: &Store, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    require(actor, Permission::ManageCare)?;
    Ok(store
        .list_segments()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// One care plan.
pub async fn get_plan(store: &Store, actor: &Actor, id: i64) -> Result<CarePlanRecord, AppError> {
    require(actor, Permission::ManageCare)?;
    Ok(store.get_care_plan(id).await?)
}

/// Saves a new care plan.
pub async fn create_plan(
    store: &Store,
    actor: &Actor,
    input: &CarePlanInput,
) -> Result<CarePlanRecord, AppError> {
    require(actor, Permission::ManageCare)?;
    let plan = input.validate()?;
    Ok(store.create_care_plan(actor, &plan).await?)
}

/// Changes a care plan at `version`.
pub async fn update_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    input: &CarePlanInput,
) -> Result<CarePlanRecord, AppError> {
    require(actor, Permission::ManageCare)?;
    let plan = input.validate()?;
    Ok(store.update_care_plan(actor, id, version, &plan).await?)
}

/// How many customers a plan would give a task to if switched on now (the dry run).
pub async fn preview_plan(
    store: &Store,
    actor: &Actor,
    input: &CarePlanInput,
    as_of: AsOf,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageCare)?;
    let plan = input.validate()?;
    Ok(store.preview_care_plan(&plan, as_of).await?)
}

/// `now` in the business's time zone, as the jobs see it.
pub fn as_of(now: DateTime<Utc>, utc_offset_hours: i64) -> AsOf {
    AsOf {
        now,
        today: (now + Duration::hours(utc_offset_hours)).date_naive(),
        utc_offset_hours,
    }
}

/// Queues a step of the care-date refresh unless one is queued or running.
pub async fn queue_refresh(store: &Store, utc_offset_hours: i64) -> Result<(), AppError> {
    crate::jobs::queue_system_job(
        store,
        REFRESH_JOB,
        Some("all"),
        json!({"utc_offset_hours": utc_offset_hours}),
    )
    .await
}

/// After a customer was created or changed: a care-date refresh a few seconds on (past the
/// refresh's settling time), so a new birthday or owner reaches the care list at once rather
/// than at the next scheduled refresh. The change is saved whatever happens here; a refresh
/// that cannot be queued now is done by the schedule.
pub async fn dates_changed(store: &Store) {
    let soon = Utc::now() + Duration::seconds(3);
    let _ =
        crate::jobs::queue_system_job_at(store, REFRESH_JOB, Some("all"), json!({}), Some(soon))
            .await;
}

/// Queues a firing of the care plans unless one is queued or running.
pub async fn queue_plans(store: &Store, utc_offset_hours: i64) -> Result<(), AppError> {
    crate::jobs::queue_system_job(
        store,
        PLANS_JOB,
        Some("all"),
        json!({"utc_offset_hours": utc_offset_hours}),
    )
    .await
}

/// One refresh step (the worker's handler). When the customers are all read, the plans are
/// queued to fire on the fresh dates.
pub async fn refresh_step(
    store: &Store,
    utc_offset_hours: i64,
) -> Result<serde_json::Value, AppError> {
    let at = as_of(Utc::now(), utc_offset_hours);
    let report = store
        .refresh_care_dates(at.now, at.today, utc_offset_hours)
        .await?;
    if !report.more {
        queue_plans(store, utc_offset_hours).await?;
    }
    serde_json::to_value(&report).map_err(|e| AppError::File(e.to_string()))
}

/// Fires the active care plans (the worker's handler).
pub async fn fire_plans(
    store: &Store,
    utc_offset_hours: i64,
) -> Result<serde_json::Value, AppError> {
    let report = store
        .fire_care_plans(as_of(Utc::now(), utc_offset_hours))
        .await?;
    serde_json::to_value(&report).map_err(|e| AppError::File(e.to_string()))
}

/// What [`run_now`] did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Refresh steps (transactions).
    pub steps: usize,
    /// Customers read.
    pub customers: usize,
    /// Dates written.
    pub dates: usize,
    /// Milliseconds the refresh took.
    pub refresh_ms: u128,
    /// What firing the plans did.
    pub fired: guanxi_store::care::FireReport,
    /// Milliseconds the firing took.
    pub fire_ms: u128,
}

/// Derives the care dates now — every customer when `full`, else those changed since the last
/// step — and fires the plans: what the server's schedule does, for an operator's CLI (and
/// the benchmark of the nightly pass).
pub async fn run_now(
    store: &Store,
    utc_offset_hours: i64,
    full: bool,
) -> Result<RunReport, AppError> {
    if full {
        store.restart_care_pass().await?;
    }
    let mut report = RunReport::default();
    let started = std::time::Instant::now();
    loop {
        let at = as_of(Utc::now(), utc_offset_hours);
        let step = store
            .refresh_care_dates(at.now, at.today, utc_offset_hours)
            .await?;
        report.steps += 1;
        report.customers += step.customers;
        report.dates += step.dates;
        if !step.more {
            break;
        }
    }
    report.refresh_ms = started.elapsed().as_millis();
    let started = std::time::Instant::now();
    report.fired = store
        .fire_care_plans(as_of(Utc::now(), utc_offset_hours))
        .await?;
    report.fire_ms = started.elapsed().as_millis();
    Ok(report)
}
