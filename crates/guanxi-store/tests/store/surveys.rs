//! Satisfaction surveys: the figures against hand-computed ones, the single-use link, the
//! fatigue window, the follow-up task and the timeline.

use super::*;
use chrono::Duration;
use guanxi_domain::survey::{SurveyDefinition, SurveyInput, SurveyKind, SurveyTrigger};
use guanxi_store::survey::{Breakdown, Invited, LinkState, Snapshot, SurveyRecord};
use std::collections::BTreeMap;

on_both_backends!(
    survey_figures_match_hand_computed_ones,
    a_link_takes_one_answer_before_it_expires,
    the_fatigue_window_spans_every_survey
);

async fn survey(s: &Store, admin: &Actor, name: &str, kind: SurveyKind) -> SurveyRecord {
    let input = SurveyInput {
        name: name.into(),
        kind,
        questions: vec![],
        trigger: SurveyTrigger::Manual,
        expires_days: 14,
        active: true,
    };
    s.create_survey(admin, &input.validate().unwrap())
        .await
        .unwrap()
}

fn raw(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

async fn answer(s: &Store, def: &SurveyDefinition, token: &str, pairs: &[(&str, String)]) {
    let answers = def.check_answers(&raw(pairs)).unwrap();
    s.answer_survey(token, &answers, Utc::now()).await.unwrap();
}

/// Invites `customer` with token `token` (its own cause), about `agent`.
async fn invite(s: &Store, sv: &SurveyRecord, customer: i64, token: &str, agent: Option<i64>) {
    let snap = Snapshot {
        agent_id: agent,
        ..Snapshot::default()
    };
    let r = s
        .invite_to_survey(
            sv,
            customer,
            &format!("manual:{token}"),
            &snap,
            token,
            "zh-CN",
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(matches!(r, Invited::Created(_)), "{r:?}");
}

async fn survey_figures_match_hand_computed_ones(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    s.set_survey_fatigue_days(&admin, 0).await.unwrap();
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(person(s, &admin, &format!("客户{i}"), None).await.id);
    }
    let window = || {
        (
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(1),
        )
    };

    // NPS: 10 10 9 8 7 6 answered (agent 1: the first three; agent 2: the rest), two not.
    let sv = survey(s, &admin, "NPS", SurveyKind::Nps).await;
    for (i, c) in customers.iter().enumerate() {
        invite(
            s,
            &sv,
            *c,
            &format!("nps{i}"),
            Some(if i < 3 { 1 } else { 2 }),
        )
        .await;
    }
    for (i, score) in [10, 10, 9, 8, 7, 6].iter().enumerate() {
        answer(
            s,
            &sv.definition,
            &format!("nps{i}"),
            &[("nps", score.to_string())],
        )
        .await;
    }
    let (from, to) = window();
    let r = s
        .survey_results(sv.id, from, to, Some(Breakdown::Agent), 8)
        .await
        .unwrap();
    assert_eq!((r.all.invited, r.all.responded), (8, 6));
    assert!((r.response_rate.unwrap() - 75.0).abs() < 1e-9);
    let n = r.all.nps.clone().unwrap();
    assert_eq!((n.promoters, n.passives, n.detractors), (3, 2, 1));
    assert!((n.score - 100.0 / 3.0).abs() < 1e-9, "{n:?}");
    let by: Vec<(String, f64)> = r
        .groups
        .iter()
        .map(|g| (g.key.clone(), g.nps.as_ref().unwrap().score))
        .collect();
    // Agent 1: three promoters → 100. Agent 2: passives 8 7, detractor 6, two unanswered → −33.3.
    assert_eq!(by[0], ("1".to_string(), 100.0));
    assert_eq!(by[1].0, "2");
    assert!((by[1].1 + 100.0 / 3.0).abs() < 1e-9);
    // By segment: the first three live in 北京 now, the rest in 上海 — the same split.
    db.execute(&format!(
        "UPDATE customers SET city = '北京' WHERE id IN ({}, {}, {})",
        customers[0], customers[1], customers[2]
    ))
    .await;
    for city in ["北京", "上海"] {
        let seg: guanxi_domain::segment::SegmentInput = serde_json::from_value(json!({
            "name": city, "description": "",
            "rule": {"clauses": [{"field": "city", "op": "eq", "value": city}]}}))
        .unwrap();
        s.create_segment(&admin, &seg, as_of()).await.unwrap();
    }
    let r = s
        .survey_results(sv.id, from, to, Some(Breakdown::Segment), 8)
        .await
        .unwrap();
    let by: Vec<(i64, i64, f64)> = r
        .groups
        .iter()
        .map(|g| (g.invited, g.responded, g.nps.as_ref().unwrap().score))
        .collect();
    assert_eq!(by.len(), 2, "{by:?}");
    assert_eq!((by[0].0, by[0].1, by[0].2), (3, 3, 100.0));
    assert_eq!((by[1].0, by[1].1), (5, 3));
    assert!((by[1].2 + 100.0 / 3.0).abs() < 1e-9);

    // CSAT: 5 4 3 5 2 4 1 → four of seven satisfied.
    let sv = survey(s, &admin, "CSAT", SurveyKind::Csat).await;
    for (i, score) in [5, 4, 3, 5, 2, 4, 1].iter().enumerate() {
        invite(s, &sv, customers[i], &format!("csat{i}"), None).await;
        answer(
            s,
            &sv.definition,
            &format!("csat{i}"),
            &[("csat", score.to_string())],
        )
        .await;
    }
    let c = s
        .survey_results(sv.id, from, to, None, 8)
        .await
        .unwrap()
        .all
        .csat
        .unwrap();
    assert_eq!((c.n, c.satisfied), (7, 4));
    assert!((c.percent - 400.0 / 7.0).abs() < 1e-9);
    assert!((c.mean - 24.0 / 7.0).abs() < 1e-9);

    // SERVQUAL: two respondents. Every expectation 7 and perception 5, except the first
    // respondent's reliability perceptions, 2 and 3. Hand-computed: reliability P = (2+3+5+5)/4
    // = 3.75, gap −3.25; the other four dimensions −2; overall (−3.25 − 8) / 5 = −2.25.
    let sv = survey(s, &admin, "SERVQUAL", SurveyKind::Servqual).await;
    for (i, customer) in customers.iter().take(2).enumerate() {
        invite(s, &sv, *customer, &format!("sq{i}"), None).await;
        let mut pairs = Vec::new();
        for q in &sv.definition.questions {
            let rating = if q.key.ends_with("_e") {
                7
            } else if i == 0 && q.key == "reliability_1_p" {
                2
            } else if i == 0 && q.key == "reliability_2_p" {
                3
            } else {
                5
            };
            if q.key != "comment" {
                pairs.push((q.key.as_str(), rating.to_string()));
            }
        }
        answer(s, &sv.definition, &format!("sq{i}"), &pairs).await;
    }
    let r = s.survey_results(sv.id, from, to, None, 8).await.unwrap();
    let q = r.servqual.unwrap();
    let rel = q
        .dimensions
        .iter()
        .find(|d| d.dimension.as_str() == "reliability")
        .unwrap();
    assert!(
        (rel.perception - 3.75).abs() < 1e-9 && (rel.gap + 3.25).abs() < 1e-9,
        "{rel:?}"
    );
    assert!((q.overall_gap.unwrap() + 2.25).abs() < 1e-9, "{q:?}");
    assert_eq!(q.dimensions.len(), 5);
}

async fn a_link_takes_one_answer_before_it_expires(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let c = person(s, &rep, "王芳", None).await.id;
    let sv = survey(s, &admin, "NPS", SurveyKind::Nps).await;
    invite(s, &sv, c, "t1", None).await;
    assert_eq!(
        s.open_survey_link("t1", Utc::now()).await.unwrap().state,
        LinkState::Open
    );
    // A detractor with a comment: the owner gets a follow-up task, the timeline the answer.
    let answers = sv
        .definition
        .check_answers(&raw(&[("nps", "3".into()), ("comment", "等太久了".into())]))
        .unwrap();
    let r = s.answer_survey("t1", &answers, Utc::now()).await.unwrap();
    assert_eq!(r.score, Some(3));
    let task = r.follow_up_task_id.expect("a detractor is followed up");
    assert_eq!(
        db.scalar(&format!("SELECT assignee_id FROM tasks WHERE id = {task}"))
            .await,
        rep.id
    );
    let timeline = s.timeline(&rep, c, None, 20).await.unwrap();
    let survey_item = timeline
        .iter()
        .find(|i| i.kind == guanxi_domain::records::TimelineKind::Survey)
        .expect("the answer is on the timeline");
    assert_eq!(survey_item.detail.as_deref(), Some("3 · 等太久了"));
    // The link is single-use.
    let again = s.answer_survey("t1", &answers, Utc::now()).await;
    assert!(
        matches!(&again, Err(StoreError::Invalid(e)) if e.0[0].code == "already_answered"),
        "{again:?}"
    );
    assert_eq!(
        s.open_survey_link("t1", Utc::now()).await.unwrap().state,
        LinkState::Answered
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM survey_responses").await, 1);
    // An expired link takes none; an unknown one does not exist.
    s.set_survey_fatigue_days(&admin, 0).await.unwrap();
    invite(s, &sv, c, "t2", None).await;
    let later = Utc::now() + Duration::days(15);
    assert_eq!(
        s.open_survey_link("t2", later).await.unwrap().state,
        LinkState::Expired
    );
    let late = s.answer_survey("t2", &answers, later).await;
    assert!(
        matches!(&late, Err(StoreError::Invalid(e)) if e.0[0].code == "link_expired"),
        "{late:?}"
    );
    assert!(matches!(
        s.answer_survey("nope", &answers, Utc::now()).await,
        Err(StoreError::NotFound)
    ));
    // A promoter is not followed up.
    invite(s, &sv, c, "t3", None).await;
    let happy = sv
        .definition
        .check_answers(&raw(&[("nps", "10".into())]))
        .unwrap();
    assert_eq!(
        s.answer_survey("t3", &happy, Utc::now())
            .await
            .unwrap()
            .follow_up_task_id,
        None
    );
}

async fn the_fatigue_window_spans_every_survey(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "李雷", None).await.id;
    let nps = survey(s, &admin, "NPS", SurveyKind::Nps).await;
    let csat = survey(s, &admin, "CSAT", SurveyKind::Csat).await;
    assert_eq!(s.survey_fatigue_days().await.unwrap(), 14);
    let snap = Snapshot::default();
    let now = Utc::now();
    let first = s
        .invite_to_survey(&nps, c, "ticket:1", &snap, "a", "zh-CN", now)
        .await
        .unwrap();
    assert!(matches!(first, Invited::Created(_)));
    // The same cause again (a trigger that ran twice): one invitation.
    assert_eq!(
        s.invite_to_survey(&nps, c, "ticket:1", &snap, "b", "zh-CN", now)
            .await
            .unwrap(),
        Invited::AlreadyInvited
    );
    // Another survey within the window: not sent; after it: sent.
    assert_eq!(
        s.invite_to_survey(
            &csat,
            c,
            "ticket:2",
            &snap,
            "c",
            "zh-CN",
            now + Duration::days(13)
        )
        .await
        .unwrap(),
        Invited::Fatigued
    );
    assert!(matches!(
        s.invite_to_survey(
            &csat,
            c,
            "ticket:2",
            &snap,
            "d",
            "zh-CN",
            now + Duration::days(15)
        )
        .await
        .unwrap(),
        Invited::Created(_)
    ));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM survey_invitations").await,
        2
    );
}
