//! Text messages through the Aliyun and Tencent Cloud request shapes, against a local HTTP
//! server that checks each signature on its own and records what it received (tests/sms,
//! started by ./test.sh), on both backends: each recipient once, the template's parameters by
//! name (Aliyun) or in order (Tencent), the number in each provider's form; a refused number
//! fails for good and is blocked, a throttled one waits for a retry.

use std::time::Duration;

use chrono::Utc;
use guanxi_app::campaign::deliver::{self, Delivery, DeliveryConfig};
use guanxi_app::campaign::sms::ApiAccount;
use guanxi_domain::campaign::content::SmsParam;
use guanxi_domain::campaign::report::ProviderReport;
use guanxi_domain::campaign::{CampaignInput, CampaignState, Channel, Variant};
use guanxi_domain::role::Role;
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::on_both_backends;
use guanxi_store::testing::{user, TestDb};
use serde_json::json;

mod support;

on_both_backends!(aliyun_and_tencent_receive_each_text_once);

async fn aliyun_and_tencent_receive_each_text_once(db: &TestDb) {
    let (addr, log) = support::local_server("GUANXI_TEST_SMS", "tests/sms/server.py");
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    // Numbers unique to this run: a prefix from the clock, so the shared log can be filtered.
    let run = (Utc::now().timestamp_micros() % 900) + 100;
    let city = format!("城{run}");
    let phones: Vec<String> = (0..6)
        .map(|i| match i {
            4 => format!("139{run:03}{:01}0000", i),
            5 => format!("139{run:03}{:01}9999", i),
            _ => format!("139{run:03}{:01}{:04}", i, 1000 + i),
        })
        .collect();
    for (i, p) in phones.iter().enumerate() {
        support::customer(
            s,
            &admin,
            &format!("王{i}号"),
            &city,
            "male",
            Some((ContactKind::Mobile, p, true)),
        )
        .await;
    }
    let seg = support::city_segment(s, &admin, "本城", &city).await;
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.quiet_start = 0;
    p.quiet_end = 0;
    p.cap_count = 100;
    s.save_contact_policy(&admin, Channel::Sms, &p)
        .await
        .unwrap();
    let mut campaigns = vec![];
    for (n, provider) in ["aliyun", "tencent"].iter().enumerate() {
        let c = CampaignInput {
            name: format!("中秋短信 {provider}"),
            channel: Channel::Sms,
            segments: vec![seg],
            exclude: vec![],
            control_percent: 0,
            variants: vec![Variant {
                subject_zh: String::new(),
                subject_en: String::new(),
                body_zh: "【茶舍】{{salutation}}，您有{{points}}积分，回T退订".into(),
                body_en: String::new(),
                sms_template: if n == 0 {
                    "SMS_154950909".into()
                } else {
                    "449739".into()
                },
                sms_params: vec![
                    SmsParam {
                        key: "name".into(),
                        value: "{{salutation}}".into(),
                    },
                    SmsParam {
                        key: "points".into(),
                        value: "{{points}}".into(),
                    },
                ],
            }],
            ab: None,
            offer_id: None,
            attribution_days: 7,
            spread_hours: 0,
            track_opens: false,
            enrol_until: None,
        };
        let k = guanxi_app::campaign::save(s, &admin, None, &c)
            .await
            .unwrap();
        campaigns.push(k.id);
        guanxi_app::campaign::move_to(s, &admin, k.id, k.version, CampaignState::Sending, None)
            .await
            .unwrap();
        let d = Delivery::new(&DeliveryConfig {
            smtp_url: None,
            mail_from: "Guanxi <noreply@guanxi.test>".into(),
            sms_provider: provider.to_string(),
            sms_file: None,
            sms_account: Some(ApiAccount {
                endpoint: format!("http://{addr}/{provider}"),
                key_id: if n == 0 {
                    "testId".into()
                } else {
                    "AKIDtest".into()
                },
                secret: if n == 0 {
                    "testSecret".into()
                } else {
                    "tencentSecret".into()
                },
                app_id: "1400000000".into(),
            }),
            sms_sign: "茶舍".into(),
            survey_sms_template: String::new(),
            base_url: "http://crm.test".into(),
            utc_offset_hours: 8,
            lease: Duration::from_secs(60),
            concurrency: 4,
        })
        .unwrap();
        for _ in 0..10 {
            let r = deliver::run_step(s, &d, Duration::from_secs(10))
                .await
                .unwrap();
            if !r.more && r.sent == 0 && r.prepared == 0 {
                break;
            }
        }
        let got: Vec<serde_json::Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| {
                l["provider"] == *provider
                    && l["phone"]
                        .as_str()
                        .is_some_and(|p| p.contains(&format!("139{run:03}")))
            })
            .collect();
        assert!(
            got.iter().all(|l| l["signed"] == true),
            "{provider}: every signature checks out: {got:?}"
        );
        // Four delivered, one refused, one throttled: six requests, each number once. The
        // second campaign skips the number the first one had refused.
        assert_eq!(got.len(), 6 - n, "{provider}: {got:?}");
        let first = got
            .iter()
            .find(|l| l["phone"].as_str().unwrap().ends_with("1000"))
            .unwrap();
        match n {
            0 => {
                assert_eq!(
                    first["phone"],
                    phones[0].as_str(),
                    "Aliyun takes mainland numbers bare"
                );
                assert_eq!(first["params"], json!({"name": "王先生", "points": "0"}));
                assert_eq!(first["template"], "SMS_154950909");
            }
            _ => {
                assert_eq!(first["phone"], format!("+86{}", phones[0]).as_str());
                assert_eq!(first["params"], json!(["王先生", "0"]));
                assert_eq!(first["app_id"], "1400000000");
            }
        }
        assert_eq!(first["sign"], "茶舍");
        let state = |suffix: &'static str| {
            let id = k.id;
            async move {
                db.scalar_text(&format!(
                    "SELECT state FROM outbox WHERE campaign_id = {id} AND address LIKE '%{suffix}'"
                ))
                .await
            }
        };
        assert_eq!(state("1000").await, "sent");
        assert_eq!(
            state("0000").await,
            if n == 0 { "failed" } else { "skipped" },
            "a refused number is not retried, and blocked afterwards"
        );
        assert_eq!(state("9999").await, "queued", "a throttled one is");
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM outbox WHERE campaign_id = {} AND state = 'sent'",
                k.id
            ))
            .await,
            4
        );
    }
    // The refused number is blocked for the next campaign.
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM suppressions WHERE channel = 'sms' AND reason = 'hard_bounce' AND address LIKE '+86139{run:03}%'"
        ))
        .await,
        1
    );
    // Aliyun's delivery receipt names the message by its BizId: a failed one blocks the
    // number; a reply (上行短信) lands on the message; an id of nobody's message is refused.
    let biz = |suffix: &'static str| {
        let id = campaigns[0];
        async move {
            db.scalar_text(&format!(
                "SELECT message_key FROM outbox WHERE campaign_id = {id} AND address LIKE '%{suffix}'"
            ))
            .await
        }
    };
    let report = |id: String, kind: &str, text: Option<&str>| {
        serde_json::from_value::<ProviderReport>(
            json!({"message_id": id, "kind": kind, "text": text}),
        )
        .unwrap()
    };
    let key = biz("1001").await;
    assert!(key.starts_with("biz-"), "{key}");
    guanxi_app::campaign::report(s, &admin, &report(key, "hard_bounce", None))
        .await
        .unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM suppressions WHERE channel = 'sms' AND reason = 'hard_bounce' AND address LIKE '+86139{run:03}%'"
        ))
        .await,
        2
    );
    let owner = guanxi_app::campaign::report(
        s,
        &admin,
        &report(biz("1002").await, "reply", Some("好的，周末去店里")),
    )
    .await
    .unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox_events WHERE outbox_id = {} AND kind = 'replied' AND detail = '好的，周末去店里'",
            owner.outbox_id
        ))
        .await,
        1
    );
    let err =
        guanxi_app::campaign::report(s, &admin, &report("biz-nobody".into(), "hard_bounce", None))
            .await
            .unwrap_err();
    assert!(format!("{err:?}").contains("unknown_message"), "{err:?}");
    // Only those who manage campaigns may report.
    let rep = user(s, "rep", Role::Sales, None).await;
    assert!(
        guanxi_app::campaign::report(s, &rep, &report(biz("1003").await, "complaint", None))
            .await
            .is_err()
    );
}
