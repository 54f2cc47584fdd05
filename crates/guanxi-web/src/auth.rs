//! Authentication and the per-request actor. Two ways in: a session cookie (browser; unsafe
//! methods must echo the session's CSRF token in `X-CSRF-Token`) or a bearer API token
//! (scripts; no CSRF since browsers never attach it by themselves). Passwords are argon2id;
//! session ids and tokens are random 256-bit values stored as SHA-256 digests.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::cookie::CookieJar;
use guanxi_domain::records::User;
use guanxi_domain::role::{Actor, Permission};

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gx_session";
/// Header carrying the CSRF token for cookie-authenticated unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub use guanxi_app::passwords::verify_password;

pub use guanxi_app::sessions::{digest, random_secret, LoginThrottle, SESSION_TTL};

/// The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS, whole site, no Max-Age.
pub fn session_cookie(st: &AppState, sid: String) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, sid))
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(st.secure_cookies)
        .path("/")
        .build()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How the request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Session cookie.
    Session,
    /// Bearer token.
    Token,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The user.
    pub user: User,
    /// Actor for store calls.
    pub actor: Actor,
    /// How they authenticated.
    pub via: Via,
}

impl Auth {
    /// Fails with 403 unless the caller holds the permission.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.actor.can(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let token = h
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthenticated)?
                .trim();
            let user = guanxi_app::sessions::user_for_token(&state.store, token)
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            return Ok(Auth {
                actor: Actor::for_user(&user),
                user,
                via: Via::Token,
            });
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let sid = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .ok_or(ApiError::Unauthenticated)?;
        let session = guanxi_app::sessions::session_for(&state.store, &sid)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
                return Err(ApiError::Csrf);
            }
        }
        Ok(Auth {
            actor: Actor::for_user(&session.user),
            user: session.user,
            via: Via::Session,
        })
    }
}

/// Permission a user needs to see unmasked sensitive fields.
pub const SENSITIVE: Permission = Permission::ViewSensitive;
