//! The pipeline's pages: the kanban (each card a form that moves it — by dragging it onto a
//! column, or by picking the stage with the keyboard — so both post the same move), a deal's
//! page (fields, products, stage history with time in stage, the move form with the lost
//! reason), the new-deal form and the weighted forecast.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Months, NaiveDate};
use guanxi_app::pipeline as uc;
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::money::parse_money;
use guanxi_domain::pipeline::{LineInput, MoveInput, OpportunityInput};
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_store::pipeline::{Board, Opportunity, Pipeline, Stage};
use guanxi_text::format;

use crate::features::custom_field::{CustomInput, NewRecordFields};
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, page_refusal, Ctx, FormData, Submitted, UiError, UiUser,
};

/// Product rows the new-deal form offers.
const LINE_ROWS: usize = 5;

/// A stage as a page shows it: id, name in the page language, kind.
struct StageView {
    id: i64,
    name: String,
    kind: String,
}

fn stage_view(ctx: &Ctx, s: &Stage) -> StageView {
    StageView {
        id: s.id,
        name: stage_name(ctx, s),
        kind: s.kind.clone(),
    }
}

pub(super) fn stage_name(ctx: &Ctx, s: &Stage) -> String {
    localized(ctx, &s.name, s.name_en.as_deref())
}

/// A name the admin gave in Chinese, with its English one shown on English pages when given.
fn localized(ctx: &Ctx, name: &str, name_en: Option<&str>) -> String {
    match (name_en, ctx.is_zh()) {
        (Some(en), false) => en.to_string(),
        _ => name.to_string(),
    }
}

struct CardView {
    id: i64,
    name: String,
    customer_id: i64,
    customer: String,
    owner: String,
    amount: String,
    weighted: String,
    probability: i64,
    close: String,
    days_in_stage: i64,
    version: i64,
}

struct ColumnView {
    stage: StageView,
    count: i64,
    amount: String,
    weighted: String,
    cards: Vec<CardView>,
}

#[derive(Template)]
#[template(path = "pipeline/board.html")]
struct BoardTpl {
    ctx: Ctx,
    pipelines: Vec<(i64, String)>,
    pipeline_id: i64,
    stages: Vec<StageView>,
    columns: Vec<ColumnView>,
    can_work: bool,
    flash: String,
    back: String,
}

fn board_view(
    ctx: &Ctx,
    board: &Board,
    names: &HashMap<i64, String>,
    today: NaiveDate,
) -> Vec<ColumnView> {
    board
        .columns
        .iter()
        .map(|c| ColumnView {
            stage: stage_view(ctx, &c.stage),
            count: c.count,
            amount: format::money(c.amount_minor, "CNY"),
            weighted: format::money(c.weighted_minor, "CNY"),
            cards: c
                .cards
                .iter()
                .map(|d| CardView {
                    id: d.id,
                    name: d.name.clone(),
                    customer_id: d.customer_id,
                    customer: d.customer_name.clone(),
                    owner: d
                        .owner_id
                        .and_then(|o| names.get(&o).cloned())
                        .unwrap_or_default(),
                    amount: format::money(d.amount_minor, &d.currency),
                    weighted: format::money(d.weighted_minor, &d.currency),
                    probability: d.probability,
                    close: d.expected_close.map(|x| x.to_string()).unwrap_or_default(),
                    days_in_stage: (today - d.stage_entered_at.date_naive()).num_days().max(0),
                    version: d.version,
                })
                .collect(),
        })
        .collect()
}

/// The pipeline to show: the one asked for, else the first.
fn chosen(pipelines: &[Pipeline], q: &FormData) -> Option<i64> {
    let asked = q.get("pipeline_id").and_then(|p| p.parse::<i64>().ok());
    asked
        .filter(|a| pipelines.iter().any(|p| p.id == *a))
        .or_else(|| pipelines.first().map(|p| p.id))
}

/// The kanban (`?pipeline_id=`).
pub async fn board(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let pipelines = uc::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let ctx = user.ctx("pipeline.title");
    let Some(id) = chosen(&pipelines, &q) else {
        return Err(UiError::NotFound(l));
    };
    let board = uc::board(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let tpl = BoardTpl {
        pipelines: pipelines.iter().map(|p| (p.id, p.name.clone())).collect(),
        pipeline_id: id,
        stages: board
            .pipeline
            .stages
            .iter()
            .filter(|s| !s.retired)
            .map(|s| stage_view(&ctx, s))
            .collect(),
        columns: board_view(&ctx, &board, &names, st.as_of().today),
        can_work: user.actor.can(Permission::WorkOpportunities),
        flash: match q.get("moved") {
            Some(_) => ctx.t("pipeline.moved").to_string(),
            None => String::new(),
        },
        back: format!("/pipeline?pipeline_id={id}"),
        ctx,
    };
    Ok(render(l, &tpl))
}

struct ChangeView {
    at: String,
    from: String,
    to: String,
    days: String,
    who: String,
}

#[derive(Template)]
#[template(path = "pipeline/opportunity.html")]
struct ShowTpl {
    ctx: Ctx,
    o: Opportunity,
    /// The deal's custom fields (label, value).
    custom: Vec<crate::features::custom_field::ShownField>,
    can_edit_custom: bool,
    custom_edit: String,
    stage: String,
    status: String,
    owner: String,
    amount: String,
    weighted: String,
    lines: Vec<(String, String, i64, String, String)>,
    history: Vec<ChangeView>,
    stages: Vec<StageView>,
    reasons: Vec<(i64, String)>,
    lost_reason: String,
    can_work: bool,
    can_order: bool,
    errors: Vec<String>,
    conflict: bool,
    picked: i64,
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    errors: Vec<String>,
    conflict: bool,
    picked: Option<i64>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let o = uc::get(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let history = uc::history(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let pipeline = uc::pipeline(&st.store, &user.actor, o.pipeline_id)
        .await
        .map_err(page_err(l))?;
    let reasons = uc::lost_reasons(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(st, user).await?.into_iter().collect();
    let ctx = user.ctx("pipeline.opportunity");
    let tz = format::zone(st.utc_offset_hours);
    let name_of = |sid: Option<i64>| {
        sid.and_then(|s| pipeline.stage(s))
            .map(|s| stage_name(&ctx, s))
            .unwrap_or_default()
    };
    let reason_name =
        |r: &guanxi_store::pipeline::LostReason| localized(&ctx, &r.name, r.name_en.as_deref());
    let (custom, has_fields) = crate::features::custom_field::pages::shown_on_record(
        st,
        user,
        guanxi_domain::custom_field::FieldEntity::Opportunity,
        id,
    )
    .await?;
    let tpl = ShowTpl {
        custom,
        can_edit_custom: has_fields && user.actor.can(Permission::WorkOpportunities),
        custom_edit: format!("/opportunities/{id}/fields"),
        stage: name_of(Some(o.stage_id)),
        status: ctx.label("stage_kind", o.status.as_str()),
        owner: o
            .owner_id
            .and_then(|u| names.get(&u).cloned())
            .unwrap_or_default(),
        amount: format::money(o.amount_minor, &o.currency),
        weighted: format::money(o.weighted_minor, &o.currency),
        lines: o
            .lines
            .iter()
            .map(|x| {
                (
                    x.sku.clone(),
                    x.name.clone().unwrap_or_default(),
                    x.quantity,
                    format::money(x.unit_price_minor, &o.currency),
                    format::money(x.quantity.saturating_mul(x.unit_price_minor), &o.currency),
                )
            })
            .collect(),
        history: history
            .iter()
            .map(|h| ChangeView {
                at: format::datetime(
                    chrono::DateTime::from_timestamp_millis(h.at).unwrap_or_default(),
                    tz,
                ),
                from: name_of(h.from_stage_id),
                to: name_of(Some(h.to_stage_id)),
                days: h
                    .ms_in_from
                    .map(|ms| format!("{:.1}", ms as f64 / 86_400_000.0))
                    .unwrap_or_default(),
                who: h
                    .user_id
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_default(),
            })
            .collect(),
        stages: pipeline
            .stages
            .iter()
            .filter(|s| !s.retired)
            .map(|s| stage_view(&ctx, s))
            .collect(),
        lost_reason: o
            .lost_reason_id
            .and_then(|r| reasons.iter().find(|x| x.id == r))
            .map(reason_name)
            .unwrap_or_default(),
        reasons: reasons.iter().map(|r| (r.id, reason_name(r))).collect(),
        can_work: user.actor.can(Permission::WorkOpportunities),
        can_order: user.actor.can(Permission::WorkOpportunities)
            && user.actor.can(Permission::WriteOrders),
        errors,
        conflict,
        picked: picked.unwrap_or(o.stage_id),
        o,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// A deal's page.
pub async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    show_page(&st, &user, id, Vec::new(), false, None, StatusCode::OK).await
}

/// Moves a deal (the kanban's drag or select, the deal page's form): back where it came from
/// on success; a stale version shows the deal as it is now with the conflict box (409); a
/// loss without its reason asks for it on the deal's page (422).
pub async fn move_to(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let mut errs = Vec::new();
    let stage_id = form.int("stage_id", "stage_id", &mut errs).unwrap_or(0);
    let version = form.int("version", "version", &mut errs).unwrap_or(0);
    let lost_reason_id = form.int("lost_reason_id", "lost_reason_id", &mut errs);
    if !errs.is_empty() {
        let msgs = field_messages(user.locale, &errs);
        return show_page(
            &st,
            &user,
            id,
            msgs,
            false,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let m = MoveInput {
        stage_id,
        version,
        lost_reason_id,
        lost_note: form.get("lost_note").map(str::to_string),
    };
    match uc::move_to(&st.store, &user.actor, id, &m).await {
        Ok(_) => {
            let next = crate::ui::pages::safe_next(form.get("next"));
            let sep = if next.contains('?') { '&' } else { '?' };
            Ok(Redirect::to(&format!("{next}{sep}moved={id}")).into_response())
        }
        Err(e) => {
            let (status, conflict, msgs) = page_refusal(user.locale, e)?;
            show_page(&st, &user, id, msgs, conflict, Some(stage_id), status).await
        }
    }
}

/// Creates the order of a won deal and shows the deal with it.
pub async fn order(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    match uc::order_from(&st.store, &user.actor, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/opportunities/{id}")).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let msgs = field_messages(user.locale, &errs);
            show_page(&st, &user, id, msgs, false, None, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "pipeline/new.html")]
struct NewTpl {
    ctx: Ctx,
    /// Where the form posts: `/opportunities`, or the deal's `/edit`.
    action: String,
    /// Editing a stored deal: its customer and pipeline are shown, not chosen.
    editing: Option<i64>,
    pipelines: Vec<(i64, String)>,
    v: HashMap<String, String>,
    rows: Vec<usize>,
    errors: Vec<String>,
    /// A new deal's custom fields (an edit changes them on their own form).
    custom: Vec<CustomInput>,
}

impl NewTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }

    fn row(&self, k: &str, i: &usize) -> &str {
        self.val(&format!("{k}_{i}"))
    }
}

async fn new_page(
    st: &AppState,
    user: &UiUser,
    editing: Option<i64>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    custom: Vec<CustomInput>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let pipelines = uc::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let tpl = NewTpl {
        ctx: user.ctx(if editing.is_some() {
            "pipeline.edit"
        } else {
            "pipeline.new"
        }),
        action: editing.map_or("/opportunities".to_string(), |id| {
            format!("/opportunities/{id}/edit")
        }),
        editing,
        pipelines: pipelines
            .iter()
            .filter(|p| p.active)
            .map(|p| (p.id, p.name.clone()))
            .collect(),
        v,
        rows: (0..LINE_ROWS).collect(),
        errors,
        custom,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The new-deal form (`?customer_id=` from the customer's page).
pub async fn new(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let mut v = HashMap::new();
    if let Some(c) = q.get("customer_id") {
        v.insert("customer_id".to_string(), c.to_string());
    }
    let custom = NewRecordFields::of(&st, &user, FieldEntity::Opportunity)
        .await?
        .inputs(&st, &user, None, &[])
        .await?;
    new_page(&st, &user, None, v, Vec::new(), custom, StatusCode::OK).await
}

/// A stored deal as the form's fields.
fn form_values(o: &Opportunity) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = [
        ("customer_id", o.customer_id.to_string()),
        ("pipeline_id", o.pipeline_id.to_string()),
        ("name", o.name.clone()),
        ("version", o.version.to_string()),
        ("competitors", o.competitors.join("、")),
    ]
    .into_iter()
    .map(|(k, x)| (k.to_string(), x))
    .collect();
    let optional = [
        ("probability", o.own_probability.map(|p| p.to_string())),
        ("expected_close", o.expected_close.map(|d| d.to_string())),
        ("next_step", o.next_step.clone()),
        ("stated_needs", o.stated_needs.clone()),
        ("latent_needs", o.latent_needs.clone()),
        ("source", o.source.clone()),
        (
            "amount",
            o.lines
                .is_empty()
                .then(|| format::plain_money(o.amount_minor)),
        ),
    ];
    for (k, x) in optional {
        if let Some(x) = x {
            v.insert(k.to_string(), x);
        }
    }
    for (i, l) in o.lines.iter().enumerate() {
        v.insert(format!("sku_{i}"), l.sku.clone());
        v.insert(format!("qty_{i}"), l.quantity.to_string());
        v.insert(
            format!("price_{i}"),
            format::plain_money(l.unit_price_minor),
        );
    }
    v
}

/// The edit form of a deal, filled with what is stored.
pub async fn edit(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let o = uc::get(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    new_page(
        &st,
        &user,
        Some(id),
        form_values(&o),
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Saves the edit form at the version it was read; a stale version shows the conflict
/// message with the form as typed (409), bad input names the fields (422).
pub async fn save(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let (status, errs) = match opportunity_of(&form) {
        Ok(mut o) => {
            o.version = form.get("version").and_then(|v| v.parse().ok());
            match uc::update(&st.store, &user.actor, id, &o).await {
                Ok(_) => return Ok(Redirect::to(&format!("/opportunities/{id}")).into_response()),
                Err(e) => form_refusal(user.locale, e)?,
            }
        }
        Err(errs) => (StatusCode::UNPROCESSABLE_ENTITY, errs),
    };
    let mut v: HashMap<String, String> = form.pairs().iter().cloned().collect();
    let mut msgs = field_messages(user.locale, &errs);
    if status == StatusCode::CONFLICT {
        // The form keeps what was typed; its version becomes the stored one, so a second save
        // overwrites knowingly.
        let now = uc::get(&st.store, &user.actor, id)
            .await
            .map_err(page_err(user.locale))?;
        v.insert("version".into(), now.version.to_string());
        msgs.insert(
            0,
            crate::ui::text::t(user.locale, "pipeline.edit_conflict").to_string(),
        );
    }
    new_page(&st, &user, Some(id), v, msgs, Vec::new(), status).await
}

/// Reads the new-deal form; what is not a number, an amount or a date is named.
fn opportunity_of(form: &FormData) -> Result<OpportunityInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let customer_id = form
        .int("customer_id", "customer_id", &mut errs)
        .unwrap_or(0);
    let pipeline_id = form
        .int("pipeline_id", "pipeline_id", &mut errs)
        .unwrap_or(0);
    let probability = form.int("probability", "probability", &mut errs);
    let amount_minor = match form.get("amount").map(parse_money) {
        None => 0,
        Some(Ok(a)) => a,
        Some(Err(code)) => {
            errs.push(ValidationError::new("amount_minor", code));
            0
        }
    };
    let expected_close = form.get("expected_close").and_then(|d| {
        d.parse::<NaiveDate>()
            .map_err(|_| errs.push(ValidationError::new("expected_close", "invalid_date")))
            .ok()
    });
    let mut lines = Vec::new();
    for i in 0..LINE_ROWS {
        let Some(sku) = form.get(&format!("sku_{i}")) else {
            continue;
        };
        let k = lines.len();
        let quantity = form
            .int(
                &format!("qty_{i}"),
                format!("lines[{k}].quantity"),
                &mut errs,
            )
            .unwrap_or(1);
        let unit_price_minor = match parse_money(form.get(&format!("price_{i}")).unwrap_or("")) {
            Ok(p) => p,
            Err(code) => {
                errs.push(ValidationError::new(
                    format!("lines[{k}].unit_price_minor"),
                    code,
                ));
                0
            }
        };
        lines.push(LineInput {
            sku: sku.to_string(),
            name: None,
            quantity,
            unit_price_minor,
        });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(OpportunityInput {
        customer_id,
        name: form.get("name").unwrap_or("").to_string(),
        pipeline_id,
        stage_id: None,
        owner_id: None,
        amount_minor,
        currency: "CNY".into(),
        probability,
        expected_close,
        next_step: form.get("next_step").map(str::to_string),
        competitors: form
            .get("competitors")
            .unwrap_or("")
            .split([',', '，', '、'])
            .map(str::to_string)
            .collect(),
        stated_needs: form.get("stated_needs").map(str::to_string),
        latent_needs: form.get("latent_needs").map(str::to_string),
        source: form.get("source").map(str::to_string),
        campaign_id: None,
        lines,
        version: None,
        custom: Default::default(),
    })
}

/// Creates a deal from the form and opens it; bad input is named on the form (422).
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkOpportunities)?;
    let fields = NewRecordFields::of(&st, &user, FieldEntity::Opportunity).await?;
    let (status, result) = match opportunity_of(&form) {
        Ok(mut o) => {
            o.custom = fields.sent(&user, &form);
            match uc::create(&st.store, &user.actor, &o).await {
                Ok(d) => {
                    return Ok(Redirect::to(&format!("/opportunities/{}", d.id)).into_response())
                }
                Err(e) => form_refusal(user.locale, e)?,
            }
        }
        Err(errs) => (StatusCode::UNPROCESSABLE_ENTITY, errs),
    };
    let v: HashMap<String, String> = form.pairs().iter().cloned().collect();
    let custom = fields.inputs(&st, &user, Some(&form), &result).await?;
    new_page(
        &st,
        &user,
        None,
        v,
        field_messages(user.locale, &result),
        custom,
        status,
    )
    .await
}

struct ForecastLine {
    month: String,
    owner: String,
    open: i64,
    open_amount: String,
    weighted: String,
    won: String,
}

#[derive(Template)]
#[template(path = "pipeline/forecast.html")]
struct ForecastTpl {
    ctx: Ctx,
    lines: Vec<ForecastLine>,
    total_open: String,
    total_weighted: String,
    total_won: String,
    months: i64,
    /// The first pipeline's funnel over the last year: stage, reached, conversion, mean days,
    /// win rate of the closed deals that reached it.
    funnel: Vec<(String, i64, String, String, String)>,
    /// The forecast by the owners' teams: team, open deals, amount, weighted, won.
    teams: Vec<(String, i64, String, String, String)>,
    /// Win rate and won cycle by source: source, won, lost, rate, days.
    sources: Vec<(String, i64, i64, String, String)>,
    deals: i64,
}

/// The forecast's rows summed by their owners' teams (owners without a team, and deals
/// without an owner, under "no team"), in team-name order.
async fn forecast_by_team(
    st: &AppState,
    user: &UiUser,
    ctx: &Ctx,
    rows: &[guanxi_store::pipeline::ForecastRow],
) -> Result<Vec<(String, i64, String, String, String)>, UiError> {
    let l = user.locale;
    let users = guanxi_app::users::directory(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let teams = guanxi_app::users::list_teams(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let team_of = |owner: Option<i64>| {
        owner
            .and_then(|o| users.iter().find(|u| u.id == o))
            .and_then(|u| u.team_id)
            .and_then(|t| teams.iter().find(|x| x.id == t))
            .map(|t| t.name.clone())
            .unwrap_or_else(|| ctx.t("pipeline.no_team").to_string())
    };
    let mut sums: std::collections::BTreeMap<String, (i64, i64, i64, i64)> = Default::default();
    for r in rows {
        let e = sums.entry(team_of(r.owner_id)).or_default();
        e.0 += r.open;
        e.1 += r.open_minor;
        e.2 += r.weighted_minor;
        e.3 += r.won_minor;
    }
    Ok(sums
        .into_iter()
        .map(|(team, (n, open, weighted, won))| {
            (
                team,
                n,
                format::money(open, "CNY"),
                format::money(weighted, "CNY"),
                format::money(won, "CNY"),
            )
        })
        .collect())
}

/// The weighted forecast from this month (`?months=6`, 1–24), by close month and owner.
pub async fn forecast(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let l = user.locale;
    let months: u32 = q
        .get("months")
        .and_then(|m| m.parse().ok())
        .filter(|m| (1..=uc::MAX_FORECAST_MONTHS).contains(m))
        .unwrap_or(6);
    let today = st.as_of().today;
    let from = today.with_day(1).unwrap_or(today);
    let to = from.checked_add_months(Months::new(months)).unwrap_or(from);
    let rows = uc::forecast(&st.store, &user.actor, None, from, to)
        .await
        .map_err(page_err(l))?;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let ctx = user.ctx("pipeline.forecast");
    let teams = forecast_by_team(&st, &user, &ctx, &rows).await?;
    let pipelines = uc::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let (mut funnel, mut sources, mut deals) = (Vec::new(), Vec::new(), 0);
    if let Some(p) = pipelines.first() {
        let now = chrono::Utc::now();
        let f = uc::figures(
            &st.store,
            &user.actor,
            p.id,
            now - chrono::Duration::days(365),
            now,
        )
        .await
        .map_err(page_err(l))?;
        deals = f.deals;
        let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_default();
        funnel = f
            .funnel
            .iter()
            .map(|step| {
                (
                    p.stage(step.stage_id)
                        .map(|s| stage_name(&ctx, s))
                        .unwrap_or_default(),
                    step.reached,
                    pct(step.conversion),
                    f.stage_times
                        .iter()
                        .find(|t| t.stage_id == step.stage_id)
                        .map(|t| format!("{:.1}", t.mean_days))
                        .unwrap_or_default(),
                    f.stage_win_rates
                        .iter()
                        .find(|w| w.stage_id == step.stage_id)
                        .map(|w| pct(w.win_rate))
                        .unwrap_or_default(),
                )
            })
            .collect();
        sources = f
            .by_source
            .iter()
            .map(|x| {
                (
                    match x.source.as_str() {
                        "*" => ctx.t("pipeline.total").to_string(),
                        "" => ctx.t("pipeline.no_source").to_string(),
                        other => other.to_string(),
                    },
                    x.won,
                    x.lost,
                    pct(x.win_rate),
                    x.won_cycle_days
                        .map(|d| format!("{d:.1}"))
                        .unwrap_or_default(),
                )
            })
            .collect();
    }
    let sum = |f: fn(&guanxi_store::pipeline::ForecastRow) -> i64| {
        format::money(rows.iter().map(f).sum(), "CNY")
    };
    let tpl = ForecastTpl {
        total_open: sum(|r| r.open_minor),
        total_weighted: sum(|r| r.weighted_minor),
        total_won: sum(|r| r.won_minor),
        lines: rows
            .iter()
            .map(|r| ForecastLine {
                month: if r.month.is_empty() {
                    ctx.t("pipeline.no_date").to_string()
                } else {
                    r.month.clone()
                },
                owner: r
                    .owner_id
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_default(),
                open: r.open,
                open_amount: format::money(r.open_minor, "CNY"),
                weighted: format::money(r.weighted_minor, "CNY"),
                won: format::money(r.won_minor, "CNY"),
            })
            .collect(),
        months: i64::from(months),
        teams,
        funnel,
        sources,
        deals,
        ctx,
    };
    Ok(render(l, &tpl))
}

#[derive(Template)]
#[template(path = "pipeline/stale.html")]
struct StaleTpl {
    ctx: Ctx,
    days: i64,
    /// id, name, customer id, customer, amount, last touched.
    cards: Vec<(i64, String, i64, String, String, String)>,
}

/// Deals nobody touched in `?days=` (default 14): the dashboard loads this fragment.
pub async fn stale(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let days = q
        .get("days")
        .and_then(|d| d.parse().ok())
        .unwrap_or(STALE_DAYS);
    let cards = uc::stale(&st.store, &user.actor, days, 10)
        .await
        .map_err(page_err(user.locale))?;
    let ctx = user.ctx("pipeline.title");
    let today = st.as_of().today;
    let tpl = StaleTpl {
        days,
        cards: cards
            .into_iter()
            .map(|c| {
                let idle = (today - c.last_activity_at.date_naive()).num_days();
                (
                    c.id,
                    c.name,
                    c.customer_id,
                    c.customer_name,
                    format::money(c.amount_minor, &c.currency),
                    ctx.count("pipeline.days_ago", idle),
                )
            })
            .collect(),
        ctx,
    };
    Ok(render(user.locale, &tpl))
}

/// Days without a move after which a deal counts as stale on the dashboard.
const STALE_DAYS: i64 = 14;
