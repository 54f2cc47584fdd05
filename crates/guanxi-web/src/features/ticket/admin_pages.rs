//! The desk manager's settings pages: desk-wide settings, the category tree, SLA policies,
//! queues and their members (`/tickets/settings`), and a business calendar's weekly hours,
//! holidays and make-up working days (`/tickets/settings/calendars/{id}`, 0 for a new one).
//! A refused row comes back with what was typed and each problem named; the handlers call
//! `guanxi_app::ticket::admin`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate, Utc};
use guanxi_domain::role::Permission;
use guanxi_domain::ticket::calendar::{format_periods, parse_periods, DayRule, Period};
use guanxi_domain::ticket::routing::RoutingMode;
use guanxi_domain::ticket::setup::{
    CalendarDayInput, CalendarInput, CategoryInput, ServiceSettings, SlaPolicyInput,
};
use guanxi_domain::ticket::sla::SlaConditions;
use guanxi_domain::ticket::{Priority, TicketKind};
use guanxi_domain::{ValidationError, ValidationErrors};

use guanxi_app::ticket as uc;
use guanxi_app::ticket::admin as admin_uc;

use super::pages::localized_errors;
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{api_errors, page_err, Ctx, FormData, Submitted, UiError, UiUser};

/// A category row.
pub struct CategoryView {
    id: i64,
    depth: usize,
    parent_id: i64,
    code: String,
    name_zh: String,
    name_en: String,
    position: i64,
    active: bool,
}

/// A policy row.
pub struct PolicyView {
    id: i64,
    name: String,
    position: i64,
    kind: String,
    category_id: i64,
    priority: String,
    tier: String,
    first: String,
    next: String,
    resolution: String,
    calendar_id: i64,
    active: bool,
}

/// A queue row.
pub struct QueueView {
    id: i64,
    name: String,
    team: String,
    skills: String,
    routing: String,
    members: Vec<(i64, String)>,
    others: Vec<(i64, String)>,
    waiting: i64,
}

#[derive(Template)]
#[template(path = "ticket/settings.html")]
struct SettingsTpl {
    ctx: Ctx,
    settings: ServiceSettings,
    categories: Vec<CategoryView>,
    policies: Vec<PolicyView>,
    calendars: Vec<(i64, String)>,
    queues: Vec<QueueView>,
    teams: Vec<(i64, String)>,
    /// Each team with its lead (0: none), and the agents to choose one from.
    leads: Vec<(i64, String, i64)>,
    agents: Vec<(i64, String)>,
    errors: Vec<(String, String)>,
    posted: HashMap<String, String>,
    row: String,
    saved: bool,
}

impl SettingsTpl {
    /// A field of a row: what was just typed into it when that row was refused, else what is
    /// stored.
    fn v(&self, row: &str, field: &str, stored: &str) -> String {
        if self.row == row {
            self.posted.get(field).cloned().unwrap_or_default()
        } else {
            stored.to_string()
        }
    }

    /// A checkbox of a row, the same way.
    fn on(&self, row: &str, field: &str, stored: bool) -> bool {
        if self.row == row {
            self.posted.contains_key(field)
        } else {
            stored
        }
    }

    /// The empty row that adds a policy: after the others, on the first calendar, in use.
    fn new_policy(&self) -> PolicyView {
        PolicyView {
            id: 0,
            name: String::new(),
            position: self.policies.iter().map(|p| p.position).max().unwrap_or(0) + 1,
            kind: String::new(),
            category_id: 0,
            priority: String::new(),
            tier: String::new(),
            first: String::new(),
            next: String::new(),
            resolution: String::new(),
            calendar_id: self.calendars.first().map(|c| c.0).unwrap_or(0),
            active: true,
        }
    }
}

fn minutes(v: Option<i64>) -> String {
    v.map(|m| m.to_string()).unwrap_or_default()
}

/// Categories in tree order (each followed by its children), with their depth.
fn tree(all: &[guanxi_domain::ticket::records::TicketCategory]) -> Vec<CategoryView> {
    fn walk(
        all: &[guanxi_domain::ticket::records::TicketCategory],
        parent: Option<i64>,
        depth: usize,
        out: &mut Vec<CategoryView>,
    ) {
        for c in all.iter().filter(|c| c.parent_id == parent) {
            if out.iter().any(|o| o.id == c.id) || depth > 8 {
                continue;
            }
            out.push(CategoryView {
                id: c.id,
                depth,
                parent_id: c.parent_id.unwrap_or(0),
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                position: c.position,
                active: c.active,
            });
            walk(all, Some(c.id), depth + 1, out);
        }
    }
    let mut out = Vec::with_capacity(all.len());
    walk(all, None, 0, &mut out);
    out
}

async fn settings_page(
    st: &AppState,
    user: &UiUser,
    errors: Vec<(String, String)>,
    posted: HashMap<String, String>,
    row: String,
    saved: bool,
) -> Result<Response, UiError> {
    user.require(Permission::ManageServiceDesk)?;
    let err = page_err(user.locale);
    let settings = admin_uc::settings(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let cats = uc::categories(&st.store, &user.actor).await.map_err(&err)?;
    let policies = uc::sla_policies(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let calendars = admin_uc::calendars(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let queues = uc::queues(&st.store, &user.actor).await.map_err(&err)?;
    let agents = user_names(st, user).await?;
    let teams: Vec<(i64, String)> = guanxi_app::users::list_teams(&st.store, &user.actor)
        .await
        .map_err(&err)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let name_of = |id: i64| {
        agents
            .iter()
            .find(|(a, _)| *a == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let queues = queues
        .into_iter()
        .map(|q| QueueView {
            id: q.id,
            team: q
                .team_id
                .and_then(|t| teams.iter().find(|(id, _)| *id == t))
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            skills: q.skills.join(", "),
            routing: q.routing.as_str().to_string(),
            members: q.members.iter().map(|m| (*m, name_of(*m))).collect(),
            others: agents
                .iter()
                .filter(|(a, _)| !q.members.contains(a))
                .cloned()
                .collect(),
            waiting: q.waiting,
            name: q.name,
        })
        .collect();
    let policies = policies
        .into_iter()
        .map(|p| PolicyView {
            id: p.id,
            name: p.name,
            position: p.position,
            kind: p.conditions.kind.map(|k| k.as_str()).unwrap_or("").into(),
            category_id: p.conditions.category_id.unwrap_or(0),
            priority: p
                .conditions
                .priority
                .map(|k| k.as_str())
                .unwrap_or("")
                .into(),
            tier: p.conditions.tier.unwrap_or_default(),
            first: minutes(p.first_response_minutes),
            next: minutes(p.next_response_minutes),
            resolution: minutes(p.resolution_minutes),
            calendar_id: p.calendar_id,
            active: p.active,
        })
        .collect();
    let lead_of = admin_uc::team_leads(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let leads = teams
        .iter()
        .map(|(id, name)| {
            let lead = lead_of
                .iter()
                .find(|(t, _)| t == id)
                .and_then(|(_, l)| *l)
                .unwrap_or(0);
            (*id, name.clone(), lead)
        })
        .collect();
    let tpl = SettingsTpl {
        ctx: user.ctx("ticket.settings"),
        leads,
        agents: agents.clone(),
        settings,
        categories: tree(&cats),
        policies,
        calendars,
        queues,
        teams,
        errors,
        posted,
        row,
        saved,
    };
    let status = if tpl.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The settings page.
pub async fn settings(
    State(st): State<AppState>,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    let saved = form.get("saved").is_some();
    settings_page(&st, &user, Vec::new(), HashMap::new(), String::new(), saved).await
}

/// What a save came to: back to the page (at the section) or the page again with the problems.
async fn answer(
    st: &AppState,
    user: &UiUser,
    form: &FormData,
    row: String,
    anchor: &str,
    result: Result<(), Vec<ValidationError>>,
) -> Result<Response, UiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/tickets/settings?saved=1#{anchor}")).into_response()),
        Err(errs) => {
            let errors = localized_errors(user.locale, &errs);
            settings_page(st, user, errors, form.values(), row, false).await
        }
    }
}

/// A use case's failure as field problems, or the page error it is.
fn problems(user: &UiUser, e: guanxi_app::AppError) -> Result<Vec<ValidationError>, UiError> {
    let e: crate::error::ApiError = e.into();
    match api_errors(e) {
        Some(errs) => Ok(errs),
        None => Err(UiError::Forbidden(user.locale)),
    }
}

/// A saved edit wakes the worker (a recomputation may be queued); a refused one becomes its
/// field problems.
fn settle(
    st: &AppState,
    user: &UiUser,
    r: Result<(), guanxi_app::AppError>,
) -> Result<Result<(), Vec<ValidationError>>, UiError> {
    match r {
        Ok(()) => {
            st.jobs.wake();
            Ok(Ok(()))
        }
        Err(err) => Ok(Err(problems(user, err)?)),
    }
}

/// A whole number typed into a field, or the problem.
fn number(form: &FormData, e: &mut ValidationErrors, field: &str) -> Option<i64> {
    let v = form.get(field)?;
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            e.push(field, "invalid_type");
            None
        }
    }
}

/// An optional reference typed as a select (`0` or empty: none).
fn reference(form: &FormData, e: &mut ValidationErrors, field: &str) -> Option<i64> {
    number(form, e, field).filter(|n| *n > 0)
}

/// A vocabulary code chosen in a select (empty: any).
fn code<T>(
    form: &FormData,
    e: &mut ValidationErrors,
    field: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    let v = form.get(field)?;
    e.field(field, parse(v))
}

/// Saves the desk-wide settings.
pub async fn save_settings(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut e = ValidationErrors::new();
    let reopen_days = number(&form, &mut e, "reopen_days");
    let attachment_max_kb = number(&form, &mut e, "attachment_max_kb");
    let result = match (reopen_days, attachment_max_kb) {
        (Some(reopen_days), Some(attachment_max_kb)) if e.is_empty() => {
            let s = ServiceSettings {
                reopen_days,
                attachment_max_kb,
            };
            match admin_uc::save_settings(&st.store, &user.actor, s).await {
                Ok(_) => Ok(()),
                Err(err) => Err(problems(&user, err)?),
            }
        }
        _ => {
            for f in ["reopen_days", "attachment_max_kb"] {
                if form.get(f).is_none() {
                    e.push(f, "required");
                }
            }
            Err(e.0)
        }
    };
    answer(&st, &user, &form, "settings".into(), "desk", result).await
}

/// Adds (no `id`) or changes a category.
pub async fn save_category(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut e = ValidationErrors::new();
    let id = reference(&form, &mut e, "id");
    let c = CategoryInput {
        parent_id: reference(&form, &mut e, "parent_id"),
        code: form.get("code").unwrap_or("").to_string(),
        name_zh: form.get("name_zh").unwrap_or("").to_string(),
        name_en: form.get("name_en").unwrap_or("").to_string(),
        position: number(&form, &mut e, "position").unwrap_or(0),
        active: form.checked("active"),
    };
    let row = id.map_or("cat-new".to_string(), |i| format!("cat-{i}"));
    let result = if !e.is_empty() {
        Err(e.0)
    } else {
        let r = match id {
            None => admin_uc::create_category(&st.store, &user.actor, c)
                .await
                .map(|_| ()),
            Some(id) => admin_uc::update_category(&st.store, &user.actor, id, c).await,
        };
        settle(&st, &user, r)?
    };
    answer(&st, &user, &form, row, "categories", result).await
}

/// Adds (no `id`) or changes an SLA policy.
pub async fn save_policy(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut e = ValidationErrors::new();
    let id = reference(&form, &mut e, "id");
    let p = SlaPolicyInput {
        name: form.get("name").unwrap_or("").to_string(),
        position: number(&form, &mut e, "position").unwrap_or(0),
        conditions: SlaConditions {
            kind: code(&form, &mut e, "kind", TicketKind::parse),
            category_id: reference(&form, &mut e, "category_id"),
            priority: code(&form, &mut e, "priority", Priority::parse),
            tier: form.get("tier").map(str::to_string),
        },
        first_response_minutes: number(&form, &mut e, "first_response_minutes"),
        next_response_minutes: number(&form, &mut e, "next_response_minutes"),
        resolution_minutes: number(&form, &mut e, "resolution_minutes"),
        calendar_id: reference(&form, &mut e, "calendar_id").unwrap_or(0),
        active: form.checked("active"),
    };
    let row = id.map_or("pol-new".to_string(), |i| format!("pol-{i}"));
    let result = if !e.is_empty() {
        Err(e.0)
    } else {
        let r = match id {
            None => admin_uc::create_sla_policy(&st.store, &user.actor, p)
                .await
                .map(|_| ()),
            Some(id) => admin_uc::update_sla_policy(&st.store, &user.actor, id, p).await,
        };
        settle(&st, &user, r)?
    };
    answer(&st, &user, &form, row, "policies", result).await
}

/// A queue: create one (`op=create`), add a member (`op=add_member`) or take one off
/// (`op=remove_member`).
pub async fn save_queue(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut e = ValidationErrors::new();
    let queue = reference(&form, &mut e, "queue_id");
    let member = reference(&form, &mut e, "user_id");
    let op = form.get("op").unwrap_or("");
    let row = queue.map_or("queue-new".to_string(), |q| format!("queue-{q}"));
    let r = match (op, queue, member) {
        ("create", _, _) => {
            let skills: Vec<String> = form
                .get("skills")
                .unwrap_or("")
                .split([',', '，'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let routing = match form.get("routing") {
                None => Ok(RoutingMode::RoundRobin),
                Some(r) => RoutingMode::parse(r),
            };
            match routing {
                Ok(routing) => uc::create_queue(
                    &st.store,
                    &user.actor,
                    form.get("name").unwrap_or(""),
                    reference(&form, &mut e, "team_id"),
                    &skills,
                    routing,
                )
                .await
                .map(|_| ()),
                Err(c) => Err(ValidationErrors::single("routing", c).into()),
            }
        }
        ("add_member", Some(q), Some(u)) => {
            uc::add_queue_member(&st.store, &user.actor, q, u).await
        }
        ("remove_member", Some(q), Some(u)) => {
            admin_uc::remove_queue_member(&st.store, &user.actor, q, u).await
        }
        ("team_lead", _, lead) => match reference(&form, &mut e, "team_id") {
            Some(team) => uc::set_team_lead(&st.store, &user.actor, team, lead).await,
            None => Err(ValidationErrors::single("team_id", "required").into()),
        },
        _ => Err(ValidationErrors::single("user_id", "required").into()),
    };
    let result = match r {
        Ok(()) if e.is_empty() => Ok(()),
        Ok(()) => Err(e.0),
        Err(err) => Err(problems(&user, err)?),
    };
    answer(&st, &user, &form, row, "queues", result).await
}

/// One dated exception as the calendar page lists it.
pub struct DayView {
    day: String,
    weekday: u32,
    rule: String,
    festival: String,
    provisional: bool,
}

#[derive(Template)]
#[template(path = "ticket/calendar.html")]
struct CalendarTpl {
    ctx: Ctx,
    id: i64,
    v: HashMap<String, String>,
    days: Vec<DayView>,
    years: Vec<i32>,
    year: i32,
    errors: Vec<(String, String)>,
    saved: bool,
}

impl CalendarTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// The form's fields of a stored calendar.
fn calendar_values(c: &guanxi_domain::ticket::records::NamedCalendar) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), c.name.clone());
    v.insert(
        "utc_offset_minutes".into(),
        c.calendar.utc_offset_minutes.to_string(),
    );
    for (i, day) in c.calendar.week.iter().enumerate() {
        v.insert(format!("week{i}"), format_periods(day));
    }
    v.insert(
        "workday_hours".into(),
        format_periods(&c.calendar.workday_hours),
    );
    v
}

async fn calendar_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    posted: Option<HashMap<String, String>>,
    errors: Vec<(String, String)>,
    year: Option<i32>,
    saved: bool,
) -> Result<Response, UiError> {
    user.require(Permission::ManageServiceDesk)?;
    let this_year = Utc::now().year();
    let year = year.unwrap_or(this_year);
    let (stored, all_days) = if id > 0 {
        let c = uc::calendar(&st.store, &user.actor, id)
            .await
            .map_err(page_err(user.locale))?;
        (calendar_values(&c), c.days)
    } else {
        let c = guanxi_domain::ticket::calendar::BusinessCalendar::china_office();
        let named = guanxi_domain::ticket::records::NamedCalendar {
            id: 0,
            name: String::new(),
            calendar: c,
            days: Vec::new(),
        };
        (calendar_values(&named), Vec::new())
    };
    let mut years: Vec<i32> = all_days.iter().map(|d| d.day.year()).collect();
    years.push(this_year);
    years.sort_unstable();
    years.dedup();
    let days = all_days
        .into_iter()
        .filter(|d| d.day.year() == year)
        .map(|d| DayView {
            day: d.day.format("%Y-%m-%d").to_string(),
            weekday: d.day.weekday().number_from_monday(),
            rule: d.rule.as_str().to_string(),
            festival: d.festival.unwrap_or_default(),
            provisional: d.provisional,
        })
        .collect();
    let tpl = CalendarTpl {
        ctx: user.ctx("ticket.calendar"),
        id,
        v: posted.unwrap_or(stored),
        days,
        years,
        year,
        errors,
        saved,
    };
    let status = if tpl.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// A calendar's page (`0`: a new calendar).
pub async fn calendar(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, UiError> {
    let year = form.get("year").and_then(|y| y.parse().ok());
    let saved = form.get("saved").is_some();
    calendar_page(&st, &user, id, None, Vec::new(), year, saved).await
}

/// The calendar form's input: name, offset and each weekday's hours.
fn calendar_input(form: &FormData) -> Result<CalendarInput, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let hours = |e: &mut ValidationErrors, field: &str, name: &str| -> Vec<Period> {
        e.field(field, parse_periods(form.get(name).unwrap_or("")))
            .unwrap_or_default()
    };
    let week: [Vec<Period>; 7] =
        std::array::from_fn(|i| hours(&mut e, &format!("week[{i}]"), &format!("week{i}")));
    let workday_hours = hours(&mut e, "workday_hours", "workday_hours");
    let utc_offset_minutes = match form.get("utc_offset_minutes").map(str::parse::<i32>) {
        Some(Ok(m)) => m,
        Some(Err(_)) => {
            e.push("utc_offset_minutes", "invalid_type");
            0
        }
        None => {
            e.push("utc_offset_minutes", "required");
            0
        }
    };
    let name = form.get("name").unwrap_or("").to_string();
    e.finish(|| CalendarInput {
        name,
        utc_offset_minutes,
        week,
        workday_hours,
    })
}

/// Saves a calendar's name, offset and hours (`0`: creates one).
pub async fn save_calendar(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let result = match calendar_input(&form) {
        Err(e) => Err(e.0),
        Ok(c) => {
            let r = if id > 0 {
                admin_uc::update_calendar(&st.store, &user.actor, id, c)
                    .await
                    .map(|_| id)
            } else {
                admin_uc::create_calendar(&st.store, &user.actor, c).await
            };
            match r {
                Ok(saved) => Ok(saved),
                Err(err) => Err(problems(&user, err)?),
            }
        }
    };
    match result {
        Ok(saved) => {
            st.jobs.wake();
            Ok(
                Redirect::to(&format!("/tickets/settings/calendars/{saved}?saved=1"))
                    .into_response(),
            )
        }
        Err(errs) => {
            let errors = localized_errors(user.locale, &errs);
            calendar_page(&st, &user, id, Some(form.values()), errors, None, false).await
        }
    }
}

/// Marks a date (`op=set`) or takes its mark off (`op=remove`).
pub async fn save_day(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let mut e = ValidationErrors::new();
    let day = match form
        .get("day")
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
    {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            e.push("day", "invalid_date");
            None
        }
        None => {
            e.push("day", "required");
            None
        }
    };
    let remove = form.get("op") == Some("remove");
    let rule = if remove {
        None
    } else {
        code(&form, &mut e, "rule", DayRule::parse)
    };
    let result = match (day, rule) {
        (Some(day), _) if remove => admin_uc::remove_calendar_day(&st.store, &user.actor, id, day)
            .await
            .map_err(|err| problems(&user, err)),
        (Some(day), Some(rule)) if e.is_empty() => {
            let d = CalendarDayInput {
                day,
                rule,
                festival: form.get("festival").map(str::to_string),
            };
            admin_uc::set_calendar_day(&st.store, &user.actor, id, d)
                .await
                .map_err(|err| problems(&user, err))
        }
        _ => {
            if rule.is_none() && !remove && form.get("rule").is_none() {
                e.push("rule", "required");
            }
            Err(Ok(e.0))
        }
    };
    match result {
        Ok(()) => {
            st.jobs.wake();
            let year = day.map(|d| d.year()).unwrap_or_else(|| Utc::now().year());
            Ok(Redirect::to(&format!(
                "/tickets/settings/calendars/{id}?saved=1&year={year}#days"
            ))
            .into_response())
        }
        Err(Err(page)) => Err(page),
        Err(Ok(errs)) => {
            let errors = localized_errors(user.locale, &errs);
            let year = day.map(|d| d.year());
            calendar_page(&st, &user, id, None, errors, year, false).await
        }
    }
}
