//! The to-do page (`/tasks`): my tasks, my team's, or a colleague's, open first and overdue on
//! top, filtered by due date and words, ticked off in place (htmx swaps the row; without
//! JavaScript the form posts and comes back to the same list). The counts are the whole
//! filter's, not the page's.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use guanxi_domain::records::Task;
use guanxi_domain::role::Permission;
use guanxi_store::tasks::{TaskFilter, TaskStatus, TaskWho};
use std::collections::HashMap;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::format;
use crate::ui::pages::safe_next;
use crate::ui::render;
use crate::ui::session::{
    page_err, urlencode, version_field, Ctx, FormData, Typed, UiError, UiUser,
};
use guanxi_app::timeline as uc;

/// Rows per page.
const PAGE: i64 = 50;

/// One row as the list shows it.
pub struct TaskRowView {
    id: i64,
    version: i64,
    customer_id: i64,
    customer_name: String,
    title: String,
    note: String,
    due: String,
    overdue: bool,
    done: bool,
    assignee: String,
}

/// The filter as typed, echoed back into the form and the pager links.
#[derive(Default)]
struct Echo {
    who: String,
    status: String,
    due: String,
    q: String,
    assignee: String,
}

#[derive(Template)]
#[template(path = "timeline/tasks.html")]
struct TasksTpl {
    ctx: Ctx,
    f: Echo,
    rows: Vec<TaskRowView>,
    total: i64,
    overdue: i64,
    people: Vec<(i64, String)>,
    has_team: bool,
    back: String,
    prev_url: String,
    next_url: String,
}

#[derive(Template)]
#[template(path = "timeline/task_row.html")]
struct TaskRowTpl {
    ctx: Ctx,
    back: String,
    t: TaskRowView,
}

fn view(
    t: Task,
    customer_name: String,
    names: &HashMap<i64, String>,
    tz: chrono::FixedOffset,
) -> TaskRowView {
    TaskRowView {
        id: t.id,
        version: t.meta.version,
        customer_id: t.customer_id,
        customer_name,
        overdue: t.done_at.is_none() && t.due_at < Utc::now(),
        done: t.done_at.is_some(),
        assignee: t
            .assignee_id
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_default(),
        due: format::datetime(t.due_at, tz),
        title: t.title,
        note: t.note.unwrap_or_default(),
    }
}

/// The filter a query asks for; unknown values fall back to the defaults (mine, open).
fn filter_of(user: &UiUser, q: &FormData, tz: chrono::FixedOffset) -> (TaskFilter, Echo) {
    let who_code = q.get("who").unwrap_or("mine");
    let assignee = q.get("assignee").and_then(|a| a.parse::<i64>().ok());
    let (who, who_code) = match (who_code, assignee, user.actor.team_id) {
        (_, Some(a), _) => (TaskWho::User(a), "user"),
        ("team", _, Some(team)) => (TaskWho::Team(team), "team"),
        ("all", _, _) => (TaskWho::Anyone, "all"),
        _ => (TaskWho::User(user.user.id), "mine"),
    };
    let (status, status_code) = match q.get("status") {
        Some("done") => (TaskStatus::Done, "done"),
        Some("all") => (TaskStatus::All, "all"),
        _ => (TaskStatus::Open, "open"),
    };
    let now = Utc::now();
    let end_of_today = format::today(tz)
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| d.and_local_timezone(tz).single())
        .map(|d| d.with_timezone(&Utc));
    let (due_before, due_code) = match q.get("due") {
        Some("overdue") => (Some(now), "overdue"),
        Some("today") => (end_of_today, "today"),
        Some("week") => (Some(now + Duration::days(7)), "week"),
        _ => (None, ""),
    };
    let page = q
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let words = q.get("q").map(str::to_string);
    (
        TaskFilter {
            who,
            status,
            due_before: due_before.map(|t| t.timestamp_millis()),
            q: words.clone(),
            limit: PAGE,
            offset: (page - 1) * PAGE,
        },
        Echo {
            who: who_code.into(),
            status: status_code.into(),
            due: due_code.into(),
            q: words.unwrap_or_default(),
            assignee: assignee.map(|a| a.to_string()).unwrap_or_default(),
        },
    )
}

/// `/tasks?who=&assignee=&status=&due=&q=&page=` as a link.
fn link(f: &Echo, page: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [
        ("who", f.who.as_str()),
        ("assignee", f.assignee.as_str()),
        ("status", f.status.as_str()),
        ("due", f.due.as_str()),
        ("q", f.q.as_str()),
    ] {
        // "user" is implied by `assignee`, so the link does not repeat it.
        let implied = k == "who" && v == "user";
        if !v.is_empty() && !implied {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    format!("/tasks?{}", parts.join("&"))
}

/// The task list page.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadCustomers)?;
    let tz = format::zone(st.utc_offset_hours);
    let (filter, echo) = filter_of(&user, &q, tz);
    let list = uc::task_list(
        &st.store,
        &user.actor,
        &filter,
        Utc::now().timestamp_millis(),
    )
    .await
    .map_err(page_err(user.locale))?;
    let people = user_names(&st, &user).await?;
    let names: HashMap<i64, String> = people.iter().cloned().collect();
    let page = filter.offset / PAGE + 1;
    let tpl = TasksTpl {
        ctx: user.ctx("tasks.title"),
        rows: list
            .items
            .into_iter()
            .map(|t| view(t.task, t.customer_name, &names, tz))
            .collect(),
        total: list.total,
        overdue: list.overdue,
        people,
        has_team: user.actor.team_id.is_some(),
        back: link(&echo, page),
        prev_url: if page > 1 {
            link(&echo, page - 1)
        } else {
            String::new()
        },
        next_url: if page * PAGE < list.total {
            link(&echo, page + 1)
        } else {
            String::new()
        },
        f: echo,
    };
    Ok(render(user.locale, &tpl))
}

/// Ticking a task off or reopening it: the version last read and `done` (`done=0` reopens;
/// anything else, or no value, ticks it off).
pub struct TaskDoneForm {
    version: i64,
    done: bool,
}

impl TryFrom<&FormData> for TaskDoneForm {
    type Error = guanxi_domain::ValidationErrors;

    fn try_from(form: &FormData) -> Result<Self, Self::Error> {
        let mut e = guanxi_domain::ValidationErrors::new();
        let version = version_field(form, &mut e);
        e.finish(|| TaskDoneForm {
            version: version.unwrap_or_default(),
            done: form.get("done") != Some("0"),
        })
    }
}

/// Ticks a task off (or re-opens it with `done=0`). From the task page with htmx the row is
/// swapped in place; a plain form goes back to `next` (the list it came from) or the
/// customer's timeline. A stale version shows the task as it now is rather than an error: the
/// colleague who ticked it first already did what was asked.
pub async fn set_done(
    State(st): State<AppState>,
    Path(task_id): Path<i64>,
    Typed {
        user,
        input: TaskDoneForm { version, done },
        form,
    }: Typed<TaskDoneForm>,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let err = page_err(l);
    let t = match uc::set_task_done(&st.store, &user.actor, task_id, version, done).await {
        Ok(t) => t,
        Err(guanxi_app::AppError::Store(guanxi_store::StoreError::Conflict { .. })) => {
            uc::get_task(&st.store, &user.actor, task_id)
                .await
                .map_err(&err)?
        }
        Err(e) => return Err(err(e)),
    };
    let back = form.get("next").map(|n| safe_next(Some(n)));
    if form.is_htmx() {
        let tz = format::zone(st.utc_offset_hours);
        let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
        let customer = guanxi_app::customers::read_in_list(&st.store, &user.actor, t.customer_id)
            .await
            .map_err(err)?;
        let tpl = TaskRowTpl {
            ctx: user.ctx("tasks.title"),
            back: back.unwrap_or_else(|| "/tasks".into()),
            t: view(t, customer.name, &names, tz),
        };
        return Ok(render(l, &tpl));
    }
    Ok(
        Redirect::to(&back.unwrap_or_else(|| format!("/customers/{}#timeline", t.customer_id)))
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_drop_defaults() {
        let f = Echo {
            who: "team".into(),
            status: "open".into(),
            due: "overdue".into(),
            q: "报价 & co".into(),
            assignee: String::new(),
        };
        assert_eq!(
            link(&f, 1),
            "/tasks?who=team&status=open&due=overdue&q=%E6%8A%A5%E4%BB%B7%20%26%20co"
        );
        assert!(link(&f, 3).ends_with("&page=3"));
        let colleague = Echo {
            who: "user".into(),
            assignee: "7".into(),
            ..Echo::default()
        };
        assert_eq!(link(&colleague, 1), "/tasks?assignee=7");
    }
}
