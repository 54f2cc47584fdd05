//! Store tests on both backends for leads: a lead the rep enters or a form captures is seen by
//! its owner's scope and, while unassigned, by every rep (the pool); it is checked against
//! the customer file with the customers' own duplicate rule, within the reader's scope; the
//! same person's second enquiry is found; qualify, disqualify, reopen and convert go at the
//! version read (a stale one is a conflict), and a conversion links the customer and the deal.

use super::*;
use guanxi_domain::lead::{DisqualifyInput, DisqualifyReason, LeadInput, LeadOrigin};
use guanxi_domain::pipeline::OpportunityInput;
use guanxi_store::lead::LeadFilter;

on_both_backends!(
    a_lead_is_matched_against_customers_and_converted,
    the_pool_is_everyones_and_a_stale_change_is_a_conflict,
);

fn lead(v: serde_json::Value) -> LeadInput {
    serde_json::from_value::<LeadInput>(v)
        .unwrap()
        .validate()
        .unwrap()
}

async fn a_lead_is_matched_against_customers_and_converted(db: &TestDb) {
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    // A customer of the rep's with this mobile (typed differently), and one of another rep's
    // with the email: the rep is told of the first, never of the second.
    let known = person(s, &rep, "王伟", Some("+86 138 0013 8000")).await;
    let mut hidden = fields(json!({"kind": "individual", "name": "王伟"}));
    hidden.contact_points = vec![NewContactPoint {
        kind: ContactKind::Email,
        value: "wang.wei@example.cn".into(),
        label: None,
        is_primary: true,
        consent_marketing: false,
        source: None,
    }];
    s.create_customer(&other, hidden.validate(other.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let l = s
        .create_lead(
            &rep,
            &lead(
                json!({"name": "王伟", "company": "伟业贸易", "mobile": "13800138000",
                "email": "Wang.Wei@example.cn", "message": "想了解团购价"}),
            ),
            LeadOrigin::Manual,
            None,
        )
        .await
        .unwrap();
    assert_eq!((l.status.as_str(), l.version), ("new", 1));
    let fields = l
        .input()
        .customer_fields(l.origin(), Some(rep.id), rep.id, Utc::now())
        .validate(rep.id, Utc::now())
        .unwrap();
    let candidates = s.duplicate_candidates(&rep, &fields).await.unwrap();
    let ids: Vec<i64> = candidates.iter().map(|c| c.customer_id).collect();
    assert_eq!(ids, [known.id], "only the customer the rep sees is named");
    assert_eq!(candidates[0].matched_on, "mobile");
    // The same person's second enquiry (the email in another case) is found.
    let again = s
        .create_lead(
            &rep,
            &lead(json!({"name": "王先生", "email": "WANG.WEI@example.cn"})),
            LeadOrigin::Form,
            None,
        )
        .await
        .unwrap();
    let same: Vec<i64> = s
        .same_person_leads(&rep, &again)
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(same, [l.id]);
    // Qualified, then converted into the customer it turned out to be, with a deal.
    let q = s.qualify_lead(&rep, l.id, l.version).await.unwrap();
    assert_eq!((q.status.as_str(), q.owner_id), ("qualified", Some(rep.id)));
    let linked = s
        .link_lead_customer(&rep, l.id, q.version, known.id)
        .await
        .unwrap();
    let deal: OpportunityInput = serde_json::from_value(json!({
        "customer_id": known.id, "name": "伟业团购", "pipeline_id": 1, "amount_minor": 500_000,
        "source": l.source
    }))
    .unwrap();
    let o = s.create_opportunity(&rep, &deal).await.unwrap();
    let done = s
        .finish_lead_conversion(&rep, l.id, linked.version, Some(o.id))
        .await
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.customer_id, done.opportunity_id),
        ("converted", Some(known.id), Some(o.id))
    );
    assert!(done.converted_at.is_some());
    // A converted lead is no longer the same person's open enquiry, and cannot be dropped.
    assert!(s.same_person_leads(&rep, &again).await.unwrap().is_empty());
    let d = DisqualifyInput {
        reason: DisqualifyReason::Spam,
        note: None,
        version: done.version,
    };
    let err = s.disqualify_lead(&rep, l.id, &d).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // Each step is audited.
    let actions = db
        .strings(&format!(
            "SELECT action FROM audit_log WHERE entity = 'lead' AND entity_id = {} ORDER BY id",
            l.id
        ))
        .await;
    assert_eq!(
        actions,
        [
            "create_lead",
            "qualify_lead",
            "link_lead_customer",
            "convert_lead"
        ]
    );
}

async fn the_pool_is_everyones_and_a_stale_change_is_a_conflict(db: &TestDb) {
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    let pooled = s
        .create_lead(
            &Actor::system(),
            &lead(json!({"company": "华南商贸", "mobile": "13900139000"})),
            LeadOrigin::Form,
            None,
        )
        .await
        .unwrap();
    let theirs = s
        .create_lead(
            &other,
            &lead(json!({"name": "李雷", "wechat": "lilei88", "owner_id": other.id})),
            LeadOrigin::Manual,
            None,
        )
        .await
        .unwrap();
    // The rep sees the pool, not the other rep's lead.
    let page = s.list_leads(&rep, &LeadFilter::default()).await.unwrap();
    let ids: Vec<i64> = page.leads.iter().map(|x| x.id).collect();
    assert_eq!(ids, [pooled.id]);
    assert!(matches!(
        s.get_lead(&rep, theirs.id).await.unwrap_err(),
        StoreError::NotFound
    ));
    let pool = LeadFilter {
        pool: true,
        ..LeadFilter::default()
    };
    assert_eq!(s.list_leads(&other, &pool).await.unwrap().leads.len(), 1);
    // Qualifying takes it out of the pool; the same stale version again is a conflict.
    let q = s.qualify_lead(&rep, pooled.id, 1).await.unwrap();
    assert_eq!(q.owner_id, Some(rep.id));
    assert!(matches!(
        s.qualify_lead(&rep, pooled.id, 1).await.unwrap_err(),
        StoreError::Conflict { .. }
    ));
    assert!(s.list_leads(&other, &pool).await.unwrap().leads.is_empty());
    // Dropped with a reason, then reopened.
    let d = DisqualifyInput {
        reason: DisqualifyReason::NoBudget,
        note: Some("明年再谈".into()),
        version: q.version,
    };
    let dropped = s.disqualify_lead(&rep, pooled.id, &d).await.unwrap();
    assert_eq!(
        (
            dropped.status.as_str(),
            dropped.disqualify_reason.as_deref()
        ),
        ("disqualified", Some("no_budget"))
    );
    let back = s
        .reopen_lead(&rep, pooled.id, dropped.version)
        .await
        .unwrap();
    assert_eq!(
        (back.status.as_str(), back.disqualify_reason),
        ("new", None)
    );
    // Paging: newest first, a cursor to the rest.
    let many: Vec<LeadInput> = (0..60)
        .map(|i| lead(json!({"name": format!("客户{i}"), "mobile": format!("1380000{:04}", i)})))
        .collect();
    s.create_leads(&rep, &many).await.unwrap();
    let first = s.list_leads(&rep, &LeadFilter::default()).await.unwrap();
    assert_eq!(first.leads.len(), 50);
    let (at, id) = first
        .next
        .as_deref()
        .and_then(|n| n.split_once('.'))
        .map(|(a, i)| (a.parse().unwrap(), i.parse().unwrap()))
        .unwrap();
    let rest = s
        .list_leads(
            &rep,
            &LeadFilter {
                before: Some((at, id)),
                ..LeadFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.leads.len(),
        11,
        "60 imported + the pooled one, 50 + 11"
    );
    assert!(rest.next.is_none());
}
