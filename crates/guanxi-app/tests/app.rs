//! Use cases on both backends: authorisation by allow-list before anything is stored, masking
//! and the sensitive-read audit in one place for every adapter.

use guanxi_app::AppError;
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::user::NewUser;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::Backend;

fn new_user(username: &str, password: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: username.into(),
        password: password.into(),
        role: Role::Sales,
        team_id: None,
        see_all_customers: false,
        locale: None,
    }
}

async fn creating_users_needs_manage_users(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let manager = user(s, "boss", Role::Manager, None).await;
    let r = guanxi_app::users::create_user(s, &manager, new_user("rep1", "long enough pw")).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    let r = guanxi_app::users::create_user(s, &Actor::system(), new_user("rep1", "short")).await;
    assert!(matches!(r, Err(AppError::Invalid(_))), "{r:?}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE username = 'rep1'")
            .await,
        0,
        "nothing stored for a refused or invalid request"
    );
    let u = guanxi_app::users::create_user(s, &Actor::system(), new_user("rep1", "long enough pw"))
        .await
        .unwrap();
    assert_eq!(u.username, "rep1");
    let hash: String = db
        .scalar_text("SELECT password_hash FROM users WHERE username = 'rep1'")
        .await;
    assert!(hash.starts_with("$argon2id$"), "stored as argon2id");
    assert!(guanxi_app::passwords::verify_password(hash, "long enough pw".into()).await);
}

#[tokio::test]
async fn creating_users_needs_manage_users_sqlite() {
    creating_users_needs_manage_users(Backend::Sqlite).await
}

#[tokio::test]
async fn creating_users_needs_manage_users_postgres() {
    creating_users_needs_manage_users(Backend::Postgres).await
}

fn as_of() -> guanxi_domain::segment::AsOf {
    let now = chrono::Utc::now();
    guanxi_domain::segment::AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    }
}

/// A customer in 上海 owned by `owner`.
async fn shanghai_customer(s: &guanxi_store::Store, owner: &Actor, name: &str) {
    let f: guanxi_domain::customer::CustomerFields = serde_json::from_value(
        serde_json::json!({"kind": "individual", "name": name, "city": "上海"}),
    )
    .unwrap();
    s.create_customer(owner, f.validate(owner.id, chrono::Utc::now()).unwrap())
        .await
        .unwrap();
}

/// Segments through the application layer: who may save, size and export (the allow-list,
/// before anything is stored or read), sizes in the reader's own scope, an export through the
/// one writer (formula-safe, audited with its row count), and a list narrowed by a bad rule or
/// a missing segment is a query problem, not a server error.
async fn segments_are_authorised_and_sized_for_the_reader(backend: Backend) {
    use guanxi_app::segments as uc;
    use guanxi_domain::segment::{RuleClause, SegmentInput, SegmentRule};
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "rep2", Role::Sales, None).await;
    let marketer = user(s, "mkt", Role::Marketing, None).await;
    shanghai_customer(s, &rep, "张三").await;
    shanghai_customer(s, &other, "=HYPERLINK(\"x\")").await;
    shanghai_customer(s, &other, "李四").await;
    let input = SegmentInput {
        name: "上海客户".into(),
        description: String::new(),
        rule: SegmentRule {
            match_: "all".into(),
            clauses: vec![RuleClause {
                field: "city".into(),
                op: "eq".into(),
                value: "上海".into(),
                ..Default::default()
            }],
        },
    };
    let r = uc::create_segment(s, as_of(), &rep, &input).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM segments").await, 0);
    let (seg, size) = uc::create_segment(s, as_of(), &marketer, &input)
        .await
        .unwrap();
    assert_eq!(size, 3, "marketing sees the whole book");
    let (_, rep_size) = uc::get_sized(s, as_of(), &rep, seg.id).await.unwrap();
    assert_eq!(
        rep_size, 1,
        "a rep sees how many of his own customers match"
    );
    assert_eq!(uc::preview(s, as_of(), &rep, &input.rule).await.unwrap(), 1);

    // The list of segments: saving queued a count of the sizes (as the system); until it has
    // run the list counts live, then it shows the sizes counted for each reader, with when,
    // and a segment changed since is counted live again. Counting is not a rep's to run.
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'segments.size' AND requested_by IS NULL"
        )
        .await,
        1
    );
    let listed = |v: Vec<(guanxi_store::segments::Segment, uc::ListedSize)>| v[0].1;
    let live = listed(uc::list_segments(s, as_of(), &rep).await.unwrap());
    assert_eq!((live.size, live.counted_at), (1, None));
    let r = uc::size_saved_segments(s, as_of(), &rep).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    uc::size_saved_segments(s, as_of(), &Actor::system())
        .await
        .unwrap();
    for (reader, size) in [(&rep, 1), (&marketer, 3)] {
        let counted = listed(uc::list_segments(s, as_of(), reader).await.unwrap());
        assert_eq!(counted.size, size);
        assert!(counted.counted_at.is_some());
    }
    let changed = uc::update_segment(s, as_of(), &marketer, seg.id, seg.version, &input)
        .await
        .unwrap()
        .0;
    let live = listed(uc::list_segments(s, as_of(), &rep).await.unwrap());
    assert_eq!(
        (live.size, live.counted_at),
        (1, None),
        "changed since the count"
    );
    let seg = changed;

    // Export: the rep lacks the permission; marketing's file is formula-safe and audited.
    let r = uc::export_csv(s, as_of(), &rep, guanxi_text::Locale::En, seg.id).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    let (name, bytes) = uc::export_csv(s, as_of(), &marketer, guanxi_text::Locale::En, seg.id)
        .await
        .unwrap();
    assert_eq!(name, "上海客户");
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text.lines().count(),
        4,
        "header and three customers:\n{text}"
    );
    assert!(text.contains("'=HYPERLINK"), "formula neutralised:\n{text}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND entity = 'segment'")
            .await,
        1
    );

    // Narrowing a list: a missing segment or a malformed rule is a query problem.
    let r = uc::list_narrowing(s, as_of(), &marketer, Some(seg.id + 100), None).await;
    match r {
        Err(AppError::InvalidQuery(v)) => assert_eq!(v.0[0].field, "segment_id"),
        other => panic!("{:?}", other.err()),
    }
    let r = uc::list_narrowing(s, as_of(), &marketer, None, Some("{not json")).await;
    assert!(matches!(r, Err(AppError::InvalidQuery(_))), "{:?}", r.err());
    let n = uc::list_narrowing(s, as_of(), &marketer, Some(seg.id), None)
        .await
        .unwrap();
    assert_eq!(n.segment.map(|x| x.id), Some(seg.id));
    assert!(n.filter.is_some());

    // Changing and deleting need the version last read and the permission.
    let r = uc::delete_segment(s, &rep, seg.id, seg.version).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    uc::delete_segment(s, &marketer, seg.id, seg.version)
        .await
        .unwrap();
    assert!(uc::list_segments(s, as_of(), &marketer)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn segments_are_authorised_and_sized_for_the_reader_sqlite() {
    segments_are_authorised_and_sized_for_the_reader(Backend::Sqlite).await
}

#[tokio::test]
async fn segments_are_authorised_and_sized_for_the_reader_postgres() {
    segments_are_authorised_and_sized_for_the_reader(Backend::Postgres).await
}

/// Contact points through the application layer: a viewer may read but not add, a value is
/// normalised for its kind on the way in and checked against the stored kind on a change, and
/// a change on a stale version is a conflict that leaves the stored point as it was.
async fn contact_points_are_authorised_normalised_and_versioned(backend: Backend) {
    use guanxi_app::contacts as uc;
    use guanxi_domain::customer::{ContactPointPatch, NewContactPoint};
    use guanxi_domain::vocabulary::ContactKind;
    use guanxi_store::StoreError;
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let viewer = user(s, "look", Role::Viewer, None).await;
    shanghai_customer(s, &rep, "王五").await;
    let id = db.scalar("SELECT MAX(id) FROM customers").await;
    let mobile = |v: &str| NewContactPoint {
        kind: ContactKind::Mobile,
        value: v.into(),
        label: None,
        is_primary: true,
        consent_marketing: false,
        source: None,
    };
    let r = uc::add_contact_point(s, &viewer, id, mobile("13912345678")).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    let r = uc::add_contact_point(s, &rep, id, mobile("12345")).await;
    assert!(matches!(r, Err(AppError::Invalid(_))), "{r:?}");
    let cp = uc::add_contact_point(s, &rep, id, mobile("139 1234 5678"))
        .await
        .unwrap();
    assert_eq!(cp.value_normalized, "+8613912345678");
    assert_eq!(
        uc::list_contact_points(s, &viewer, id).await.unwrap().len(),
        1
    );

    // A new value must still be a mobile; a stale version is refused.
    let bad = ContactPointPatch {
        version: cp.meta.version,
        value: Some("not a phone".into()),
        ..Default::default()
    };
    let r = uc::update_contact_point(s, &rep, cp.id, bad).await;
    assert!(
        matches!(r, Err(AppError::Store(StoreError::Invalid(ref v))) if v.0[0].field == "value"),
        "{r:?}"
    );
    let consent = |version| ContactPointPatch {
        version,
        consent_marketing: Some(true),
        ..Default::default()
    };
    let cp2 = uc::update_contact_point(s, &rep, cp.id, consent(cp.meta.version))
        .await
        .unwrap();
    assert!(cp2.consent_marketing);
    let r = uc::update_contact_point(s, &rep, cp.id, consent(cp.meta.version)).await;
    assert!(
        matches!(r, Err(AppError::Store(StoreError::Conflict { .. }))),
        "{r:?}"
    );
    let now = uc::get_contact_point(s, &rep, cp.id).await.unwrap();
    assert_eq!(
        now.meta.version, cp2.meta.version,
        "the refused change wrote nothing"
    );
}

#[tokio::test]
async fn contact_points_are_authorised_normalised_and_versioned_sqlite() {
    contact_points_are_authorised_normalised_and_versioned(Backend::Sqlite).await
}

#[tokio::test]
async fn contact_points_are_authorised_normalised_and_versioned_postgres() {
    contact_points_are_authorised_normalised_and_versioned(Backend::Postgres).await
}

/// Creating and changing customers through the application layer: naming another owner needs
/// `ReassignCustomers` (a rep is refused and nothing is stored; a manager may), a likely
/// duplicate the actor can see stops the creation with the match unless confirmed, and one
/// the actor cannot see is never named.
async fn customers_need_the_reassign_permission_and_warn_of_duplicates(backend: Backend) {
    use guanxi_app::customers as uc;
    use guanxi_domain::customer::{CustomerFields, CustomerPatch};
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "rep2", Role::Sales, None).await;
    let boss = user(s, "boss", Role::Manager, None).await;
    let fields = |name: &str, owner: Option<i64>, mobile: &str| -> CustomerFields {
        serde_json::from_value(serde_json::json!({
            "kind": "individual", "name": name, "owner_id": owner,
            "contact_points": [{"kind": "mobile", "value": mobile}]
        }))
        .unwrap()
    };
    let r = uc::create_customer(
        s,
        &rep,
        fields("赵一", Some(other.id), "13800000001"),
        false,
    )
    .await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM customers").await, 0);
    let mine = uc::create_customer(s, &rep, fields("赵一", None, "13800000001"), false)
        .await
        .unwrap();
    assert_eq!(mine.owner_id, Some(rep.id));

    // The same number again: the rep is shown his own customer; the other rep, who cannot see
    // it, is not told about it.
    let r = uc::create_customer(s, &rep, fields("赵一一", None, "138 0000 0001"), false).await;
    match r {
        Err(AppError::PossibleDuplicate(c)) => assert_eq!(c[0].customer_id, mine.id),
        other => panic!("{:?}", other.map(|c| c.id)),
    }
    let theirs = uc::create_customer(s, &other, fields("赵一一", None, "13800000001"), false)
        .await
        .unwrap();
    assert_ne!(theirs.id, mine.id);
    uc::create_customer(s, &rep, fields("赵一二", None, "13800000001"), true)
        .await
        .unwrap();

    // Moving a customer to another owner: refused for the rep, allowed for the manager.
    let move_to = |owner, version| CustomerPatch {
        version,
        owner_id: Some(owner),
        ..Default::default()
    };
    let r = uc::update_customer(s, &rep, mine.id, move_to(other.id, mine.meta.version)).await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    let same = uc::update_customer(s, &rep, mine.id, move_to(rep.id, mine.meta.version))
        .await
        .unwrap();
    assert_eq!(
        same.owner_id,
        Some(rep.id),
        "naming the same owner is no move"
    );
    let moved = uc::update_customer(s, &boss, mine.id, move_to(other.id, same.meta.version))
        .await
        .unwrap();
    assert_eq!(moved.owner_id, Some(other.id));
}

#[tokio::test]
async fn customers_need_the_reassign_permission_and_warn_of_duplicates_sqlite() {
    customers_need_the_reassign_permission_and_warn_of_duplicates(Backend::Sqlite).await
}

#[tokio::test]
async fn customers_need_the_reassign_permission_and_warn_of_duplicates_postgres() {
    customers_need_the_reassign_permission_and_warn_of_duplicates(Backend::Postgres).await
}
