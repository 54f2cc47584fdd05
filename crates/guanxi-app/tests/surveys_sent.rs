//! Surveys sent on both backends, through the real local SMTP server: a ticket-resolved
//! survey reaches the customer of each resolved ticket once, by e-mail with a personal link
//! that opens their invitation (and whose token the outbox forgets once delivered); customers
//! with no address it may go to (no e-mail, unsubscribed) are not invited; one reminder with
//! a second link to the same invitation; a survey sent to a segment invites its customers,
//! sparing those inside the fatigue window.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use guanxi_app::campaign::deliver::{self, Delivery};
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::rule::RuleInput;
use guanxi_domain::survey::{SurveyInput, SurveyKind, SurveyTrigger};
use guanxi_domain::ticket::{NewTicket, ResolutionCode, TicketPatch, TicketStatus};
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::survey::LinkState;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::{on_both_backends, Store};
use serde_json::json;

mod support;

on_both_backends!(
    resolved_tickets_get_their_survey_once_with_one_reminder,
    a_survey_goes_to_a_segment_sparing_the_recently_surveyed,
    a_rule_sends_a_survey_once_per_firing
);

fn delivery(smtp: &str) -> Delivery {
    support::email_delivery(smtp, "茶舍 <service@guanxi.test>", 4)
}

async fn survey(s: &Store, a: &Actor, name: &str, trigger: SurveyTrigger) -> i64 {
    let input = SurveyInput {
        name: name.into(),
        kind: SurveyKind::Csat,
        questions: vec![],
        trigger,
        expires_days: 14,
        active: true,
    };
    guanxi_app::survey::create_survey(s, a, &input)
        .await
        .unwrap()
        .id
}

/// Dispatches, then delivers until the outbox is idle.
async fn send(s: &Store, d: &Delivery) -> guanxi_app::survey::send::DispatchReport {
    let r = guanxi_app::survey::send::dispatch_step(s, d, Duration::from_secs(10))
        .await
        .unwrap();
    for _ in 0..10 {
        let x = deliver::run_step(s, d, Duration::from_secs(10))
            .await
            .unwrap();
        if !x.more && x.sent == 0 {
            break;
        }
    }
    r
}

/// The messages the SMTP server received for `to`, in order.
fn received(log: &std::path::Path, to: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["to"] == to)
        .collect()
}

/// The token of the survey link in a message's text.
fn token_in(m: &serde_json::Value) -> String {
    let text = m["text"].as_str().unwrap();
    let at = text.find("http://crm.test/s/").expect("a survey link") + "http://crm.test/s/".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn resolved_tickets_get_their_survey_once_with_one_reminder(db: &TestDb) {
    let (smtp, log) = support::local_server("GUANXI_TEST_SMTP", "tests/smtp/server.py");
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let run = Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let li = format!("li.{run}@example.cn");
    let zhao = format!("zhao.{run}@example.cn");
    let id = survey(s, &admin, "售后满意度", SurveyTrigger::TicketResolved).await;
    let a = &admin;
    let with_mail = |name: &'static str, email: String| async move {
        support::customer(
            s,
            a,
            name,
            "上海",
            "female",
            Some((ContactKind::Email, email.as_str(), false)),
        )
        .await
    };
    let c_li = with_mail("李娜", li.clone()).await;
    let c_zhao = with_mail("赵敏", zhao.clone()).await;
    let c_wang = support::customer(
        s,
        &admin,
        "王伟",
        "上海",
        "male",
        Some((ContactKind::Mobile, "13800138001", true)),
    )
    .await;
    // 赵敏 unsubscribed: even a transactional message honours that.
    db.execute(&format!(
        "INSERT INTO suppressions (channel, address, reason, soft_count, at) \
         VALUES ('email', '{zhao}', 'unsubscribed', 0, 0)"
    ))
    .await;
    for c in [c_li, c_zhao, c_wang] {
        let t: NewTicket = serde_json::from_value(json!({
            "customer_id": c, "kind": "enquiry", "channel": "phone", "subject": "发票"}))
        .unwrap();
        let t = guanxi_app::ticket::open_ticket(s, &admin, t).await.unwrap();
        let p = TicketPatch {
            version: t.meta.version,
            status: Some(TicketStatus::Resolved),
            resolution_code: Some(ResolutionCode::Answered),
            ..Default::default()
        };
        guanxi_app::ticket::change_ticket(s, &admin, t.id, p)
            .await
            .unwrap();
    }
    let d = delivery(&smtp);
    let r = send(s, &d).await;
    assert_eq!((r.invited, r.no_address), (1, 2), "{r:?}");
    let got = received(&log, &li);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["subject"], "售后满意度：请告诉我们您的感受");
    assert!(got[0]["text"].as_str().unwrap().starts_with("李女士您好："));
    assert!(
        got[0]["list_unsubscribe"].is_null(),
        "transactional: no unsubscribe header"
    );
    let first = token_in(&got[0]);
    let link = guanxi_app::survey::open_link(s, &first).await.unwrap();
    assert_eq!((link.customer_id, link.state), (c_li, LinkState::Open));
    assert_eq!(link.survey.id, id);
    assert!(received(&log, &zhao).is_empty());
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM outbox WHERE secret IS NOT NULL")
            .await,
        0,
        "the token is forgotten once delivered"
    );
    // Again: nobody is invited twice for the same ticket.
    let r = send(s, &d).await;
    assert_eq!((r.invited, r.reminded), (0, 0), "{r:?}");
    assert_eq!(received(&log, &li).len(), 1);
    // Four days on, unanswered: one reminder, with a link of its own to the same invitation.
    db.execute(&format!(
        "UPDATE survey_invitations SET created_at = created_at - {} WHERE survey_id = {id}",
        4 * 86_400_000i64
    ))
    .await;
    let r = send(s, &d).await;
    assert_eq!(r.reminded, 1, "{r:?}");
    let got = received(&log, &li);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["subject"], "提醒：售后满意度");
    let second = token_in(&got[1]);
    assert_ne!(first, second);
    let answers: BTreeMap<String, String> = [("csat".to_string(), "5".to_string())].into();
    guanxi_app::survey::answer(s, &second, &answers)
        .await
        .unwrap();
    assert_eq!(
        guanxi_app::survey::open_link(s, &first)
            .await
            .unwrap()
            .state,
        LinkState::Answered,
        "both links are the one invitation"
    );
    let r = send(s, &d).await;
    assert_eq!(r.reminded, 0, "one reminder at most");
}

async fn a_survey_goes_to_a_segment_sparing_the_recently_surveyed(db: &TestDb) {
    let (smtp, log) = support::local_server("GUANXI_TEST_SMTP", "tests/smtp/server.py");
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let run = Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let mut emails = vec![];
    for (i, name) in ["钱芳", "孙丽", "Emily Chen"].iter().enumerate() {
        let email = format!("c{i}.{run}@example.cn");
        support::customer(
            s,
            &admin,
            name,
            "杭州",
            "female",
            Some((ContactKind::Email, email.as_str(), true)),
        )
        .await;
        emails.push(email);
    }
    let seg = support::city_segment(s, &admin, "杭州客户", "杭州").await;
    let first = survey(s, &admin, "会员调查", SurveyTrigger::Manual).await;
    let second = survey(s, &admin, "NPS 调查", SurveyTrigger::Manual).await;
    // A rep may not send surveys.
    assert!(
        guanxi_app::survey::send::send_to_segment(s, &rep, first, seg)
            .await
            .is_err()
    );
    guanxi_app::survey::send::send_to_segment(s, &admin, first, seg)
        .await
        .unwrap();
    let d = delivery(&smtp);
    let r = send(s, &d).await;
    assert_eq!(r.invited, 3, "{r:?}");
    for e in &emails {
        assert_eq!(received(&log, e).len(), 1, "{e}");
    }
    assert_eq!(
        db.scalar_text(&format!(
            "SELECT lang FROM outbox WHERE address = '{}' AND state = 'sent'",
            emails[2]
        ))
        .await,
        "en",
        "recorded in the language it was written in"
    );
    let en = &received(&log, &emails[2])[0];
    assert_eq!(en["subject"], "会员调查: how did we do?");
    assert!(en["text"].as_str().unwrap().starts_with("Dear Ms Chen,"));
    // The second survey right after: everyone was surveyed inside the fatigue window.
    guanxi_app::survey::send::send_to_segment(s, &admin, second, seg)
        .await
        .unwrap();
    let r = send(s, &d).await;
    assert_eq!((r.invited, r.fatigued), (0, 3), "{r:?}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM survey_sends WHERE done = FALSE")
            .await,
        0,
        "both sends finished"
    );
}

/// A rule's `send_survey` action: an order fires the rule, the survey sender sends the link
/// once, and the request records that it was sent; a rule naming no survey is refused.
async fn a_rule_sends_a_survey_once_per_firing(db: &TestDb) {
    let (smtp, log) = support::local_server("GUANXI_TEST_SMTP", "tests/smtp/server.py");
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let run = Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let email = format!("li.lei.{run}@example.cn");
    let c = support::customer(
        s,
        &admin,
        "李雷",
        "南京",
        "male",
        Some((ContactKind::Email, email.as_str(), false)),
    )
    .await;
    let id = survey(s, &admin, "购后回访", SurveyTrigger::Manual).await;
    let rule = |survey_id: i64| -> RuleInput {
        serde_json::from_value(json!({
            "name": format!("下单后回访 {survey_id}"), "active": true,
            "trigger": {"kind": "order_placed", "min_amount_minor": 0},
            "actions": [{"kind": "send_survey", "survey_id": survey_id}]}))
        .unwrap()
    };
    let e = guanxi_app::rule::create(s, &admin, &rule(999_999))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("survey_id"), "{e:?}");
    guanxi_app::rule::create(s, &admin, &rule(id))
        .await
        .unwrap();
    support::order(s, &admin, c, Utc::now(), 12_800).await;
    let as_of = support::as_of();
    let fired = guanxi_app::rule::run(s, as_of, false).await.unwrap();
    assert_eq!(fired.done, 1, "{fired:?}");
    let d = delivery(&smtp);
    let r = send(s, &d).await;
    assert_eq!(r.invited, 1, "{r:?}");
    let got = received(&log, &email);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["subject"], "购后回访：请告诉我们您的感受");
    assert_eq!(
        db.scalar_text("SELECT outcome FROM survey_requests").await,
        "sent"
    );
    // Nothing fires again, nothing is sent again.
    let fired = guanxi_app::rule::run(s, as_of, false).await.unwrap();
    assert_eq!(fired.done, 0);
    let r = send(s, &d).await;
    assert_eq!(r.invited, 0);
    assert_eq!(received(&log, &email).len(), 1);
}
