//! The membership programme (`ManageLoyalty`) and its background pass, the `loyalty.run` job:
//! earn the points of new orders a chunk at a time, and once a day (the first run after the
//! business's midnight, or when asked) expire lots that fell due and place every member in
//! their tier.

use chrono::{DateTime, Duration, Utc};
use guanxi_domain::loyalty::ProgramInput;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::loyalty::{AccrualReport, ProgramRecord, TierReport};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job that earns points and (daily) moves tiers.
pub const RUN_JOB: &str = "loyalty.run";
/// Accrual chunks one job step posts before it hands over to a fresh step.
const STEPS_PER_JOB: usize = 25;

/// Every programme, the active one first.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<ProgramRecord>, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    Ok(store.list_loyalty_programs().await?)
}

/// One programme.
pub async fn get(store: &Store, actor: &Actor, id: i64) -> Result<ProgramRecord, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    Ok(store.get_loyalty_program(id).await?)
}

/// Saves a new programme; an active one pauses the programme active before and earns on the
/// orders since its start day at the next run.
pub async fn create(
    store: &Store,
    actor: &Actor,
    input: &ProgramInput,
    utc_offset_hours: i64,
) -> Result<ProgramRecord, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    let p = input.validate()?;
    let r = store
        .create_loyalty_program(actor, &p, utc_offset_hours)
        .await?;
    queue_run(store, utc_offset_hours, p.active).await?;
    Ok(r)
}

/// Changes a programme at `version`; members are re-placed in tiers at the next run.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    input: &ProgramInput,
    utc_offset_hours: i64,
) -> Result<ProgramRecord, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    let p = input.validate()?;
    let r = store
        .update_loyalty_program(actor, id, version, &p, utc_offset_hours)
        .await?;
    queue_run(store, utc_offset_hours, p.active).await?;
    Ok(r)
}

/// A manager's "evaluate now": a run that also places every member in their tier today.
pub async fn request_run(
    store: &Store,
    actor: &Actor,
    utc_offset_hours: i64,
) -> Result<(), AppError> {
    require(actor, Permission::ManageLoyalty)?;
    queue_run(store, utc_offset_hours, true).await
}

/// Queues a run unless one is queued or running; `tiers` forces the tier evaluation today.
pub async fn queue_run(store: &Store, utc_offset_hours: i64, tiers: bool) -> Result<(), AppError> {
    crate::jobs::queue_system_job(
        store,
        RUN_JOB,
        Some("all"),
        json!({"utc_offset_hours": utc_offset_hours, "tiers": tiers}),
    )
    .await
}

/// After an order was saved: a run a few seconds on, so its points show at once rather than
/// at the next scheduled run (in the server's time zone). The order is saved whatever happens
/// here; a run that cannot be queued now is done by the schedule.
pub async fn order_placed(store: &Store) {
    let soon = Utc::now() + Duration::seconds(3);
    let _ = crate::jobs::queue_system_job_at(
        store,
        RUN_JOB,
        Some("all"),
        json!({"tiers": false}),
        Some(soon),
    )
    .await;
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Points earned on orders.
    pub accrual: AccrualReport,
    /// Lots expired.
    pub expired: usize,
    /// The tier evaluation, when it ran.
    pub tiers: Option<TierReport>,
    /// Milliseconds earning took.
    pub accrual_ms: u128,
    /// Milliseconds expiring and tiering took.
    pub tiers_ms: u128,
}

/// One run (the worker's handler, and the CLI with `max_steps` unbounded): earn on up to
/// `max_steps` chunks of orders; when none are left and today's evaluation is due (or
/// `force_tiers`), expire and place members in tiers. `more` in the report's accrual says
/// orders are still waiting.
pub async fn run(
    store: &Store,
    now: DateTime<Utc>,
    utc_offset_hours: i64,
    force_tiers: bool,
    max_steps: Option<usize>,
) -> Result<RunReport, AppError> {
    let mut report = RunReport::default();
    let started = std::time::Instant::now();
    let mut steps = 0;
    loop {
        let step = store.loyalty_accrue_orders(utc_offset_hours).await?;
        steps += 1;
        report.accrual.orders += step.orders;
        report.accrual.earned += step.earned;
        report.accrual.points += step.points;
        report.accrual.more = step.more;
        if !step.more || max_steps.is_some_and(|m| steps >= m) {
            break;
        }
    }
    report.accrual_ms = started.elapsed().as_millis();
    if report.accrual.more {
        return Ok(report);
    }
    let Some((id, _, _)) = store.active_loyalty_program().await? else {
        return Ok(report);
    };
    let due = force_tiers || {
        let evaluated = store.get_loyalty_program(id).await?.evaluated_at;
        let day = |t: DateTime<Utc>| (t + Duration::hours(utc_offset_hours)).date_naive();
        evaluated.is_none_or(|e| day(e) < day(now))
    };
    if due {
        let started = std::time::Instant::now();
        report.expired = store.loyalty_expire(now).await?;
        report.tiers = Some(store.loyalty_evaluate_tiers(now).await?);
        report.tiers_ms = started.elapsed().as_millis();
    }
    Ok(report)
}

/// The worker's handler: one bounded run; the report says whether to run again.
pub async fn run_step(
    store: &Store,
    utc_offset_hours: i64,
    force_tiers: bool,
) -> Result<serde_json::Value, AppError> {
    let r = run(
        store,
        Utc::now(),
        utc_offset_hours,
        force_tiers,
        Some(STEPS_PER_JOB),
    )
    .await?;
    Ok(json!({
        "more": r.accrual.more,
        "accrual": r.accrual,
        "expired": r.expired,
        "tiers": r.tiers,
    }))
}
