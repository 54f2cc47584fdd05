//! The durable job queue survives `kill -9`: a server killed while a score refresh is in hand
//! (effect committed, completion not yet) leaves a job that the next server takes over once
//! the lease runs out and completes exactly once — one `done` row, one audit entry — on both
//! backends.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, guanxi, serve_command, text, wait_for_health};
use chrono::Utc;
use guanxi_domain::customer::CustomerFields;
use guanxi_domain::order::{NewOrder, NewOrderLine};
use guanxi_domain::role::Role;
use guanxi_domain::vocabulary::OrderChannel;
use guanxi_store::jobs::{JobState, NewJob};
use guanxi_store::testing::{user, TestDb};
use guanxi_store::Backend;
use serde_json::json;

/// A server over `db` whose worker takes one-second leases, with extra environment.
fn start(db: &TestDb, env: &[(&str, &str)]) -> (Child, String) {
    let port = free_port();
    let mut cmd = serve_command(&db.url, port);
    cmd.env("GUANXI_JOB_LEASE_SECONDS", "1")
        .env_remove("GUANXI_JOB_PAUSE")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    (
        cmd.spawn().expect("start guanxi serve"),
        format!("http://127.0.0.1:{port}/api/v1"),
    )
}

/// Polls `check` every 50 ms for up to `secs`.
async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A customer named `name` with one order of ¥88 placed `days_ago` days ago.
async fn customer_with_an_order(
    s: &guanxi_store::Store,
    admin: &guanxi_domain::role::Actor,
    name: &str,
    days_ago: i64,
) {
    let f: CustomerFields =
        serde_json::from_value(json!({"kind": "individual", "name": name})).unwrap();
    let c = s
        .create_customer(admin, f.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    s.create_order(
        admin,
        NewOrder {
            customer_id: c.id,
            ordered_at: Utc::now() - chrono::Duration::days(days_ago),
            currency: "CNY".into(),
            channel: OrderChannel::Store,
            store: None,
            external_ref: None,
            lines: vec![NewOrderLine {
                sku: "LJ".into(),
                product_name: None,
                category: None,
                quantity: 1,
                unit_price_minor: 8800,
            }],
        },
    )
    .await
    .unwrap();
}

async fn killed_mid_job_completes_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let admin = user(s, "ops", Role::Admin, None).await;
    for (i, name) in ["甲", "乙", "丙"].iter().enumerate() {
        customer_with_an_order(s, &admin, name, 10 * (i as i64 + 1)).await;
    }
    let queued = s
        .enqueue_job(
            &admin,
            NewJob {
                kind: "scores.refresh".into(),
                dedupe_key: Some("all".into()),
                payload: json!({"utc_offset_hours": 8}),
                run_at: None,
                max_attempts: 3,
            },
        )
        .await
        .unwrap();
    let job_id = queued.id();

    // First server: runs the refresh, then stalls before completing; killed there.
    let (mut first, _) = start(&db, &[("GUANXI_JOB_PAUSE", "before_complete:60000")]);
    let scored = eventually(60, || async {
        db.scalar("SELECT COUNT(*) FROM customer_scores").await == 3
    })
    .await;
    let job = s.get_job(job_id).await.unwrap();
    first.kill().expect("kill -9");
    let _ = first.wait();
    assert!(scored, "the first server never wrote the scores");
    assert_eq!(job.state, JobState::Running, "{job:?}");
    assert_eq!(job.attempts, 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refresh_scores'")
            .await,
        0,
        "no completion was written before the kill"
    );

    // Second server: takes the job over once the dead worker's lease runs out.
    let (mut second, api) = start(&db, &[]);
    let up = wait_for_health(&reqwest::Client::new(), &api, 60).await;
    let done = eventually(60, || async {
        s.get_job(job_id)
            .await
            .is_ok_and(|j| j.state == JobState::Done)
    })
    .await;
    // Give a second completion (there must be none) the chance to happen.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = second.kill();
    let _ = second.wait();
    assert!(up, "the second server did not come up");
    assert!(
        done,
        "the job was not taken over: {:?}",
        s.get_job(job_id).await
    );
    let job = s.get_job(job_id).await.unwrap();
    assert_eq!(job.attempts, 2, "one retry after the kill: {job:?}");
    assert_eq!(job.result.as_ref().unwrap()["customers"], 3, "{job:?}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refresh_scores'")
            .await,
        1,
        "exactly one completion"
    );
    // One refresh job (each server also queued its count of segment sizes).
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'scores.refresh'")
            .await,
        1
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM customer_scores").await,
        3,
        "the redone refresh replaced, not doubled, the scores"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_job_completes_once_sqlite() {
    killed_mid_job_completes_once(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_job_completes_once_postgres() {
    killed_mid_job_completes_once(Backend::Postgres).await
}

/// The process a server runs its score refresh in (`scores refresh-job`, issue #13: the
/// refresh's gigabyte goes back to the system when it ends): it scores the book, prints the
/// detail the job records and leaves the audit entry to the job.
async fn the_refresh_process_reports_to_its_job(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let admin = user(s, "ops", Role::Admin, None).await;
    customer_with_an_order(s, &admin, "甲", 3).await;
    let out = guanxi(
        &db.url,
        &["scores", "refresh-job", "--utc-offset-hours", "8"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let detail: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON line: {}", text(&out)));
    assert_eq!(detail["customers"], 1, "{detail}");
    assert_eq!(detail["orders"], 1, "{detail}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM customer_scores").await, 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refresh_scores'")
            .await,
        0,
        "the job, not the process, records the refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_process_reports_to_its_job_sqlite() {
    the_refresh_process_reports_to_its_job(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_process_reports_to_its_job_postgres() {
    the_refresh_process_reports_to_its_job(Backend::Postgres).await
}
