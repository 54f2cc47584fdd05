//! `guanxi export warehouse`: the star schema loads into DuckDB (Python package, the reference a
//! warehouse user would use) from both the CSV and the Parquet files, with the database's
//! totals, no orphan keys and exact decimal money. Runs on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::{guanxi, python, repo_root, text};
use guanxi_domain::role::Actor;
use guanxi_store::audit::AuditFilter;
use guanxi_store::testing::TestDb;
use guanxi_store::Backend;

async fn export_loads_into_duckdb(backend: Backend) {
    let db = TestDb::new(backend).await;
    let o = guanxi(
        &db.url,
        &[
            "demo",
            "--customers",
            "120",
            "--orders",
            "1500",
            "--no-serve",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    // A deleted customer keeps its history: its facts must still join the customer dimension.
    let victim = db
        .store
        .list_customers(
            &Actor::system(),
            &guanxi_store::customers::CustomerFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .remove(0);
    db.store
        .delete_customer(&Actor::system(), victim.id, victim.meta.version)
        .await
        .unwrap();

    let dir = std::env::temp_dir().join(format!(
        "guanxi-wh-{}-{}",
        std::process::id(),
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "pg",
        }
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let o = guanxi(&db.url, &["export", "warehouse", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fact_order_line"), "{}", text(&o));
    // A second export into the same directory is refused unless asked to overwrite.
    let again = guanxi(&db.url, &["export", "warehouse", d]);
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));
    let o = guanxi(&db.url, &["export", "warehouse", d, "--overwrite"]);
    assert!(o.status.success(), "{}", text(&o));

    let out = Command::new(python())
        .arg(repo_root().join("tests/warehouse/check.py"))
        .arg(&dir)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let totals = db.store.warehouse_totals().await.unwrap();
    let customers = db.store.warehouse_customers().await.unwrap().len();
    let products = db.store.warehouse_products().await.unwrap().len();
    let lines = db.store.warehouse_lines(0, i64::MAX).await.unwrap();
    let mut by_channel: BTreeMap<String, i64> = BTreeMap::new();
    for l in &lines {
        *by_channel.entry(l.channel.clone()).or_default() += l.amount_minor;
    }
    assert!(totals.lines > 1500, "{totals:?}");
    for fmt in ["csv", "parquet"] {
        let r = &v[fmt];
        assert_eq!(r["fact"]["lines"], totals.lines, "{fmt}");
        assert_eq!(r["fact"]["orders"], totals.orders, "{fmt}");
        assert_eq!(
            r["fact"]["amount_minor"], totals.amount_minor,
            "{fmt}: exact to the fen"
        );
        assert_eq!(r["fact"]["quantity"], totals.quantity, "{fmt}");
        assert_eq!(r["rows"]["dim_customer"], customers as i64, "{fmt}");
        assert_eq!(r["rows"]["dim_product"], products as i64, "{fmt}");
        assert_eq!(r["rows"]["dim_channel"], 5, "{fmt}");
        for (key, n) in r["orphans"].as_object().unwrap() {
            assert_eq!(n, 0, "{fmt}: fact rows whose {key} finds no dimension row");
        }
        let got: BTreeMap<String, i64> =
            serde_json::from_value(r["amount_by_channel"].clone()).unwrap();
        assert_eq!(got, by_channel, "{fmt}");
    }
    assert_eq!(v["csv"]["rows"], v["parquet"]["rows"]);
    let types = &v["parquet"]["types"];
    assert_eq!(types["amount"], "DECIMAL(18,2)");
    assert_eq!(types["ordered_at"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(types["date_key"], "INTEGER");

    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for t in [
        "fact_order_line",
        "dim_customer",
        "dim_product",
        "dim_date",
        "dim_channel",
        "dim_store",
        "bridge_customer_field",
        "`amount`",
        "DECIMAL(18,2)",
    ] {
        assert!(readme.contains(t), "README lacks {t}");
    }
    let log = db
        .store
        .list_audit(&AuditFilter {
            entity: Some("warehouse".into()),
            action: Some("export".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.items.len(), 2, "each export is audited");
    assert_eq!(log.items[0].detail["rows"]["fact_order_line"], totals.lines);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouse_export_sqlite() {
    export_loads_into_duckdb(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouse_export_postgres() {
    export_loads_into_duckdb(Backend::Postgres).await
}
