//! Store tests: the service desk — ticket life cycle and complaint procedure, the SLA clock on
//! a business calendar (Golden Week, the make-up Saturday, pauses while pending-customer),
//! routing (capacity, offline agents, skills, take next) and escalation. Both backends.

use super::*;
use guanxi_domain::records::TimelineKind;
use guanxi_domain::ticket::routing::{AgentStatus, RoutingMode};
use guanxi_domain::ticket::{
    ComplaintStep, MessageKind, NewTicket, Priority, RemedyKind, ResolutionCode, TicketKind,
    TicketPatch, TicketStatus,
};
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_store::ticket::{TicketFilter, TicketState, TicketView};

on_both_backends!(
    a_complaint_follows_the_procedure_and_the_life_cycle,
    a_late_reply_opens_a_linked_ticket,
    the_clock_counts_working_time_around_golden_week_and_pauses,
    breaches_escalate_a_complaint_to_the_lead_then_the_manager,
    routing_skips_offline_full_and_unskilled_agents,
    take_next_gives_the_oldest_most_urgent_ticket_once,
    agents_see_their_queues_and_reps_their_customers,
    a_merge_moves_tickets_and_their_timeline,
    metrics_count_attainment_fcr_and_the_complaint_rate,
    a_call_pops_once_and_its_end_lands_on_the_timeline,
    routing_hands_out_a_bounded_batch_and_the_sweep_the_rest,
    an_agents_figures_from_the_rollup_match_the_live_count,
);

async fn routing_hands_out_a_bounded_batch_and_the_sweep_the_rest(db: &TestDb) {
    use guanxi_store::ticket::queue::ROUTE_BATCH;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let q = s
        .create_queue(&admin, "积压", None, &[], RoutingMode::RoundRobin)
        .await
        .unwrap();
    let agent = user(s, "agent", Role::Service, None).await;
    s.add_queue_member(&admin, q, agent.id).await.unwrap();
    s.set_agent_state(&admin, agent.id, AgentStatus::Offline, Some(100), None)
        .await
        .unwrap();
    let c = person(s, &admin, "积压客户", None).await;
    let backlog = ROUTE_BATCH + 5;
    for i in 0..backlog {
        let mut t = complaint(c.id, &format!("积压 {i}"));
        t.queue_id = Some(q);
        s.create_ticket(&admin, t.validate().unwrap())
            .await
            .unwrap();
    }
    let waiting =
        format!("SELECT COUNT(*) FROM tickets WHERE queue_id = {q} AND assignee_id IS NULL");
    assert_eq!(db.scalar(&waiting).await, backlog);
    // Coming online takes one bounded batch in the request; the worker's pass takes the rest.
    s.set_agent_state(&agent, agent.id, AgentStatus::Available, None, None)
        .await
        .unwrap();
    assert_eq!(db.scalar(&waiting).await, backlog - ROUTE_BATCH);
    assert_eq!(
        s.route_all_queues().await.unwrap() as i64,
        backlog - ROUTE_BATCH
    );
    assert_eq!(db.scalar(&waiting).await, 0);
}

async fn a_call_pops_once_and_its_end_lands_on_the_timeline(db: &TestDb) {
    use guanxi_domain::ticket::NewCall;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let agent = user(s, "agent", Role::Service, None).await;
    let c = person(s, &admin, "来电人", Some("13912340000")).await;
    let new = NewCall {
        caller: "13912340000".into(),
        agent_id: Some(agent.id),
        external_id: Some("pbx-1".into()),
        direction: None,
    }
    .validate()
    .unwrap();
    let first = s
        .open_call(&admin, &new, agent.id, Some(c.id))
        .await
        .unwrap();
    let again = s
        .open_call(&admin, &new, agent.id, Some(c.id))
        .await
        .unwrap();
    assert_eq!(
        first.id, again.id,
        "the phone system's retry opens the call once"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM calls").await, 1);
    let pop = s.current_call(agent.id).await.unwrap().unwrap();
    assert_eq!(
        (pop.id, pop.customer_name.as_deref()),
        (first.id, Some("来电人"))
    );
    assert!(s.current_call(admin.id).await.unwrap().is_none());
    s.answer_call(&agent, first.id).await.unwrap();
    let ended = s
        .end_call(&agent, first.id, None, None, "Phone call")
        .await
        .unwrap();
    assert!(ended.ended_at.is_some() && ended.duration_s.is_some());
    assert!(
        s.current_call(agent.id).await.unwrap().is_none(),
        "an ended call no longer pops"
    );
    // Ending twice changes nothing; the call is one phone interaction on the timeline.
    s.end_call(&agent, first.id, None, None, "Phone call")
        .await
        .unwrap();
    let tl = s.timeline(&admin, c.id, None, 20).await.unwrap();
    let calls: Vec<_> = tl
        .iter()
        .filter(|i| i.kind == TimelineKind::Interaction)
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].code, "phone");
}

async fn metrics_count_attainment_fcr_and_the_complaint_rate(db: &TestDb) {
    use guanxi_store::ticket::history::HistoricTicket;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let agent = user(s, "agent", Role::Service, None).await;
    let c = person(s, &admin, "钱多", None).await;
    // Four orders in March 2026.
    for d in 2..6 {
        s.create_order(
            &admin,
            ten_yuan_order(c.id, ts(&format!("2026-03-0{d}T10:00:00+08:00"))),
        )
        .await
        .unwrap();
    }
    let base =
        |subject: &str, opened: &str, reply_min: i64, resolved_h: Option<i64>| HistoricTicket {
            customer_id: Some(c.id),
            kind: TicketKind::Complaint,
            category_id: Some(PRODUCT_QUALITY),
            priority: Priority::Normal,
            channel: InteractionChannel::Phone,
            subject: subject.into(),
            body: "坏了".into(),
            queue_id: 1,
            assignee_id: Some(agent.id),
            severe: false,
            opened_at: ts(opened),
            first_reply: Some((
                ts(opened) + chrono::Duration::minutes(reply_min),
                "好的".into(),
            )),
            pauses: Vec::new(),
            remedy: Some(RemedyKind::Refund),
            resolved: resolved_h.map(|h| {
                (
                    ts(opened) + chrono::Duration::hours(h),
                    ResolutionCode::Refunded,
                )
            }),
            closed_at: None,
        };
    // Monday 2 March, 9:00: answered in 30 min (met), resolved in 2 h (met).
    // Tuesday 3 March, 9:00: answered in 3 h (first response breached), resolved in 4 h.
    let tickets = [
        base("一", "2026-03-02T09:00:00+08:00", 30, Some(2)),
        base("二", "2026-03-03T09:00:00+08:00", 180, Some(4)),
    ];
    let ids = s
        .load_historic_tickets(&admin, &tickets, Utc::now())
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    // The first one is reopened once: it no longer counts as resolved at first contact.
    db.execute(&format!(
        "UPDATE tickets SET reopen_count = 1 WHERE id = {}",
        ids[0]
    ))
    .await;
    // Both name the product of the four orders; the first is the east team's.
    let east = s.create_team(&admin, "east").await.unwrap().id;
    db.execute("UPDATE tickets SET product_sku = 'T'").await;
    db.execute(&format!(
        "UPDATE tickets SET team_id = {east} WHERE id = {}",
        ids[0]
    ))
    .await;
    // An outbound call in March, and one in May.
    for at in ["2026-03-04T15:00:00+08:00", "2026-05-04T15:00:00+08:00"] {
        db.execute(&format!(
            "INSERT INTO calls (caller, direction, agent_id, customer_id, started_at) \
             VALUES ('13800000000', 'outbound', {}, {}, {})",
            agent.id,
            c.id,
            ms(at)
        ))
        .await;
    }
    let m = s
        .service_metrics(
            &admin,
            ts("2026-03-01T00:00:00+08:00"),
            ts("2026-04-01T00:00:00+08:00"),
            8,
        )
        .await
        .unwrap();
    assert_eq!((m.opened, m.resolved, m.complaints, m.orders), (2, 2, 2, 4));
    assert_eq!(m.first_response_attainment, Some(0.5));
    assert_eq!(m.resolution_attainment, Some(1.0));
    assert_eq!(m.first_contact_resolution, Some(0.5));
    assert_eq!(m.reopen_rate, Some(0.5));
    assert_eq!(m.complaints_per_thousand_orders, Some(500.0));
    assert_eq!(m.complaint_rate[0].category_id, Some(PRODUCT_QUALITY));
    assert!((m.first_response_minutes.unwrap() - 105.0).abs() < 1e-9);
    assert_eq!(m.agents.len(), 1);
    assert_eq!(m.agents[0].resolved, 2);
    assert_eq!(m.by_channel[0].key, "phone");
    // Per product: 2 complaints over the 4 orders that contained it.
    assert_eq!(m.complaint_rate_by_product.len(), 1);
    let p = &m.complaint_rate_by_product[0];
    assert_eq!(
        (
            p.sku.as_str(),
            p.complaints,
            p.orders,
            p.per_thousand_orders
        ),
        ("T", 2, 4, Some(500.0))
    );
    // Per team: the east team's ticket met its resolution but was reopened; the other was
    // answered late.
    let team = |id: Option<i64>| m.teams.iter().find(|t| t.team_id == id).unwrap();
    assert_eq!(
        (
            team(Some(east)).opened,
            team(Some(east)).first_response_attainment
        ),
        (1, Some(1.0))
    );
    assert_eq!(team(Some(east)).first_contact_resolution, Some(0.0));
    assert_eq!(
        (team(None).opened, team(None).first_response_attainment),
        (1, Some(0.0))
    );
    // Out: two replies on phone tickets and one outbound call; an agent counts their own.
    assert_eq!(m.outbound_by_channel[0].key, "phone");
    assert_eq!(m.outbound_by_channel[0].n, 3);
    let own = s
        .service_metrics(
            &agent,
            ts("2026-03-01T00:00:00+08:00"),
            ts("2026-04-01T00:00:00+08:00"),
            8,
        )
        .await
        .unwrap();
    assert_eq!(own.outbound_by_channel[0].n, 3);
    // The daily rollup counts March day by day; the same question then reads it and gives the
    // same figures, saying when the days were counted.
    let now = ts("2026-12-06T12:00:00+08:00");
    while s.roll_up_service_days(now, 8).await.unwrap().1 {}
    let rolled = s
        .service_metrics(
            &admin,
            ts("2026-03-01T00:00:00+08:00"),
            ts("2026-04-01T00:00:00+08:00"),
            8,
        )
        .await
        .unwrap();
    assert!(rolled.counted_at.is_some());
    assert!(
        (rolled.first_response_minutes.unwrap() - m.first_response_minutes.unwrap()).abs() < 1e-9
    );
    let same = |mut x: guanxi_store::ticket::metrics::ServiceMetrics| {
        x.counted_at = None;
        x.first_response_minutes = None;
        x.handle_minutes = None;
        x.wait_minutes = None;
        x.agents
            .iter_mut()
            .for_each(|a| a.first_response_minutes = None);
        x
    };
    assert_eq!(same(rolled), same(m.clone()));
    assert!(
        db.scalar("SELECT COUNT(*) FROM ticket_days WHERE day = '2026-03-02'")
            .await
            == 1,
        "the Monday is a row"
    );
    // Another period sees none of it.
    let empty = s
        .service_metrics(
            &admin,
            ts("2026-05-01T00:00:00+08:00"),
            ts("2026-06-01T00:00:00+08:00"),
            8,
        )
        .await
        .unwrap();
    assert_eq!((empty.opened, empty.first_response_attainment), (0, None));
    assert_eq!(empty.outbound_by_channel[0].n, 1, "May's call");
}

async fn a_merge_moves_tickets_and_their_timeline(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let keep = person(s, &admin, "王芳", None).await;
    let dup = person(s, &admin, "王芳", None).await;
    let t = s
        .create_ticket(&admin, complaint(dup.id, "漏发赠品").validate().unwrap())
        .await
        .unwrap();
    let preview = s.merge_preview(&admin, keep.id, dup.id).await.unwrap();
    assert_eq!(preview.moves.tickets, 1);
    s.merge_customers(
        &admin,
        keep.id,
        keep.meta.version,
        dup.id,
        dup.meta.version,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        s.ticket(&admin, t.id).await.unwrap().customer_id,
        Some(keep.id)
    );
    let tl = s.timeline(&admin, keep.id, None, 50).await.unwrap();
    assert!(tl
        .iter()
        .any(|i| i.kind == TimelineKind::Ticket && i.link_id == Some(t.id)));
    // Later events land on the kept customer too.
    s.add_ticket_message(&admin, t.id, MessageKind::Reply, "已补发", &[])
        .await
        .unwrap();
    let tl = s.timeline(&admin, keep.id, None, 50).await.unwrap();
    assert!(tl.iter().any(|i| i.code == "replied"));
}

/// Complaint category "product quality" (seeded by the migration).
const PRODUCT_QUALITY: i64 = 2;

fn complaint(customer: i64, subject: &str) -> NewTicket {
    NewTicket {
        customer_id: Some(customer),
        contact_name: None,
        contact_address: None,
        kind: TicketKind::Complaint,
        category_id: Some(PRODUCT_QUALITY),
        priority: None,
        channel: InteractionChannel::Phone,
        subject: subject.into(),
        body: Some("杯子收到时已经裂了".into()),
        queue_id: None,
        order_id: None,
        product_sku: None,
        severe: false,
        custom: Default::default(),
    }
}

fn patch(version: i64) -> TicketPatch {
    TicketPatch {
        version,
        ..Default::default()
    }
}

fn codes(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Invalid(v) => v.0.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn ts(s: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&Utc)
}

fn ms(s: &str) -> i64 {
    ts(s).timestamp_millis()
}

async fn a_complaint_follows_the_procedure_and_the_life_cycle(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "王伟", None).await;
    let t = s
        .create_ticket(&admin, complaint(c.id, "杯子有裂纹").validate().unwrap())
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::New);
    assert_eq!(t.complaint_step, Some(ComplaintStep::Received));
    assert!(t.first_response.due_at.is_some() && t.resolution.due_at.is_some());
    assert_eq!(t.sla_policy_id, Some(2), "the complaint policy");

    // Resolving needs a resolution code and, for a complaint, a remedy.
    let mut p = patch(t.meta.version);
    p.status = Some(TicketStatus::Resolved);
    let e = codes(s.update_ticket(&admin, t.id, p.clone()).await.unwrap_err());
    assert!(
        e.contains(&("resolution_code".into(), "required".into())),
        "{e:?}"
    );
    assert!(
        e.contains(&("complaint_step".into(), "remedy_required".into())),
        "{e:?}"
    );
    // Skipping a step is refused; nothing changed.
    let mut skip = patch(t.meta.version);
    skip.complaint_step = Some(ComplaintStep::RemedyProposed);
    let e = codes(s.update_ticket(&admin, t.id, skip).await.unwrap_err());
    assert_eq!(
        e[0],
        ("complaint_step".into(), "transition_not_allowed".into())
    );
    assert_eq!(
        s.ticket(&admin, t.id).await.unwrap().meta.version,
        t.meta.version
    );

    // The agent answers: the first response is met and the ticket opens.
    let t = s
        .add_ticket_message(&admin, t.id, MessageKind::Reply, "您好，我们马上处理", &[])
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::Open);
    assert!(t.first_response.met_at.is_some());
    assert_eq!(
        t.assignee_id,
        Some(admin.id),
        "a reply takes an unassigned ticket"
    );

    let mut v = t.meta.version;
    for step in [ComplaintStep::Acknowledged, ComplaintStep::Investigating] {
        let mut p = patch(v);
        p.complaint_step = Some(step);
        v = s.update_ticket(&admin, t.id, p).await.unwrap().meta.version;
    }
    let mut p = patch(v);
    p.complaint_step = Some(ComplaintStep::RemedyProposed);
    let e = codes(s.update_ticket(&admin, t.id, p.clone()).await.unwrap_err());
    assert_eq!(e, [("remedy_kind".into(), "required".into())]);
    p.remedy_kind = Some(RemedyKind::Replacement);
    p.remedy_detail = Some("换新一只".into());
    v = s.update_ticket(&admin, t.id, p).await.unwrap().meta.version;
    let mut p = patch(v);
    p.complaint_step = Some(ComplaintStep::Confirmed);
    p.status = Some(TicketStatus::Resolved);
    p.resolution_code = Some(ResolutionCode::Replaced);
    let t = s.update_ticket(&admin, t.id, p).await.unwrap();
    assert_eq!(t.status, TicketStatus::Resolved);
    assert!(t.resolution.met_at.is_some());
    assert_eq!(t.remedy_kind, Some(RemedyKind::Replacement));

    // A stale version is a conflict.
    let e = s.update_ticket(&admin, t.id, patch(v)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");

    // Closing archives the complaint; the customer writes back within the window: reopened.
    let mut p = patch(t.meta.version);
    p.status = Some(TicketStatus::Closed);
    let t = s.update_ticket(&admin, t.id, p).await.unwrap();
    assert_eq!(t.complaint_step, Some(ComplaintStep::Archived));
    let t = s
        .add_ticket_message(&admin, t.id, MessageKind::Customer, "新杯子还是漏水", &[])
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.reopen_count, 1);
    assert!(t.resolution.met_at.is_none() && t.closed_at.is_none());

    // Every step is on the customer's timeline and opens the ticket.
    let tl = s.timeline(&admin, c.id, None, 100).await.unwrap();
    let steps: Vec<&str> = tl
        .iter()
        .filter(|i| i.kind == TimelineKind::Ticket)
        .map(|i| i.code.as_str())
        .collect();
    for action in [
        "opened",
        "replied",
        "complaint_step",
        "remedy",
        "status",
        "reopened",
        "customer_message",
    ] {
        assert!(steps.contains(&action), "{action} missing from {steps:?}");
    }
    assert!(tl
        .iter()
        .filter(|i| i.kind == TimelineKind::Ticket)
        .all(|i| i.link_id == Some(t.id)));
    let detail = s.ticket_detail(&admin, t.id).await.unwrap();
    assert_eq!(detail.messages.len(), 3);
    assert_eq!(detail.messages[0].kind, MessageKind::Customer);
}

async fn a_late_reply_opens_a_linked_ticket(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "李娜", None).await;
    let mut t = complaint(c.id, "发票开错");
    t.kind = TicketKind::Enquiry;
    t.category_id = None;
    let t = s
        .create_ticket(&admin, t.validate().unwrap())
        .await
        .unwrap();
    let mut p = patch(t.meta.version);
    p.status = Some(TicketStatus::Resolved);
    p.resolution_code = Some(ResolutionCode::Answered);
    let t = s.update_ticket(&admin, t.id, p).await.unwrap();
    let mut p = patch(t.meta.version);
    p.status = Some(TicketStatus::Closed);
    let t = s.update_ticket(&admin, t.id, p).await.unwrap();
    // Closed nine days ago: past the seven-day window.
    let nine_days_ago = (Utc::now() - chrono::Duration::days(9)).timestamp_millis();
    db.execute(&format!(
        "UPDATE tickets SET closed_at = {nine_days_ago} WHERE id = {}",
        t.id
    ))
    .await;
    let mut reopen = patch(t.meta.version);
    reopen.status = Some(TicketStatus::Open);
    let e = codes(s.update_ticket(&admin, t.id, reopen).await.unwrap_err());
    assert_eq!(e, [("status".into(), "reopen_window_passed".into())]);
    let follow = s
        .add_ticket_message(&admin, t.id, MessageKind::Customer, "还有一张也错了", &[])
        .await
        .unwrap();
    assert_ne!(follow.id, t.id);
    assert_eq!(follow.parent_id, Some(t.id));
    assert_eq!(follow.status, TicketStatus::New);
    let old = s.ticket(&admin, t.id).await.unwrap();
    assert_eq!(old.status, TicketStatus::Closed);
    assert_eq!(old.reopen_count, 0);
    let detail = s.ticket_detail(&admin, follow.id).await.unwrap();
    assert_eq!(detail.messages.len(), 1);
}

async fn the_clock_counts_working_time_around_golden_week_and_pauses(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "张敏", None).await;
    let t = s
        .create_ticket(&admin, complaint(c.id, "配送延误").validate().unwrap())
        .await
        .unwrap();
    // Opened Tuesday 30 September 2025, 17:00 Beijing, the eve of Golden Week.
    db.execute(&format!(
        "UPDATE tickets SET created_at = {} WHERE id = {}",
        ms("2025-09-30T17:00:00+08:00"),
        t.id
    ))
    .await;
    let before = ts("2025-09-30T17:10:00+08:00");
    s.refresh_ticket_sla(t.id, before).await.unwrap();
    let t = s.ticket(&admin, t.id).await.unwrap();
    // Complaint policy: first response 60 working minutes, resolution 960 (two days).
    assert_eq!(
        t.first_response.due_at,
        Some(ts("2025-09-30T18:00:00+08:00"))
    );
    // 1 h on the 30th, 1–8 October off, 8 h on Thursday 9th, 7 h on Friday 10th.
    assert_eq!(t.resolution.due_at, Some(ts("2025-10-10T17:00:00+08:00")));
    assert!(t.resolution.breached_at.is_none());

    // Waiting for the customer from 17:30 on the 30th to 10:00 on the 9th stopped the clock
    // for 1.5 working hours: the due time moves onto the make-up Saturday, 11 October.
    db.execute(&format!(
        "INSERT INTO ticket_pauses (ticket_id, started_at, ended_at) VALUES ({}, {}, {})",
        t.id,
        ms("2025-09-30T17:30:00+08:00"),
        ms("2025-10-09T10:00:00+08:00")
    ))
    .await;
    s.refresh_ticket_sla(t.id, ts("2025-10-09T10:00:00+08:00"))
        .await
        .unwrap();
    let t = s.ticket(&admin, t.id).await.unwrap();
    assert_eq!(t.resolution.due_at, Some(ts("2025-10-11T09:30:00+08:00")));

    // While the pause is open the resolution clock stands still and shows no due time.
    db.execute(&format!(
        "INSERT INTO ticket_pauses (ticket_id, started_at) VALUES ({}, {})",
        t.id,
        ms("2025-10-10T09:00:00+08:00")
    ))
    .await;
    s.refresh_ticket_sla(t.id, ts("2025-10-10T12:00:00+08:00"))
        .await
        .unwrap();
    let t = s.ticket(&admin, t.id).await.unwrap();
    assert!(t.paused);
    assert_eq!(t.resolution.due_at, None);

    // The pending-customer status keeps that history itself: a real round trip.
    let fresh = s
        .create_ticket(&admin, complaint(c.id, "包装破损").validate().unwrap())
        .await
        .unwrap();
    let mut p = patch(fresh.meta.version);
    p.status = Some(TicketStatus::PendingCustomer);
    let f = s.update_ticket(&admin, fresh.id, p).await.unwrap();
    assert!(f.paused, "pending-customer pauses the clock");
    let f = s
        .add_ticket_message(&admin, fresh.id, MessageKind::Customer, "照片发您了", &[])
        .await
        .unwrap();
    assert_eq!(f.status, TicketStatus::Open);
    assert!(!f.paused);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM ticket_pauses WHERE ticket_id = {} AND ended_at IS NOT NULL",
            fresh.id
        ))
        .await,
        1
    );
}

async fn breaches_escalate_a_complaint_to_the_lead_then_the_manager(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let team = s.create_team(&admin, "客服一组").await.unwrap();
    let lead = user(s, "lead", Role::Service, Some(team.id)).await;
    let boss = user(s, "boss", Role::Manager, Some(team.id)).await;
    s.set_team_lead(&admin, team.id, Some(lead.id))
        .await
        .unwrap();
    let q = s
        .create_queue(&admin, "投诉组", Some(team.id), &[], RoutingMode::Manual)
        .await
        .unwrap();
    let c = person(s, &admin, "赵磊", None).await;
    let mut new = complaint(c.id, "服务态度差");
    new.queue_id = Some(q);
    let t = s
        .create_ticket(&admin, new.validate().unwrap())
        .await
        .unwrap();
    assert_eq!(t.team_id, Some(team.id));
    assert_eq!(t.escalation_level, 0);
    db.execute(&format!(
        "UPDATE tickets SET created_at = {} WHERE id = {}",
        ms("2026-03-02T09:00:00+08:00"),
        t.id
    ))
    .await;
    // 10:30: the first response (due 10:00) is breached → the team lead.
    s.refresh_ticket_sla(t.id, ts("2026-03-02T10:30:00+08:00"))
        .await
        .unwrap();
    let t1 = s.ticket(&admin, t.id).await.unwrap();
    assert_eq!(
        t1.first_response.breached_at,
        Some(ts("2026-03-02T10:00:00+08:00"))
    );
    assert_eq!((t1.escalation_level, t1.escalated_to), (1, Some(lead.id)));
    // The same moment again changes nothing: each step fires once.
    s.refresh_ticket_sla(t.id, ts("2026-03-02T10:31:00+08:00"))
        .await
        .unwrap();
    assert_eq!(s.ticket(&admin, t.id).await.unwrap().escalation_level, 1);
    // The sweep finds the resolution breach two days later → the manager.
    assert!(s.sweep_sla(Utc::now()).await.unwrap() >= 1);
    let t2 = s.ticket(&admin, t.id).await.unwrap();
    assert!(t2.resolution.breached_at.is_some());
    assert_eq!((t2.escalation_level, t2.escalated_to), (2, Some(boss.id)));
    // Both got a task on the customer; the history shows the breaches and the ladder.
    let tasks = db
        .strings(&format!(
            "SELECT title FROM tasks WHERE customer_id = {} ORDER BY id",
            c.id
        ))
        .await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks[0].starts_with("Escalated complaint"));
    let d = s.ticket_detail(&admin, t.id).await.unwrap();
    let actions: Vec<&str> = d.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "breached").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "escalated").count(),
        2,
        "{actions:?}"
    );

    // A severe complaint goes to the lead at once.
    let mut severe = complaint(c.id, "产品伤人");
    severe.queue_id = Some(q);
    severe.severe = true;
    let t3 = s
        .create_ticket(&admin, severe.validate().unwrap())
        .await
        .unwrap();
    assert_eq!((t3.escalation_level, t3.escalated_to), (1, Some(lead.id)));
}

async fn routing_skips_offline_full_and_unskilled_agents(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let q = s
        .create_queue(
            &admin,
            "VIP",
            None,
            &["vip".to_string()],
            RoutingMode::RoundRobin,
        )
        .await
        .unwrap();
    let a1 = user(s, "a1", Role::Service, None).await;
    let a2 = user(s, "a2", Role::Service, None).await;
    let a3 = user(s, "a3", Role::Service, None).await;
    for a in [&a1, &a2, &a3] {
        s.add_queue_member(&admin, q, a.id).await.unwrap();
    }
    let vip = ["vip".to_string()];
    // a1 offline, a2 available but without the skill, a3 available with capacity 1.
    s.set_agent_state(&a1, a1.id, AgentStatus::Offline, None, Some(&vip))
        .await
        .unwrap();
    s.set_agent_state(&a2, a2.id, AgentStatus::Available, None, Some(&[]))
        .await
        .unwrap();
    s.set_agent_state(&a3, a3.id, AgentStatus::Available, Some(1), Some(&vip))
        .await
        .unwrap();
    let c = person(s, &admin, "孙丽", None).await;
    let open = |subject: &str| {
        let mut t = complaint(c.id, subject);
        t.queue_id = Some(q);
        t.validate().unwrap()
    };
    let first = s.create_ticket(&admin, open("一")).await.unwrap();
    assert_eq!(first.assignee_id, Some(a3.id));
    assert_eq!(first.status, TicketStatus::Open);
    // a3 is full now: the next one waits.
    let second = s.create_ticket(&admin, open("二")).await.unwrap();
    assert_eq!(second.assignee_id, None);
    assert!(second.waiting_since.is_some());
    let queues = s.service_queues().await.unwrap();
    assert_eq!(queues.iter().find(|x| x.id == q).unwrap().waiting, 1);
    // a1 comes online: the waiting ticket goes to them.
    s.set_agent_state(&a1, a1.id, AgentStatus::Available, None, None)
        .await
        .unwrap();
    assert_eq!(
        s.ticket(&admin, second.id).await.unwrap().assignee_id,
        Some(a1.id)
    );
    // a3 resolves theirs: capacity frees up and the next waiting ticket is routed.
    let third = s.create_ticket(&admin, open("三")).await.unwrap();
    let a1_load = s.agent_state(a1.id).await.unwrap();
    assert_eq!(a1_load.open, 2);
    let mut p = patch(first.meta.version);
    p.status = Some(TicketStatus::Resolved);
    p.complaint_step = None;
    p.resolution_code = Some(ResolutionCode::Answered);
    db.execute(&format!(
        "UPDATE tickets SET complaint_step = 'confirmed' WHERE id = {}",
        first.id
    ))
    .await;
    s.update_ticket(&a3, first.id, p).await.unwrap();
    let third_now = s.ticket(&admin, third.id).await.unwrap();
    assert!(
        third_now.assignee_id.is_some(),
        "the third ticket went to a free agent"
    );
    assert_ne!(
        third_now.assignee_id,
        Some(a2.id),
        "never to the unskilled agent"
    );
}

async fn take_next_gives_the_oldest_most_urgent_ticket_once(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let q = s
        .create_queue(&admin, "热线", None, &[], RoutingMode::Manual)
        .await
        .unwrap();
    let agent = user(s, "agent", Role::Service, None).await;
    let other = user(s, "other", Role::Service, None).await;
    s.add_queue_member(&admin, q, agent.id).await.unwrap();
    s.add_queue_member(&admin, q, other.id).await.unwrap();
    s.set_agent_state(&agent, agent.id, AgentStatus::Available, Some(2), None)
        .await
        .unwrap();
    let c = person(s, &admin, "周杰", None).await;
    let mut ids = Vec::new();
    for (subject, prio) in [
        ("普通一", Priority::Normal),
        ("紧急", Priority::Urgent),
        ("普通二", Priority::Normal),
    ] {
        let mut t = complaint(c.id, subject);
        t.queue_id = Some(q);
        t.priority = Some(prio);
        ids.push(
            s.create_ticket(&admin, t.validate().unwrap())
                .await
                .unwrap()
                .id,
        );
    }
    // Manual queue: nothing was routed.
    let waiting = s
        .list_tickets(
            &agent,
            &TicketFilter {
                view: TicketView::Waiting(q),
                state: TicketState::Open,
                kind: None,
                category_id: None,
                q: None,
                limit: 50,
                offset: 0,
                custom: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        waiting.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [ids[1], ids[0], ids[2]]
    );
    assert_eq!(s.take_next_ticket(&agent).await.unwrap(), Some(ids[1]));
    assert_eq!(s.take_next_ticket(&agent).await.unwrap(), Some(ids[0]));
    // Capacity 2 reached.
    let e = codes(s.take_next_ticket(&agent).await.unwrap_err());
    assert_eq!(e, [("capacity".into(), "capacity_reached".into())]);
    // Another agent (never set up: offline with the default capacity) may still take work.
    assert_eq!(s.take_next_ticket(&other).await.unwrap(), Some(ids[2]));
    assert_eq!(s.take_next_ticket(&other).await.unwrap(), None);
    let t = s.ticket(&admin, ids[1]).await.unwrap();
    assert_eq!(
        (t.assignee_id, t.status),
        (Some(agent.id), TicketStatus::Open)
    );
    assert!(t.first_assigned_at.is_some() && t.waiting_since.is_none());
}

async fn agents_see_their_queues_and_reps_their_customers(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let qa = s
        .create_queue(&admin, "A", None, &[], RoutingMode::Manual)
        .await
        .unwrap();
    let qb = s
        .create_queue(&admin, "B", None, &[], RoutingMode::Manual)
        .await
        .unwrap();
    let agent = user(s, "agent", Role::Service, None).await;
    s.add_queue_member(&admin, qa, agent.id).await.unwrap();
    let rep = user(s, "rep", Role::Sales, None).await;
    let mine = person(s, &rep, "客户甲", None).await;
    let theirs = person(s, &admin, "客户乙", None).await;
    let mut in_a = complaint(mine.id, "A 的单");
    in_a.queue_id = Some(qa);
    let in_a = s
        .create_ticket(&admin, in_a.validate().unwrap())
        .await
        .unwrap();
    let mut in_b = complaint(theirs.id, "B 的单");
    in_b.queue_id = Some(qb);
    let in_b = s
        .create_ticket(&admin, in_b.validate().unwrap())
        .await
        .unwrap();
    assert!(s.ticket(&agent, in_a.id).await.is_ok());
    assert!(matches!(
        s.ticket(&agent, in_b.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.ticket(&rep, in_a.id).await.is_ok(),
        "the rep's own customer"
    );
    assert!(matches!(
        s.ticket(&rep, in_b.id).await,
        Err(StoreError::NotFound)
    ));
    let all = TicketFilter {
        view: TicketView::All,
        state: TicketState::All,
        kind: None,
        category_id: None,
        q: None,
        limit: 50,
        offset: 0,
        custom: Vec::new(),
    };
    let seen: Vec<i64> = s
        .list_tickets(&agent, &all)
        .await
        .unwrap()
        .items
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(seen, [in_a.id]);
    assert_eq!(s.list_tickets(&admin, &all).await.unwrap().items.len(), 2);
    // Unknown references are field errors and write nothing.
    let mut bad = complaint(mine.id, "坏");
    bad.category_id = Some(9999);
    bad.queue_id = Some(9999);
    let e = codes(
        s.create_ticket(&admin, bad.validate().unwrap())
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        [
            ("category_id".into(), "invalid_reference".into()),
            ("queue_id".into(), "invalid_reference".into())
        ]
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM tickets").await, 2);
}

/// An agent's own figures read the rollup's cells of their queues and of the teams they lead,
/// plus their own tickets elsewhere counted live: the same figures as counting everything
/// they see live, and nothing of the tickets they do not see.
async fn an_agents_figures_from_the_rollup_match_the_live_count(db: &TestDb) {
    use guanxi_store::ticket::history::HistoricTicket;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let agent = user(s, "agent", Role::Service, None).await;
    let other = user(s, "other", Role::Service, None).await;
    let lead = user(s, "lead", Role::Service, None).await;
    let east = s.create_team(&admin, "east").await.unwrap().id;
    s.set_team_lead(&admin, east, Some(lead.id)).await.unwrap();
    let mine = s
        .create_queue(&admin, "投诉组", None, &[], RoutingMode::Manual)
        .await
        .unwrap();
    let elsewhere = s
        .create_queue(&admin, "售后组", None, &[], RoutingMode::Manual)
        .await
        .unwrap();
    s.add_queue_member(&admin, mine, agent.id).await.unwrap();
    let c = person(s, &admin, "钱多", None).await;
    s.create_order(
        &admin,
        ten_yuan_order(c.id, ts("2026-03-05T10:00:00+08:00")),
    )
    .await
    .unwrap();
    let ticket = |queue: i64, assignee: i64, opened: &str| HistoricTicket {
        customer_id: Some(c.id),
        kind: TicketKind::Complaint,
        category_id: Some(PRODUCT_QUALITY),
        priority: Priority::Normal,
        channel: InteractionChannel::Phone,
        subject: "坏了".into(),
        body: "坏了".into(),
        queue_id: queue,
        assignee_id: Some(assignee),
        severe: false,
        opened_at: ts(opened),
        first_reply: Some((ts(opened) + chrono::Duration::minutes(45), "好的".into())),
        pauses: Vec::new(),
        remedy: None,
        resolved: Some((
            ts(opened) + chrono::Duration::hours(3),
            ResolutionCode::Refunded,
        )),
        closed_at: None,
    };
    let tickets = [
        // In the agent's queue, another agent's.
        ticket(mine, other.id, "2026-03-02T09:00:00+08:00"),
        // The agent's own, in a queue they are not in.
        ticket(elsewhere, agent.id, "2026-03-03T09:00:00+08:00"),
        // Neither: not theirs to see.
        ticket(elsewhere, other.id, "2026-03-04T09:00:00+08:00"),
        // The east team's (its lead sees it).
        ticket(elsewhere, other.id, "2026-03-06T09:00:00+08:00"),
    ];
    let ids = s
        .load_historic_tickets(&admin, &tickets, Utc::now())
        .await
        .unwrap();
    db.execute(&format!(
        "UPDATE tickets SET team_id = {east} WHERE id = {}",
        ids[3]
    ))
    .await;
    let (from, to) = (
        ts("2026-03-01T00:00:00+08:00"),
        ts("2026-04-01T00:00:00+08:00"),
    );
    let live_agent = s.service_metrics(&agent, from, to, 8).await.unwrap();
    let live_lead = s.service_metrics(&lead, from, to, 8).await.unwrap();
    assert_eq!((live_agent.opened, live_agent.resolved), (2, 2));
    assert_eq!(live_lead.opened, 1);
    assert!(live_agent.counted_at.is_none());
    while s
        .roll_up_service_days(ts("2026-12-06T12:00:00+08:00"), 8)
        .await
        .unwrap()
        .1
    {}
    let rolled_agent = s.service_metrics(&agent, from, to, 8).await.unwrap();
    let rolled_lead = s.service_metrics(&lead, from, to, 8).await.unwrap();
    assert!(rolled_agent.counted_at.is_some(), "read from the rollup");
    let same = |mut x: guanxi_store::ticket::metrics::ServiceMetrics| {
        x.counted_at = None;
        x
    };
    assert_eq!(same(rolled_agent), same(live_agent));
    assert_eq!(same(rolled_lead), same(live_lead));
    assert!(
        db.scalar(
            "SELECT COUNT(*) FROM ticket_cell_days WHERE day = '2026-03-05' AND queue_key = -1"
        )
        .await
            == 1,
        "a day without tickets still has its orders' cell"
    );
}
