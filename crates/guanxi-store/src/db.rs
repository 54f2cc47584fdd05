//! Connecting, configuring and migrating. SQLite gets WAL, foreign keys, a busy timeout and a
//! single-connection writer pool (SQLite allows one writer; serialising writes in the pool
//! avoids SQLITE_BUSY under load) next to a reader pool. PostgreSQL uses one pool for both.
//!
//! No request waits long for the database: a pooled connection waits at most
//! [`POOL_WAIT`], and a lock held by somebody else (a long import in another process, a
//! refresh's swap) at most [`LOCK_WAIT_MS`] — SQLite's `busy_timeout`, PostgreSQL's
//! `lock_timeout`. Past that the store answers [`StoreError::Busy`](crate::StoreError::Busy),
//! which the web layer turns into 503 with `Retry-After`, instead of a 500 after ten seconds.
//! Migrations and the bulk paths open connections of their own without these limits.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::Result;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    pub(crate) write: AnyPool,
    pub(crate) read: AnyPool,
    /// The URL, for the native connections of the bulk paths.
    pub(crate) location: crate::bulk::Location,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The longest a request waits for a pooled connection.
pub(crate) const POOL_WAIT: Duration = Duration::from_secs(5);

/// The longest a statement waits for a lock another connection holds, in milliseconds.
pub(crate) const LOCK_WAIT_MS: u64 = 3000;

/// Set on every pooled SQLite connection.
fn sqlite_pragmas() -> String {
    format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {LOCK_WAIT_MS}; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    )
}

/// Set on every pooled PostgreSQL connection: the counterpart of SQLite's busy timeout, and
/// no JIT compilation. JIT pays off for long analytic scans; here it compiled a segment count
/// that costs a million in plan units for 166 ms of its 820 (issue #13), and every query a
/// page sends is answered in milliseconds or not at all.
fn postgres_settings() -> String {
    format!("SET lock_timeout = {LOCK_WAIT_MS}; SET jit = off")
}

/// `SELECT name, ddl` of a table's secondary indexes — those that back no constraint — with
/// the statement that builds each, by name: what a bulk path that drops and rebuilds indexes
/// (the score swap, the demo's load) reads from the catalogue. `table` is a trusted name.
pub(crate) fn secondary_indexes_sql(backend: Backend, table: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "SELECT name, sql AS ddl FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = '{table}' AND sql IS NOT NULL ORDER BY name"
        ),
        // The table's own indexes are picked first, in a materialised step, and only those are
        // rendered: `pg_indexes` renders through `pg_get_indexdef`, and a filter on its text
        // (the bulk load's "not unique") ran it on every index of the database, failing with
        // "cache lookup failed" when another schema was being dropped at the same moment.
        Backend::Postgres => format!(
            "WITH own AS MATERIALIZED (SELECT x.indexrelid FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE x.indrelid = '{table}'::regclass \
             AND i.relname NOT IN (SELECT conname FROM pg_constraint \
                                   WHERE conrelid = '{table}'::regclass)) \
             SELECT i.relname::text AS name, pg_get_indexdef(own.indexrelid) AS ddl \
             FROM own JOIN pg_class i ON i.oid = own.indexrelid ORDER BY i.relname"
        ),
    }
}

impl Store {
    /// Connects to `url` (`sqlite://file.db` or `postgres://…`), creating a SQLite file if
    /// missing, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating (for `guanxi migrate --check` style tooling and tests).
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            let opts = AnyConnectOptions::from_str(&url)?;
            let pool = |max: u32| {
                AnyPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(POOL_WAIT)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(sqlite_pragmas().as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts.clone())
            };
            let write = pool(1).await?;
            let read = pool(8).await?;
            Ok(Self {
                backend: Backend::Sqlite,
                write,
                read,
                location: crate::bulk::Location(url),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(POOL_WAIT)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(postgres_settings().as_str()).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            Ok(Self {
                backend: Backend::Postgres,
                write: pool.clone(),
                read: pool,
                location: crate::bulk::Location(url.to_string()),
            })
        } else {
            Err(sqlx::Error::Configuration(
                format!("unsupported database URL (use sqlite:// or postgres://): {url}").into(),
            )
            .into())
        }
    }

    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the file's write lock is
    /// taken at the start, waiting up to the busy timeout for another writer (the score
    /// refresh's child process, an import). A deferred transaction that reads first and
    /// writes later fails at once with `SQLITE_BUSY_SNAPSHOT` when another process committed
    /// in between, which the fuzzer met as a 503 on ticket writes.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// Applies pending migrations of this backend, on a connection of their own: a migration
    /// may wait for another process's lock (PostgreSQL's migration lock is per database) far
    /// longer than a request should.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.write).await?,
            Backend::Postgres => {
                let mut conn =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&self.location.0).await?;
                POSTGRES_MIGRATOR.run(&mut conn).await?;
                sqlx::Connection::close(conn).await?;
            }
        }
        // A bulk load that died with the customers' indexes set aside gets them back here.
        self.restore_set_aside_indexes().await?;
        self.seed_calendar_holidays().await?;
        self.fill_name_sort_keys().await
    }

    /// Computes the sort key of live customers that have none yet (rows from before migration
    /// 0007), a thousand per transaction. A no-op once done: one probe of the live customers'
    /// name index at each start (a deleted customer is never listed, so needs no key).
    async fn fill_name_sort_keys(&self) -> Result<()> {
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, name FROM customers WHERE name_sort = '' AND deleted_at IS NULL \
                 ORDER BY id LIMIT 1000",
            )
            .fetch_all(&self.write)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            for (id, name) in rows {
                // A name that no longer parses still gets a key, so the loop always ends.
                let key = guanxi_domain::name::CustomerName::parse(&name)
                    .map(|n| n.sort_key())
                    .unwrap_or_default();
                let key = if key.is_empty() { "0".to_string() } else { key };
                sqlx::query("UPDATE customers SET name_sort = $1 WHERE id = $2")
                    .bind(key)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Vacuums and analyses PostgreSQL tables after a bulk load. Without statistics the
    /// planner guesses row counts from a table's size (172 orders a month where there are
    /// 880), and until a vacuum marks the new pages all-visible an index-only scan still
    /// visits the heap: the dashboard's order pass took 20 ms instead of 7 on the demo book.
    /// Autovacuum gets there by itself minutes after a load, or never where it is off. SQLite
    /// is left alone: its plans are pinned by `CROSS JOIN` and `+` where it matters, and
    /// `sqlite_stat1` would move them. `tables` are the loaded ones (trusted names, never
    /// input); empty means all. Runs outside any transaction, as `VACUUM` must.
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<()> {
        if self.backend == Backend::Postgres {
            let sql = format!("VACUUM (ANALYZE) {}", tables.join(", "));
            sqlx::query(&sql).execute(&self.write).await?;
        }
        Ok(())
    }

    /// Rewrites the dashboard's rollups compactly after a bulk load (PostgreSQL's
    /// `VACUUM FULL`; SQLite needs nothing). A load adds to each (owner, hour) row once per
    /// chunk, and each addition leaves a new entry in the covering hour index that a plain
    /// vacuum empties but never shrinks: after the 1 M demo, 52,000 rows of `order_hours` sat
    /// in a 47 MB index (2.5 MB rewritten), a month's range read 160 pages, and the admin's
    /// dashboard took 30 ms instead of 10. Takes the tables' exclusive lock for a moment:
    /// for loads, not for a serving book.
    pub async fn compact_rollups(&self) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query(
                "VACUUM (FULL, ANALYZE) order_hours, customer_hours, customer_stages, \
                 order_owner_totals",
            )
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    /// Closes both pools (flushes SQLite's WAL on the last connection).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Tables and their columns as the database reports them, for comparing the two schemas.
    pub async fn schema(&self) -> Result<Vec<(String, String)>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name <> '_sqlx_migrations' ORDER BY 1, 2"
            }
            Backend::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                 ORDER BY 1, 2"
            }
        };
        Ok(sqlx::query_as::<_, (String, String)>(sql)
            .fetch_all(&self.read)
            .await?)
    }

    /// A table's indexes and constraints as the database describes them, sorted. The score
    /// refresh rebuilds `customer_scores` from the catalogue; tests compare this before and
    /// after to show nothing was lost.
    pub async fn table_layout(&self, table: &str) -> Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT 'index ' || name || ': ' || COALESCE(sql, 'automatic') FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = $1 \
                 UNION ALL SELECT 'foreign key ' || \"from\" || ' -> ' || \"table\" || '.' || \"to\" \
                 FROM pragma_foreign_key_list($1) \
                 UNION ALL SELECT 'column ' || name || ' ' || type || CASE WHEN \"notnull\" = 1 \
                 THEN ' NOT NULL' ELSE '' END || CASE WHEN pk > 0 THEN ' PRIMARY KEY' ELSE '' END \
                 FROM pragma_table_info($1) ORDER BY 1"
            }
            Backend::Postgres => {
                "SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename = $1 \
                 UNION ALL SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE t.relname = $1 AND n.nspname = current_schema() \
                 UNION ALL SELECT 'column ' || column_name || ' ' || data_type || ' ' || is_nullable \
                 || ' ' || COALESCE(column_default, '') FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1"
            }
        };
        Ok(sqlx::query_as::<_, (String,)>(sql)
            .bind(table)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect())
    }
}

/// Milliseconds since the epoch: the storage form of every timestamp.
pub(crate) fn to_ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`to_ms`]; out-of-range values (only from hand-edited data) become the epoch.
pub(crate) fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
