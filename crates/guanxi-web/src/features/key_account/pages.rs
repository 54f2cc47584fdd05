//! Key accounts as pages: the dashboard (everyone's the reader sees, or their own) with the
//! form that makes a customer one and, for managers, the shop's rule; an account's page with
//! its figures, revenue by month, who looks after it and its plan (goals, risks, the people on
//! their side and how they stand, actions with dates).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::key_account as uc;
use guanxi_domain::key_account::{
    Attitude, KeyAccountInput, KeyAccountRule, PlanAction, PlanContact, PlanInput, RuleInput,
};
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::key_account::{KeyAccount, KeyAccountRow, RuleSettings};
use guanxi_text::format;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, page_refusal, Ctx, FormData, Submitted, UiError, UiUser,
};

/// Empty rows the plan form offers below the filled ones.
const SPARE_ROWS: usize = 3;

/// A dashboard row as shown.
struct RowView {
    id: i64,
    name: String,
    manager: String,
    deputy: String,
    revenue: String,
    trend: String,
    share: String,
    deals: i64,
    deals_amount: String,
    complaints: i64,
    last_contact: String,
    overdue: bool,
    origin: String,
}

fn row_view(
    ctx: &Ctx,
    r: &KeyAccountRow,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> RowView {
    let name_of = |u: Option<i64>| u.and_then(|u| names.get(&u).cloned()).unwrap_or_default();
    RowView {
        id: r.customer_id,
        name: r.customer_name.clone(),
        manager: name_of(r.manager_id),
        deputy: name_of(r.deputy_id),
        revenue: format::money_whole(r.revenue_minor),
        trend: if r.previous_revenue_minor > 0 {
            format!(
                "{:+.0}%",
                (r.revenue_minor - r.previous_revenue_minor) as f64 * 100.0
                    / r.previous_revenue_minor as f64
            )
        } else {
            String::new()
        },
        share: r
            .share_of_wallet
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or_default(),
        deals: r.open_deals,
        deals_amount: format::money_whole(r.open_deals_minor),
        complaints: r.open_complaints,
        last_contact: r
            .last_contact_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| format::datetime(t, tz))
            .unwrap_or_else(|| ctx.t("key_account.never").to_string()),
        overdue: r.overdue,
        origin: ctx.label("key_account_origin", &r.origin),
    }
}

#[derive(Template)]
#[template(path = "key_account/list.html")]
struct ListTpl {
    ctx: Ctx,
    rows: Vec<RowView>,
    mine: bool,
    users: Vec<(i64, String)>,
    rule: RuleSettings,
    rules: Vec<(String, String)>,
    can_work: bool,
    can_manage: bool,
    errors: Vec<String>,
    report: String,
}

async fn list_page(
    st: &AppState,
    user: &UiUser,
    mine: bool,
    errors: Vec<String>,
    report: String,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let rows = uc::dashboard(&st.store, &user.actor, mine)
        .await
        .map_err(page_err(l))?;
    let rule = uc::rule(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let users = user_names(st, user).await?;
    let names: HashMap<i64, String> = users.iter().cloned().collect();
    let ctx = user.ctx("key_account.title");
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ListTpl {
        rows: rows.iter().map(|r| row_view(&ctx, r, &names, tz)).collect(),
        mine,
        users,
        rule,
        rules: KeyAccountRule::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_string(),
                    ctx.label("key_account_rule", r.as_str()),
                )
            })
            .collect(),
        can_work: user.actor.can(Permission::WorkOpportunities),
        can_manage: user.actor.can(Permission::ManagePipelines),
        errors,
        report,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The dashboard (`?mine=1`: the reader's own).
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    let report = match (q.get("added"), q.get("ended")) {
        (Some(a), Some(e)) => crate::ui::text::tf(
            user.locale,
            "key_account.applied",
            &[("added", &a.to_string()), ("ended", &e.to_string())],
        ),
        _ => String::new(),
    };
    list_page(
        &st,
        &user,
        q.get("mine").is_some(),
        Vec::new(),
        report,
        StatusCode::OK,
    )
    .await
}

/// Reads the managers form (the dashboard's "make key account" and the account page's).
fn account_input(form: &FormData) -> Result<KeyAccountInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let manager_id = form.int("manager_id", "manager_id", &mut errs);
    let deputy_id = form.int("deputy_id", "deputy_id", &mut errs);
    let cadence_days = form
        .int("cadence_days", "cadence_days", &mut errs)
        .unwrap_or(30);
    let version = form.int("version", "version", &mut errs);
    let wallet_minor = match form.get("wallet").map(parse_money) {
        None => None,
        Some(Ok(w)) => Some(w),
        Some(Err(code)) => {
            errs.push(ValidationError::new("wallet_minor", code));
            None
        }
    };
    if errs.is_empty() {
        Ok(KeyAccountInput {
            manager_id,
            deputy_id,
            cadence_days,
            wallet_minor,
            version,
        })
    } else {
        Err(errs)
    }
}

/// Makes the customer named on the dashboard's form a key account and opens it.
pub async fn designate(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut errs = Vec::new();
    let id = form
        .int("customer_id", "customer_id", &mut errs)
        .unwrap_or(0);
    let r = match account_input(&form) {
        Ok(k) if errs.is_empty() => uc::set(&st.store, &user.actor, id, &k).await,
        Ok(_) => Err(ValidationErrors(errs).into()),
        Err(mut e) => {
            e.extend(errs);
            Err(ValidationErrors(e).into())
        }
    };
    match r {
        Ok(k) => Ok(Redirect::to(&format!("/key-accounts/{}", k.customer_id)).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let msgs = field_messages(user.locale, &errs);
            list_page(&st, &user, false, msgs, String::new(), status).await
        }
    }
}

/// Sets the shop's rule.
pub async fn set_rule(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut errs = Vec::new();
    let percent = form
        .int("clv_top_percent", "clv_top_percent", &mut errs)
        .unwrap_or(5);
    let version = form.int("version", "version", &mut errs).unwrap_or(0);
    let r = match KeyAccountRule::parse(form.get("rule").unwrap_or("")) {
        Ok(rule) if errs.is_empty() => {
            let input = RuleInput {
                rule,
                clv_top_percent: percent,
                version,
            };
            uc::set_rule(&st.store, &user.actor, &input)
                .await
                .map(|_| ())
        }
        Ok(_) => Err(ValidationErrors(errs).into()),
        Err(_) => Err(ValidationErrors::single("rule", "invalid_choice").into()),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/key-accounts").into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            let msgs = field_messages(user.locale, &errs);
            list_page(&st, &user, false, msgs, String::new(), status).await
        }
    }
}

/// Applies the rule now and says what it did.
pub async fn apply_rule(
    State(st): State<AppState>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    let report = uc::apply_rule(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!(
        "/key-accounts?added={}&ended={}",
        report.added, report.ended
    ))
    .into_response())
}

/// A plan's person as the form shows it.
struct ContactRow {
    name: String,
    role: String,
    attitude: String,
}

/// A plan's action as the form shows it.
struct ActionRow {
    what: String,
    due: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "key_account/show.html")]
struct ShowTpl {
    ctx: Ctx,
    account: KeyAccount,
    row: RowView,
    months: Vec<(String, String, i64)>,
    users: Vec<(i64, String)>,
    wallet: String,
    contacts: Vec<ContactRow>,
    actions: Vec<ActionRow>,
    attitudes: Vec<(String, String)>,
    can_work: bool,
    errors: Vec<String>,
    conflict: bool,
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    errors: Vec<String>,
    conflict: bool,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let (account, row, series) = uc::account(&st.store, &user.actor, id, st.utc_offset_hours)
        .await
        .map_err(page_err(l))?;
    let users = user_names(st, user).await?;
    let names: HashMap<i64, String> = users.iter().cloned().collect();
    let ctx = user.ctx("key_account.account");
    let tz = format::zone(st.utc_offset_hours);
    let top = series.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let blank = |n: usize| 0..n;
    let tpl = ShowTpl {
        row: row_view(&ctx, &row, &names, tz),
        months: series
            .iter()
            .map(|(m, v)| (m.clone(), format::money_whole(*v), v * 100 / top))
            .collect(),
        users,
        wallet: account
            .wallet_minor
            .map(format::plain_money)
            .unwrap_or_default(),
        contacts: account
            .contacts
            .iter()
            .map(|c| ContactRow {
                name: c.name.clone(),
                role: c.role.clone().unwrap_or_default(),
                attitude: c.attitude.as_str().to_string(),
            })
            .chain(blank(SPARE_ROWS).map(|_| ContactRow {
                name: String::new(),
                role: String::new(),
                attitude: "unknown".into(),
            }))
            .collect(),
        actions: account
            .actions
            .iter()
            .map(|a| ActionRow {
                what: a.what.clone(),
                due: a.due.map(|d| d.to_string()).unwrap_or_default(),
                done: a.done,
            })
            .chain(blank(SPARE_ROWS).map(|_| ActionRow {
                what: String::new(),
                due: String::new(),
                done: false,
            }))
            .collect(),
        attitudes: Attitude::ALL
            .iter()
            .map(|a| (a.as_str().to_string(), ctx.label("attitude", a.as_str())))
            .collect(),
        can_work: user.actor.can(Permission::WorkOpportunities),
        errors,
        conflict,
        account,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// An account's page.
pub async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    show_page(&st, &user, id, Vec::new(), false, StatusCode::OK).await
}

/// After a change on the account page: back to it, or it with the refusal.
async fn after<T>(
    st: &AppState,
    user: &UiUser,
    id: i64,
    r: Result<T, guanxi_app::AppError>,
) -> Result<Response, UiError> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/key-accounts/{id}")).into_response()),
        Err(e) => {
            let (status, conflict, msgs) = page_refusal(user.locale, e)?;
            show_page(st, user, id, msgs, conflict, status).await
        }
    }
}

/// Changes who looks after the account, its cadence and wallet.
pub async fn set(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match account_input(&form) {
        Ok(k) => uc::set(&st.store, &user.actor, id, &k).await,
        Err(e) => Err(ValidationErrors(e).into()),
    };
    after(&st, &user, id, r).await
}

/// Reads the plan form: rows left empty are dropped.
fn plan_input(form: &FormData) -> Result<PlanInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let version = form.int("version", "version", &mut errs).unwrap_or(0);
    let mut contacts = Vec::new();
    let mut actions = Vec::new();
    for i in 0..=guanxi_domain::key_account::MAX_PLAN_ROWS + SPARE_ROWS {
        if let Some(name) = form.get(&format!("contact_name_{i}")) {
            let attitude =
                Attitude::parse(form.get(&format!("contact_attitude_{i}")).unwrap_or(""))
                    .unwrap_or(Attitude::Unknown);
            contacts.push(PlanContact {
                name: name.to_string(),
                role: form.get(&format!("contact_role_{i}")).map(str::to_string),
                attitude,
                customer_id: None,
            });
        }
        if let Some(what) = form.get(&format!("action_what_{i}")) {
            let k = actions.len();
            let due = form.get(&format!("action_due_{i}")).and_then(|d| {
                d.parse()
                    .map_err(|_| {
                        errs.push(ValidationError::new(
                            format!("actions[{k}].due"),
                            "invalid_date",
                        ))
                    })
                    .ok()
            });
            actions.push(PlanAction {
                what: what.to_string(),
                due,
                done: form.get(&format!("action_done_{i}")).is_some(),
            });
        }
    }
    if errs.is_empty() {
        Ok(PlanInput {
            goals: form.get("goals").map(str::to_string),
            risks: form.get("risks").map(str::to_string),
            contacts,
            actions,
            version,
        })
    } else {
        Err(errs)
    }
}

/// Saves the plan.
pub async fn plan(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match plan_input(&form) {
        Ok(p) => uc::save_plan(&st.store, &user.actor, id, &p).await,
        Err(e) => Err(ValidationErrors(e).into()),
    };
    after(&st, &user, id, r).await
}

/// Ends the key account and goes back to the dashboard.
pub async fn remove(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    uc::remove(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to("/key-accounts").into_response())
}
