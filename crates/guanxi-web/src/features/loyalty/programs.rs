//! The membership programme page: the programmes (which is active, members, when tiers were
//! last evaluated) and the form for one — tiers with their qualifying and keeping lines and
//! earning rates, category rates, promotions. Thresholds are typed in yuan when tiers go by
//! spend, in points when they go by points.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use guanxi_app::loyalty::program as uc;
use guanxi_domain::loyalty::{CategoryRate, ProgramInput, Promotion, Tier, TierBasis};
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_store::loyalty::ProgramRecord;
use guanxi_text::format;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

/// Tier rows the form offers.
const TIER_ROWS: usize = 6;
/// Category-rate rows the form offers.
const RATE_ROWS: usize = 4;
/// Promotion rows the form offers.
const PROMO_ROWS: usize = 3;

struct ProgramView {
    id: i64,
    name: String,
    active: bool,
    members: i64,
    tiers: String,
    evaluated: String,
}

#[derive(Template)]
#[template(path = "loyalty/programs.html")]
struct ProgramsTpl {
    ctx: Ctx,
    programs: Vec<ProgramView>,
    editing: Option<(i64, i64)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    tier_rows: Vec<usize>,
    rate_rows: Vec<usize>,
    promo_rows: Vec<usize>,
    flash: String,
}

impl ProgramsTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
    fn row(&self, prefix: &str, i: &usize) -> &str {
        self.val(&format!("{prefix}_{i}"))
    }
}

fn threshold_text(basis: TierBasis, v: i64) -> String {
    match basis {
        TierBasis::Spend => format::plain_money(v),
        TierBasis::Points => v.to_string(),
    }
}

/// The form's values for a stored programme.
fn values_of(p: &ProgramInput) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), p.name.clone());
    v.insert("basis".into(), p.basis.as_str().into());
    v.insert("window_days".into(), p.window_days.to_string());
    v.insert("points_per_yuan".into(), p.points_per_yuan.to_string());
    v.insert("expiry_months".into(), p.expiry_months.to_string());
    v.insert("starts_on".into(), p.starts_on.to_string());
    if p.active {
        v.insert("active".into(), "1".into());
    }
    for (i, t) in p.tiers.iter().enumerate() {
        v.insert(format!("tier_code_{i}"), t.code.clone());
        v.insert(format!("tier_name_{i}"), t.name.clone());
        v.insert(
            format!("tier_qualify_{i}"),
            threshold_text(p.basis, t.qualify),
        );
        v.insert(format!("tier_keep_{i}"), threshold_text(p.basis, t.keep));
        v.insert(format!("tier_pct_{i}"), t.accrual_percent.to_string());
    }
    for (i, r) in p.category_rates.iter().enumerate() {
        v.insert(format!("rate_category_{i}"), r.category.clone());
        v.insert(format!("rate_pct_{i}"), r.percent.to_string());
    }
    for (i, m) in p.promotions.iter().enumerate() {
        v.insert(format!("promo_name_{i}"), m.name.clone());
        v.insert(format!("promo_from_{i}"), m.from.to_string());
        v.insert(format!("promo_to_{i}"), m.to.to_string());
        v.insert(format!("promo_pct_{i}"), m.percent.to_string());
        v.insert(
            format!("promo_category_{i}"),
            m.category.clone().unwrap_or_default(),
        );
    }
    v
}

/// Reads the form; a field that is not a number or a date is reported under its programme
/// path (`tiers[1].qualify`), as the domain's own checks are.
fn program_of(form: &FormData) -> Result<ProgramInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let mut int = |name: &str, field: String, default: i64| -> i64 {
        form.int(name, field, &mut errs).unwrap_or(default)
    };
    let window_days = int("window_days", "window_days".into(), 365);
    let points_per_yuan = int("points_per_yuan", "points_per_yuan".into(), 1);
    let expiry_months = int("expiry_months", "expiry_months".into(), 0);
    let basis = if form.get("basis") == Some("points") {
        TierBasis::Points
    } else {
        TierBasis::Spend
    };
    let mut tiers = Vec::new();
    let mut percents = Vec::new();
    for i in 0..TIER_ROWS {
        let code = form.get(&format!("tier_code_{i}")).unwrap_or("");
        let name = form.get(&format!("tier_name_{i}")).unwrap_or("");
        if code.is_empty() && name.is_empty() {
            continue;
        }
        percents.push(int(
            &format!("tier_pct_{i}"),
            format!("tiers[{}].accrual_percent", tiers.len()),
            100,
        ));
        tiers.push((i, code.to_string(), name.to_string()));
    }
    let mut rates = Vec::new();
    for i in 0..RATE_ROWS {
        let Some(category) = form.get(&format!("rate_category_{i}")) else {
            continue;
        };
        let percent = int(
            &format!("rate_pct_{i}"),
            format!("category_rates[{}].percent", rates.len()),
            100,
        );
        rates.push(CategoryRate {
            category: category.to_string(),
            percent,
        });
    }
    let mut promo_rows = Vec::new();
    for i in 0..PROMO_ROWS {
        let Some(name) = form.get(&format!("promo_name_{i}")) else {
            continue;
        };
        let percent = int(
            &format!("promo_pct_{i}"),
            format!("promotions[{}].percent", promo_rows.len()),
            100,
        );
        promo_rows.push((i, name.to_string(), percent));
    }
    let mut date = |name: &str, field: String| -> NaiveDate {
        form.get(name)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| {
                errs.push(ValidationError::new(field, "invalid_date"));
                NaiveDate::MIN
            })
    };
    let starts_on = date("starts_on", "starts_on".into());
    let mut promotions = Vec::new();
    for (k, (i, name, percent)) in promo_rows.into_iter().enumerate() {
        let from = date(&format!("promo_from_{i}"), format!("promotions[{k}].from"));
        let to = date(&format!("promo_to_{i}"), format!("promotions[{k}].to"));
        promotions.push(Promotion {
            name,
            from,
            to,
            percent,
            category: form.get(&format!("promo_category_{i}")).map(str::to_string),
        });
    }
    let mut threshold = |name: &str, field: String| -> i64 {
        let raw = form.get(name).unwrap_or("0");
        let parsed = match basis {
            TierBasis::Spend => parse_money(raw).ok(),
            TierBasis::Points => raw.parse().ok(),
        };
        parsed.unwrap_or_else(|| {
            errs.push(ValidationError::new(field, "invalid_type"));
            0
        })
    };
    let tiers: Vec<Tier> = tiers
        .into_iter()
        .zip(percents)
        .enumerate()
        .map(|(k, ((i, code, name), accrual_percent))| Tier {
            code,
            name,
            qualify: threshold(&format!("tier_qualify_{i}"), format!("tiers[{k}].qualify")),
            keep: threshold(&format!("tier_keep_{i}"), format!("tiers[{k}].keep")),
            accrual_percent,
        })
        .collect();
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ProgramInput {
        name: form.get("name").unwrap_or("").to_string(),
        basis,
        window_days,
        points_per_yuan,
        expiry_months,
        starts_on,
        active: form.get("active").is_some(),
        tiers,
        category_rates: rates,
        promotions,
    })
}

async fn page(
    st: &AppState,
    user: &UiUser,
    editing: Option<(i64, i64)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    flash: String,
    status: StatusCode,
) -> Result<Response, UiError> {
    let list = uc::list(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let ctx = user.ctx("loyalty.programs");
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ProgramsTpl {
        programs: list
            .iter()
            .map(|r: &ProgramRecord| ProgramView {
                id: r.id,
                name: r.program.name.clone(),
                active: r.program.active,
                members: r.members,
                tiers: r
                    .program
                    .tiers
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" · "),
                evaluated: r
                    .evaluated_at
                    .map(|t| format::datetime(t, tz))
                    .unwrap_or_default(),
            })
            .collect(),
        editing,
        v,
        errors,
        tier_rows: (0..TIER_ROWS).collect(),
        rate_rows: (0..RATE_ROWS).collect(),
        promo_rows: (0..PROMO_ROWS).collect(),
        flash: if flash.is_empty() {
            String::new()
        } else {
            ctx.t(&format!("flash.{flash}")).to_string()
        },
        ctx,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The programmes, with the form for a new one or (`?edit=<id>`) for one of them.
pub async fn programs(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    user.require(Permission::ManageLoyalty)?;
    let edit = q.get("edit").and_then(|e| e.parse::<i64>().ok());
    let flash = q
        .get("saved")
        .filter(|s| matches!(s.as_str(), "program_saved" | "program_run"))
        .cloned()
        .unwrap_or_default();
    match edit {
        Some(id) => {
            let r = uc::get(&st.store, &user.actor, id)
                .await
                .map_err(page_err(user.locale))?;
            page(
                &st,
                &user,
                Some((r.id, r.version)),
                values_of(&r.program),
                Vec::new(),
                flash,
                StatusCode::OK,
            )
            .await
        }
        None => {
            let today = format::today(format::zone(st.utc_offset_hours));
            let mut v = values_of(&ProgramInput {
                name: String::new(),
                basis: TierBasis::Spend,
                window_days: 365,
                points_per_yuan: 1,
                expiry_months: 24,
                starts_on: today,
                active: true,
                tiers: Vec::new(),
                category_rates: Vec::new(),
                promotions: Vec::new(),
            });
            v.insert("tier_qualify_0".into(), "0".into());
            v.insert("tier_keep_0".into(), "0".into());
            page(&st, &user, None, v, Vec::new(), flash, StatusCode::OK).await
        }
    }
}

/// Saves the form: a new programme, or (with `id` and `version`) a change to one.
pub async fn save(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageLoyalty)?;
    let id = form.get("id").and_then(|i| i.parse::<i64>().ok());
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let editing = id.map(|i| (i, version));
    let input = match program_of(&form) {
        Ok(i) => i,
        Err(errs) => {
            let errors = field_messages(user.locale, &errs);
            return page(
                &st,
                &user,
                editing,
                form.values(),
                errors,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let offset = st.utc_offset_hours;
    let saved = match id {
        Some(id) => uc::update(&st.store, &user.actor, id, version, &input, offset).await,
        None => uc::create(&st.store, &user.actor, &input, offset).await,
    };
    match saved {
        Ok(r) => {
            st.jobs.wake();
            Ok(Redirect::to(&format!(
                "/loyalty/programs?edit={}&saved=program_saved",
                r.id
            ))
            .into_response())
        }
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            page(
                &st,
                &user,
                editing,
                form.values(),
                field_messages(user.locale, &errs),
                String::new(),
                status,
            )
            .await
        }
    }
}

/// Queues a run now that also evaluates the tiers (the page's "evaluate now").
pub async fn run(
    State(st): State<AppState>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageLoyalty)?;
    uc::request_run(&st.store, &user.actor, st.utc_offset_hours)
        .await
        .map_err(page_err(user.locale))?;
    st.jobs.wake();
    Ok(Redirect::to("/loyalty/programs?saved=program_run").into_response())
}
