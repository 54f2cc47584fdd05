//! A small builder for the few dynamic statements (list filters, keyset pagination): it keeps
//! SQL text and bound values together so placeholders never drift from their arguments, and no
//! value is ever spliced into SQL text.

use sqlx::any::AnyArguments;
use sqlx::Any;

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Float(f64),
    Text(String),
}

/// SQL text plus its arguments, numbered `$1…` in order of `push_arg`.
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl SqlBuilder {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends raw SQL (never user input).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub fn arg(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.arg(Arg::Int(v))
    }

    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.arg(Arg::Text(v.into()))
    }

    /// ` AND (<time>, <id>) < (at, id)`: the keyset condition of the page after the row
    /// `(at, id)` of a list ordered newest first — a row-value comparison both backends read as
    /// one range of a `(time, id)` index. `cols` names the two columns, `"o.ordered_at, o.id"`.
    pub fn older_than(&mut self, cols: &str, at: i64, id: i64) -> &mut Self {
        self.push(&format!(" AND ({cols}) < ("))
            .int(at)
            .push(", ")
            .int(id)
            .push(")")
    }

    pub fn query_as<'q, T>(&'q self) -> sqlx::query::QueryAs<'q, Any, T, AnyArguments<'q>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(&self.sql, self.arguments())
    }

    /// The statement's one value (a count).
    pub fn query_scalar<'q, T>(&'q self) -> sqlx::query::QueryScalar<'q, Any, T, AnyArguments<'q>>
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(&self.sql, self.arguments())
    }

    /// The database's plan for the statement, a line per step: SQLite's `EXPLAIN QUERY PLAN`
    /// details, PostgreSQL's `EXPLAIN` text (with sequential scans and sorts discouraged).
    /// For tests that pin a query to its indexes.
    pub async fn explain(
        &self,
        pool: &sqlx::AnyPool,
        backend: crate::db::Backend,
    ) -> crate::error::Result<Vec<String>> {
        use sqlx::Row;
        Ok(match backend {
            crate::db::Backend::Sqlite => sqlx::query_with(
                &format!("EXPLAIN QUERY PLAN {}", self.sql),
                self.arguments(),
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(3))
            .collect::<std::result::Result<_, _>>()?,
            crate::db::Backend::Postgres => {
                // A test's tables are a few rows, where a sequential scan and a sort are the
                // right plan: make them the last resort, so the plan shows whether an index
                // *can* serve the query — what matters at a million rows.
                let mut tx = pool.begin().await?;
                sqlx::raw_sql("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
                    .execute(&mut *tx)
                    .await?;
                let lines = sqlx::query_with(&format!("EXPLAIN {}", self.sql), self.arguments())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<std::result::Result<_, _>>()?;
                tx.rollback().await?;
                lines
            }
        })
    }

    /// The statement as a plain query, for statements that return no rows.
    pub fn query(&self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.sql, self.arguments())
    }

    /// The bound values in placeholder order. Binding an integer, float or string to the Any
    /// driver cannot fail; were it to, the statement is sent with fewer arguments and the
    /// database rejects it, so nothing runs with a value missing.
    fn arguments(&self) -> AnyArguments<'_> {
        use sqlx::Arguments;
        let mut args = AnyArguments::default();
        for a in &self.args {
            let added = match a {
                Arg::Int(v) => args.add(*v),
                Arg::Float(v) => args.add(*v),
                Arg::Text(v) => args.add(v.as_str()),
            };
            if let Err(e) = added {
                tracing::error!("binding a statement argument failed: {e}");
            }
        }
        args
    }

    /// Appends `(v1, v2, …)` of bound integers.
    pub fn int_list(&mut self, values: &[i64]) -> &mut Self {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.int(*v);
        }
        self.push(")")
    }

    /// Appends `(v1, v2, …)` with each value bound.
    pub fn text_list<S: AsRef<str>>(&mut self, values: &[S]) -> &mut Self {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(v.as_ref());
        }
        self.push(")")
    }
}

/// The newest `limit` rows of `columns_from` (`<columns> FROM <table>`), newest first:
/// everyone's, or those whose `by` column is `who` (the lists of imports and export requests).
pub(crate) fn newest(columns_from: &str, by: &str, who: Option<i64>, limit: i64) -> SqlBuilder {
    let mut q = SqlBuilder::new(&format!("SELECT {columns_from}"));
    if let Some(u) = who {
        q.push(&format!(" WHERE {by} = ")).int(u);
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .int(limit);
    q
}

/// Escapes LIKE's wildcards so a typed `%` or `_` means itself.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut p = String::from("%");
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Opaque cursor for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Encodes a keyset position (sort value, id) as an opaque URL-safe cursor.
pub(crate) fn encode_cursor(sort_value: &str, id: i64) -> String {
    let raw = serde_json::json!([sort_value, id]).to_string();
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a cursor; a tampered or foreign cursor is `None` (the caller reports a 400).
pub(crate) fn decode_cursor(c: &str) -> Option<(String, i64)> {
    if !c.len().is_multiple_of(2) || c.len() > 2000 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(c.get(i..i + 2)?, 16).ok())
        .collect();
    let v: (String, i64) = serde_json::from_slice(&bytes?).ok()?;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("ABC"), "%abc%");
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = encode_cursor("张三", 42);
        assert_eq!(decode_cursor(&c), Some(("张三".into(), 42)));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
    }
}
