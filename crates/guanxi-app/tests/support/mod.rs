//! Builders the campaign tests share: customers with one contact point, a segment of a city,
//! the day, and the local test servers `./test.sh` starts.
#![allow(dead_code)]

use chrono::Utc;
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
