//! `guanxi backup` while the server keeps writing, then `guanxi restore`: the restored book is
//! the database as of one instant during the backup — every customer acknowledged before the
//! backup began is there, nothing written after it finished is, and there is no gap between.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{guanxi, text};
use guanxi_domain::customer::CustomerFields;
use guanxi_domain::role::Actor;
use guanxi_store::customers::{CustomerFilter, CustomerSort};
use guanxi_store::testing::TestDb;
use guanxi_store::{Backend, Store};

fn person(i: usize) -> CustomerFields {
    serde_json::from_value(serde_json::json!({"kind": "individual", "name": format!("客户{i}")}))
        .unwrap()
}

async fn all_ids(store: &Store) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let f = CustomerFilter {
            sort: CustomerSort::Id,
            cursor,
            limit: 200,
            ..Default::default()
        };
        let page = store.list_customers(&Actor::system(), &f).await.unwrap();
        ids.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return ids,
        }
    }
}

async fn backup_during_writes_restores_one_instant(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sys = Actor::system();
    for i in 0..50 {
        let v = person(i).validate(0, chrono::Utc::now()).unwrap();
        db.store.create_customer(&sys, v).await.unwrap();
    }
    // A writer that keeps creating customers, noting when each was acknowledged.
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acked, stop) = (db.store.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 1000;
            while !stop.load(Ordering::Relaxed) {
                let v = person(i).validate(0, chrono::Utc::now()).unwrap();
                let c = store.create_customer(&Actor::system(), v).await.unwrap();
                acked.lock().unwrap().push((c.id, Instant::now()));
                i += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let file = std::env::temp_dir().join(format!(
        "guanxi_backup_{}_{backend:?}.bak",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap().to_string();
    let began = Instant::now();
    let url = db.url.clone();
    let p = path.clone();
    let out = tokio::task::spawn_blocking(move || guanxi(&url, &["backup", &p]))
        .await
        .unwrap();
    let finished = Instant::now();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backed up"), "{}", text(&out));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.iter().any(|(_, at)| *at < began) && acked.iter().any(|(_, at)| *at > finished),
        "the writer wrote before and after the backup"
    );
    // A second backup to the same name is refused.
    let out = guanxi(&db.url, &["backup", &path]);
    assert!(
        !out.status.success() && text(&out).contains("--overwrite"),
        "{}",
        text(&out)
    );

    // Restore over a database that holds customers needs --replace.
    let out = guanxi(&db.url, &["restore", &path]);
    assert!(
        !out.status.success() && text(&out).contains("--replace"),
        "{}",
        text(&out)
    );
    let out = guanxi(&db.url, &["restore", &path, "--replace"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("restored"), "{}", text(&out));

    let restored = Store::connect(&db.url).await.unwrap();
    let have: std::collections::BTreeSet<i64> = all_ids(&restored).await.into_iter().collect();
    for (id, at) in &acked {
        if *at < began {
            assert!(
                have.contains(id),
                "customer {id}, acknowledged before the backup, is lost"
            );
        }
        if *at > finished {
            assert!(
                !have.contains(id),
                "customer {id}, written after the backup, is in it"
            );
        }
    }
    // One instant: the restored writer's rows are a prefix of what it wrote, with no gap.
    let max = *have.iter().max().unwrap();
    for (id, _) in &acked {
        assert_eq!(have.contains(id), *id <= max, "gap at customer {id}");
    }
    assert_eq!(
        have.len(),
        50 + acked.iter().filter(|(id, _)| *id <= max).count()
    );
    restored.close().await;
    let _ = std::fs::remove_file(&file);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!(
            "{}.pre-restore{suffix}",
            db.url.trim_start_matches("sqlite://")
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_sqlite() {
    backup_during_writes_restores_one_instant(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_postgres() {
    backup_during_writes_restores_one_instant(Backend::Postgres).await
}

/// A file that is not a Guanxi database is refused before anything is replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_file_that_is_not_a_backup() {
    let db = TestDb::new(Backend::Sqlite).await;
    let junk = std::env::temp_dir().join(format!("guanxi_junk_{}.bak", std::process::id()));
    std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
    let out = guanxi(&db.url, &["restore", junk.to_str().unwrap(), "--replace"]);
    assert!(!out.status.success(), "{}", text(&out));
    let v = person(1).validate(0, chrono::Utc::now()).unwrap();
    db.store
        .create_customer(&Actor::system(), v)
        .await
        .expect("database still usable");
    let _ = std::fs::remove_file(&junk);
}
