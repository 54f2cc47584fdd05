//! The desk's configuration over the API: desk-wide settings, the category tree, SLA
//! policies, business calendars with their holidays and make-up days, queue membership. Reads
//! need `ReadTickets`, changes `ManageServiceDesk`. Use cases: `guanxi_app::ticket::admin`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use guanxi_domain::ticket::records::{NamedCalendar, SlaPolicy, TicketCategory};
use guanxi_domain::ticket::setup::{
    CalendarDayInput, CalendarInput, CategoryInput, ServiceSettings, SlaPolicyInput,
};
use guanxi_domain::ValidationError;
use serde::Serialize;
use utoipa::ToSchema;

use guanxi_app::ticket as uc;
use guanxi_app::ticket::admin as admin_uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, PathIds};
use crate::state::AppState;

/// The desk-wide settings: reopen window and attachment size limit.
#[utoipa::path(get, path = "/api/v1/service/settings", tag = "service",
    responses((status = 200, body = ServiceSettings)))]
pub async fn settings(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<ServiceSettings>, ApiError> {
    Ok(Json(admin_uc::settings(&st.store, &auth.actor).await?))
}

/// Change the desk-wide settings (desk manager).
#[utoipa::path(put, path = "/api/v1/service/settings", tag = "service", request_body = ServiceSettings,
    responses((status = 200, body = ServiceSettings), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn save_settings(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(s): JsonBody<ServiceSettings>,
) -> Result<Json<ServiceSettings>, ApiError> {
    Ok(Json(
        admin_uc::save_settings(&st.store, &auth.actor, s).await?,
    ))
}

async fn category(st: &AppState, auth: &Auth, id: i64) -> Result<TicketCategory, ApiError> {
    uc::categories(&st.store, &auth.actor)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound)
}

/// Add a category to the tree (desk manager). A taken code is a 409.
#[utoipa::path(post, path = "/api/v1/service/categories", tag = "service", request_body = CategoryInput,
    responses((status = 201, body = TicketCategory), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_category(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(c): JsonBody<CategoryInput>,
) -> Result<(StatusCode, Json<TicketCategory>), ApiError> {
    let id = admin_uc::create_category(&st.store, &auth.actor, c).await?;
    Ok((StatusCode::CREATED, Json(category(&st, &auth, id).await?)))
}

/// Change a category: names, parent (not below itself), order, retired or not.
#[utoipa::path(put, path = "/api/v1/service/categories/{id}", tag = "service",
    params(("id" = i64, Path, description = "Category id", minimum = 1)), request_body = CategoryInput,
    responses((status = 200, body = TicketCategory), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_category(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(c): JsonBody<CategoryInput>,
) -> Result<Json<TicketCategory>, ApiError> {
    admin_uc::update_category(&st.store, &auth.actor, id, c).await?;
    st.jobs.wake();
    Ok(Json(category(&st, &auth, id).await?))
}

async fn policy(st: &AppState, auth: &Auth, id: i64) -> Result<SlaPolicy, ApiError> {
    uc::sla_policies(&st.store, &auth.actor)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ApiError::NotFound)
}

/// Add an SLA policy (desk manager); open tickets are recomputed in the background.
#[utoipa::path(post, path = "/api/v1/service/sla-policies", tag = "service", request_body = SlaPolicyInput,
    responses((status = 201, body = SlaPolicy), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_sla_policy(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<SlaPolicyInput>,
) -> Result<(StatusCode, Json<SlaPolicy>), ApiError> {
    let id = admin_uc::create_sla_policy(&st.store, &auth.actor, p).await?;
    st.jobs.wake();
    Ok((StatusCode::CREATED, Json(policy(&st, &auth, id).await?)))
}

/// Change an SLA policy; open tickets are recomputed in the background.
#[utoipa::path(put, path = "/api/v1/service/sla-policies/{id}", tag = "service",
    params(("id" = i64, Path, description = "Policy id", minimum = 1)), request_body = SlaPolicyInput,
    responses((status = 200, body = SlaPolicy), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_sla_policy(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<SlaPolicyInput>,
) -> Result<Json<SlaPolicy>, ApiError> {
    admin_uc::update_sla_policy(&st.store, &auth.actor, id, p).await?;
    st.jobs.wake();
    Ok(Json(policy(&st, &auth, id).await?))
}

/// A calendar's id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarEntry {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// Every business calendar.
#[utoipa::path(get, path = "/api/v1/service/calendars", tag = "service",
    responses((status = 200, body = Vec<CalendarEntry>)))]
pub async fn calendars(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<CalendarEntry>>, ApiError> {
    Ok(Json(
        admin_uc::calendars(&st.store, &auth.actor)
            .await?
            .into_iter()
            .map(|(id, name)| CalendarEntry { id, name })
            .collect(),
    ))
}

/// Add a business calendar (desk manager); China's shipped holidays and make-up days for
/// 2025–2027 are written into it.
#[utoipa::path(post, path = "/api/v1/service/calendars", tag = "service", request_body = CalendarInput,
    responses((status = 201, body = NamedCalendar), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_calendar(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(c): JsonBody<CalendarInput>,
) -> Result<(StatusCode, Json<NamedCalendar>), ApiError> {
    let id = admin_uc::create_calendar(&st.store, &auth.actor, c).await?;
    Ok((
        StatusCode::CREATED,
        Json(uc::calendar(&st.store, &auth.actor, id).await?),
    ))
}

/// Change a calendar's name, offset and weekly hours; open tickets are recomputed.
#[utoipa::path(put, path = "/api/v1/service/calendars/{id}", tag = "service",
    params(("id" = i64, Path, description = "Calendar id", minimum = 1)), request_body = CalendarInput,
    responses((status = 200, body = NamedCalendar), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_calendar(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(c): JsonBody<CalendarInput>,
) -> Result<Json<NamedCalendar>, ApiError> {
    admin_uc::update_calendar(&st.store, &auth.actor, id, c).await?;
    st.jobs.wake();
    Ok(Json(uc::calendar(&st.store, &auth.actor, id).await?))
}

/// Mark a date as a public holiday or a make-up working day (调休), replacing what the date
/// had; open tickets are recomputed.
#[utoipa::path(post, path = "/api/v1/service/calendars/{id}/days", tag = "service",
    params(("id" = i64, Path, description = "Calendar id", minimum = 1)), request_body = CalendarDayInput,
    responses((status = 204, description = "Set"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_calendar_day(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(d): JsonBody<CalendarDayInput>,
) -> Result<StatusCode, ApiError> {
    admin_uc::set_calendar_day(&st.store, &auth.actor, id, d).await?;
    st.jobs.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// Take a dated exception off a calendar: the date follows the weekly hours again.
#[utoipa::path(delete, path = "/api/v1/service/calendars/{id}/days/{day}", tag = "service",
    params(("id" = i64, Path, description = "Calendar id", minimum = 1),
           ("day" = String, Path, description = "Date, YYYY-MM-DD", format = Date)),
    responses((status = 204, description = "Removed"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_calendar_day(
    State(st): State<AppState>,
    auth: Auth,
    Path((id, day)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = id.parse::<i64>().ok().filter(|i| *i > 0);
    let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok();
    let (Some(id), Some(day)) = (id, day) else {
        return Err(ApiError::BadQuery(vec![ValidationError::new(
            "day",
            "invalid_date",
        )]));
    };
    admin_uc::remove_calendar_day(&st.store, &auth.actor, id, day).await?;
    st.jobs.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// Take an agent off a queue (desk manager).
#[utoipa::path(delete, path = "/api/v1/service/queues/{id}/members/{user_id}", tag = "service",
    params(("id" = i64, Path, description = "Queue id", minimum = 1),
           ("user_id" = i64, Path, description = "User id", minimum = 1)),
    responses((status = 204, description = "Removed"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(st): State<AppState>,
    auth: Auth,
    PathIds(queue, user): PathIds,
) -> Result<StatusCode, ApiError> {
    admin_uc::remove_queue_member(&st.store, &auth.actor, queue, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
