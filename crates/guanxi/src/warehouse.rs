//! `guanxi export warehouse DIR`: the sales history as a star schema for DuckDB, ClickHouse,
//! Spark or a BI tool. One fact table (`fact_order_line`, one row per order line), five
//! dimensions (`dim_customer`, `dim_product`, `dim_date`, `dim_channel`, `dim_store`) and the
//! custom fields' values (`bridge_customer_field`, one row per value), each
//! written as CSV and as Parquet from the same columns, plus a README describing every column
//! (generated from the same definitions, so the documentation cannot drift from the files).
//!
//! Money is exact: DECIMAL(18,2) in Parquet (the unscaled value is the stored minor units) and
//! `123.45` text in CSV. Days are cut in the shop's time zone. The fact table is read and
//! written in batches (one Parquet row group each), so memory stays flat at any book size. The
//! export leaves contact data and ID numbers out (a warehouse is for analysis, not contact) and
//! is recorded in the audit log with its row counts.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::OrderChannel;
use guanxi_store::audit::AuditEvent;
use guanxi_store::warehouse::{WarehouseLine, WarehouseTotals};
use guanxi_store::Store;
use guanxi_text::format::plain_money as money;
use guanxi_text::i18n::Locale;
use guanxi_text::text::label;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// Order lines per batch (and per Parquet row group).
const BATCH: i64 = 100_000;

/// A column's values; `None` is NULL (an empty CSV field).
enum Values {
    Int(Vec<Option<i64>>),
    Int32(Vec<Option<i32>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    /// Days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// Milliseconds since the epoch, UTC.
    Timestamp(Vec<Option<i64>>),
    /// Minor units, shown with two decimals.
    Money(Vec<Option<i64>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Int(v) | Values::Timestamp(v) | Values::Money(v) => v.len(),
            Values::Int32(v) | Values::Date(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    /// The Parquet type of the column (all columns OPTIONAL: NULL is a legitimate value).
    fn parquet_type(&self, name: &str) -> String {
        let t = match self {
            Values::Int(_) => "INT64",
            Values::Int32(_) => "INT32",
            Values::Float(_) => "DOUBLE",
            Values::Text(_) => "BYTE_ARRAY",
            Values::Bool(_) => "BOOLEAN",
            Values::Date(_) => "INT32",
            Values::Timestamp(_) => "INT64",
            Values::Money(_) => "INT64",
        };
        let logical = match self {
            Values::Text(_) => " (UTF8)",
            Values::Date(_) => " (DATE)",
            Values::Timestamp(_) => " (TIMESTAMP(MILLIS,true))",
            Values::Money(_) => " (DECIMAL(18,2))",
            _ => "",
        };
        format!("OPTIONAL {t} {name}{logical};")
    }

    /// The type as the README states it.
    fn sql_type(&self) -> &'static str {
        match self {
            Values::Int(_) => "BIGINT",
            Values::Int32(_) => "INTEGER",
            Values::Float(_) => "DOUBLE",
            Values::Text(_) => "VARCHAR",
            Values::Bool(_) => "BOOLEAN",
            Values::Date(_) => "DATE",
            Values::Timestamp(_) => "TIMESTAMP WITH TIME ZONE (UTC)",
            Values::Money(_) => "DECIMAL(18,2)",
        }
    }

    fn csv(&self, i: usize) -> String {
        fn s<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(T::to_string).unwrap_or_default()
        }
        match self {
            Values::Int(v) => s(&v[i]),
            Values::Int32(v) => s(&v[i]),
            Values::Float(v) => s(&v[i]),
            Values::Text(v) => v[i].clone().unwrap_or_default(),
            Values::Bool(v) => s(&v[i]),
            Values::Date(v) => v[i]
                .and_then(date_of)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            Values::Timestamp(v) => v[i]
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default(),
            Values::Money(v) => v[i].map(money).unwrap_or_default(),
        }
    }
}

/// One column: name, values, what it means (for the README).
struct Column {
    name: &'static str,
    values: Values,
    doc: &'static str,
}

/// A batch of rows of one table.
struct Batch {
    columns: Vec<Column>,
}

impl Batch {
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
}

/// A table being written: CSV and Parquet side by side, batch after batch.
struct TableWriter {
    name: &'static str,
    doc: &'static str,
    csv: csv::Writer<BufWriter<File>>,
    parquet: Option<SerializedFileWriter<BufWriter<File>>>,
    parquet_path: PathBuf,
    columns: Vec<(&'static str, &'static str, &'static str)>,
    rows: u64,
}

fn date_of(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(days))))
}

fn days_of(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(d);
    (d - epoch).num_days() as i32
}

impl TableWriter {
    fn create(dir: &Path, name: &'static str, doc: &'static str) -> Result<Self> {
        let csv_path = dir.join("csv").join(format!("{name}.csv"));
        let csv = csv::Writer::from_writer(BufWriter::new(
            File::create(&csv_path).with_context(|| format!("create {}", csv_path.display()))?,
        ));
        Ok(Self {
            name,
            doc,
            csv,
            parquet: None,
            parquet_path: dir.join("parquet").join(format!("{name}.parquet")),
            columns: Vec::new(),
            rows: 0,
        })
    }

    fn write(&mut self, b: &Batch) -> Result<()> {
        if self.parquet.is_none() {
            self.columns = b
                .columns
                .iter()
                .map(|c| (c.name, c.values.sql_type(), c.doc))
                .collect();
            self.csv.write_record(b.columns.iter().map(|c| c.name))?;
            let schema = format!(
                "message {} {{ {} }}",
                self.name,
                b.columns
                    .iter()
                    .map(|c| c.values.parquet_type(c.name))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_created_by(format!("guanxi {}", env!("CARGO_PKG_VERSION")))
                .build();
            let file = File::create(&self.parquet_path)
                .with_context(|| format!("create {}", self.parquet_path.display()))?;
            self.parquet = Some(SerializedFileWriter::new(
                BufWriter::new(file),
                Arc::new(parse_message_type(&schema)?),
                Arc::new(props),
            )?);
        }
        for i in 0..b.rows() {
            self.csv
                .write_record(b.columns.iter().map(|c| c.values.csv(i)))?;
        }
        if b.rows() == 0 {
            return Ok(());
        }
        let Some(pq) = self.parquet.as_mut() else {
            bail!("parquet writer for {} is not open", self.name);
        };
        let mut rg = pq.next_row_group()?;
        for c in &b.columns {
            let Some(mut col) = rg.next_column()? else {
                bail!("schema of {} has fewer columns than its batch", self.name);
            };
            write_column(&mut col, &c.values)?;
            col.close()?;
        }
        rg.close()?;
        self.rows += b.rows() as u64;
        Ok(())
    }

    fn finish(mut self) -> Result<Finished> {
        self.csv.flush()?;
        if let Some(pq) = self.parquet.take() {
            pq.close()?;
        }
        Ok((self.name, self.doc, self.columns, self.rows))
    }
}

/// Definition levels and the non-null values of an optional column.
fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let defs = v.iter().map(|x| i16::from(x.is_some())).collect();
    (v.iter().flatten().cloned().collect(), defs)
}

fn write_column(
    col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    v: &Values,
) -> Result<()> {
    match v {
        Values::Int(x) | Values::Timestamp(x) | Values::Money(x) => {
            let (vals, defs) = split(x);
            col.typed::<Int64Type>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        Values::Int32(x) | Values::Date(x) => {
            let (vals, defs) = split(x);
            col.typed::<Int32Type>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        Values::Float(x) => {
            let (vals, defs) = split(x);
            col.typed::<DoubleType>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        Values::Bool(x) => {
            let (vals, defs) = split(x);
            col.typed::<BoolType>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        Values::Text(x) => {
            let defs: Vec<i16> = x.iter().map(|s| i16::from(s.is_some())).collect();
            let vals: Vec<ByteArray> = x
                .iter()
                .flatten()
                .map(|s| ByteArray::from(s.as_str()))
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&vals, Some(&defs), None)?;
        }
    }
    Ok(())
}

fn col(name: &'static str, values: Values, doc: &'static str) -> Column {
    Column { name, values, doc }
}

/// `YYYYMMDD` of a day.
fn date_key(d: NaiveDate) -> i32 {
    d.year() * 10_000 + d.month() as i32 * 100 + d.day() as i32
}

/// The shop-time day of a UTC instant.
fn local_day(ms: i64, offset_ms: i64) -> i32 {
    (ms + offset_ms).div_euclid(86_400_000) as i32
}

/// What an export wrote.
pub struct Report {
    /// (table, rows) in file order.
    pub tables: Vec<(&'static str, u64)>,
    /// The database totals the fact table reproduces.
    pub totals: WarehouseTotals,
}

/// Writes the star schema into `dir` (created if missing; must be empty unless `overwrite`).
pub async fn export(
    store: &Store,
    dir: &Path,
    utc_offset_hours: i64,
    overwrite: bool,
) -> Result<Report> {
    if dir.exists() && !overwrite && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} is not empty; choose an empty directory or pass --overwrite",
            dir.display()
        );
    }
    for sub in ["csv", "parquet"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("create {}", dir.join(sub).display()))?;
    }
    match write_all(store, dir, utc_offset_hours).await {
        Ok(r) => Ok(r),
        Err(e) => {
            // Leave no half-written files behind.
            for sub in ["csv", "parquet"] {
                let _ = std::fs::remove_dir_all(dir.join(sub));
            }
            let _ = std::fs::remove_file(dir.join("README.md"));
            Err(e)
        }
    }
}

async fn write_all(store: &Store, dir: &Path, utc_offset_hours: i64) -> Result<Report> {
    let offset_ms = utc_offset_hours * 3_600_000;
    let totals_before = store.warehouse_totals().await?;
    let channels: Vec<&str> = OrderChannel::ALL.iter().map(|c| c.as_str()).collect();
    let channel_key = |code: &str| {
        channels
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| i as i64 + 1)
    };

    // Fact table, batch by batch; stores and days are collected for their dimensions.
    let mut fact = TableWriter::create(
        dir,
        "fact_order_line",
        "One row per order line (the grain). Keys join the dimensions; amounts are exact decimals.",
    )?;
    let mut store_keys: HashMap<String, i64> = HashMap::new();
    let (mut first_day, mut last_day) = (i32::MAX, i32::MIN);
    let mut after = 0;
    loop {
        let lines: Vec<WarehouseLine> = store.warehouse_lines(after, BATCH).await?;
        // An empty first batch is still written: an empty book gets a well-formed table with
        // its header and schema (later empty batches write nothing).
        if let Some(last) = lines.last() {
            after = last.id;
        }
        // Store keys are assigned in order of first appearance; the dimension is sorted by key.
        for l in &lines {
            if let Some(s) = &l.store {
                if !store_keys.contains_key(s) {
                    store_keys.insert(s.clone(), store_keys.len() as i64 + 1);
                }
            }
            let d = local_day(l.ordered_at, offset_ms);
            first_day = first_day.min(d);
            last_day = last_day.max(d);
        }
        let day = |l: &WarehouseLine| date_of(local_day(l.ordered_at, offset_ms));
        let b = Batch {
            columns: vec![
                col(
                    "order_line_id",
                    Values::Int(lines.iter().map(|l| Some(l.id)).collect()),
                    "Order line id (unique).",
                ),
                col(
                    "order_id",
                    Values::Int(lines.iter().map(|l| Some(l.order_id)).collect()),
                    "Order id: lines of one order share it (count distinct for orders).",
                ),
                col(
                    "line_no",
                    Values::Int(lines.iter().map(|l| Some(l.line_no)).collect()),
                    "Line number within the order.",
                ),
                col(
                    "date_key",
                    Values::Int32(lines.iter().map(|l| day(l).map(date_key)).collect()),
                    "Order day in the shop's time zone, YYYYMMDD → dim_date.date_key.",
                ),
                col(
                    "customer_key",
                    Values::Int(lines.iter().map(|l| Some(l.customer_id)).collect()),
                    "→ dim_customer.customer_key.",
                ),
                col(
                    "product_key",
                    Values::Int(lines.iter().map(|l| Some(l.product_id)).collect()),
                    "→ dim_product.product_key.",
                ),
                col(
                    "channel_key",
                    Values::Int(
                        lines
                            .iter()
                            .map(|l| Some(channel_key(&l.channel)))
                            .collect(),
                    ),
                    "→ dim_channel.channel_key.",
                ),
                col(
                    "store_key",
                    Values::Int(
                        lines
                            .iter()
                            .map(|l| {
                                Some(
                                    l.store
                                        .as_ref()
                                        .and_then(|s| store_keys.get(s).copied())
                                        .unwrap_or(0),
                                )
                            })
                            .collect(),
                    ),
                    "→ dim_store.store_key (0: no store, e.g. online).",
                ),
                col(
                    "ordered_at",
                    Values::Timestamp(lines.iter().map(|l| Some(l.ordered_at)).collect()),
                    "When the order was placed (UTC).",
                ),
                col(
                    "currency",
                    Values::Text(lines.iter().map(|l| Some(l.currency.clone())).collect()),
                    "ISO 4217 currency of the amounts.",
                ),
                col(
                    "quantity",
                    Values::Int(lines.iter().map(|l| Some(l.quantity)).collect()),
                    "Units.",
                ),
                col(
                    "unit_price",
                    Values::Money(lines.iter().map(|l| Some(l.unit_price_minor)).collect()),
                    "Price per unit.",
                ),
                col(
                    "amount",
                    Values::Money(lines.iter().map(|l| Some(l.amount_minor)).collect()),
                    "Line amount (quantity × unit price); sum it for revenue.",
                ),
            ],
        };
        fact.write(&b)?;
        if (lines.len() as i64) < BATCH {
            break;
        }
    }
    let mut tables = vec![fact.finish()?];

    // Customers with their latest scores.
    let customers = store.warehouse_customers().await?;
    let mut t = TableWriter::create(
        dir,
        "dim_customer",
        "One row per customer, deleted and merged ones included (flagged), with the latest scores.",
    )?;
    t.write(&Batch {
        columns: vec![
            col(
                "customer_key",
                Values::Int(customers.iter().map(|c| Some(c.id)).collect()),
                "Customer id.",
            ),
            col(
                "kind",
                Values::Text(customers.iter().map(|c| Some(c.kind.clone())).collect()),
                "individual or company.",
            ),
            col(
                "name",
                Values::Text(customers.iter().map(|c| Some(c.name.clone())).collect()),
                "Name (no contact data or ID numbers are exported).",
            ),
            col(
                "gender",
                Values::Text(customers.iter().map(|c| c.gender.clone()).collect()),
                "male, female, other, unspecified.",
            ),
            col(
                "city",
                Values::Text(customers.iter().map(|c| c.city.clone()).collect()),
                "City.",
            ),
            col(
                "province",
                Values::Text(customers.iter().map(|c| c.province.clone()).collect()),
                "Province.",
            ),
            col(
                "industry",
                Values::Text(customers.iter().map(|c| c.industry.clone()).collect()),
                "Industry (companies, or a person's employer's).",
            ),
            col(
                "lifecycle_stage",
                Values::Text(
                    customers
                        .iter()
                        .map(|c| Some(c.lifecycle_stage.clone()))
                        .collect(),
                ),
                "prospect, new, active, dormant, lost.",
            ),
            col(
                "source_channel",
                Values::Text(
                    customers
                        .iter()
                        .map(|c| Some(c.source_channel.clone()))
                        .collect(),
                ),
                "Where the customer came from.",
            ),
            col(
                "owner_id",
                Values::Int(customers.iter().map(|c| c.owner_id).collect()),
                "Owner (user id).",
            ),
            col(
                "owner_name",
                Values::Text(customers.iter().map(|c| c.owner_name.clone()).collect()),
                "Owner's name.",
            ),
            col(
                "team",
                Values::Text(customers.iter().map(|c| c.team_name.clone()).collect()),
                "Owner's team.",
            ),
            col(
                "created_date_key",
                Values::Int32(
                    customers
                        .iter()
                        .map(|c| date_of(local_day(c.created_at, offset_ms)).map(date_key))
                        .collect(),
                ),
                "Day the customer was created, YYYYMMDD.",
            ),
            col(
                "is_deleted",
                Values::Bool(
                    customers
                        .iter()
                        .map(|c| Some(c.deleted_at.is_some()))
                        .collect(),
                ),
                "Soft-deleted (kept so old facts still join).",
            ),
            col(
                "merged_into",
                Values::Int(customers.iter().map(|c| c.merged_into).collect()),
                "Set when merged into another customer.",
            ),
            col(
                "rfm_segment",
                Values::Text(customers.iter().map(|c| c.rfm_segment.clone()).collect()),
                "RFM segment at the latest score refresh (champions … lost).",
            ),
            col(
                "value_cell",
                Values::Text(customers.iter().map(|c| c.value_cell.clone()).collect()),
                "Frequency × average-spend cell: best, spenders, frequent, uncertain.",
            ),
            col(
                "abc_class",
                Values::Text(customers.iter().map(|c| c.abc_class.clone()).collect()),
                "Value tier (Pareto): A, B, C.",
            ),
            col(
                "activity",
                Values::Text(customers.iter().map(|c| c.activity.clone()).collect()),
                "active, potential, dormant, lost.",
            ),
            col(
                "clv",
                Values::Money(customers.iter().map(|c| c.clv_minor).collect()),
                "Customer lifetime value (BG/NBD + Gamma-Gamma), 52 weeks.",
            ),
            col(
                "churn_probability",
                Values::Float(customers.iter().map(|c| c.churn_probability).collect()),
                "Probability of no purchase in the next 90 days.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    // The admin's custom fields, one row per value: a bridge table any BI tool pivots.
    let custom = store.warehouse_custom_values().await?;
    let mut t = TableWriter::create(
        dir,
        "bridge_customer_field",
        "One row per custom-field value of a customer (a multi-choice: one per option); \
         sensitive fields are left out.",
    )?;
    t.write(&Batch {
        columns: vec![
            col(
                "customer_key",
                Values::Int(custom.iter().map(|c| Some(c.customer_id)).collect()),
                "Customer id (joins dim_customer).",
            ),
            col(
                "field_code",
                Values::Text(custom.iter().map(|c| Some(c.code.clone())).collect()),
                "The field's code, as the API and imports name it.",
            ),
            col(
                "field_label_en",
                Values::Text(custom.iter().map(|c| Some(c.label_en.clone())).collect()),
                "The field's English label.",
            ),
            col(
                "field_label_zh",
                Values::Text(custom.iter().map(|c| Some(c.label_zh.clone())).collect()),
                "The field's Chinese label.",
            ),
            col(
                "field_kind",
                Values::Text(custom.iter().map(|c| Some(c.kind.clone())).collect()),
                "text, number, money, date, choice, multi_choice, boolean, user or link.",
            ),
            col(
                "value_text",
                Values::Text(custom.iter().map(|c| Some(c.value_text.clone())).collect()),
                "The value as text: a choice's code, a date as YYYY-MM-DD, true/false, money as 123.45.",
            ),
            col(
                "value_number",
                Values::Float(custom.iter().map(|c| c.value_number).collect()),
                "The value as a number, for numbers, money (yuan) and user ids.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    let products = store.warehouse_products().await?;
    let mut t = TableWriter::create(dir, "dim_product", "One row per product.")?;
    t.write(&Batch {
        columns: vec![
            col(
                "product_key",
                Values::Int(products.iter().map(|p| Some(p.id)).collect()),
                "Product id.",
            ),
            col(
                "sku",
                Values::Text(products.iter().map(|p| Some(p.sku.clone())).collect()),
                "Stock-keeping unit.",
            ),
            col(
                "name",
                Values::Text(products.iter().map(|p| Some(p.name.clone())).collect()),
                "Product name.",
            ),
            col(
                "category",
                Values::Text(products.iter().map(|p| p.category.clone()).collect()),
                "Category.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    // Every day from the first to the last order (shop time).
    let days: Vec<NaiveDate> = if first_day <= last_day {
        (first_day..=last_day).filter_map(date_of).collect()
    } else {
        Vec::new()
    };
    let mut t = TableWriter::create(
        dir,
        "dim_date",
        "One row per calendar day from the first to the last order (shop time zone).",
    )?;
    t.write(&Batch {
        columns: vec![
            col(
                "date_key",
                Values::Int32(days.iter().map(|d| Some(date_key(*d))).collect()),
                "YYYYMMDD.",
            ),
            col(
                "date",
                Values::Date(days.iter().map(|d| Some(days_of(*d))).collect()),
                "The day.",
            ),
            col(
                "year",
                Values::Int32(days.iter().map(|d| Some(d.year())).collect()),
                "Year.",
            ),
            col(
                "quarter",
                Values::Int32(
                    days.iter()
                        .map(|d| Some(d.month0() as i32 / 3 + 1))
                        .collect(),
                ),
                "Quarter 1–4.",
            ),
            col(
                "month",
                Values::Int32(days.iter().map(|d| Some(d.month() as i32)).collect()),
                "Month 1–12.",
            ),
            col(
                "day",
                Values::Int32(days.iter().map(|d| Some(d.day() as i32)).collect()),
                "Day of month.",
            ),
            col(
                "iso_week",
                Values::Int32(
                    days.iter()
                        .map(|d| Some(d.iso_week().week() as i32))
                        .collect(),
                ),
                "ISO 8601 week number.",
            ),
            col(
                "weekday",
                Values::Int32(
                    days.iter()
                        .map(|d| Some(d.weekday().number_from_monday() as i32))
                        .collect(),
                ),
                "1 = Monday … 7 = Sunday.",
            ),
            col(
                "is_weekend",
                Values::Bool(
                    days.iter()
                        .map(|d| Some(d.weekday().number_from_monday() >= 6))
                        .collect(),
                ),
                "Saturday or Sunday.",
            ),
            col(
                "year_month",
                Values::Text(
                    days.iter()
                        .map(|d| Some(d.format("%Y-%m").to_string()))
                        .collect(),
                ),
                "YYYY-MM, for monthly roll-ups.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    let mut t = TableWriter::create(dir, "dim_channel", "Sales channels.")?;
    t.write(&Batch {
        columns: vec![
            col(
                "channel_key",
                Values::Int((1..=channels.len() as i64).map(Some).collect()),
                "Key.",
            ),
            col(
                "code",
                Values::Text(channels.iter().map(|c| Some(c.to_string())).collect()),
                "Stable code.",
            ),
            col(
                "name_zh",
                Values::Text(
                    channels
                        .iter()
                        .map(|c| Some(label(Locale::ZhCn, "order_channel", c)))
                        .collect(),
                ),
                "Chinese name.",
            ),
            col(
                "name_en",
                Values::Text(
                    channels
                        .iter()
                        .map(|c| Some(label(Locale::En, "order_channel", c)))
                        .collect(),
                ),
                "English name.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    let by_key: BTreeMap<i64, &String> = store_keys.iter().map(|(s, k)| (*k, s)).collect();
    let mut t = TableWriter::create(
        dir,
        "dim_store",
        "Stores (shops) orders were placed in; key 0 stands for no store.",
    )?;
    t.write(&Batch {
        columns: vec![
            col(
                "store_key",
                Values::Int(
                    std::iter::once(Some(0))
                        .chain(by_key.keys().map(|k| Some(*k)))
                        .collect(),
                ),
                "Key (0: no store).",
            ),
            col(
                "name",
                Values::Text(
                    std::iter::once(Some("(none)".to_string()))
                        .chain(by_key.values().map(|s| Some(s.to_string())))
                        .collect(),
                ),
                "Store name.",
            ),
        ],
    })?;
    tables.push(t.finish()?);

    let totals = store.warehouse_totals().await?;
    if totals != totals_before {
        bail!("orders changed while exporting; run the export again (nothing is half-written: rerun with --overwrite)");
    }
    write_readme(dir, &tables, totals, utc_offset_hours)?;
    let counts: Vec<(&'static str, u64)> = tables.iter().map(|t| (t.0, t.3)).collect();
    store
        .audit(
            &Actor::system(),
            AuditEvent {
                action: "export",
                entity: "warehouse",
                entity_id: None,
                detail: serde_json::json!({
                    "dir": dir.display().to_string(),
                    "formats": ["csv", "parquet"],
                    "rows": counts.iter().map(|(n, r)| (n.to_string(), serde_json::json!(r))).collect::<serde_json::Map<_, _>>(),
                }),
            },
        )
        .await?;
    Ok(Report {
        tables: counts,
        totals,
    })
}

type Finished = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str, &'static str)>,
    u64,
);

fn write_readme(
    dir: &Path,
    tables: &[Finished],
    totals: WarehouseTotals,
    utc_offset_hours: i64,
) -> Result<()> {
    let mut f = BufWriter::new(File::create(dir.join("README.md"))?);
    writeln!(f, "# Guanxi warehouse export (star schema)\n")?;
    writeln!(
        f,
        "Exported {} by `guanxi export warehouse`. Days are cut at midnight UTC{:+}. \
         Every table is here twice with the same rows: `csv/<table>.csv` (UTF-8, header row, \
         empty field = NULL) and `parquet/<table>.parquet` (Snappy).\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        utc_offset_hours
    )?;
    writeln!(
        f,
        "Totals at export: {} order lines in {} orders, amount {} , quantity {}.\n",
        totals.lines,
        totals.orders,
        money(totals.amount_minor),
        totals.quantity
    )?;
    writeln!(f, "## Tables\n")?;
    for (name, doc, cols, rows) in tables {
        writeln!(f, "### {name} ({rows} rows)\n\n{doc}\n")?;
        writeln!(f, "| column | type | meaning |\n| --- | --- | --- |")?;
        for (c, ty, d) in cols {
            writeln!(f, "| `{c}` | {ty} | {d} |")?;
        }
        writeln!(f)?;
    }
    writeln!(
        f,
        "## Load it\n\nDuckDB:\n\n```sql\nCREATE VIEW fact_order_line AS SELECT * FROM 'parquet/fact_order_line.parquet';\n\
         CREATE VIEW dim_date AS SELECT * FROM 'parquet/dim_date.parquet';\n\
         CREATE VIEW dim_customer AS SELECT * FROM 'parquet/dim_customer.parquet';\n\
         SELECT d.year_month, c.rfm_segment, SUM(f.amount) AS revenue\n\
         FROM fact_order_line f JOIN dim_date d USING (date_key)\n\
         JOIN dim_customer c USING (customer_key)\nGROUP BY ALL ORDER BY ALL;\n```\n\n\
         ClickHouse: `SELECT * FROM file('parquet/fact_order_line.parquet', Parquet)`; \
         Spark: `spark.read.parquet(\"parquet/fact_order_line.parquet\")`. \
         The CSV files load anywhere (`read_csv_auto` in DuckDB)."
    )?;
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_days_and_money() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_key(d), 20240229);
        assert_eq!(date_of(days_of(d)), Some(d));
        // 2024-02-29 16:30 UTC is already 1 March in Beijing.
        let ms = DateTime::parse_from_rfc3339("2024-02-29T16:30:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            date_of(local_day(ms, 8 * 3_600_000)),
            NaiveDate::from_ymd_opt(2024, 3, 1)
        );
        assert_eq!(money(-5), "-0.05");
        assert_eq!(money(123_456), "1234.56");
    }
}
