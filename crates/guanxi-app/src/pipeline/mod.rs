//! The sales pipeline's use cases: reps create and move their deals (`WorkOpportunities`),
//! everyone who reads deals sees the kanban and the forecast within their record scope
//! (`ReadOpportunities`), managers define pipelines (`ManagePipelines`). The store checks
//! the scope and writes the audit entry with each change.

use chrono::{Datelike, NaiveDate};
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::pipeline::{MoveInput, OpportunityInput, PipelineInput};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::ValidationErrors;
use guanxi_store::pipeline::{
    Board, ForecastRow, LostReason, Opportunity, Pipeline, PipelineFigures, StageChange,
};
use guanxi_store::Store;

use crate::{custom_field, require, AppError};

/// Longest forecast, in months.
pub const MAX_FORECAST_MONTHS: u32 = 24;

/// Every pipeline with its stages.
pub async fn pipelines(store: &Store, actor: &Actor) -> Result<Vec<Pipeline>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.list_pipelines().await?)
}

/// One pipeline.
pub async fn pipeline(store: &Store, actor: &Actor, id: i64) -> Result<Pipeline, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.get_pipeline(id).await?)
}

/// Saves a new pipeline.
pub async fn create_pipeline(
    store: &Store,
    actor: &Actor,
    input: &PipelineInput,
) -> Result<Pipeline, AppError> {
    require(actor, Permission::ManagePipelines)?;
    let p = input.validate()?;
    Ok(store.create_pipeline(actor, &p).await?)
}

/// Changes a pipeline at the version read.
pub async fn update_pipeline(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &PipelineInput,
) -> Result<Pipeline, AppError> {
    require(actor, Permission::ManagePipelines)?;
    let p = input.validate()?;
    Ok(store.update_pipeline(actor, id, &p).await?)
}

/// Every lost reason, offered or not (the settings page).
pub async fn all_lost_reasons(store: &Store, actor: &Actor) -> Result<Vec<LostReason>, AppError> {
    require(actor, Permission::ManagePipelines)?;
    Ok(store.all_lost_reasons().await?)
}

/// Adds a lost reason: a name (1–40 characters), its English name, and whether a loss for it
/// needs a note.
pub async fn create_lost_reason(
    store: &Store,
    actor: &Actor,
    name: &str,
    name_en: Option<&str>,
    needs_note: bool,
) -> Result<LostReason, AppError> {
    require(actor, Permission::ManagePipelines)?;
    use guanxi_domain::profile::{optional_text, required_text};
    let mut e = ValidationErrors::new();
    let name = required_text(&mut e, "name", name, 40);
    let name_en = optional_text(&mut e, "name_en", name_en, 40);
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store
        .create_lost_reason(actor, name, name_en, needs_note)
        .await?)
}

/// Offers a lost reason again or stops offering it.
pub async fn set_lost_reason_active(
    store: &Store,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<(), AppError> {
    require(actor, Permission::ManagePipelines)?;
    Ok(store.set_lost_reason_active(actor, id, active).await?)
}

/// The lost reasons on offer.
pub async fn lost_reasons(store: &Store, actor: &Actor) -> Result<Vec<LostReason>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.lost_reasons().await?)
}

/// Creates a deal for a customer the actor sees, with its custom fields (the required ones
/// must be given); every problem of the deal and of its fields is named in one answer.
pub async fn create(
    store: &Store,
    actor: &Actor,
    input: &OpportunityInput,
) -> Result<Opportunity, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let cat = custom_field::catalogue(store, FieldEntity::Opportunity).await?;
    let (o, custom) = ValidationErrors::both(
        input.validate(),
        custom_field::checked_changes(actor, &cat, None, &input.custom, None),
    )?;
    Ok(store.create_opportunity_with(actor, &o, &custom).await?)
}

/// Changes a deal's fields at the version the client read. Handing it to another owner
/// needs `ReassignCustomers`, as for customers.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &OpportunityInput,
) -> Result<Opportunity, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let current = if input.owner_id.is_some() || !input.custom.is_empty() {
        Some(store.get_opportunity(actor, id).await?)
    } else {
        None
    };
    // Custom values sent change those fields only (the rest stay): checked against what is
    // stored, so a required field may not be cleared.
    let custom = match &current {
        Some(_) if !input.custom.is_empty() => {
            let cat = custom_field::catalogue(store, FieldEntity::Opportunity).await?;
            let before = store.record_custom_values(&cat.fields, id).await?;
            custom_field::checked_changes(actor, &cat, None, &input.custom, Some(&before))
        }
        _ => Ok(Vec::new()),
    };
    let (o, custom) = ValidationErrors::both(input.validate(), custom)?;
    if let (Some(owner), Some(current)) = (o.owner_id, &current) {
        if current.owner_id != Some(owner) && owner != actor.id {
            require(actor, Permission::ReassignCustomers)?;
        }
    }
    Ok(store
        .update_opportunity_with(actor, id, &o, &custom)
        .await?)
}

/// A deals query as given (the page's form or the API's query string).
#[derive(Debug, Clone, Copy, Default)]
pub struct DealParams<'a> {
    /// One pipeline.
    pub pipeline_id: Option<i64>,
    /// One stage.
    pub stage_id: Option<i64>,
    /// `open`, `won` or `lost`.
    pub status: Option<&'a str>,
    /// `mine`, or an owner's user id.
    pub owner: Option<&'a str>,
    /// Expected to close on or after.
    pub close_from: Option<chrono::NaiveDate>,
    /// Expected to close before.
    pub close_to: Option<chrono::NaiveDate>,
    /// One source.
    pub source: Option<&'a str>,
    /// The `next` cursor of the previous page.
    pub before: Option<&'a str>,
}

/// The filter a deals query (page or API) asks for; a bad value names its parameter.
pub fn deal_filter(
    q: &DealParams<'_>,
    me: i64,
) -> Result<guanxi_store::pipeline::DealFilter, guanxi_domain::ValidationErrors> {
    use guanxi_domain::pipeline::OpportunityStatus;
    let mut e = guanxi_domain::ValidationErrors::new();
    let status = match q.status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => OpportunityStatus::parse(s)
            .map_err(|_| e.push("status", "invalid_choice"))
            .ok(),
    };
    let owner_id = match q.owner.filter(|s| !s.is_empty()) {
        None => None,
        Some("mine") => Some(me),
        Some(o) => o.parse::<i64>().ok().filter(|i| *i > 0).or_else(|| {
            e.push("owner", "invalid_choice");
            None
        }),
    };
    // The same `<ms>.<id>` pair as the timeline's cursor.
    let before = match q.before.filter(|s| !s.is_empty()) {
        None => None,
        Some(b) => match guanxi_domain::records::TimelineCursor::parse(b) {
            Some(c) => Some((c.at_ms, c.event_id)),
            None => {
                e.push("before", "invalid_cursor");
                None
            }
        },
    };
    for (field, id) in [("pipeline_id", q.pipeline_id), ("stage_id", q.stage_id)] {
        if id.is_some_and(|i| i < 1) {
            e.push(field, "out_of_range");
        }
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(guanxi_store::pipeline::DealFilter {
        pipeline_id: q.pipeline_id,
        stage_id: q.stage_id,
        status,
        owner_id,
        close_from: q.close_from,
        close_to: q.close_to,
        source: q
            .source
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        before,
        custom: Vec::new(),
    })
}

/// A page of the deals the actor sees, with their custom values.
pub async fn list(
    store: &Store,
    actor: &Actor,
    filter: &guanxi_store::pipeline::DealFilter,
) -> Result<guanxi_store::pipeline::DealPage, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    let mut page = store.list_opportunities(actor, filter).await?;
    custom_field::fill_list(
        store,
        actor,
        FieldEntity::Opportunity,
        &mut page.deals,
        |d| d.id,
        |d, v| d.custom = v,
    )
    .await?;
    Ok(page)
}

/// One deal within the actor's scope.
pub async fn get(store: &Store, actor: &Actor, id: i64) -> Result<Opportunity, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.get_opportunity(actor, id).await?)
}

/// A deal's moves, oldest first.
pub async fn history(store: &Store, actor: &Actor, id: i64) -> Result<Vec<StageChange>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.stage_history(actor, id).await?)
}

/// Moves a deal at the version the client read.
pub async fn move_to(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &MoveInput,
) -> Result<Opportunity, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    let m = input.validate()?;
    Ok(store.move_opportunity(actor, id, &m).await?)
}

/// A pipeline's kanban.
pub async fn board(store: &Store, actor: &Actor, pipeline: i64) -> Result<Board, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    Ok(store.board(actor, pipeline).await?)
}

/// The weighted forecast over whole months `[from, to)` (first days of months, at most
/// [`MAX_FORECAST_MONTHS`] apart).
pub async fn forecast(
    store: &Store,
    actor: &Actor,
    pipeline: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ForecastRow>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let mut e = ValidationErrors::new();
    if from.day() != 1 || to.day() != 1 {
        e.push("from", "not_a_month_start");
    }
    if months < 1 || months > MAX_FORECAST_MONTHS as i32 {
        e.push("to", "out_of_range");
    }
    if !e.is_empty() {
        return Err(AppError::InvalidQuery(e));
    }
    Ok(store.forecast(actor, pipeline, from, to).await?)
}

/// The funnel, win rate by source, won cycle and time in stage of a pipeline's deals created
/// in `[from, to)` (at most two years).
pub async fn figures(
    store: &Store,
    actor: &Actor,
    pipeline: i64,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<PipelineFigures, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    if to <= from || to - from > chrono::Duration::days(731) {
        return Err(AppError::InvalidQuery(ValidationErrors::single(
            "to",
            "out_of_range",
        )));
    }
    Ok(store.pipeline_figures(actor, pipeline, from, to).await?)
}

/// Creates the order of a won deal (once) and links it.
pub async fn order_from(store: &Store, actor: &Actor, id: i64) -> Result<Opportunity, AppError> {
    require(actor, Permission::WorkOpportunities)?;
    require(actor, Permission::WriteOrders)?;
    Ok(store.order_from_opportunity(actor, id).await?)
}

/// Open deals untouched for `days` days (1–365): a rep's own, everyone's they see for others.
pub async fn stale(
    store: &Store,
    actor: &Actor,
    days: i64,
    limit: i64,
) -> Result<Vec<guanxi_store::pipeline::OpportunityCard>, AppError> {
    require(actor, Permission::ReadOpportunities)?;
    if !(1..=365).contains(&days) {
        return Err(AppError::InvalidQuery(ValidationErrors::single(
            "days",
            "out_of_range",
        )));
    }
    let mine = actor.role == guanxi_domain::role::Role::Sales;
    let before = chrono::Utc::now() - chrono::Duration::days(days);
    Ok(store
        .stale_opportunities(actor, mine, before, limit.clamp(1, 100))
        .await?)
}
