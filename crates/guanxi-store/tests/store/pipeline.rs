//! Store tests on both backends for the sales pipeline: a deal starts in the pipeline's first
//! open stage with the customer's owner; every move is history with the time spent in the
//! stage it left and an event on the customer's timeline; a stale move is a conflict; a loss
//! needs its reason (and a note for "other"); won is 100 %, lost 0 %, reopened goes back to
//! the rep's own figure; the kanban's column sums and the weighted forecast are exact; a rep
//! sees only their own deals; a merge moves deals to the kept record.

use super::*;
use chrono::{Duration, NaiveDate};
use guanxi_domain::pipeline::{MoveInput, OpportunityInput, OpportunityStatus};
use guanxi_domain::records::TimelineKind;

on_both_backends!(
    a_deal_moves_through_the_stages_with_its_history,
    the_board_and_the_forecast_add_up_exactly,
    an_edit_is_versioned_and_the_rollup_follows_every_write,
    a_pipeline_is_edited_around_its_deals_and_the_list_filters,
);

fn deal(customer: i64, name: &str, amount_minor: i64, close: &str) -> OpportunityInput {
    serde_json::from_value::<OpportunityInput>(json!({
        "customer_id": customer, "name": name, "pipeline_id": 1,
        "amount_minor": amount_minor, "expected_close": close
    }))
    .unwrap()
    .validate()
    .unwrap()
}

/// The default pipeline's stage named `name`.
async fn stage(s: &Store, name: &str) -> i64 {
    s.get_pipeline(1)
        .await
        .unwrap()
        .stages
        .iter()
        .find(|x| x.name == name)
        .unwrap()
        .id
}

fn to(stage_id: i64, version: i64) -> MoveInput {
    MoveInput {
        stage_id,
        version,
        lost_reason_id: None,
        lost_note: None,
    }
}

async fn a_deal_moves_through_the_stages_with_its_history(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    let c = person(s, &rep, "周总", None).await;
    // With lines, the amount is their total; the stage and owner default.
    let mut input: OpportunityInput = serde_json::from_value(json!({
        "customer_id": c.id, "name": "年度茶礼", "pipeline_id": 1,
        "stated_needs": "春节送客户", "latent_needs": "想要定制包装",
        "competitors": ["茶叶公司甲"],
        "lines": [{"sku": "TEA-01", "quantity": 100, "unit_price_minor": 8800},
                  {"sku": "BOX", "quantity": 100, "unit_price_minor": 1200}]
    }))
    .unwrap();
    input = input.validate().unwrap();
    let d = s.create_opportunity(&rep, &input).await.unwrap();
    assert_eq!(d.amount_minor, 1_000_000);
    assert_eq!(d.stage_id, stage(s, "潜在客户").await);
    assert_eq!(
        (d.owner_id, d.probability, d.weighted_minor),
        (Some(rep.id), 10, 100_000)
    );
    assert_eq!(d.lines.len(), 2);
    assert_eq!(d.competitors, ["茶叶公司甲"]);
    // Someone else's rep does not see it.
    assert!(matches!(
        s.get_opportunity(&other, d.id).await,
        Err(StoreError::NotFound)
    ));
    // Three days in the first stage, then on to needs identified.
    db.execute(&format!(
        "UPDATE opportunities SET stage_entered_at = {} WHERE id = {}",
        (Utc::now() - Duration::days(3)).timestamp_millis(),
        d.id
    ))
    .await;
    let needs = stage(s, "识别需求").await;
    let d2 = s
        .move_opportunity(&rep, d.id, &to(needs, d.version))
        .await
        .unwrap();
    assert_eq!((d2.probability, d2.version), (40, d.version + 1));
    // The same move at the old version is a conflict, and changes nothing.
    let plan = stage(s, "方案计划").await;
    assert!(matches!(
        s.move_opportunity(&rep, d.id, &to(plan, d.version)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(s.get_opportunity(&rep, d.id).await.unwrap().stage_id, needs);
    let h = s.stage_history(&rep, d.id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].from_stage_id, h[1].from_stage_id),
        (None, Some(d.stage_id))
    );
    let days = h[1].ms_in_from.unwrap() as f64 / 86_400_000.0;
    assert!(
        (days - 3.0).abs() < 0.01,
        "time in the first stage: {days} days"
    );
    // Lost needs a reason; "other" needs a note too.
    let lost = stage(s, "输单").await;
    match s.move_opportunity(&rep, d.id, &to(lost, d2.version)).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "lost_reason_id"),
        other => panic!("{other:?}"),
    }
    let other_reason = s
        .lost_reasons()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.needs_note)
        .unwrap()
        .id;
    let mut m = to(lost, d2.version);
    m.lost_reason_id = Some(other_reason);
    match s.move_opportunity(&rep, d.id, &m).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "lost_note"),
        other => panic!("{other:?}"),
    }
    // The rep's own 70 % holds while open; won is 100 %, and a reopen goes back to 70 %.
    db.execute(&format!(
        "UPDATE opportunities SET probability = 70 WHERE id = {}",
        d.id
    ))
    .await;
    assert_eq!(s.get_opportunity(&rep, d.id).await.unwrap().probability, 70);
    let won = stage(s, "成交").await;
    let w = s
        .move_opportunity(&rep, d.id, &to(won, d2.version))
        .await
        .unwrap();
    assert_eq!((w.status, w.probability), (OpportunityStatus::Won, 100));
    assert!(w.closed_at.is_some());
    let back = s
        .move_opportunity(&rep, d.id, &to(plan, w.version))
        .await
        .unwrap();
    assert_eq!(
        (back.status, back.probability),
        (OpportunityStatus::Open, 70)
    );
    assert!(back.closed_at.is_none(), "reopening clears the close date");
    m.version = back.version;
    m.lost_note = Some("客户改用自有品牌".into());
    let l = s.move_opportunity(&rep, d.id, &m).await.unwrap();
    assert_eq!(
        (l.status, l.probability, l.lost_reason_id),
        (OpportunityStatus::Lost, 0, Some(other_reason))
    );
    // Every move is on the customer's timeline, newest first.
    let tl = s.timeline(&rep, c.id, None, 20).await.unwrap();
    let moves: Vec<&str> = tl
        .iter()
        .filter(|i| i.kind == TimelineKind::Opportunity)
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(moves, ["lost", "open", "won", "open", "open"]);
    // A stage of another pipeline, and a customer the rep does not see, are refused.
    let mut bad = deal(c.id, "x", 100, "2026-12-01");
    bad.stage_id = Some(99_999);
    match s.create_opportunity(&rep, &bad).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "stage_id"),
        other => panic!("{other:?}"),
    }
    let theirs = person(s, &other, "别人的客户", None).await;
    match s
        .create_opportunity(&rep, &deal(theirs.id, "x", 100, "2026-12-01"))
        .await
    {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "customer_id"),
        other => panic!("{other:?}"),
    }
    // A merge takes the deal and its history to the kept record.
    let dup = person(s, &admin, "周总", None).await;
    let k = s
        .merge_customers(&admin, dup.id, dup.meta.version, c.id, c.meta.version, &[])
        .await
        .unwrap();
    assert_eq!(
        s.get_opportunity(&admin, d.id).await.unwrap().customer_id,
        k.customer.id
    );
    let tl = s.timeline(&admin, dup.id, None, 20).await.unwrap();
    assert_eq!(
        tl.iter()
            .filter(|i| i.kind == TimelineKind::Opportunity)
            .count(),
        5
    );
    // Erasure takes what was written about the customer; amounts and stages stay.
    s.erase_customer(&admin, k.customer.id, "客户要求删除")
        .await
        .unwrap();
    let e = s.get_opportunity(&admin, d.id).await.unwrap();
    assert_eq!(
        (e.stated_needs, e.latent_needs, e.lost_note),
        (None, None, None)
    );
    assert_eq!(e.amount_minor, 1_000_000);
}

async fn the_board_and_the_forecast_add_up_exactly(db: &TestDb) {
    let s = &db.store;
    let boss = user(s, "boss", Role::Manager, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let c = person(s, &rep, "吴总", None).await;
    let a = s
        .create_opportunity(&rep, &deal(c.id, "甲", 333, "2027-01-15"))
        .await
        .unwrap();
    let b = s
        .create_opportunity(&rep, &deal(c.id, "乙", 100_000, "2027-01-20"))
        .await
        .unwrap();
    let _c2 = s
        .create_opportunity(&rep, &deal(c.id, "丙", 50_000, "2027-02-01"))
        .await
        .unwrap();
    let mut no_date = deal(c.id, "丁", 7_000, "2027-01-01");
    no_date.expected_close = None;
    no_date.owner_id = Some(boss.id);
    s.create_opportunity(&boss, &no_date).await.unwrap();
    // 甲 to 方案计划 (60 %): 333 × 0.6 = 199.8 → 200; 乙 with its own 25 %.
    let plan = stage(s, "方案计划").await;
    s.move_opportunity(&rep, a.id, &to(plan, a.version))
        .await
        .unwrap();
    db.execute(&format!(
        "UPDATE opportunities SET probability = 25 WHERE id = {}",
        b.id
    ))
    .await;
    let board = s.board(&boss, 1).await.unwrap();
    let col = |name: &str| board.columns.iter().find(|c| c.stage.name == name).unwrap();
    assert_eq!(
        (
            col("方案计划").count,
            col("方案计划").amount_minor,
            col("方案计划").weighted_minor
        ),
        (1, 333, 200)
    );
    // 潜在客户: 乙 100,000 at 25 % + 丙 50,000 at 10 % + 丁 7,000 at 10 %.
    let first = col("潜在客户");
    assert_eq!((first.count, first.amount_minor), (3, 157_000));
    assert_eq!(first.weighted_minor, 25_000 + 5_000 + 700);
    assert_eq!(first.cards.len(), 3);
    assert_eq!(board.columns.len(), 7);
    // The rep's board holds only the rep's deals (丁 is the boss's own).
    let mine = s.board(&rep, 1).await.unwrap();
    assert_eq!(mine.columns.iter().map(|c| c.count).sum::<i64>(), 3);
    // Forecast over January–February 2027, by month and owner.
    let f = s
        .forecast(
            &boss,
            Some(1),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        )
        .await
        .unwrap();
    let row = |m: &str, o: i64| {
        f.iter()
            .find(|r| r.month == m && r.owner_id == Some(o))
            .unwrap()
    };
    assert_eq!(
        (
            row("2027-01", rep.id).open,
            row("2027-01", rep.id).open_minor,
            row("2027-01", rep.id).weighted_minor
        ),
        (2, 100_333, 25_200)
    );
    assert_eq!(row("2027-02", rep.id).weighted_minor, 5_000);
    assert_eq!(row("", boss.id).weighted_minor, 700);
    // Won counts as won, not as pipeline.
    let won = stage(s, "成交").await;
    let c2 = s.get_opportunity(&rep, _c2.id).await.unwrap();
    s.move_opportunity(&rep, c2.id, &to(won, c2.version))
        .await
        .unwrap();
    let f = s
        .forecast(
            &rep,
            None,
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        )
        .await
        .unwrap();
    let feb = f.iter().find(|r| r.month == "2027-02").unwrap();
    assert_eq!((feb.open, feb.won_minor), (0, 50_000));
    assert!(
        f.iter().all(|r| r.owner_id == Some(rep.id)),
        "a rep sees their own"
    );
    // The funnel from the history: 甲 reached 方案计划, 丙 was won (skipping stages passes
    // them), 乙 and 丁 are still in the first stage.
    let figures = s
        .pipeline_figures(
            &boss,
            1,
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(figures.deals, 4);
    let reached: Vec<i64> = figures.funnel.iter().map(|f| f.reached).collect();
    assert_eq!(reached, [4, 2, 2, 2, 1, 1]);
    assert_eq!(figures.funnel[1].conversion, Some(0.5));
    let all = figures.by_source.iter().find(|x| x.source == "*").unwrap();
    assert_eq!((all.won, all.lost, all.win_rate), (1, 0, Some(1.0)));
    let first_stage = &figures.stage_win_rates[0];
    assert_eq!((first_stage.closed, first_stage.won), (1, 1));
    assert_eq!(figures.stage_times.iter().map(|t| t.moves).sum::<i64>(), 2);
    // Stale: 乙 untouched for 20 days shows; the rest moved today, and won ones never do.
    db.execute(&format!(
        "UPDATE opportunities SET last_activity_at = {} WHERE id = {}",
        (Utc::now() - Duration::days(20)).timestamp_millis(),
        b.id
    ))
    .await;
    let stale = s
        .stale_opportunities(&rep, true, Utc::now() - Duration::days(14), 10)
        .await
        .unwrap();
    assert_eq!(stale.iter().map(|c| c.id).collect::<Vec<_>>(), [b.id]);
    let boss_mine = s
        .stale_opportunities(&boss, true, Utc::now() - Duration::days(14), 10)
        .await
        .unwrap();
    assert!(boss_mine.is_empty());
}

/// The rollup's sums against the same sums computed from the deals themselves: equal after
/// any mix of writes.
async fn assert_rollup_matches(db: &TestDb) {
    let from_rollup = db
        .strings(
            "SELECT pipeline_id || '/' || stage_id || '/' || owner_key || '/' || close_month \
             || '=' || deals || '/' || amount_minor || '/' || weighted_minor \
             FROM opportunity_rollup WHERE deals <> 0 ORDER BY 1",
        )
        .await;
    let from_deals = db
        .strings(
            "SELECT o.pipeline_id || '/' || o.stage_id || '/' || COALESCE(o.owner_id, 0) || '/' \
             || COALESCE(SUBSTR(o.expected_close, 1, 7), '') || '=' || COUNT(*) || '/' \
             || SUM(o.amount_minor) || '/' || SUM((o.amount_minor * (CASE WHEN s.kind = 'won' \
             THEN 100 WHEN s.kind = 'lost' THEN 0 ELSE COALESCE(o.probability, s.probability) \
             END) + 50) / 100) FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id \
             WHERE o.deleted_at IS NULL \
             GROUP BY o.pipeline_id, o.stage_id, COALESCE(o.owner_id, 0), \
             COALESCE(SUBSTR(o.expected_close, 1, 7), '') ORDER BY 1",
        )
        .await;
    assert_eq!(from_rollup, from_deals);
    // The funnel's cohorts and the time in stage likewise.
    let cohorts = db
        .strings(
            "SELECT pipeline_id || '/' || owner_key || '/' || created_day || '/' || source || '/' \
             || furthest_position || '/' || status || '=' || deals || '/' || won_ms \
             FROM opportunity_cohorts WHERE deals <> 0 ORDER BY 1",
        )
        .await;
    let from_deals = db
        .strings(
            "SELECT pipeline_id || '/' || COALESCE(owner_id, 0) || '/' || (created_at / 86400000) \
             || '/' || COALESCE(source, '') || '/' || furthest_position || '/' || status || '=' \
             || COUNT(*) || '/' || SUM(CASE WHEN status = 'won' THEN closed_at - created_at \
             ELSE 0 END) FROM opportunities WHERE deleted_at IS NULL \
             GROUP BY pipeline_id, COALESCE(owner_id, 0), created_at / 86400000, \
             COALESCE(source, ''), furthest_position, status ORDER BY 1",
        )
        .await;
    assert_eq!(cohorts, from_deals);
    let moves = db
        .scalar("SELECT CAST(COALESCE(SUM(moves), 0) AS BIGINT) FROM opportunity_stage_times")
        .await;
    let changes = db
        .scalar("SELECT COUNT(*) FROM opportunity_stage_changes WHERE from_stage_id IS NOT NULL")
        .await;
    assert_eq!(moves, changes);
}

async fn an_edit_is_versioned_and_the_rollup_follows_every_write(db: &TestDb) {
    let s = &db.store;
    let boss = user(s, "boss", Role::Manager, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    let c = person(s, &rep, "钱总", None).await;
    let a = s
        .create_opportunity(&rep, &deal(c.id, "茶礼", 120_000, "2027-03-10"))
        .await
        .unwrap();
    let b = s
        .create_opportunity(&rep, &deal(c.id, "月饼", 80_000, "2027-04-02"))
        .await
        .unwrap();
    assert_rollup_matches(db).await;
    // An edit at the version read: amount, close month, own probability, owner.
    let mut e = deal(c.id, "茶礼（加量）", 150_000, "2027-05-20");
    e.probability = Some(35);
    e.owner_id = Some(other.id);
    e.version = Some(a.version);
    let edited = s.update_opportunity(&boss, a.id, &e).await.unwrap();
    assert_eq!(edited.version, a.version + 1);
    assert_eq!(
        (edited.amount_minor, edited.probability, edited.owner_id),
        (150_000, 35, Some(other.id))
    );
    assert_eq!(edited.weighted_minor, 52_500);
    assert_eq!(edited.expected_close, NaiveDate::from_ymd_opt(2027, 5, 20));
    assert_rollup_matches(db).await;
    // The same stale version again is a conflict and changes nothing.
    let err = s.update_opportunity(&boss, a.id, &e).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    // Its stage, customer and pipeline do not change by an edit.
    let mut moved = deal(c.id, "月饼", 80_000, "2027-04-02");
    moved.version = Some(b.version);
    moved.stage_id = Some(stage(s, "成交").await);
    let err = s.update_opportunity(&rep, b.id, &moved).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(v) if v.0[0].code == "use_move"),
        "{err:?}"
    );
    // A rep cannot edit a deal they no longer see (it is the other rep's now).
    let mut mine = e.clone();
    mine.version = Some(edited.version);
    assert!(matches!(
        s.update_opportunity(&rep, a.id, &mine).await.unwrap_err(),
        StoreError::NotFound
    ));
    // The forecast follows: May holds the other rep's 52,500 weighted, March nothing.
    let f = s
        .forecast(
            &boss,
            Some(1),
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(),
        )
        .await
        .unwrap();
    assert!(f.iter().all(|r| r.month != "2027-03"), "{f:?}");
    let may = f.iter().find(|r| r.month == "2027-05").unwrap();
    assert_eq!((may.owner_id, may.weighted_minor), (Some(other.id), 52_500));
    // A deal loaded with its history (created 100 days ago, moved 10 days later): its time in
    // stage and its cohort day are those of then.
    let then = Utc::now() - Duration::days(100);
    let old = s
        .create_opportunity_at(&rep, &deal(c.id, "旧单", 30_000, "2027-03-01"), then)
        .await
        .unwrap();
    let moved = s
        .move_opportunity_at(
            &rep,
            old.id,
            &to(stage(s, "识别需求").await, old.version),
            then + Duration::days(10),
        )
        .await
        .unwrap();
    assert_eq!(moved.created_at.timestamp_millis(), then.timestamp_millis());
    let history = s.stage_history(&rep, old.id).await.unwrap();
    assert_eq!(history[1].ms_in_from, Some(10 * 86_400_000));
    assert_rollup_matches(db).await;
    // Moves, a loss, a stage's new probability and a bulk insert keep it exact too.
    let lost = stage(s, "输单").await;
    let mut m = to(lost, b.version);
    m.lost_reason_id = Some(1);
    s.move_opportunity(&rep, b.id, &m).await.unwrap();
    db.execute("UPDATE pipeline_stages SET probability = 15 WHERE name = '潜在客户'")
        .await;
    db.execute(&format!(
        "INSERT INTO opportunities (customer_id, owner_id, pipeline_id, stage_id, status, name, \
         amount_minor, currency, expected_close, competitors, stage_entered_at, \
         last_activity_at, version, created_at, updated_at) \
         SELECT {c}, {o}, 1, s.id, 'open', 'bulk', 1001, 'CNY', '2027-07-01', '[]', 0, 0, 1, 0, 0 \
         FROM pipeline_stages s WHERE s.kind = 'open'",
        c = c.id,
        o = rep.id
    ))
    .await;
    db.execute(
        "UPDATE opportunities SET deleted_at = 1 WHERE name = 'bulk' AND stage_id = \
                (SELECT MIN(id) FROM pipeline_stages)",
    )
    .await;
    assert_rollup_matches(db).await;
    let board = s.board(&boss, 1).await.unwrap();
    let first = board
        .columns
        .iter()
        .find(|c| c.stage.name == "潜在客户")
        .unwrap();
    // 茶礼 at its own 35 % stays; the deleted bulk deal is gone.
    assert_eq!((first.count, first.weighted_minor), (1, 52_500));
}

async fn a_pipeline_is_edited_around_its_deals_and_the_list_filters(db: &TestDb) {
    use guanxi_domain::pipeline::{PipelineInput, StageKind};
    use guanxi_store::pipeline::DealFilter;
    let s = &db.store;
    let boss = user(s, "boss", Role::Manager, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let c = person(s, &rep, "孙总", None).await;
    let a = s
        .create_opportunity(&rep, &deal(c.id, "甲", 100_000, "2027-01-15"))
        .await
        .unwrap();
    let mut b_in = deal(c.id, "乙", 50_000, "2027-02-15");
    b_in.source = Some("展会".into());
    let b = s.create_opportunity(&rep, &b_in).await.unwrap();
    let p = s.get_pipeline(1).await.unwrap();
    let as_input = |p: &guanxi_store::pipeline::Pipeline| PipelineInput {
        name: p.name.clone(),
        team_id: None,
        stages: p
            .stages
            .iter()
            .filter(|x| !x.retired)
            .map(|x| guanxi_domain::pipeline::StageInput {
                id: Some(x.id),
                name: x.name.clone(),
                name_en: x.name_en.clone(),
                kind: x.kind(),
                probability: x.probability,
            })
            .collect(),
        active: true,
        version: Some(p.version),
    };
    // The first stage holds both deals: it cannot retire or become another kind.
    let mut retire = as_input(&p);
    retire.stages.remove(0);
    let err = s
        .update_pipeline(&boss, 1, &retire.validate().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(v) if v.0[0].code == "stage_in_use"),
        "{err:?}"
    );
    // A new probability for it recounts the board; an empty stage retires; a new one is added.
    let mut edit = as_input(&p);
    edit.stages[0].probability = 30;
    edit.stages.remove(1);
    edit.stages.insert(
        1,
        guanxi_domain::pipeline::StageInput {
            id: None,
            name: "样品试用".into(),
            name_en: Some("Trial".into()),
            kind: StageKind::Open,
            probability: 35,
        },
    );
    let edited = s
        .update_pipeline(&boss, 1, &edit.validate().unwrap())
        .await
        .unwrap();
    assert_eq!(edited.version, p.version + 1);
    let live: Vec<&str> = edited
        .stages
        .iter()
        .filter(|x| !x.retired)
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(live[1], "样品试用");
    assert!(edited
        .stages
        .iter()
        .any(|x| x.retired && x.name == "目标客户"));
    assert_rollup_matches(db).await;
    let board = s.board(&boss, 1).await.unwrap();
    assert_eq!(board.columns[0].weighted_minor, 30_000 + 15_000);
    // The stale version is a conflict.
    assert!(matches!(
        s.update_pipeline(&boss, 1, &edit.validate().unwrap())
            .await
            .unwrap_err(),
        StoreError::Conflict { .. }
    ));
    // The deals list: by source, by close dates, by status, and a rep's own only.
    let boss = &boss;
    let by = |f: DealFilter| async move { s.list_opportunities(boss, &f).await.unwrap() };
    let ids =
        |p: guanxi_store::pipeline::DealPage| p.deals.iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(by(DealFilter {
            source: Some("展会".into()),
            ..DealFilter::default()
        })
        .await),
        [b.id]
    );
    assert_eq!(
        ids(by(DealFilter {
            close_from: NaiveDate::from_ymd_opt(2027, 1, 1),
            close_to: NaiveDate::from_ymd_opt(2027, 2, 1),
            ..DealFilter::default()
        })
        .await),
        [a.id]
    );
    assert_eq!(
        ids(by(DealFilter {
            status: Some(OpportunityStatus::Open),
            ..DealFilter::default()
        })
        .await),
        [b.id, a.id],
        "most recently changed first"
    );
    let other = user(s, "other", Role::Sales, None).await;
    assert!(s
        .list_opportunities(&other, &DealFilter::default())
        .await
        .unwrap()
        .deals
        .is_empty());
}
