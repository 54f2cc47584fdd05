//! Rows as the import tests write them: a field → cell table read through the `get` a row
//! parser takes, each cell's column named `col_<field>`.

use chrono::{DateTime, TimeZone, Utc};

/// A row's `get` over `(field, cell)` pairs.
pub fn row<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<(String, String)> + 'a {
    move |f: &str| {
        cells
            .iter()
            .find(|(k, _)| *k == f)
            .map(|(k, v)| (format!("col_{k}"), v.to_string()))
    }
}

/// The tests' "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}
