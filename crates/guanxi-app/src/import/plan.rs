//! From a table to what an import writes: each row checked (in parallel: pinyin and
//! validation are most of an import's computing), then matched against the customers the
//! importer can see and against earlier rows of the file, and given its fate by the
//! duplicate choice for its line.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use guanxi_domain::custom_field::{CustomValue, FieldDefinition};
use guanxi_domain::customer::ValidCustomer;
use guanxi_domain::import::{row_to_fields, DuplicateChoice, RowCheck, RowError};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::SourceChannel;
use guanxi_store::Store;
use rayon::prelude::*;
use serde::Serialize;

use crate::AppError;

/// Fields mapped to (column index, header as in the file).
pub type Columns = HashMap<String, (usize, String)>;

/// What the import does with one valid row once duplicates are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A new customer.
    Insert,
    /// Laid over this existing customer.
    Update(i64),
    /// Left out as a duplicate (of a stored customer or of an earlier line).
    Skip,
}

/// A row that matches someone: what the wizard shows beside the choice for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DuplicateMatch {
    /// The row's line in the file.
    pub line: u64,
    /// The row's name.
    pub row_name: String,
    /// The stored customer it matches first (none when it only repeats an earlier line).
    pub customer_id: Option<i64>,
    /// That customer's name.
    pub customer_name: Option<String>,
    /// What they share: `mobile`, `email`, `wechat` or `id_number`.
    pub matched_on: String,
    /// How many stored customers it matches (more than one cannot be updated).
    pub candidates: usize,
    /// The earlier line of the file it repeats, if any.
    pub earlier_line: Option<u64>,
    /// What the import does with it (the line's choice, else the default).
    pub choice: DuplicateChoice,
}

/// Checks every row (file line, cells) into a customer or its problems, keeping the order.
/// Mapped custom fields (`cf.<code>`, one of `custom`) are parsed into the customer's
/// stored values; a value the field cannot hold, one on a field that does not apply to the
/// row's kind, or an empty required field is a problem of that column.
#[allow(clippy::too_many_arguments)]
pub fn check_rows(
    rows: &[(u64, Vec<String>)],
    columns: &Columns,
    source: SourceChannel,
    actor: &Actor,
    owner: Option<i64>,
    now: DateTime<Utc>,
    custom: &[FieldDefinition],
) -> Vec<(u64, RowCheck)> {
    let mapped: Vec<(&FieldDefinition, usize, &String)> = custom
        .iter()
        .filter_map(|d| {
            let (i, h) = columns.get(&crate::custom_field::form_name(d))?;
            Some((d, *i, h))
        })
        .collect();
    rows.par_iter()
        .map(|(line, cells)| {
            let get = |field: &str| {
                columns
                    .get(field)
                    .map(|(i, h)| (h.clone(), cells.get(*i).cloned().unwrap_or_default()))
            };
            let checked = row_to_fields(&get, source, actor, owner, now);
            (*line, with_custom(checked, &mapped, cells))
        })
        .collect()
}

/// Adds a row's custom-field cells to its check.
fn with_custom(
    checked: RowCheck,
    mapped: &[(&FieldDefinition, usize, &String)],
    cells: &[String],
) -> RowCheck {
    if mapped.is_empty() {
        return checked;
    }
    let kind = checked.as_ref().ok().map(|v| v.fields.kind);
    let mut errs = Vec::new();
    let mut values = Vec::new();
    for (d, i, header) in mapped {
        let raw = cells.get(*i).map(String::as_str).unwrap_or("");
        match CustomValue::parse_text(d, raw) {
            Err(code) => errs.push(((*header).clone(), code)),
            Ok(Some(_)) if kind.is_some_and(|k| !d.applies_to_kind(k)) => {
                errs.push(((*header).clone(), "not_applicable"))
            }
            Ok(Some(v)) => values.push((d.id, v.cells())),
            Ok(None) if d.required && kind.is_some_and(|k| d.applies_to_kind(k)) => {
                errs.push(((*header).clone(), "required"))
            }
            Ok(None) => {}
        }
    }
    match checked {
        Ok(mut v) if errs.is_empty() => {
            v.custom = values;
            Ok(v)
        }
        Ok(_) => Err(errs),
        Err(mut es) => {
            es.extend(errs);
            Err(es)
        }
    }
}

/// Splits checked rows into the valid ones and every problem, by line.
pub fn split_checked(checked: Vec<(u64, RowCheck)>) -> (Vec<(u64, ValidCustomer)>, Vec<RowError>) {
    let mut valid = Vec::with_capacity(checked.len());
    let mut problems = Vec::new();
    for (line, result) in checked {
        match result {
            Ok(v) => valid.push((line, v)),
            Err(es) => problems.extend(es.into_iter().map(|(column, code)| RowError {
                line,
                column,
                code: code.to_string(),
            })),
        }
    }
    (valid, problems)
}

/// The column a match was found in, as the file names it.
fn header_of(columns: &Columns, v: &ValidCustomer, field: &str) -> String {
    let name = match field
        .strip_prefix("contact_points[")
        .and_then(|r| r.split(']').next())
    {
        Some(i) => i
            .parse::<usize>()
            .ok()
            .and_then(|i| v.contact_points.get(i))
            .map(|cp| cp.kind.as_str())
            .unwrap_or("contact_points"),
        None => field,
    };
    columns
        .get(name)
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| name.to_string())
}

/// Each valid row's fate by the choice for its line, with the problems duplicates raise
/// (`fail`; `update` of a row matching several customers or repeating an earlier line) and
/// every match found. When no line's choice looks for duplicates, nothing is looked up.
pub async fn plan_rows(
    store: &Store,
    actor: &Actor,
    rows: &[(u64, ValidCustomer)],
    choice: &(dyn Fn(u64) -> DuplicateChoice + Sync),
    columns: &Columns,
) -> Result<(Vec<Plan>, Vec<RowError>, Vec<DuplicateMatch>), AppError> {
    let look = rows
        .iter()
        .any(|(l, _)| choice(*l) != DuplicateChoice::Create);
    let stored_all = if look {
        let all: Vec<&ValidCustomer> = rows.iter().map(|(_, v)| v).collect();
        store.duplicate_candidates_of_many(actor, &all).await?
    } else {
        vec![Vec::new(); rows.len()]
    };
    let mut seen: HashMap<(&'static str, String), u64> = HashMap::new();
    let mut plans = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    let mut matches = Vec::new();
    for ((line, v), stored) in rows.iter().zip(stored_all) {
        let keys = v.identity_keys();
        let earlier = keys.iter().find_map(|(what, field, value)| {
            seen.get(&(*what, value.clone()))
                .map(|l| (*l, *what, field.clone()))
        });
        for (what, _, value) in &keys {
            seen.entry((*what, value.clone())).or_insert(*line);
        }
        if let Some(first) = stored.first() {
            matches.push(DuplicateMatch {
                line: *line,
                row_name: v.name.as_str().to_string(),
                customer_id: Some(first.customer_id),
                customer_name: Some(first.name.clone()),
                matched_on: first.matched_on.clone(),
                candidates: stored.len(),
                earlier_line: earlier.as_ref().map(|e| e.0),
                choice: choice(*line),
            });
        } else if let Some((l, what, _)) = &earlier {
            matches.push(DuplicateMatch {
                line: *line,
                row_name: v.name.as_str().to_string(),
                customer_id: None,
                customer_name: None,
                matched_on: what.to_string(),
                candidates: 0,
                earlier_line: Some(*l),
                choice: choice(*line),
            });
        }
        let problem = |code: &str, field: &str| RowError {
            line: *line,
            column: header_of(columns, v, field),
            code: code.to_string(),
        };
        let plan = match (choice(*line), stored.as_slice(), &earlier) {
            (DuplicateChoice::Create, ..) | (_, [], None) => Some(Plan::Insert),
            (DuplicateChoice::Skip, ..) => Some(Plan::Skip),
            (DuplicateChoice::Update, [one], None) => Some(Plan::Update(one.customer_id)),
            (DuplicateChoice::Update, _, Some((_, _, field))) => {
                problems.push(problem("duplicate_in_file", field));
                None
            }
            (DuplicateChoice::Update, [first, ..], None) => {
                problems.push(problem("ambiguous_duplicate", &first.field));
                None
            }
            (DuplicateChoice::Fail, [first, ..], _) => {
                problems.push(problem("possible_duplicate", &first.field));
                None
            }
            (DuplicateChoice::Fail, [], Some((_, _, field))) => {
                problems.push(problem("duplicate_in_file", field));
                None
            }
        };
        plans.push(plan.unwrap_or(Plan::Skip));
    }
    Ok((plans, problems, matches))
}
