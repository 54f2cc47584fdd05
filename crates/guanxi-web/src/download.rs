//! Files handed to the browser: the answer for an export the application layer wrote
//! (`guanxi_app::export`), with a download name and no caching. Shared by the API and the pages.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use guanxi_app::export::Download;

/// The response for a finished export file.
pub fn file(d: Download) -> Response {
    (
        [
            (header::CONTENT_TYPE, d.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.filename),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        d.bytes,
    )
        .into_response()
}

/// A file name percent-encoded for RFC 6266's `filename*` (Chinese names survive).
fn encoded(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A file a user attached (a ticket's photo, invoice, voice note), served with the type the
/// upload check decided and `nosniff`, so the browser never reinterprets it; pictures open in
/// the page, everything else downloads. A sandbox policy keeps any file from running script.
pub fn stored(name: &str, content_type: &str, inline: bool, bytes: Vec<u8>) -> Response {
    let disposition = if inline { "inline" } else { "attachment" };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
                    encoded(name)
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A CSV download named after what it holds (RFC 6266 `filename*` for Chinese names).
pub fn csv(name: &str, body: Vec<u8>) -> Response {
    let date = chrono::Utc::now().format("%Y%m%d");
    let encoded = encoded(&format!("{name}-{date}.csv"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"segment-{date}.csv\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        body,
    )
        .into_response()
}
