//! Native-driver paths for the one job that moves millions of rows: the score refresh reads
//! every order and order line and rewrites `customer_scores`. Through sqlx's `Any` driver that
//! took minutes at ten million orders (every value boxed into an `AnyValue`, every SQLite row
//! handed across a worker thread, inserts limited by SQLite's named-parameter lookup). Here:
//!
//! * **SQLite**: rusqlite (the same bundled libsqlite3 as sqlx) on a blocking thread — a
//!   prepared statement stepped in a loop to read, a prepared insert per row into a fresh table
//!   to write (see [`Store::bulk_replace_scores`]). The write holds the store's single writer
//!   connection meanwhile, so other writers queue in the pool exactly as they would behind any
//!   other write.
//! * **PostgreSQL**: a native connection with `COPY … TO STDOUT (FORMAT binary)` to read and
//!   `COPY … FROM STDIN` to write, inside one transaction.
//!
//! Everything else in the store stays on the `Any` pools; these functions are the measured
//! exceptions (bench/RESULTS.md).

use std::fmt;

use futures_util::TryStreamExt;
use guanxi_analytics::scorecard::CustomerScores;
use sqlx::Connection;

use crate::db::{secondary_indexes_sql, Backend, Store};
use crate::error::{Result, StoreError};
use crate::scores::COLUMNS;

/// Where the database is, for opening a native connection beside the pools. Its `Debug` hides
/// the URL, which may carry a password.
#[derive(Clone)]
pub(crate) struct Location(pub(crate) String);

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Location(..)")
    }
}

impl Location {
    /// The SQLite file path of a `sqlite://path?options` URL.
    pub(crate) fn sqlite_path(&self) -> &str {
        let rest = self
            .0
            .strip_prefix("sqlite://")
            .or_else(|| self.0.strip_prefix("sqlite:"))
            .unwrap_or(&self.0);
        rest.split('?').next().unwrap_or(rest)
    }
}

impl Store {
    /// Opens rusqlite on the store's file (read-only unless `write`).
    pub(crate) fn rusqlite(&self, write: bool) -> Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let path = self.location.sqlite_path();
        // A second connection to an in-memory database would open a different, empty one.
        if path.is_empty()
            || path.starts_with(":memory:")
            || self.location.0.contains("mode=memory")
        {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "the score refresh needs a SQLite file, not an in-memory database".into(),
            )));
        }
        let flags = if write {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    pub(crate) async fn pg(&self) -> Result<sqlx::PgConnection> {
        Ok(sqlx::PgConnection::connect(&self.location.0).await?)
    }

    /// Every row of a query whose N columns are all non-null BIGINTs.
    pub(crate) async fn bulk_i64_rows<const N: usize>(&self, sql: &str) -> Result<Vec<[i64; N]>> {
        match self.backend() {
            Backend::Sqlite => {
                let store = self.clone();
                let sql = sql.to_string();
                tokio::task::spawn_blocking(move || -> Result<Vec<[i64; N]>> {
                    let conn = store.rusqlite(false)?;
                    let mut stmt = conn.prepare(&sql)?;
                    let mut rows = stmt.query([])?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next()? {
                        let mut r = [0i64; N];
                        for (k, v) in r.iter_mut().enumerate() {
                            *v = row.get(k)?;
                        }
                        out.push(r);
                    }
                    Ok(out)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Backend::Postgres => {
                let mut conn = self.pg().await?;
                let out = {
                    let mut stream = conn
                        .copy_out_raw(&format!("COPY ({sql}) TO STDOUT (FORMAT binary)"))
                        .await?;
                    let mut parser = BinaryCopy::<N>::default();
                    while let Some(chunk) = stream.try_next().await? {
                        parser.feed(&chunk)?;
                    }
                    parser.finish()?
                };
                conn.close().await?;
                Ok(out)
            }
        }
    }

    /// Replaces `customer_scores` with `rows` and appends the segment sizes to
    /// `segment_history`, in one transaction (readers see the old scores or the new ones).
    ///
    /// The rows go into a fresh copy of the table, which then takes the old one's place and
    /// gets its indexes and constraints rebuilt from the catalogue. Deleting a million rows and
    /// inserting a million with the same keys made every unique check visit a dead row
    /// (PostgreSQL: 12 s for the insert alone); loading an unindexed table and building each
    /// index in one sort takes 3–4 s. Readers are only held up for the swap at the end
    /// (PostgreSQL: the index builds; SQLite readers never wait, WAL).
    pub(crate) async fn bulk_replace_scores(
        &self,
        rows: Vec<CustomerScores>,
        computed_at: i64,
    ) -> Result<()> {
        let columns = COLUMNS.join(", ");
        match self.backend() {
            Backend::Sqlite => {
                // Hold the pool's writer: in-process writers wait for us as for any write.
                let _writer = self.write.acquire().await?;
                let store = self.clone();
                tokio::task::spawn_blocking(move || -> Result<()> {
                    let mut conn = store.rusqlite(true)?;
                    conn.pragma_update(None, "cache_size", -262_144)?;
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let table: String = tx.query_row(
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customer_scores'",
                        [],
                        |r| r.get(0),
                    )?;
                    let indexes: Vec<String> = tx
                        .prepare(&secondary_indexes_sql(Backend::Sqlite, "customer_scores"))?
                        .query_map([], |r| r.get(1))?
                        .collect::<rusqlite::Result<_>>()?;
                    let body = table
                        .find('(')
                        .map(|i| &table[i..])
                        .ok_or_else(|| StoreError::Corrupt("customer_scores DDL".into()))?;
                    tx.execute(&format!("CREATE TABLE customer_scores_next {body}"), [])?;
                    {
                        let mut stmt = tx.prepare(&format!(
                            "INSERT INTO customer_scores_next ({columns}) VALUES ({})",
                            (1..=COLUMNS.len()).map(|k| format!("?{k}")).collect::<Vec<_>>().join(", ")
                        ))?;
                        for r in &rows {
                            stmt.execute(rusqlite::params_from_iter(cells(r, computed_at)))?;
                        }
                    }
                    tx.execute("DROP TABLE customer_scores", [])?;
                    tx.execute("ALTER TABLE customer_scores_next RENAME TO customer_scores", [])?;
                    for sql in &indexes {
                        tx.execute(sql, [])?;
                    }
                    tx.execute(SEGMENT_HISTORY_SQL, [computed_at])?;
                    tx.commit()?;
                    Ok(())
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Backend::Postgres => {
                let mut conn = self.pg().await?;
                let mut tx = conn.begin().await?;
                // Constraints (primary key first) and the indexes that back none of them.
                let constraints: Vec<(String, String)> = sqlx::query_as(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE conrelid = 'customer_scores'::regclass AND contype IN ('p', 'u', 'f') \
                     ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 ELSE 2 END, conname",
                )
                .fetch_all(&mut *tx)
                .await?;
                let indexes: Vec<(String, String)> =
                    sqlx::query_as(&secondary_indexes_sql(Backend::Postgres, "customer_scores"))
                        .fetch_all(&mut *tx)
                        .await?;
                sqlx::query(
                    "CREATE TABLE customer_scores_next \
                     (LIKE customer_scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
                )
                .execute(&mut *tx)
                .await?;
                let mut copy = (*tx)
                    .copy_in_raw(&format!("COPY customer_scores_next ({columns}) FROM STDIN"))
                    .await?;
                let mut buf = Vec::with_capacity(1 << 20);
                for r in &rows {
                    text_line(&cells(r, computed_at), &mut buf);
                    if buf.len() > (1 << 20) - 512 {
                        copy.send(std::mem::take(&mut buf)).await?;
                        buf.reserve(1 << 20);
                    }
                }
                if !buf.is_empty() {
                    copy.send(buf).await?;
                }
                copy.finish().await?;
                let mut swap = vec![
                    "LOCK TABLE customer_scores IN ACCESS EXCLUSIVE MODE".to_string(),
                    "DROP TABLE customer_scores".to_string(),
                    "ALTER TABLE customer_scores_next RENAME TO customer_scores".to_string(),
                ];
                swap.extend(constraints.into_iter().map(|(name, def)| {
                    format!(
                        "ALTER TABLE customer_scores ADD CONSTRAINT \"{}\" {def}",
                        name.replace('"', "\"\"")
                    )
                }));
                swap.extend(indexes.into_iter().map(|(_, ddl)| ddl));
                for sql in &swap {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                sqlx::query(SEGMENT_HISTORY_SQL)
                    .bind(computed_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                conn.close().await?;
                Ok(())
            }
        }
    }
}

/// Segment sizes of the scores just written. `$1` is the computed-at time on both drivers
/// (rusqlite binds SQLite's `$1` by position like any other parameter).
const SEGMENT_HISTORY_SQL: &str =
    "INSERT INTO segment_history (computed_at, rfm_segment, customers, revenue_minor) \
     SELECT $1, rfm_segment, COUNT(*), CAST(COALESCE(SUM(monetary_minor), 0) AS BIGINT) \
     FROM customer_scores GROUP BY rfm_segment";

/// A value of a score row, in [`crate::scores::COLUMNS`] order.
#[derive(Debug, Clone)]
enum Cell {
    Int(i64),
    Float(f64),
    Text(&'static str),
    Bool(bool),
    Null,
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Cell::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Cell::Float(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Cell::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Cell::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            Cell::Null => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// A score row's values in [`COLUMNS`] order (the array length ties the two together).
fn cells(s: &CustomerScores, computed_at: i64) -> [Cell; COLUMNS.len()] {
    let opt_f = |v: Option<f64>| v.map_or(Cell::Null, Cell::Float);
    [
        Cell::Int(s.customer),
        Cell::Int(s.recency_days),
        Cell::Int(s.frequency),
        Cell::Int(s.monetary_minor),
        Cell::Int(s.r_score),
        Cell::Int(s.f_score),
        Cell::Int(s.m_score),
        Cell::Text(s.rfm_segment),
        Cell::Text(s.value_cell),
        Cell::Text(s.abc_class),
        Cell::Text(s.activity),
        Cell::Float(s.typical_interval_days),
        Cell::Bool(s.orders_falling),
        s.clv_minor.map_or(Cell::Null, Cell::Int),
        opt_f(s.p_alive),
        opt_f(s.expected_purchases),
        opt_f(s.churn_probability),
        s.churn_reason.map_or(Cell::Null, Cell::Text),
        Cell::Int(computed_at),
    ]
}

/// One line of PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
/// Floats print in Rust's shortest round-trip form, so the stored value is the computed one.
fn text_line(cells: &[Cell], out: &mut Vec<u8>) {
    use std::io::Write;
    for (k, c) in cells.iter().enumerate() {
        if k > 0 {
            out.push(b'\t');
        }
        // Writing to a Vec cannot fail.
        let _ = match c {
            Cell::Int(v) => write!(out, "{v}"),
            Cell::Float(v) if v.is_finite() => write!(out, "{v:?}"),
            Cell::Float(v) if v.is_nan() => write!(out, "NaN"),
            Cell::Float(v) => write!(out, "{}", if *v > 0.0 { "Infinity" } else { "-Infinity" }),
            Cell::Bool(v) => write!(out, "{}", if *v { "t" } else { "f" }),
            Cell::Null => write!(out, "\\N"),
            Cell::Text(t) => {
                for b in t.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
                Ok(())
            }
        };
    }
    out.push(b'\n');
}

/// Incremental parser of PostgreSQL's binary COPY format for rows of N non-null BIGINTs:
/// an 11-byte signature, flags and header extension, then per row a 16-bit field count and per
/// field a 32-bit length and the big-endian value; a field count of −1 ends the data.
#[derive(Default)]
struct BinaryCopy<const N: usize> {
    pending: Vec<u8>,
    header_done: bool,
    ended: bool,
    rows: Vec<[i64; N]>,
}

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

impl<const N: usize> BinaryCopy<N> {
    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.pending);
        let mut at = 0;
        if !self.header_done {
            if buf.len() < 19 {
                self.pending = buf;
                return Ok(());
            }
            if &buf[..11] != SIGNATURE {
                return Err(corrupt("signature"));
            }
            let ext = u32::from_be_bytes([buf[15], buf[16], buf[17], buf[18]]) as usize;
            if buf.len() < 19 + ext {
                self.pending = buf;
                return Ok(());
            }
            at = 19 + ext;
            self.header_done = true;
        }
        let row_len = 2 + N * 12;
        while !self.ended && buf.len() - at >= 2 {
            let fields = i16::from_be_bytes([buf[at], buf[at + 1]]);
            if fields == -1 {
                self.ended = true;
                at += 2;
                break;
            }
            if fields as usize != N {
                return Err(corrupt("field count"));
            }
            if buf.len() - at < row_len {
                break;
            }
            let mut row = [0i64; N];
            let mut p = at + 2;
            for v in row.iter_mut() {
                let len = i32::from_be_bytes([buf[p], buf[p + 1], buf[p + 2], buf[p + 3]]);
                if len != 8 {
                    return Err(corrupt("a NULL or non-BIGINT value"));
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[p + 4..p + 12]);
                *v = i64::from_be_bytes(b);
                p += 12;
            }
            self.rows.push(row);
            at += row_len;
        }
        self.pending = buf[at..].to_vec();
        Ok(())
    }

    fn finish(self) -> Result<Vec<[i64; N]>> {
        if !self.ended || !self.pending.is_empty() {
            return Err(corrupt("truncated data"));
        }
        Ok(self.rows)
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("binary COPY stream: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream split at every possible byte decodes to the same rows.
    #[test]
    fn binary_copy_survives_any_chunking() {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&0u32.to_be_bytes());
        data.extend_from_slice(&0u32.to_be_bytes());
        let rows = [[1i64, -2, 3], [i64::MAX, i64::MIN, 0]];
        for r in rows {
            data.extend_from_slice(&3i16.to_be_bytes());
            for v in r {
                data.extend_from_slice(&8i32.to_be_bytes());
                data.extend_from_slice(&v.to_be_bytes());
            }
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        for split in 0..data.len() {
            let mut p = BinaryCopy::<3>::default();
            p.feed(&data[..split]).unwrap();
            p.feed(&data[split..]).unwrap();
            assert_eq!(p.finish().unwrap(), rows.to_vec(), "split at {split}");
        }
        let mut short = BinaryCopy::<3>::default();
        short.feed(&data[..data.len() - 2]).unwrap();
        assert!(short.finish().is_err());
    }

    #[test]
    fn copy_text_escapes() {
        let mut out = Vec::new();
        text_line(
            &[
                Cell::Int(7),
                Cell::Float(0.1),
                Cell::Text("a\tb\\c"),
                Cell::Null,
                Cell::Bool(true),
            ],
            &mut out,
        );
        assert_eq!(out, b"7\t0.1\ta\\tb\\\\c\t\\N\tt\n");
    }
}
