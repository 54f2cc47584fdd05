//! Front-end assets compiled into the binary (vendored from npm: htmx 2.0.11, ECharts 5.6.0;
//! their licences sit beside them in `static/`). No CDN: the CRM works on a closed network.
//! File names carry the version, so they are cached for a year.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (name, content type, bytes, long-lived cache?)
const ASSETS: &[(&str, &str, &[u8], bool)] = &[
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/htmx-2.0.11.min.js"),
        true,
    ),
    (
        "echarts-5.6.0.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/echarts-5.6.0.min.js"),
        true,
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
        false,
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
        false,
    ),
];

/// Serves one asset by name; unknown names are 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, ..)| *n == file) {
        Some((_, ct, bytes, long)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (
                    header::CACHE_CONTROL,
                    if *long {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    },
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
