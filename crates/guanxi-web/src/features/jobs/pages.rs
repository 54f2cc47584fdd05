//! `/admin/jobs`: the queue as an operator reads it — what ran, what failed and why, what is
//! waiting — with retry and cancel.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use guanxi_domain::role::Permission;
use guanxi_store::jobs::{Job, JobFilter, JobState};

use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{urlencode, Ctx, FormData, Submitted, UiError, UiUser};

/// The feature's page routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/jobs", get(list))
        .route("/admin/jobs/{id}/retry", post(retry))
        .route("/admin/jobs/{id}/cancel", post(cancel))
}

/// Job kinds the filter offers (each handler's name).
const KINDS: &[&str] = &crate::jobs::KINDS;

/// The outcomes a redirect back to the list may announce.
const NOTICES: &[&str] = &["jobs.retried", "jobs.cancelled"];

/// The refusals a redirect back to the list may name (validation codes).
const REFUSALS: &[&str] = &["job_state", "job_active"];

struct JobRow {
    id: i64,
    kind: String,
    state: &'static str,
    attempts: String,
    requested_by: String,
    created: String,
    started: String,
    finished: String,
    error: String,
    result: String,
    can_retry: bool,
    can_cancel: bool,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct ListTpl {
    ctx: Ctx,
    kinds: Vec<&'static str>,
    states: Vec<&'static str>,
    kind: String,
    state: String,
    rows: Vec<JobRow>,
    notice: &'static str,
    refusal: &'static str,
    back: String,
}

fn row(j: Job, tz: chrono::FixedOffset) -> JobRow {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| format::datetime(t, tz)).unwrap_or_default()
    };
    JobRow {
        id: j.id,
        state: j.state.as_str(),
        attempts: format!("{} / {}", j.attempts, j.max_attempts),
        requested_by: j.requested_by_name,
        created: format::datetime(j.created_at, tz),
        started: when(j.started_at),
        finished: when(j.finished_at),
        error: j.last_error.unwrap_or_default(),
        result: j.result.map(|r| r.to_string()).unwrap_or_default(),
        can_retry: matches!(j.state, JobState::Failed | JobState::Cancelled),
        can_cancel: j.state == JobState::Queued,
        kind: j.kind,
    }
}

/// Picks `v` from an allow-list (query values never become catalogue keys unchecked).
fn allowed(list: &[&'static str], v: Option<&str>) -> &'static str {
    v.and_then(|v| list.iter().find(|k| **k == v).copied())
        .unwrap_or("")
}

/// The newest jobs, filtered by kind and state.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageJobs)?;
    let l = user.locale;
    let state = match q.get("state") {
        None => None,
        Some(s) => Some(JobState::from_code(s).ok_or(UiError::Invalid(
            l,
            axum::http::StatusCode::BAD_REQUEST,
            vec![format!(
                "state: {}",
                crate::i18n::message(l, "unknown_value")
            )],
        ))?),
    };
    let kind = allowed(KINDS, q.get("kind"));
    let jobs = guanxi_app::jobs::list_jobs(
        &st.store,
        &user.actor,
        &JobFilter {
            kind: (!kind.is_empty()).then(|| kind.to_string()),
            state,
            limit: 200,
        },
    )
    .await
    .map_err(crate::ui::session::page_err(l))?;
    let tz = format::zone(st.utc_offset_hours);
    let tpl = ListTpl {
        ctx: user.ctx("jobs.title"),
        kinds: KINDS.to_vec(),
        states: JobState::ALL.iter().map(|s| s.as_str()).collect(),
        kind: kind.into(),
        state: state.map(|s| s.as_str().to_string()).unwrap_or_default(),
        rows: jobs.into_iter().map(|j| row(j, tz)).collect(),
        notice: allowed(NOTICES, q.get("notice")),
        refusal: allowed(REFUSALS, q.get("refusal")),
        back: user.path.clone(),
    };
    Ok(render(l, &tpl))
}

/// Where to go after an action: the list the form came from, with the outcome.
fn back_to(form: &FormData, key: &str, value: &str) -> Redirect {
    let back = crate::ui::pages::safe_next(form.get("next"));
    let back = if back.starts_with("/admin/jobs") {
        back
    } else {
        "/admin/jobs".into()
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}{key}={}", urlencode(value)))
}

/// An action's refusal as the list announces it; other failures are error pages.
fn refused(
    l: crate::i18n::Locale,
    form: &FormData,
    e: guanxi_app::AppError,
) -> Result<Redirect, UiError> {
    match e {
        guanxi_app::AppError::Store(guanxi_store::StoreError::Invalid(v)) => {
            let code = v.0.first().map(|e| e.code.as_str()).unwrap_or("job_state");
            Ok(back_to(form, "refusal", code))
        }
        other => Err(UiError::from_api(l, other.into())),
    }
}

/// Puts a failed or cancelled job back on the queue.
pub async fn retry(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Redirect, UiError> {
    user.require(Permission::ManageJobs)?;
    match guanxi_app::jobs::retry_job(&st.store, &user.actor, id).await {
        Ok(_) => {
            st.jobs.wake();
            Ok(back_to(&form, "notice", "jobs.retried"))
        }
        Err(e) => refused(user.locale, &form, e),
    }
}

/// Withdraws a queued job.
pub async fn cancel(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Redirect, UiError> {
    user.require(Permission::ManageJobs)?;
    match guanxi_app::jobs::cancel_job(&st.store, &user.actor, id).await {
        Ok(_) => Ok(back_to(&form, "notice", "jobs.cancelled")),
        Err(e) => refused(user.locale, &form, e),
    }
}
