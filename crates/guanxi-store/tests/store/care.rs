//! Customer care: dates derived from the file, the owner's care list with a lunar birthday,
//! greetings recorded on it, and care plans firing once per occasion across a restart.

use super::*;
use chrono::{Duration, NaiveDate};
use guanxi_domain::care::{CarePlanInput, TouchInput, TouchKind};
use guanxi_domain::segment::AsOf;

on_both_backends!(
    care_list_shows_lunar_birthdays_and_what_was_given,
    care_plan_fires_once_per_occasion_across_a_restart,
    festival_plan_fires_for_its_segment_on_the_day
);

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// As of 09:00 UTC on `today`, with the refresh free to read every write made so far.
fn at(today: NaiveDate) -> AsOf {
    AsOf {
        now: Utc::now() + Duration::seconds(10),
        today,
        utc_offset_hours: 0,
    }
}

async fn with_dates(s: &Store, actor: &Actor, name: &str, v: serde_json::Value) -> i64 {
    let mut f = json!({"kind": "individual", "name": name});
    f.as_object_mut()
        .unwrap()
        .extend(v.as_object().unwrap().clone());
    s.create_customer(actor, fields(f).validate(actor.id, Utc::now()).unwrap())
        .await
        .unwrap()
        .id
}

async fn refresh(s: &Store, when: AsOf) {
    loop {
        let r = s
            .refresh_care_dates(when.now, when.today, when.utc_offset_hours)
            .await
            .unwrap();
        if !r.more {
            break;
        }
    }
}

async fn care_list_shows_lunar_birthdays_and_what_was_given(db: &TestDb) {
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    // 中秋 2027 is 15 September: a lunar 8/15 birthday falls then.
    let moon = with_dates(
        s,
        &rep,
        "月饼 Moon",
        json!({"birthday": {"year": 1987, "month": 8, "day": 15, "lunar": true},
               "profile": {"family": {"children": [{"name": "小宝",
                   "birthday": {"month": 9, "day": 12}}]}}}),
    )
    .await;
    with_dates(
        s,
        &rep,
        "冬至 Winter",
        json!({"birthday": {"month": 12, "day": 22}}),
    )
    .await;
    let others = with_dates(
        s,
        &other,
        "别人 Other",
        json!({"birthday": {"month": 9, "day": 13}}),
    )
    .await;
    let when = at(d(2027, 9, 10));
    refresh(s, when).await;
    let list = s
        .care_list(&rep, Some(rep.id), d(2027, 9, 10), d(2027, 9, 17))
        .await
        .unwrap();
    let got: Vec<(String, &str, NaiveDate)> = list
        .entries
        .iter()
        .map(|e| (e.customer_name.clone(), e.kind.as_str(), e.on))
        .collect();
    assert_eq!(
        got,
        vec![
            ("月饼 Moon".to_string(), "child_birthday", d(2027, 9, 12)),
            ("月饼 Moon".to_string(), "birthday", d(2027, 9, 15)),
        ]
    );
    assert_eq!(list.total, 2);
    let birthday = &list.entries[1];
    assert!(birthday.date.lunar);
    assert_eq!(list.entries[0].label.as_deref(), Some("小宝"));
    assert!(birthday.given.is_none() && birthday.before.is_none());
    // Last year's greeting (中秋 2026 was 25 September) and this year's gift.
    let touch = |on: NaiveDate, kind: TouchKind, note: &str| TouchInput {
        customer_id: moon,
        occasion: "birthday".into(),
        occasion_on: on,
        kind,
        channel: None,
        note: Some(note.into()),
    };
    s.record_care_touch(
        &rep,
        &touch(d(2026, 9, 25), TouchKind::Greeting, "贺卡")
            .validate(d(2026, 9, 25))
            .unwrap(),
        Utc::now(),
    )
    .await
    .unwrap();
    s.record_care_touch(
        &rep,
        &touch(d(2027, 9, 15), TouchKind::Gift, "月饼礼盒")
            .validate(d(2027, 9, 10))
            .unwrap(),
        Utc::now(),
    )
    .await
    .unwrap();
    let list = s
        .care_list(&rep, Some(rep.id), d(2027, 9, 10), d(2027, 9, 17))
        .await
        .unwrap();
    let e = &list.entries[1];
    assert_eq!(e.given.as_ref().map(|t| t.kind), Some(TouchKind::Gift));
    assert_eq!(
        e.before.as_ref().map(|t| (t.kind, t.note.clone())),
        Some((TouchKind::Greeting, Some("贺卡".into())))
    );
    assert!(
        list.entries[0].given.is_none(),
        "the child's birthday is its own"
    );
    // The gift is on the customer's timeline.
    let timeline = s.timeline(&rep, moon, None, 50).await.unwrap();
    assert!(timeline
        .iter()
        .any(|i| i.kind == guanxi_domain::records::TimelineKind::Care && i.code == "gift"));
    // Another rep's customer is not on this list, nor can a greeting be recorded for it.
    let everyone = s
        .care_list(&rep, None, d(2027, 9, 10), d(2027, 9, 17))
        .await
        .unwrap();
    assert_eq!(everyone.total, 2);
    assert!(everyone.entries.iter().all(|e| e.owner_id == Some(rep.id)));
    let foreign = TouchInput {
        customer_id: others,
        ..touch(d(2027, 9, 13), TouchKind::Greeting, "x")
    };
    assert!(matches!(
        s.record_care_touch(&rep, &foreign.validate(d(2027, 9, 10)).unwrap(), Utc::now())
            .await,
        Err(StoreError::NotFound)
    ));
    // A window further on holds the other customer's solar birthday.
    let winter = s
        .care_list(&rep, Some(rep.id), d(2027, 12, 20), d(2027, 12, 25))
        .await
        .unwrap();
    assert_eq!(winter.entries.len(), 1);
}

async fn care_plan_fires_once_per_occasion_across_a_restart(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let moon = with_dates(
        s,
        &rep,
        "月饼 Moon",
        json!({"birthday": {"month": 8, "day": 15, "lunar": true}}),
    )
    .await;
    with_dates(
        s,
        &rep,
        "远 Far",
        json!({"birthday": {"month": 11, "day": 1}}),
    )
    .await;
    let plan = CarePlanInput {
        name: "生日前三天".into(),
        occasion: "birthday".into(),
        days_before: 3,
        segment_id: None,
        task_title: "准备生日礼物".into(),
        active: true,
    }
    .validate()
    .unwrap();
    let when = at(d(2027, 9, 12));
    refresh(s, when).await;
    assert_eq!(s.preview_care_plan(&plan, when).await.unwrap(), 1);
    let p = s.create_care_plan(&admin, &plan).await.unwrap();
    let dup = s.create_care_plan(&admin, &plan).await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate { field: "name" })),
        "{dup:?}"
    );
    let report = s.fire_care_plans(when).await.unwrap();
    assert_eq!(report.fired, 1);
    let tasks = || async {
        db.scalar(&format!(
            "SELECT COUNT(*) FROM tasks WHERE customer_id = {moon} AND assignee_id = {}",
            rep.id
        ))
        .await
    };
    assert_eq!(tasks().await, 1);
    // The same day again, from a fresh connection (a restart) and with the plan's progress
    // lost as if the job died before recording it: the firing key holds.
    let again = Store::connect(&db.url).await.unwrap();
    db.execute("UPDATE care_plans SET checked_through = NULL")
        .await;
    assert_eq!(again.fire_care_plans(when).await.unwrap().fired, 0);
    // Catching up after two days down, and the next days: still one task for this birthday.
    for day in 13..=16 {
        again.fire_care_plans(at(d(2027, 9, day))).await.unwrap();
    }
    assert_eq!(tasks().await, 1);
    let stored = s.get_care_plan(p.id).await.unwrap();
    assert_eq!(stored.fired, 1);
    assert_eq!(stored.checked_through, Some(d(2027, 9, 19)));
    let task_note = db
        .scalar_text(&format!(
            "SELECT note FROM tasks WHERE customer_id = {moon}"
        ))
        .await;
    assert_eq!(task_note, "生日前三天 · 2027-09-15");
    // A paused plan does not fire; an update at a stale version is refused.
    let paused = guanxi_domain::care::plan::CarePlan {
        active: false,
        ..plan.clone()
    };
    assert!(matches!(
        s.update_care_plan(&admin, p.id, p.version + 5, &paused)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    s.update_care_plan(&admin, p.id, stored.version, &paused)
        .await
        .unwrap();
    assert_eq!(s.fire_care_plans(when).await.unwrap().plans, 0);
}

async fn festival_plan_fires_for_its_segment_on_the_day(db: &TestDb) {
    use guanxi_domain::segment::SegmentInput;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    for name in ["上海一", "上海二"] {
        person(s, &rep, name, None).await;
    }
    with_dates(s, &rep, "北京一", json!({"city": "北京"})).await;
    let input: SegmentInput = serde_json::from_value(json!({
        "name": "上海", "description": "",
        "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}}))
    .unwrap();
    let seg = s.create_segment(&admin, &input, as_of()).await.unwrap();
    let plan = CarePlanInput {
        name: "中秋问候".into(),
        occasion: "festival.mid_autumn".into(),
        days_before: 0,
        segment_id: Some(seg.id),
        task_title: "中秋问候".into(),
        active: true,
    }
    .validate()
    .unwrap();
    let missing = guanxi_domain::care::plan::CarePlan {
        segment_id: Some(seg.id + 100),
        ..plan.clone()
    };
    assert!(matches!(
        s.create_care_plan(&admin, &missing).await,
        Err(StoreError::Invalid(_))
    ));
    s.create_care_plan(&admin, &plan).await.unwrap();
    // The day before 中秋 2027 (15 September): nothing; on the day: the segment's two.
    assert_eq!(
        s.fire_care_plans(at(d(2027, 9, 14))).await.unwrap().fired,
        0
    );
    assert_eq!(
        s.preview_care_plan(&plan, at(d(2027, 9, 15)))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.fire_care_plans(at(d(2027, 9, 15))).await.unwrap().fired,
        2
    );
    assert_eq!(
        s.fire_care_plans(at(d(2027, 9, 15))).await.unwrap().fired,
        0
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM tasks WHERE title = '中秋问候'")
            .await,
        2
    );
}
