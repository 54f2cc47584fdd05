//! `guanxi import customers FILE.csv`: bulk import with a header mapping and a row-level error
//! report. By default the import is all-or-nothing: if any row is invalid nothing is written and
//! every problem is listed (row, column, why). `--skip-invalid` writes the valid rows and reports
//! the others. Either way, what is written is written in one transaction.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Utc;
use clap::Subcommand;
use guanxi_domain::customer::{CustomerFields, NewContactPoint, ValidCustomer};
use guanxi_domain::profile::Anniversary;
use guanxi_domain::provenance::Provenance;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::{ContactKind, CustomerKind, Gender, LifecycleStage, SourceChannel};
use guanxi_domain::ValidationErrors;
use guanxi_store::import::ImportWrite;
use guanxi_store::Store;
use guanxi_text::i18n::{message, Locale};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import customers from a CSV file (UTF-8, header row).
    Customers {
        /// The CSV file.
        file: PathBuf,
        /// Header mapping, e.g. `--map 姓名=name --map 手机=mobile`. Unmapped headers that equal a
        /// field name are used as they are; other columns are an error (so nothing is silently lost)
        /// unless `--ignore-unknown` is given.
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
        /// Ignore columns that map to no field.
        #[arg(long)]
        ignore_unknown: bool,
        /// Write valid rows even when others are invalid.
        #[arg(long)]
        skip_invalid: bool,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the error report to this CSV file as well.
        #[arg(long)]
        errors: Option<PathBuf>,
        /// Source channel recorded for every row without a `source_channel` column.
        #[arg(long, default_value = "import")]
        source: String,
        /// Language of the error report: en or zh-CN.
        #[arg(long, default_value = "en")]
        lang: String,
        /// What to do with a row whose mobile/phone, email, WeChat id or ID number already
        /// belongs to a customer (or to an earlier row of the file): report it as a problem
        /// (`fail`, the default), leave it out (`skip`), lay it over the existing customer
        /// (`update`: the row's values overwrite, empty cells keep, new contacts are added), or
        /// create it anyway (`create`). Each such row is reported by line.
        #[arg(long, value_enum, default_value_t = OnDuplicate::Fail)]
        on_duplicate: OnDuplicate,
    },
}

/// `--on-duplicate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDuplicate {
    /// Report as a problem.
    Fail,
    /// Leave the row out.
    Skip,
    /// Update the existing customer from the row.
    Update,
    /// Create a new customer anyway.
    Create,
}

/// What the import does with one valid row once duplicates are known.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// A new customer.
    Insert,
    /// Laid over this existing customer.
    Update(i64),
    /// Left out; the reason for the report.
    Skip(String),
}

/// Decides each valid row's fate: finds its duplicates among stored customers and earlier rows
/// of the file, and either plans it or reports a problem (column named as in the file).
async fn plan_rows(
    store: &Store,
    actor: &Actor,
    rows: &[(u64, ValidCustomer)],
    on_duplicate: OnDuplicate,
    header_of: &dyn Fn(&ValidCustomer, &str) -> String,
) -> anyhow::Result<(Vec<Plan>, Vec<RowError>)> {
    let mut seen: HashMap<(&'static str, String), u64> = HashMap::new();
    let mut plans = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    let stored_all = if on_duplicate == OnDuplicate::Create {
        vec![Vec::new(); rows.len()]
    } else {
        let all: Vec<&ValidCustomer> = rows.iter().map(|(_, v)| v).collect();
        store.duplicate_candidates_of_many(actor, &all).await?
    };
    for ((line, v), stored) in rows.iter().zip(stored_all) {
        let keys = v.identity_keys();
        let earlier = keys.iter().find_map(|(what, field, value)| {
            seen.get(&(*what, value.clone()))
                .map(|l| (*l, field.clone()))
        });
        for (what, _, value) in &keys {
            seen.entry((*what, value.clone())).or_insert(*line);
        }
        let problem = |code: &str, field: &str| RowError {
            line: *line,
            column: header_of(v, field),
            code: code.to_string(),
        };
        let plan = match (on_duplicate, stored.as_slice(), &earlier) {
            (OnDuplicate::Create, ..) | (_, [], None) => Some(Plan::Insert),
            (OnDuplicate::Skip, [first, ..], _) => Some(Plan::Skip(format!(
                "duplicate of customer #{} {} ({})",
                first.customer_id, first.name, first.matched_on
            ))),
            (OnDuplicate::Skip, [], Some((l, _))) => {
                Some(Plan::Skip(format!("duplicate of line {l}")))
            }
            (OnDuplicate::Update, [one], None) => Some(Plan::Update(one.customer_id)),
            (OnDuplicate::Update, _, Some((_, field))) => {
                problems.push(problem("duplicate_in_file", field));
                None
            }
            (OnDuplicate::Update, [first, ..], None) => {
                problems.push(problem("ambiguous_duplicate", &first.field));
                None
            }
            (OnDuplicate::Fail, [first, ..], _) => {
                problems.push(problem("possible_duplicate", &first.field));
                None
            }
            (OnDuplicate::Fail, [], Some((_, field))) => {
                problems.push(problem("duplicate_in_file", field));
                None
            }
        };
        plans.push(plan.unwrap_or_else(|| Plan::Skip(String::new())));
    }
    Ok((plans, problems))
}

/// Fields a column can map to.
const FIELDS: &[&str] = &[
    "kind",
    "name",
    "gender",
    "birthday",
    "birthday_lunar",
    "id_number",
    "province",
    "city",
    "address",
    "time_zone",
    "employer",
    "job_title",
    "industry",
    "lifecycle_stage",
    "tags",
    "source_channel",
    "mobile",
    "phone",
    "email",
    "wechat",
    "qq",
    "consent_marketing",
];

/// One problem in one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// Column header as in the file (or the field name).
    pub column: String,
    /// Stable code.
    pub code: String,
}

fn parse_bool(v: &str) -> Result<bool, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "" | "0" | "false" | "no" | "n" | "否" => Ok(false),
        "1" | "true" | "yes" | "y" | "是" => Ok(true),
        _ => Err("invalid_type"),
    }
}

/// Parses `YYYY-MM-DD`, `YYYY/MM/DD` or `MM-DD` (no year).
fn parse_birthday(v: &str, lunar: bool) -> Result<Anniversary, &'static str> {
    let parts: Vec<&str> = v
        .trim()
        .split(['-', '/', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    let num = |s: &str| s.parse::<u32>().map_err(|_| "invalid_date");
    match parts.as_slice() {
        [y, m, d] => Ok(Anniversary {
            year: Some(y.parse().map_err(|_| "invalid_date")?),
            month: num(m)?,
            day: num(d)?,
            lunar,
        }),
        [m, d] => Ok(Anniversary {
            year: None,
            month: num(m)?,
            day: num(d)?,
            lunar,
        }),
        _ => Err("invalid_date"),
    }
}

/// Parses a vocabulary column, recording an error against the file's column on failure.
fn parse_column<T>(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    errs: &mut Vec<(String, &'static str)>,
    field: &str,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    let (col, v) = get(field).filter(|(_, v)| !v.trim().is_empty())?;
    match parse(v.trim()) {
        Ok(x) => Some(x),
        Err(c) => {
            errs.push((col, c));
            None
        }
    }
}

/// Turns one record into customer fields, collecting every problem (column names are the file's).
fn row_to_fields(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    default_source: SourceChannel,
    actor: &Actor,
) -> RowCheck {
    let mut errs: Vec<(String, &'static str)> = Vec::new();
    let take = |field: &str| -> Option<(String, String)> {
        get(field).filter(|(_, v)| !v.trim().is_empty())
    };
    let kind: Option<CustomerKind> = parse_column(get, &mut errs, "kind", CustomerKind::parse);
    let gender: Option<Gender> = parse_column(get, &mut errs, "gender", Gender::parse);
    let stage: Option<LifecycleStage> =
        parse_column(get, &mut errs, "lifecycle_stage", LifecycleStage::parse);
    let channel: Option<SourceChannel> =
        parse_column(get, &mut errs, "source_channel", SourceChannel::parse);
    let lunar = match take("birthday_lunar") {
        Some((col, v)) => parse_bool(&v).unwrap_or_else(|c| {
            errs.push((col, c));
            false
        }),
        None => false,
    };
    let birthday = match take("birthday") {
        Some((col, v)) => match parse_birthday(&v, lunar) {
            Ok(b) => Some(b),
            Err(c) => {
                errs.push((col, c));
                None
            }
        },
        None => None,
    };
    let consent = match take("consent_marketing") {
        Some((col, v)) => parse_bool(&v).unwrap_or_else(|c| {
            errs.push((col, c));
            false
        }),
        None => false,
    };
    let mut contact_points = Vec::new();
    let mut contact_columns = Vec::new();
    for (field, kind) in [
        ("mobile", ContactKind::Mobile),
        ("phone", ContactKind::Phone),
        ("email", ContactKind::Email),
        ("wechat", ContactKind::Wechat),
        ("qq", ContactKind::Qq),
    ] {
        if let Some((col, v)) = take(field) {
            contact_columns.push(col);
            contact_points.push(NewContactPoint {
                kind,
                value: v,
                label: None,
                is_primary: true,
                consent_marketing: consent,
                source: None,
            });
        }
    }
    let text = |f: &str| take(f).map(|(_, v)| v);
    let source = Provenance {
        channel: channel.unwrap_or(default_source),
        direct: false,
        collected_by: actor.user_id(),
        collected_at: None,
    };
    let fields = CustomerFields {
        kind: kind.unwrap_or(CustomerKind::Individual),
        name: text("name").unwrap_or_default(),
        gender,
        birthday,
        id_number: text("id_number"),
        province: text("province"),
        city: text("city"),
        address: text("address"),
        time_zone: text("time_zone"),
        employer: text("employer"),
        job_title: text("job_title"),
        industry: text("industry"),
        lifecycle_stage: stage,
        owner_id: None,
        tags: text("tags")
            .map(|t| {
                t.split([';', '；', '|'])
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        source: Some(source),
        profile: None,
        company: None,
        contact_points: contact_points.clone(),
        allow_duplicate: false,
    };
    // Map validation paths back to the file's column names.
    let column_of = |path: &str| -> String {
        if let Some(rest) = path.strip_prefix("contact_points[") {
            let idx: usize = rest
                .split(']')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            return contact_columns
                .get(idx)
                .cloned()
                .unwrap_or_else(|| path.to_string());
        }
        let field = path.split(['.', '[']).next().unwrap_or(path);
        get(field)
            .map(|(c, _)| c)
            .unwrap_or_else(|| field.to_string())
    };
    match fields.validate(actor.id, Utc::now()) {
        Ok(v) if errs.is_empty() => Ok(v),
        Ok(_) => Err(errs),
        Err(ValidationErrors(v)) => {
            errs.extend(v.into_iter().map(|e| (column_of(&e.field), e.message_key)));
            Err(errs)
        }
    }
}

pub async fn run(cmd: ImportCommand, store: Store) -> anyhow::Result<()> {
    let ImportCommand::Customers {
        file,
        map,
        ignore_unknown,
        skip_invalid,
        dry_run,
        errors,
        source,
        lang,
        on_duplicate,
    } = cmd;
    let locale = Locale::from_code(&lang).unwrap_or(Locale::En);
    let default_source = SourceChannel::parse(&source)
        .map_err(|_| anyhow::anyhow!("unknown source channel `{source}`"))?;
    let mut mapping: HashMap<String, String> = HashMap::new();
    for m in &map {
        let (h, f) = m
            .split_once('=')
            .with_context(|| format!("--map expects HEADER=FIELD, got `{m}`"))?;
        if !FIELDS.contains(&f.trim()) {
            bail!(
                "--map {m}: unknown field `{}`; fields are: {}",
                f.trim(),
                FIELDS.join(", ")
            );
        }
        mapping.insert(h.trim().to_string(), f.trim().to_string());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(&file)
        .with_context(|| format!("opening {}", file.display()))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("reading the header row of {}", file.display()))?
        .clone();
    // field -> (column index, header text)
    let mut columns: HashMap<String, (usize, String)> = HashMap::new();
    let mut unknown = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim_start_matches('\u{feff}').trim();
        let field = mapping
            .get(h)
            .cloned()
            .or_else(|| FIELDS.contains(&h).then(|| h.to_string()));
        match field {
            Some(f) => {
                if columns.insert(f.clone(), (i, h.to_string())).is_some() {
                    bail!("two columns map to the field `{f}`");
                }
            }
            None => unknown.push(h.to_string()),
        }
    }
    if !unknown.is_empty() && !ignore_unknown {
        bail!("columns not mapped to any field: {} (use --map HEADER=FIELD or --ignore-unknown). Fields: {}", unknown.join(", "), FIELDS.join(", "));
    }
    if !columns.contains_key("name") {
        bail!("no column maps to `name` (use --map YOUR_HEADER=name)");
    }
    let actor = Actor::system();
    let started = std::time::Instant::now();
    let mut phases: Vec<(&str, u128)> = Vec::new();
    let mut phase = |name: &'static str, since: &mut std::time::Instant| {
        phases.push((name, since.elapsed().as_millis()));
        *since = std::time::Instant::now();
    };
    let mut since = started;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} read {pos} rows ({per_sec})")
            .context("progress template")?,
    );
    let mut records: Vec<(u64, csv::StringRecord)> = Vec::new();
    let mut problems: Vec<RowError> = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n as u64 + 2;
        match rec {
            Ok(r) => records.push((line, r)),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                problems.push(RowError {
                    line,
                    column: "-".into(),
                    code: format!("malformed_csv: {e}"),
                });
            }
        }
        if n % 4096 == 0 {
            bar.set_position(n as u64);
        }
    }
    bar.finish_and_clear();
    phase("read", &mut since);
    let checked = check_rows(&records, &columns, default_source, &actor);
    phase("check", &mut since);
    drop(records);
    let mut valid: Vec<(u64, ValidCustomer)> = Vec::with_capacity(checked.len());
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
    // The column a duplicate was found in, as the file names it.
    let header_of = |v: &ValidCustomer, field: &str| -> String {
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
    };
    let (plans, duplicate_problems) =
        plan_rows(&store, &actor, &valid, on_duplicate, &header_of).await?;
    phase("duplicates", &mut since);
    let duplicate_lines: std::collections::BTreeSet<u64> =
        duplicate_problems.iter().map(|p| p.line).collect();
    problems.extend(duplicate_problems);
    problems.sort_by_key(|p| p.line);
    let mut valid: Vec<(u64, ValidCustomer, Plan)> = valid
        .into_iter()
        .zip(plans)
        .filter(|((line, _), _)| !duplicate_lines.contains(line))
        .map(|((line, v), plan)| (line, v, plan))
        .collect();
    for (line, _, plan) in &valid {
        if let Plan::Skip(why) = plan {
            eprintln!("line {line}: skipped, {why}");
        }
    }
    let skipped = valid
        .iter()
        .filter(|(_, _, p)| matches!(p, Plan::Skip(_)))
        .count();
    valid.retain(|(_, _, p)| !matches!(p, Plan::Skip(_)));
    let bad_rows: std::collections::BTreeSet<u64> = problems.iter().map(|p| p.line).collect();
    for p in &problems {
        let msg = if p.code.starts_with("malformed_csv") {
            p.code.clone()
        } else {
            message(locale, &p.code).to_string()
        };
        eprintln!("line {}: column {}: {} ({})", p.line, p.column, msg, p.code);
    }
    if let Some(path) = &errors {
        let mut w =
            csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["line", "column", "code", "message"])?;
        for p in &problems {
            w.write_record([
                p.line.to_string(),
                p.column.clone(),
                p.code.clone(),
                message(locale, &p.code).to_string(),
            ])?;
        }
        w.flush()?;
    }
    let total = valid.len() + bad_rows.len() + skipped;
    if !problems.is_empty() && !skip_invalid {
        bail!("{} of {} rows have problems; nothing was imported. Fix them, or pass --skip-invalid to import the {} valid rows.", bad_rows.len(), total, valid.len());
    }
    if dry_run {
        println!(
            "dry run: {} rows valid, {} invalid; nothing written.",
            valid.len(),
            bad_rows.len()
        );
        return Ok(());
    }
    let bar = ProgressBar::new(valid.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} ({eta})")
            .context("progress template")?
            .progress_chars("=> "),
    );
    let writes: Vec<ImportWrite> = valid
        .into_iter()
        .map(|(_, v, plan)| match plan {
            Plan::Update(id) => ImportWrite::Update(id, v),
            _ => ImportWrite::Insert(v),
        })
        .collect();
    let shown = bar.clone();
    let counts = store
        .import_customers(&actor, writes, Arc::new(move |n| shown.set_position(n)))
        .await
        .context("writing the import; nothing was imported")?;
    bar.finish_and_clear();
    phase("write", &mut since);
    println!(
        "imported {} customers, updated {}; {skipped} rows skipped as duplicates, {} as invalid.",
        counts.inserted,
        counts.updated,
        bad_rows.len()
    );
    let phases: Vec<String> = phases
        .iter()
        .map(|(n, ms)| format!("{n} {ms} ms"))
        .collect();
    eprintln!(
        "timing: {} ({} ms in all)",
        phases.join(", "),
        started.elapsed().as_millis()
    );
    Ok(())
}

/// A row turned into a customer, or its problems as (column, message key).
type RowCheck = Result<ValidCustomer, Vec<(String, &'static str)>>;

/// Turns each record into a validated customer or its problems, on every core (pinyin and
/// validation are most of an import's computing), keeping the file's order.
fn check_rows(
    records: &[(u64, csv::StringRecord)],
    columns: &HashMap<String, (usize, String)>,
    default_source: SourceChannel,
    actor: &Actor,
) -> Vec<(u64, RowCheck)> {
    records
        .par_iter()
        .map(|(line, rec)| {
            let get = |field: &str| {
                columns
                    .get(field)
                    .map(|(i, h)| (h.clone(), rec.get(*i).unwrap_or("").to_string()))
            };
            (*line, row_to_fields(&get, default_source, actor))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays() {
        assert_eq!(
            parse_birthday("1990/8/15", true),
            Ok(Anniversary {
                year: Some(1990),
                month: 8,
                day: 15,
                lunar: true
            })
        );
        assert_eq!(
            parse_birthday("08-15", false),
            Ok(Anniversary {
                year: None,
                month: 8,
                day: 15,
                lunar: false
            })
        );
        assert!(parse_birthday("soon", false).is_err());
    }

    #[test]
    fn errors_name_the_file_column() {
        let cols: HashMap<&str, (&str, &str)> = [
            ("name", ("姓名", "")),
            ("mobile", ("手机", "12")),
            ("gender", ("性别", "x")),
        ]
        .into();
        let get = |f: &str| cols.get(f).map(|(h, v)| (h.to_string(), v.to_string()));
        let errs = row_to_fields(&get, SourceChannel::Import, &Actor::system()).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert!(
            cols.contains(&"姓名") && cols.contains(&"手机") && cols.contains(&"性别"),
            "{errs:?}"
        );
    }
}
