//! The numbers a manager sees agree with `guanxi analyze` on the same data. The demo loads and
//! scores a book; the server's analytics page (RFM grid, value matrix, segment sizes) and saved
//! segments (`rfm_segment = at_risk`, `tier = A`) are read over HTTP, exactly as a browser gets
//! them, and compared customer for customer with `guanxi analyze rfm` and `guanxi analyze grade`
//! run on the same database. Runs on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};

use crate::common::{free_port, guanxi, text, wait_for_health};
use chrono::{Duration, Utc};
use guanxi_store::testing::TestDb;
use guanxi_store::Backend;
use serde_json::{json, Value};

const PASSWORD: &str = "demo-numbers-password";

/// Reads a CSV `guanxi analyze` wrote into rows of column → value.
fn read_csv(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A page's HTML.
async fn page_text(http: &reqwest::Client, url: String) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// The JSON in an element's `data-chart` attribute (HTML-unescaped).
fn chart(html: &str, id: &str) -> Value {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let attr = rest.find("data-chart=\"").unwrap() + "data-chart=\"".len();
    let raw = &rest[attr..attr + rest[attr..].find('"').unwrap()];
    let mut out = String::new();
    let mut it = raw.split('&');
    out.push_str(it.next().unwrap_or(""));
    for part in it {
        let (entity, tail) = part.split_once(';').unwrap();
        let ch = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            e if e.starts_with('#') => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            other => panic!("entity {other}"),
        };
        out.push(ch);
        out.push_str(tail);
    }
    serde_json::from_str(&out).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn numbers_agree(backend: Backend) {
    let db = TestDb::new(backend).await;
    let demo = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args([
            "demo",
            "--customers",
            "400",
            "--orders",
            "6000",
            "--no-serve",
            "--database-url",
            &db.url,
        ])
        .env("GUANXI_DEMO_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", text(&demo));

    // `guanxi analyze` as of today in the shop's time zone (the refresh's as-of day).
    let today = (Utc::now() + Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let dir = std::env::temp_dir().join(format!(
        "guanxi-numbers-{}-{:?}",
        std::process::id(),
        backend
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (rfm_csv, grade_csv) = (dir.join("rfm.csv"), dir.join("grade.csv"));
    for (cmd, out) in [("rfm", &rfm_csv), ("grade", &grade_csv)] {
        let o = guanxi(
            &db.url,
            &[
                "analyze",
                cmd,
                "--from-db",
                "--as-of",
                &today,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let rfm = read_csv(&rfm_csv);
    let grade = read_csv(&grade_csv);
    assert!(rfm.len() > 300, "{} customers scored", rfm.len());
    let name_to_code: BTreeMap<&str, &str> = guanxi_analytics::rfm::Segment::ALL
        .iter()
        .map(|s| (s.name(), s.code()))
        .collect();
    let mut by_segment: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_rf: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for r in &rfm {
        *by_segment
            .entry(name_to_code[r["segment"].as_str()].to_string())
            .or_default() += 1;
        *by_rf
            .entry((r["r"].parse().unwrap(), r["f"].parse().unwrap()))
            .or_default() += 1;
    }
    let mut cell_customers: BTreeMap<String, i64> = BTreeMap::new();
    let mut cell_revenue_fen: BTreeMap<String, i64> = BTreeMap::new();
    let mut tier: BTreeMap<String, i64> = BTreeMap::new();
    for g in &grade {
        *cell_customers.entry(g["value_cell"].clone()).or_default() += 1;
        let fen = (g["revenue"].parse::<f64>().unwrap() * 100.0).round() as i64;
        *cell_revenue_fen.entry(g["value_cell"].clone()).or_default() += fen;
        *tier.entry(g["abc_class"].clone()).or_default() += 1;
    }

    // The server, as a manager sees it.
    let port = free_port();
    let _server = Server(
        crate::common::serve_command(&db.url, port)
            .env("GUANXI_SCORES_REFRESH_HOURS", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert!(
        wait_for_health(&http, &format!("{base}/api/v1"), 60).await,
        "server did not start"
    );
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "manager", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = login["csrf_token"].as_str().unwrap().to_string();
    let html = page_text(&http, format!("{base}/analytics")).await;

    // Segment sizes: the chart's bars in the domain's segment order.
    let seg = chart(&html, "chart-segments");
    for (i, code) in guanxi_domain::segment::RFM_SEGMENTS.iter().enumerate() {
        assert_eq!(
            seg["series"][0]["data"][i].as_i64().unwrap(),
            by_segment.get(*code).copied().unwrap_or(0),
            "segment {code}"
        );
    }
    // The R × F grid: [F-1, R-1, customers, revenue].
    let rf = chart(&html, "chart-rf");
    let mut page_rf: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for d in rf["series"][0]["data"].as_array().unwrap() {
        page_rf.insert(
            (d[1].as_i64().unwrap() + 1, d[0].as_i64().unwrap() + 1),
            d[2].as_i64().unwrap(),
        );
    }
    assert_eq!(page_rf, by_rf, "R × F grid");
    // The value matrix: customers and revenue (whole yuan) per cell.
    let vm = chart(&html, "chart-value");
    for (i, cell) in guanxi_domain::segment::VALUE_CELLS.iter().enumerate() {
        assert_eq!(
            vm["series"][0]["data"][i].as_i64().unwrap(),
            cell_customers.get(*cell).copied().unwrap_or(0),
            "{cell}"
        );
        let fen = cell_revenue_fen.get(*cell).copied().unwrap_or(0);
        assert_eq!(
            vm["series"][1]["data"][i].as_i64().unwrap(),
            (fen + 50).div_euclid(100),
            "{cell} revenue"
        );
    }

    // Click-through: each bar of the CLV histogram and of the dashboard's new-customers chart
    // opens exactly the customers it counts (the rule in its link has the bar's size); each
    // month of the revenue chart opens the customers who ordered that month (some, and no
    // more than its orders; nobody for a month without orders).
    let dashboard = page_text(&http, format!("{base}/")).await;
    let mut checked = 0;
    for (page, id) in [
        (&html, "chart-clv"),
        (&dashboard, "chart-new"),
        (&dashboard, "chart-revenue"),
    ] {
        let c = chart(page, id);
        let links = c["links"].as_array().unwrap();
        let bars = c["series"][0]["data"].as_array().unwrap();
        assert_eq!(links.len(), bars.len(), "{id}");
        for (i, link) in links.iter().enumerate() {
            let link = link.as_str().unwrap();
            let url = reqwest::Url::parse(&format!("{base}{link}")).unwrap();
            let rule: Value =
                serde_json::from_str(&url.query_pairs().find(|(k, _)| k == "rule").unwrap().1)
                    .unwrap();
            let preview: Value = http
                .post(format!("{base}/api/v1/segments/preview"))
                .header("x-csrf-token", &csrf)
                .json(&json!({ "rule": rule }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let size = preview["size"].as_i64().unwrap_or(-1);
            if id == "chart-revenue" {
                let orders = c["series"][1]["data"][i].as_i64().unwrap();
                // A month without orders (shown as 0, not left off the axis) opens nobody.
                let fits = if orders == 0 {
                    size == 0
                } else {
                    size > 0 && size <= orders
                };
                assert!(fits, "{link}: {size} vs {orders}");
            } else {
                // The running month's bar is an object (paler style) holding its value.
                let bar = bars[i].as_i64().or_else(|| bars[i]["value"].as_i64());
                assert_eq!(Some(size), bar, "{id} {link}");
            }
            checked += 1;
        }
        // The list page opens with the rule in words.
        let first = format!("{base}{}", links[0].as_str().unwrap());
        let r = http.get(first).send().await.unwrap();
        assert_eq!(r.status(), 200, "{id}");
        let list = r.text().await.unwrap();
        assert!(list.contains("id=\"score-filter\""), "{id}: filter shown");
    }
    assert!(checked > 20, "{checked} bars checked");

    // Saved segments over the same scores.
    for (name, rule, want) in [
        (
            "At risk",
            json!({"clauses": [{"field": "rfm_segment", "op": "eq", "value": "at_risk"}]}),
            by_segment.get("at_risk").copied().unwrap_or(0),
        ),
        (
            "Tier A",
            json!({"clauses": [{"field": "tier", "op": "eq", "value": "A"}]}),
            tier["A"],
        ),
        (
            "Best or frequent",
            json!({"clauses": [{"field": "value_cell", "op": "in", "value": "best,frequent"}]}),
            cell_customers.get("best").copied().unwrap_or(0)
                + cell_customers.get("frequent").copied().unwrap_or(0),
        ),
    ] {
        let r = http
            .post(format!("{base}/api/v1/segments"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": name, "rule": rule}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let seg: Value = r.json().await.unwrap();
        assert_eq!(seg["size"].as_i64().unwrap(), want, "{name}");
        let page = page_text(&http, format!("{base}/segments/{}", seg["id"])).await;
        assert!(
            page.contains(&format!("data-size=\"{want}\"")),
            "{name} page shows {want}"
        );
    }
    assert!(
        by_segment.get("at_risk").copied().unwrap_or(0) > 0,
        "the demo has customers at risk"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_numbers_agree_with_analyze_sqlite() {
    numbers_agree(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_numbers_agree_with_analyze_postgres() {
    numbers_agree(Backend::Postgres).await
}
