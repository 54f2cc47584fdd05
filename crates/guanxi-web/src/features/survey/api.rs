//! Surveys over the API: set them up, read their figures, make a personal link for a customer
//! (`ManageCare`); and the public pair a link's holder uses — read the questions, answer once —
//! which needs no sign-in, the token being the secret.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use guanxi_domain::survey::{SurveyDefinition, SurveyInput};
use guanxi_store::survey::{Breakdown, LinkState, SurveyRecord, SurveyResults};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use guanxi_app::survey as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Every survey.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys",
    responses((status = 200, body = Vec<SurveyRecord>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SurveyRecord>>, ApiError> {
    Ok(Json(uc::list_surveys(&st.store, &auth.actor).await?))
}

/// Save a survey: CSAT, NPS or SERVQUAL with their standard questions, or custom questions.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyInput,
    responses((status = 201, body = SurveyRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(input): JsonBody<SurveyInput>,
) -> Result<(StatusCode, Json<SurveyRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create_survey(&st.store, &auth.actor, &input).await?),
    ))
}

/// Which figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Invitations sent from (default: a year ago).
    pub from: Option<DateTime<Utc>>,
    /// Invitations sent before (default: now).
    pub to: Option<DateTime<Utc>>,
    /// Break down by `agent`, `team`, `product`, `month` or `segment` (each saved segment's
    /// figures over the invited customers in it today).
    pub by: Option<String>,
}

/// A survey's figures: response rate, CSAT / NPS / SERVQUAL gaps, optionally broken down.
#[utoipa::path(get, path = "/api/v1/surveys/{id}/results", tag = "surveys", params(("id" = i64, Path, description = "Survey id", minimum = 1), ResultsQuery),
    responses((status = 200, body = SurveyResults), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn results(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<ResultsQuery>,
) -> Result<Json<SurveyResults>, ApiError> {
    let bad = |field: &str, code: &'static str| {
        ApiError::BadQuery(guanxi_domain::ValidationErrors::single(field, code).0)
    };
    let by = match q.by.as_deref() {
        None => None,
        Some("agent") => Some(Breakdown::Agent),
        Some("team") => Some(Breakdown::Team),
        Some("product") => Some(Breakdown::Product),
        Some("month") => Some(Breakdown::Month),
        Some("segment") => Some(Breakdown::Segment),
        Some(_) => return Err(bad("by", "unknown_value")),
    };
    let to = q.to.unwrap_or_else(|| Utc::now() + Duration::minutes(1));
    let from = q.from.unwrap_or(to - Duration::days(365));
    if from >= to {
        return Err(bad("from", "out_of_range"));
    }
    Ok(Json(
        uc::results(
            &st.store,
            &auth.actor,
            id,
            from,
            to,
            by,
            st.utc_offset_hours,
        )
        .await?,
    ))
}

/// Whom a link is for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The customer.
    #[schema(minimum = 1)]
    pub customer_id: i64,
    /// `zh-CN` (default) or `en`: the language the survey page speaks.
    #[serde(default)]
    pub locale: Option<String>,
}

/// A personal link, or why none was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkMade {
    /// The page's path (`/s/<token>`), shown this once; none when the customer was surveyed
    /// within the fatigue window.
    pub path: Option<String>,
    /// The token alone, for the public API.
    pub token: Option<String>,
    /// True when the fatigue window held the link back.
    pub fatigued: bool,
}

/// Make a personal single-use link to a survey for a customer the caller sees.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/links", tag = "surveys", params(("id" = i64, Path, description = "Survey id", minimum = 1)), request_body = LinkRequest,
    responses((status = 201, body = LinkMade), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make_link(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(r): JsonBody<LinkRequest>,
) -> Result<(StatusCode, Json<LinkMade>), ApiError> {
    let locale = match r.locale.as_deref() {
        None | Some("zh-CN") => "zh-CN",
        Some("en") => "en",
        Some(_) => {
            return Err(ApiError::Validation(
                guanxi_domain::ValidationErrors::single("locale", "unknown_value").0,
            ))
        }
    };
    let made = uc::make_link(&st.store, &auth.actor, id, r.customer_id, locale).await?;
    Ok((
        StatusCode::CREATED,
        Json(match made {
            uc::Link::Made(token) => LinkMade {
                path: Some(format!("/s/{token}")),
                token: Some(token),
                fatigued: false,
            },
            uc::Link::Fatigued => LinkMade {
                path: None,
                token: None,
                fatigued: true,
            },
        }),
    ))
}

/// A send of a survey to a segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentSendRequest {
    /// The saved segment whose customers get the survey.
    #[schema(minimum = 1)]
    pub segment_id: i64,
}

/// The send started.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentSendStarted {
    /// Its id.
    pub send_id: i64,
}

/// Send a survey to a segment: each customer gets a personal link by e-mail (or SMS when a
/// survey SMS template is configured), those surveyed inside the fatigue window excepted; the
/// segment is read and the messages sent in the background.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/sends", tag = "surveys", params(("id" = i64, Path, description = "Survey id", minimum = 1)), request_body = SegmentSendRequest,
    responses((status = 202, body = SegmentSendStarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_to_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(r): JsonBody<SegmentSendRequest>,
) -> Result<(StatusCode, Json<SegmentSendStarted>), ApiError> {
    let send_id =
        guanxi_app::survey::send::send_to_segment(&st.store, &auth.actor, id, r.segment_id).await?;
    st.jobs.wake();
    Ok((StatusCode::ACCEPTED, Json(SegmentSendStarted { send_id })))
}

/// What a link opens.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSurvey {
    /// The survey's name.
    pub name: String,
    /// Its questions.
    pub definition: SurveyDefinition,
    /// The language it was sent in.
    pub locale: String,
    /// Open, answered or expired.
    pub state: LinkState,
}

/// Read the survey a link opens (no sign-in: the token is the secret).
#[utoipa::path(get, path = "/api/v1/public/surveys/{token}", tag = "surveys", params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, body = PublicSurvey), (status = 404, body = ErrorBody)))]
pub async fn open(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<PublicSurvey>, ApiError> {
    let link = uc::open_link(&st.store, &token).await?;
    Ok(Json(PublicSurvey {
        name: link.survey.name,
        definition: link.survey.definition,
        locale: link.locale,
        state: link.state,
    }))
}

/// Answers by question key, each as text (`"9"` for a rating).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Question key → answer.
    pub answers: BTreeMap<String, String>,
}

/// Answer through a link, once (no sign-in). A second answer or an expired link is 422 with
/// `already_answered` or `link_expired` on `token`.
#[utoipa::path(post, path = "/api/v1/public/surveys/{token}", tag = "surveys", params(("token" = String, Path, description = "The link's token")), request_body = AnswerBody,
    responses((status = 201, body = guanxi_store::survey::ResponseRecord), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer(
    State(st): State<AppState>,
    Path(token): Path<String>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Result<(StatusCode, Json<guanxi_store::survey::ResponseRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::answer(&st.store, &token, &body.answers).await?),
    ))
}
