//! Store tests: users, sessions and tokens. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(
    duplicate_username_is_reported,
    expired_sessions_are_swept_at_login,
    token_use_is_recorded_at_most_once_a_minute,
    a_token_read_is_not_held_up_by_a_long_write,
);

async fn duplicate_username_is_reported(db: &TestDb) {
    let s = &db.store;
    user(s, "dup", Role::Viewer, None).await;
    let again = s
        .create_user(
            &Actor::system(),
            UserInsert {
                username: "dup",
                display_name: "d",
                password_hash: "x",
                role: Role::Viewer,
                team_id: None,
                see_all_customers: false,
                locale: "en",
            },
        )
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Duplicate { field: "username" })
    ));
    assert_eq!(s.count_users().await.unwrap(), 1);
}

async fn expired_sessions_are_swept_at_login(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "sleeper", Role::Sales, None).await;
    let past = Utc::now() - chrono::Duration::hours(1);
    let future = Utc::now() + chrono::Duration::hours(8);
    s.create_session("old-1", u.id, "c1", past).await.unwrap();
    s.create_session("old-2", u.id, "c2", past).await.unwrap();
    // The second login swept the first session; a third sweeps the second.
    s.create_session("live", u.id, "c3", future).await.unwrap();
    assert_eq!(s.purge_expired_sessions().await.unwrap(), 0);
    assert!(s.get_session("live").await.unwrap().is_some());
    s.create_session("old-3", u.id, "c4", past).await.unwrap();
    assert_eq!(s.purge_expired_sessions().await.unwrap(), 1);
    assert!(s.get_session("live").await.unwrap().is_some());
}

async fn token_use_is_recorded_at_most_once_a_minute(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "script", Role::Sales, None).await;
    s.create_token(&Actor::system(), u.id, "cron", "digest-1", "gx_abc", None)
        .await
        .unwrap();
    let last_used = || async {
        s.list_tokens(u.id).await.unwrap()[0]
            .last_used_at
            .expect("used")
    };
    assert_eq!(
        s.user_for_token("digest-1").await.unwrap().unwrap().id,
        u.id
    );
    let first = last_used().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..3 {
        assert!(s.user_for_token("digest-1").await.unwrap().is_some());
    }
    assert_eq!(last_used().await, first, "no write within the minute");
    // A use older than the minute is refreshed on the next call.
    let stale = (Utc::now() - chrono::Duration::minutes(2)).timestamp_millis();
    db.execute(&format!("UPDATE api_tokens SET last_used_at = {stale}"))
        .await;
    assert!(s.user_for_token("digest-1").await.unwrap().is_some());
    assert!(last_used().await > first);
}

/// Issue #13: while a long write (an import in another process) holds the writer, a request
/// with a bearer token still reads at once — the token's "last used" bookkeeping does not wait
/// for the writer — and a write gives up after the lock wait with `Busy`, not a failure.
async fn a_token_read_is_not_held_up_by_a_long_write(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "reader", Role::Sales, None).await;
    s.create_token(&Actor::system(), u.id, "cron", "digest-2", "gx_def", None)
        .await
        .unwrap();
    let stale = (Utc::now() - chrono::Duration::minutes(2)).timestamp_millis();
    db.execute(&format!("UPDATE api_tokens SET last_used_at = {stale}"))
        .await;

    let held = db.hold_writer().await;
    let start = std::time::Instant::now();
    for _ in 0..5 {
        let found = s.user_for_token("digest-2").await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(u.id));
    }
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_millis(200), "{took:?}");

    let start = std::time::Instant::now();
    let future = Utc::now() + chrono::Duration::hours(1);
    let err = s
        .create_session("blocked", u.id, "c", future)
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
    held.release().await;

    // Once the write is over, the bookkeeping catches up and writes go through.
    assert!(s.user_for_token("digest-2").await.unwrap().is_some());
    let used = s.list_tokens(u.id).await.unwrap()[0].last_used_at.unwrap();
    assert!(used.timestamp_millis() > stale);
    s.create_session("after", u.id, "c", future).await.unwrap();
}
