//! Campaigns end to end on both backends, through the use cases and the real sender with the
//! file SMS provider (each message a JSON line, what a provider would receive): who is skipped
//! and why, caps across two campaigns, unsubscribe and bounces, the attribution window, and
//! the outbox delivering each message once when a sender died holding a claim.

use std::time::Duration;

use chrono::Utc;
use guanxi_app::campaign::deliver::{self, Delivery};
use guanxi_domain::campaign::{CampaignInput, CampaignState, Channel};
use guanxi_domain::customer::CustomerFields;
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::campaign::{Outcome, Response};
use guanxi_store::testing::{user, TestDb};
use guanxi_store::{on_both_backends, Store};
use serde_json::json;

mod support;
use support::{as_of, delivery, lines, sms, tempfile_dir};

on_both_backends!(
    skipped_customers_are_counted_and_prepared_once,
    caps_hold_across_two_campaigns,
    unsubscribes_and_bounces_block_the_address,
    conversions_count_inside_the_window_only,
    a_dead_senders_claim_is_sent_once,
    past_responses_are_a_segment_field,
    a_merged_customers_messages_count_for_the_kept_record,
    direct_mail_is_a_mailing_list_of_written_letters,
    quiet_hours_are_kept_where_the_customer_is,
    a_large_campaigns_figures_are_kept_and_refreshed_by_the_sender,
    each_recipient_is_previewed_as_they_will_read_it,
);

/// A customer in 上海 with a mobile (consented or not) or none.
async fn customer(s: &Store, a: &Actor, name: &str, mobile: Option<(&str, bool)>) -> i64 {
    support::customer(
        s,
        a,
        name,
        "上海",
        "male",
        mobile.map(|(m, consent)| (ContactKind::Mobile, m, consent)),
    )
    .await
}

async fn shanghai(s: &Store, a: &Actor) -> i64 {
    support::city_segment(s, a, "上海客户", "上海").await
}

async fn launch(s: &Store, a: &Actor, c: &CampaignInput) -> i64 {
    let k = guanxi_app::campaign::save(s, a, None, c).await.unwrap();
    guanxi_app::campaign::move_to(s, a, k.id, k.version, CampaignState::Sending, None)
        .await
        .unwrap();
    k.id
}

/// The SMS policy's cap: one marketing text a week.
async fn one_text_a_week(s: &Store, a: &Actor) {
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.cap_count = 1;
    p.cap_days = 7;
    s.save_contact_policy(a, Channel::Sms, &p).await.unwrap();
}

/// Messages of campaign `id` queued for `reason`, due more than `ms` from now.
async fn waiting(db: &TestDb, id: i64, reason: &str, ms: i64) -> i64 {
    db.scalar(&format!(
        "SELECT COUNT(*) FROM outbox WHERE campaign_id = {id} AND state = 'queued' \
         AND deferred = '{reason}' AND due_at > {}",
        Utc::now().timestamp_millis() + ms
    ))
    .await
}

async fn run_until_idle(s: &Store, d: &Delivery) {
    for _ in 0..20 {
        let r = deliver::run_step(s, d, Duration::from_secs(10))
            .await
            .unwrap();
        if !r.more && r.sent == 0 && r.prepared == 0 {
            return;
        }
    }
    panic!("the sender did not settle");
}

async fn skipped_customers_are_counted_and_prepared_once(db: &TestDb) {
    let s = &db.store;
    let m = user(s, "mkt", Role::Marketing, None).await;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    customer(s, &admin, "王伟", Some(("13800138001", true))).await;
    customer(s, &admin, "李娜", Some(("13800138002", false))).await;
    customer(s, &admin, "张三", None).await;
    let seg = shanghai(s, &admin).await;
    // A rep may not run campaigns.
    let rep = user(s, "rep", Role::Sales, None).await;
    let c = sms("中秋短信", seg, 0);
    assert!(matches!(
        guanxi_app::campaign::save(s, &rep, None, &c).await,
        Err(guanxi_app::AppError::Forbidden)
    ));
    let p = guanxi_app::campaign::preview(s, &m, None, &c, as_of())
        .await
        .unwrap();
    assert_eq!((p.total, p.send, p.control, p.over_cap), (3, 1, 0, 0));
    let skipped: Vec<(&str, i64)> = p.skipped.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    assert_eq!(
        skipped,
        [
            ("no_address", 1),
            ("unsubscribed", 0),
            ("bounced", 0),
            ("no_consent", 1),
            ("recent_complaint", 0)
        ]
    );
    let (d, file) = delivery(s, &admin, &dir).await;
    let id = launch(s, &m, &c).await;
    let k = s.get_campaign(id).await.unwrap();
    // Preparing twice (a crash between a chunk and its mark) adds nobody twice.
    s.prepare_campaign_step(&k, as_of()).await.unwrap();
    sqlx_reset_cursor(db, id).await;
    s.prepare_campaign_step(&k, as_of()).await.unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {id}"
        ))
        .await,
        3
    );
    run_until_idle(s, &d).await;
    let sent = lines(&file);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["phone"], "+8613800138001");
    assert_eq!(sent[0]["params"][0][1], "王先生");
    let (k, f) = guanxi_app::campaign::get(s, &m, id, 8).await.unwrap();
    assert_eq!(k.state, CampaignState::Finished);
    assert!(f.states.contains(&("sent".to_string(), 1)));
    assert!(f.skipped.contains(&("no_consent".to_string(), 1)));
    assert!(f.skipped.contains(&("no_address".to_string(), 1)));
}

async fn sqlx_reset_cursor(db: &TestDb, id: i64) {
    db.execute(&format!(
        "UPDATE campaigns SET cursor = 0, prepared = 0 WHERE id = {id}"
    ))
    .await;
}

async fn caps_hold_across_two_campaigns(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    let a = customer(s, &admin, "王伟", Some(("13800138001", true))).await;
    let b = customer(s, &admin, "赵敏", Some(("13800138003", true))).await;
    let seg = shanghai(s, &admin).await;
    let (d, file) = delivery(s, &admin, &dir).await;
    one_text_a_week(s, &admin).await;
    let first = launch(s, &admin, &sms("第一波", seg, 0)).await;
    run_until_idle(s, &d).await;
    assert_eq!(
        lines(&file).len(),
        2,
        "{}",
        db.scalar_text(&format!(
            "SELECT COALESCE(MIN(state || ' ' || COALESCE(last_error, '') || ' ' || CAST(attempts AS TEXT)), '') \
             FROM outbox WHERE campaign_id = {first} AND state <> 'sent'"
        ))
        .await
    );
    let second = launch(s, &admin, &sms("第二波", seg, 0)).await;
    run_until_idle(s, &d).await;
    // Nobody got a second text: both wait, due a week after their first, not dropped.
    assert_eq!(lines(&file).len(), 2);
    assert_eq!(waiting(db, second, "cap", 6 * 86_400_000).await, 2);
    let k = s.get_campaign(second).await.unwrap();
    assert_eq!(
        k.state,
        CampaignState::Sending,
        "waiting messages keep it open"
    );
    // The preview of a third says both would wait.
    let pv = guanxi_app::campaign::preview(s, &admin, None, &sms("第三波", seg, 0), as_of())
        .await
        .unwrap();
    assert_eq!((pv.send, pv.over_cap), (0, 2));
    // A week later (moved back in time here) the first texts leave the window.
    db.execute("UPDATE outbox SET sent_at = sent_at - 8 * 86400000 WHERE state = 'sent'")
        .await;
    db.execute(&format!(
        "UPDATE outbox SET due_at = 0 WHERE campaign_id = {second}"
    ))
    .await;
    run_until_idle(s, &d).await;
    assert_eq!(lines(&file).len(), 4);
    let _ = (a, b);
}

async fn unsubscribes_and_bounces_block_the_address(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    customer(s, &admin, "王伟", Some(("13800138001", true))).await;
    customer(s, &admin, "李娜", Some(("13800138002", true))).await;
    customer(s, &admin, "赵敏", Some(("13800138003", true))).await;
    let seg = shanghai(s, &admin).await;
    let (d, _file) = delivery(s, &admin, &dir).await;
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.cap_count = 100;
    s.save_contact_policy(&admin, Channel::Sms, &p)
        .await
        .unwrap();
    let first = launch(s, &admin, &sms("第一波", seg, 0)).await;
    run_until_idle(s, &d).await;
    let token = |phone: &'static str| async move {
        db.scalar_text(&format!(
            "SELECT token FROM outbox WHERE campaign_id = {first} AND address = '{phone}'"
        ))
        .await
    };
    // 王伟 unsubscribes through his link; 李娜's number bounces hard; 赵敏's softly, once.
    guanxi_app::campaign::unsubscribe(s, &token("+8613800138001").await)
        .await
        .unwrap();
    s.record_response(
        &token("+8613800138002").await,
        &Response::Bounced(guanxi_domain::campaign::bounce::Bounce::Hard),
    )
    .await
    .unwrap();
    s.record_response(
        &token("+8613800138003").await,
        &Response::Bounced(guanxi_domain::campaign::bounce::Bounce::Soft),
    )
    .await
    .unwrap();
    // The consent is withdrawn on the contact point, with the time.
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM contact_points WHERE consent_marketing = TRUE")
            .await,
        1
    );
    let pv = guanxi_app::campaign::preview(s, &admin, None, &sms("第二波", seg, 0), as_of())
        .await
        .unwrap();
    assert_eq!(pv.send, 1, "one soft bounce is not enough to block");
    let skipped: Vec<(&str, i64)> = pv.skipped.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    assert!(skipped.contains(&("unsubscribed", 1)), "{skipped:?}");
    assert!(skipped.contains(&("bounced", 1)), "{skipped:?}");
    // The unsubscribe is on 王伟's timeline as the message's furthest response.
    let code = db
        .scalar_text(
            "SELECT code FROM customer_events WHERE kind = 'message' AND code = 'unsubscribed'",
        )
        .await;
    assert_eq!(code, "unsubscribed");
    // Two more soft bounces (three in all) block 赵敏's number too.
    for _ in 0..2 {
        s.record_response(
            &token("+8613800138003").await,
            &Response::Bounced(guanxi_domain::campaign::bounce::Bounce::Soft),
        )
        .await
        .unwrap();
    }
    let pv = guanxi_app::campaign::preview(s, &admin, None, &sms("第二波", seg, 0), as_of())
        .await
        .unwrap();
    assert_eq!(pv.send, 0);
}

async fn conversions_count_inside_the_window_only(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    let mut ids = vec![];
    for i in 0..40 {
        ids.push(
            customer(
                s,
                &admin,
                &format!("客户{i}"),
                Some((&format!("1380013{:04}", 8100 + i), true)),
            )
            .await,
        );
    }
    let seg = shanghai(s, &admin).await;
    let (d, _file) = delivery(s, &admin, &dir).await;
    let id = launch(s, &admin, &sms("回购", seg, 25)).await;
    run_until_idle(s, &d).await;
    let (_, f) = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap();
    let control = f
        .variants
        .iter()
        .find(|v| v.variant == "control")
        .unwrap()
        .recipients;
    let sent = f
        .variants
        .iter()
        .find(|v| v.variant == "a")
        .unwrap()
        .recipients;
    assert_eq!(control + sent, 40);
    assert!(control > 3 && control < 20, "{control}");
    // Every recipient and every held-out customer orders: one the day after (inside the
    // 7-day window), one ten days later (outside). Moved back so the times are in the past.
    db.execute("UPDATE outbox SET sent_at = sent_at - 20 * 86400000")
        .await;
    db.execute("UPDATE campaigns SET send_at = send_at - 20 * 86400000")
        .await;
    let base = Utc::now() - chrono::Duration::days(20);
    let treated: Vec<i64> = {
        let mut v = vec![];
        for c in &ids {
            let st = db
                .scalar_text(&format!(
                    "SELECT state FROM outbox WHERE campaign_id = {id} AND customer_id = {c}"
                ))
                .await;
            v.push((st == "sent") as i64);
        }
        v
    };
    for (i, c) in ids.iter().enumerate() {
        // Half the recipients buy inside the window; a quarter of the control group.
        let buys = if treated[i] == 1 {
            i % 2 == 0
        } else {
            i % 4 == 0
        };
        if buys {
            order(s, &admin, *c, base + chrono::Duration::days(1), 5000).await;
        }
        order(s, &admin, *c, base + chrono::Duration::days(10), 99_900).await;
    }
    let (_, f) = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap();
    let a = f.variants.iter().find(|v| v.variant == "a").unwrap();
    let ctl = f.variants.iter().find(|v| v.variant == "control").unwrap();
    let expect_a = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| treated[*i] == 1 && i % 2 == 0)
        .count() as i64;
    let expect_c = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| treated[*i] == 0 && i % 4 == 0)
        .count() as i64;
    assert_eq!(a.converted, expect_a);
    assert_eq!(
        a.revenue_minor,
        expect_a * 5000,
        "the later orders are outside the window"
    );
    assert_eq!(ctl.converted, expect_c);
    let lift =
        (expect_a as f64 / a.recipients as f64 - expect_c as f64 / ctl.recipients as f64) * 100.0;
    assert!((f.lift_points.unwrap() - lift).abs() < 1e-9);
}

async fn order(s: &Store, a: &Actor, customer: i64, at: chrono::DateTime<Utc>, minor: i64) {
    support::order(s, a, customer, at, minor).await
}

async fn a_dead_senders_claim_is_sent_once(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    for i in 0..30 {
        customer(
            s,
            &admin,
            &format!("客户{i}"),
            Some((&format!("1380013{:04}", 8100 + i), true)),
        )
        .await;
    }
    let seg = shanghai(s, &admin).await;
    let (d, file) = delivery(s, &admin, &dir).await;
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.cap_count = 100;
    s.save_contact_policy(&admin, Channel::Sms, &p)
        .await
        .unwrap();
    let id = launch(s, &admin, &sms("一次", seg, 0)).await;
    let k = s.get_campaign(id).await.unwrap();
    s.prepare_campaign_step(&k, as_of()).await.unwrap();
    // A sender claims ten, delivers three and records them, then dies holding the rest.
    let claimed = s.claim_outbox(Some(id), Channel::Sms, 10, 1).await.unwrap();
    assert_eq!(claimed.len(), 10);
    let policy = s.contact_policy(Channel::Sms).await.unwrap();
    for m in &claimed[..3] {
        s.record_delivery(
            m,
            &Outcome::Sent {
                message_key: m.token.clone(),
                lang: "zh-CN".into(),
            },
            &policy,
        )
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The next sender takes over once the lease ran out and sends each of the 27 others once.
    run_until_idle(s, &d).await;
    let sent = lines(&file);
    assert_eq!(sent.len(), 27);
    let mut phones: Vec<&str> = sent.iter().map(|l| l["phone"].as_str().unwrap()).collect();
    phones.sort_unstable();
    phones.dedup();
    assert_eq!(phones.len(), 27, "no number twice");
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {id} AND state = 'sent'"
        ))
        .await,
        30
    );
    // A recorded message is never claimed again.
    assert!(s
        .claim_outbox(Some(id), Channel::Sms, 100, 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM customer_events WHERE kind = 'message'")
            .await,
        30
    );
    // An erased customer's address leaves the outbox; the message stays counted.
    let erased = claimed[0].customer_id;
    s.erase_customer(&admin, erased, "data-subject request")
        .await
        .unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE customer_id = {erased} AND address IS NULL AND state = 'sent'"
        ))
        .await,
        1
    );
}

async fn past_responses_are_a_segment_field(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    for (i, p) in ["13800138001", "13800138002", "13800138003"]
        .iter()
        .enumerate()
    {
        customer(s, &admin, &format!("客{i}"), Some((p, true))).await;
    }
    let seg = shanghai(s, &admin).await;
    let (d, _file) = delivery(s, &admin, &dir).await;
    let id = launch(s, &admin, &sms("回访", seg, 0)).await;
    run_until_idle(s, &d).await;
    let token = |phone: &'static str| async move {
        db.scalar_text(&format!(
            "SELECT token FROM outbox WHERE campaign_id = {id} AND address = '{phone}'"
        ))
        .await
    };
    s.record_response(
        &token("+8613800138001").await,
        &Response::Clicked("https://x.cn".into()),
    )
    .await
    .unwrap();
    s.record_response(
        &token("+8613800138002").await,
        &Response::Replied("好的".into()),
    )
    .await
    .unwrap();
    let size = |op: &'static str, value: &'static str, days: &'static str| {
        let admin = admin.clone();
        async move {
            let rule: guanxi_domain::segment::SegmentRule = serde_json::from_value(json!({
                "clauses": [{"field": "campaign_response", "op": op, "value": value, "days": days}]}))
            .unwrap();
            let f = rule.resolve(as_of()).unwrap();
            s.segment_size(&admin, &f).await.unwrap()
        }
    };
    assert_eq!(size("responded", "clicked", "30").await, 1);
    assert_eq!(
        size("responded", "opened", "30").await,
        1,
        "a click counts as opened"
    );
    assert_eq!(size("responded", "any_sms", "30").await, 2);
    assert_eq!(size("responded", "replied_sms", "").await, 1);
    assert_eq!(size("responded", "clicked_email", "30").await, 0);
    assert_eq!(size("not_responded", "any", "30").await, 1);
    // Responses older than the window do not count.
    db.execute("UPDATE outbox_events SET at = at - 3456000000")
        .await;
    assert_eq!(size("responded", "any", "30").await, 0);
    assert_eq!(size("responded", "any", "60").await, 2);
    // The score refresh reads them as the churn model's feature (on both backends).
    s.refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
}

/// A merge moves the merged-away record's messages to the kept one: its frequency cap counts
/// them and its timeline shows them; an undo moves them back.
async fn a_merged_customers_messages_count_for_the_kept_record(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    let kept = support::customer(
        s,
        &admin,
        "王伟",
        "北京",
        "male",
        Some((ContactKind::Mobile, "13800138001", true)),
    )
    .await;
    let dup = customer(s, &admin, "王伟", Some(("13800138002", true))).await;
    let (d, file) = delivery(s, &admin, &dir).await;
    one_text_a_week(s, &admin).await;
    let first = launch(s, &admin, &sms("上海一波", shanghai(s, &admin).await, 0)).await;
    run_until_idle(s, &d).await;
    assert_eq!(lines(&file).len(), 1);
    let (w, l) = (
        s.get_customer(&admin, kept).await.unwrap(),
        s.get_customer(&admin, dup).await.unwrap(),
    );
    let merged = s
        .merge_customers(&admin, kept, w.meta.version, dup, l.meta.version, &[])
        .await
        .unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {first} AND customer_id = {kept}"
        ))
        .await,
        1,
        "the message moved to the kept record"
    );
    let tl = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM customer_events WHERE customer_id = {kept} AND kind = 'message'"
        ))
        .await;
    assert_eq!(tl, 1, "and its timeline entry");
    // The kept record already had its one text this week: a campaign to 北京 waits.
    let beijing = support::city_segment(s, &admin, "北京客户", "北京").await;
    let second = launch(s, &admin, &sms("北京一波", beijing, 0)).await;
    run_until_idle(s, &d).await;
    assert_eq!(
        lines(&file).len(),
        1,
        "the cap counts the merged record's text"
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {second} AND deferred = 'cap'"
        ))
        .await,
        1
    );
    s.undo_merge(&admin, merged.merge_id).await.unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {first} AND customer_id = {dup}"
        ))
        .await,
        1,
        "an undo moves it back"
    );
}

/// A direct-mail campaign writes each recipient's letter (salutation, coupon-free here) onto
/// a mailing list by address, skipping who has no postal address or no consent; the list is
/// a formula-safe CSV, audited, for those who may export.
async fn direct_mail_is_a_mailing_list_of_written_letters(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let post = |name: &'static str, address: Option<&'static str>, consent: bool| {
        support::customer(
            s,
            &admin,
            name,
            "上海",
            "female",
            address.map(|a| (ContactKind::Address, a, consent)),
        )
    };
    post("李娜", Some("上海市淮海路 100号 1201室"), true).await;
    post("=HYPERLINK(\"x\")", Some("上海市人民路 2号"), true).await;
    post("赵敏", Some("上海市中山路 3号"), false).await;
    post("钱芳", None, true).await;
    let mut c = sms("中秋直邮", shanghai(s, &admin).await, 0);
    c.channel = Channel::Mail;
    c.variants[0].subject_zh = "中秋礼遇".into();
    c.variants[0].body_zh = "{{salutation}}：中秋将至，凭此信到店领取月饼一盒。".into();
    c.variants[0].sms_template.clear();
    c.variants[0].sms_params.clear();
    let pv = guanxi_app::campaign::preview(s, &admin, None, &c, as_of())
        .await
        .unwrap();
    let skipped = |r: &str| pv.skipped.iter().find(|x| x.0 == r).unwrap().1;
    assert_eq!(
        (pv.send, skipped("no_consent"), skipped("no_address")),
        (2, 1, 1)
    );
    let id = launch(s, &admin, &c).await;
    let (d, _) = delivery(s, &admin, &tempfile_dir()).await;
    run_until_idle(s, &d).await;
    assert_eq!(
        s.get_campaign(id).await.unwrap().state,
        CampaignState::Finished
    );
    let list = guanxi_app::export::mailing_list(s, &admin, guanxi_text::i18n::Locale::ZhCn, id)
        .await
        .unwrap();
    let text = String::from_utf8(list.bytes).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].starts_with("\u{feff}客户编号"), "{text}");
    assert!(
        text.contains("上海市淮海路 100号 1201室,中秋礼遇,李女士：中秋将至"),
        "{text}"
    );
    assert!(
        text.contains("'=HYPERLINK"),
        "a name is never a formula: {text}"
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND entity = 'campaign' AND entity_id = {id}"
        ))
        .await,
        1
    );
    // Who may not manage campaigns gets no list.
    assert!(
        guanxi_app::export::mailing_list(s, &rep, guanxi_text::i18n::Locale::En, id)
            .await
            .is_err()
    );
}

/// Quiet hours hold where the customer is: with the quiet hours around the shop's "now", a
/// customer in New York (12–13 hours away) gets the text, the shop's own customers — no time
/// zone, or 上海 set explicitly — wait for the end of the quiet hours, not dropped.
async fn quiet_hours_are_kept_where_the_customer_is(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let dir = tempfile_dir();
    let (d, file) = delivery(s, &admin, &dir).await;
    let local_now = (Utc::now().timestamp() / 60 + 8 * 60).rem_euclid(1440);
    let mut p = s.contact_policy(Channel::Sms).await.unwrap();
    p.quiet_start = (local_now - 60).rem_euclid(1440);
    p.quiet_end = (local_now + 60).rem_euclid(1440);
    s.save_contact_policy(&admin, Channel::Sms, &p)
        .await
        .unwrap();
    let mut ids = vec![];
    for (name, zone, mobile) in [
        ("王伟", None, "13800138001"),
        ("Emily Chen", Some("America/New_York"), "13800138002"),
        ("赵敏", Some("Asia/Shanghai"), "13800138003"),
    ] {
        let f: CustomerFields = serde_json::from_value(json!({
            "kind": "individual", "name": name, "city": "上海", "time_zone": zone,
            "contact_points": [{"kind": "mobile", "value": mobile, "is_primary": true,
                "consent_marketing": true}]}))
        .unwrap();
        let c = s
            .create_customer(&admin, f.validate(admin.id, Utc::now()).unwrap())
            .await
            .unwrap();
        assert_eq!(c.time_zone.as_deref(), zone);
        ids.push(c.id);
    }
    let bad: CustomerFields = serde_json::from_value(
        json!({"kind": "individual", "name": "火星人", "time_zone": "Mars/Olympus"}),
    )
    .unwrap();
    let e = bad.validate(admin.id, Utc::now()).unwrap_err();
    assert_eq!(e.0[0].field, "time_zone");
    let id = launch(s, &admin, &sms("免打扰", shanghai(s, &admin).await, 0)).await;
    run_until_idle(s, &d).await;
    let sent = lines(&file);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].to_string().contains("13800138002"), "{sent:?}");
    let waiting = waiting(db, id, "quiet", 50 * 60_000).await;
    assert_eq!(
        waiting, 2,
        "the shop's customers wait for the end of the quiet hours"
    );
    let f = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap().1;
    assert_eq!(f.deferred, vec![("quiet".to_string(), 2)]);
    let _ = ids;
}

/// A campaign of more than `LIVE_FIGURES_LIMIT` recipients (its size set by hand here) shows
/// the figures the sender last computed, with their time; the first view asks for them, a
/// send step computes them, and they are recomputed once older than `FIGURES_EVERY_MS`.
async fn a_large_campaigns_figures_are_kept_and_refreshed_by_the_sender(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let (d, _) = delivery(s, &admin, &tempfile_dir()).await;
    customer(s, &admin, "王伟", Some(("13800138001", true))).await;
    customer(s, &admin, "赵敏", Some(("13800138003", true))).await;
    let id = launch(s, &admin, &sms("大促", shanghai(s, &admin).await, 0)).await;
    run_until_idle(s, &d).await;
    let live = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap().1;
    assert_eq!(
        live.computed_at, None,
        "a small campaign's figures are live"
    );
    assert_eq!(live.states, vec![("sent".to_string(), 2)]);
    db.execute(&format!(
        "UPDATE campaigns SET audience_total = {} WHERE id = {id}",
        guanxi_app::campaign::LIVE_FIGURES_LIMIT
    ))
    .await;
    let first = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap().1;
    assert!(first.states.is_empty() && first.computed_at.is_none());
    let r = deliver::run_step(s, &d, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(r.figures, 1);
    let kept = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap().1;
    assert_eq!(kept.states, vec![("sent".to_string(), 2)]);
    assert!(kept.computed_at.is_some());
    // Fresh figures are not recomputed on every step …
    let r = deliver::run_step(s, &d, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(r.figures, 0);
    // … stale ones are, and show what happened since.
    let token = db
        .scalar_text(&format!(
            "SELECT MIN(token) FROM outbox WHERE campaign_id = {id}"
        ))
        .await;
    s.record_response(&token, &Response::Replied("好".into()))
        .await
        .unwrap();
    db.execute(&format!(
        "UPDATE campaigns SET figures_at = figures_at - {} WHERE id = {id}",
        guanxi_app::campaign::FIGURES_EVERY_MS + 1
    ))
    .await;
    let r = deliver::run_step(s, &d, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(r.figures, 1);
    let f = guanxi_app::campaign::get(s, &admin, id, 8).await.unwrap().1;
    assert_eq!(f.responses, vec![("replied".to_string(), 1)]);
}

/// The preview per recipient: the first customers who would get it (not the skipped), each
/// variant with their form of address and points filled in.
async fn each_recipient_is_previewed_as_they_will_read_it(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    customer(s, &admin, "王伟", Some(("13800138001", true))).await;
    customer(s, &admin, "无授权", Some(("13800138002", false))).await;
    let female = support::customer(
        s,
        &admin,
        "欧阳娜娜",
        "上海",
        "female",
        Some((ContactKind::Mobile, "13800138003", true)),
    )
    .await;
    let mut c = sms("预览", shanghai(s, &admin).await, 0);
    c.variants.push(c.variants[0].clone());
    c.variants[1].sms_params[0].value = "亲爱的{{salutation}}".into();
    c.ab = Some(guanxi_domain::campaign::AbTest {
        sample_percent: 20,
        metric: guanxi_domain::campaign::AbMetric::Clicks,
        decide_after_hours: 4,
    });
    let p = guanxi_app::campaign::recipient_previews(s, &admin, &c, as_of(), 3)
        .await
        .unwrap();
    let shown: Vec<(&str, &str, &str)> = p
        .iter()
        .map(|r| (r.name.as_str(), r.variant.as_str(), r.body.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("王伟", "a", "name=王先生"),
            ("王伟", "b", "name=亲爱的王先生"),
            ("欧阳娜娜", "a", "name=欧阳女士"),
            ("欧阳娜娜", "b", "name=亲爱的欧阳女士"),
        ],
        "the customer without consent is not previewed"
    );
    assert_eq!(p[2].customer_id, female);
    let rep = user(s, "rep", Role::Sales, None).await;
    assert!(
        guanxi_app::campaign::recipient_previews(s, &rep, &c, as_of(), 3)
            .await
            .is_err()
    );
}
