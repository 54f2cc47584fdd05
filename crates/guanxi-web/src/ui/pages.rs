//! Sign-in, language, the dashboard, the global search and the error page.

use crate::ui::session::Submitted;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::LifecycleStage;
use serde_json::json;

use super::format::{self, money_whole, thousands};
use super::render;
use super::session::{
    anonymous_locale, page_err, urlencode, Ctx, FormData, UiError, UiUser, LANG_COOKIE,
};
use crate::auth::session_cookie;
use crate::auth::SESSION_COOKIE;
use crate::extract::ClientAddr;
use crate::i18n::Locale;
use crate::state::AppState;
use guanxi_app::sessions::start_session;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTpl {
    ctx: Ctx,
    status: u16,
    message: &'static str,
    problems: Vec<String>,
    request_id: String,
}

/// The error page (404, 403, 500 …) in the user's language.
pub fn error_page(status: StatusCode, locale: Locale, message: &'static str) -> Response {
    error_page_with(status, locale, message, &[])
}

/// The error page with the problems found (a bad query: which parameter, and why).
pub fn error_page_with(
    status: StatusCode,
    locale: Locale,
    message: &'static str,
    problems: &[String],
) -> Response {
    let tpl = ErrorTpl {
        ctx: Ctx::anonymous(locale, message),
        status: status.as_u16(),
        message,
        problems: problems.to_vec(),
        request_id: crate::request_id::current().unwrap_or_default(),
    };
    match tpl.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// The 404 page for paths outside the API.
pub async fn not_found(headers: HeaderMap) -> Response {
    UiError::NotFound(anonymous_locale(&headers)).into_response()
}

/// Only same-origin paths may be "next" targets (no open redirects): a path starting with
/// one `/`, with no backslash (browsers read `/\\evil` as `//evil`) and no control
/// character (they drop tabs and newlines, so `/\t/evil` would become `//evil`; a CR or LF
/// would also split the `Location` header). Anything else goes to the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.into()
        }
        _ => "/".into(),
    }
}

/// Cookie carrying the login form's CSRF token (double submit): a sign-in form posted from
/// another site lacks it, so nobody can be signed into an attacker's account unawares.
const LOGIN_CSRF_COOKIE: &str = "gx_login_csrf";

/// The login form's token: the one the browser already holds, or a fresh one it is given.
fn login_csrf(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(LOGIN_CSRF_COOKIE) {
        if c.value().len() == 64 {
            let token = c.value().to_string();
            return (jar, token);
        }
    }
    let token = crate::auth::random_secret();
    let cookie = Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
        .path("/login")
        .same_site(SameSite::Strict)
        .http_only(true)
        .secure(secure)
        .build();
    (jar.add(cookie), token)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    ctx: Ctx,
    next: String,
    next_encoded: String,
    username: String,
    error: &'static str,
    csrf: String,
}

/// The login page; `?lang=` switches its language and remembers the choice in a cookie.
pub async fn login_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    q: FormData,
) -> Response {
    let mut locale = anonymous_locale(&headers);
    let (mut jar, csrf) = login_csrf(jar, st.secure_cookies);
    if let Some(l) = q.get("lang").and_then(Locale::from_code) {
        locale = l;
        jar = jar.add(
            Cookie::build((LANG_COOKIE, l.code()))
                .path("/")
                .same_site(SameSite::Lax)
                .http_only(true)
                .permanent()
                .build(),
        );
    }
    let next = safe_next(q.get("next"));
    let tpl = LoginTpl {
        ctx: Ctx::anonymous(locale, "login.title"),
        next_encoded: urlencode(&next),
        next,
        username: String::new(),
        error: "",
        csrf,
    };
    (jar, render(locale, &tpl)).into_response()
}

/// Signs in. On success the session cookie is set and the browser goes where it was headed.
pub async fn login(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    form: FormData,
) -> Response {
    let locale = anonymous_locale(&headers);
    let next = safe_next(form.get("next"));
    let username = form.get("username").unwrap_or("").to_string();
    let password = form.raw("password").unwrap_or_default().to_string();
    let held = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    let sent = form.get("_csrf").unwrap_or("");
    let csrf_ok = held
        .as_deref()
        .is_some_and(|h| crate::auth::constant_time_eq(h.as_bytes(), sent.as_bytes()));
    let (jar, csrf) = login_csrf(jar, st.secure_cookies);
    let fail = |status: StatusCode, error: &'static str, username: String, next: String| {
        let tpl = LoginTpl {
            ctx: Ctx::anonymous(locale, "login.title"),
            next_encoded: urlencode(&next),
            next,
            username,
            error,
            csrf: csrf.clone(),
        };
        (status, render(locale, &tpl)).into_response()
    };
    if !csrf_ok {
        // A form from another site, or one older than the browser's cookie: show a fresh form.
        return (
            jar.clone(),
            fail(StatusCode::FORBIDDEN, "login.expired", username, next),
        )
            .into_response();
    }
    if username.is_empty() || password.is_empty() {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "login.missing",
            username,
            next,
        );
    }
    match start_session(&st.store, &st.throttle, &username, password, client).await {
        Ok((_, sid, _)) => (jar.add(session_cookie(&st, sid)), Redirect::to(&next)).into_response(),
        Err(guanxi_app::AppError::InvalidCredentials) => fail(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            username,
            next,
        ),
        Err(guanxi_app::AppError::TooManyAttempts) => fail(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            username,
            next,
        ),
        Err(e) => UiError::from_api(locale, e.into()).into_response(),
    }
}

/// Signs out and ends the session on the server.
pub async fn logout(
    State(st): State<AppState>,
    jar: CookieJar,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        guanxi_app::sessions::end_session(&st.store, c.value())
            .await
            .map_err(page_err(user.locale))?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/")).add(
        Cookie::build((LANG_COOKIE, user.locale.code()))
            .path("/")
            .same_site(SameSite::Lax)
            .http_only(true)
            .permanent()
            .build(),
    );
    Ok((jar, Redirect::to("/login")).into_response())
}

/// Switches the user's language and remembers it on the user record.
pub async fn set_language(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let Some(lang) = form.get("lang").and_then(Locale::from_code) else {
        return Err(UiError::BadForm(user.locale));
    };
    guanxi_app::users::update_user(
        &st.store,
        &user.actor,
        user.user.id,
        guanxi_domain::user::UserPatch {
            version: user.user.meta.version,
            locale: Some(lang.code().to_string()),
            ..Default::default()
        },
    )
    .await
    .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&safe_next(form.get("next"))).into_response())
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTpl {
    ctx: Ctx,
    customers: i64,
    orders: String,
    revenue: String,
    tasks: Vec<TaskView>,
    open_tasks: String,
    overdue_tasks: i64,
    /// More than [`TASK_COUNT_CAP`] are overdue.
    overdue_more: bool,
    stage_chart: String,
    new_chart: String,
    revenue_chart: String,
    scores: Option<ScoresView>,
}

/// The score job as the dashboard shows it to those who may run it.
struct ScoresView {
    last_run: String,
    running: bool,
    error: String,
    just_started: bool,
}

struct TaskView {
    customer_id: i64,
    customer_name: String,
    title: String,
    due: String,
    overdue: bool,
}

/// The customer list behind one month of a dashboard chart: a one-clause rule on a month
/// field (`created_month` is 2026-03, `order_month` includes 2026-03), in the shop's months
/// like the chart.
fn month_link(field: &str, op: &str, month: &str) -> String {
    crate::features::customers::list::list_link(
        &json!({"clauses": [{"field": field, "op": op, "value": month}]}),
    )
}

/// The dashboard counts a reader's open tasks up to here and then says "999+": the /tasks
/// page has the exact figures, and counting twenty thousand costs a page's whole budget.
const TASK_COUNT_CAP: i64 = 999;

/// The landing page: the reader's book in numbers and charts, and their open tasks.
pub async fn dashboard(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let err = page_err(user.locale);
    let d = guanxi_app::analytics::dashboard(&st.store, &user.actor, 24, st.utc_offset_hours)
        .await
        .map_err(err)?;
    let tz = format::zone(st.utc_offset_hours);
    let now = chrono::Utc::now();
    let tasks = guanxi_app::timeline::open_tasks(&st.store, &user.actor, user.user.id, 20)
        .await
        .map_err(page_err(user.locale))?
        .into_iter()
        .map(|t| TaskView {
            customer_id: t.task.customer_id,
            customer_name: t.customer_name,
            title: t.task.title,
            due: format::date(t.task.due_at, tz),
            overdue: t.task.due_at < now,
        })
        .collect();
    let mine =
        guanxi_store::tasks::TaskFilter::open_for(guanxi_store::tasks::TaskWho::User(user.user.id));
    let (open_tasks, overdue_tasks) = guanxi_app::timeline::count_tasks_up_to(
        &st.store,
        &user.actor,
        &mine,
        now.timestamp_millis(),
        TASK_COUNT_CAP,
    )
    .await
    .map_err(page_err(user.locale))?;
    let ctx = user.ctx("dashboard.title");
    let stage_chart = json!({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "pie", "radius": ["35%", "70%"],
            "data": d.by_stage.iter().map(|(s, n)| json!({"name": ctx.label("lifecycle_stage", s), "value": n})).collect::<Vec<_>>()}],
        "links": d.by_stage.iter().map(|(s, _)| format!("/customers?stage={s}")).collect::<Vec<_>>(),
    });
    // The current month is still running: its label says so and its bar is paler, lest a low
    // figure read as a collapse. Its label is always shown, however the axis thins the rest.
    let this_month = format::today(tz).format("%Y-%m").to_string();
    let month_label = |m: &String| {
        if *m == this_month {
            ctx.tf("dashboard.month_to_date", &[("m", &m)])
        } else {
            m.clone()
        }
    };
    let month_bar = |m: &String, v: i64| {
        if *m == this_month {
            json!({"value": v, "itemStyle": {"opacity": 0.45}})
        } else {
            json!(v)
        }
    };
    let month_axis = |labels: Vec<String>| json!({"type": "category", "data": labels, "axisLabel": {"showMaxLabel": true}});
    let new_chart = json!({
        "tooltip": {"trigger": "axis"},
        "xAxis": month_axis(d.new_per_month.iter().map(|(m, _)| month_label(m)).collect()),
        "yAxis": {"type": "value"},
        "series": [{"type": "bar", "name": ctx.t("dashboard.new_customers"), "data": d.new_per_month.iter().map(|(m, n)| month_bar(m, *n)).collect::<Vec<_>>()}],
        "links": d.new_per_month.iter().map(|(m, _)| month_link("created_month", "eq", m)).collect::<Vec<_>>(),
    });
    let revenue_chart = json!({
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": month_axis(d.revenue_per_month.iter().map(|(m, ..)| month_label(m)).collect()),
        "yAxis": [{"type": "value", "name": ctx.t("dashboard.revenue_yuan")}, {"type": "value", "name": ctx.t("dashboard.orders")}],
        "series": [
            {"type": "bar", "name": ctx.t("dashboard.revenue_yuan"), "data": d.revenue_per_month.iter().map(|(m, _, r)| month_bar(m, (r + 50).div_euclid(100))).collect::<Vec<_>>()},
            {"type": "line", "name": ctx.t("dashboard.orders"), "yAxisIndex": 1, "data": d.revenue_per_month.iter().map(|(_, o, _)| o).collect::<Vec<_>>()},
        ],
        "links": d.revenue_per_month.iter().map(|(m, ..)| month_link("order_month", "during", m)).collect::<Vec<_>>(),
    });
    let scores = if user.actor.can(Permission::RunAnalytics) {
        let (at, customers) = guanxi_app::analytics::scores_summary(&st.store, &user.actor)
            .await
            .map_err(page_err(user.locale))?;
        let job = st
            .jobs
            .score_status()
            .await
            .map_err(page_err(user.locale))?;
        Some(ScoresView {
            last_run: match at.and_then(chrono::DateTime::from_timestamp_millis) {
                Some(t) => ctx.count_with(
                    "scores.last_run",
                    customers,
                    &[("at", &format::datetime(t, tz))],
                ),
                None => ctx.t("scores.never").to_string(),
            },
            running: job.running,
            error: job.error.unwrap_or_default(),
            just_started: q.get("refresh") == Some("started"),
        })
    } else {
        None
    };
    let tpl = DashboardTpl {
        scores,
        ctx,
        customers: d.customers,
        orders: thousands(d.orders),
        revenue: money_whole(d.revenue_minor),
        tasks,
        open_tasks: if open_tasks > TASK_COUNT_CAP {
            format!("{}+", thousands(TASK_COUNT_CAP))
        } else {
            thousands(open_tasks)
        },
        overdue_tasks: overdue_tasks.min(TASK_COUNT_CAP),
        overdue_more: overdue_tasks > TASK_COUNT_CAP,
        stage_chart: stage_chart.to_string(),
        new_chart: new_chart.to_string(),
        revenue_chart: revenue_chart.to_string(),
    };
    Ok(render(user.locale, &tpl))
}

/// The lifecycle stage codes in display order (for pickers).
pub fn stage_codes() -> Vec<&'static str> {
    LifecycleStage::ALL.iter().map(|s| s.as_str()).collect()
}

/// Starts a score refresh from the dashboard (managers and admins).
pub async fn refresh_scores(
    State(st): State<AppState>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::RunAnalytics)?;
    st.jobs
        .request_score_refresh(&user.actor)
        .await
        .map_err(|e| UiError::from_api(user.locale, e.into()))?;
    Ok(Redirect::to("/?refresh=started").into_response())
}
