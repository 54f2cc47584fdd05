//! Campaign settings as pages and over the API on both backends: a marketer edits a channel's
//! contact policy (quiet hours as clock times; a bad value is refused with the form kept), an
//! agent records a customer's own limit from the customer's page, a rep cannot change the
//! policy; a provider's report naming no message of ours is a 422, never a guess; a mailing
//! list is only for direct-mail campaigns.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    contact_policies_and_customer_limits_from_the_pages,
    provider_reports_and_mailing_lists_over_the_api
);

async fn contact_policies_and_customer_limits_from_the_pages(app: &TestApp) {
    app.user("mkt", Role::Marketing, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let m = Browser::login(app, "mkt").await;
    let (s, html) = m.get("/campaigns/policies").await;
    assert_eq!(s, StatusCode::OK);
    // The shipped SMS policy: quiet from 21:00 to 08:00.
    assert!(html.contains("id=\"policy-sms\""), "{html}");
    assert!(html.contains("value=\"21:00\"") && html.contains("value=\"08:00\""));
    let csrf = hidden(&html, "_csrf");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("cap_count", "3"),
        ("cap_days", "7"),
        ("quiet_start", "22:30"),
        ("quiet_end", "07:30"),
        ("complaint_pause_days", "14"),
        ("soft_bounce_limit", "3"),
        ("max_errors", "50"),
        ("per_second", "20"),
    ];
    let (s, _) = m.post("/campaigns/policies/sms", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, p) = rep.get("/contact-policies").await;
    assert!(p.is_object() || p.is_array(), "{p}");
    let (_, html) = m.get("/campaigns/policies?saved=sms").await;
    assert!(html.contains("id=\"policy-flash\""));
    assert!(html.contains("value=\"22:30\""));
    // Out of range and not a time: refused, what was typed kept, nothing saved.
    form[1] = ("cap_count", "0");
    form[4] = ("quiet_end", "25:00");
    let (s, html) = m.post("/campaigns/policies/sms", &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"policy-sms-errors\""), "{html}");
    assert!(html.contains("value=\"25:00\""));
    let mkt_api = app.user("mkt2", Role::Marketing, None).await;
    let (_, all) = mkt_api.get("/contact-policies").await;
    let sms = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["channel"] == "sms")
        .unwrap();
    assert_eq!(sms["policy"]["cap_count"], 3);
    assert_eq!(sms["policy"]["quiet_start"], 22 * 60 + 30);
    // A rep may not change the policy.
    let r = Browser::login(app, "rep").await;
    let (_, html) = r.get("/customers").await;
    let rcsrf = hidden(&html, "_csrf");
    let (s, _) = r
        .post(
            "/campaigns/policies/sms",
            &[("_csrf", rcsrf.as_str()), ("cap_count", "9")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The rep's customer asks for at most one text a month: set on the customer's page.
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "少打扰",
                "contact_points": [{"kind": "mobile", "value": "13800138111", "consent_marketing": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let page = format!("/customers/{}", c["id"]);
    let (_, html) = r.get(&page).await;
    assert!(html.contains("id=\"contact-cap-form\""), "{html}");
    let caps = format!("{page}/contact-caps");
    let (s, _) = r
        .post(
            &caps,
            &[
                ("_csrf", rcsrf.as_str()),
                ("channel", "sms"),
                ("cap_count", "1"),
                ("cap_days", "30"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = r.get(&page).await;
    assert!(html.contains("at most 1 per 30 days"), "{html}");
    // A cap of none is refused (that is an unsubscribe), the one set stays.
    let (s, _) = r
        .post(
            &caps,
            &[
                ("_csrf", rcsrf.as_str()),
                ("channel", "sms"),
                ("cap_count", "0"),
                ("cap_days", "30"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = r.get(&format!("{page}?saved=contact_cap_invalid")).await;
    assert!(html.contains("id=\"flash\"") && html.contains("at most 1 per 30 days"));
    // Removed.
    let (s, _) = r
        .post(
            &caps,
            &[
                ("_csrf", rcsrf.as_str()),
                ("channel", "sms"),
                ("remove", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = r.get(&page).await;
    assert!(!html.contains("at most 1 per 30 days"));
    // A customer the user may not see: not found, nothing written.
    let other = app.user("rep2", Role::Sales, None).await;
    let (_, c2) = other
        .post(
            "/customers",
            json!({"kind": "individual", "name": "别人的客户"}),
        )
        .await;
    let (s, _) = r
        .post(
            &format!("/customers/{}/contact-caps", c2["id"]),
            &[
                ("_csrf", rcsrf.as_str()),
                ("channel", "sms"),
                ("cap_count", "1"),
                ("cap_days", "30"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn provider_reports_and_mailing_lists_over_the_api(app: &TestApp) {
    let mkt = app.user("mkt", Role::Marketing, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, e) = mkt
        .post(
            "/campaigns/reports",
            json!({"message_id": "<0123456789abcdef0123456789abcdef@shop.test>", "kind": "hard_bounce"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("unknown_message"), "{e}");
    let (s, e) = mkt
        .post(
            "/campaigns/reports",
            json!({"message_id": "biz-1", "kind": "reply"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("\"text\""), "{e}");
    let (s, _) = rep
        .post(
            "/campaigns/reports",
            json!({"message_id": "biz-1", "kind": "complaint"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A mailing list of an e-mail campaign is refused.
    let (_, seg) = mkt
        .post(
            "/segments",
            json!({"name": "全部上海", "description": "", "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}}),
        )
        .await;
    let (s, k) = mkt
        .post(
            "/campaigns",
            json!({"name": "邮件", "channel": "email", "segments": [seg["id"]], "exclude": [],
                "control_percent": 0, "variants": [{"subject_zh": "你好", "subject_en": "", "body_zh": "内容",
                "body_en": "", "sms_template": "", "sms_params": []}], "ab": null, "offer_id": null,
                "attribution_days": 7, "spread_hours": 0, "track_opens": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let (s, _) = mkt
        .get(&format!("/campaigns/{}/mailing-list", k["id"]))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The draft's page shows it as its first recipient will read it.
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "张敏", "city": "上海", "gender": "female",
                "contact_points": [{"kind": "email", "value": "zhang.min@example.cn", "consent_marketing": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let b = Browser::login(app, "mkt").await;
    let (_, html) = b.get(&format!("/campaigns/{}", k["id"])).await;
    assert!(
        html.contains("id=\"campaign-recipient-previews\""),
        "{html}"
    );
    assert!(html.contains("张敏"));
}
