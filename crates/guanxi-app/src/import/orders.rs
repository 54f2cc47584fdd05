//! Imports of orders with their lines: the same wizard, file, settings, job, report and undo
//! as a customer import, with its own reading of the rows. Rows sharing an order number are
//! one order (see `guanxi_domain::import::orders`); the buyer must be a customer the importer
//! sees, named by id or found by exactly one mobile, email or WeChat id; an order number
//! already on file is a duplicate, skipped or reported (an order is never changed or made
//! twice by an import).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Utc;
use guanxi_domain::import::orders::{
    group_orders, order_line_row, BuyerKey, LineProblems, OrderLineRow,
};
use guanxi_domain::import::{DuplicateChoice, RowError};
use guanxi_domain::money::plain_money;
use guanxi_domain::order::NewOrder;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::OrderChannel;
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::import::{ImportBatch, ImportOutcome};
use guanxi_store::{Store, StoreError};
use rayon::prelude::*;

use super::{
    open_sheet, preview_of, read_file, set_progress, Columns, DuplicateMatch, FieldValue,
    ImportSettings, Layout, PlanCounts, Preview, RunProgress,
};
use crate::AppError;

/// Fields that name the buyer; one must be mapped.
const BUYER_FIELDS: [&str; 4] = ["customer_id", "mobile", "email", "wechat"];

/// What a mapping of an orders file lacks, as errors on `mapping`.
pub(super) fn unmapped(columns: &Columns) -> Vec<ValidationError> {
    let mut errs = Vec::new();
    if !BUYER_FIELDS.iter().any(|f| columns.contains_key(*f)) {
        errs.push(ValidationError::new("mapping", "buyer_not_mapped"));
    }
    if !columns.contains_key("ordered_at") {
        errs.push(ValidationError::new("mapping", "ordered_at_not_mapped"));
    }
    if !columns.contains_key("sku") {
        errs.push(ValidationError::new("mapping", "sku_not_mapped"));
    }
    if !columns.contains_key("unit_price") && !columns.contains_key("line_amount") {
        errs.push(ValidationError::new("mapping", "price_not_mapped"));
    }
    errs
}

/// Everything a run or a preview of an orders import works out.
pub(super) struct Worked {
    layout: Layout,
    total: usize,
    /// The valid rows among the first ones, for the preview's samples.
    samples: Vec<OrderLineRow>,
    /// Orders to write (their file lines, the order with its buyer).
    planned: Vec<(Vec<u64>, NewOrder)>,
    /// Orders left out as already on file.
    skipped: usize,
    /// Every problem, by line.
    pub(super) problems: Vec<RowError>,
    invalid_lines: BTreeSet<u64>,
    matches: Vec<DuplicateMatch>,
}

type Checked = (u64, Option<String>, Result<OrderLineRow, LineProblems>);

pub(super) async fn work_out(
    store: &Store,
    actor: &Actor,
    batch: &ImportBatch,
    settings: &ImportSettings,
    id: Option<i64>,
) -> Result<Worked, AppError> {
    let book = read_file(&store.import_file(batch.id).await?)?;
    let (layout, rows) = open_sheet(book, batch.sheet.as_deref())?;
    let columns = settings.columns("orders", &layout.headers, &[])?;
    let total = rows.len();
    let channel = OrderChannel::parse(&settings.channel)
        .map_err(|c| ValidationErrors::single("channel", c))?;
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
    let (cols, offset, now) = (columns.clone(), settings.utc_offset_hours, Utc::now());
    let checked: Vec<Checked> = tokio::task::spawn_blocking(move || {
        rows.into_par_iter()
            .enumerate()
            .map(|(i, cells)| {
                let line = i as u64 + 2;
                let get = |field: &str| {
                    cols.get(field)
                        .map(|(i, h)| (h.clone(), cells.get(*i).cloned().unwrap_or_default()))
                };
                let order_ref = get("order_ref").map(|(_, v)| v.trim().to_string());
                (
                    line,
                    order_ref,
                    order_line_row(line, &get, offset, channel, now),
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
    let (orders, mut problems) = group_orders(checked);
    report("duplicates");

    // The buyers: by id among the customers the importer sees, else by their identifying value.
    let ids: Vec<i64> = orders
        .iter()
        .filter_map(|o| match o.buyer.0 {
            BuyerKey::Id(id) => Some(id),
            BuyerKey::Contact(..) => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let named = store.visible_customer_names(actor, &ids).await?;
    let mut wanted: HashMap<&'static str, BTreeSet<&str>> = HashMap::new();
    for o in &orders {
        if let BuyerKey::Contact(what, value) = &o.buyer.0 {
            wanted.entry(what).or_default().insert(value);
        }
    }
    let mut found: HashMap<(&str, String), usize> = HashMap::new();
    let mut found_id: HashMap<(&str, String), i64> = HashMap::new();
    for (what, values) in wanted {
        let values: Vec<&str> = values.into_iter().collect();
        for (value, hits) in store.customers_by_identity(actor, what, &values).await? {
            if let Some((id, _)) = hits.first() {
                found_id.insert((what, value.clone()), *id);
            }
            found.insert((what, value), hits.len());
        }
    }
    // Order numbers already on file.
    let refs: Vec<&str> = orders
        .iter()
        .filter_map(|o| o.order.external_ref.as_deref())
        .collect();
    let on_file = store.orders_by_ref(&refs).await?;
    let owners: Vec<i64> = on_file
        .values()
        .map(|(_, c)| *c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let owner_names = store.visible_customer_names(actor, &owners).await?;

    let mut planned = Vec::new();
    let mut skipped = 0;
    let mut matches = Vec::new();
    for o in orders {
        let first = o.lines.first().copied().unwrap_or(0);
        let mut fail = |column: &str, code: &str| {
            problems.extend(o.lines.iter().map(|l| RowError {
                line: *l,
                column: column.to_string(),
                code: code.to_string(),
            }));
        };
        let buyer = match &o.buyer.0 {
            BuyerKey::Id(id) => named
                .contains_key(id)
                .then_some(*id)
                .ok_or("customer_not_found"),
            BuyerKey::Contact(what, value) => {
                let key = (*what, value.clone());
                match found.get(&key) {
                    Some(1) => found_id.get(&key).copied().ok_or("customer_not_found"),
                    Some(_) => Err("ambiguous_customer"),
                    None => Err("customer_not_found"),
                }
            }
        };
        let buyer = match buyer {
            Ok(b) => b,
            Err(code) => {
                fail(&o.buyer.1, code);
                continue;
            }
        };
        if let Some((r, (_, customer))) = o
            .order
            .external_ref
            .as_ref()
            .and_then(|r| on_file.get(r).map(|hit| (r, hit)))
        {
            let choice = settings.choice(first);
            let name = owner_names.get(customer);
            matches.push(DuplicateMatch {
                line: first,
                row_name: r.clone(),
                customer_id: name.map(|_| *customer),
                customer_name: name.cloned(),
                matched_on: "order_ref".into(),
                candidates: 1,
                earlier_line: None,
                choice,
            });
            if choice == DuplicateChoice::Fail {
                let column = columns
                    .get("order_ref")
                    .map_or("order_ref".to_string(), |(_, h)| h.clone());
                fail(&column, "order_on_file");
            } else {
                skipped += 1;
            }
            continue;
        }
        let mut order = o.order;
        order.customer_id = buyer;
        planned.push((o.lines, order));
    }
    problems.sort_by_key(|p| p.line);
    let invalid_lines = problems.iter().map(|p| p.line).collect();
    Ok(Worked {
        layout,
        total,
        samples,
        planned,
        skipped,
        problems,
        invalid_lines,
        matches,
    })
}

/// A valid row's mapped fields as they will be stored (times in the business's zone,
/// amounts in yuan).
fn stored_values(r: &OrderLineRow, columns: &Columns, utc_offset_hours: i64) -> Vec<FieldValue> {
    let zone = chrono::FixedOffset::east_opt(i32::try_from(utc_offset_hours * 3600).unwrap_or(0))
        .unwrap_or_else(|| chrono::Offset::fix(&Utc));
    let buyer = match &r.buyer.0 {
        BuyerKey::Id(id) => ("customer_id", id.to_string()),
        BuyerKey::Contact(what, value) => (*what, value.clone()),
    };
    guanxi_domain::import::orders::ORDER_FIELDS
        .iter()
        .filter(|f| columns.contains_key(**f))
        .filter_map(|f| {
            let value = match *f {
                "order_ref" => r.order_ref.clone(),
                "ordered_at" => Some(
                    r.ordered_at
                        .with_timezone(&zone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ),
                "channel" => Some(r.channel.as_str().to_string()),
                "store" => r.store.clone(),
                "currency" => Some(r.currency.clone()),
                "sku" => Some(r.item.sku.clone()),
                "product_name" => r.item.product_name.clone(),
                "category" => r.item.category.clone(),
                "quantity" => Some(r.item.quantity.to_string()),
                "unit_price" => Some(plain_money(r.item.unit_price_minor)),
                "line_amount" => Some(plain_money(r.item.quantity * r.item.unit_price_minor)),
                other if other == buyer.0 => Some(buyer.1.clone()),
                _ => None,
            };
            value.map(|value| FieldValue {
                field: f.to_string(),
                value,
            })
        })
        .collect()
}

/// The dry run of an orders import.
pub(super) async fn preview(
    store: &Store,
    actor: &Actor,
    b: &ImportBatch,
    settings: &ImportSettings,
) -> Result<Preview, AppError> {
    let w = work_out(store, actor, b, settings, None).await?;
    let columns = settings.columns("orders", &w.layout.headers, &[])?;
    let counts = PlanCounts {
        inserts: w.planned.len(),
        updates: 0,
        skips: w.skipped,
        order_lines: w.planned.iter().map(|(_, o)| o.lines.len()).sum(),
    };
    let values = |line: u64| {
        w.samples
            .iter()
            .find(|r| r.line == line)
            .map(|r| stored_values(r, &columns, settings.utc_offset_hours))
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

/// Runs an orders import as its uploader: all or nothing unless invalid rows may be left out
/// (then an order with any invalid row is left out whole).
pub(super) async fn write_run(
    store: &Store,
    actor: &Actor,
    b: &ImportBatch,
    settings: &ImportSettings,
) -> Result<ImportOutcome, AppError> {
    let w = work_out(store, actor, b, settings, Some(b.id)).await?;
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
    let progress = Arc::new(move |n: u64| {
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
    let orders = w
        .planned
        .into_iter()
        .map(|(lines, o)| (lines.first().copied().unwrap_or(0), o))
        .collect();
    let counts = store.import_orders(actor, id, orders, progress).await?;
    // Points for the orders placed since the programme began, as for an order typed in.
    crate::loyalty::program::order_placed(store).await;
    Ok(ImportOutcome {
        status: "done",
        inserted: counts.orders as i64,
        updated: 0,
        skipped,
        invalid,
        problems,
        error: None,
    })
}
