//! The values of one row as the store writes them, independent of the driver that writes them.
//! A customer's columns are computed once ([`crate::customers`]) and then bound to an `Any`
//! query (one record at a time), stepped through a prepared rusqlite statement or encoded for
//! PostgreSQL's `COPY` (bulk import): the three paths cannot store different things.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

/// One column value, typed so that a NULL still says what it is (PostgreSQL needs a type for
/// every bound parameter, NULLs included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// BIGINT.
    Int(Option<i64>),
    /// BOOLEAN (SQLite: 0/1).
    Bool(bool),
    /// TEXT.
    Text(Option<String>),
    /// DOUBLE PRECISION (SQLite: REAL).
    Float(Option<f64>),
}

impl Cell {
    /// A text value.
    pub(crate) fn text(s: impl Into<String>) -> Self {
        Self::Text(Some(s.into()))
    }

    /// Binds the value to a query (`Any` for one record, `Postgres` on the bulk path).
    pub(crate) fn bind<'q, DB>(
        self,
        q: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    ) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
    where
        DB: Database,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        bool: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
        Option<f64>: Encode<'q, DB> + Type<DB>,
    {
        match self {
            Self::Int(v) => q.bind(v),
            Self::Bool(v) => q.bind(v),
            Self::Text(v) => q.bind(v),
            Self::Float(v) => q.bind(v),
        }
    }

    /// Appends the value in PostgreSQL's `COPY … (FORMAT text)` encoding.
    pub(crate) fn copy_text(&self, out: &mut String) {
        match self {
            Self::Int(Some(v)) => out.push_str(&v.to_string()),
            Self::Bool(v) => out.push(if *v { 't' } else { 'f' }),
            Self::Text(Some(s)) => copy_escape(s, out),
            Self::Float(Some(v)) => out.push_str(&v.to_string()),
            Self::Int(None) | Self::Text(None) | Self::Float(None) => out.push_str("\\N"),
        }
    }
}

/// Appends one `COPY` text line (tab-separated cells, newline-terminated).
pub(crate) fn copy_line(cells: &[Cell], out: &mut String) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        c.copy_text(out);
    }
    out.push('\n');
}

/// Escapes a text value for `COPY` text format: backslash, tab, newline and carriage return are
/// the characters that would otherwise end a cell or a line.
fn copy_escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Self::Int(v) => v.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |v| {
                ToSqlOutput::Borrowed(ValueRef::Integer(v))
            }),
            Self::Bool(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Self::Text(v) => match v {
                Some(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
                None => ToSqlOutput::Borrowed(ValueRef::Null),
            },
            Self::Float(v) => v.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |v| {
                ToSqlOutput::Borrowed(ValueRef::Real(v))
            }),
        })
    }
}

/// `$1, $2, …, $n`.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `COPY` data sent per message.
const COPY_CHUNK: usize = 1 << 20;

/// One table's `COPY … FROM STDIN` data, collected and then sent in chunks.
pub(crate) struct Copy {
    target: String,
    data: String,
}

impl Copy {
    /// Data for `COPY <target> FROM STDIN`; `target` names the table and its columns.
    pub(crate) fn new(target: &str) -> Self {
        Self {
            target: target.to_string(),
            data: String::new(),
        }
    }

    /// Adds one row.
    pub(crate) fn row(&mut self, cells: &[Cell]) {
        copy_line(cells, &mut self.data);
    }

    /// Sends the rows inside the caller's transaction.
    pub(crate) async fn send(self, conn: &mut sqlx::PgConnection) -> crate::error::Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let mut copy = conn
            .copy_in_raw(&format!("COPY {} FROM STDIN", self.target))
            .await?;
        let bytes = self.data.as_bytes();
        for chunk in bytes.chunks(COPY_CHUNK) {
            if let Err(e) = copy.send(chunk).await {
                copy.abort("bulk load failed").await.ok();
                return Err(e.into());
            }
        }
        copy.finish().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_cell() {
        let mut out = String::new();
        copy_line(
            &[
                Cell::text("a\tb\\c\nd\re"),
                Cell::Int(None),
                Cell::Int(Some(-4)),
                Cell::Bool(true),
                Cell::Text(None),
            ],
            &mut out,
        );
        assert_eq!(out, "a\\tb\\\\c\\nd\\re\t\\N\t-4\tt\t\\N\n");
    }
}
