//! Overload protection: a per-client rate limit and a cap on requests in flight, so that more
//! load than the server can take is refused at once with 429 or 503 and `Retry-After`, instead
//! of every request slowing down until all of them time out.
//!
//! * **Rate**: each client address may send [`Limits::requests_per_second`] on average, with
//!   bursts of [`Limits::burst`] (GCRA, the `governor` crate, keyed by the connection's peer
//!   address). The answer says when the client's next request is allowed.
//! * **In flight**: at most [`Limits::max_in_flight`] requests are being served at once; the
//!   next one is refused with 503 rather than queued behind them.
//!
//! API paths get the JSON error body, pages the error page, both in the reader's language.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::ui::session::{anonymous_locale, UiError};

/// How much load the server accepts; set from the configuration (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sustained requests per second from one client address; 0 turns the rate limit off.
    pub requests_per_second: u32,
    /// How many requests one address may send at once above the sustained rate (a page load
    /// fetches its styles, scripts and fragments together).
    pub burst: u32,
    /// Requests served at the same time, all clients together; 0 means no cap.
    pub max_in_flight: usize,
}

impl Default for Limits {
    /// Generous enough for an office of people behind one address, tight enough that one
    /// runaway script cannot take the server from everyone else.
    fn default() -> Self {
        Limits {
            requests_per_second: 200,
            burst: 400,
            max_in_flight: 512,
        }
    }
}

/// The live state of the limits, shared by every request.
pub struct Overload {
    per_client: Option<DefaultKeyedRateLimiter<IpAddr>>,
    in_flight: Option<Arc<Semaphore>>,
    checks: AtomicU64,
}

/// How often (in checks) the rate limiter forgets clients that have been quiet, so that its
/// memory follows the clients of the last moments, not every address ever seen.
const FORGET_EVERY: u64 = 10_000;

impl Overload {
    /// The state for `limits`.
    pub fn new(limits: Limits) -> Self {
        let per_client = NonZeroU32::new(limits.requests_per_second).map(|rate| {
            let burst =
                NonZeroU32::new(limits.burst.max(limits.requests_per_second)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Overload {
            per_client,
            in_flight: (limits.max_in_flight > 0)
                .then(|| Arc::new(Semaphore::new(limits.max_in_flight))),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(seconds to wait)` when `client` is over its rate.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.per_client else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

/// Middleware: refuses a request over its client's rate (429) or over the cap in flight (503).
pub async fn guard(State(overload): State<Arc<Overload>>, req: Request, next: Next) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(client) = client {
        if let Err(wait) = overload.check(client) {
            let mut res = refuse(&req, ApiError::TooManyRequests);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return res;
        }
    }
    let _permit = match &overload.in_flight {
        Some(slots) => match slots.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => return refuse(&req, ApiError::Busy),
        },
        None => None,
    };
    next.run(req).await
}

/// The refusal as the caller expects it: JSON under `/api/`, the error page elsewhere.
fn refuse(req: &Request, e: ApiError) -> Response {
    if req.uri().path().starts_with("/api/") {
        e.into_response()
    } else {
        UiError::from_api(anonymous_locale(req.headers()), e).into_response()
    }
}
