//! The public capture form, `/f/<key>`: no sign-in, embeddable in the shop's own site (its
//! answer allows framing from anywhere, unlike every other page), in Chinese or English
//! (`?lang=en`). There is no CAPTCHA; instead:
//!
//! * a **honeypot**: a field people never see or fill (`website`, off-screen, skipped by the
//!   keyboard and autofill). A submission that fills it is thanked and dropped, so a bot
//!   learns nothing;
//! * a **rate limit per address**: [`CaptureLimit`] lets one address submit a few forms in a
//!   burst and then one every [`REFILL_SECONDS`]; past that the page answers 429 with
//!   `Retry-After`.
//!
//! The key in the address is the form's, not a secret between two people (the page is
//! public by design), so the form carries no CSRF token: there is no session to ride on.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use guanxi_app::lead as uc;
use guanxi_store::lead::LeadForm;
use guanxi_text::i18n::Locale;

use crate::extract::ClientAddr;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{field_messages, form_refusal, Ctx, FormData, UiError};

/// Submissions one address may make at once.
pub const BURST: u32 = 5;
/// Then one more per this many seconds.
pub const REFILL_SECONDS: u64 = 120;

/// The per-address limit on public submissions, one per server.
pub struct CaptureLimit(DefaultKeyedRateLimiter<IpAddr>);

impl Default for CaptureLimit {
    fn default() -> Self {
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(Duration::from_secs(REFILL_SECONDS))
            .map(|q| q.allow_burst(burst))
            .unwrap_or_else(|| Quota::per_minute(burst));
        CaptureLimit(RateLimiter::keyed(quota))
    }
}

impl CaptureLimit {
    /// `Err(seconds to wait)` when `client` is over its allowance.
    fn check(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let key = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.0.retain_recent();
        self.0.check_key(&key).map_err(|not_until| {
            not_until
                .wait_time_from(governor::clock::DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

#[derive(Template)]
#[template(path = "lead/public.html")]
struct PublicTpl {
    ctx: Ctx,
    key: String,
    title: String,
    lang: String,
    thanks: bool,
    errors: Vec<String>,
    v: std::collections::HashMap<String, String>,
}

impl PublicTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

fn locale_of(q: &FormData) -> Locale {
    match q.get("lang") {
        Some("en") => Locale::En,
        _ => Locale::ZhCn,
    }
}

/// The page, framable from any site.
fn page(locale: Locale, tpl: &PublicTpl, status: StatusCode) -> Response {
    let mut r = render(locale, tpl);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors *; base-uri 'self'; \
             form-action 'self'",
        ),
    );
    r
}

/// The active form behind `key` (404 otherwise) and its page.
async fn tpl_for(
    st: &AppState,
    key: &str,
    locale: Locale,
) -> Result<(LeadForm, PublicTpl), UiError> {
    let form = uc::public_form(&st.store, key)
        .await
        .map_err(|e| UiError::from_api(locale, e.into()))?;
    let tpl = PublicTpl {
        ctx: Ctx::anonymous(locale, "lead.public_title"),
        key: key.to_string(),
        title: form.name.clone(),
        lang: locale.code().to_string(),
        thanks: false,
        errors: Vec::new(),
        v: Default::default(),
    };
    Ok((form, tpl))
}

/// The form (404 for an unknown or switched-off one).
pub async fn show(
    State(st): State<AppState>,
    Path(key): Path<String>,
    q: FormData,
) -> Result<Response, UiError> {
    let locale = locale_of(&q);
    let (_, tpl) = tpl_for(&st, &key, locale).await?;
    Ok(page(locale, &tpl, StatusCode::OK))
}

/// A submission: thanks; the form again with what to fix (422); 429 past the address's
/// allowance. A filled honeypot is thanked and dropped.
pub async fn submit(
    State(st): State<AppState>,
    Path(key): Path<String>,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Result<Response, UiError> {
    let locale = locale_of(&form);
    let (lead_form, mut tpl) = tpl_for(&st, &key, locale).await?;
    if let Err(wait) = st.lead_capture.check(client) {
        tpl.errors = vec![crate::ui::text::t(locale, "lead.too_many").to_string()];
        tpl.v = form.pairs().iter().cloned().collect();
        let mut r = page(locale, &tpl, StatusCode::TOO_MANY_REQUESTS);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(r);
    }
    if form.get("website").is_some() {
        tracing::info!(form = %key, "lead form honeypot filled: dropped");
        tpl.thanks = true;
        return Ok(page(locale, &tpl, StatusCode::OK));
    }
    match uc::capture(&st.store, &lead_form, &super::pages::lead_of(&form)).await {
        Ok(_) => {
            tpl.thanks = true;
            Ok(page(locale, &tpl, StatusCode::OK))
        }
        Err(e) => {
            let (_, errs) = form_refusal(locale, e)?;
            tpl.errors = field_messages(locale, &errs);
            tpl.v = form.pairs().iter().cloned().collect();
            Ok(page(locale, &tpl, StatusCode::UNPROCESSABLE_ENTITY).into_response())
        }
    }
}
