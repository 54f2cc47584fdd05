//! Campaigns over the API (`ManageCampaigns`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::campaign::report::ProviderReport;
use guanxi_domain::campaign::{CampaignInput, CampaignState, Channel, ContactPolicy};
use guanxi_store::campaign::{AudiencePreview, CampaignFigures, CampaignRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use guanxi_app::campaign as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId};
use crate::state::AppState;

/// Every campaign, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<CampaignRecord>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<CampaignRecord>>, ApiError> {
    Ok(Json(uc::list(&st.store, &auth.actor).await?))
}

/// Save a new draft campaign.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = CampaignRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(c): JsonBody<CampaignInput>,
) -> Result<(StatusCode, Json<CampaignRecord>), ApiError> {
    let saved = uc::save(&st.store, &auth.actor, None, &c).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// A campaign with its figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    /// The campaign.
    pub campaign: CampaignRecord,
    /// Delivery, responses, conversions, revenue, lift.
    pub figures: CampaignFigures,
}

/// One campaign with its figures.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "Campaign id", minimum = 1)),
    responses((status = 200, body = CampaignDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<CampaignDetail>, ApiError> {
    let (campaign, figures) = uc::get(&st.store, &auth.actor, id, st.utc_offset_hours).await?;
    Ok(Json(CampaignDetail { campaign, figures }))
}

/// A change to a draft, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The campaign as it should be.
    pub campaign: CampaignInput,
}

/// Replace a draft (a launched campaign is what its recipients got: 422).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "Campaign id", minimum = 1)), request_body = CampaignUpdate,
    responses((status = 200, body = CampaignRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<CampaignUpdate>,
) -> Result<Json<CampaignRecord>, ApiError> {
    Ok(Json(
        uc::save(&st.store, &auth.actor, Some((id, u.version)), &u.campaign).await?,
    ))
}

/// Who a campaign would reach if it started now: sent to, held out, waiting for the frequency
/// cap, and skipped per reason.
#[utoipa::path(post, path = "/api/v1/campaigns/preview", tag = "campaigns", request_body = CampaignInput,
    responses((status = 200, body = AudiencePreview), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(c): JsonBody<CampaignInput>,
) -> Result<Json<AudiencePreview>, ApiError> {
    Ok(Json(
        uc::preview(&st.store, &auth.actor, None, &c, st.as_of()).await?,
    ))
}

/// A move of a campaign's state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// `sending` (launch now, or resume), `scheduled` (with `send_at`), `paused`,
    /// `cancelled`, `draft` (take a scheduled one back).
    pub to: CampaignState,
    /// When a scheduled campaign starts.
    #[serde(default)]
    pub send_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Launch, schedule, pause, resume or cancel a campaign.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/state", tag = "campaigns", params(("id" = i64, Path, description = "Campaign id", minimum = 1)), request_body = StateChange,
    responses((status = 200, body = CampaignRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_to(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(c): JsonBody<StateChange>,
) -> Result<Json<CampaignRecord>, ApiError> {
    let k = uc::move_to(&st.store, &auth.actor, id, c.version, c.to, c.send_at).await?;
    st.jobs.wake();
    Ok(Json(k))
}

/// One channel's contact policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelPolicy {
    /// The channel.
    pub channel: Channel,
    /// Its rules.
    pub policy: ContactPolicy,
}

/// The contact policy of every channel: frequency cap, quiet hours, complaint pause, bounce
/// and error limits, rate.
#[utoipa::path(get, path = "/api/v1/contact-policies", tag = "campaigns",
    responses((status = 200, body = Vec<ChannelPolicy>), (status = 403, body = ErrorBody)))]
pub async fn policies(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ChannelPolicy>>, ApiError> {
    Ok(Json(
        uc::policies(&st.store, &auth.actor)
            .await?
            .into_iter()
            .map(|(channel, policy)| ChannelPolicy { channel, policy })
            .collect(),
    ))
}

/// Replace a channel's contact policy.
#[utoipa::path(put, path = "/api/v1/contact-policies/{channel}", tag = "campaigns",
    params(("channel" = Channel, Path, description = "email, sms or call")), request_body = ContactPolicy,
    responses((status = 200, body = ContactPolicy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_policy(
    State(st): State<AppState>,
    auth: Auth,
    Path(channel): Path<String>,
    JsonBody(p): JsonBody<ContactPolicy>,
) -> Result<Json<ContactPolicy>, ApiError> {
    let channel = Channel::parse(&channel).ok_or(ApiError::NotFound)?;
    Ok(Json(
        uc::save_policy(&st.store, &auth.actor, channel, &p).await?,
    ))
}

/// The message a report was recorded against.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRecorded {
    /// The message (outbox row).
    pub outbox_id: i64,
    /// Its campaign, if any.
    pub campaign_id: Option<i64>,
    /// Its recipient.
    pub customer_id: i64,
}

/// A mail system's or SMS provider's report on a message it carried: a late bounce (a
/// delivery-status notification), a spam complaint, a failed delivery receipt, or the
/// recipient's reply. Bounces and complaints block the address as at sending; a reply goes
/// on the customer's timeline. Point the provider's callback (or the bounce mailbox's
/// processor) here with a token of a user who may manage campaigns.
#[utoipa::path(post, path = "/api/v1/campaigns/reports", tag = "campaigns", request_body = ProviderReport,
    responses((status = 200, body = ReportRecorded), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(r): JsonBody<ProviderReport>,
) -> Result<Json<ReportRecorded>, ApiError> {
    let o = uc::report(&st.store, &auth.actor, &r).await?;
    Ok(Json(ReportRecorded {
        outbox_id: o.outbox_id,
        campaign_id: o.campaign_id,
        customer_id: o.customer_id,
    }))
}

/// A direct-mail campaign's mailing list (CSV for the printer): each recipient's postal
/// address and their letter as written. Needs the export permission too; audited.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/mailing-list", tag = "campaigns", params(("id" = i64, Path, description = "Campaign id", minimum = 1)),
    responses((status = 200, description = "The list (CSV)", content_type = "text/csv", body = String),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mailing_list(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<axum::response::Response, ApiError> {
    let locale = guanxi_text::i18n::Locale::from_code(&auth.user.locale)
        .unwrap_or(guanxi_text::i18n::Locale::ZhCn);
    Ok(crate::download::file(
        guanxi_app::export::mailing_list(&st.store, &auth.actor, locale, id).await?,
    ))
}
