//! Store tests: the durable job queue. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(the_job_queue_leases_fences_retries_and_dedupes,);

async fn the_job_queue_leases_fences_retries_and_dedupes(db: &TestDb) {
    use guanxi_store::audit::AuditEvent;
    use guanxi_store::jobs::{Enqueued, JobFilter, JobState, NewJob};
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let job = |key: Option<&str>| NewJob {
        kind: "test.echo".into(),
        dedupe_key: key.map(String::from),
        payload: json!({"n": 1}),
        run_at: None,
        max_attempts: 2,
    };
    // One active job per key; other keys and keyless jobs queue freely.
    let first = s.enqueue_job(&admin, job(Some("k"))).await.unwrap();
    assert!(matches!(first, Enqueued::Created(_)));
    assert_eq!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::AlreadyActive(first.id())
    );
    let later = NewJob {
        run_at: Some(Utc::now() + chrono::Duration::hours(1)),
        ..job(Some("other"))
    };
    s.enqueue_job(&admin, later).await.unwrap();
    // Only due jobs of the asked kinds are claimed.
    assert!(s
        .claim_job("w1", &["nope"], 60_000)
        .await
        .unwrap()
        .is_none());
    let lease = s
        .claim_job("w1", &["test.echo"], -1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.id, lease.attempt), (first.id(), 1));
    assert_eq!(lease.payload, json!({"n": 1}));
    assert_eq!(lease.requested_by_name, "admin");
    // Running counts as active for the key.
    assert_eq!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::AlreadyActive(first.id())
    );
    // Its lease has run out (a killed worker): another worker takes it over, and the first
    // worker's heartbeat and completion are refused.
    let taken = s
        .claim_job("w2", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempt), (first.id(), 2));
    assert!(!s.extend_job_lease(&lease, 60_000).await.unwrap());
    assert!(matches!(
        s.complete_job(&lease, json!({}), None).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(s.fail_job(&lease, "late").await.unwrap(), None);
    assert!(s.extend_job_lease(&taken, 60_000).await.unwrap());
    // Nothing else is due while w2 holds it.
    assert!(s
        .claim_job("w3", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    let ev = AuditEvent {
        action: "test_echo",
        entity: "jobs",
        entity_id: Some(taken.id),
        detail: json!({}),
    };
    s.complete_job(&taken, json!({"echo": 1}), Some((&admin, ev)))
        .await
        .unwrap();
    let done = s.get_job(first.id()).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result, Some(json!({"echo": 1})));
    assert_eq!(done.attempts, 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'test_echo'")
            .await,
        1
    );
    // A finished job frees its key.
    assert!(matches!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::Created(_)
    ));

    // Failures retry after a backoff and give up after max_attempts.
    let f = s.enqueue_job(&admin, job(None)).await.unwrap().id();
    db.execute(&format!("UPDATE jobs SET run_at = 0 WHERE id <> {f}"))
        .await;
    db.execute(&format!("UPDATE jobs SET state = 'done' WHERE id <> {f}"))
        .await;
    let a1 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a1.id, f);
    assert_eq!(
        s.fail_job(&a1, "boom").await.unwrap(),
        Some(JobState::Queued)
    );
    let retry = s.get_job(f).await.unwrap();
    assert!(retry.run_at > Utc::now() + chrono::Duration::seconds(5));
    assert_eq!(retry.last_error.as_deref(), Some("boom"));
    assert!(s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    db.execute(&format!("UPDATE jobs SET run_at = 0 WHERE id = {f}"))
        .await;
    let a2 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.fail_job(&a2, "boom again").await.unwrap(),
        Some(JobState::Failed)
    );
    let failed = s.get_job(f).await.unwrap();
    assert_eq!((failed.state, failed.attempts), (JobState::Failed, 2));
    assert!(failed.finished_at.is_some());
    let listed = s
        .list_jobs(&JobFilter {
            state: Some(JobState::Failed),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![f]);

    // An operator retries the failed job: due now, a fresh budget, audited.
    let again = s.retry_job(&admin, f).await.unwrap();
    assert_eq!(again.state, JobState::Queued);
    assert_eq!((again.attempts, again.max_attempts), (2, 4));
    assert!(again.finished_at.is_none() && again.run_at <= Utc::now());
    let a3 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a3.id, a3.attempt), (f, 3));
    // Only failed or cancelled jobs can be retried; only queued ones cancelled.
    let refused = |r: Result<guanxi_store::jobs::Job, StoreError>, code: &str| match r {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, code),
        other => panic!("expected {code}, got {other:?}"),
    };
    refused(s.retry_job(&admin, f).await, "job_state");
    refused(s.cancel_job(&admin, f).await, "job_state");
    assert!(matches!(
        s.retry_job(&admin, 999_999).await,
        Err(StoreError::NotFound)
    ));
    s.complete_job(&a3, json!({}), None).await.unwrap();
    let queued = s.enqueue_job(&admin, job(Some("c"))).await.unwrap().id();
    let cancelled = s.cancel_job(&admin, queued).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.last_error.as_deref(), Some("cancelled by admin"));
    assert!(s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    // Retrying a cancelled job whose key is taken by a newer active job is refused.
    let newer = s.enqueue_job(&admin, job(Some("c"))).await.unwrap();
    assert!(matches!(newer, Enqueued::Created(_)));
    refused(s.retry_job(&admin, queued).await, "job_active");
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND action IN ('retry_job', 'cancel_job')"
        )
        .await,
        2
    );
}
