//! Test harness: a fresh database per test on each backend. SQLite gets a new temporary file;
//! PostgreSQL gets a new schema in `GUANXI_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). A PostgreSQL that cannot be reached is a test
//! failure with instructions, never a silent skip.

use std::sync::atomic::{AtomicU64, Ordering};

use guanxi_domain::role::{Actor, Role};

use crate::db::{Backend, Store};
use crate::users::UserInsert;

/// Declares, for each named `async fn name(db: &TestDb)`, a test module `name` with a `sqlite`
/// and a `postgres` test: every store test runs on both backends, and a test file cannot forget
/// one of them.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name(&$crate::testing::TestDb::new($crate::Backend::Sqlite).await).await }
            #[tokio::test]
            async fn postgres() { super::$name(&$crate::testing::TestDb::new($crate::Backend::Postgres).await).await }
        }
    )*};
}

/// A user of `role` (in `team`, if any) created by the system, as the actor a use case gets:
/// every store test starts from one.
pub async fn user(s: &Store, name: &str, role: Role, team: Option<i64>) -> Actor {
    let u = s
        .create_user(
            &Actor::system(),
            UserInsert {
                username: name,
                display_name: name,
                password_hash: "x",
                role,
                team_id: team,
                see_all_customers: false,
                locale: "en",
            },
        )
        .await
        .unwrap_or_else(|e| panic!("create user {name}: {e}"));
    Actor {
        id: u.id,
        name: u.username,
        role,
        team_id: team,
        scope: role.default_scope(),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Default PostgreSQL URL for tests.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, migrated database that is removed when dropped.
pub struct TestDb {
    /// The store.
    pub store: Store,
    /// The URL it was opened with (to start a server against the same database).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    )
}

impl TestDb {
    /// Runs one SQL statement on the write pool: for a test that must put the database in a
    /// state no use case produces (a timestamp in the past, say).
    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql)
            .execute(&self.store.write)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Reads one integer with one SQL statement: for a test that checks a table no use case
    /// reads back directly (what an erasure left behind, say).
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.store.read)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Reads one text value with one SQL statement (a stored hash, say).
    pub async fn scalar_text(&self, sql: &str) -> String {
        sqlx::query_scalar(sql)
            .fetch_one(&self.store.read)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Reads one text column of every row of one SQL statement (a catalogue listing, say).
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sql)
            .fetch_all(&self.store.read)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Starts a long write on a connection outside the store's pools, as `guanxi import` in
    /// another process does, and holds it until [`HeldWriter::release`]. SQLite: an
    /// `IMMEDIATE` transaction that has written (the file's one write lock). PostgreSQL: a
    /// transaction holding `api_tokens`, `sessions` and `customers` in `EXCLUSIVE` mode, which
    /// lets plain reads through and makes every write to them wait.
    pub async fn hold_writer(&self) -> HeldWriter {
        match self.store.backend() {
            Backend::Sqlite => {
                let conn = self
                    .store
                    .rusqlite(true)
                    .expect("open a second SQLite connection");
                conn.execute_batch("BEGIN IMMEDIATE; UPDATE api_tokens SET name = name;")
                    .expect("hold the SQLite write lock");
                HeldWriter::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = self.store.pg().await.expect("open a PostgreSQL connection");
                sqlx::raw_sql(
                    "BEGIN; LOCK TABLE api_tokens, sessions, customers IN EXCLUSIVE MODE; \
                     UPDATE api_tokens SET name = name;",
                )
                .execute(&mut conn)
                .await
                .expect("hold PostgreSQL's table locks");
                HeldWriter::Postgres(conn)
            }
        }
    }

    /// A fresh database on `backend`.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("guanxi_test")));
                let url = format!("sqlite://{}", path.display());
                let store = Store::connect(&url)
                    .await
                    .expect("open SQLite test database");
                TestDb {
                    store,
                    url,
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("GUANXI_TEST_PG_URL")
                    .unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
                let schema = unique("gx_test");
                sqlx::any::install_default_drivers();
                let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required for the store tests and is not reachable at {admin_url}: {e}.\n\
                         Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
                         or point GUANXI_TEST_PG_URL at a server."
                    )
                });
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test schema");
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                // The schema's name as application_name too, so the cleanup can find this
                // test's own sessions.
                let url = format!(
                    "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
                );
                let store = Store::connect(&url)
                    .await
                    .expect("open PostgreSQL test schema");
                TestDb {
                    store,
                    url,
                    cleanup: Cleanup::Schema { admin_url, schema },
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Schema { admin_url, schema } => {
                let (url, schema) = (admin_url.clone(), schema.clone());
                // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(mut c) =
                                <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await
                            {
                                // The test is over, but a connection of its pool may still
                                // hold a transaction whose rollback waits for the test's
                                // runtime (blocked right here in `drop`): end this test's own
                                // sessions first, or the DROP would wait for them forever.
                                let _ = sqlx::query(
                                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                                )
                                .bind(schema.as_str())
                                .execute(&mut c)
                                .await;
                                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                                    .execute(&mut c)
                                    .await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

/// A long write held open by [`TestDb::hold_writer`].
pub enum HeldWriter {
    /// The SQLite connection inside its transaction.
    Sqlite(rusqlite::Connection),
    /// The PostgreSQL connection inside its transaction.
    Postgres(sqlx::PgConnection),
}

impl HeldWriter {
    /// Rolls the held write back and closes its connection.
    pub async fn release(self) {
        match self {
            HeldWriter::Sqlite(conn) => {
                conn.execute_batch("ROLLBACK").expect("roll back");
            }
            HeldWriter::Postgres(mut conn) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("roll back");
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}

/// Both backends, for tests that must pass on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
