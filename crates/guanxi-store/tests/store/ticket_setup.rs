//! Store tests: the desk admin's edits (categories, SLA policies, calendars with holidays and
//! make-up days, settings, queue membership) and what they do to open tickets' clocks; files on
//! a ticket's thread (stored with their message, read back audited, out of reach of agents who
//! may not see the ticket, gone when the customer is erased). Both backends.

use super::*;
use guanxi_domain::ticket::attachment::check_attachment;
use guanxi_domain::ticket::calendar::{DayRule, Period};
use guanxi_domain::ticket::setup::{
    CalendarDayInput, CalendarInput, CategoryInput, ServiceSettings, SlaPolicyInput,
};
use guanxi_domain::ticket::sla::SlaConditions;
use guanxi_domain::ticket::{MessageKind, NewTicket, TicketKind};
use guanxi_domain::vocabulary::InteractionChannel;

on_both_backends!(
    the_admin_edits_the_tree_and_policies_and_open_tickets_follow,
    calendar_days_and_hours_move_due_times,
    files_ride_with_their_message_and_are_read_audited_and_erased,
    an_open_loaded_complaint_past_its_targets_escalates_and_closed_history_does_not,
);

fn complaint(customer: i64) -> NewTicket {
    NewTicket {
        customer_id: Some(customer),
        contact_name: None,
        contact_address: None,
        kind: TicketKind::Complaint,
        category_id: Some(2),
        priority: None,
        channel: InteractionChannel::Phone,
        subject: "配送延误".into(),
        body: Some("等了两周".into()),
        queue_id: None,
        order_id: None,
        product_sku: None,
        severe: false,
        custom: Default::default(),
    }
}

fn ts(s: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&Utc)
}

fn codes(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Invalid(v) => v.0.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// The seeded "Complaint" policy (position 2) with a new first-response target.
fn complaint_policy(first_response_minutes: i64) -> SlaPolicyInput {
    SlaPolicyInput {
        name: "投诉 / Complaint".into(),
        position: 2,
        conditions: SlaConditions {
            kind: Some(TicketKind::Complaint),
            ..Default::default()
        },
        first_response_minutes: Some(first_response_minutes),
        next_response_minutes: Some(240),
        resolution_minutes: Some(960),
        calendar_id: 1,
        active: true,
    }
}

/// A complaint opened on the eve of Golden Week 2025 (Tuesday 30 September, 17:00 Beijing).
async fn golden_week_complaint(db: &TestDb, admin: &Actor) -> i64 {
    let s = &db.store;
    let c = person(s, admin, "张敏", None).await;
    let t = s
        .create_ticket(admin, complaint(c.id).validate().unwrap())
        .await
        .unwrap();
    db.execute(&format!(
        "UPDATE tickets SET created_at = {} WHERE id = {}",
        ts("2025-09-30T17:00:00+08:00").timestamp_millis(),
        t.id
    ))
    .await;
    t.id
}

const EVE: &str = "2025-09-30T17:10:00+08:00";

async fn first_due(db: &TestDb, admin: &Actor, id: i64) -> Option<chrono::DateTime<Utc>> {
    // One step of the recomputation the app queues after an edit.
    assert_eq!(
        db.store.recompute_open_slas(0, ts(EVE)).await.unwrap(),
        Some(id),
        "the only open ticket is looked at"
    );
    db.store
        .ticket(admin, id)
        .await
        .unwrap()
        .first_response
        .due_at
}

async fn the_admin_edits_the_tree_and_policies_and_open_tickets_follow(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;

    // A new complaint category under "Complaints" (1); codes are unique.
    let warranty = CategoryInput {
        parent_id: Some(1),
        code: "warranty".into(),
        name_zh: "保修".into(),
        name_en: "Warranty".into(),
        position: 8,
        active: true,
    };
    let id = s.create_category(&admin, &warranty).await.unwrap();
    assert!(matches!(
        s.create_category(&admin, &warranty).await,
        Err(StoreError::Duplicate { field: "code" })
    ));
    // "Complaints" cannot move below its own child; an unknown parent is refused.
    let mut root = CategoryInput {
        parent_id: Some(id),
        code: "complaint".into(),
        name_zh: "投诉".into(),
        name_en: "Complaints".into(),
        position: 1,
        active: true,
    };
    assert_eq!(
        codes(s.update_category(&admin, 1, &root).await.unwrap_err()),
        vec![("parent_id".to_string(), "cycle".to_string())]
    );
    root.parent_id = Some(9_999);
    assert_eq!(
        codes(s.update_category(&admin, 1, &root).await.unwrap_err()),
        vec![("parent_id".to_string(), "invalid_reference".to_string())]
    );
    // Retiring keeps the row (tickets keep their category).
    let retired = CategoryInput {
        active: false,
        name_en: "Warranty claims".into(),
        ..warranty
    };
    s.update_category(&admin, id, &retired).await.unwrap();
    let all = s.ticket_categories().await.unwrap();
    let w = all.iter().find(|c| c.id == id).unwrap();
    assert_eq!((w.active, w.name_en.as_str()), (false, "Warranty claims"));

    // An open complaint's first response: 60 working minutes → 18:00 on the eve.
    let t = golden_week_complaint(db, &admin).await;
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-09-30T18:00:00+08:00"))
    );
    // The admin doubles the target: the second hour falls after the holiday, on 9 October.
    s.update_sla_policy(&admin, 2, &complaint_policy(120))
        .await
        .unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-10-09T10:00:00+08:00"))
    );
    // A new policy ahead of it for category "product quality" (2) takes over.
    let mut quality = complaint_policy(30);
    quality.name = "质量投诉".into();
    quality.position = 0;
    quality.conditions.category_id = Some(2);
    let qp = s.create_sla_policy(&admin, &quality).await.unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-09-30T17:30:00+08:00"))
    );
    assert_eq!(
        s.ticket(&admin, t).await.unwrap().sla_policy_id,
        Some(qp),
        "the ticket names the policy it falls under now"
    );
    // A policy on a calendar that does not exist is refused and changes nothing.
    quality.calendar_id = 99;
    assert_eq!(
        codes(s.update_sla_policy(&admin, qp, &quality).await.unwrap_err()),
        vec![("calendar_id".to_string(), "invalid_reference".to_string())]
    );

    // Desk settings round-trip; edits are audited.
    let set = ServiceSettings {
        reopen_days: 3,
        attachment_max_kb: 2048,
    };
    s.save_service_settings(&admin, &set).await.unwrap();
    assert_eq!(s.service_settings().await.unwrap(), set);
    assert!(
        db.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity IN \
             ('ticket_category', 'sla_policy', 'service_settings')"
        )
        .await
            >= 5
    );
}

async fn calendar_days_and_hours_move_due_times(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let t = golden_week_complaint(db, &admin).await;
    s.update_sla_policy(&admin, 2, &complaint_policy(120))
        .await
        .unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-10-09T10:00:00+08:00"))
    );
    // Wednesday 8 October opened for work (the holiday taken off): the hour lands there.
    let day = chrono::NaiveDate::from_ymd_opt(2025, 10, 8).unwrap();
    s.remove_calendar_day(&admin, 1, day).await.unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-10-08T10:00:00+08:00"))
    );
    assert!(matches!(
        s.remove_calendar_day(&admin, 1, day).await,
        Err(StoreError::NotFound)
    ));
    // Marked a holiday again by the admin: no longer provisional, the hour moves back.
    s.set_calendar_day(
        &admin,
        1,
        &CalendarDayInput {
            day,
            rule: DayRule::Holiday,
            festival: Some("national_day".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-10-09T10:00:00+08:00"))
    );
    // Longer hours on Tuesdays (9:00–19:00): both hours fit on the eve.
    let mut cal = s.business_calendar(1).await.unwrap();
    cal.calendar.week[1] = vec![Period {
        start: 540,
        end: 1140,
    }];
    let input = CalendarInput {
        name: cal.name.clone(),
        utc_offset_minutes: cal.calendar.utc_offset_minutes,
        week: cal.calendar.week.clone(),
        workday_hours: cal.calendar.workday_hours.clone(),
    };
    s.update_calendar(&admin, 1, &input).await.unwrap();
    assert_eq!(
        first_due(db, &admin, t).await,
        Some(ts("2025-09-30T19:00:00+08:00"))
    );
    // A second calendar gets the shipped holidays; names are unique.
    let hk = CalendarInput {
        name: "香港 / Hong Kong".into(),
        ..input.clone()
    };
    let id = s.create_calendar(&admin, &hk).await.unwrap();
    let created = s.business_calendar(id).await.unwrap();
    assert!(created.days.len() > 50, "{}", created.days.len());
    assert!(matches!(
        s.create_calendar(&admin, &hk).await,
        Err(StoreError::Duplicate { field: "name" })
    ));
    assert_eq!(s.business_calendars().await.unwrap().len(), 2);
}

fn png(n: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(n, 7);
    b
}

async fn files_ride_with_their_message_and_are_read_audited_and_erased(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "李娜", Some("13700001111")).await;
    let t = s
        .create_ticket(&admin, complaint(c.id).validate().unwrap())
        .await
        .unwrap();
    let photo = check_attachment("files[0]", "破损照片.png", png(5_000), 10).unwrap();
    let invoice = check_attachment("files[1]", "发票.pdf", b"%PDF-1.7 x".to_vec(), 10).unwrap();
    s.add_ticket_message(
        &admin,
        t.id,
        MessageKind::Customer,
        "",
        &[photo.clone(), invoice],
    )
    .await
    .unwrap();
    let d = s.ticket_detail(&admin, t.id).await.unwrap();
    assert_eq!(d.attachments.len(), 2);
    let message = d.messages.last().unwrap().id;
    let a = &d.attachments[0];
    assert_eq!(
        (
            a.message_id,
            a.file_name.as_str(),
            a.content_type.as_str(),
            a.size_bytes
        ),
        (Some(message), "破损照片.png", "image/png", 5_000)
    );
    assert!(a.inline());
    assert!(!d.attachments[1].inline());

    // The bytes come back as stored; the read is in the audit log.
    let (meta, bytes) = s.ticket_attachment(&admin, t.id, a.id).await.unwrap();
    assert_eq!(meta.id, a.id);
    assert_eq!(bytes, photo.bytes);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment_read' AND entity_id = {}",
            t.id
        ))
        .await,
        1
    );
    // Another ticket's id with this file's id finds nothing; an agent outside the ticket's
    // queues sees nothing either.
    let other = s
        .create_ticket(&admin, complaint(c.id).validate().unwrap())
        .await
        .unwrap();
    assert!(matches!(
        s.ticket_attachment(&admin, other.id, a.id).await,
        Err(StoreError::NotFound)
    ));
    let outsider = user(s, "outsider", Role::Service, None).await;
    assert!(matches!(
        s.ticket_attachment(&outsider, t.id, a.id).await,
        Err(StoreError::NotFound)
    ));

    // Erasing the customer deletes the files with the words.
    s.erase_customer(&admin, c.id, "客户申请删除")
        .await
        .unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM ticket_attachments WHERE ticket_id = {}",
            t.id
        ))
        .await,
        0
    );
}

async fn an_open_loaded_complaint_past_its_targets_escalates_and_closed_history_does_not(
    db: &TestDb,
) {
    use guanxi_domain::ticket::routing::RoutingMode;
    use guanxi_domain::ticket::{Priority, RemedyKind, ResolutionCode};
    use guanxi_store::ticket::history::HistoricTicket;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let team = s.create_team(&admin, "客服一组").await.unwrap();
    let lead = user(s, "lead", Role::Service, Some(team.id)).await;
    s.set_team_lead(&admin, team.id, Some(lead.id))
        .await
        .unwrap();
    let q = s
        .create_queue(&admin, "投诉组", Some(team.id), &[], RoutingMode::Manual)
        .await
        .unwrap();
    let c = person(s, &admin, "周婷", None).await;
    let now = Utc::now();
    let opened = now - chrono::Duration::days(10);
    let historic = |subject: &str, resolved: bool| HistoricTicket {
        customer_id: Some(c.id),
        kind: TicketKind::Complaint,
        category_id: Some(2),
        priority: Priority::Normal,
        channel: InteractionChannel::Phone,
        subject: subject.into(),
        body: "一直没人回".into(),
        queue_id: q,
        assignee_id: None,
        severe: false,
        opened_at: opened,
        first_reply: resolved.then(|| (opened + chrono::Duration::days(3), "抱歉".into())),
        pauses: Vec::new(),
        remedy: resolved.then_some(RemedyKind::Apology),
        resolved: resolved.then(|| {
            (
                opened + chrono::Duration::days(4),
                ResolutionCode::Explained,
            )
        }),
        closed_at: None,
    };
    let ids = s
        .load_historic_tickets(
            &admin,
            &[historic("还开着", false), historic("早已解决", true)],
            now,
        )
        .await
        .unwrap();
    // Ten days unanswered: both targets breached, the lead then a manager step; at least the
    // lead's step is there, with its task.
    let open = s.ticket(&admin, ids[0]).await.unwrap();
    assert!(open.first_response.breached_at.is_some());
    assert!(open.escalation_level >= 1, "{}", open.escalation_level);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM tasks WHERE customer_id = {} AND assignee_id = {}",
            c.id, lead.id
        ))
        .await,
        1
    );
    // The resolved one was late too, but its history is not rewritten with escalations.
    let done = s.ticket(&admin, ids[1]).await.unwrap();
    assert!(done.first_response.breached_at.is_some());
    assert_eq!(done.escalation_level, 0);
}
