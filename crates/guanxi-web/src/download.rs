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

/// A CSV download named after what it holds (RFC 6266 `filename*` for Chinese names).
pub fn csv(name: &str, body: Vec<u8>) -> Response {
    let date = chrono::Utc::now().format("%Y%m%d");
    let encoded: String = format!("{name}-{date}.csv")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
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
