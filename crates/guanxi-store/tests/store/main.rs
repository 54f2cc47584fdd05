//! Store tests, one binary with a module per area. Every test runs on SQLite (temp file) and
//! PostgreSQL (fresh schema). Shared builders for test data live here and in
//! `guanxi_store::testing`; a new area adds its module and one `mod` line.

use chrono::Utc;
use guanxi_domain::customer::{CustomerFields, CustomerPatch, NewContactPoint};
use guanxi_domain::order::{NewOrder, NewOrderLine};
use guanxi_domain::records::TimelineCursor;
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::{Actor, RecordScope, Role};
use guanxi_domain::vocabulary::{ContactKind, OrderChannel, PrincipalRole, RelationKind};
use guanxi_store::audit::AuditFilter;
use guanxi_store::customers::{CustomerFilter, CustomerSort};
use guanxi_store::orders::OrderFilter;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::users::UserInsert;
use guanxi_store::{Backend, Store, StoreError};
use serde_json::json;

use guanxi_store::on_both_backends;

mod care;
mod coupons;
mod custom_fields;
mod customers;
mod dashboard;
mod import;
mod jobs;
mod key_accounts;
mod knowledge;
mod leads;
mod load;
mod loyalty;
mod membership;
mod merge;
mod orders;
mod pipeline;
mod privacy;
mod rules;
mod scores;
mod segments;
mod surveys;
mod ticket_setup;
mod tickets;
mod timeline;
mod users;

/// A one-line ¥10 store order.
fn ten_yuan_order(customer_id: i64, ordered_at: chrono::DateTime<Utc>) -> NewOrder {
    NewOrder {
        customer_id,
        ordered_at,
        currency: "CNY".into(),
        channel: OrderChannel::Store,
        store: None,
        external_ref: None,
        lines: vec![NewOrderLine {
            sku: "T".into(),
            product_name: None,
            category: None,
            quantity: 1,
            unit_price_minor: 1000,
        }],
    }
}

fn fields(v: serde_json::Value) -> CustomerFields {
    serde_json::from_value(v).unwrap()
}

async fn person(
    s: &Store,
    actor: &Actor,
    name: &str,
    mobile: Option<&str>,
) -> guanxi_domain::records::Customer {
    let f = fields(json!({"kind": "individual", "name": name, "city": "上海", "tags": ["vip"]}));
    let mut f = f;
    f.contact_points = mobile
        .map(|m| {
            vec![NewContactPoint {
                kind: ContactKind::Mobile,
                value: m.into(),
                label: None,
                is_primary: true,
                consent_marketing: true,
                source: None,
            }]
        })
        .unwrap_or_default();
    s.create_customer(actor, f.validate(actor.id, Utc::now()).unwrap())
        .await
        .unwrap()
}

async fn schemas_match_impl() {
    let a = TestDb::new(Backend::Sqlite).await;
    let b = TestDb::new(Backend::Postgres).await;
    let sa = a.store.schema().await.unwrap();
    let sb = b.store.schema().await.unwrap();
    assert!(sa.len() > 50, "schema looks empty: {sa:?}");
    assert_eq!(
        sa, sb,
        "SQLite and PostgreSQL migrations have drifted apart"
    );
}

#[tokio::test]
async fn schemas_match() {
    schemas_match_impl().await
}

fn as_of() -> guanxi_domain::segment::AsOf {
    let now = Utc::now();
    guanxi_domain::segment::AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    }
}
