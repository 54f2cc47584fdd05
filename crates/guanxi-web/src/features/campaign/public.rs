//! What a campaign's recipient reaches without signing in: the unsubscribe page (GET shows a
//! button — link scanners must not unsubscribe anyone —, POST unsubscribes, which is also the
//! RFC 8058 one-click request mail clients send), the open pixel, and the click redirect. The
//! token in the address is the secret (128 random bits), so there is no other CSRF token.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_store::campaign::TokenOwner;
use guanxi_text::i18n::Locale;

use guanxi_app::campaign as uc;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{Ctx, UiError};

/// A transparent 1×1 GIF.
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

#[derive(Template)]
#[template(path = "campaign/unsubscribe.html")]
struct UnsubscribeTpl {
    ctx: Ctx,
    token: String,
    address: String,
    channel: String,
    done: bool,
}

fn masked(address: Option<&str>) -> String {
    guanxi_domain::masking::mask_address(address.unwrap_or(""))
}

/// The page for the message of `token`; `done` once it was unsubscribed.
fn page(token: &str, owner: &TokenOwner, done: bool) -> Response {
    let locale = Locale::from_code(&owner.lang).unwrap_or(Locale::ZhCn);
    let ctx = Ctx::anonymous(locale, "campaign.unsubscribe_title");
    let channel = ctx.label("campaign_channel", &owner.channel);
    render(
        locale,
        &UnsubscribeTpl {
            token: token.to_string(),
            address: masked(owner.address.as_deref()),
            channel,
            done: done || owner.unsubscribed,
            ctx,
        },
    )
}

/// The unsubscribe page.
pub async fn show(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    let owner = uc::token_owner(&st.store, &token)
        .await
        .map_err(|e| UiError::from_api(Locale::ZhCn, e.into()))?;
    Ok(page(&token, &owner, false))
}

/// Unsubscribes (the page's button, or a mail client's one-click POST).
pub async fn unsubscribe(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    let owner = uc::unsubscribe(&st.store, &token)
        .await
        .map_err(|e| UiError::from_api(Locale::ZhCn, e.into()))?;
    Ok(page(&token, &owner, true))
}

/// The open pixel: always the image (an unknown token learns nothing), never cached.
pub async fn pixel(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    if let Err(e) = uc::opened(&st.store, &token).await {
        tracing::debug!(error = ?e, "open pixel not recorded");
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, private"),
        ],
        PIXEL,
    )
        .into_response()
}

/// The link's target.
#[derive(Debug, serde::Deserialize)]
pub struct Target {
    u: String,
}

/// The click redirect: only to a link that is in the message (never an open redirect).
pub async fn click(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(t): Query<Target>,
) -> Result<Response, UiError> {
    let to = uc::clicked(&st.store, &token, &t.u)
        .await
        .map_err(|_| UiError::NotFound(Locale::ZhCn))?;
    Ok(Redirect::to(&to).into_response())
}
