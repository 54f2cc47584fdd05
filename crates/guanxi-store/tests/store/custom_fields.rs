//! Custom fields: definitions, values written with the customer's own change, the list's
//! filter and segment clauses (issue #18), on both backends.

use super::*;
use guanxi_domain::custom_field::{
    presets::preset_inputs, AppliesTo, CustomValue, FieldChoice, FieldDefinition, FieldEntity,
    FieldInput, FieldKind,
};
use guanxi_domain::segment::{CustomTest, SegmentRule};
use guanxi_store::custom_field::CustomChange;

on_both_backends!(
    custom_values_filter_the_list_and_segments,
    definitions_are_checked_audited_and_archived,
    erasure_and_merge_carry_custom_values,
    deals_and_tickets_are_written_and_filtered_with_their_fields,
);

fn input(code: &str, kind: FieldKind, choices: &[&str]) -> FieldInput {
    FieldInput {
        entity: FieldEntity::Customer,
        applies_to: AppliesTo::All,
        code: code.into(),
        kind,
        label_zh: format!("{code}中"),
        label_en: code.into(),
        choices: choices
            .iter()
            .map(|c| FieldChoice {
                code: (*c).into(),
                label_zh: format!("{c}中"),
                label_en: (*c).into(),
            })
            .collect(),
        required: false,
        visible_to: vec![],
        sensitive: false,
        position: 0,
    }
}

async fn field(
    s: &Store,
    admin: &Actor,
    code: &str,
    kind: FieldKind,
    choices: &[&str],
) -> FieldDefinition {
    s.create_custom_field(admin, &input(code, kind, choices).validate().unwrap(), None)
        .await
        .unwrap()
}

fn set(def: &FieldDefinition, raw: &str) -> CustomChange {
    CustomChange {
        field: def.clone(),
        value: CustomValue::parse_text(def, raw).unwrap(),
    }
}

async fn with_values(s: &Store, admin: &Actor, name: &str, values: Vec<CustomChange>) -> i64 {
    let c = person(s, admin, name, None).await;
    s.update_customer_with(
        admin,
        c.id,
        CustomerPatch {
            version: c.meta.version,
            ..Default::default()
        },
        &values,
    )
    .await
    .unwrap()
    .id
}

async fn listed(s: &Store, actor: &Actor, custom: Vec<(String, CustomTest)>) -> Vec<String> {
    let f = CustomerFilter {
        custom,
        limit: 200,
        ..Default::default()
    };
    let mut names: Vec<String> = s
        .list_customers(actor, &f)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    // The count (read from the first field's index on SQLite) agrees, capped or not.
    assert_eq!(
        s.count_customers(actor, &f, 100).await.unwrap(),
        (names.len() as i64, false)
    );
    if names.len() > 1 {
        assert_eq!(s.count_customers(actor, &f, 1).await.unwrap(), (1, true));
    }
    // Both plans of a SQLite page agree with the database's own, and so does PostgreSQL's
    // walk of the sort's order (its plan from a few thousand matches).
    let plans = if s.backend() == Backend::Sqlite {
        vec![
            guanxi_store::customers::ListPlan::Sparse,
            guanxi_store::customers::ListPlan::Dense,
        ]
    } else {
        vec![guanxi_store::customers::ListPlan::Dense]
    };
    for plan in plans {
        let mut again: Vec<String> = s
            .list_customers_as(actor, &f, Some(plan))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.name)
            .collect();
        again.sort();
        assert_eq!(again, names, "{plan:?}");
    }
    names
}

fn sorted<const N: usize>(v: [&str; N]) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().map(String::from).collect();
    v.sort();
    v
}

fn eq(code: &str, v: &str) -> (String, CustomTest) {
    (
        code.into(),
        CustomTest::Equals {
            texts: vec![v.into()],
            numbers: guanxi_domain::custom_field::value::parse_number(v)
                .ok()
                .into_iter()
                .collect(),
        },
    )
}

async fn custom_values_filter_the_list_and_segments(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let level = field(s, &admin, "level", FieldKind::Choice, &["gold", "silver"]).await;
    let media = field(
        s,
        &admin,
        "media",
        FieldKind::MultiChoice,
        &["tv", "wechat", "weibo"],
    )
    .await;
    let income = field(s, &admin, "income", FieldKind::Money, &[]).await;
    let since = field(s, &admin, "member_since", FieldKind::Date, &[]).await;
    let club = field(s, &admin, "club", FieldKind::Text, &[]).await;
    let golfer = field(s, &admin, "golfer", FieldKind::Boolean, &[]).await;
    with_values(
        s,
        &admin,
        "甲",
        vec![
            set(&level, "gold"),
            set(&media, "tv,wechat"),
            set(&income, "250000"),
            set(&since, "2020-03-01"),
            set(&club, "Rotary 扶轮社"),
            set(&golfer, "是"),
        ],
    )
    .await;
    with_values(
        s,
        &admin,
        "乙",
        vec![
            set(&level, "silver"),
            set(&media, "wechat"),
            set(&income, "80000.50"),
            set(&since, "2024-11-30"),
        ],
    )
    .await;
    with_values(
        s,
        &admin,
        "丙",
        vec![set(&level, "gold"), set(&golfer, "否")],
    )
    .await;
    person(s, &admin, "丁", None).await;

    // The list's filter, read like a tag.
    assert_eq!(
        listed(s, &admin, vec![eq("level", "gold")]).await,
        sorted(["甲", "丙"])
    );
    assert_eq!(
        listed(s, &admin, vec![eq("media", "wechat")]).await,
        sorted(["乙", "甲"])
    );
    assert_eq!(
        listed(s, &admin, vec![eq("media", "wechat"), eq("level", "gold")]).await,
        sorted(["甲"])
    );
    assert_eq!(
        listed(s, &admin, vec![eq("income", "80000.5")]).await,
        sorted(["乙"])
    );
    assert!(listed(s, &admin, vec![eq("nobody", "gold")])
        .await
        .is_empty());

    // Segment clauses, every operator; the list, the count and the export agree.
    let admin = &admin;
    let names = |clauses: serde_json::Value| async move {
        let rule: SegmentRule =
            serde_json::from_value(json!({"match": "all", "clauses": clauses})).unwrap();
        let f = rule.resolve(as_of()).unwrap();
        let page = s
            .list_customers(
                admin,
                &CustomerFilter {
                    segment: Some(f.clone()),
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut n: Vec<String> = page.items.into_iter().map(|c| c.name).collect();
        n.sort();
        assert_eq!(s.segment_size(admin, &f).await.unwrap(), n.len() as i64);
        n
    };
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (
            json!([{"field": "cf.level", "op": "eq", "value": "gold"}]),
            vec!["甲", "丙"],
        ),
        (
            json!([{"field": "cf.level", "op": "ne", "value": "gold"}]),
            vec!["丁", "乙"],
        ),
        (
            json!([{"field": "cf.level", "op": "in", "value": "gold, silver"}]),
            vec!["丙", "乙", "甲"],
        ),
        (json!([{"field": "cf.level", "op": "empty"}]), vec!["丁"]),
        (
            json!([{"field": "cf.media", "op": "has", "value": "tv"}]),
            vec!["甲"],
        ),
        (
            json!([{"field": "cf.media", "op": "not_has", "value": "tv"}]),
            vec!["丁", "丙", "乙"],
        ),
        (
            json!([{"field": "cf.income", "op": "gte", "value": "100000"}]),
            vec!["甲"],
        ),
        (
            json!([{"field": "cf.income", "op": "lte", "value": "80,000.50"}]),
            vec!["乙"],
        ),
        (
            json!([{"field": "cf.income", "op": "eq", "value": "250000.00"}]),
            vec!["甲"],
        ),
        (
            json!([{"field": "cf.member_since", "op": "gte", "value": "2021/1/1"}]),
            vec!["乙"],
        ),
        (
            json!([{"field": "cf.member_since", "op": "eq", "value": "2020/3/1"}]),
            vec!["甲"],
        ),
        (
            json!([{"field": "cf.club", "op": "contains", "value": "rotary"}]),
            vec!["甲"],
        ),
        (
            json!([{"field": "cf.golfer", "op": "eq", "value": "false"}]),
            vec!["丙"],
        ),
        (
            json!([{"field": "cf.golfer", "op": "not_empty"}]),
            vec!["丙", "甲"],
        ),
        (
            json!([{"field": "cf.level", "op": "eq", "value": "gold"},
                   {"field": "cf.golfer", "op": "eq", "value": "true"}]),
            vec!["甲"],
        ),
    ];
    for (clauses, want) in cases {
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(names(clauses.clone()).await, want, "{clauses}");
    }

    // Reading back: the values as written, multi-choice included.
    let fields = s.custom_fields(FieldEntity::Customer).await.unwrap();
    let a = listed(s, admin, vec![eq("club", "Rotary 扶轮社")]).await;
    assert_eq!(a, ["甲"]);
    let id = s
        .list_customers(
            admin,
            &CustomerFilter {
                custom: vec![eq("club", "Rotary 扶轮社")],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items[0]
        .id;
    let v = s
        .custom_values(&fields, &[id])
        .await
        .unwrap()
        .remove(&id)
        .unwrap();
    assert_eq!(
        v[&media.id],
        CustomValue::Choices(vec!["tv".into(), "wechat".into()])
    );
    assert_eq!(v[&income.id], CustomValue::Money(25_000_000));
    assert_eq!(v[&golfer.id], CustomValue::Boolean(true));

    // An archived field filters nothing (its values stay).
    s.archive_custom_field(admin, level.id, level.version, true)
        .await
        .unwrap();
    assert!(listed(s, admin, vec![eq("level", "gold")]).await.is_empty());
    let all = s.custom_values(&fields, &[id]).await.unwrap();
    assert!(all[&id].contains_key(&level.id));
}

async fn definitions_are_checked_audited_and_archived(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let f = field(s, &admin, "level", FieldKind::Choice, &["gold"]).await;
    // A code is unique per entity, not across entities.
    let again = s
        .create_custom_field(
            &admin,
            &input("level", FieldKind::Text, &[]).validate().unwrap(),
            None,
        )
        .await;
    assert!(
        matches!(&again, Err(StoreError::Invalid(e)) if e.0[0].code == "taken"),
        "{again:?}"
    );
    let mut on_tickets = input("level", FieldKind::Text, &[]);
    on_tickets.entity = FieldEntity::Ticket;
    s.create_custom_field(&admin, &on_tickets.validate().unwrap(), None)
        .await
        .unwrap();
    // Update: labels and choices change; a used choice cannot be dropped; kind is fixed.
    let mut changed = input("level", FieldKind::Choice, &["gold", "platinum"]);
    changed.label_zh = "会员等级".into();
    let f2 = s
        .update_custom_field(&admin, f.id, f.version, &changed)
        .await
        .unwrap();
    assert_eq!(
        (f2.label_zh.as_str(), f2.choices.len(), f2.version),
        ("会员等级", 2, 2)
    );
    let dropped = s
        .update_custom_field(
            &admin,
            f.id,
            f2.version,
            &input("level", FieldKind::Choice, &["platinum"]),
        )
        .await;
    assert!(
        matches!(dropped, Err(StoreError::Invalid(_))),
        "{dropped:?}"
    );
    let rekind = s
        .update_custom_field(
            &admin,
            f.id,
            f2.version,
            &input("level", FieldKind::Text, &[]),
        )
        .await;
    assert!(matches!(rekind, Err(StoreError::Invalid(_))), "{rekind:?}");
    let stale = s.update_custom_field(&admin, f.id, 1, &changed).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "{stale:?}"
    );
    let archived = s
        .archive_custom_field(&admin, f.id, f2.version, true)
        .await
        .unwrap();
    assert!(archived.archived);
    // Presets all store.
    for p in preset_inputs() {
        s.create_custom_field(&admin, &p.validate().unwrap(), Some(p.code.as_str()))
            .await
            .unwrap();
    }
    let fields = s.custom_fields(FieldEntity::Customer).await.unwrap();
    assert_eq!(fields.len(), preset_inputs().len() + 1);
    assert!(fields.iter().any(|f| f.code == "health_notes"
        && f.sensitive
        && f.preset.as_deref() == Some("health_notes")));
    let log = s
        .list_audit(&AuditFilter {
            entity: Some("custom_field".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log
        .items
        .iter()
        .rev()
        .take(4)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["create", "create", "update", "archive"]);
}

async fn erasure_and_merge_carry_custom_values(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let level = field(s, &admin, "level", FieldKind::Choice, &["gold", "silver"]).await;
    let mut secret = input("health", FieldKind::Text, &[]);
    secret.sensitive = true;
    let health = s
        .create_custom_field(&admin, &secret.validate().unwrap(), None)
        .await
        .unwrap();
    let a = with_values(
        s,
        &admin,
        "甲",
        vec![set(&level, "gold"), set(&health, "过敏")],
    )
    .await;
    // The sensitive change is audited without its value.
    let log = s
        .list_audit(&AuditFilter {
            entity: Some("customer".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let custom = log
        .items
        .iter()
        .find(|e| e.action == "update_custom")
        .unwrap();
    assert_eq!(custom.detail["custom.health"], "changed");
    assert_eq!(custom.detail["custom.level"]["after"], "gold");
    // A merge gives the winner what only the duplicate had.
    let b = with_values(s, &admin, "甲2", vec![set(&level, "silver")]).await;
    let winner = person(s, &admin, "甲3", None).await;
    let loser = s.get_customer(&admin, b).await.unwrap();
    s.merge_customers(
        &admin,
        winner.id,
        winner.meta.version,
        loser.id,
        loser.meta.version,
        &[],
    )
    .await
    .unwrap();
    let fields = s.custom_fields(FieldEntity::Customer).await.unwrap();
    let v = s.custom_values(&fields, &[winner.id]).await.unwrap();
    assert_eq!(
        v[&winner.id][&level.id],
        CustomValue::Choices(vec!["silver".into()])
    );
    // An erasure takes every value.
    s.erase_customer(&admin, a, "客户要求").await.unwrap();
    assert!(s.custom_values(&fields, &[a]).await.unwrap().is_empty());
}

/// A deal's and a ticket's values are written with the record (in its transaction, audited),
/// and their lists filter on them — by their own entity's field, never a customer field of
/// the same code — within the reader's scope.
async fn deals_and_tickets_are_written_and_filtered_with_their_fields(db: &TestDb) {
    use guanxi_domain::pipeline::OpportunityInput;
    use guanxi_domain::ticket::{NewTicket, TicketKind};
    use guanxi_store::pipeline::DealFilter;
    use guanxi_store::ticket::{TicketFilter, TicketState, TicketView};
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "rep2", Role::Sales, None).await;
    let of = |entity: FieldEntity, code: &str| FieldInput {
        entity,
        ..input(code, FieldKind::Choice, &["east", "north"])
    };
    let customer_region = s
        .create_custom_field(
            &admin,
            &of(FieldEntity::Customer, "region").validate().unwrap(),
            None,
        )
        .await
        .unwrap();
    let deal_region = s
        .create_custom_field(
            &admin,
            &of(FieldEntity::Opportunity, "region").validate().unwrap(),
            None,
        )
        .await
        .unwrap();
    let ticket_region = s
        .create_custom_field(
            &admin,
            &of(FieldEntity::Ticket, "region").validate().unwrap(),
            None,
        )
        .await
        .unwrap();
    let c = person(s, &rep, "赵敏", None).await;
    // The customer holds "north" in its own field of the same code.
    s.update_customer_with(
        &admin,
        c.id,
        CustomerPatch {
            version: c.meta.version,
            ..Default::default()
        },
        &[set(&customer_region, "north")],
    )
    .await
    .unwrap();
    let deal = |name: &str| {
        serde_json::from_value::<OpportunityInput>(json!({
            "customer_id": c.id, "name": name, "pipeline_id": 1, "amount_minor": 1000
        }))
        .unwrap()
        .validate()
        .unwrap()
    };
    let east = s
        .create_opportunity_with(&rep, &deal("东区"), &[set(&deal_region, "east")])
        .await
        .unwrap();
    s.create_opportunity_with(&rep, &deal("北区"), &[set(&deal_region, "north")])
        .await
        .unwrap();
    let bare = s.create_opportunity(&rep, &deal("未填")).await.unwrap();
    let deals = |actor: Actor, v: &'static str| async move {
        let f = DealFilter {
            custom: vec![eq("region", v)],
            ..Default::default()
        };
        let mut names: Vec<String> = s
            .list_opportunities(&actor, &f)
            .await
            .unwrap()
            .deals
            .into_iter()
            .map(|d| d.name)
            .collect();
        names.sort();
        names
    };
    assert_eq!(deals(rep.clone(), "east").await, vec!["东区"]);
    assert_eq!(deals(rep.clone(), "north").await, vec!["北区"]);
    assert!(
        deals(other.clone(), "north").await.is_empty(),
        "out of scope"
    );
    // An update changes the values sent under the deal's version; the rest stay.
    let moved = s
        .update_opportunity_with(
            &rep,
            east.id,
            &OpportunityInput {
                version: Some(east.version),
                ..deal("东区")
            },
            &[set(&deal_region, "north")],
        )
        .await
        .unwrap();
    assert_eq!(moved.version, east.version + 1);
    assert_eq!(deals(rep.clone(), "north").await, sorted(["东区", "北区"]));
    let stored = s
        .record_custom_values(std::slice::from_ref(&deal_region), bare.id)
        .await
        .unwrap();
    assert!(stored.is_empty());
    let audited = s
        .list_audit(&AuditFilter {
            action: Some("update_custom".into()),
            entity: Some("opportunity".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(audited, 3, "two creates and the update");
    // Tickets: the same, in the desk's list.
    let ticket = |subject: &str| {
        NewTicket {
            customer_id: Some(c.id),
            contact_name: None,
            contact_address: None,
            kind: TicketKind::Enquiry,
            category_id: None,
            priority: None,
            channel: guanxi_domain::vocabulary::InteractionChannel::Phone,
            subject: subject.into(),
            body: None,
            queue_id: None,
            order_id: None,
            product_sku: None,
            severe: false,
            custom: Default::default(),
        }
        .validate()
        .unwrap()
    };
    s.create_ticket_with(&admin, ticket("东区报修"), &[set(&ticket_region, "east")])
        .await
        .unwrap();
    s.create_ticket(&admin, ticket("未分区")).await.unwrap();
    let reader = &admin;
    let tickets = |v: &'static str| async move {
        s.list_tickets(
            reader,
            &TicketFilter {
                view: TicketView::All,
                state: TicketState::All,
                kind: None,
                category_id: None,
                q: None,
                limit: 50,
                offset: 0,
                custom: vec![eq("region", v)],
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.subject)
        .collect::<Vec<_>>()
    };
    assert_eq!(tickets("east").await, vec!["东区报修"]);
    assert!(
        tickets("north").await.is_empty(),
        "the customer's field is not the ticket's"
    );
}
