//! The import wizard over HTTP on both backends (issue #18): a GBK-encoded CSV uploaded, its
//! columns mapped by suggestion, the dry run with a problem and a duplicate, the duplicate set
//! to update (filling empty fields only) and invalid rows skipped, the run in the background,
//! the problem report, the undo; and who may do which.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_gbk_csv_is_mapped_previewed_run_and_undone);

/// The problems of a preview as (line, column, code).
fn problems(p: &serde_json::Value) -> Vec<(i64, &str, &str)> {
    p["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["line"].as_i64().unwrap(),
                x["column"].as_str().unwrap(),
                x["code"].as_str().unwrap(),
            )
        })
        .collect()
}

/// An upload of a CSV file holding `entity`.
fn csv_form(entity: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new().text("entity", entity.to_string()).part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("text/csv")
            .unwrap(),
    )
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

async fn a_gbk_csv_is_mapped_previewed_run_and_undone(app: &TestApp) {
    let manager = app.user("mgr", Role::Manager, None).await;
    let other = app.user("mgr2", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, c) = manager
        .post(
            "/customers",
            json!({"kind": "individual", "name": "周杰", "city": "上海", "contact_points": [
                {"kind": "mobile", "value": "13711112222"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let known = c["id"].as_i64().unwrap();
    // Headers as a Chinese office writes them; the fourth column's header names nothing, its
    // content (e-mail addresses) does.
    let file = gbk("姓名,手机号码,城市,联系方式,性别\n\
         李雷,13800138000,北京,lilei@example.com,男\n\
         周杰,137 1111 2222,广州,zhoujie@example.com,男\n\
         韩梅梅,12,上海,hmm@example.com,女\n\
         王芳,13900139000,,wangfang@example.com,女\n");
    let upload = |bytes: Vec<u8>| {
        Form::new().part(
            "file",
            Part::bytes(bytes)
                .file_name("客户.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
    };
    let (s, _) = rep
        .send(
            rep.raw(reqwest::Method::POST, "/imports")
                .multipart(upload(file.clone())),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a rep does not import");
    let (s, bad) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(upload(vec![0xff, 0xfe, 0x00, 0xd8])),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (s, b) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(upload(file)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    assert_eq!(b["total_rows"], 4);
    let settings: serde_json::Value =
        serde_json::from_str(b["settings"].as_str().unwrap()).unwrap();
    assert_eq!(
        settings["mapping"],
        json!(["name", "mobile", "city", "email", "gender"]),
        "suggested by header, and by content for the fourth"
    );
    let (s, _) = other.get(&format!("/imports/{id}")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another manager's import is not named"
    );
    // The dry run: one invalid mobile (line 4), one duplicate (line 3, skipped by default).
    let (s, p) = manager.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["total"].as_i64(), p["invalid"].as_i64()),
        (Some(4), Some(1)),
        "{p}"
    );
    assert_eq!(p["problems"][0]["line"], 4);
    assert_eq!(p["problems"][0]["column"], "手机号码");
    assert_eq!(p["duplicates"][0]["line"], 3);
    assert_eq!(p["duplicates"][0]["customer_id"], known);
    assert_eq!(p["duplicates"][0]["choice"], "skip");
    assert_eq!(
        (p["inserts"].as_i64(), p["skips"].as_i64()),
        (Some(2), Some(1))
    );
    assert!(
        p["samples"][0]["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "mobile", "value": "+8613800138000"})),
        "stored as normalised: {p}"
    );
    // A bad mapping is refused field by field.
    let (s, e) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "mapping": ["city", "mobile", "city", null, "nope"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"mapping[2]")
            && fields.contains(&"mapping[4]")
            && fields.contains(&"mapping"),
        "{e}"
    );
    // Update the duplicate (filling only what is empty), import the valid rows.
    let (s, b) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "choices": {"3": "update"}, "update_mode": "fill_empty", "update_except": ["city"],
                   "skip_invalid": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, p) = manager.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(
        (s, p["updates"].as_i64(), p["inserts"].as_i64()),
        (StatusCode::OK, Some(1), Some(2))
    );
    let (s, started) = manager
        .post(&format!("/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let (s, _) = manager
        .post(&format!("/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "started once");
    app.state.jobs.wait_idle().await;
    let (_, st) = manager.get(&format!("/imports/{id}")).await;
    let i = &st["import"];
    assert_eq!(i["status"], "done", "{st}");
    assert_eq!(
        (
            i["inserted"].as_i64(),
            i["updated"].as_i64(),
            i["invalid"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert!(st["undo_until"].as_i64().is_some());
    let (_, zhou) = manager.get(&format!("/customers/{known}")).await;
    assert_eq!(
        zhou["city"], "广州",
        "the city is the exception: overwritten"
    );
    assert_eq!(zhou["gender"], "male", "fill-empty fills the empty gender");
    let (_, found) = manager
        .get("/customers/identify?q=lilei%40example.com")
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    // The problem report, from the page: a workbook naming the line and column.
    let b = Browser::login(app, "mgr").await;
    let (s, html) = b.get(&format!("/imports/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"undo-form\""), "{html}");
    let r = b
        .http
        .get(format!("{}/imports/{id}/report", b.root))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    let book = guanxi_app::import::read_file(&bytes).unwrap();
    let (_, t) = book.sheet(None).unwrap();
    assert_eq!(
        (t.rows.len(), t.rows[0][0].as_str(), t.rows[0][1].as_str()),
        (1, "4", "手机号码")
    );
    let (s, kind, _) = manager.download(&format!("/imports/{id}/report")).await;
    assert_eq!(s, StatusCode::OK, "the report over the API too");
    assert!(kind.contains("spreadsheetml"), "{kind}");
    // Undo from the page: the created customers go, the updated one gets its fields back.
    let csrf = hidden(&html, "_csrf");
    let r = b
        .http
        .post(format!("{}/imports/{id}/undo", b.root))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("removed=2&restored=1&kept=0"));
    let (_, zhou) = manager.get(&format!("/customers/{known}")).await;
    assert_eq!(zhou["gender"], serde_json::Value::Null);
    assert_eq!(zhou["city"], "上海");
    let (_, found) = manager
        .get("/customers/identify?q=lilei%40example.com")
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(0), "{found}");
    let (s, _) = manager
        .post(&format!("/imports/{id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "undone once");
}

on_both_backends!(an_orders_file_becomes_orders_with_lines_and_is_undone);

/// An orders file as a shop exports it (one row per line, Chinese headers): rows sharing an
/// order number are one order, the buyer found by mobile or email among the customers the
/// importer sees, an order number on file skipped, a row naming nobody or with a wrong amount
/// reported; the run writes the orders with their lines; the undo deletes them.
async fn an_orders_file_becomes_orders_with_lines_and_is_undone(app: &TestApp) {
    let manager = app.user("mgr", Role::Manager, None).await;
    let mut ids = Vec::new();
    for (name, kind, value) in [
        ("周杰", "mobile", "13711112222"),
        ("李雷", "email", "lilei@example.com"),
    ] {
        let (s, c) = manager
            .post(
                "/customers",
                json!({"kind": "individual", "name": name, "contact_points": [{"kind": kind, "value": value}]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        ids.push(c["id"].as_i64().unwrap());
    }
    let (zhou, li) = (ids[0], ids[1]);
    let (s, o) = manager
        .post(
            "/orders",
            json!({"customer_id": zhou, "ordered_at": "2024-03-01T02:00:00Z", "channel": "store",
                   "external_ref": "T-100", "lines": [{"sku": "TEA-2", "quantity": 1, "unit_price_minor": 9900}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let file = "订单号,会员手机,邮箱,下单时间,商品编码,商品名称,数量,单价,金额\n\
         T-1,13711112222,,2024-03-05 10:00,TEA-1,龙井,2,128.50,257.00\n\
         T-1,13711112222,,2024-03-05 10:00,CUP-1,茶杯,1,30,30\n\
         T-2,,lilei@example.com,2024/3/6,TEA-1,龙井,1,128.5,\n\
         T-100,13711112222,,2024-03-07,TEA-2,普洱,1,99,\n\
         T-3,13900000000,,2024-03-08,TEA-1,,1,10,\n\
         T-4,13711112222,,2024-03-09,TEA-1,,3,10,31\n";
    let form = csv_form("orders", "订单.csv", file.as_bytes().to_vec());
    let (s, b) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(form),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["entity"], "orders");
    let id = b["id"].as_i64().unwrap();
    let settings: serde_json::Value =
        serde_json::from_str(b["settings"].as_str().unwrap()).unwrap();
    assert_eq!(
        settings["mapping"],
        json!([
            "order_ref",
            "mobile",
            "email",
            "ordered_at",
            "sku",
            "product_name",
            "quantity",
            "unit_price",
            "line_amount"
        ])
    );
    // A mapping without the product, and a choice an order cannot take, are refused.
    let (s, e) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "choices": {"5": "update"},
                   "mapping": ["order_ref", "mobile", "email", "ordered_at", null, null, "quantity", "unit_price", null]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let codes: Vec<(&str, &str)> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("mapping", "sku_not_mapped")), "{e}");
    assert!(codes.contains(&("choices[5]", "unknown_value")), "{e}");
    let (s, p) = manager.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (
            p["total"].as_i64(),
            p["inserts"].as_i64(),
            p["order_lines"].as_i64(),
            p["skips"].as_i64(),
            p["invalid"].as_i64()
        ),
        (Some(6), Some(2), Some(3), Some(1), Some(2)),
        "{p}"
    );
    assert_eq!(p["duplicates"][0]["line"], 5);
    assert_eq!(p["duplicates"][0]["matched_on"], "order_ref");
    assert_eq!(p["duplicates"][0]["customer_id"], zhou);
    assert_eq!(
        problems(&p),
        vec![
            (6, "会员手机", "customer_not_found"),
            (7, "金额", "amount_mismatch")
        ]
    );
    assert!(
        p["samples"][0]["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "unit_price", "value": "128.50"})),
        "{p}"
    );
    // The wizard's page shows the order options and plan.
    let br = Browser::login(app, "mgr").await;
    let (s, html) = br.get(&format!("/imports/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"channel\"") && html.contains("data-lines=\"3\""),
        "{html}"
    );
    assert!(!html.contains("id=\"update_mode\""), "no customer options");
    let (s, b) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "skip_invalid": true, "channel": "online"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = manager
        .post(&format!("/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.state.jobs.wait_idle().await;
    let (_, st) = manager.get(&format!("/imports/{id}")).await;
    let i = &st["import"];
    assert_eq!(i["status"], "done", "{st}");
    assert_eq!(
        (
            i["inserted"].as_i64(),
            i["skipped"].as_i64(),
            i["invalid"].as_i64()
        ),
        (Some(2), Some(1), Some(2))
    );
    let (_, mine) = manager.get(&format!("/orders?customer_id={zhou}")).await;
    let t1 = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_ref"] == "T-1")
        .cloned()
        .unwrap_or_else(|| panic!("T-1 imported: {mine}"));
    assert_eq!(t1["total_minor"], 28_700);
    assert_eq!(t1["channel"], "online", "the import's channel");
    assert_eq!(t1["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(t1["ordered_at"], "2024-03-05T02:00:00Z", "10:00 in UTC+8");
    let (_, lis) = manager.get(&format!("/orders?customer_id={li}")).await;
    assert_eq!(lis["items"].as_array().map(Vec::len), Some(1), "{lis}");
    let (_, list) = br.get("/imports").await;
    assert!(list.contains("订单") || list.contains("Orders"), "{list}");
    // Undo: the imported orders go, the one on file stays.
    let (s, u) = manager
        .post(&format!("/imports/{id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(
        (u["removed"].as_i64(), u["kept"].as_i64()),
        (Some(2), Some(0))
    );
    let (_, mine) = manager.get(&format!("/orders?customer_id={zhou}")).await;
    let refs: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["external_ref"].as_str())
        .collect();
    assert_eq!(refs, vec!["T-100"]);
    let (_, lis) = manager.get(&format!("/orders?customer_id={li}")).await;
    assert_eq!(lis["items"].as_array().map(Vec::len), Some(0));
}

on_both_backends!(a_call_log_becomes_interactions_once);

/// A call log from the previous system: each row an interaction on its customer's timeline,
/// found by customer id or mobile; a row for nobody reported; the same file imported again is
/// all duplicates; the undo takes the interactions off the timeline.
async fn a_call_log_becomes_interactions_once(app: &TestApp) {
    let manager = app.user("mgr", Role::Manager, None).await;
    let (s, c) = manager
        .post(
            "/customers",
            json!({"kind": "individual", "name": "周杰", "contact_points": [{"kind": "mobile", "value": "13711112222"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let zhou = c["id"].as_i64().unwrap();
    let file = format!(
        "客户编号,手机,沟通时间,沟通方式,方向,目的,主题,沟通内容\n\
         {zhou},,2024-03-05 09:30,电话,呼入,投诉,茶叶受潮,已安排换货\n\
         ,13711112222,2024/3/6 15:00,拜访,,跟进,送新茶样,\n\
         ,13900000000,2024-03-07,电话,,,无人,\n"
    );
    let upload = |bytes: Vec<u8>| csv_form("interactions", "通话记录.csv", bytes);
    let (s, b) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(upload(file.clone().into_bytes())),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let settings: serde_json::Value =
        serde_json::from_str(b["settings"].as_str().unwrap()).unwrap();
    assert_eq!(
        settings["mapping"],
        json!([
            "customer_id",
            "mobile",
            "occurred_at",
            "interaction_channel",
            "direction",
            "purpose",
            "subject",
            "body"
        ])
    );
    let (s, p) = manager.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["inserts"].as_i64(), p["invalid"].as_i64()),
        (Some(2), Some(1)),
        "{p}"
    );
    assert_eq!(p["problems"][0]["code"], "customer_not_found");
    let (s, b) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "skip_invalid": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = manager
        .post(&format!("/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.state.jobs.wait_idle().await;
    let (_, st) = manager.get(&format!("/imports/{id}")).await;
    assert_eq!(st["import"]["status"], "done", "{st}");
    assert_eq!(st["import"]["inserted"], 2);
    let interactions = |tl: serde_json::Value| -> Vec<serde_json::Value> {
        tl.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i["kind"] == "interaction")
            .collect()
    };
    let (_, tl) = manager.get(&format!("/customers/{zhou}/timeline")).await;
    let items = interactions(tl);
    assert_eq!(items.len(), 2, "{items:?}");
    let complaint = items
        .iter()
        .find(|i| i["title"] == "茶叶受潮")
        .cloned()
        .unwrap();
    assert_eq!(
        (complaint["code"].as_str(), complaint["detail"].as_str()),
        (Some("phone"), Some("已安排换货"))
    );
    assert_eq!(complaint["at"], "2024-03-05T01:30:00Z");
    // The same file again: both contacts are on file, skipped.
    let (_, again) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(upload(file.into_bytes())),
        )
        .await;
    let (_, p) = manager
        .get(&format!("/imports/{}/preview", again["id"]))
        .await;
    assert_eq!(
        (p["inserts"].as_i64(), p["skips"].as_i64()),
        (Some(0), Some(2)),
        "{p}"
    );
    assert_eq!(p["duplicates"][0]["matched_on"], "same_interaction");
    let (s, u) = manager
        .post(&format!("/imports/{id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(
        (u["removed"].as_i64(), u["kept"].as_i64()),
        (Some(2), Some(0))
    );
    let (_, tl) = manager.get(&format!("/customers/{zhou}/timeline")).await;
    assert!(interactions(tl).is_empty(), "the timeline has them no more");
}

on_both_backends!(a_deal_sheet_becomes_opportunities_in_their_stages);

/// A sheet of deals: each row a deal in the seeded pipeline, its stage and owner found by
/// name, opened on the date the sheet gives, a deal's custom field filled from its column
/// (matched by label); an unknown stage, a lost stage, an unknown owner and a value the
/// field cannot hold reported by column; the same deal again a duplicate; the undo removes
/// the deals, their history and their values.
async fn a_deal_sheet_becomes_opportunities_in_their_stages(app: &TestApp) {
    let manager = app.user("mgr", Role::Manager, None).await;
    let admin = app.user("boss", Role::Admin, None).await;
    app.user("wang", Role::Sales, None).await;
    let (s, f) = admin
        .post(
            "/custom-fields",
            json!({"entity": "opportunity", "code": "region", "kind": "choice",
                   "label_zh": "区域", "label_en": "Region",
                   "choices": [{"code": "east", "label_zh": "华东", "label_en": "East"},
                               {"code": "north", "label_zh": "华北", "label_en": "North"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let (s, c) = manager
        .post(
            "/customers",
            json!({"kind": "company", "name": "杭州茶业有限公司", "contact_points": [{"kind": "email", "value": "buy@tea.example.com"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let tea = c["id"].as_i64().unwrap();
    let file = format!(
        "客户编号,商机名称,阶段,负责人,预计金额,赢率,预计成交日期,竞争对手,创建日期,区域\n\
         {tea},年度茶叶采购,商务谈判,wang,\"120,000\",70%,2027-03-31,竹叶青、八马,2026-10-01,华东\n\
         {tea},茶具礼盒,,,8000,,,,,\n\
         {tea},旧单,输单,,100,,,,,火星\n\
         {tea},新品试用,方案计划,nobody,100,,,,,\n\
         {tea},样品,飞天,,100,,,,,\n"
    );
    let form = csv_form("opportunities", "商机.csv", file.into_bytes());
    let (s, b) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(form),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let settings: serde_json::Value =
        serde_json::from_str(b["settings"].as_str().unwrap()).unwrap();
    assert_eq!(
        settings["mapping"],
        json!([
            "customer_id",
            "deal_name",
            "stage",
            "owner",
            "amount",
            "probability",
            "expected_close",
            "competitors",
            "created_at",
            "cf.region"
        ])
    );
    let (s, p) = manager.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        problems(&p),
        vec![
            (4, "阶段", "lost_needs_a_move"),
            (4, "区域", "unknown_value"),
            (5, "负责人", "unknown_user"),
            (6, "阶段", "unknown_stage")
        ]
    );
    assert_eq!(p["inserts"], 2, "{p}");
    assert!(
        p["samples"][0]["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "amount", "value": "120000.00"})),
        "{p}"
    );
    assert!(
        p["samples"][0]["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "cf.region", "value": "east"})),
        "{p}"
    );
    let br = Browser::login(app, "mgr").await;
    let (s, html) = br.get(&format!("/imports/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"pipeline_id\""), "{html}");
    let (s, b) = manager
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "skip_invalid": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = manager
        .post(&format!("/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.state.jobs.wait_idle().await;
    let (_, st) = manager.get(&format!("/imports/{id}")).await;
    assert_eq!(st["import"]["status"], "done", "{st}");
    assert_eq!(st["import"]["inserted"], 2);
    let (_, deals) = manager.get("/opportunities").await;
    let items = deals["deals"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{deals}");
    let big = items
        .iter()
        .find(|d| d["name"] == "年度茶叶采购")
        .cloned()
        .unwrap_or_else(|| panic!("imported: {deals}"));
    let (_, big) = manager.get(&format!("/opportunities/{}", big["id"])).await;
    assert_eq!(big["amount_minor"], 12_000_000);
    assert_eq!(big["own_probability"], 70);
    assert_eq!(big["competitors"], json!(["竹叶青", "八马"]));
    assert_eq!(
        big["created_at"], "2026-09-30T16:00:00Z",
        "opened on the sheet's date"
    );
    let (_, v) = manager
        .get(&format!("/opportunities/{}/custom", big["id"]))
        .await;
    assert_eq!(v["values"], json!({"region": "east"}), "{v}");
    // The same sheet again: both deals are on file.
    let form = csv_form(
        "opportunities",
        "again.csv",
        format!("客户编号,商机名称\n{tea},年度茶叶采购\n{tea},茶具礼盒\n").into_bytes(),
    );
    let (_, again) = manager
        .send(
            manager
                .raw(reqwest::Method::POST, "/imports")
                .multipart(form),
        )
        .await;
    let (_, p) = manager
        .get(&format!("/imports/{}/preview", again["id"]))
        .await;
    assert_eq!(
        (p["inserts"].as_i64(), p["skips"].as_i64()),
        (Some(0), Some(2)),
        "{p}"
    );
    let (s, u) = manager
        .post(&format!("/imports/{id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(
        (u["removed"].as_i64(), u["kept"].as_i64()),
        (Some(2), Some(0))
    );
    let (_, deals) = manager.get("/opportunities").await;
    assert_eq!(deals["deals"].as_array().map(Vec::len), Some(0), "{deals}");
}

on_both_backends!(a_rep_imports_into_their_own_book_only_when_allowed);

/// Sales reps import only when the admin allows, and only into their own book: the new
/// customers are theirs, another owner is refused; the policy is audited and versioned.
async fn a_rep_imports_into_their_own_book_only_when_allowed(app: &TestApp) {
    let admin = app.user("boss", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let other = app.user("rep2", Role::Sales, None).await;
    let upload = || {
        csv_form(
            "customers",
            "mine.csv",
            "姓名,手机\n钱七,13700000007\n".into(),
        )
    };
    let (s, _) = rep
        .send(
            rep.raw(reqwest::Method::POST, "/imports")
                .multipart(upload()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "not by default");
    let br = Browser::login(app, "rep").await;
    let (_, home) = br.get("/").await;
    assert!(!home.contains("id=\"nav-imports\""), "no link either");
    let (_, p) = rep.get("/import-policy").await;
    assert_eq!(p["sales_may_import"], false);
    let (s, _) = rep
        .put(
            "/import-policy",
            json!({"sales_may_import": true, "version": p["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only an admin sets it");
    let (s, p) = admin
        .put(
            "/import-policy",
            json!({"sales_may_import": true, "version": p["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, _) = admin
        .put(
            "/import-policy",
            json!({"sales_may_import": false, "version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "at the version read");
    let (_, home) = br.get("/").await;
    assert!(home.contains("id=\"nav-imports\""), "{home}");
    let (s, b) = rep
        .send(
            rep.raw(reqwest::Method::POST, "/imports")
                .multipart(upload()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let (s, e) = rep
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": b["version"], "owner_id": other.user_id}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "forbidden_owner");
    let (s, _) = rep.post(&format!("/imports/{id}/start"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.state.jobs.wait_idle().await;
    let (_, st) = rep.get(&format!("/imports/{id}")).await;
    assert_eq!(st["import"]["status"], "done", "{st}");
    let (_, found) = rep.get("/customers/identify?q=13700000007").await;
    let c = found[0]["customer_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{found}"));
    let (_, c) = rep.get(&format!("/customers/{c}")).await;
    assert_eq!(c["owner_id"], rep.user_id, "the rep's own");
    let (_, audit) = admin.get("/audit?entity=import_policy").await;
    assert!(audit.to_string().contains("sales_may_import"), "{audit}");
}
