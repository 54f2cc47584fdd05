//! A 10,000-recipient e-mail campaign survives `kill -9` mid-send, on both backends: the
//! server is killed while it sends to the real local SMTP server (tests/smtp, started by
//! ./test.sh), a second server resumes from the outbox, and every recipient has the message.
//! What may arrive twice is bounded by what was in flight at the kill (a message the SMTP
//! server accepted before the first server could record it), and a repeat carries the same
//! Message-ID as the first copy, so a receiver drops it: the outbox itself sends nothing twice.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, guanxi, serve_command, text};
use chrono::Utc;
use guanxi_domain::campaign::{CampaignInput, CampaignState, Channel, Variant};
use guanxi_domain::role::Role;
use guanxi_domain::segment::{AsOf, SegmentInput};
use guanxi_store::testing::{user, TestDb};
use guanxi_store::Backend;
use serde_json::json;

/// Recipients.
const N: usize = 10_000;
/// Deliveries in flight at once (the most that can arrive twice).
const IN_FLIGHT: usize = 8;

fn start(db: &TestDb, smtp: &str) -> Child {
    let port = free_port();
    serve_command(&db.url, port)
        .env("GUANXI_SMTP_URL", format!("smtp://{smtp}"))
        .env("GUANXI_MAIL_FROM", "茶舍 <news@guanxi.test>")
        .env("GUANXI_CAMPAIGN_SECONDS", "1")
        .env("GUANXI_JOB_LEASE_SECONDS", "3")
        .env("GUANXI_OUTBOX_LEASE_SECONDS", "3")
        .env("GUANXI_SEND_CONCURRENCY", IN_FLIGHT.to_string())
        .env("GUANXI_SCORES_REFRESH_HOURS", "0")
        .env("GUANXI_SEGMENT_SIZES_MINUTES", "0")
        .env_remove("GUANXI_JOB_PAUSE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start guanxi serve")
}

/// Lines of the SMTP log for this run's domain: (recipient, Message-ID).
fn received(log: &str, domain: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["to"].as_str().is_some_and(|t| t.ends_with(domain)))
        .map(|l| {
            (
                l["to"].as_str().unwrap_or("").to_string(),
                l["message_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn killed_mid_send_delivers_each_once(backend: Backend) {
    let smtp = std::env::var("GUANXI_TEST_SMTP").expect(
        "GUANXI_TEST_SMTP is not set: run ./test.sh, which starts the local SMTP server (tests/smtp)",
    );
    let log = std::env::var("GUANXI_TEST_SMTP_LOG").expect("GUANXI_TEST_SMTP_LOG is not set");
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let admin = user(s, "ops", Role::Admin, None).await;
    let domain = format!(
        "crash{}{}.test",
        Utc::now().timestamp_micros(),
        backend as u8
    );
    // The book, through the bulk import.
    let path = std::env::temp_dir().join(format!("guanxi-crash-{domain}.csv"));
    {
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "name,city,email,consent_marketing").unwrap();
        for i in 0..N {
            writeln!(f, "客户{i},苏州,c{i}@{domain},true").unwrap();
        }
    }
    let out = guanxi(&db.url, &["import", "customers", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let now = Utc::now();
    let as_of = AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    };
    let seg: SegmentInput = serde_json::from_value(json!({
        "name": "苏州客户", "description": "",
        "rule": {"clauses": [{"field": "city", "op": "eq", "value": "苏州"}]}}))
    .unwrap();
    let seg = s.create_segment(&admin, &seg, as_of).await.unwrap().id;
    let c = CampaignInput {
        name: "万人中秋".into(),
        channel: Channel::Email,
        segments: vec![seg],
        exclude: vec![],
        control_percent: 0,
        variants: vec![Variant {
            subject_zh: "中秋快乐".into(),
            subject_en: String::new(),
            body_zh: "{{name}}，中秋快乐".into(),
            body_en: String::new(),
            sms_template: String::new(),
            sms_params: vec![],
        }],
        ab: None,
        offer_id: None,
        attribution_days: 7,
        spread_hours: 0,
        track_opens: false,
        enrol_until: None,
    };
    let mut p = s.contact_policy(Channel::Email).await.unwrap();
    p.per_second = 10_000;
    s.save_contact_policy(&admin, Channel::Email, &p)
        .await
        .unwrap();
    let k = guanxi_app::campaign::save(s, &admin, None, &c)
        .await
        .unwrap();
    guanxi_app::campaign::move_to(s, &admin, k.id, k.version, CampaignState::Sending, None)
        .await
        .unwrap();

    // First server: killed once about a third has arrived.
    let mut first = start(&db, &smtp);
    let end = Instant::now() + Duration::from_secs(300);
    while received(&log, &domain).len() < N / 3 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().expect("kill -9");
    let _ = first.wait();
    let at_kill = received(&log, &domain).len();
    assert!(
        (N / 3..N).contains(&at_kill),
        "killed mid-send: {at_kill} of {N} arrived"
    );

    // Second server: resumes once the dead sender's leases run out.
    let started = Instant::now();
    let mut second = start(&db, &smtp);
    let end = Instant::now() + Duration::from_secs(600);
    let mut finished = false;
    while Instant::now() < end {
        if s.get_campaign(k.id).await.unwrap().state == CampaignState::Finished {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = second.kill();
    let _ = second.wait();
    assert!(finished, "the campaign did not finish after the restart");
    let got = received(&log, &domain);
    let mut by_to: HashMap<&str, Vec<&str>> = HashMap::new();
    for (to, id) in &got {
        by_to.entry(to.as_str()).or_default().push(id.as_str());
    }
    let repeats: Vec<(&&str, &Vec<&str>)> = by_to.iter().filter(|(_, ids)| ids.len() > 1).collect();
    eprintln!(
        "{backend:?}: {at_kill} arrived before the kill, {} in all after the restart ({:.1} s), {} recipients, {} repeated",
        got.len(),
        started.elapsed().as_secs_f64(),
        by_to.len(),
        repeats.len()
    );
    assert_eq!(by_to.len(), N, "every recipient has the message");
    assert!(
        repeats.len() <= IN_FLIGHT,
        "only messages in flight at the kill may repeat: {}",
        repeats.len()
    );
    for (to, ids) in &repeats {
        assert!(
            ids.iter().all(|i| *i == ids[0]),
            "{to}: a repeat keeps its Message-ID: {ids:?}"
        );
    }
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {} AND state = 'sent'",
            k.id
        ))
        .await,
        N as i64
    );
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_delivers_each_once_sqlite() {
    killed_mid_send_delivers_each_once(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_delivers_each_once_postgres() {
    killed_mid_send_delivers_each_once(Backend::Postgres).await
}
