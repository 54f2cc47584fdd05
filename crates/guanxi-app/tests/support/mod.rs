//! Builders the campaign tests share: customers with one contact point, a segment of a city,
//! the day, and the local test servers `./test.sh` starts.
#![allow(dead_code)]

use chrono::Utc;
use guanxi_app::campaign::deliver::{Delivery, DeliveryConfig};
use guanxi_domain::campaign::content::SmsParam;
use guanxi_domain::campaign::{CampaignInput, Channel, Variant};
use guanxi_domain::customer::{CustomerFields, NewContactPoint};
use guanxi_domain::role::Actor;
use guanxi_domain::segment::{AsOf, SegmentInput};
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::Store;
use serde_json::json;

/// Now, with today in UTC.
pub fn as_of() -> AsOf {
    let now = Utc::now();
    AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    }
}

/// An individual in `city` of `gender` with one primary contact point `(kind, value,
/// marketing consent)`, or none.
pub async fn customer(
    s: &Store,
    a: &Actor,
    name: &str,
    city: &str,
    gender: &str,
    contact: Option<(ContactKind, &str, bool)>,
) -> i64 {
    let mut f: CustomerFields = serde_json::from_value(
        json!({"kind": "individual", "name": name, "city": city, "gender": gender}),
    )
    .unwrap();
    if let Some((kind, value, consent)) = contact {
        f.contact_points = vec![NewContactPoint {
            kind,
            value: value.into(),
            label: None,
            is_primary: true,
            consent_marketing: consent,
            source: None,
        }];
    }
    s.create_customer(a, f.validate(a.id, Utc::now()).unwrap())
        .await
        .unwrap()
        .id
}

/// A saved segment `name` of the customers in `city`.
pub async fn city_segment(s: &Store, a: &Actor, name: &str, city: &str) -> i64 {
    let seg: SegmentInput = serde_json::from_value(json!({
        "name": name, "description": "",
        "rule": {"clauses": [{"field": "city", "op": "eq", "value": city}]}}))
    .unwrap();
    s.create_segment(a, &seg, as_of()).await.unwrap().id
}

/// The address of a local test server from `VAR` and the file it records to from `VAR_LOG`;
/// missing is a failure that says to run ./test.sh, never a skip.
pub fn local_server(var: &str, script: &str) -> (String, std::path::PathBuf) {
    let addr = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} (host:port of the local test server) is not set: run ./test.sh, which starts {script}")
    });
    let log = std::env::var(format!("{var}_LOG"))
        .unwrap_or_else(|_| panic!("{var}_LOG is not set: run ./test.sh"));
    (addr, log.into())
}

/// A delivery through the local SMTP server at `smtp`, links to `http://crm.test`, no SMS.
pub fn email_delivery(
    smtp: &str,
    from: &str,
    concurrency: usize,
) -> guanxi_app::campaign::deliver::Delivery {
    guanxi_app::campaign::deliver::Delivery::new(&guanxi_app::campaign::deliver::DeliveryConfig {
        smtp_url: Some(format!("smtp://{smtp}")),
        mail_from: from.into(),
        sms_provider: String::new(),
        sms_file: None,
        sms_account: None,
        sms_sign: String::new(),
        survey_sms_template: String::new(),
        base_url: "http://crm.test".into(),
        utc_offset_hours: 8,
        lease: std::time::Duration::from_secs(60),
        concurrency,
    })
    .unwrap()
}

/// An order of one line of tea for `minor` fen at `at`.
pub async fn order(s: &Store, a: &Actor, customer: i64, at: chrono::DateTime<Utc>, minor: i64) {
    s.create_order(
        a,
        guanxi_domain::order::NewOrder {
            customer_id: customer,
            ordered_at: at,
            currency: "CNY".into(),
            channel: guanxi_domain::vocabulary::OrderChannel::Store,
            store: None,
            external_ref: None,
            lines: vec![guanxi_domain::order::NewOrderLine {
                sku: "TEA".into(),
                product_name: None,
                category: None,
                quantity: 1,
                unit_price_minor: minor,
            }],
        },
    )
    .await
    .unwrap();
}

/// A delivery writing text messages to a fresh file; no quiet hours on SMS for the test.
pub async fn delivery(
    s: &Store,
    a: &Actor,
    dir: &std::path::Path,
) -> (Delivery, std::path::PathBuf) {
    let file = dir.join("sms.jsonl");
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.quiet_start = 0;
    p.quiet_end = 0;
    p.per_second = 10_000;
    s.save_contact_policy(a, Channel::Sms, &p).await.unwrap();
    let d = Delivery::new(&DeliveryConfig {
        smtp_url: None,
        mail_from: "Guanxi <noreply@guanxi.test>".into(),
        sms_provider: String::new(),
        sms_file: Some(file.clone()),
        sms_account: None,
        sms_sign: "【茶舍】".into(),
        survey_sms_template: String::new(),
        base_url: "http://127.0.0.1:1".into(),
        utc_offset_hours: 8,
        lease: std::time::Duration::from_secs(60),
        concurrency: 4,
    })
    .unwrap();
    (d, file)
}

pub fn lines(file: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A fresh directory for a test's files.
pub fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "guanxi-campaign-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// An SMS campaign (an approved template with the salutation) to `segment`, `control` % held out.
pub fn sms(name: &str, segment: i64, control: i64) -> CampaignInput {
    CampaignInput {
        name: name.into(),
        channel: Channel::Sms,
        segments: vec![segment],
        exclude: vec![],
        control_percent: control,
        variants: vec![Variant {
            subject_zh: String::new(),
            subject_en: String::new(),
            body_zh: "【茶舍】{{salutation}}，中秋快乐，回T退订".into(),
            body_en: String::new(),
            sms_template: "SMS_154950909".into(),
            sms_params: vec![SmsParam {
                key: "name".into(),
                value: "{{salutation}}".into(),
            }],
        }],
        ab: None,
        offer_id: None,
        attribution_days: 7,
        spread_hours: 0,
        track_opens: false,
        enrol_until: None,
    }
}
