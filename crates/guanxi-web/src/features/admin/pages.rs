//! Administration pages: users, roles and teams; the audit log viewer.

use crate::ui::session::Submitted;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use guanxi_domain::role::{Permission, Role};
use guanxi_domain::user::NewUser;
use guanxi_domain::ValidationError;
use guanxi_store::audit::AuditFilter;

use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{
    api_errors, field, optional_field, urlencode, version_field, Ctx, FormData, Typed, UiError,
    UiUser,
};

struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: &'static str,
    team: String,
    see_all: bool,
    active: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersTpl {
    ctx: Ctx,
    users: Vec<UserRow>,
    teams: Vec<(i64, String)>,
    roles: Vec<&'static str>,
    flash: &'static str,
    errors: Vec<(String, &'static str)>,
}

async fn users_page(
    st: &AppState,
    user: &UiUser,
    flash: &'static str,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let err = crate::ui::session::page_err(l);
    let users = guanxi_app::users::list_users(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let teams = guanxi_app::users::list_teams(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let tpl = UsersTpl {
        ctx: user.ctx("admin.users"),
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                role: u.role.as_str(),
                team: u.team_id.map(|t| t.to_string()).unwrap_or_default(),
                see_all: u.see_all_customers,
                active: u.active,
                version: u.meta.version,
            })
            .collect(),
        teams: teams.into_iter().map(|t| (t.id, t.name)).collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        flash,
        errors: errors
            .into_iter()
            .map(|e| (format!("user.{}", e.field), e.message_key))
            .collect(),
    };
    Ok((status, render(l, &tpl)).into_response())
}

/// The users and teams page.
pub async fn users(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageUsers)?;
    let flash = match q.get("saved") {
        Some("user") => "flash.user_saved",
        Some("team") => "flash.team_saved",
        _ => "",
    };
    users_page(&st, &user, flash, Vec::new(), StatusCode::OK).await
}

/// Creates a user (same checks as the API: username shape, password length, argon2 hash).
pub async fn create_user(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageUsers)?;
    let l = user.locale;
    let role = Role::parse(form.get("role").unwrap_or("")).map_err(|_| UiError::BadForm(l))?;
    let new = NewUser {
        username: form.get("username").unwrap_or("").to_string(),
        display_name: form.get("display_name").unwrap_or("").to_string(),
        password: form.raw("password").unwrap_or_default().to_string(),
        role,
        team_id: form.get("team").and_then(|t| t.parse().ok()),
        see_all_customers: false,
        locale: Some(user.locale.code().to_string()),
    };
    match guanxi_app::users::create_user(&st.store, &user.actor, new)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(_) => Ok(Redirect::to("/admin/users?saved=user").into_response()),
        Err(e) => match api_errors(e.clone()) {
            Some(errors) => {
                users_page(&st, &user, "", errors, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(UiError::from_api(l, e)),
        },
    }
}

/// The admin's row for one user as a change: the version last read, the role, the team (none
/// when left empty), the see-all grant and whether the account is active (checkboxes).
pub struct UserForm(pub guanxi_domain::user::UserPatch);

impl TryFrom<&FormData> for UserForm {
    type Error = guanxi_domain::ValidationErrors;

    fn try_from(form: &FormData) -> Result<Self, Self::Error> {
        let mut e = guanxi_domain::ValidationErrors::new();
        let version = version_field(form, &mut e);
        let role = field(form, &mut e, "role", Role::parse);
        let team = optional_field(form, &mut e, "team", |t| {
            t.parse::<i64>().map_err(|_| "invalid_reference")
        });
        e.finish(|| {
            UserForm(guanxi_domain::user::UserPatch {
                version: version.unwrap_or_default(),
                role,
                team_id: Some(team),
                see_all_customers: Some(form.checked("see_all")),
                active: Some(form.checked("active")),
                ..Default::default()
            })
        })
    }
}

/// Changes a user's role, team, grant and active flag.
pub async fn update_user(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Typed {
        user,
        input: UserForm(patch),
        ..
    }: Typed<UserForm>,
) -> Result<Response, UiError> {
    user.require(Permission::ManageUsers)?;
    let l = user.locale;
    if id == user.user.id && (patch.active == Some(false) || patch.role != Some(Role::Admin)) {
        // An admin locking themselves out is almost always a slip.
        return users_page(
            &st,
            &user,
            "",
            vec![ValidationError::new("role", "self_lockout")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match guanxi_app::users::update_user(&st.store, &user.actor, id, patch).await {
        Ok(_) => Ok(Redirect::to("/admin/users?saved=user").into_response()),
        Err(e) => match api_errors(e.into()) {
            Some(errors) => users_page(&st, &user, "", errors, StatusCode::CONFLICT).await,
            None => Err(UiError::Internal(l, "user update".into())),
        },
    }
}

/// Creates a team.
pub async fn create_team(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageUsers)?;
    let name = form.get("name").unwrap_or("");
    match guanxi_app::users::create_team(&st.store, &user.actor, name).await {
        Ok(_) => Ok(Redirect::to("/admin/users?saved=team").into_response()),
        Err(e) => match api_errors(e.into()) {
            Some(errors) => {
                let errors = errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = "team".into();
                        e
                    })
                    .collect();
                users_page(&st, &user, "", errors, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(UiError::Internal(user.locale, "team create".into())),
        },
    }
}

#[derive(Default)]
struct AuditFilters {
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    since: String,
    until: String,
}

struct AuditRowView {
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    link: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTpl {
    ctx: Ctx,
    f: AuditFilters,
    users: Vec<(i64, String)>,
    actions: Vec<&'static str>,
    entities: Vec<&'static str>,
    rows: Vec<AuditRowView>,
    next_url: String,
    error: &'static str,
}

/// Actions the audit log records (for the filter).
pub const AUDIT_ACTIONS: &[&str] = &[
    "create",
    "update",
    "delete",
    "merge",
    "export",
    "read_sensitive",
    "login",
    "login_failed",
    "refresh_scores",
    "retry_job",
    "cancel_job",
];
/// Entities the audit log records (for the filter).
pub const AUDIT_ENTITIES: &[&str] = &[
    "customer",
    "contact_point",
    "relation",
    "order",
    "user",
    "team",
    "token",
    "interaction",
    "task",
    "customer_scores",
    "job",
];

/// The audit log with filters (who, what, which record, when).
pub async fn audit(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadAudit)?;
    let l = user.locale;
    let tz = format::zone(st.utc_offset_hours);
    let mut error = "";
    let day = |s: Option<&str>, error: &mut &'static str| {
        s.and_then(|d| match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(tz).single())
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => {
                *error = "invalid_date";
                None
            }
        })
    };
    let since = day(q.get("since"), &mut error);
    let until = day(q.get("until"), &mut error).map(|t| t + chrono::Duration::days(1));
    let num = |s: Option<&str>, error: &mut &'static str| {
        s.and_then(|v| match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                *error = "invalid_type";
                None
            }
        })
    };
    let actor_id = num(q.get("actor"), &mut error);
    let entity_id = num(q.get("entity_id"), &mut error);
    let filter = AuditFilter {
        actor_id,
        action: q.get("action").map(str::to_string),
        entity: q.get("entity").map(str::to_string),
        entity_id,
        since,
        until,
        cursor: q.get("cursor").map(str::to_string),
        limit: 100,
    };
    let page = guanxi_app::audit::list_audit(&st.store, &user.actor, &filter)
        .await
        .map_err(|e| match e {
            guanxi_app::AppError::Store(guanxi_store::StoreError::Invalid(_)) => {
                UiError::BadForm(l)
            }
            other => UiError::from_api(l, other.into()),
        })?;
    let base: Vec<String> = ["actor", "action", "entity", "entity_id", "since", "until"]
        .iter()
        .filter_map(|k| q.get(k).map(|v| format!("{k}={}", urlencode(v))))
        .collect();
    let next_url = page
        .next_cursor
        .map(|c| format!("/admin/audit?{}&cursor={c}", base.join("&")))
        .unwrap_or_default();
    let tpl = AuditTpl {
        ctx: user.ctx("admin.audit"),
        f: AuditFilters {
            actor: q.get("actor").unwrap_or("").into(),
            action: q.get("action").unwrap_or("").into(),
            entity: q.get("entity").unwrap_or("").into(),
            entity_id: q.get("entity_id").unwrap_or("").into(),
            since: q.get("since").unwrap_or("").into(),
            until: q.get("until").unwrap_or("").into(),
        },
        users: user_names(&st, &user).await?,
        actions: AUDIT_ACTIONS.to_vec(),
        entities: AUDIT_ENTITIES.to_vec(),
        rows: page
            .items
            .into_iter()
            .map(|e| AuditRowView {
                at: format::datetime(e.at, tz),
                actor: e.actor_name,
                link: match (e.entity.as_str(), e.entity_id) {
                    ("customer", Some(id)) => format!("/customers/{id}"),
                    _ => String::new(),
                },
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
                detail: e.detail.to_string(),
            })
            .collect(),
        next_url,
        error,
    };
    Ok(render(l, &tpl))
}
