//! Issue #13: no read waits for a long write, and more load than the server takes is refused
//! at once with 429/503 and `Retry-After` instead of slowing everyone down.

use std::time::{Duration, Instant};

use crate::common::TestApp;
use guanxi_domain::role::Role;
use guanxi_store::Backend;
use guanxi_web::overload::Limits;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_token_read_answers_while_a_long_write_holds_the_writer);

/// While a long write holds the database (an import in another process), a bearer-token read
/// answers at once, and a write answers 503 with `Retry-After` after the lock wait — not a 500
/// after ten seconds — and changes nothing.
async fn a_token_read_answers_while_a_long_write_holds_the_writer(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, _) = rep
        .post("/customers", json!({"kind": "individual", "name": "张三"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // The token's "last used" is a minute old: a read would record it.
    let stale = chrono::Utc::now().timestamp_millis() - 120_000;
    app.db
        .execute(&format!("UPDATE api_tokens SET last_used_at = {stale}"))
        .await;

    let held = app.db.hold_writer().await;
    let start = Instant::now();
    let (s, page) = rep.get("/customers").await;
    let took = start.elapsed();
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert!(took < Duration::from_millis(200), "read took {took:?}");

    let start = Instant::now();
    let res = rep
        .raw(reqwest::Method::POST, "/customers")
        .json(&json!({"kind": "individual", "name": "李四"}))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let took = start.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "busy");
    assert!(
        body["message"].as_str().unwrap().contains("服务器正忙"),
        "{body}"
    );
    assert!(
        took < Duration::from_secs(6),
        "write refused after {took:?}"
    );
    held.release().await;

    let (_, page) = rep.get("/customers").await;
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(1),
        "nothing half-written"
    );
    let (s, _) = rep
        .post("/customers", json!({"kind": "individual", "name": "李四"}))
        .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "the same write goes through afterwards"
    );
}

/// One client address over its rate gets 429 with the wait in `Retry-After`, as JSON under
/// `/api/` and as a page elsewhere; another address is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_gets_429_and_others_do_not() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Limits {
            requests_per_second: 1,
            burst: 3,
            max_in_flight: 0,
        },
    )
    .await;
    let me = app.anonymous_from([127, 0, 0, 7]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(me.get("/health").await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let res = me
        .raw(reqwest::Method::GET, "/health")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "retry after {wait}");
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "too_many_requests"
    );

    let page = me
        .http
        .get(app.base.replace("/api/v1", "/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("<html"));

    let other = app.anonymous_from([127, 0, 0, 8]);
    assert_eq!(other.get("/health").await.0, StatusCode::OK);
}

/// With every slot in flight taken (here one, held by a request whose body is still
/// arriving), the next request is refused at once with 503 instead of queueing; once the slot
/// is free again requests are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_in_flight_cap_get_503_at_once() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Limits {
            requests_per_second: 0,
            burst: 0,
            max_in_flight: 1,
        },
    )
    .await;
    let addr = app
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"username\""
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let res = app
        .anonymous()
        .raw(reqwest::Method::GET, "/health")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "busy"
    );
    assert!(start.elapsed() < Duration::from_millis(500));
    drop(slow);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.anonymous().get("/health").await.0, StatusCode::OK);
}
