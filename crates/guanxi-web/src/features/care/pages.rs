//! The care list and the care plans as pages.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use guanxi_app::care as uc;
use guanxi_domain::care::{CarePlanInput, Occasion, OccasionKind, TouchInput, TouchKind};
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_domain::ValidationError;
use guanxi_store::care::{CareEntry, CarePlanRecord, CareTouch};

use crate::features::customers::list::user_names;
use crate::features::customers::profile::{anniversary_text, days_text};
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

/// One line of the care list as the page shows it.
struct EntryView {
    anchor: String,
    customer_id: i64,
    customer: String,
    owner: String,
    occasion: &'static str,
    occasion_label: String,
    whose: String,
    date: String,
    on: String,
    when: String,
    years: String,
    given: String,
    before: String,
}

#[derive(Template)]
#[template(path = "care/list.html")]
struct ListTpl {
    ctx: Ctx,
    days: i64,
    everyone: bool,
    total: i64,
    more: bool,
    entries: Vec<EntryView>,
    festivals: Vec<(String, String, String)>,
    kinds: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    flash: String,
    errors: Vec<String>,
    can_write: bool,
    can_plan: bool,
}

fn touch_text(ctx: &Ctx, t: &CareTouch, names: &HashMap<i64, String>) -> String {
    let mut parts = vec![
        t.occasion_on.to_string(),
        ctx.label("care_touch_kind", t.kind.as_str()),
    ];
    if let Some(c) = t.channel {
        parts.push(ctx.label("interaction_channel", c.as_str()));
    }
    if let Some(n) = &t.note {
        parts.push(n.clone());
    }
    if let Some(u) = t.user_id.and_then(|u| names.get(&u)) {
        parts.push(u.clone());
    }
    parts.join(" · ")
}

fn entry_view(
    ctx: &Ctx,
    e: &CareEntry,
    today: NaiveDate,
    names: &HashMap<i64, String>,
) -> EntryView {
    let years = e.date.years_at(e.on);
    EntryView {
        anchor: format!("care-{}-{}-{}", e.customer_id, e.kind.as_str(), e.on),
        customer_id: e.customer_id,
        customer: e.customer_name.clone(),
        owner: e
            .owner_id
            .and_then(|o| names.get(&o).cloned())
            .unwrap_or_default(),
        occasion: e.kind.as_str(),
        occasion_label: ctx.label("care_occasion", e.kind.as_str()),
        whose: e.label.clone().unwrap_or_default(),
        date: anniversary_text(ctx, &e.date),
        on: e.on.to_string(),
        when: days_text(ctx, (e.on - today).num_days()),
        years: match years {
            Some(n) => {
                let key = match e.kind {
                    OccasionKind::Wedding | OccasionKind::CustomerSince => "care.years",
                    _ => "care.age",
                };
                ctx.tf(key, &[("n", &n.to_string())])
            }
            None => String::new(),
        },
        given: e
            .given
            .as_ref()
            .map(|t| touch_text(ctx, t, names))
            .unwrap_or_default(),
        before: e
            .before
            .as_ref()
            .map(|t| touch_text(ctx, t, names))
            .unwrap_or_default(),
    }
}

fn query_days(q: &FormData) -> i64 {
    q.get("days").and_then(|d| d.parse().ok()).unwrap_or(7)
}

async fn list_page(
    st: &AppState,
    user: &UiUser,
    q: &FormData,
    flash: String,
    errors: Vec<String>,
) -> Result<Response, UiError> {
    let days = query_days(q);
    let everyone = q.get("owner") == Some("all");
    let today = st.as_of().today;
    let view = uc::care_list(
        &st.store,
        &user.actor,
        uc::CareQuery {
            owner: everyone.then_some(0),
            days,
        },
        today,
    )
    .await
    .map_err(page_err(user.locale))?;
    let names: HashMap<i64, String> = user_names(st, user).await?.into_iter().collect();
    let ctx = user.ctx("care.title");
    let entries = view
        .list
        .entries
        .iter()
        .map(|e| entry_view(&ctx, e, today, &names))
        .collect();
    let festivals = view
        .festivals
        .iter()
        .map(|f| {
            (
                f.festival.as_str().to_string(),
                ctx.label("care_festival", f.festival.as_str()),
                format!("{} · {}", f.on, days_text(&ctx, (f.on - today).num_days())),
            )
        })
        .collect();
    let tpl = ListTpl {
        days,
        everyone,
        total: view.list.total,
        more: view.list.more,
        entries,
        festivals,
        kinds: TouchKind::ALL
            .iter()
            .map(|k| (k.as_str(), ctx.label("care_touch_kind", k.as_str())))
            .collect(),
        channels: InteractionChannel::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label("interaction_channel", c.as_str())))
            .collect(),
        flash,
        errors,
        can_write: user.actor.can(Permission::WriteCustomers),
        can_plan: user.actor.can(Permission::ManageCare),
        ctx,
    };
    Ok(render(user.locale, &tpl))
}

/// The care list (`?days=7&owner=all`): the reader's customers by default.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let flash = if q.get("recorded").is_some() {
        user.ctx("care.title").t("care.recorded").to_string()
    } else {
        String::new()
    };
    list_page(&st, &user, &q, flash, Vec::new()).await
}

fn touch_of(form: &FormData) -> Result<TouchInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let customer_id = form.get("customer_id").and_then(|c| c.parse().ok());
    if customer_id.is_none() {
        errs.push(ValidationError::new("customer_id", "required"));
    }
    let occasion_on = form.get("occasion_on").and_then(|d| d.parse().ok());
    if occasion_on.is_none() {
        errs.push(ValidationError::new("occasion_on", "invalid_date"));
    }
    let kind = form.get("kind").map(TouchKind::parse);
    if !matches!(kind, Some(Ok(_))) {
        errs.push(ValidationError::new("kind", "unknown_value"));
    }
    let channel = match form.get("channel").map(InteractionChannel::parse) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(code)) => {
            errs.push(ValidationError::new("channel", code));
            None
        }
    };
    match (customer_id, occasion_on, kind) {
        (Some(customer_id), Some(occasion_on), Some(Ok(kind))) if errs.is_empty() => {
            Ok(TouchInput {
                customer_id,
                occasion: form.get("occasion").unwrap_or("").to_string(),
                occasion_on,
                kind,
                channel,
                note: form.get("note").map(String::from),
            })
        }
        _ => Err(errs),
    }
}

/// Records a greeting, gift or coupon from the care list, and goes back to its line.
pub async fn record(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let result = match touch_of(&form) {
        Ok(t) => match uc::record_touch(&st.store, &user.actor, &t, st.as_of().today).await {
            Ok(t) => Ok(t),
            // A customer not seen, or no right to write: the error page, not the form.
            Err(e) => Err(form_refusal(user.locale, e)?.1),
        },
        Err(errs) => Err(errs),
    };
    let days = query_days(&form);
    let owner = if form.get("owner") == Some("all") {
        "&owner=all"
    } else {
        ""
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!(
            "/care?days={days}{owner}&recorded={}#care-{}-{}-{}",
            t.id, t.customer_id, t.occasion, t.occasion_on
        ))
        .into_response()),
        Err(errs) => {
            let mut r = list_page(
                &st,
                &user,
                &form,
                String::new(),
                field_messages(user.locale, &errs),
            )
            .await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

/// One plan as the page lists it.
struct PlanView {
    p: CarePlanRecord,
    occasion: String,
    segment: String,
}

#[derive(Template)]
#[template(path = "care/plans.html")]
struct PlansTpl {
    ctx: Ctx,
    plans: Vec<PlanView>,
    occasions: Vec<(String, String)>,
    segments: Vec<(i64, String)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    preview: Option<i64>,
}

impl PlansTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

async fn plans_page(
    st: &AppState,
    user: &UiUser,
    v: HashMap<String, String>,
    errors: Vec<String>,
    preview: Option<i64>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let plans = uc::list_plans(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let segments = uc::plan_segments(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let seg_names: HashMap<i64, String> = segments.iter().cloned().collect();
    let ctx = user.ctx("care.plans");
    let occasion_label = |code: &str| match Occasion::parse(code) {
        Ok(Occasion::Customer(k)) => ctx.label("care_occasion", k.as_str()),
        Ok(Occasion::Festival(f)) => ctx.label("care_festival", f.as_str()),
        Err(_) => code.to_string(),
    };
    let tpl = PlansTpl {
        plans: plans
            .into_iter()
            .map(|p| PlanView {
                occasion: occasion_label(&p.occasion),
                segment: p
                    .segment_id
                    .map(|s| {
                        seg_names
                            .get(&s)
                            .cloned()
                            .unwrap_or_else(|| format!("#{s}"))
                    })
                    .unwrap_or_default(),
                p,
            })
            .collect(),
        occasions: Occasion::all()
            .into_iter()
            .map(|o| {
                let code = o.code();
                let label = occasion_label(&code);
                (code, label)
            })
            .collect(),
        segments,
        v,
        errors,
        preview,
        ctx,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The care plans with the form for a new one.
pub async fn plans(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let mut v = HashMap::new();
    v.insert("days_before".to_string(), "3".to_string());
    plans_page(&st, &user, v, Vec::new(), None, StatusCode::OK).await
}

fn plan_of(form: &FormData) -> Result<CarePlanInput, Vec<ValidationError>> {
    let days_before = form
        .get("days_before")
        .unwrap_or("0")
        .parse::<i64>()
        .map_err(|_| vec![ValidationError::new("days_before", "invalid_type")])?;
    let segment_id = match form.get("segment_id") {
        None => None,
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| vec![ValidationError::new("segment_id", "invalid_type")])?,
        ),
    };
    Ok(CarePlanInput {
        name: form.get("name").unwrap_or("").to_string(),
        occasion: form.get("occasion").unwrap_or("").to_string(),
        days_before,
        segment_id,
        task_title: form.get("task_title").unwrap_or("").to_string(),
        active: form.get("active").is_some(),
    })
}

/// Saves a new plan, or (the "preview" button) counts whom it would reach today.
pub async fn create_plan(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let input = match plan_of(&form) {
        Ok(i) => i,
        Err(errs) => {
            let errors = field_messages(user.locale, &errs);
            return plans_page(
                &st,
                &user,
                form.values(),
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if form.get("preview").is_some() {
        return match uc::preview_plan(&st.store, &user.actor, &input, st.as_of()).await {
            Ok(n) => {
                plans_page(
                    &st,
                    &user,
                    form.values(),
                    Vec::new(),
                    Some(n),
                    StatusCode::OK,
                )
                .await
            }
            Err(e) => refused(&st, &user, form.values(), e).await,
        };
    }
    match uc::create_plan(&st.store, &user.actor, &input).await {
        Ok(_) => Ok(Redirect::to("/care/plans").into_response()),
        Err(e) => refused(&st, &user, form.values(), e).await,
    }
}

/// A plan the use case refused: its form again with the field errors (422, or 409 for a
/// stale version), or the error page for anything else (not found, forbidden).
async fn refused(
    st: &AppState,
    user: &UiUser,
    values: HashMap<String, String>,
    e: guanxi_app::AppError,
) -> Result<Response, UiError> {
    let (status, errs) = form_refusal(user.locale, e)?;
    plans_page(
        st,
        user,
        values,
        field_messages(user.locale, &errs),
        None,
        status,
    )
    .await
}

/// Switches a plan on or off (the list's button), at the version shown.
pub async fn update_plan(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCare)?;
    let p = uc::get_plan(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let version = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(p.version);
    let input = CarePlanInput {
        name: p.name,
        occasion: p.occasion,
        days_before: p.days_before,
        segment_id: p.segment_id,
        task_title: p.task_title,
        active: form.get("active") == Some("1"),
    };
    match uc::update_plan(&st.store, &user.actor, id, version, &input).await {
        Ok(_) => Ok(Redirect::to("/care/plans").into_response()),
        Err(e) => refused(&st, &user, HashMap::new(), e).await,
    }
}
