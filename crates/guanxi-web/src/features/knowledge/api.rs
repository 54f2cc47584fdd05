//! The knowledge base over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::knowledge::{Article, ArticleHit, ArticleInput};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use guanxi_app::knowledge as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words (Chinese, English or mixed); empty lists the newest articles.
    pub q: Option<String>,
    /// `zh` (default) or `en`: the language of titles and snippets.
    pub lang: Option<String>,
    /// Most results (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Search the knowledge base: every word of the query must occur (Chinese two-character words
/// as words); titles rank first; each hit has a snippet with the matches marked.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "service", params(SearchQuery),
    responses((status = 200, body = Vec<ArticleHit>), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<SearchQuery>,
) -> Result<Json<Vec<ArticleHit>>, ApiError> {
    let zh = match q.lang.as_deref() {
        None | Some("zh") | Some("zh-CN") => true,
        Some("en") => false,
        Some(_) => {
            return Err(ApiError::BadQuery(
                guanxi_domain::ValidationErrors::single("lang", "unknown_value").0,
            ))
        }
    };
    let limit = crate::extract::page_limit(q.limit, 20, 100)?;
    Ok(Json(
        uc::search(
            &st.store,
            &auth.actor,
            q.q.as_deref().unwrap_or(""),
            zh,
            limit,
        )
        .await?,
    ))
}

/// Write an article (a draft unless the desk manager publishes it).
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "service", request_body = ArticleInput,
    responses((status = 201, body = Article), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(a): JsonBody<ArticleInput>,
) -> Result<(StatusCode, Json<Article>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create(&st.store, &auth.actor, a).await?),
    ))
}

/// Read an article (counts a view).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "service", params(("id" = i64, Path, description = "Article id", minimum = 1)),
    responses((status = 200, body = Article), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Article>, ApiError> {
    Ok(Json(uc::read(&st.store, &auth.actor, id).await?))
}

/// Replace an article; send the `version` read (a stale one is 409).
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "service", params(("id" = i64, Path, description = "Article id", minimum = 1)), request_body = ArticleInput,
    responses((status = 200, body = Article), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(a): JsonBody<ArticleInput>,
) -> Result<Json<Article>, ApiError> {
    Ok(Json(uc::update(&st.store, &auth.actor, id, a).await?))
}

/// A vote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// Helpful (true) or not (false).
    pub helpful: bool,
}

/// Vote on a published article (one vote per user; voting again changes it).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/vote", tag = "service", params(("id" = i64, Path, description = "Article id", minimum = 1)), request_body = Vote,
    responses((status = 200, body = Article), (status = 404, body = ErrorBody)))]
pub async fn vote(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(v): JsonBody<Vote>,
) -> Result<Json<Article>, ApiError> {
    Ok(Json(uc::vote(&st.store, &auth.actor, id, v.helpful).await?))
}

/// The ticket an article answered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketLink {
    /// Ticket.
    #[schema(minimum = 1)]
    pub ticket_id: i64,
}

/// "This answered it": link a published article to a ticket (once per pair; on its history).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/tickets", tag = "service", params(("id" = i64, Path, description = "Article id", minimum = 1)), request_body = TicketLink,
    responses((status = 204, description = "Linked"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(l): JsonBody<TicketLink>,
) -> Result<StatusCode, ApiError> {
    uc::link(&st.store, &auth.actor, l.ticket_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
