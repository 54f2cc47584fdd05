//! Points and surveys as pages on both backends: a manager corrects a member's points once per
//! form (a second send of the same form changes nothing), a removal beyond the balance is
//! refused, a rep sees the points but cannot correct them; a survey link answers once and an
//! unknown one is not found.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    points_are_corrected_once_per_form_and_only_by_those_allowed,
    a_survey_page_takes_one_answer
);

async fn points_are_corrected_once_per_form_and_only_by_those_allowed(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "积分会员"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let page = format!("/customers/{}", c["id"]);
    let boss = Browser::login(app, "boss").await;
    let (_, html) = boss.get(&page).await;
    assert!(html.contains("id=\"points-adjust\""));
    let csrf = hidden(&html, "_csrf");
    let nonce = hidden(&html, "nonce");
    let form = [
        ("_csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("points", "500"),
        ("reason", "开业赠送"),
    ];
    let post = format!("{page}/points");
    for _ in 0..2 {
        let (s, _) = boss.post(&post, &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (_, html) = boss.get(&page).await;
    assert!(
        html.contains("id=\"points-balance\">500<"),
        "one correction of 500"
    );
    assert!(html.contains("开业赠送"));
    // Taking away more than there is: refused, the balance unchanged.
    let nonce = hidden(&html, "nonce");
    let (s, _) = boss
        .post(
            &post,
            &[
                ("_csrf", csrf.as_str()),
                ("nonce", nonce.as_str()),
                ("points", "-600"),
                ("reason", "纠错"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = boss.get(&format!("{page}?saved=points_insufficient")).await;
    assert!(html.contains("id=\"points-balance\">500<"));
    assert!(html.contains("id=\"flash\""));
    // The rep sees the points, has no form, and is refused if he posts one.
    let b = Browser::login(app, "rep").await;
    let (_, html) = b.get(&page).await;
    assert!(html.contains("id=\"points-balance\">500<"));
    assert!(!html.contains("id=\"points-adjust\""));
    let csrf = hidden(&html, "_csrf");
    let (s, _) = b
        .post(
            &post,
            &[
                ("_csrf", csrf.as_str()),
                ("nonce", "0123456789abcdef0123"),
                ("points", "5"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn a_survey_page_takes_one_answer(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let admin = app.user("admin", Role::Admin, None).await;
    let (_, c) = admin
        .post(
            "/customers",
            json!({"kind": "individual", "name": "受访者"}),
        )
        .await;
    let boss = Browser::login(app, "boss").await;
    let (_, html) = boss.get("/surveys").await;
    let csrf = hidden(&html, "_csrf");
    let (s, _) = boss
        .post(
            "/surveys",
            &[
                ("_csrf", csrf.as_str()),
                ("name", "回访"),
                ("kind", "csat"),
                ("expires_days", "7"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = boss.get("/surveys").await;
    let at = html.find("href=\"/surveys/").unwrap() + "href=\"".len();
    let survey = &html[at..at + html[at..].find('"').unwrap()];
    let id = c["id"].to_string();
    let (_, html) = boss
        .post(
            &format!("{survey}/links"),
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", id.as_str()),
                ("locale", "en"),
            ],
        )
        .await;
    let at = html.find("id=\"survey-link\">").unwrap() + "id=\"survey-link\">".len();
    let link = html[at..at + html[at..].find('<').unwrap()].to_string();
    let visitor = Browser::anonymous(app);
    let (s, page) = visitor.get(&link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("How satisfied are you"),
        "in the invitation's language"
    );
    // A missing rating is named; then the answer goes in; a second one is refused.
    let (s, page) = visitor.post(&link, &[("a.comment", "ok")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"survey-errors\""));
    let (s, page) = visitor.post(&link, &[("a.csat", "5")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"survey-thanks\""));
    let (s, page) = visitor.post(&link, &[("a.csat", "1")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("id=\"survey-answered\""));
    let (s, _) = visitor.get("/s/0000000000000000").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The figures count the one answer: 100 % satisfied.
    let (_, html) = boss.get(survey).await;
    assert!(html.contains("id=\"survey-score\">100.0%<"), "{html}");
}
