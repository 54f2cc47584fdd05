//! Page tests over HTTP on both backends: record scope and masking hold in every page and
//! fragment, page writes need the CSRF token, unknown paths get the right kind of 404.

use crate::common::{TestApp, PASSWORD};
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
    login_needs_its_form_token_and_stays_on_this_site,
    bad_list_links_get_a_400_page,
    relation_graph_keeps_namesakes_apart,
    embedded_json_cannot_close_its_element,
    task_page_counts_everything_and_ticks_off_in_place,
    search_forgives_and_enter_never_guesses,
    the_create_form_warns_of_a_likely_duplicate,
    erasure_from_the_page_needs_the_name_typed,
    the_list_counts_and_bulk_reaches_all_matching,
    duplicates_merge_side_by_side_and_undo,
    the_job_queue_page_lists_retries_and_cancels,
    a_rep_cannot_hand_a_customer_to_someone_else_through_the_form,
    typed_forms_name_the_field_and_money_stays_exact,
);

async fn the_job_queue_page_lists_retries_and_cancels(app: &TestApp) {
    use guanxi_domain::role::Actor;
    use guanxi_store::jobs::NewJob;
    app.user("admin", Role::Admin, None).await;
    app.user("boss", Role::Manager, None).await;
    let s = &app.db.store;
    let job = |kind: &str, hours: i64| NewJob {
        kind: kind.into(),
        dedupe_key: None,
        payload: json!({}),
        run_at: Some(chrono::Utc::now() + chrono::Duration::hours(hours)),
        max_attempts: 1,
    };
    // One waiting an hour (cancellable), one failed (retryable).
    let waiting = s
        .enqueue_job(&Actor::system(), job("scores.refresh", 1))
        .await
        .unwrap()
        .id();
    let failed = s
        .enqueue_job(&Actor::system(), job("scores.refresh", 2))
        .await
        .unwrap()
        .id();
    app.db
        .execute(&format!(
            "UPDATE jobs SET state = 'failed', attempts = 1, last_error = 'disk <full>' WHERE id = {failed}"
        ))
        .await;
    let boss = Browser::login(app, "boss").await;
    assert_eq!(boss.get("/admin/jobs").await.0, StatusCode::FORBIDDEN);
    let (_, dash) = boss.get("/").await;
    assert!(
        !dash.contains("href=\"/admin/jobs\""),
        "no jobs link for managers"
    );
    let b = Browser::login(app, "admin").await;
    let (st, html) = b.get("/admin/jobs").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("href=\"/admin/jobs\""),
        "admins get the navigation link"
    );
    assert!(html.contains(&format!("data-job=\"{waiting}\" data-state=\"queued\"")));
    assert!(html.contains(&format!("data-job=\"{failed}\" data-state=\"failed\"")));
    assert!(
        html.contains("disk &#60;full&#62;") || html.contains("disk &lt;full&gt;"),
        "errors are escaped"
    );
    assert!(html.contains(&format!("/admin/jobs/{waiting}/cancel")));
    assert!(html.contains(&format!("/admin/jobs/{failed}/retry")));
    assert!(!html.contains(&format!("/admin/jobs/{failed}/cancel")));
    let (_, only_failed) = b.get("/admin/jobs?state=failed").await;
    assert!(!only_failed.contains(&format!("data-job=\"{waiting}\"")));
    assert_eq!(
        b.get("/admin/jobs?state=sleeping").await.0,
        StatusCode::BAD_REQUEST
    );
    // Actions need the form token.
    let (st, _) = b.post(&format!("/admin/jobs/{waiting}/cancel"), &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let csrf = b.csrf().await;
    let (st, _) = b
        .post(
            &format!("/admin/jobs/{waiting}/cancel"),
            &[
                ("_csrf", csrf.as_str()),
                ("next", "/admin/jobs?state=queued"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        s.get_job(waiting).await.unwrap().state,
        guanxi_store::jobs::JobState::Cancelled
    );
    // Cancelling twice is refused with the reason on the list, not an error page.
    let r = b
        .submit(
            &format!("/admin/jobs/{waiting}/cancel"),
            &[("_csrf", csrf.as_str())],
            false,
        )
        .await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/admin/jobs?refusal=job_state");
    let (_, html) = b.get(&to).await;
    assert!(html.contains("id=\"refusal\""));
    let (st, _) = b
        .post(
            &format!("/admin/jobs/{failed}/retry"),
            &[("_csrf", csrf.as_str()), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // Back on the queue (the worker may already have taken it).
    let j = s.get_job(failed).await.unwrap();
    assert_ne!(j.state, guanxi_store::jobs::JobState::Failed, "{j:?}");
    assert_eq!(j.max_attempts, 2);
    let (_, html) = b.get("/admin/jobs?notice=jobs.retried").await;
    assert!(html.contains("id=\"flash\""));
}

async fn duplicates_merge_side_by_side_and_undo(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    app.user("rep", Role::Sales, None).await;
    let a = customer(
        &admin,
        json!({"kind": "individual", "name": "韩十七", "city": "上海",
        "contact_points": [{"kind": "mobile", "value": "139 0000 3333"}]}),
    )
    .await;
    let b = customer(&admin, json!({"kind": "individual", "name": "韩十七", "city": "北京", "employer": "华为",
        "allow_duplicate": true, "tags": ["b2b"],
        "contact_points": [{"kind": "mobile", "value": "13900003333"}, {"kind": "email", "value": "han@example.com"}]})).await;
    let (ai, bi) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let (s, _) = admin
        .post(
            &format!("/customers/{bi}/interactions"),
            json!({"channel": "phone", "subject": "来电"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let rep = Browser::login(app, "rep").await;
    let (s, _) = rep.get(&format!("/customers/{ai}/merge?other={bi}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "sales may not merge");

    let br = Browser::login(app, "admin").await;
    let (_, page) = br.get(&format!("/customers/{ai}")).await;
    assert!(
        page.contains(&format!("id=\"compare-{bi}\"")),
        "the duplicate is offered"
    );
    let (_, choose) = br
        .get(&format!("/customers/{ai}/merge?q=han%40example.com"))
        .await;
    assert!(
        choose.contains("id=\"merge-hits\"") && choose.contains(&format!("id=\"compare-{bi}\"")),
        "{choose}"
    );
    let (s, cmp) = br.get(&format!("/customers/{ai}/merge?other={bi}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cmp.contains("id=\"row-city\"") && cmp.contains("id=\"row-employer\""));
    assert!(
        !cmp.contains("id=\"row-name\""),
        "the same name is no choice"
    );
    let checked = |html: &str, id: &str| {
        let at = html.find(&format!("id=\"{id}\"")).unwrap();
        html[at..at + html[at..].find('>').unwrap()].contains("checked")
    };
    assert!(
        checked(&cmp, "take-employer"),
        "empty on the kept record: taken by default"
    );
    assert!(checked(&cmp, "keep-city"));
    assert!(
        cmp.contains("2 contact points") || cmp.contains("2 个联系方式"),
        "{cmp}"
    );
    let csrf = br.csrf().await;
    let version = hidden(&cmp, "version");
    let other_version = hidden(&cmp, "other_version");
    let path = format!("/customers/{ai}/merge");
    let other = bi.to_string();
    let form = |v: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("other", other.clone()),
            ("version", v.to_string()),
            ("other_version", other_version.clone()),
            ("take_city", "other".to_string()),
            ("take_employer", "other".to_string()),
        ]
    };
    let stale = form("1000");
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, again) = br.post(&path, &stale).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(again.contains("id=\"merge-error\""));
    let good = form(&version);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = br.submit(&path, &good, false).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&format!("/customers/{ai}?merged=")), "{to}");
    let merge_id = to.rsplit('=').next().unwrap().to_string();
    let (_, kept) = br.get(&to).await;
    assert!(
        kept.contains("id=\"flash\"") && kept.contains(&format!("id=\"undo-merge-{merge_id}\""))
    );
    let (_, v) = admin.get(&format!("/customers/{ai}")).await;
    assert_eq!(v["city"], "北京");
    assert_eq!(v["employer"], "华为");
    assert_eq!(v["contact_points"].as_array().unwrap().len(), 3);
    assert_eq!(v["tags"], json!(["b2b"]));
    let (s, _) = admin.get(&format!("/customers/{bi}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, tl) = admin.get(&format!("/customers/{ai}/timeline")).await;
    assert_eq!(tl.as_array().map(Vec::len), Some(1), "{tl}");

    let r = br
        .submit(
            &format!("/merges/{merge_id}/undo"),
            &[("_csrf", csrf.as_str())],
            false,
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/customers/{bi}?saved=unmerged").as_str()
    );
    let (_, v) = admin.get(&format!("/customers/{bi}")).await;
    assert_eq!(v["contact_points"].as_array().unwrap().len(), 2);
    let (_, v) = admin.get(&format!("/customers/{ai}")).await;
    assert_eq!(v["city"], "上海");
    assert_eq!(v["employer"], Value::Null);
    assert_eq!(v["contact_points"].as_array().unwrap().len(), 1);
    let (s, _) = br
        .post(
            &format!("/merges/{merge_id}/undo"),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "undone once only");

    // The create form's warning offers "create, then merge".
    let new = [
        ("_csrf", csrf.as_str()),
        ("kind", "individual"),
        ("name", "韩十七"),
        ("lifecycle_stage", "prospect"),
        ("source_channel", "manual"),
        ("mobile", "13900003333"),
    ];
    let (s, warn) = br.post("/customers/new?kind=individual", &new).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        warn.contains(&format!("id=\"create-merge-{ai}\"")),
        "{warn}"
    );
    let mut then_merge = new.to_vec();
    let into = ai.to_string();
    then_merge.push(("merge_into", into.as_str()));
    let r = br
        .submit("/customers/new?kind=individual", &then_merge, false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/customers/{ai}/merge?other=")),
        "{to}"
    );
    let (s, cmp) = br.get(&to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cmp.contains("id=\"merge-form\""));
}

async fn the_list_counts_and_bulk_reaches_all_matching(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, Some("East")).await;
    let west = app.user("west", Role::Sales, Some("West")).await;
    for i in 0..57 {
        customer(
            &rep,
            json!({"kind": "individual", "name": format!("展会客户{i}"), "tags": ["expo"]}),
        )
        .await;
    }
    customer(
        &west,
        json!({"kind": "individual", "name": "别队客户", "tags": ["expo"]}),
    )
    .await;
    let b = Browser::login(app, "rep").await;
    let (_, page) = b.get("/customers?tag=expo").await;
    assert!(
        page.contains("id=\"list-total\">57 customers<"),
        "{}",
        &page[page.find("list-total").unwrap_or(0)..][..80]
    );
    assert_eq!(page.matches("name=\"ids\"").count(), 50, "one page of 50");
    assert!(page.contains("id=\"bulk-all\""));
    let csrf = b.csrf().await;
    let r = b
        .submit(
            "/customers/bulk",
            &[
                ("_csrf", csrf.as_str()),
                ("back", "/customers?tag=expo"),
                ("query", "tag=expo"),
                ("all", "1"),
                ("action", "tag"),
                ("tag", "2026展会"),
            ],
            false,
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/customers?tag=expo&done=57&failed=0"
    );
    let (_, tagged) = b.get("/customers?tag=2026%E5%B1%95%E4%BC%9A").await;
    assert!(tagged.contains("id=\"list-total\">57 customers<"));
    // Another team's customer matched the filter but is outside the rep's scope: untouched.
    let (_, theirs) = west.get("/customers?tag=2026%E5%B1%95%E4%BC%9A").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    // A page that shows everything needs no "all matching".
    let (_, small) = b
        .get("/customers?q=%E5%B1%95%E4%BC%9A%E5%AE%A2%E6%88%B71")
        .await;
    assert!(!small.contains("id=\"bulk-all\""));
}

async fn erasure_from_the_page_needs_the_name_typed(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    app.user("boss", Role::Manager, None).await;
    let c = customer(&admin, json!({"kind": "individual", "name": "沈十六"})).await;
    let id = c["id"].as_i64().unwrap();
    let m = Browser::login(app, "boss").await;
    let (_, page) = m.get(&format!("/customers/{id}")).await;
    assert!(
        !page.contains("id=\"data-subject\""),
        "managers are not offered it"
    );
    let (s, _) = m.get(&format!("/customers/{id}/export?format=json")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let b = Browser::login(app, "admin").await;
    let (_, page) = b.get(&format!("/customers/{id}")).await;
    assert!(page.contains("id=\"erase-form\""));
    assert!(
        page.contains("id=\"stage-rule\"")
            && page.contains(&guanxi_domain::lifecycle::NEW_WITHIN_DAYS.to_string()),
        "the stage rule is shown with its figure"
    );
    let (s, json) = b.get(&format!("/customers/{id}/export?format=json")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(json.contains("沈十六"));
    let csrf = b.csrf().await;
    let path = format!("/customers/{id}/erase");
    let (s, page) = b
        .post(
            &path,
            &[
                ("_csrf", csrf.as_str()),
                ("reason", "书面申请"),
                ("confirm", "沈十"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"error-problems\""), "{page}");
    let (s, _) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::OK, "nothing erased");
    let r = b
        .submit(
            &path,
            &[
                ("_csrf", csrf.as_str()),
                ("reason", "书面申请"),
                ("confirm", "沈十六"),
            ],
            false,
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/customers?erased=1");
    let (_, list) = b.get("/customers?erased=1").await;
    assert!(list.contains("id=\"flash\""));
    let (s, _) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn the_create_form_warns_of_a_likely_duplicate(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let first = customer(&admin, json!({"kind": "individual", "name": "褚十四", "contact_points": [{"kind": "mobile", "value": "139 0000 2222"}]})).await;
    let b = Browser::login(app, "admin").await;
    let csrf = b.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("kind", "individual"),
        ("name", "褚 十四"),
        ("lifecycle_stage", "prospect"),
        ("source_channel", "manual"),
        ("mobile", "13900002222"),
    ];
    let (s, page) = b.post("/customers/new?kind=individual", &form).await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
    assert!(page.contains(&format!("id=\"duplicate-{}\"", first["id"])));
    assert!(page.contains("id=\"create-anyway\""));
    assert!(
        page.contains("value=\"13900002222\""),
        "what was typed is kept"
    );
    let (_, list) = admin.get("/customers?limit=50").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing stored yet"
    );
    let mut anyway = form.to_vec();
    anyway.push(("allow_duplicate", "1"));
    let (s, _) = b.post("/customers/new?kind=individual", &anyway).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, list) = admin.get("/customers?limit=50").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

/// The owner field is hidden from a sales rep, and a hand-made POST that names another owner
/// anyway does not move the customer: the new customer is the rep's, and an edit leaves the
/// owner as it was (the use case behind the form would refuse the move without
/// `ReassignCustomers`; see guanxi-app's tests).
async fn a_rep_cannot_hand_a_customer_to_someone_else_through_the_form(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let (_, me) = app
        .user("rep1", Role::Sales, None)
        .await
        .get("/auth/me")
        .await;
    let (_, other) = app
        .user("rep2", Role::Sales, None)
        .await
        .get("/auth/me")
        .await;
    let other_id = other["id"].as_i64().unwrap().to_string();
    let b = Browser::login(app, "rep1").await;
    let csrf = b.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("kind", "individual"),
        ("name", "卫十五"),
        ("lifecycle_stage", "prospect"),
        ("source_channel", "manual"),
        ("owner_id", other_id.as_str()),
    ];
    let (s, _) = b.post("/customers/new?kind=individual", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, list) = admin.get("/customers?limit=50").await;
    let c = &list["items"][0];
    assert_eq!(c["owner_id"], me["id"], "the rep's own customer");
    let id = c["id"].as_i64().unwrap();
    let version = c["version"].as_i64().unwrap().to_string();
    let edit = [
        ("_csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("name", "卫十五"),
        ("lifecycle_stage", "prospect"),
        ("owner_id", other_id.as_str()),
    ];
    let (s, _) = b.post(&format!("/customers/{id}/edit"), &edit).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, now) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(now["owner_id"], me["id"], "still the rep's");
}

/// Page forms are parsed into typed inputs before the handler runs: a task due on a day that
/// does not exist is a 422 naming the field and stores nothing; a company's assets typed in
/// yuan are kept to the fen even beyond what a float holds (2^53 fen).
async fn typed_forms_name_the_field_and_money_stays_exact(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let c = customer(&admin, json!({"kind": "individual", "name": "蒋十六"})).await;
    let id = c["id"].as_i64().unwrap();
    let b = Browser::login(app, "admin").await;
    let csrf = b.csrf().await;
    let (s, page) = b
        .post(
            &format!("/customers/{id}/tasks"),
            &[
                ("_csrf", csrf.as_str()),
                ("title", "回电"),
                ("due", "2026-13-40"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("due"), "the field is named: {page}");
    let (_, timeline) = admin.get(&format!("/customers/{id}/timeline")).await;
    assert_eq!(timeline.as_array().unwrap().len(), 0, "no task stored");
    let (s, _) = b
        .post(
            &format!("/customers/{id}/tasks"),
            &[
                ("_csrf", csrf.as_str()),
                ("title", "回电"),
                ("due", "2031-01-02"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    let (s, page) = b
        .post(
            "/customers/new?kind=company",
            &[
                ("_csrf", csrf.as_str()),
                ("kind", "company"),
                ("name", "大额资产有限公司"),
                ("lifecycle_stage", "prospect"),
                ("source_channel", "manual"),
                ("assets_yuan", "90071992547409.93"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    let (_, list) = admin.get("/customers?kind=company&limit=5").await;
    let company_id = list["items"][0]["id"].as_i64().unwrap();
    let (_, co) = admin.get(&format!("/customers/{company_id}")).await;
    assert_eq!(
        co["company"]["assets_minor"],
        json!(9_007_199_254_740_993_i64)
    );
    let (s, _) = b
        .post(
            "/customers/new?kind=company",
            &[
                ("_csrf", csrf.as_str()),
                ("kind", "company"),
                ("name", "小数太多公司"),
                ("lifecycle_stage", "prospect"),
                ("source_channel", "manual"),
                ("assets_yuan", "1.005"),
            ],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "more than two decimals of a yuan"
    );
    // A value outside its vocabulary or a date that does not exist is named beside its field
    // (it used to be a bare 400 "bad form"), what was typed is kept, and nothing is stored.
    let (s, page) = b
        .post(
            "/customers/new?kind=company",
            &[
                ("_csrf", csrf.as_str()),
                ("kind", "company"),
                ("name", "成立日期有误公司"),
                ("lifecycle_stage", "prospect"),
                ("source_channel", "manual"),
                ("founded", "2020-02-30"),
                ("size", "gigantic"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"e-founded\""), "{page}");
    assert!(page.contains("id=\"e-size\""), "{page}");
    assert!(page.contains("2020-02-30"), "kept as typed");
    let (_, list) = admin.get("/customers?kind=company&limit=5").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing new stored"
    );
}

async fn search_forgives_and_enter_never_guesses(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let mobile = |m: &str| json!([{"kind": "mobile", "value": m}]);
    let a = customer(
        &admin,
        json!({"kind": "individual", "name": "张强", "contact_points": mobile("137 3672 0001")}),
    )
    .await;
    let b2 = customer(
        &admin,
        json!({"kind": "individual", "name": "张强", "city": "杭州"}),
    )
    .await;
    let hy = customer(&admin, json!({"kind": "individual", "name": "黄勇"})).await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let b = Browser::login(app, "admin").await;
    let location = |r: &reqwest::Response| {
        r.headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let go = |q: &str| {
        let url = format!("{}/search/go?q={}", b.root, q);
        let http = b.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };

    // As you type: a partial number with separators, spaced pinyin.
    for typed in ["137%203672", "137-3672", "(137)3672"] {
        let (_, frag) = b.get(&format!("/search?q={typed}")).await;
        assert!(
            frag.contains(&format!("href=\"/customers/{}\"", id(&a))),
            "{typed}: {frag}"
        );
    }
    let r = go("huang%20yong").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/customers/{}", id(&hy)));
    // One best match opens; namesakes that tie become choices.
    let r = go("137-3672").await;
    assert_eq!(location(&r), format!("/customers/{}", id(&a)));
    let r = go("%E5%BC%A0%E5%BC%BA").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"search-choices\""));
    for c in [&a, &b2] {
        assert!(page.contains(&format!("href=\"/customers/{}\"", id(c))));
    }
    // An unknown caller: offered as a new customer with the number filled in.
    let (_, frag) = b.get("/search?q=139%209999%200000").await;
    assert!(frag.contains("id=\"search-new-customer\""), "{frag}");
    let r = go("139%209999%200000").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"search-unknown\""));
    let new = attribute(&page, "new-with-number", "href");
    assert_eq!(new, "/customers/new?mobile=139%209999%200000");
    let (_, form) = b.get(&new).await;
    assert!(form.contains("value=\"139 9999 0000\""), "prefilled");
    // Other text with no match still opens the filtered list.
    let r = go("nobody").await;
    assert_eq!(location(&r), "/customers?q=nobody");
    // Someone who may not create customers is not offered to.
    app.user("viewer", Role::Viewer, None).await;
    let v = Browser::login(app, "viewer").await;
    let (_, frag) = v.get("/search?q=139%209999%200000").await;
    assert!(!frag.contains("search-new-customer"));
}

async fn task_page_counts_everything_and_ticks_off_in_place(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, Some("East")).await;
    let mate = app.user("mate", Role::Sales, Some("East")).await;
    let c = customer(&rep, json!({"kind": "individual", "name": "冯十二"})).await;
    let id = c["id"].as_i64().unwrap();
    let mut first = 0;
    for i in 0..23 {
        // Three overdue, the rest due over the coming days.
        let due = chrono::Utc::now() + chrono::Duration::hours(i * 24 - 60);
        let (s, t) = rep
            .post(
                &format!("/customers/{id}/tasks"),
                json!({"title": format!("跟进 {i}"), "due_at": due}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        if i == 0 {
            first = t["id"].as_i64().unwrap();
        }
    }
    let (s, _) = rep
        .post(
            &format!("/customers/{id}/tasks"),
            json!({"title": "同事的事", "due_at": "2031-01-01T00:00:00Z", "assignee_id": mate.user_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let b = Browser::login(app, "rep").await;
    let (_, dash) = b.get("/").await;
    assert!(
        dash.contains("id=\"stat-tasks\">23<"),
        "the whole count, not the 20 listed"
    );
    assert!(dash.contains("id=\"stat-overdue\""));
    let (s, page) = b.get("/tasks").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("id=\"task-{first}\" class=\"overdue\"")));
    assert!(!page.contains("同事的事"), "mine only by default");
    let (_, team) = b.get("/tasks?who=team&q=%E5%90%8C%E4%BA%8B").await;
    assert!(team.contains("同事的事"));
    let (_, overdue) = b.get("/tasks?due=overdue").await;
    assert_eq!(overdue.matches("<tr id=\"task-").count(), 3);

    // Ticked off in place: htmx gets the row back, now with "reopen".
    let csrf = b.csrf().await;
    let r = b
        .submit(
            &format!("/tasks/{first}/done"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", "1"),
                ("next", "/tasks?due=overdue"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let row = r.text().await.unwrap();
    assert!(
        row.starts_with(&format!("<tr id=\"task-{first}\"")),
        "{row}"
    );
    assert!(row.contains(&format!("id=\"reopen-{first}\"")));
    let (_, overdue) = b.get("/tasks?due=overdue").await;
    assert_eq!(overdue.matches("<tr id=\"task-").count(), 2);
    let (_, done) = b.get("/tasks?status=done").await;
    assert!(done.contains("跟进 0"));
    // Without JavaScript the form comes back to the list it was sent from; a foreign `next`
    // goes to the dashboard.
    let r = b
        .submit(
            &format!("/tasks/{first}/done"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", "2"),
                ("done", "0"),
                ("next", "/tasks?due=overdue"),
            ],
            false,
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/tasks?due=overdue");
    let (_, overdue) = b.get("/tasks?due=overdue").await;
    assert_eq!(overdue.matches("<tr id=\"task-").count(), 3, "reopened");
    let r = b
        .submit(
            &format!("/tasks/{first}/done"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", "3"),
                ("next", "//evil.example/"),
            ],
            false,
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
    // Someone outside the team sees none of it.
    app.user("west", Role::Sales, Some("West")).await;
    let w = Browser::login(app, "west").await;
    let (_, theirs) = w.get("/tasks?who=all").await;
    assert!(theirs.contains("id=\"no-tasks\""));
}

async fn login_needs_its_form_token_and_stays_on_this_site(app: &TestApp) {
    app.user("rep", Role::Sales, None).await;
    let b = Browser::anonymous(app);
    // A sign-in posted without the form's token (another site's form) is refused.
    let (s, html) = b
        .post(
            "/login",
            &[("username", "rep"), ("password", PASSWORD), ("next", "/")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    assert!(
        html.contains("id=\"login-error\"") && html.contains("登录表单已过期"),
        "{html}"
    );
    let (s, _) = b.get("/customers").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "not signed in");
    // Only a path on this site is followed after signing in; anything else goes home.
    let token = b.login_token().await;
    for (next, to) in [
        (
            "/customers?city=%E4%B8%8A%E6%B5%B7",
            "/customers?city=%E4%B8%8A%E6%B5%B7",
        ),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ] {
        let (s, location) = b.sign_in("rep", next, &token).await;
        assert_eq!(
            (s, location.as_str()),
            (StatusCode::SEE_OTHER, to),
            "{next:?}"
        );
    }
    let (s, html) = b
        .get(&format!("/login?next={}", common_encode("/\t/x")))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("name=\"next\" value=\"/\""),
        "bad next replaced"
    );
}

fn common_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn bad_list_links_get_a_400_page(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let b = Browser::login(app, "admin").await;
    let (s, seg) = admin
        .post(
            "/segments",
            json!({"name": "沪", "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    let id = seg["id"].as_i64().unwrap();
    let (s, _) = b.get(&format!("/customers?segment_id={id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = admin.delete(&format!("/segments/{id}?version=1")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let bad_clause = common_encode(r#"{"clauses":[{"field":"clv","op":"gte","value":"lots"}]}"#);
    for (path, field) in [
        (format!("/customers?segment_id={id}"), "segment_id"),
        ("/customers?segment_id=99999".to_string(), "segment_id"),
        ("/customers?rule=%7Bnot%20json".to_string(), "rule"),
        (
            format!("/customers?rule={bad_clause}"),
            "rule.clauses[0].value",
        ),
    ] {
        let (s, html) = b.get(&path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains("id=\"error-problems\""), "{path}: {html}");
        assert!(html.contains(&format!("{field}: ")), "{path}: {html}");
    }
}

async fn relation_graph_keeps_namesakes_apart(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let b = Browser::login(app, "admin").await;
    let a = customer(&admin, json!({"kind": "individual", "name": "王伟"})).await;
    let namesake = customer(&admin, json!({"kind": "individual", "name": "王伟"})).await;
    let friend = customer(&admin, json!({"kind": "individual", "name": "李娜"})).await;
    for other in [&namesake, &friend] {
        let (s, v) = admin
            .post(
                &format!("/customers/{}/relations", a["id"]),
                json!({"to_customer_id": other["id"], "kind": "friend"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, html) = b.get(&format!("/customers/{}", a["id"])).await;
    assert_eq!(s, StatusCode::OK);
    let chart: Value =
        serde_json::from_str(&attribute(&html, "chart-relations", "data-chart")).unwrap();
    let nodes = chart["series"][0]["data"].as_array().unwrap();
    let ids: std::collections::HashSet<&str> =
        nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!((nodes.len(), ids.len()), (3, 3), "{chart}");
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "王伟").count(), 2);
    for link in chart["series"][0]["links"].as_array().unwrap() {
        assert!(ids.contains(link["source"].as_str().unwrap()), "{link}");
        assert!(ids.contains(link["target"].as_str().unwrap()), "{link}");
    }
    assert_eq!(chart["links"].as_array().unwrap().len(), 3);
}

async fn embedded_json_cannot_close_its_element(app: &TestApp) {
    let evil = "</script><script>alert(1)</script>";
    guanxi_app::users::create_user(
        &app.state.store,
        &guanxi_domain::role::Actor::system(),
        guanxi_domain::user::NewUser {
            username: "mkt".into(),
            display_name: evil.into(),
            password: PASSWORD.into(),
            role: Role::Marketing,
            team_id: None,
            see_all_customers: false,
            locale: Some("en".into()),
        },
    )
    .await
    .unwrap();
    let b = Browser::login(app, "mkt").await;
    let (s, html) = b.get("/segments/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("<script>alert(1)"), "markup from data");
    assert!(!html.contains("|safe"));
    let catalogue: Value =
        serde_json::from_str(&attribute(&html, "seg-catalogue", "data-catalogue")).unwrap();
    assert!(
        catalogue.to_string().contains("alert(1)"),
        "the name is still there, as text"
    );
}

/// A browser-like client signed in through the login form.
pub(crate) struct Browser {
    pub(crate) root: String,
    pub(crate) http: reqwest::Client,
}

impl Browser {
    pub(crate) async fn login(app: &TestApp, username: &str) -> Browser {
        let b = Browser::anonymous(app);
        let token = b.login_token().await;
        let (s, _) = b
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/"),
                    ("_csrf", token.as_str()),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "login {username}");
        b
    }

    /// A client with a cookie jar that has not signed in.
    pub(crate) fn anonymous(app: &TestApp) -> Browser {
        Browser {
            root: app.base.trim_end_matches("/api/v1").to_string(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .pool_max_idle_per_host(0)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Opens the login page and returns its form's CSRF token (the cookie is kept).
    async fn login_token(&self) -> String {
        let (_, html) = self.get("/login").await;
        hidden(&html, "_csrf")
    }

    /// Posts the login form and returns the status and `Location`.
    async fn sign_in(&self, username: &str, next: &str, token: &str) -> (StatusCode, String) {
        let r = self
            .http
            .post(format!("{}/login", self.root))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("next", next),
                ("_csrf", token),
            ])
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status(), location)
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.root))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.root))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form as the browser would, with htmx's header when `htmx`, and returns the
    /// response itself (status, headers, body) for the caller to inspect.
    async fn submit(&self, path: &str, form: &[(&str, &str)], htmx: bool) -> reqwest::Response {
        let mut r = self.http.post(format!("{}{path}", self.root)).form(form);
        if htmx {
            r = r.header("hx-request", "true");
        }
        r.send().await.unwrap()
    }

    pub(crate) async fn csrf(&self) -> String {
        let (_, html) = self.get("/").await;
        hidden(&html, "_csrf")
    }
}

/// The value of a hidden form field in a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).expect("hidden field") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// An HTML attribute's value, unescaped as the browser would.
fn attribute(html: &str, id: &str, attr: &str) -> String {
    let el = html.find(&format!("id=\"{id}\"")).expect("element");
    let tag_start = html[..el].rfind('<').unwrap();
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
    let marker = format!("{attr}=\"");
    let at = tag.find(&marker).expect("attribute") + marker.len();
    let raw = &tag[at..at + tag[at..].find('"').unwrap()];
    raw.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

async fn customer(admin: &crate::common::Api, body: Value) -> Value {
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
    let http = crate::common::client(false);
    let r = http
        .get(format!("{root}/no/such/page"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Every response carries a request id; the error page shows it for the user to quote.
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 16, "{id}");
    let page = r.text().await.unwrap();
    assert!(page.contains("找不到该页面"));
    assert!(
        page.contains(&format!("<code id=\"request-id\">{id}</code>")),
        "{page}"
    );
    let r = http
        .get(format!("{root}/api/v1/nothing"))
        .header("x-request-id", "proxy-assigned-0042")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-request-id"], "proxy-assigned-0042");
    let body = r.json::<Value>().await.unwrap();
    assert_eq!(body["error"], "no_route");
    assert_eq!(body["request_id"], "proxy-assigned-0042", "{body}");
    // An id that could forge a log line is replaced, not echoed.
    let r = http
        .get(format!("{root}/api/v1/nothing"))
        .header("x-request-id", "x\"} forged")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "x\"} forged");
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
