//! Campaign e-mail through a real SMTP server (aiosmtpd, started by ./test.sh: tests/smtp),
//! on both backends: every recipient receives the message exactly once, with its own stable
//! Message-ID and a one-click List-Unsubscribe; a hard bounce fails the message and blocks the
//! address; a soft one is retried later and only counted.

use std::time::{Duration, Instant};

use chrono::Utc;
use guanxi_app::campaign::deliver;
use guanxi_domain::campaign::{CampaignInput, CampaignState, Channel, Variant};
use guanxi_domain::role::Role;
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::on_both_backends;
use guanxi_store::testing::{user, TestDb};

mod support;

on_both_backends!(each_recipient_gets_the_email_once);

/// Recipients per run (each backend).
const N: usize = 400;

async fn each_recipient_gets_the_email_once(db: &TestDb) {
    let (addr, log) = support::local_server("GUANXI_TEST_SMTP", "tests/smtp/server.py");
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let domain = format!("run{}.test", Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let mut addresses = vec![];
    for i in 0..N + 2 {
        let local = match i {
            i if i == N => "hard-gone".to_string(),
            i if i == N + 1 => "soft-full".to_string(),
            i => format!("c{i}"),
        };
        let email = format!("{local}@{domain}");
        support::customer(
            s,
            &admin,
            &format!("客户{i}"),
            "杭州",
            "female",
            Some((ContactKind::Email, &email, true)),
        )
        .await;
        addresses.push(email);
    }
    let seg = support::city_segment(s, &admin, "杭州客户", "杭州").await;
    let c = CampaignInput {
        name: "中秋礼盒".into(),
        channel: Channel::Email,
        segments: vec![seg],
        exclude: vec![],
        control_percent: 0,
        variants: vec![Variant {
            subject_zh: "{{salutation}}，中秋快乐".into(),
            subject_en: String::new(),
            body_zh: "礼盒已上架：https://shop.example.com/mid-autumn".into(),
            body_en: String::new(),
            sms_template: String::new(),
            sms_params: vec![],
        }],
        ab: None,
        offer_id: None,
        attribution_days: 7,
        spread_hours: 0,
        track_opens: true,
        enrol_until: None,
    };
    let k = guanxi_app::campaign::save(s, &admin, None, &c)
        .await
        .unwrap();
    guanxi_app::campaign::move_to(s, &admin, k.id, k.version, CampaignState::Sending, None)
        .await
        .unwrap();
    let d = support::email_delivery(&addr, "茶舍 <news@guanxi.test>", 8);
    let started = Instant::now();
    for _ in 0..50 {
        let r = deliver::run_step(s, &d, Duration::from_secs(20))
            .await
            .unwrap();
        if !r.more && r.sent == 0 && r.prepared == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{N} e-mails in {secs:.2} s ({:.0}/s) on {:?}",
        N as f64 / secs,
        db.store.backend()
    );
    let received: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["to"].as_str().is_some_and(|t| t.ends_with(&domain)))
        .collect();
    assert_eq!(
        received.len(),
        N,
        "each recipient once, the bounced ones never"
    );
    let mut tos: Vec<&str> = received.iter().map(|l| l["to"].as_str().unwrap()).collect();
    tos.sort_unstable();
    tos.dedup();
    assert_eq!(tos.len(), N);
    let mut ids: Vec<&str> = received
        .iter()
        .map(|l| l["message_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N, "one Message-ID per message");
    assert!(ids.iter().all(|i| i.ends_with("@guanxi.test>")));
    assert!(received.iter().all(|l| l["list_unsubscribe"]
        .as_str()
        .is_some_and(|u| u.starts_with("<http://crm.test/u/"))));
    assert!(received
        .iter()
        .all(|l| l["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"));
    assert!(
        received.iter().all(|l| l["subject"] == "客女士，中秋快乐"),
        "the form of address is merged"
    );
    // The stored key of each sent message is the Message-ID that arrived.
    let stored = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {} AND state = 'sent' AND message_key LIKE '<%@guanxi.test>'",
            k.id
        ))
        .await;
    assert_eq!(stored, N as i64);
    // The hard bounce failed for good and blocks the address; the soft one waits for a retry.
    let hard = db
        .scalar_text(&format!(
            "SELECT state FROM outbox WHERE address = 'hard-gone@{domain}'"
        ))
        .await;
    assert_eq!(hard, "failed");
    assert_eq!(
        db.scalar_text(&format!(
            "SELECT reason FROM suppressions WHERE address = 'hard-gone@{domain}'"
        ))
        .await,
        "hard_bounce"
    );
    let soft = db
        .scalar_text(&format!(
            "SELECT state FROM outbox WHERE address = 'soft-full@{domain}'"
        ))
        .await;
    assert_eq!(soft, "queued", "retried later");
    assert_eq!(
        db.scalar(&format!(
            "SELECT soft_count FROM suppressions WHERE address = 'soft-full@{domain}'"
        ))
        .await,
        1
    );
    let _ = addresses;
}
