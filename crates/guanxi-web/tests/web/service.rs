//! The service desk over HTTP on both backends: files on a ticket (checked by type and size,
//! refused whole, served back so a browser cannot run them), and the desk manager's settings
//! pages (a refused row comes back as typed, with the problem named).

use crate::common::{Api, TestApp};
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    uploads_are_checked_stored_and_served_safely,
    the_message_form_carries_files_and_keeps_the_text_on_a_refusal,
    settings_pages_save_and_refuse_with_the_row_kept,
    a_team_lead_hands_out_the_teams_tickets_and_an_agent_cannot,
);

fn png(n: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(n, 1);
    b
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

async fn ticket(admin: &Api) -> i64 {
    let (s, c) = admin
        .post("/customers", json!({"kind": "individual", "name": "王芳"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, t) = admin
        .post(
            "/tickets",
            json!({"customer_id": c["id"], "kind": "complaint", "channel": "phone",
                   "subject": "屏幕碎了", "category_id": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t["id"].as_i64().unwrap()
}

async fn upload(api: &Api, id: i64, form: Form) -> (StatusCode, Value) {
    api.send(
        api.raw(reqwest::Method::POST, &format!("/tickets/{id}/attachments"))
            .multipart(form),
    )
    .await
}

async fn attachments(api: &Api, id: i64) -> Vec<Value> {
    let (s, d) = api.get(&format!("/tickets/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d["attachments"].as_array().unwrap().clone()
}

async fn uploads_are_checked_stored_and_served_safely(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let id = ticket(&admin).await;

    // A program named as a picture, next to a real picture: the whole message is refused.
    let form = Form::new()
        .text("kind", "customer")
        .text("body", "照片")
        .part("file", file("ok.png", png(100)))
        .part("file", file("屏幕.png", b"MZ\x90\x00program".to_vec()));
    let (s, v) = upload(&admin, id, form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["field"], "files[1]", "{v}");
    assert_eq!(v["fields"][0]["code"], "type_mismatch", "{v}");
    let form = Form::new().part("file", file("run.exe", b"MZ".to_vec()));
    let (s, v) = upload(&admin, id, form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["code"], "refused_type", "{v}");
    assert!(attachments(&admin, id).await.is_empty(), "nothing stored");

    // The desk lowers its limit to 1 KB: a 2 KB picture is too large, in the caller's language.
    let put = |body: Value| {
        admin.send(
            admin
                .raw(reqwest::Method::PUT, "/service/settings")
                .json(&body),
        )
    };
    let (s, v) = put(json!({"reopen_days": 7, "attachment_max_kb": 1})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let form = Form::new().part("file", file("big.png", png(2048)));
    let (s, v) = upload(&admin.clone().lang("zh-CN"), id, form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["code"], "file_too_large", "{v}");
    assert!(
        v["fields"][0]["message"].as_str().unwrap().contains("大小"),
        "{v}"
    );
    let (s, v) = put(json!({"reopen_days": 7, "attachment_max_kb": 99999})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["field"], "attachment_max_kb", "{v}");

    // A 1.5 MB scan passes the server's body limit (larger than a JSON body's) under 4 MB.
    let (s, v) = put(json!({"reopen_days": 7, "attachment_max_kb": 4096})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut scan = b"%PDF-1.7\n".to_vec();
    scan.resize(1_500_000, b' ');
    let (s, v) = upload(&admin, id, Form::new().part("file", file("扫描.pdf", scan))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = put(json!({"reopen_days": 7, "attachment_max_kb": 1})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A picture within the limit goes in as a note; the ticket lists it.
    let form = Form::new().part("file", file("破损.png", png(1000)));
    let (s, t) = upload(&admin, id, form).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let list = attachments(&admin, id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["file_name"], "破损.png");
    assert_eq!(list[1]["content_type"], "image/png");
    let aid = list[1]["id"].as_i64().unwrap();

    // Served back byte for byte, typed by the check, never sniffed, never run.
    let r = admin
        .raw(
            reqwest::Method::GET,
            &format!("/tickets/{id}/attachments/{aid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .contains("UTF-8''%E7%A0%B4%E6%8D%9F.png"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), png(1000));

    // A sales rep of another team cannot reach the file; a bad id is a 400.
    let rep = app.user("rep", Role::Sales, Some("east")).await;
    let (s, _, _) = rep
        .download(&format!("/tickets/{id}/attachments/{aid}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = admin
        .download(&format!("/tickets/{id}/attachments/x"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Not multipart at all: 415.
    let (s, _) = admin
        .post(&format!("/tickets/{id}/attachments"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn the_message_form_carries_files_and_keeps_the_text_on_a_refusal(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let id = ticket(&admin).await;
    let b = Browser::login(app, "admin").await;
    let (_, page) = b.get(&format!("/tickets/{id}")).await;
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let csrf = hidden(&page, "_csrf");
    let post = |form: Form| {
        b.http
            .post(format!("{}/tickets/{id}/messages", b.root))
            .multipart(form)
            .send()
    };
    // A script is refused: 422, the reply text still in the box, nothing written.
    let r = post(
        Form::new()
            .text("_csrf", csrf.clone())
            .text("kind", "reply")
            .text("body", "请看说明书第 3 页")
            .part("files", file("fix.js", b"alert(1)".to_vec())),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("不接受这种文件") || html.contains("not accepted"),
        "{html}"
    );
    assert!(attachments(&admin, id).await.is_empty());
    // Without the token nothing happens either.
    let r = post(Form::new().part("files", file("a.png", png(50))))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A picture with the reply: the thread shows it under the message.
    let r = post(
        Form::new()
            .text("_csrf", csrf)
            .text("kind", "reply")
            .text("body", "请看说明书第 3 页")
            .part("files", file("说明.png", png(300))),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = attachments(&admin, id).await;
    assert_eq!(list.len(), 1);
    let (_, page) = b.get(&format!("/tickets/{id}")).await;
    assert!(page.contains(&format!(
        "href=\"/tickets/{id}/attachments/{}\"",
        list[0]["id"]
    )));
    assert!(page.contains("说明.png"));
}

async fn settings_pages_save_and_refuse_with_the_row_kept(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    app.user("agent", Role::Service, None).await;
    let agent = Browser::login(app, "agent").await;
    assert_eq!(
        agent.get("/tickets/settings").await.0,
        StatusCode::FORBIDDEN
    );

    let b = Browser::login(app, "boss").await;
    let (s, page) = b.get("/tickets/settings").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("product_quality"));
    let csrf = b.csrf().await;

    // A bad code comes back as typed with the problem named.
    let (s, html) = b
        .post(
            "/tickets/settings/categories",
            &[
                ("_csrf", &csrf),
                ("code", "Warranty Claims"),
                ("name_zh", "保修"),
                ("name_en", "Warranty"),
                ("parent_id", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("value=\"Warranty Claims\""),
        "typed value kept"
    );
    assert!(html.contains("lowercase letters") || html.contains("小写字母"));
    let (s, _) = b
        .post(
            "/tickets/settings/categories",
            &[
                ("_csrf", &csrf),
                ("code", "warranty"),
                ("name_zh", "保修"),
                ("name_en", "Warranty"),
                ("parent_id", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = b.get("/tickets/settings").await;
    assert!(page.contains("value=\"warranty\""));

    // A policy needs a target; the refused row keeps its name.
    let (s, html) = b
        .post(
            "/tickets/settings/policies",
            &[
                ("_csrf", &csrf),
                ("name", "VIP 投诉"),
                ("position", "0"),
                ("kind", "complaint"),
                ("tier", "A"),
                ("calendar_id", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"VIP 投诉\""));
    let (s, _) = b
        .post(
            "/tickets/settings/policies",
            &[
                ("_csrf", &csrf),
                ("name", "VIP 投诉"),
                ("position", "0"),
                ("kind", "complaint"),
                ("tier", "A"),
                ("first_response_minutes", "15"),
                ("calendar_id", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let policies = app.db.store.sla_policies().await.unwrap();
    let vip = policies.iter().find(|p| p.name == "VIP 投诉").unwrap();
    assert_eq!(vip.first_response_minutes, Some(15));
    assert_eq!(vip.conditions.tier.as_deref(), Some("A"));
    // The change queued a recomputation of open tickets' clocks, which the worker ran.
    let done = "SELECT COUNT(*) FROM jobs WHERE kind = 'tickets.sla_recompute' AND state = 'done'";
    let mut waited = 0;
    while app.db.scalar(done).await == 0 && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert!(app.db.scalar(done).await >= 1, "the recomputation ran");

    // Calendar hours typed wrong are named by weekday; a make-up Sunday is marked.
    let (s, html) = b
        .post(
            "/tickets/settings/calendars/1",
            &[
                ("_csrf", &csrf),
                ("name", "中国大陆 / Mainland China"),
                ("utc_offset_minutes", "480"),
                ("week0", "9-12"),
                ("week1", "09:00-12:00, 13:00-18:00"),
                ("workday_hours", "09:00-18:00"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"9-12\""));
    assert!(html.contains("Monday") || html.contains("星期一"));
    let (s, _) = b
        .post(
            "/tickets/settings/calendars/1/days",
            &[
                ("_csrf", &csrf),
                ("op", "set"),
                ("day", "2027-02-07"),
                ("rule", "workday"),
                ("festival", "spring_festival"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = b.get("/tickets/settings/calendars/1?year=2027").await;
    assert!(page.contains("id=\"day-2027-02-07\""));
    let cal = app.db.store.business_calendar(1).await.unwrap();
    let d = cal
        .days
        .iter()
        .find(|d| d.day.to_string() == "2027-02-07")
        .unwrap();
    assert!(!d.provisional);
}

async fn a_team_lead_hands_out_the_teams_tickets_and_an_agent_cannot(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    app.user("boss", Role::Manager, None).await;
    let lead = app.user("lead", Role::Service, Some("客服")).await;
    let agent = app.user("agent", Role::Service, Some("客服")).await;
    let team = app.team("客服").await;
    let (s, q) = admin
        .post("/service/queues", json!({"name": "售后", "team_id": team}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{q}");
    let queue = q["id"].as_i64().unwrap();
    for u in [lead.user_id, agent.user_id] {
        let (s, v) = admin
            .post(
                &format!("/service/queues/{queue}/members"),
                json!({"user_id": u}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    // The manager names the lead on the settings page.
    let boss = Browser::login(app, "boss").await;
    let csrf = boss.csrf().await;
    let lead_id = lead.user_id.to_string();
    let team_id = team.to_string();
    let (s, _) = boss
        .post(
            "/tickets/settings/queues",
            &[
                ("_csrf", csrf.as_str()),
                ("op", "team_lead"),
                ("team_id", team_id.as_str()),
                ("user_id", lead_id.as_str()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, c) = admin
        .post("/customers", json!({"kind": "individual", "name": "赵磊"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, t) = admin
        .post(
            "/tickets",
            json!({"customer_id": c["id"], "kind": "enquiry", "channel": "wechat",
                   "subject": "发票抬头", "queue_id": queue}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    let version = t["meta"]["version"].as_i64().unwrap().to_string();

    // The agent sees no "assign to" and cannot hand the ticket to the lead.
    let a = Browser::login(app, "agent").await;
    let (_, page) = a.get(&format!("/tickets/{id}")).await;
    assert!(!page.contains("id=\"reassign-form\""));
    let csrf = hidden(&page, "_csrf");
    let (s, _) = a
        .post(
            &format!("/tickets/{id}/take"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("assignee_id", lead_id.as_str()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The lead hands it to the agent from the ticket page.
    let l = Browser::login(app, "lead").await;
    let (_, page) = l.get(&format!("/tickets/{id}")).await;
    assert!(page.contains("id=\"reassign-form\""));
    let csrf = hidden(&page, "_csrf");
    let version = hidden(&page, "version");
    let agent_id = agent.user_id.to_string();
    let (s, _) = l
        .post(
            &format!("/tickets/{id}/take"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("assignee_id", agent_id.as_str()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, t) = admin.get(&format!("/tickets/{id}")).await;
    assert_eq!(t["ticket"]["assignee_id"], json!(agent.user_id));
}
