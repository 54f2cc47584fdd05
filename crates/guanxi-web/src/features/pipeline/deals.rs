//! The deals list (`/opportunities`): every deal the reader sees, filtered by pipeline, stage,
//! status, owner, close dates, source and custom fields, the most recently changed first, 50 a
//! page, with a column per custom field.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use guanxi_app::pipeline as uc;
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::pipeline::OpportunityStatus;
use guanxi_domain::ValidationError;
use guanxi_text::format;

use crate::features::custom_field::list::{CustomFilterView, ListFields};
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{field_messages, page_err, Ctx, FormData, UiError, UiUser};

struct DealRow {
    id: i64,
    name: String,
    customer_id: i64,
    customer: String,
    stage: String,
    status: String,
    status_code: String,
    owner: String,
    amount: String,
    weighted: String,
    close: String,
    /// One cell per custom field.
    custom: Vec<String>,
}

#[derive(Template)]
#[template(path = "pipeline/deals.html")]
struct DealsTpl {
    ctx: Ctx,
    rows: Vec<DealRow>,
    /// The filters as given, for the form and the next page's link.
    v: HashMap<String, String>,
    query: String,
    next: Option<String>,
    pipelines: Vec<(i64, String)>,
    stages: Vec<(i64, String)>,
    statuses: Vec<(String, String)>,
    users: Vec<(i64, String)>,
    custom_filters: Vec<CustomFilterView>,
    /// The custom fields' column headings.
    custom_headings: Vec<String>,
}

impl DealsTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// The list.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let mut errs: Vec<ValidationError> = Vec::new();
    let date = |k: &str, errs: &mut Vec<ValidationError>| {
        q.get(k).and_then(|d| {
            d.parse()
                .map_err(|_| errs.push(ValidationError::new(k, "invalid_date")))
                .ok()
        })
    };
    let query = uc::DealParams {
        pipeline_id: q.int("pipeline_id", "pipeline_id", &mut errs),
        stage_id: q.int("stage_id", "stage_id", &mut errs),
        status: q.get("status"),
        owner: q.get("owner"),
        close_from: date("close_from", &mut errs),
        close_to: date("close_to", &mut errs),
        source: q.get("source"),
        before: q.get("before"),
    };
    let bad = |errs: &[ValidationError]| {
        UiError::Invalid(l, StatusCode::BAD_REQUEST, field_messages(l, errs))
    };
    if !errs.is_empty() {
        return Err(bad(&errs));
    }
    let mut f = uc::deal_filter(&query, user.actor.id).map_err(|e| bad(&e.0))?;
    let users = user_names(&st, &user).await?;
    let fields = ListFields::of(&st, &user, FieldEntity::Opportunity, &users).await?;
    f.custom = fields.filters(&st, &user, &q).await?;
    let page = uc::list(&st.store, &user.actor, &f)
        .await
        .map_err(page_err(l))?;
    let pipelines = uc::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = users.iter().cloned().collect();
    let ctx = user.ctx("pipeline.deals");
    let stage_names: HashMap<i64, String> = pipelines
        .iter()
        .flat_map(|p| p.stages.iter())
        .map(|s| (s.id, super::pages::stage_name(&ctx, s)))
        .collect();
    let v: HashMap<String, String> = q
        .pairs()
        .iter()
        .filter(|(k, _)| k != "before")
        .cloned()
        .collect();
    let query_string = v
        .iter()
        .map(|(k, x)| format!("{}={}", k, crate::ui::session::urlencode(x)))
        .collect::<Vec<_>>()
        .join("&");
    let tpl = DealsTpl {
        rows: page
            .deals
            .iter()
            .map(|d| DealRow {
                id: d.id,
                name: d.name.clone(),
                customer_id: d.customer_id,
                customer: d.customer_name.clone(),
                stage: stage_names.get(&d.stage_id).cloned().unwrap_or_default(),
                status: ctx.label("stage_kind", d.status.as_str()),
                status_code: d.status.as_str().to_string(),
                owner: d
                    .owner_id
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_default(),
                amount: format::money(d.amount_minor, &d.currency),
                weighted: format::money(d.weighted_minor, &d.currency),
                close: d.expected_close.map(|c| c.to_string()).unwrap_or_default(),
                custom: fields.cells(&user, &d.custom),
            })
            .collect(),
        query: query_string,
        next: page.next,
        stages: pipelines
            .iter()
            .filter(|p| f.pipeline_id.is_none_or(|id| id == p.id))
            .flat_map(|p| p.stages.iter().filter(|s| !s.retired))
            .map(|s| (s.id, super::pages::stage_name(&ctx, s)))
            .collect(),
        pipelines: pipelines.iter().map(|p| (p.id, p.name.clone())).collect(),
        statuses: OpportunityStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), ctx.label("stage_kind", s.as_str())))
            .collect(),
        users,
        custom_filters: fields.inputs(&user, &ctx, &q),
        custom_headings: fields.headings(&user),
        v,
        ctx,
    };
    Ok(render(l, &tpl))
}
