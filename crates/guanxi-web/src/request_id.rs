//! Every request gets an id: taken from a sane incoming `X-Request-Id` (a proxy's), else made
//! here. It is on every log line of the request (a tracing span), in the `X-Request-Id`
//! response header, in JSON error bodies and on error pages, so a user's "it said 500, id
//! 3f9c…" finds the log lines and their cause.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use tracing::Instrument;

/// The header carrying the id both ways.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task (`None` outside a request).
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An incoming id we keep: 8–64 characters of `[A-Za-z0-9._-]` (anything else could forge
/// log lines or headers).
fn sane(v: &str) -> bool {
    (8..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A new id: 16 random hex digits.
fn fresh() -> String {
    format!("{:016x}", rand::thread_rng().next_u64())
}

/// Middleware: assigns the id, runs the request inside its span and task-local, and returns
/// it in the response header.
pub async fn assign(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(fresh);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(sane("3f9c0a12b4d5e6f7"));
        assert!(sane("req-2026.12_04"));
        assert!(!sane("short"));
        assert!(!sane("has space in it"));
        assert!(!sane("line\nbreak-forged"));
        assert!(!sane(&"a".repeat(65)));
        assert_eq!(fresh().len(), 16);
        assert!(sane(&fresh()));
    }
}
