//! Guanxi's HTTP layer: the JSON API (with its OpenAPI document), authentication, errors mapped
//! to responses in one place, and i18n. Handlers are thin: parse, check permission, call the
//! domain and the store, present. The browser pages live beside `api` in `ui` and call the same
//! store functions with the same actor, so a page can never show more than the API would.

pub mod api;
pub mod auth;
pub mod download;
pub mod error;
pub mod extract;
pub mod features;
pub mod jobs;
pub mod overload;
pub mod request_id;
pub mod state;
pub mod ui;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use guanxi_text::{catalog, i18n};
pub use state::AppState;

use crate::error::ApiError;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let overload = std::sync::Arc::new(overload::Overload::new(state.limits));
    let (api, doc) = api::router();
    let doc = std::sync::Arc::new(doc);
    api.route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json((*doc).clone()) }
        }),
    )
    .merge(ui::router())
    .fallback(fallback)
    .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
    .layer(axum::middleware::from_fn_with_state(
        overload,
        overload::guard,
    ))
    .layer(axum::middleware::from_fn(error::localize))
    .layer(axum::middleware::from_fn(server_timing))
    .layer(axum::extract::DefaultBodyLimit::max(extract::MAX_JSON_BODY))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
    .layer(axum::middleware::from_fn(deny_framing))
    .layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        // A handler may set a stricter one (a stored file is served sandboxed).
        // Scripts only from our own vendored files (no inline script, no eval); inline style
        // attributes are allowed because htmx and ECharts set them.
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
             form-action 'self'",
        ),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ))
    .layer(CompressionLayer::new())
    .layer(TraceLayer::new_for_http())
    // Outermost: every log line of the request, the trace layer's included, carries its id.
    .layer(axum::middleware::from_fn(request_id::assign))
    .with_state(state)
}

/// `X-Frame-Options: DENY` on every answer but one that allows framing itself by its own
/// `Content-Security-Policy: frame-ancestors *` (the public lead form, embedded on the shop's
/// site): no other page can be framed to trick a signed-in user into clicking.
async fn deny_framing(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let framable = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("frame-ancestors *"));
    if !framable {
        res.headers_mut()
            .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

/// Adds `Server-Timing: app;dur=<ms>` to every response: the time the server spent, without
/// the network, readable in the browser's dev tools and by `bench/page_360.py`.
async fn server_timing(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let mut res = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

/// Unknown paths: JSON under `/api/`, the 404 page elsewhere.
async fn fallback(req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        ApiError::NoRoute.into_response()
    } else {
        ui::pages::not_found(req.headers().clone()).await
    }
}

/// Serves the app on a bound listener until Ctrl-C or SIGTERM (what `kill`, systemd and
/// container runtimes send). Either way the server stops accepting, lets requests in flight
/// finish, and then waits for a running score refresh: its swap is one transaction, so it
/// either commits or — if the process is killed harder — rolls back; never half-written.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let jobs = state.jobs.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    jobs.shutdown().await;
    Ok(())
}

/// Resolves on the first Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler; only Ctrl-C stops the server");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod layering {
    /// The page modules that still reach into `api` (use cases not yet moved to
    /// `guanxi-app`). Empty now; a new import fails the test.
    const NOT_YET_MOVED: &[&str] = &[];

    /// Every `.rs` file below `dir`, with its text.
    fn rust_files(dir: &str) -> Vec<(std::path::PathBuf, String)> {
        let mut dirs = vec![std::path::PathBuf::from(dir)];
        let mut out = Vec::new();
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        out
    }

    /// Pages are adapters over the application layer, never over the API: nothing under `ui/`
    /// or a feature's page modules imports `api` or any feature's `api` module.
    #[test]
    fn pages_do_not_import_the_api() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");
        let mut offenders = Vec::new();
        for d in ["ui", "features"] {
            for (path, text) in rust_files(&format!("{root}{d}")) {
                // A feature's API adapters (`api.rs`, `*_api.rs`) may share the API's types.
                let name = path.file_name().unwrap().to_string_lossy();
                let api_adapter = d == "features" && name.ends_with("api.rs");
                if !api_adapter && (text.contains("crate::api::") || text.contains("::api::")) {
                    let rel = path.strip_prefix(root).unwrap().display().to_string();
                    offenders.push(rel);
                }
            }
        }
        offenders.sort();
        assert_eq!(offenders, NOT_YET_MOVED, "page modules importing api");
    }

    /// The CLI is an adapter over the application layer too: it reaches into this crate only
    /// to run the server (`serve`, its state, the worker's settings and the overload limits),
    /// never for a use case, a text or an error's wording (those are `guanxi-app` and
    /// `guanxi-text`).
    #[test]
    fn the_cli_uses_the_web_crate_only_to_serve() {
        const SERVING: &[&str] = &[
            "guanxi_web::AppState",
            "guanxi_web::jobs::ChildRefresh",
            "guanxi_web::jobs::WorkerConfig",
            "guanxi_web::overload::Limits",
            "guanxi_web::serve",
        ];
        let mut used = std::collections::BTreeSet::new();
        for (_, text) in rust_files(concat!(env!("CARGO_MANIFEST_DIR"), "/../guanxi/src/")) {
            for (i, _) in text.match_indices("guanxi_web::") {
                let tail: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                used.insert(tail);
            }
        }
        let outside: Vec<&String> = used
            .iter()
            .filter(|u| !SERVING.iter().any(|s| u.starts_with(s)))
            .collect();
        assert!(used.len() >= 2, "scanned the CLI: {used:?}");
        assert!(
            outside.is_empty(),
            "the CLI uses the web crate for {outside:?}"
        );
    }

    /// The store calls a file makes directly (a method called on `st.store`), not through
    /// `guanxi-app`.
    fn direct_store_calls(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, _) in text.match_indices(".store") {
            let rest = text[i + ".store".len()..].trim_start();
            let Some(rest) = rest.strip_prefix('.') else {
                continue;
            };
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = rest.trim_start()[name.len()..].trim_start();
            if !name.is_empty() && after.starts_with('(') && name != "clone" {
                out.push(name);
            }
        }
        out
    }

    /// Every handler, page and API alike, reaches the store through the application layer,
    /// which authorises by allow-list first. What remains direct is infrastructure: the health
    /// check and the background worker (which runs as the job's requester).
    #[test]
    fn handlers_reach_the_store_only_through_the_application_layer() {
        const INFRASTRUCTURE: &[(&str, &str)] = &[
            ("api/mod.rs", "backend"),
            ("api/mod.rs", "count_users"),
            ("jobs.rs", "claim_job"),
            ("jobs.rs", "complete_job"),
            ("jobs.rs", "enqueue_job"),
            ("jobs.rs", "fail_job"),
            ("jobs.rs", "get_user"),
            ("jobs.rs", "list_jobs"),
        ];
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");
        let mut direct = Vec::new();
        for (path, text) in rust_files(root) {
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            for name in direct_store_calls(&text) {
                if !INFRASTRUCTURE.contains(&(rel.as_str(), name.as_str())) {
                    direct.push(format!("{rel}: {name}"));
                }
            }
        }
        assert!(
            direct_store_calls("st\n        .store\n        .list_users()").len() == 1,
            "the scanner sees a call split over lines"
        );
        assert!(
            direct.is_empty(),
            "store called around the application layer: {direct:#?}"
        );
    }
}
