//! Custom fields over HTTP on both backends (issue #18): the admin defines fields and switches
//! on the presets; values travel in a customer's `custom` object and its forms; the 360 page
//! and the list show them; sensitive ones are masked and their reads audited; the list filters
//! by them and segments use them.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    custom_fields_from_definition_to_filter,
    imports_fill_custom_fields,
    deals_and_tickets_carry_their_fields
);

async fn custom_fields_from_definition_to_filter(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let manager = app.user("mgr", Role::Manager, None).await;
    let sales = app.user("svc", Role::Service, None).await;
    // Definitions: admins only; a bad one names its fields.
    let level = json!({"entity": "customer", "code": "level", "kind": "choice",
        "label_zh": "会员等级", "label_en": "Level", "required": false,
        "choices": [{"code": "gold", "label_zh": "金卡", "label_en": "Gold"},
                    {"code": "silver", "label_zh": "银卡", "label_en": "Silver"}]});
    let (s, _) = manager.post("/custom-fields", level.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, f) = admin.post("/custom-fields", level).await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let (s, e) = admin
        .post(
            "/custom-fields",
            json!({"entity": "customer", "code": "Bad Code", "kind": "choice",
                   "label_zh": "", "label_en": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "label_zh", "choices"], "{e}");
    let (s, p) = admin.post("/custom-fields/presets", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(p["added"].as_i64().unwrap() >= 20, "{p}");
    let (_, again) = admin.post("/custom-fields/presets", json!({})).await;
    assert_eq!(again["added"], 0);
    // Any reader sees the live fields (a client needs codes and kinds).
    let (s, listed) = sales.get("/custom-fields?entity=customer").await;
    assert_eq!(s, StatusCode::OK);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "level"));

    // Values: created with the customer, checked field by field.
    let (s, e) = sales
        .post(
            "/customers",
            json!({"kind": "individual", "name": "张三",
                   "custom": {"level": "platinum", "nope": 1, "health_notes": "x"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let mut bad: Vec<(&str, &str)> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["field"].as_str().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    bad.sort();
    assert_eq!(
        bad,
        [
            ("custom.health_notes", "sensitive_not_allowed"),
            ("custom.level", "unknown_value"),
            ("custom.nope", "unknown_field")
        ]
    );
    let (s, c) = manager
        .post(
            "/customers",
            json!({"kind": "individual", "name": "张三",
                   "custom": {"level": "金卡", "preferred_media": ["wechat", "tv"],
                              "annual_income": "300000", "health_notes": "花粉过敏",
                              "native_place": "浙江宁波"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["custom"]["level"], "gold");
    assert_eq!(c["custom"]["preferred_media"], json!(["tv", "wechat"]));
    assert_eq!(c["custom"]["annual_income"], "300000.00");
    assert_eq!(c["custom"]["health_notes"], "花粉过敏");
    // A company-only preset does not go on a person.
    let (s, _) = manager
        .patch(
            &format!("/customers/{id}"),
            json!({"version": c["version"], "custom": {"reputation": "good"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, c2) = manager
        .patch(
            &format!("/customers/{id}"),
            json!({"version": c["version"], "custom": {"native_place": null}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c2}");
    assert!(c2["custom"].get("native_place").is_none());
    assert_eq!(c2["custom"]["level"], "gold", "untouched values stay");

    // An agent sees the sensitive values masked, a manager unmasked (and that read is audited).
    let (s, seen) = sales.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["custom"]["health_notes"], "******");
    assert_eq!(seen["custom"]["annual_income"], "******");
    assert_eq!(seen["custom"]["level"], "gold");
    let (_, seen) = manager.get(&format!("/customers/{id}")).await;
    assert_eq!(seen["custom"]["health_notes"], "花粉过敏");
    let (_, log) = admin
        .get("/audit?entity=customer&action=read_sensitive")
        .await;
    let reads = log["items"].as_array().unwrap();
    assert!(
        reads.iter().any(|r| r["detail"]["fields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("custom.health_notes")))),
        "{log}"
    );
    // A data-subject request hands over every value, unmasked.
    let (s, _, bytes) = admin.download(&format!("/customers/{id}/export")).await;
    assert_eq!(s, StatusCode::OK);
    let dossier: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(dossier["customer"]["custom"]["health_notes"], "花粉过敏");
    assert_eq!(dossier["customer"]["custom"]["level"], "gold");
    // The list masks them for everyone, and filters by a field through a rule.
    manager
        .post(
            "/customers",
            json!({"kind": "individual", "name": "李四", "custom": {"level": "silver"}}),
        )
        .await;
    let rule = urlencoding(r#"{"clauses":[{"field":"cf.level","op":"eq","value":"gold"}]}"#);
    let (s, page) = manager.get(&format!("/customers?rule={rule}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["张三"]);
    assert_eq!(page["items"][0]["custom"]["health_notes"], "******");
    // A range in a rule is read from the field's index too, with the rule's other clauses.
    let range = urlencoding(
        r#"{"clauses":[{"field":"cf.annual_income","op":"gte","value":"200000"},{"field":"name","op":"ne","value":"x"}]}"#,
    );
    let (s, page) = manager
        .get(&format!("/customers?rule={range}&total=true"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "name is no rule field: {page}");
    let range = urlencoding(
        r#"{"clauses":[{"field":"cf.annual_income","op":"gte","value":"200000"},{"field":"cf.level","op":"ne","value":"silver"}]}"#,
    );
    let (s, page) = manager.get(&format!("/customers?rule={range}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["name"], "张三");
    // A service agent may not filter on a sensitive field (it would tell what it holds).
    let probe =
        urlencoding(r#"{"clauses":[{"field":"cf.health_notes","op":"contains","value":"过敏"}]}"#);
    let (s, _) = sales.get(&format!("/customers?rule={probe}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Segments take custom clauses, checked against the field's kind.
    let (s, seg) = manager
        .post(
            "/segments",
            json!({"name": "金卡", "rule": {"clauses": [
                {"field": "cf.level", "op": "eq", "value": "gold"}]}}),
        )
        .await;
    assert_eq!(
        (s, seg["size"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "{seg}"
    );
    let (s, e) = manager
        .post(
            "/segments",
            json!({"name": "坏", "rule": {"clauses": [
                {"field": "cf.level", "op": "gte", "value": "3"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "rule.clauses[0].op");

    // The pages: the admin's list, the customer form with the fields, the 360 page, the list's
    // filter and column.
    let b = Browser::login(app, "admin").await;
    let (s, html) = b.get("/admin/custom-fields").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"field-level\"") && html.contains("id=\"field-health_notes\""));
    let csrf = hidden(&html, "_csrf");
    let (s, html) = b
        .post(
            "/admin/custom-fields",
            &[
                ("_csrf", &csrf),
                ("entity", "customer"),
                ("code", "x"),
                ("kind", "text"),
                ("applies_to", "all"),
                ("label_zh", "甲"),
                ("label_en", "A"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"form-errors\""), "{html}");
    let (s, _) = b
        .post(
            "/admin/custom-fields",
            &[
                ("_csrf", &csrf),
                ("entity", "ticket"),
                ("code", "device_serial"),
                ("kind", "text"),
                ("applies_to", "all"),
                ("label_zh", "设备序列号"),
                ("label_en", "Device serial"),
                ("required", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&format!("/customers/{id}/edit")).await;
    assert!(html.contains("name=\"cf.level\"") && html.contains("name=\"cf.health_notes\""));
    assert!(
        !html.contains("name=\"cf.reputation\""),
        "company fields stay off a person"
    );
    let (_, html) = b.get(&format!("/customers/{id}")).await;
    assert!(
        html.contains("id=\"section-custom\"") && html.contains("Gold"),
        "{html}"
    );
    let (_, html) = b
        .get("/customers?cf.level=gold&col=cf.level&col=city")
        .await;
    assert!(html.contains("张三") && !html.contains("李四"));
    assert!(html.contains("<th>会员等级</th>") || html.contains("<th>Level</th>"));
    let (s, _) = b.get("/customers?cf.level=bronze").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A form that clears a required field is refused with the field named.
    let (_, f) = admin.get("/custom-fields?entity=customer").await;
    let lvl = f
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "level")
        .unwrap()
        .clone();
    let mut upd = lvl.clone();
    upd["required"] = json!(true);
    for k in ["id", "preset", "archived"] {
        upd.as_object_mut().unwrap().remove(k);
    }
    let (s, e) = admin
        .put(&format!("/custom-fields/{}", lvl["id"]), upd)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, html) = b.get(&format!("/customers/{id}/edit")).await;
    let csrf = hidden(&html, "_csrf");
    let version = hidden(&html, "version");
    let (s, html) = b
        .post(
            &format!("/customers/{id}/edit"),
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("name", "张三"),
                ("cf.level", ""),
                ("lifecycle_stage", "prospect"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-f-cf-level\""), "{html}");
}

/// An import maps a column to a custom field by its label, checks each cell like a form, and
/// writes the values with the customers.
async fn imports_fill_custom_fields(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let (s, f) = admin
        .post(
            "/custom-fields",
            json!({"entity": "customer", "code": "level", "kind": "choice",
                "label_zh": "会员等级", "label_en": "Level",
                "choices": [{"code": "gold", "label_zh": "金卡", "label_en": "Gold"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let file = "姓名,城市,会员等级\n李雷,北京,金卡\n韩梅梅,上海,钻石卡\n王芳,上海,\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file.as_bytes().to_vec())
            .file_name("c.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let (s, b) = admin
        .send(admin.raw(reqwest::Method::POST, "/imports").multipart(form))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let settings: serde_json::Value =
        serde_json::from_str(b["settings"].as_str().unwrap()).unwrap();
    assert_eq!(settings["mapping"], json!(["name", "city", "cf.level"]));
    let (s, p) = admin.get(&format!("/imports/{id}/preview")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["invalid"], 1, "{p}");
    assert_eq!(p["problems"][0]["column"], "会员等级");
    assert_eq!(p["problems"][0]["code"], "unknown_value");
    let (_, b) = admin.get(&format!("/imports/{id}")).await;
    let version = b["import"]["version"]
        .as_i64()
        .or(b["version"].as_i64())
        .unwrap();
    let (s, e) = admin
        .put(
            &format!("/imports/{id}/settings"),
            json!({"version": version, "skip_invalid": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = admin.post(&format!("/imports/{id}/start"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{e}");
    app.state.jobs.wait_idle().await;
    let rule = urlencoding(r#"{"clauses":[{"field":"cf.level","op":"eq","value":"gold"}]}"#);
    let (_, page) = admin.get(&format!("/customers?rule={rule}")).await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["李雷"], "{page}");
}

/// Opportunities and tickets have their own fields: given when the record is opened (API and
/// form, required ones enforced there), set later through the API and their pages, filtered on
/// and shown as columns in their lists, scope kept.
async fn deals_and_tickets_carry_their_fields(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let other = app.user("rep2", Role::Sales, None).await;
    for (entity, code, kind) in [
        ("opportunity", "competitor", "text"),
        ("ticket", "device_serial", "text"),
    ] {
        let (s, f) = admin
            .post(
                "/custom-fields",
                json!({"entity": entity, "code": code, "kind": kind, "label_zh": "字段",
                       "label_en": "Field", "required": entity == "ticket"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{f}");
    }
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
    let (_, c) = rep
        .post(
            "/customers",
            json!({"kind": "company", "name": "华东贸易有限公司"}),
        )
        .await;
    // A bad value on create names the field, with the deal's own problems, and saves nothing.
    let (s, e) = rep
        .post(
            "/opportunities",
            json!({"customer_id": c["id"], "name": " ", "pipeline_id": 1,
                   "custom": {"region": "south"}}),
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
        fields.contains(&"name") && fields.contains(&"custom.region"),
        "{e}"
    );
    let (_, none) = rep.get("/opportunities").await;
    assert_eq!(none["deals"].as_array().unwrap().len(), 0);
    let (s, o) = rep
        .post(
            "/opportunities",
            json!({"customer_id": c["id"], "name": "年度采购", "pipeline_id": 1,
                   "lines": [{"sku": "A", "quantity": 2, "unit_price_minor": 10000}],
                   "custom": {"region": "east"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let deal = o["id"].as_i64().unwrap();
    let (s, v) = rep
        .put(
            &format!("/opportunities/{deal}/custom"),
            json!({"values": {"competitor": "某竞品公司"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["values"]["competitor"], "某竞品公司");
    assert_eq!(v["values"]["region"], "east", "set on create");
    // A full update may carry custom values too; those not sent stay.
    let (s, u) = rep
        .put(
            &format!("/opportunities/{deal}"),
            json!({"customer_id": c["id"], "name": "年度采购（二期）", "pipeline_id": 1,
                   "version": o["version"], "custom": {"region": "north"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    let (_, v) = rep.get(&format!("/opportunities/{deal}/custom")).await;
    assert_eq!(v["values"]["region"], "north");
    assert_eq!(v["values"]["competitor"], "某竞品公司");
    // The list filters on them and carries them.
    let cf = |v: serde_json::Value| urlencoding(&v.to_string());
    let (s, page) = rep
        .get(&format!(
            "/opportunities?cf={}",
            cf(json!({"region": "north"}))
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page["deals"][0]["id"], deal);
    assert_eq!(page["deals"][0]["custom"]["region"], "north");
    let (_, page) = rep
        .get(&format!(
            "/opportunities?cf={}",
            cf(json!({"region": "east"}))
        ))
        .await;
    assert_eq!(page["deals"].as_array().unwrap().len(), 0);
    let (s, e) = rep
        .get(&format!("/opportunities?cf={}", cf(json!({"nope": "x"}))))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, _) = other.get(&format!("/opportunities/{deal}/custom")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another rep's deal stays out of reach"
    );
    let (_, theirs) = other
        .get(&format!(
            "/opportunities?cf={}",
            cf(json!({"region": "north"}))
        ))
        .await;
    assert_eq!(theirs["deals"].as_array().unwrap().len(), 0);
    let (s, e) = rep
        .put(
            &format!("/opportunities/{deal}/custom"),
            json!({"values": {"nope": 1}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "custom.nope");
    let (_, cust) = admin
        .post("/customers", json!({"kind": "individual", "name": "王芳"}))
        .await;
    let opened = |custom: serde_json::Value| {
        json!({"customer_id": cust["id"], "kind": "complaint", "channel": "phone",
               "subject": "屏幕碎了", "category_id": 2, "custom": custom})
    };
    // A required ticket field is required when the ticket is opened.
    let (s, e) = admin.post("/tickets", opened(json!({}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "custom.device_serial");
    assert_eq!(e["fields"][0]["code"], "required");
    let (s, t) = admin
        .post("/tickets", opened(json!({"device_serial": "SN-1"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let ticket = t["id"].as_i64().unwrap();
    let (s, e) = admin
        .put(
            &format!("/tickets/{ticket}/custom"),
            json!({"values": {"device_serial": null}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "required");
    let (s, list) = admin
        .get(&format!(
            "/tickets?view=all&cf={}",
            cf(json!({"device_serial": "SN-1"}))
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], ticket);
    assert_eq!(list[0]["custom"]["device_serial"], "SN-1");
    // The pages: the section on the record, its form, a save.
    let b = Browser::login(app, "admin").await;
    let (_, html) = b.get(&format!("/tickets/{ticket}")).await;
    assert!(html.contains("id=\"section-custom\""), "{html}");
    let (_, html) = b.get(&format!("/tickets/{ticket}/fields")).await;
    assert!(html.contains("name=\"cf.device_serial\""));
    let csrf = hidden(&html, "_csrf");
    let (s, _) = b
        .post(
            &format!("/tickets/{ticket}/fields"),
            &[
                ("_csrf", csrf.as_str()),
                ("cf.device_serial", "SN-2026-0042"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&format!("/tickets/{ticket}")).await;
    assert!(html.contains("SN-2026-0042"));
    let (s, html) = b
        .post(
            &format!("/tickets/{ticket}/fields"),
            &[("_csrf", csrf.as_str()), ("cf.device_serial", "")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-f-cf-device_serial\""));
    // The desk filters on the field and shows its column.
    let (s, html) = b
        .get("/tickets?view=all&cf.device_serial=SN-2026-0042")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("id=\"ticket-{ticket}\"")), "{html}");
    assert!(html.contains("<td>SN-2026-0042</td>"), "{html}");
    let (_, html) = b.get("/tickets?view=all&cf.device_serial=SN-0").await;
    assert!(!html.contains(&format!("id=\"ticket-{ticket}\"")));
    // The new-ticket form asks for the required field and names it when it is left empty.
    let (_, html) = b.get("/tickets/new").await;
    assert!(html.contains("name=\"cf.device_serial\""), "{html}");
    let csrf = hidden(&html, "_csrf");
    let cust_id = cust["id"].to_string();
    let ticket_form = |serial: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("customer_id", cust_id.clone()),
            ("kind", "enquiry".to_string()),
            ("priority", "normal".to_string()),
            ("channel", "phone".to_string()),
            ("subject", "路由器不亮".to_string()),
            ("cf.device_serial", serial.to_string()),
        ]
    };
    let form = ticket_form("");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, html) = b.post("/tickets", &pairs).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-f-cf-device_serial\""), "{html}");
    assert!(html.contains("路由器不亮"), "the form keeps what was typed");
    let form = ticket_form("SN-7");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _) = b.post("/tickets", &pairs).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, list) = admin
        .get(&format!(
            "/tickets?view=all&cf={}",
            cf(json!({"device_serial": "SN-7"}))
        ))
        .await;
    assert_eq!(list[0]["subject"], "路由器不亮");
    // The new-deal form carries the deal's fields; the deals page filters and shows them.
    let rb = Browser::login(app, "rep").await;
    let (_, html) = rb.get("/opportunities/new").await;
    assert!(html.contains("name=\"cf.region\""), "{html}");
    let csrf = hidden(&html, "_csrf");
    let cid = c["id"].to_string();
    let (s, html) = rb
        .post(
            "/opportunities",
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", cid.as_str()),
                ("name", "门店升级"),
                ("pipeline_id", "1"),
                ("cf.region", "south"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-f-cf-region\""), "{html}");
    let (s, _) = rb
        .post(
            "/opportunities",
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", cid.as_str()),
                ("name", "门店升级"),
                ("pipeline_id", "1"),
                ("cf.region", "east"),
                ("cf.competitor", "本地茶庄"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, html) = rb.get("/opportunities?cf.region=east").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("门店升级") && !html.contains("年度采购"),
        "{html}"
    );
    assert!(
        html.contains("<td>本地茶庄</td>") && html.contains("<td>East</td>"),
        "{html}"
    );
    let (_, html) = rb.get("/opportunities").await;
    assert!(html.contains("门店升级") && html.contains("年度采购（二期）"));
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
