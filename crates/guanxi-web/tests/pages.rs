//! Page tests over HTTP on both backends: record scope and masking hold in every page and
//! fragment, page writes need the CSRF token, unknown paths get the right kind of 404.

mod common;

use common::{TestApp, PASSWORD};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name(&super::TestApp::spawn(guanxi_store::Backend::Sqlite).await).await }
            #[tokio::test]
            async fn postgres() { super::$name(&super::TestApp::spawn(guanxi_store::Backend::Postgres).await).await }
        }
    )*};
}

on_both_backends!(
    pages_respect_scope_and_masking,
    page_writes_need_the_csrf_token,
    unknown_paths_and_languages,
);

/// A browser-like client signed in through the login form.
struct Browser {
    root: String,
    http: reqwest::Client,
}

impl Browser {
    async fn login(app: &TestApp, username: &str) -> Browser {
        let root = app.base.trim_end_matches("/api/v1").to_string();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{root}/login"))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
        Browser { root, http }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.root))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.root))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn csrf(&self) -> String {
        let (_, html) = self.get("/").await;
        let at = html.find("name=\"_csrf\" value=\"").expect("csrf field") + 20;
        html[at..at + 64].to_string()
    }
}

async fn customer(admin: &common::Api, body: Value) -> Value {
    let (s, v) = admin.post("/customers", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

const MINE_ID: &str = "11010519491231002X";
const THEIRS_ID: &str = "440106198001010019";

async fn pages_respect_scope_and_masking(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let east = app.user("rep", Role::Sales, Some("east")).await;
    let south = app.user("south", Role::Sales, Some("south")).await;
    app.user("viewer", Role::Viewer, None).await;
    // Her birthday is kept in the lunar calendar and falls a few days from today (shop time).
    let shop_today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (in_days, lunar) = (3..10)
        .find_map(|k| {
            guanxi_domain::lunar::to_lunar(shop_today + chrono::Duration::days(k))
                .filter(|l| !l.leap)
                .map(|l| (k, l))
        })
        .unwrap();
    let mine = customer(&admin, json!({"kind": "individual", "name": "张晓梅", "owner_id": east.user_id, "id_number": MINE_ID,
        "birthday": {"month": lunar.month, "day": lunar.day, "lunar": true},
        "contact_points": [{"kind": "mobile", "value": "+86 139-1234-5678"}]})).await;
    let theirs = customer(&admin, json!({"kind": "individual", "name": "欧阳娜娜", "owner_id": south.user_id, "id_number": THEIRS_ID,
        "contact_points": [{"kind": "mobile", "value": "13787654321"}]})).await;
    let (mine_id, theirs_id) = (mine["id"].as_i64().unwrap(), theirs["id"].as_i64().unwrap());

    let rep = Browser::login(app, "rep").await;
    for path in [
        format!("/customers/{theirs_id}"),
        format!("/customers/{theirs_id}/edit"),
        format!("/customers/{theirs_id}/timeline"),
    ] {
        let (s, html) = rep.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("欧阳娜娜"), "{path}");
    }
    for q in [
        "ouyang",
        "%E6%AC%A7%E9%98%B3",
        "13787654321",
        "137%208765%204321",
        "oynn",
    ] {
        for path in [format!("/search?q={q}"), format!("/customers?q={q}")] {
            let (s, html) = rep.get(&path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(!html.contains("欧阳娜娜"), "{path}");
        }
    }
    // The rep's own customer: found by a phone typed with spaces, ID masked everywhere.
    let (_, hits) = rep.get("/search?q=139%201234%205678").await;
    assert!(hits.contains(&format!("/customers/{mine_id}")), "{hits}");
    assert!(
        hits.contains("139 1234 5678") && !hits.contains("+86 139-1234-5678"),
        "the matched phone in one shape: {hits}"
    );
    let (s, page) = rep.get(&format!("/customers/{mine_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("张晓梅"));
    // The lunar birthday counts down like a solar one.
    let countdown = [format!("还有 {in_days} 天"), format!("in {in_days} days")];
    assert!(
        page.contains("农历") || page.contains("Lunar"),
        "lunar birthday listed"
    );
    assert!(
        countdown.iter().any(|c| page.contains(c.as_str())),
        "countdown to the lunar birthday: {countdown:?}"
    );
    assert!(
        !page.contains(MINE_ID) && !page.contains("19491231"),
        "ID unmasked for sales"
    );
    // Typed "+86 139-1234-5678": shown as dialled in China, the typed form kept as hover text.
    assert!(
        page.contains("title=\"+86 139-1234-5678\">139 1234 5678<"),
        "the phone in one shape on the 360 page"
    );
    let (_, list) = rep.get("/customers?col=phone&col=tags").await;
    assert!(list.contains("张晓梅") && !list.contains("欧阳娜娜"));
    assert!(list.contains("139 1234 5678") && !list.contains("+86 139-1234-5678"));
    let (_, dash) = rep.get("/").await;
    assert!(
        dash.contains("id=\"stat-customers\">1<"),
        "dashboard counts only the rep's book"
    );
    let this_month = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string();
    assert!(
        [
            format!("{this_month}（至今）"),
            format!("{this_month} (to date)")
        ]
        .iter()
        .any(|l| dash.contains(l.as_str())),
        "the running month is marked as such on the month charts"
    );
    assert!(
        !dash.contains("id=\"scores-job\""),
        "no score refresh control for sales"
    );
    let csrf = rep.csrf().await;
    assert_eq!(
        rep.post("/scores/refresh", &[("_csrf", csrf.as_str())])
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, edit) = rep.get(&format!("/customers/{mine_id}/edit")).await;
    assert!(
        !edit.contains(MINE_ID) && !edit.contains("f-id_number"),
        "no ID field for sales"
    );
    // The analytics page renders (no scores yet: its empty state); bad click-through values are 400.
    let (s, html) = rep.get("/analytics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"analytics-empty\""));
    assert_eq!(
        rep.get("/customers?segment=nonsense").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        rep.get("/customers?rf=9,1").await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, html) = rep.get("/customers?segment=at_risk&rf=1,5").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"score-filter\""));
    // Admin pages are not for sales.
    assert_eq!(rep.get("/admin/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(rep.get("/admin/audit").await.0, StatusCode::FORBIDDEN);

    let viewer = Browser::login(app, "viewer").await;
    for id in [mine_id, theirs_id] {
        let (s, page) = viewer.get(&format!("/customers/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!page.contains(MINE_ID) && !page.contains(THEIRS_ID));
        assert!(
            !page.contains("id=\"edit-customer\""),
            "viewer gets no edit button"
        );
    }
    assert_eq!(
        viewer.get(&format!("/customers/{mine_id}/edit")).await.0,
        StatusCode::FORBIDDEN
    );

    let boss = Browser::login(app, "admin").await;
    let (_, dash) = boss.get("/").await;
    assert!(
        dash.contains("id=\"scores-job\""),
        "admins can refresh scores"
    );
    let (_, page) = boss.get(&format!("/customers/{theirs_id}")).await;
    assert!(page.contains(THEIRS_ID), "admin sees the ID number");
    let (s, log) = admin
        .get(&format!(
            "/audit?action=read_sensitive&entity_id={theirs_id}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"]["via"] == "ui"),
        "{log}"
    );
}

async fn page_writes_need_the_csrf_token(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let c = customer(&admin, json!({"kind": "individual", "name": "Grace Hall"})).await;
    let id = c["id"].as_i64().unwrap();
    let b = Browser::login(app, "admin").await;
    let path = format!("/customers/{id}/interactions");
    let (s, _) = b
        .post(&path, &[("channel", "phone"), ("subject", "forged")])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = b
        .post(
            &path,
            &[
                ("_csrf", "0".repeat(64).as_str()),
                ("channel", "phone"),
                ("subject", "forged"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let csrf = b.csrf().await;
    let (s, _) = b
        .post(
            &path,
            &[
                ("_csrf", csrf.as_str()),
                ("channel", "phone"),
                ("subject", "Asked about green tea"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = b.get(&format!("/customers/{id}")).await;
    assert!(page.contains("Asked about green tea"));
    assert!(!page.contains("forged"));
    // Bad contact input: 422 with the message beside the field, nothing stored.
    let (s, page) = b
        .post(
            &format!("/customers/{id}/contacts"),
            &[
                ("_csrf", csrf.as_str()),
                ("kind", "email"),
                ("value", "not-an-email"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"contact-error\""), "error shown");
    let (_, cps) = admin.get(&format!("/customers/{id}/contact-points")).await;
    assert_eq!(cps.as_array().unwrap().len(), 0);
    // A stale edit is a 409 page that names who changed it, and stores nothing.
    let (s, page) = b
        .post(
            &format!("/customers/{id}/edit"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", "0"),
                ("name", "Grace Hall-Smith"),
                ("lifecycle_stage", "active"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("id=\"conflict\""));
    let (_, now) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(now["name"], "Grace Hall");
    // Logout ends the session on the server.
    let (s, _) = b.post("/logout", &[("_csrf", csrf.as_str())]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = b.get("/customers").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "redirected to login after logout");
}

async fn unknown_paths_and_languages(app: &TestApp) {
    app.user("admin", Role::Admin, None).await;
    let root = app.base.trim_end_matches("/api/v1").to_string();
    let http = common::client(false);
    let r = http
        .get(format!("{root}/no/such/page"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("找不到该页面"));
    let r = http
        .get(format!("{root}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "no_route");
    let r = http
        .get(format!("{root}/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Sign in"));
    // The language switch is remembered on the user.
    let b = Browser::login(app, "admin").await;
    let csrf = b.csrf().await;
    let (s, _) = b
        .post(
            "/lang",
            &[("_csrf", csrf.as_str()), ("lang", "zh-CN"), ("next", "/")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = b.get("/").await;
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("工作台"));
    let u = app.db.store.list_users().await.unwrap();
    assert_eq!(
        u.iter().find(|u| u.username == "admin").unwrap().locale,
        "zh-CN"
    );
    // Assets are served from the binary with the right type.
    let r = http
        .get(format!("{root}/static/htmx-2.0.11.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
}
