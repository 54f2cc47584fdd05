//! What the scores say, for readers of the customer file (`ReadCustomers`): the dashboard of
//! one's book, the analytics page's figures, a customer's scores and "also bought"
//! suggestions, and when the scores were last computed. Every figure is within the reader's
//! record scope where it names customers.

use std::collections::HashMap;

use guanxi_domain::role::{Actor, Permission};
use guanxi_store::audit::AuditEvent;
use guanxi_store::dashboard::Dashboard;
use guanxi_store::insights::Insights;
use guanxi_store::scores::{AlsoBought, RefreshReport, ScoreRow, ScoreSettings};
use guanxi_store::Store;

use crate::{require, AppError};

/// The reader's book over the last `months` months cut in the shop's time zone.
pub async fn dashboard(
    store: &Store,
    actor: &Actor,
    months: i64,
    utc_offset_hours: i64,
) -> Result<Dashboard, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.dashboard(actor, months, utc_offset_hours).await?)
}

/// The analytics page's figures (RFM grid, value matrix, Pareto, CLV, churn risk) with the top
/// `top` customers of each list.
pub async fn insights(store: &Store, actor: &Actor, top: i64) -> Result<Insights, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.insights(actor, top).await?)
}

/// Segment sizes after each of the last `refreshes` refreshes (whole-book figures: the caller
/// shows them only to readers who see all customers).
pub async fn segment_history(
    store: &Store,
    actor: &Actor,
    refreshes: i64,
) -> Result<Vec<(i64, String, i64)>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.segment_history(refreshes).await?)
}

/// When the scores were last computed (ms) and how many customers they cover.
pub async fn scores_summary(store: &Store, actor: &Actor) -> Result<(Option<i64>, i64), AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.scores_summary().await?)
}

/// One customer's scores, if computed. The caller has read the customer in its scope.
pub async fn customer_score(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
) -> Result<Option<ScoreRow>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.customer_score(customer_id).await?)
}

/// The scores of several customers (a page of a list).
pub async fn scores_of(
    store: &Store,
    actor: &Actor,
    ids: &[i64],
) -> Result<HashMap<i64, ScoreRow>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.scores_of(ids).await?)
}

/// Products bought together with what the customer bought, more often than chance.
pub async fn also_bought(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<AlsoBought>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.also_bought(customer_id, limit).await?)
}

/// Recomputes every customer's scores now, in the caller's task (the CLI's `scores refresh`;
/// the server runs the same store refresh on its job queue, audited in the job's completion),
/// and audits the run with what it covered.
pub async fn refresh_scores(
    store: &Store,
    actor: &Actor,
    settings: ScoreSettings,
) -> Result<RefreshReport, AppError> {
    require(actor, Permission::RunAnalytics)?;
    let r = store.refresh_scores(settings).await?;
    store
        .audit(
            actor,
            AuditEvent {
                action: "refresh_scores",
                entity: "customer_scores",
                entity_id: None,
                detail: r.audit_detail(),
            },
        )
        .await?;
    Ok(r)
}
