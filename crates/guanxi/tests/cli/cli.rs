//! The `guanxi` binary as a user runs it: users, CSV import, demo + serve.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{free_port, guanxi, serve_command, text, wait_for_health};

use guanxi_domain::role::Actor;
use guanxi_store::customers::CustomerFilter;
use guanxi_store::testing::TestDb;
use guanxi_store::Backend;

async fn count(db: &TestDb) -> usize {
    db.store
        .list_customers(
            &Actor::system(),
            &CustomerFilter {
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .len()
}

fn write_csv(body: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(body)
}

/// A tiny temp-file helper (no extra dependency).
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);
    impl TempFile {
        pub fn new(body: &str) -> Self {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "guanxi_cli_{}_{}.csv",
                std::process::id(),
                N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            std::fs::write(&p, body).unwrap();
            TempFile(p)
        }
        pub fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

async fn users_import(backend: Backend) {
    let db = TestDb::new(backend).await;
    let out = guanxi(
        &db.url,
        &["user", "add", "boss", "--role", "admin", "--team", "HQ"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    let pw = t
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed");
    assert!(pw.len() >= 20);
    let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args([
            "user",
            "add",
            "rep",
            "--role",
            "sales",
            "--password-stdin",
            "--database-url",
            &db.url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "a short password is refused");
    assert!(text(&out).contains("at least 10"), "{}", text(&out));
    let out = guanxi(&db.url, &["user", "add", "rep", "--role", "wizard"]);
    assert!(!out.status.success() && text(&out).contains("unknown role"));
    let out = guanxi(&db.url, &["user", "list"]);
    assert!(
        text(&out).contains("boss") && text(&out).contains("HQ"),
        "{}",
        text(&out)
    );

    // A file with two bad rows: nothing is imported, each problem is named.
    let bad = write_csv("姓名,手机,email,性别,生日\n张三,13812345678,zs@example.com,male,1990-08-08\n李四,12,ls@example,female,1991-02-30\n王五,13912345678,,x,\n");
    let out = guanxi(
        &db.url,
        &[
            "import",
            "customers",
            bad.path(),
            "--map",
            "姓名=name",
            "--map",
            "手机=mobile",
            "--map",
            "性别=gender",
            "--map",
            "生日=birthday",
        ],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    for expected in [
        "line 3: column 手机",
        "line 3: column email",
        "line 3: column 生日",
        "line 4: column 性别",
        "nothing was imported",
    ] {
        assert!(t.contains(expected), "missing `{expected}` in:\n{t}");
    }
    assert_eq!(count(&db).await, 0);
    let out = guanxi(
        &db.url,
        &[
            "import",
            "customers",
            bad.path(),
            "--map",
            "姓名=name",
            "--map",
            "手机=mobile",
            "--map",
            "性别=gender",
            "--map",
            "生日=birthday",
            "--skip-invalid",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(
            "imported 1 customers, updated 0; 0 rows skipped as duplicates, 2 as invalid"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(count(&db).await, 1);
    let hits = db
        .store
        .identify(&Actor::system(), "138 1234 5678", 5)
        .await
        .unwrap();
    assert_eq!(hits[0].name, "张三");
    // Duplicates of a stored customer (line 2: 张三's mobile in another format) and of an
    // earlier row (line 4: line 3's email) are problems by default, reported by line.
    let dups = write_csv("name,mobile,email,city\n张三,+86 138-1234-5678,,杭州\n赵六,13700000001,zl@example.com,\n赵 六,,ZL@example.com,\n");
    let import = |mode: &str| {
        guanxi(
            &db.url,
            &["import", "customers", dups.path(), "--on-duplicate", mode],
        )
    };
    let out = import("fail");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("line 2: column mobile"), "{t}");
    assert!(t.contains("line 4: column email"), "{t}");
    assert!(t.contains("nothing was imported"), "{t}");
    assert_eq!(count(&db).await, 1);
    let out = import("skip");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("line 2: skipped, duplicate of customer #"),
        "{t}"
    );
    assert!(t.contains("line 4: skipped, duplicate of line 3"), "{t}");
    assert!(
        t.contains("imported 1 customers, updated 0; 2 rows skipped as duplicates"),
        "{t}"
    );
    assert_eq!(count(&db).await, 2);
    // Update: 张三 gets the city, 赵六 is updated from line 3; two rows of the file for one
    // customer (line 4) cannot both be laid over it, so that row is a problem.
    let out = import("update");
    assert!(!out.status.success(), "{}", text(&out));
    let out = guanxi(
        &db.url,
        &[
            "import",
            "customers",
            dups.path(),
            "--on-duplicate",
            "update",
            "--skip-invalid",
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("line 4: column email"), "{t}");
    assert!(
        t.contains("imported 0 customers, updated 2; 0 rows skipped as duplicates, 1 as invalid"),
        "{t}"
    );
    let zs = db
        .store
        .identify(&Actor::system(), "13812345678", 5)
        .await
        .unwrap();
    let zs = db
        .store
        .get_customer(&Actor::system(), zs[0].customer_id)
        .await
        .unwrap();
    assert_eq!(zs.city.as_deref(), Some("杭州"));
    assert_eq!(count(&db).await, 2);
    let out = import("create");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&db).await, 5);
    // Unknown columns are refused unless ignored; a row with more cells than the header (data
    // that would be lost) is reported by line; a short row is padded.
    let odd = write_csv("name,shoe_size\nAnn,42\n");
    let out = guanxi(&db.url, &["import", "customers", odd.path()]);
    assert!(!out.status.success() && text(&out).contains("shoe_size"));
    let ragged = write_csv("name,city\nAnn,上海\nBob,北京,?\n");
    let out = guanxi(&db.url, &["import", "customers", ragged.path()]);
    assert!(
        !out.status.success() && text(&out).contains("line 3"),
        "{}",
        text(&out)
    );
    let empty = write_csv("");
    let out = guanxi(&db.url, &["import", "customers", empty.path()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(count(&db).await, 5);
    // The CLI's score refresh goes through the same use case as the server's: audited once.
    let out = guanxi(&db.url, &["scores", "refresh"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refresh_scores' AND actor_name = 'system'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_import_sqlite() {
    users_import(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_import_postgres() {
    users_import(Backend::Postgres).await
}

/// `guanxi demo` loads the full-size demo set and leaves a server answering with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_the_demo_data() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args([
            "demo",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db.url,
        ])
        .env("GUANXI_DEMO_PASSWORD", "demo-password-123")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let up = wait_for_health(&http, &base, 120).await;
    let result = async {
        assert!(up, "server did not come up");
        let r = http
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({"username": "manager", "password": "demo-password-123"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let (mut customers, mut companies, mut chinese) = (0, 0, 0);
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{base}/customers?limit=200&cursor={c}"),
                None => format!("{base}/customers?limit=200"),
            };
            let page: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            for c in page["items"].as_array().unwrap() {
                customers += 1;
                companies += (c["kind"] == "company") as usize;
                chinese += (c["name_pinyin"] != "") as usize;
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert!(customers >= 2000, "{customers} customers");
        assert!(
            companies >= 100 && chinese >= 1000 && customers - chinese >= 100,
            "{companies} companies, {chinese} Chinese names"
        );
        let (n_orders, revenue) = db.store.order_totals(&Actor::system()).await.unwrap();
        assert!(n_orders >= 50_000, "{n_orders} orders");
        assert!(revenue > 0);
        let hit: serde_json::Value = http
            .get(format!("{base}/customers/identify?q=wang"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !hit.as_array().unwrap().is_empty(),
            "pinyin finds demo customers"
        );
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// SIGTERM (what `kill`, systemd and container runtimes send) stops the server as Ctrl-C
/// does: it stops listening, finishes what is in flight and exits 0 — not killed mid-write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_the_server_down_gracefully() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = free_port();
    let mut child = serve_command(&db.url, port)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let up = wait_for_health(&reqwest::Client::new(), &base, 60).await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if std::time::Instant::now() > end {
            let _ = child.kill();
            break None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(up, "server did not come up: {log}");
    let status = status.expect("the server exits after SIGTERM");
    assert!(status.success(), "exit after SIGTERM: {status:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
}
