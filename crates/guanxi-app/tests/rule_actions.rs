//! The rule actions that reach people, on both backends: "notify" writes a notification in
//! the app for the customer's owner or a named user (once per firing, the customer shown only
//! within the reader's scope), and "enrol in a campaign" puts each customer into a standing
//! campaign's outbox under its consent, exclusions and one-row-per-customer rule, sent by the
//! real sender to the file SMS provider; the campaign keeps sending until its enrolment ends.
//! Both run set-based per chunk: a customer firing twice in one chunk is tagged once.

use std::time::Duration;

use chrono::Utc;
use guanxi_app::campaign::deliver;
use guanxi_app::notification::{self as notes, NotificationQuery};
use guanxi_app::AppError;
use guanxi_domain::campaign::CampaignState;
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::rule::{Action, RuleInput, Trigger};
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::{on_both_backends, Store, StoreError};

mod support;
use support::{as_of, delivery, lines, sms, tempfile_dir};

on_both_backends!(
    a_rule_enrols_customers_in_a_standing_campaign,
    a_rule_notifies_the_owner_or_a_named_user_once,
);

fn on_each_order(name: &str, actions: Vec<Action>) -> RuleInput {
    RuleInput {
        name: name.into(),
        trigger: Trigger::OrderPlaced {
            min_amount_minor: 0,
        },
        segment_id: None,
        actions,
        active: true,
    }
}

async fn mobile(s: &Store, a: &Actor, name: &str, city: &str, m: Option<(&str, bool)>) -> i64 {
    support::customer(
        s,
        a,
        name,
        city,
        "female",
        m.map(|(v, consent)| (ContactKind::Mobile, v, consent)),
    )
    .await
}

/// The outcome logged for each firing of `rule`, oldest first.
async fn outcomes(s: &Store, rule: i64) -> Vec<(i64, String)> {
    let mut log: Vec<(i64, i64, String)> = s
        .rule_firings(Some(rule), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.id, f.customer_id, f.outcome.unwrap_or_default()))
        .collect();
    log.sort();
    log.into_iter().map(|(_, c, o)| (c, o)).collect()
}

async fn a_rule_enrols_customers_in_a_standing_campaign(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let m = user(s, "mkt", Role::Marketing, None).await;
    let dir = tempfile_dir();
    let (d, file) = delivery(s, &admin, &dir).await;
    let a = mobile(s, &admin, "王芳", "上海", Some(("13800138001", true))).await;
    let b = mobile(s, &admin, "李静", "上海", None).await;
    let c = mobile(s, &admin, "张敏", "上海", Some(("13800138003", false))).await;
    let x = mobile(s, &admin, "赵丽", "北京", Some(("13800138004", true))).await;
    let beijing = support::city_segment(s, &admin, "北京客户", "北京").await;
    // A standing welcome text with no segment of its own, open to rules for a week, that
    // leaves out Beijing.
    let mut k = sms("新客欢迎短信", 0, 0);
    k.segments = vec![];
    k.exclude = vec![beijing];
    k.enrol_until = Some(as_of().today + chrono::Duration::days(7));
    let saved = guanxi_app::campaign::save(s, &m, None, &k).await.unwrap();
    let id = saved.id;
    guanxi_app::campaign::move_to(s, &m, id, saved.version, CampaignState::Sending, None)
        .await
        .unwrap();
    // With nobody enrolled yet it sends nothing, and stays open.
    let step = deliver::run_step(s, &d, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(step.sent, 0);
    assert_eq!(
        s.get_campaign(id).await.unwrap().state,
        CampaignState::Sending
    );
    // A rule naming a campaign that does not exist is refused.
    let bad = on_each_order("坏规则", vec![Action::EnrolCampaign { campaign_id: 9999 }]);
    match guanxi_app::rule::create(s, &m, &bad).await {
        Err(AppError::Store(StoreError::Invalid(e))) => {
            assert_eq!(e.0[0].field, "actions[0].campaign_id");
            assert_eq!(e.0[0].code, "not_found");
        }
        other => panic!("{other:?}"),
    }
    let rule = on_each_order(
        "新客欢迎",
        vec![
            Action::EnrolCampaign { campaign_id: id },
            Action::AddTag {
                tag: "新客".into()
            },
        ],
    );
    let r = guanxi_app::rule::create(s, &m, &rule).await.unwrap();
    // Two orders of 王芳 fire twice in the same chunk.
    for who in [a, a, b, c, x] {
        support::order(s, &admin, who, Utc::now(), 5_000).await;
    }
    let run = s.run_rules(as_of(), true).await.unwrap();
    assert_eq!((run.fired, run.done, run.failed), (5, 5, 0), "{run:?}");
    let log = outcomes(s, r.id).await;
    let campaign = |what: &str| format!("campaign #{id}: {what}");
    assert_eq!(log[0], (a, format!("+tag 新客; {}", campaign("enrolled"))));
    assert_eq!(log[1], (a, campaign("already")));
    assert_eq!(
        log[2],
        (b, format!("+tag 新客; {}", campaign("skipped: no_address")))
    );
    assert_eq!(
        log[3],
        (c, format!("+tag 新客; {}", campaign("skipped: no_consent")))
    );
    assert_eq!(log[4], (x, format!("+tag 新客; {}", campaign("excluded"))));
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM customer_tags WHERE customer_id = {a}"
        ))
        .await,
        1
    );
    assert_eq!(
        s.get_customer(&admin, a).await.unwrap().tags,
        vec!["新客".to_string()]
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign_id = {id}"
        ))
        .await,
        3
    );
    // The sender sends the one who may be texted, once, and the campaign stays open.
    for _ in 0..5 {
        deliver::run_step(s, &d, Duration::from_secs(10))
            .await
            .unwrap();
    }
    let sent = lines(&file);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["phone"], "+8613800138001");
    let rec = s.get_campaign(id).await.unwrap();
    assert_eq!(rec.state, CampaignState::Sending);
    assert_eq!(rec.audience_total, 3);
    // Once the enrolment has ended the campaign finishes, and a later firing finds it closed.
    let after = as_of().today + chrono::Duration::days(8);
    assert!(s.finish_campaign_if_done(&rec, after).await.unwrap());
    support::order(s, &admin, b, Utc::now(), 5_000).await;
    s.run_rules(as_of(), true).await.unwrap();
    let log = outcomes(s, r.id).await;
    assert_eq!(log[5], (b, campaign("closed")));
}

async fn a_rule_notifies_the_owner_or_a_named_user_once(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "rep2", Role::Sales, None).await;
    let mgr = user(s, "mgr", Role::Manager, None).await;
    let a = mobile(s, &rep, "孙倩", "上海", None).await;
    let c = mobile(s, &admin, "周敏", "上海", None).await;
    db.execute(&format!(
        "UPDATE customers SET owner_id = NULL WHERE id = {c}"
    ))
    .await;
    // Refused: an empty message, a user who does not exist.
    let bad = on_each_order(
        "坏通知",
        vec![
            Action::Notify {
                message: "  ".into(),
                user_id: None,
            },
            Action::Notify {
                message: "x".into(),
                user_id: Some(9999),
            },
        ],
    );
    match guanxi_app::rule::create(s, &admin, &bad).await {
        Err(AppError::Invalid(e)) => {
            assert_eq!(e.0[0].field, "actions[0].message");
            assert_eq!(e.0[0].code, "required");
        }
        other => panic!("{other:?}"),
    }
    let mut bad = bad;
    bad.actions.remove(0);
    match guanxi_app::rule::create(s, &admin, &bad).await {
        Err(AppError::Store(StoreError::Invalid(e))) => {
            assert_eq!(e.0[0].field, "actions[0].user_id");
            assert_eq!(e.0[0].code, "invalid_reference");
        }
        other => panic!("{other:?}"),
    }
    let r = guanxi_app::rule::create(
        s,
        &admin,
        &on_each_order(
            "大单提醒",
            vec![
                Action::Notify {
                    message: "新订单，请跟进".into(),
                    user_id: None,
                },
                Action::Notify {
                    message: "抄送经理".into(),
                    user_id: Some(mgr.id),
                },
                Action::Notify {
                    message: "抄送同事".into(),
                    user_id: Some(other.id),
                },
            ],
        ),
    )
    .await
    .unwrap();
    support::order(s, &admin, a, Utc::now(), 5_000).await;
    support::order(s, &admin, c, Utc::now(), 5_000).await;
    for _ in 0..2 {
        s.run_rules(as_of(), true).await.unwrap();
    }
    let q = NotificationQuery {
        unread_only: false,
        before: None,
        limit: 50,
    };
    // The owner hears about their customer; the customer without an owner is logged.
    let mine = notes::my_notifications(s, &rep, q).await.unwrap();
    assert_eq!(mine.unread, 1);
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].message, "新订单，请跟进");
    assert_eq!(mine.items[0].customer_id, Some(a));
    assert_eq!(mine.items[0].customer_name.as_deref(), Some("孙倩"));
    let log = outcomes(s, r.id).await;
    assert!(
        log[0].1.starts_with(&format!("notified user {}", rep.id)),
        "{log:?}"
    );
    assert!(log[1].1.starts_with("nobody to notify"), "{log:?}");
    // The manager sees both customers; a colleague is told but not shown whom.
    let theirs = notes::my_notifications(s, &mgr, q).await.unwrap();
    assert_eq!(theirs.items.len(), 2);
    assert!(theirs.items.iter().all(|n| n.customer_name.is_some()));
    let colleague = notes::my_notifications(s, &other, q).await.unwrap();
    assert_eq!(colleague.items.len(), 2);
    assert!(colleague
        .items
        .iter()
        .all(|n| n.customer_id.is_none() && n.customer_name.is_none()));
    assert_eq!(notes::unread_count(s, &admin).await.unwrap(), 0);
    // Paging: one at a time, newest first.
    let first = notes::my_notifications(s, &mgr, NotificationQuery { limit: 1, ..q })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    let next = notes::my_notifications(
        s,
        &mgr,
        NotificationQuery {
            limit: 1,
            before: first.next_before,
            ..q
        },
    )
    .await
    .unwrap();
    assert_eq!(next.items.len(), 1);
    assert!(next.items[0].id < first.items[0].id);
    assert_eq!(next.next_before, None);
    // Marking read: one's own only; all at once; audited.
    assert!(matches!(
        notes::mark_read(s, &rep, theirs.items[0].id).await,
        Err(AppError::Store(StoreError::NotFound))
    ));
    notes::mark_read(s, &rep, mine.items[0].id).await.unwrap();
    notes::mark_read(s, &rep, mine.items[0].id).await.unwrap();
    assert_eq!(notes::unread_count(s, &rep).await.unwrap(), 0);
    assert_eq!(notes::mark_all_read(s, &mgr).await.unwrap(), 2);
    assert_eq!(notes::mark_all_read(s, &mgr).await.unwrap(), 0);
    let unread_only = notes::my_notifications(
        s,
        &mgr,
        NotificationQuery {
            unread_only: true,
            ..q
        },
    )
    .await
    .unwrap();
    assert!(unread_only.items.is_empty());
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('read_notification', 'read_notifications')")
            .await,
        2
    );
    // Bad paging is a bad query.
    assert!(matches!(
        notes::my_notifications(s, &mgr, NotificationQuery { limit: 0, ..q }).await,
        Err(AppError::InvalidQuery(_))
    ));
}
