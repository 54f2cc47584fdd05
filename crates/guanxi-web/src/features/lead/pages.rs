//! Leads as pages: the list (by status; the rep's own, the pool, all they see), entering one
//! (from an unknown caller's number too), a lead's page with the customers and leads it may
//! already be and its actions — qualify, convert (into a match or a new customer, with a
//! deal), disqualify with a reason, reopen — the CSV import, and the capture forms.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::lead as uc;
use guanxi_domain::lead::{
    ConvertDeal, ConvertInput, DisqualifyInput, DisqualifyReason, LeadInput, LeadOrigin, LeadStatus,
};
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::lead::{Lead, LeadForm};
use guanxi_text::format;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, page_refusal, Ctx, FormData, Submitted, UiError, UiUser,
};

/// A lead as a list row or a page shows it.
struct LeadView {
    id: i64,
    who: String,
    company: String,
    contact: String,
    status: String,
    status_code: String,
    origin: String,
    source: String,
    owner: String,
    at: String,
    message: String,
}

fn view(ctx: &Ctx, l: &Lead, names: &HashMap<i64, String>, tz: chrono::FixedOffset) -> LeadView {
    LeadView {
        id: l.id,
        who: l
            .name
            .clone()
            .or_else(|| l.company.clone())
            .unwrap_or_default(),
        company: l.company.clone().unwrap_or_default(),
        contact: [&l.mobile, &l.email, &l.wechat]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" · "),
        status: ctx.label("lead_status", &l.status),
        status_code: l.status.clone(),
        origin: ctx.label("lead_origin", &l.origin),
        source: l.source.clone().unwrap_or_default(),
        owner: l
            .owner_id
            .and_then(|o| names.get(&o).cloned())
            .unwrap_or_default(),
        at: format::datetime(l.created(), tz),
        message: l.message.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "lead/list.html")]
struct ListTpl {
    ctx: Ctx,
    leads: Vec<LeadView>,
    status: String,
    owner: String,
    next: Option<String>,
    statuses: Vec<(String, String)>,
    can_work: bool,
    can_manage: bool,
}

/// The list: `?status=`, `?owner=mine|pool`, `?before=` (the next page).
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let f = uc::filter_of(q.get("status"), q.get("owner"), q.get("before"))
        .map_err(|e| UiError::Invalid(l, StatusCode::BAD_REQUEST, field_messages(l, &e.0)))?;
    let page = uc::list(&st.store, &user.actor, &f)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let ctx = user.ctx("lead.title");
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ListTpl {
        leads: page
            .leads
            .iter()
            .map(|x| view(&ctx, x, &names, tz))
            .collect(),
        status: q.get("status").unwrap_or("").to_string(),
        owner: q.get("owner").unwrap_or("").to_string(),
        next: page.next,
        statuses: LeadStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), ctx.label("lead_status", s.as_str())))
            .collect(),
        can_work: user.actor.can(Permission::WorkOpportunities),
        can_manage: user.actor.can(Permission::ManagePipelines),
        ctx,
    };
    Ok(render(l, &tpl))
}

#[derive(Template)]
#[template(path = "lead/new.html")]
struct NewTpl {
    ctx: Ctx,
    v: HashMap<String, String>,
    errors: Vec<String>,
}

impl NewTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

fn new_page(
    user: &UiUser,
    v: HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let tpl = NewTpl {
        ctx: user.ctx("lead.new"),
        v,
        errors,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    r
}

/// The new-lead form; `?mobile=` and `?origin=call` from an unknown caller's search.
pub async fn new(user: UiUser, q: FormData) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let v = q
        .pairs()
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "mobile" | "origin"))
        .cloned()
        .collect();
    Ok(new_page(&user, v, Vec::new(), StatusCode::OK))
}

/// The lead a form (the new-lead form, the public form) describes.
pub(super) fn lead_of(form: &FormData) -> LeadInput {
    let text = |k: &str| form.get(k).map(str::to_string);
    LeadInput {
        name: text("name"),
        company: text("company"),
        job_title: text("job_title"),
        mobile: text("mobile"),
        email: text("email"),
        wechat: text("wechat"),
        city: text("city"),
        message: text("message"),
        source: text("source"),
        campaign_id: None,
        owner_id: None,
        consent_marketing: form.get("consent_marketing").is_some(),
    }
}

/// Enters the lead and opens it; bad input is named on the form (422).
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let origin = if form.get("origin") == Some("call") {
        LeadOrigin::Call
    } else {
        LeadOrigin::Manual
    };
    let errs = match uc::create(&st.store, &user.actor, &lead_of(&form), origin).await {
        Ok(l) => return Ok(Redirect::to(&format!("/leads/{}", l.id)).into_response()),
        Err(e) => form_refusal(user.locale, e)?.1,
    };
    Ok(new_page(
        &user,
        form.pairs().iter().cloned().collect(),
        field_messages(user.locale, &errs),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

#[derive(Template)]
#[template(path = "lead/show.html")]
struct ShowTpl {
    ctx: Ctx,
    lead: Lead,
    v: LeadView,
    customers: Vec<DuplicateCandidate>,
    others: Vec<LeadView>,
    pipelines: Vec<(i64, String)>,
    reasons: Vec<(String, String)>,
    disqualify_reason: String,
    can_work: bool,
    errors: Vec<String>,
    conflict: bool,
    /// Candidates a conversion stopped on (offer them, and "create anyway").
    stopped_on: Vec<DuplicateCandidate>,
}

impl ShowTpl {
    fn open(&self) -> bool {
        matches!(self.lead.status(), LeadStatus::New | LeadStatus::Qualified)
    }
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    errors: Vec<String>,
    conflict: bool,
    stopped_on: Vec<DuplicateCandidate>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let lead = uc::get(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let (customers, others) = uc::matches(&st.store, &user.actor, &lead)
        .await
        .map_err(page_err(l))?;
    let pipelines = guanxi_app::pipeline::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(st, user).await?.into_iter().collect();
    let ctx = user.ctx("lead.lead");
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ShowTpl {
        v: view(&ctx, &lead, &names, tz),
        others: others.iter().map(|x| view(&ctx, x, &names, tz)).collect(),
        customers,
        pipelines: pipelines
            .iter()
            .filter(|p| p.active)
            .map(|p| (p.id, p.name.clone()))
            .collect(),
        reasons: DisqualifyReason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), ctx.label("lead_reason", r.as_str())))
            .collect(),
        disqualify_reason: lead
            .disqualify_reason
            .as_deref()
            .map(|r| ctx.label("lead_reason", r))
            .unwrap_or_default(),
        can_work: user.actor.can(Permission::WorkOpportunities),
        errors,
        conflict,
        stopped_on,
        lead,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// A lead's page.
pub async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    show_page(
        &st,
        &user,
        id,
        Vec::new(),
        false,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// After an action: back to the lead (or to what it became), or the lead's page with the
/// refusal — the conflict box (409), the fields (422), the duplicates it stopped on (409).
async fn after(
    st: &AppState,
    user: &UiUser,
    id: i64,
    result: Result<Lead, guanxi_app::AppError>,
) -> Result<Response, UiError> {
    match result {
        Ok(l) => Ok(Redirect::to(&format!("/leads/{}", l.id)).into_response()),
        Err(guanxi_app::AppError::PossibleDuplicate(c)) => {
            show_page(st, user, id, Vec::new(), false, c, StatusCode::CONFLICT).await
        }
        Err(e) => {
            let (status, conflict, msgs) = page_refusal(user.locale, e)?;
            show_page(st, user, id, msgs, conflict, Vec::new(), status).await
        }
    }
}

fn version_of(form: &FormData) -> Result<i64, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let v = form.int("version", "version", &mut errs).unwrap_or(0);
    if errs.is_empty() {
        Ok(v)
    } else {
        Err(errs)
    }
}

/// Qualifies the lead.
pub async fn qualify(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match version_of(&form) {
        Ok(v) => uc::qualify(&st.store, &user.actor, id, v).await,
        Err(e) => Err(guanxi_domain::ValidationErrors(e).into()),
    };
    after(&st, &user, id, r).await
}

/// Reopens a disqualified lead.
pub async fn reopen(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match version_of(&form) {
        Ok(v) => uc::reopen(&st.store, &user.actor, id, v).await,
        Err(e) => Err(guanxi_domain::ValidationErrors(e).into()),
    };
    after(&st, &user, id, r).await
}

/// Disqualifies the lead with the reason picked.
pub async fn disqualify(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match (
        version_of(&form),
        DisqualifyReason::parse(form.get("reason").unwrap_or("")),
    ) {
        (Ok(version), Ok(reason)) => {
            let d = DisqualifyInput {
                reason,
                note: form.get("note").map(str::to_string),
                version,
            };
            uc::disqualify(&st.store, &user.actor, id, &d).await
        }
        (Err(e), _) => Err(guanxi_domain::ValidationErrors(e).into()),
        (_, Err(_)) => {
            Err(guanxi_domain::ValidationErrors::single("reason", "invalid_choice").into())
        }
    };
    after(&st, &user, id, r).await
}

/// Converts the lead: into the customer picked among the matches (`customer_id`) or a new one
/// (`allow_duplicate` to insist), with a deal when `deal` is ticked.
pub async fn convert(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut errs = Vec::new();
    let version = form.int("version", "version", &mut errs).unwrap_or(0);
    let customer_id = form.int("customer_id", "customer_id", &mut errs);
    let pipeline_id = form.int("pipeline_id", "opportunity.pipeline_id", &mut errs);
    let amount_minor = match form.get("amount").map(parse_money) {
        None => 0,
        Some(Ok(a)) => a,
        Some(Err(code)) => {
            errs.push(ValidationError::new("opportunity.amount_minor", code));
            0
        }
    };
    let expected_close = form.get("expected_close").and_then(|d| {
        d.parse()
            .map_err(|_| {
                errs.push(ValidationError::new(
                    "opportunity.expected_close",
                    "invalid_date",
                ))
            })
            .ok()
    });
    let r = if errs.is_empty() {
        let c = ConvertInput {
            version,
            customer_id,
            allow_duplicate: form.get("allow_duplicate").is_some(),
            opportunity: form.get("deal").map(|_| ConvertDeal {
                name: form.get("deal_name").map(str::to_string),
                pipeline_id: pipeline_id.unwrap_or(1),
                amount_minor,
                expected_close,
            }),
        };
        uc::convert(&st.store, &user.actor, id, &c).await
    } else {
        Err(guanxi_domain::ValidationErrors(errs).into())
    };
    after(&st, &user, id, r).await
}

#[derive(Template)]
#[template(path = "lead/import.html")]
struct ImportTpl {
    ctx: Ctx,
    errors: Vec<String>,
    imported: Option<usize>,
}

/// The import form: a CSV with a header row (Chinese or English column names).
pub async fn import_form(user: UiUser, q: FormData) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let imported = q.get("imported").and_then(|n| n.parse().ok());
    let tpl = ImportTpl {
        ctx: user.ctx("lead.import"),
        errors: Vec::new(),
        imported,
    };
    Ok(render(user.locale, &tpl))
}

/// Imports the uploaded CSV, all or none: the problems are listed row by row (422).
pub async fn import(
    State(st): State<AppState>,
    Submitted { user, mut form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let files = form.take_files();
    let result = match files.first() {
        None => Err(guanxi_domain::ValidationErrors::single("file", "required").into()),
        Some((_, bytes)) => match uc::rows_from_csv(bytes) {
            Ok(rows) => uc::import(&st.store, &user.actor, &rows).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(ids) => {
            Ok(Redirect::to(&format!("/leads/import?imported={}", ids.len())).into_response())
        }
        Err(e) => {
            let (_, errs) = form_refusal(user.locale, e)?;
            let tpl = ImportTpl {
                ctx: user.ctx("lead.import"),
                errors: field_messages(user.locale, &errs),
                imported: None,
            };
            let mut r = render(user.locale, &tpl);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

#[derive(Template)]
#[template(path = "lead/forms.html")]
struct FormsTpl {
    ctx: Ctx,
    forms: Vec<(LeadForm, String)>,
    users: Vec<(i64, String)>,
    errors: Vec<String>,
}

async fn forms_page(
    st: &AppState,
    user: &UiUser,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let forms = uc::forms(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let users = user_names(st, user).await?;
    let names: HashMap<i64, String> = users.iter().cloned().collect();
    let tpl = FormsTpl {
        ctx: user.ctx("lead.forms"),
        forms: forms
            .into_iter()
            .map(|f| {
                let owner = f
                    .owner_id
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_default();
                (f, owner)
            })
            .collect(),
        users,
        errors,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The capture forms with their public addresses and embed code.
pub async fn forms(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManagePipelines)?;
    forms_page(&st, &user, Vec::new(), StatusCode::OK).await
}

/// Adds a capture form.
pub async fn create_form(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManagePipelines)?;
    let mut errs = Vec::new();
    let owner = form.int("owner_id", "owner_id", &mut errs);
    let r = if errs.is_empty() {
        uc::create_form(
            &st.store,
            &user.actor,
            form.get("name").unwrap_or(""),
            form.get("source"),
            None,
            owner,
        )
        .await
        .map(|_| ())
    } else {
        Err(guanxi_domain::ValidationErrors(errs).into())
    };
    match r {
        Ok(()) => Ok(Redirect::to("/leads/forms").into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            forms_page(&st, &user, field_messages(user.locale, &errs), status).await
        }
    }
}

/// Switches a capture form on or off (`active=1|0`).
pub async fn toggle_form(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManagePipelines)?;
    uc::set_form_active(&st.store, &user.actor, id, form.get("active") == Some("1"))
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to("/leads/forms").into_response())
}
