//! Imports of records that belong to a customer (orders with their lines, interactions): one
//! pipeline for all of them — read the sheet, check the rows in parallel, make the records
//! (an order of several rows), find the customers the rows name among those the importer
//! sees, find the records already on file, plan, preview, write — with each kind's own
//! reading of a row, its rule for "already on file" and its writer ([`RecordKind`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guanxi_domain::import::buyer::{BuyerKey, BUYER_FIELDS};
use guanxi_domain::import::orders::LineProblems;
use guanxi_domain::import::{DuplicateChoice, RowError};
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationError;
use guanxi_store::import::{ImportBatch, ImportOutcome, Progress};
use guanxi_store::{Store, StoreError};
use rayon::prelude::*;

use super::buyers::Buyers;
use super::{
    open_sheet, preview_of, read_file, set_progress, Columns, DuplicateMatch, FieldValue,
    ImportSettings, Layout, PlanCounts, Preview, RunProgress,
};
use crate::AppError;

/// A record the rows of a file make, its customer still to be found.
pub(super) struct Unit<R> {
    /// The file lines it was read from, first first.
    pub lines: Vec<u64>,
    /// The customer it belongs to, and the column that names them.
    pub customer: (BuyerKey, String),
    /// The record.
    pub record: R,
}

/// A record of this kind already on file, as the preview names it.
pub(super) struct OnFile {
    /// What the row is (the order number, the interaction's subject).
    pub row_name: String,
    /// The stored record's customer (none when the importer may not see them).
    pub customer_id: Option<i64>,
    /// Their name.
    pub customer_name: Option<String>,
}

/// What a kind's writer wrote.
pub(super) struct Written {
    /// Records created.
    pub records: u64,
}

/// A checked row: its file line, its group key as in the file, and its outcome.
pub(super) type Checked<R> = (u64, Option<String>, Result<R, LineProblems>);

/// One kind of customer record a file can hold.
pub(super) trait RecordKind {
    /// The import's entity (`orders`, `interactions`).
    const ENTITY: &'static str;
    /// What a duplicate is the same in, for the preview (`order_ref`, `same_interaction`).
    const MATCHED_ON: &'static str;
    /// The field whose column a duplicate's problem names (`order_ref`, `subject`).
    const KEY_FIELD: &'static str;
    /// The problem of a duplicate whose choice is `fail`.
    const ON_FILE_PROBLEM: &'static str;
    /// The fields a column can fill, in the wizard's order.
    const FIELDS: &'static [&'static str];
    /// Besides a column naming the customer: per requirement, the fields one of which must be
    /// mapped, and the problem when none is.
    const REQUIRED: &'static [(&'static [&'static str], &'static str)];

    /// One suggested field per column (by header, else by content).
    fn suggest(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>>;
    /// A valid row.
    type Row: Clone + Send + 'static;
    /// A record ready to write once its customer is known.
    type Record: Send + Sync + 'static;
    /// What checking a row needs from the book, read once per run (a deal's pipelines and
    /// users).
    type Context: Send + Sync + 'static;

    /// Reads the context.
    fn context<'a>(
        store: &'a Store,
    ) -> impl Future<Output = Result<Self::Context, AppError>> + Send + 'a;

    /// Checks one row (`get(field)` gives the mapped column's header and cell).
    fn check_row(
        line: u64,
        get: &dyn Fn(&str) -> Option<(String, String)>,
        settings: &ImportSettings,
        ctx: &Self::Context,
        now: DateTime<Utc>,
    ) -> Result<Self::Row, LineProblems>;

    /// A checked row's file line.
    fn line(row: &Self::Row) -> u64;

    /// The key rows of one record share (an order number), read from the row as in the file.
    fn group_key(get: &dyn Fn(&str) -> Option<(String, String)>) -> Option<String>;

    /// Checked rows (line, group key, outcome) into records, with the problems grouping finds.
    fn group(checked: Vec<Checked<Self::Row>>) -> (Vec<Unit<Self::Record>>, Vec<RowError>);

    /// A valid row's mapped fields as they will be stored.
    fn stored_values(
        row: &Self::Row,
        columns: &Columns,
        settings: &ImportSettings,
    ) -> Vec<FieldValue>;

    /// Per record (with its customer found), the one already on file, if any.
    fn on_file<'a>(
        store: &'a Store,
        actor: &'a Actor,
        records: &'a [(i64, &'a Self::Record)],
    ) -> impl Future<Output = Result<Vec<Option<OnFile>>, AppError>> + Send + 'a;

    /// Writes the records (first line, customer, record) in one transaction, recorded for
    /// the undo.
    fn write<'a>(
        store: &'a Store,
        actor: &'a Actor,
        import_id: i64,
        records: Vec<(u64, i64, Self::Record)>,
        progress: Progress,
    ) -> impl Future<Output = Result<Written, AppError>> + Send + 'a;
}

/// Suggests one field per column from the headers and the first rows.
pub(super) type Suggest = fn(&[String], &[Vec<String>]) -> Vec<Option<&'static str>>;

/// What the mapping step needs of a kind, without its type: its fields, what must be mapped,
/// its suggestions.
pub(super) struct KindTable {
    /// The fields a column can fill.
    pub fields: &'static [&'static str],
    required: &'static [(&'static [&'static str], &'static str)],
    /// One suggested field per column.
    pub suggest: Suggest,
}

impl KindTable {
    /// The kind `K`'s table.
    pub fn of<K: RecordKind>() -> Self {
        Self {
            fields: K::FIELDS,
            required: K::REQUIRED,
            suggest: K::suggest,
        }
    }

    /// What a mapping lacks, as errors on `mapping`: a column naming the customer, and each
    /// of the kind's requirements.
    pub fn unmapped(&self, columns: &Columns) -> Vec<ValidationError> {
        std::iter::once((&BUYER_FIELDS[..], "buyer_not_mapped"))
            .chain(self.required.iter().copied())
            .filter(|(any_of, _)| !any_of.iter().any(|f| columns.contains_key(*f)))
            .map(|(_, code)| ValidationError::new("mapping", code))
            .collect()
    }
}

/// Everything a run or a preview of a record import works out.
pub(super) struct Worked<K: RecordKind> {
    layout: Layout,
    total: usize,
    columns: Columns,
    /// The valid rows among the first ones, for the preview's samples.
    samples: Vec<K::Row>,
    /// Records to write: their file lines, their customer, the record.
    planned: Vec<(Vec<u64>, i64, K::Record)>,
    /// Records left out as already on file.
    skipped: usize,
    /// Every problem, by line.
    pub(super) problems: Vec<RowError>,
    invalid_lines: BTreeSet<u64>,
    matches: Vec<DuplicateMatch>,
}

/// Reads, checks, groups and plans an import of kind `K`; `id` names a running import whose
/// progress to report.
pub(super) async fn work_out<K: RecordKind>(
    store: &Store,
    actor: &Actor,
    batch: &ImportBatch,
    settings: &ImportSettings,
    id: Option<i64>,
) -> Result<Worked<K>, AppError> {
    let book = read_file(&store.import_file(batch.id).await?)?;
    let (layout, rows) = open_sheet(book, batch.sheet.as_deref())?;
    let custom = super::import_fields(store, actor, K::ENTITY).await?;
    let columns = settings.columns(K::ENTITY, &layout.headers, &custom)?;
    let total = rows.len();
    let report = |phase: &'static str| {
        if let Some(id) = id {
            set_progress(
                id,
                Some(RunProgress {
                    phase,
                    done: 0,
                    total: total as u64,
                }),
            );
        }
    };
    report("checking");
    let ctx = K::context(store).await?;
    let (cols, s, now) = (columns.clone(), settings.clone(), Utc::now());
    let checked: Vec<Checked<K::Row>> = tokio::task::spawn_blocking(move || {
        rows.into_par_iter()
            .enumerate()
            .map(|(i, cells)| {
                let line = i as u64 + 2;
                let get = |field: &str| {
                    cols.get(field)
                        .map(|(i, h)| (h.clone(), cells.get(*i).cloned().unwrap_or_default()))
                };
                (
                    line,
                    K::group_key(&get),
                    K::check_row(line, &get, &s, &ctx, now),
                )
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Store(StoreError::Task(e.to_string())))?;
    let samples = checked
        .iter()
        .take(layout.rows.len())
        .filter_map(|(_, _, r)| r.as_ref().ok().cloned())
        .collect();
    let (units, mut problems) = K::group(checked);
    report("duplicates");
    let buyers = Buyers::find(store, actor, units.iter().map(|u| &u.customer.0)).await?;
    let mut found = Vec::new();
    for u in units {
        match buyers.get(&u.customer.0) {
            Ok(customer) => found.push((customer, u)),
            Err(code) => problems.extend(u.lines.iter().map(|l| RowError {
                line: *l,
                column: u.customer.1.clone(),
                code: code.to_string(),
            })),
        }
    }
    let pairs: Vec<(i64, &K::Record)> = found.iter().map(|(c, u)| (*c, &u.record)).collect();
    let on_file = K::on_file(store, actor, &pairs).await?;
    let mut planned = Vec::new();
    let mut skipped = 0;
    let mut matches = Vec::new();
    for ((customer, u), hit) in found.into_iter().zip(on_file) {
        let first = u.lines.first().copied().unwrap_or(0);
        let Some(hit) = hit else {
            planned.push((u.lines, customer, u.record));
            continue;
        };
        let choice = settings.choice(first);
        matches.push(DuplicateMatch {
            line: first,
            row_name: hit.row_name,
            customer_id: hit.customer_id,
            customer_name: hit.customer_name,
            matched_on: K::MATCHED_ON.into(),
            candidates: 1,
            earlier_line: None,
            choice,
        });
        if choice == DuplicateChoice::Fail {
            let column = columns
                .get(K::KEY_FIELD)
                .map_or_else(|| K::KEY_FIELD.to_string(), |(_, h)| h.clone());
            problems.extend(u.lines.iter().map(|l| RowError {
                line: *l,
                column: column.clone(),
                code: K::ON_FILE_PROBLEM.to_string(),
            }));
        } else {
            skipped += 1;
        }
    }
    problems.sort_by_key(|p| p.line);
    let invalid_lines = problems.iter().map(|p| p.line).collect();
    Ok(Worked {
        layout,
        total,
        columns,
        samples,
        planned,
        skipped,
        problems,
        invalid_lines,
        matches,
    })
}

/// The dry run of a record import.
pub(super) async fn preview<K: RecordKind>(
    store: &Store,
    actor: &Actor,
    b: &ImportBatch,
    settings: &ImportSettings,
) -> Result<Preview, AppError> {
    let w = work_out::<K>(store, actor, b, settings, None).await?;
    let counts = PlanCounts {
        inserts: w.planned.len(),
        updates: 0,
        skips: w.skipped,
        order_lines: w.planned.iter().map(|(lines, _, _)| lines.len()).sum(),
    };
    let values = |line: u64| {
        w.samples
            .iter()
            .find(|r| K::line(r) == line)
            .map(|r| K::stored_values(r, &w.columns, settings))
            .unwrap_or_default()
    };
    Ok(preview_of(
        w.layout,
        w.total,
        &w.problems,
        &w.matches,
        values,
        counts,
    ))
}

/// Runs a record import as its uploader: all or nothing unless invalid rows may be left out
/// (then a record with any invalid row is left out whole).
pub(super) async fn write_run<K: RecordKind>(
    store: &Store,
    actor: &Actor,
    b: &ImportBatch,
    settings: &ImportSettings,
) -> Result<ImportOutcome, AppError> {
    let w = work_out::<K>(store, actor, b, settings, Some(b.id)).await?;
    let problems = serde_json::to_string(&w.problems).ok();
    let invalid = w.invalid_lines.len() as i64;
    let skipped = w.skipped as i64;
    if invalid > 0 && !settings.skip_invalid {
        return Ok(ImportOutcome {
            status: "failed",
            invalid,
            skipped,
            problems,
            error: Some("rows_invalid".into()),
            ..Default::default()
        });
    }
    let id = b.id;
    let total = w.planned.len() as u64;
    let progress: Progress = Arc::new(move |n: u64| {
        set_progress(
            id,
            Some(RunProgress {
                phase: "writing",
                done: n,
                total,
            }),
        );
    });
    progress(0);
    let records = w
        .planned
        .into_iter()
        .map(|(lines, customer, r)| (lines.first().copied().unwrap_or(0), customer, r))
        .collect();
    let written = K::write(store, actor, id, records, progress).await?;
    Ok(ImportOutcome {
        status: "done",
        inserted: written.records as i64,
        updated: 0,
        skipped,
        invalid,
        problems,
        error: None,
    })
}

/// A valid row's mapped fields as they will be stored: `value(field)` for each of `fields`
/// the mapping names, the customer's column showing the key the row names them by.
pub(super) fn mapped_values(
    fields: &[&str],
    columns: &Columns,
    customer: &BuyerKey,
    value: impl Fn(&str) -> Option<String>,
) -> Vec<FieldValue> {
    let (key_field, key) = match customer {
        BuyerKey::Id(id) => ("customer_id", id.to_string()),
        BuyerKey::Contact(what, value) => (*what, value.clone()),
    };
    fields
        .iter()
        .filter(|f| columns.contains_key(**f))
        .filter_map(|f| {
            let v = if *f == key_field {
                Some(key.clone())
            } else {
                value(f)
            };
            v.map(|value| FieldValue {
                field: f.to_string(),
                value,
            })
        })
        .collect()
}

/// Records made one per row (an interaction, a deal): each valid row a unit, each invalid
/// one its problems.
pub(super) fn one_per_row<R, T>(
    checked: Vec<Checked<R>>,
    unit: impl Fn(R) -> ((BuyerKey, String), T),
) -> (Vec<Unit<T>>, Vec<RowError>) {
    let mut units = Vec::new();
    let mut problems = Vec::new();
    for (line, _, row) in checked {
        match row {
            Ok(r) => {
                let (customer, record) = unit(r);
                units.push(Unit {
                    lines: vec![line],
                    customer,
                    record,
                });
            }
            Err(es) => problems.extend(es.into_iter().map(|(column, code)| RowError {
                line,
                column,
                code: code.to_string(),
            })),
        }
    }
    (units, problems)
}

/// The duplicates of records kept per customer (an interaction, a deal): per record, when
/// `stored` says one like it is on file, the customer (found among those the importer sees)
/// and the row's name.
pub(super) async fn on_file_of_customers<T>(
    store: &Store,
    actor: &Actor,
    records: &[(i64, &T)],
    stored: Vec<bool>,
    row_name: impl Fn(&T) -> String,
) -> Result<Vec<Option<OnFile>>, AppError> {
    let customers: Vec<i64> = records
        .iter()
        .zip(&stored)
        .filter(|(_, on_file)| **on_file)
        .map(|((c, _), _)| *c)
        .collect();
    let names = store.visible_customer_names(actor, &customers).await?;
    Ok(records
        .iter()
        .zip(stored)
        .map(|((c, r), on_file)| {
            on_file.then(|| OnFile {
                row_name: row_name(r),
                customer_id: Some(*c),
                customer_name: names.get(c).cloned(),
            })
        })
        .collect())
}
