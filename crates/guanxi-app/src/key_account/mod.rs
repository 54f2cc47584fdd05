//! Key accounts' use cases (issue #17). Everyone who reads deals sees the key-account
//! dashboard within their record scope (`ReadOpportunities`); reps make their customers key
//! accounts and keep the plans (`WorkOpportunities`, and `ReassignCustomers` to name a
//! manager other than themselves or the customer's owner); managers set and apply the rule
//! (`ManagePipelines`). The cadence's visit tasks come from a job ([`VISITS_JOB`]).

use chrono::{DateTime, Datelike, Duration, Utc};
use guanxi_domain::key_account::{KeyAccountInput, PlanInput, RuleInput};
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::key_account::{KeyAccount, KeyAccountRow, RuleReport, RuleSettings, VisitReport};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job that gives key accounts' managers their visit tasks.
pub const VISITS_JOB: &str = "key_accounts.visits";

/// The dashboard: the key accounts the actor sees (`mine`: those they manage or stand in for).
pub async fn dashboard(
    store: &Store,
    actor: &Actor,
    mine: bool,
) -> Result<Vec<KeyAccountRow>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.key_accounts(actor, mine, Utc::now()).await?)
}

/// A key account, its figures, and its revenue for each of the last twelve months in the
/// shop's time zone (`YYYY-MM`, oldest first).
pub async fn account(
    store: &Store,
    actor: &Actor,
    id: i64,
    utc_offset_hours: i64,
) -> Result<(KeyAccount, KeyAccountRow, Vec<(String, i64)>), AppError> {
    require(actor, Permission::ReadOpportunities)?;
    let now = Utc::now();
    let (account, row) = store.key_account(actor, id, now).await?;
    let months = last_months(now, utc_offset_hours, 12);
    let since = months
        .first()
        .map(|(_, start)| *start)
        .unwrap_or(now - Duration::days(366));
    let orders = store.key_account_orders(actor, id, since).await?;
    let mut series: Vec<(String, i64)> =
        months.iter().map(|(label, _)| (label.clone(), 0)).collect();
    for (at, total) in orders {
        if let Some(i) = months
            .iter()
            .rposition(|(_, start)| start.timestamp_millis() <= at)
        {
            series[i].1 += total;
        }
    }
    Ok((account, row, series))
}

/// The first instants of the last `n` months (this one last) in a zone `offset` hours east.
fn last_months(now: DateTime<Utc>, offset: i64, n: u32) -> Vec<(String, DateTime<Utc>)> {
    let local = (now + Duration::hours(offset)).date_naive();
    let mut first = local.with_day(1).unwrap_or(local);
    let mut out = Vec::new();
    for _ in 0..n {
        let start = first
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc() - Duration::hours(offset))
            .unwrap_or(now);
        out.push((first.format("%Y-%m").to_string(), start));
        first = first
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(first);
    }
    out.reverse();
    out
}

/// Makes a customer a key account or changes who looks after it.
pub async fn set(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &KeyAccountInput,
) -> Result<KeyAccount, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let k = input.validate()?;
    if let Some(m) = k.manager_id {
        let owner = crate::customers::read_in_list(store, actor, id)
            .await
            .ok()
            .and_then(|c| c.owner_id);
        if m != actor.id && Some(m) != owner {
            require(actor, Permission::ReassignCustomers)?;
        }
    }
    Ok(store.set_key_account(actor, id, &k).await?)
}

/// Saves an account plan.
pub async fn save_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &PlanInput,
) -> Result<KeyAccount, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let p = input.validate()?;
    Ok(store.save_key_account_plan(actor, id, &p).await?)
}

/// Ends a key account.
pub async fn remove(store: &Store, actor: &Actor, id: i64) -> Result<(), AppError> {
    require(actor, Permission::WorkOpportunities)?;
    Ok(store.remove_key_account(actor, id).await?)
}

/// The rule.
pub async fn rule(store: &Store, actor: &Actor) -> Result<RuleSettings, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.key_account_rule().await?)
}

/// Sets the rule at the version read.
pub async fn set_rule(
    store: &Store,
    actor: &Actor,
    input: &RuleInput,
) -> Result<RuleSettings, AppError> {
    require(actor, Permission::ManagePipelines)?;
    let r = input.validate()?;
    Ok(store.set_key_account_rule(actor, &r).await?)
}

/// Applies the rule now.
pub async fn apply_rule(store: &Store, actor: &Actor) -> Result<RuleReport, AppError> {
    require(actor, Permission::ManagePipelines)?;
    Ok(store.apply_key_account_rule(actor).await?)
}

/// The cadence run (the worker's handler): visit tasks for the key accounts nobody has been in
/// touch with for longer than their cadence. The task's title is in the shop's language.
pub async fn visits(store: &Store) -> Result<VisitReport, AppError> {
    Ok(store
        .key_account_visits(
            Utc::now(),
            guanxi_text::text::t(guanxi_text::i18n::Locale::ZhCn, "key_account.visit_task"),
        )
        .await?)
}

/// Queues a cadence run (at most one waiting).
pub async fn queue_visits(store: &Store) -> Result<(), AppError> {
    crate::jobs::queue_system_job(store, VISITS_JOB, Some("all"), json!({})).await
}
