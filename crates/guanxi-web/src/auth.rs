//! Authentication and the per-request actor. Two ways in: a session cookie (browser; unsafe
//! methods must echo the session's CSRF token in `X-CSRF-Token`) or a bearer API token
//! (scripts; no CSRF since browsers never attach it by themselves). Passwords are argon2id;
//! session ids and tokens are random 256-bit values stored as SHA-256 digests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::cookie::CookieJar;
use guanxi_domain::records::User;
use guanxi_domain::role::{Actor, Permission};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gx_session";
/// Header carrying the CSRF token for cookie-authenticated unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of API tokens, so a leaked token is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "gx_";
/// Session lifetime.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);

/// Hashes a password (argon2id, on the blocking pool; see [`guanxi_app::passwords`]).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    Ok(guanxi_app::passwords::hash_password(password).await?)
}

pub use guanxi_app::passwords::verify_password;

/// A fresh random secret, hex-encoded (256 bits).
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// SHA-256 hex digest: how session ids and tokens are stored and looked up.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
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
            let user = state
                .store
                .user_for_token(&digest(token))
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
        let session = state
            .store
            .get_session(&digest(&sid))
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

/// Failed-login throttle, kept in memory (a restart resets it, which is acceptable for a
/// single-node deployment and keeps the login path free of writes). Three counters, each
/// over a 15-minute window:
/// - a username *from one client address*: 5 failures lock that pair, so someone guessing
///   a colleague's password from one machine cannot lock the colleague out at another;
/// - one client address over all usernames: 20 failures, so one attacker cannot spray
///   passwords over every account (nor lock out more than a handful of pairs);
/// - one username over all addresses: 100 failures, the ceiling on a distributed guess.
///
/// Without a known address (a test server without connect info) the pair falls back to the
/// username alone.
pub struct LoginThrottle {
    pair: Counter,
    address: Counter,
    username: Counter,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            pair: Counter::new(5),
            address: Counter::new(20),
            username: Counter::new(100),
        }
    }
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many keys, expired ones are swept so the maps cannot grow without bound.
const SWEEP_ABOVE: usize = 10_000;

/// Failures per key within the window.
struct Counter {
    limit: u32,
    seen: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Counter {
    fn new(limit: u32) -> Self {
        Self {
            limit,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn allowed(&self, key: &str) -> bool {
        let Ok(m) = self.seen.lock() else {
            return true;
        };
        match m.get(key) {
            Some((n, since)) if since.elapsed() < WINDOW => *n < self.limit,
            _ => true,
        }
    }

    fn failed(&self, key: &str) {
        if let Ok(mut m) = self.seen.lock() {
            if m.len() > SWEEP_ABOVE {
                m.retain(|_, (_, since)| since.elapsed() < WINDOW);
            }
            let e = m.entry(key.to_string()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut m) = self.seen.lock() {
            m.remove(key);
        }
    }
}

fn pair_key(username: &str, client: Option<IpAddr>) -> String {
    match client {
        Some(ip) => format!("{username}@{ip}"),
        None => username.to_string(),
    }
}

impl LoginThrottle {
    /// Whether another attempt for this username from this address is allowed now.
    pub fn allowed(&self, username: &str, client: Option<IpAddr>) -> bool {
        self.pair.allowed(&pair_key(username, client))
            && self.username.allowed(username)
            && client.is_none_or(|ip| self.address.allowed(&ip.to_string()))
    }

    /// Records a failure.
    pub fn failed(&self, username: &str, client: Option<IpAddr>) {
        self.pair.failed(&pair_key(username, client));
        self.username.failed(username);
        if let Some(ip) = client {
            self.address.failed(&ip.to_string());
        }
    }

    /// Clears the pair after a success (the address and username counters keep counting:
    /// one good password must not reset a spray).
    pub fn succeeded(&self, username: &str, client: Option<IpAddr>) {
        self.pair.clear(&pair_key(username, client));
    }
}

/// Permission a user needs to see unmasked sensitive fields.
pub const SENSITIVE: Permission = Permission::ViewSensitive;
