//! Rule use cases (`ManageRules`): saving rules, the dry run ("would fire for 312
//! customers"), the firing log, and the `rules.run` job the server's schedule queues.

use chrono::Utc;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::rule::RuleInput;
use guanxi_domain::segment::AsOf;
use guanxi_store::rule::{FiringRecord, RulePreview, RuleRecord, RuleRunReport};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job that runs the active rules.
pub const RUN_JOB: &str = "rules.run";
/// Most firings one log read returns.
pub const MAX_LOG: i64 = 500;

/// Every rule, newest first.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<RuleRecord>, AppError> {
    require(actor, Permission::ManageRules)?;
    Ok(store.list_rules().await?)
}

/// One rule.
pub async fn get(store: &Store, actor: &Actor, id: i64) -> Result<RuleRecord, AppError> {
    require(actor, Permission::ManageRules)?;
    Ok(store.get_rule(id).await?)
}

/// Saves a new rule; an active one is run at once.
pub async fn create(
    store: &Store,
    actor: &Actor,
    input: &RuleInput,
) -> Result<RuleRecord, AppError> {
    require(actor, Permission::ManageRules)?;
    let r = input.validate()?;
    let saved = store.create_rule(actor, &r).await?;
    if r.active {
        queue_run(store, None, true).await?;
    }
    Ok(saved)
}

/// Changes a rule at `version`.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    input: &RuleInput,
) -> Result<RuleRecord, AppError> {
    require(actor, Permission::ManageRules)?;
    let r = input.validate()?;
    let saved = store.update_rule(actor, id, version, &r).await?;
    if r.active {
        queue_run(store, None, true).await?;
    }
    Ok(saved)
}

/// The coupon offers a rule may issue from: (id, name), active ones without a shared code.
pub async fn coupon_offers(store: &Store, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    require(actor, Permission::ManageRules)?;
    Ok(store
        .list_coupon_offers()
        .await?
        .into_iter()
        .filter(|o| o.offer.shared_code.is_none())
        .map(|o| (o.id, o.offer.name))
        .collect())
}

/// Whom a rule would fire for now (`id`: the saved rule it is, so its log counts).
pub async fn preview(
    store: &Store,
    actor: &Actor,
    input: &RuleInput,
    id: Option<i64>,
    as_of: AsOf,
) -> Result<RulePreview, AppError> {
    require(actor, Permission::ManageRules)?;
    let r = input.validate()?;
    if let Some(id) = id {
        store.get_rule(id).await?;
    }
    Ok(store.preview_rule(&r, id, as_of).await?)
}

/// The latest firings of a rule (every rule's when `None`).
pub async fn firings(
    store: &Store,
    actor: &Actor,
    rule: Option<i64>,
    limit: i64,
) -> Result<Vec<FiringRecord>, AppError> {
    require(actor, Permission::ManageRules)?;
    if let Some(r) = rule {
        store.get_rule(r).await?;
    }
    Ok(store.rule_firings(rule, limit.clamp(1, MAX_LOG)).await?)
}

/// Queues a run unless one is queued or running (`utc_offset_hours`: the server's when
/// `None`); `full` compares sets and thresholds now.
pub async fn queue_run(
    store: &Store,
    utc_offset_hours: Option<i64>,
    full: bool,
) -> Result<(), AppError> {
    let mut payload = json!({"full": full});
    if let Some(o) = utc_offset_hours {
        payload["utc_offset_hours"] = json!(o);
    }
    crate::jobs::queue_system_job(store, RUN_JOB, Some("all"), payload).await
}

/// One run (the worker's handler, and the CLI). Surveys its actions asked for go to the
/// survey sender.
pub async fn run(store: &Store, as_of: AsOf, full: bool) -> Result<RuleRunReport, AppError> {
    let r = store.run_rules(as_of, full).await?;
    if r.done > 0 {
        crate::survey::send::queue_dispatch(store).await?;
    }
    Ok(r)
}

/// The worker's handler: a run now in the business's time zone.
pub async fn run_step(
    store: &Store,
    utc_offset_hours: i64,
    full: bool,
) -> Result<serde_json::Value, AppError> {
    let r = run(
        store,
        crate::care::as_of(Utc::now(), utc_offset_hours),
        full,
    )
    .await?;
    serde_json::to_value(&r).map_err(|e| AppError::File(e.to_string()))
}
