//! Signing in: the failed-login throttle, checking a password in constant work, opening a
//! session and the secrets it is made of. Shared by the API's login and the login page, so
//! both enforce exactly the same rules.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Utc;
use guanxi_domain::records::User;
use guanxi_domain::role::Actor;
use guanxi_store::audit::AuditEvent;
use guanxi_store::Store;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::passwords::verify_password;
use crate::AppError;

/// Session lifetime.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);

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

/// A placeholder hash so unknown usernames cost as much time as wrong passwords (no user
/// enumeration by timing).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";

/// Checks credentials (throttled, constant work for unknown users, audited either way) and
/// opens a session. Returns the user, the session id for the cookie and the CSRF token. Shared
/// by the API and the login page so both enforce exactly the same rules.
pub async fn start_session(
    store: &Store,
    throttle: &LoginThrottle,
    username: &str,
    password: String,
    client: Option<IpAddr>,
) -> Result<(User, String, String), AppError> {
    let username = username.trim().to_lowercase();
    if !throttle.allowed(&username, client) {
        return Err(AppError::TooManyAttempts);
    }
    let found = store.user_for_login(&username).await?;
    let (hash, user) = match found {
        Some((u, h)) => (h, Some(u)),
        None => (DUMMY_HASH.to_string(), None),
    };
    let ok = verify_password(hash, password).await;
    let Some(user) = user.filter(|_| ok) else {
        throttle.failed(&username, client);
        let mut sys = Actor::system();
        sys.name = username.chars().take(50).collect();
        store
            .audit(
                &sys,
                AuditEvent {
                    action: "login_failed",
                    entity: "user",
                    entity_id: None,
                    detail: json!({"username": sys.name}),
                },
            )
            .await?;
        return Err(AppError::InvalidCredentials);
    };
    throttle.succeeded(&username, client);
    let sid = random_secret();
    let csrf = random_secret();
    store
        .create_session(&digest(&sid), user.id, &csrf, Utc::now() + SESSION_TTL)
        .await?;
    store
        .audit(
            &Actor::for_user(&user),
            AuditEvent {
                action: "login",
                entity: "user",
                entity_id: Some(user.id),
                detail: json!({}),
            },
        )
        .await?;
    Ok((user, sid, csrf))
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

/// Prefix of API tokens, so a leaked token is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "gx_";

/// A new personal API token: the secret (shown once) and its id.
pub struct CreatedToken {
    /// Token id.
    pub id: i64,
    /// The bearer secret; only its digest is stored.
    pub token: String,
}

/// Creates a personal API token for the actor: a name (1–100 characters) and an optional
/// lifetime of 1–3650 days. Only the digest is stored; audited by the store.
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    name: &str,
    expires_in_days: Option<i64>,
) -> Result<CreatedToken, AppError> {
    let mut e = guanxi_domain::ValidationErrors::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        e.push(
            "name",
            if name.is_empty() {
                "required"
            } else {
                "too_long"
            },
        );
    }
    if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        e.push("expires_in_days", "out_of_range");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let prefix: String = token.chars().take(10).collect();
    let expires = expires_in_days.map(|d| Utc::now() + chrono::Duration::days(d));
    let id = store
        .create_token(actor, actor.id, name, &digest(&token), &prefix, expires)
        .await?;
    Ok(CreatedToken { id, token })
}

/// The actor's own API tokens (secrets are never shown again).
pub async fn list_tokens(
    store: &Store,
    actor: &Actor,
) -> Result<Vec<guanxi_store::users::ApiToken>, AppError> {
    Ok(store.list_tokens(actor.id).await?)
}

/// Revokes one of the actor's own tokens.
pub async fn revoke_token(store: &Store, actor: &Actor, token_id: i64) -> Result<(), AppError> {
    Ok(store.revoke_token(actor, actor.id, token_id).await?)
}

/// Ends a session (signing out): its cookie's secret is looked up by digest.
pub async fn end_session(store: &Store, session_secret: &str) -> Result<(), AppError> {
    Ok(store.delete_session(&digest(session_secret)).await?)
}

/// The signed-in session a cookie's secret names, if it is live and its user active.
pub async fn session_for(
    store: &Store,
    session_secret: &str,
) -> Result<Option<guanxi_store::users::Session>, AppError> {
    Ok(store.get_session(&digest(session_secret)).await?)
}

/// The active user a bearer token belongs to, if it is live (last use noted at most once a
/// minute, so reads stay off the writer).
pub async fn user_for_token(store: &Store, token: &str) -> Result<Option<User>, AppError> {
    Ok(store.user_for_token(&digest(token)).await?)
}
