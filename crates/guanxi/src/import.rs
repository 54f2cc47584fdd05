//! `guanxi import customers FILE.csv`: bulk import with a header mapping and a row-level error
//! report. By default the import is all-or-nothing: if any row is invalid nothing is written and
//! every problem is listed (row, column, why). `--skip-invalid` writes the valid rows and reports
//! the others. Either way, what is written is written in one transaction. The file is read,
//! checked and matched by the same code as the browser's import wizard (`guanxi_app::import`):
//! CSV in UTF-8, GBK or UTF-16, or the first sheet of an xlsx/xls/ods workbook.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Utc;
use clap::Subcommand;
use guanxi_app::import::{check_rows, plan_rows, split_checked, Plan};
use guanxi_domain::customer::ValidCustomer;
use guanxi_domain::import::{DuplicateChoice, UpdateMode, FIELDS};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::SourceChannel;
use guanxi_store::import::ImportWrite;
use guanxi_store::Store;
use guanxi_text::i18n::{message, Locale};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import customers from a CSV file (UTF-8, GBK or UTF-16; header row) or a workbook.
    Customers {
        /// The CSV or workbook file.
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

impl OnDuplicate {
    fn choice(self) -> DuplicateChoice {
        match self {
            Self::Fail => DuplicateChoice::Fail,
            Self::Skip => DuplicateChoice::Skip,
            Self::Update => DuplicateChoice::Update,
            Self::Create => DuplicateChoice::Create,
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
    let bytes = std::fs::read(&file).with_context(|| format!("opening {}", file.display()))?;
    let book = guanxi_app::import::read_file(&bytes).map_err(|e| {
        let problem = e.0.first();
        // `rows[<n>]` names a line of the file.
        let at = problem
            .and_then(|x| x.field.strip_prefix("rows["))
            .and_then(|r| r.strip_suffix(']'))
            .map(|n| format!("line {n}: "))
            .unwrap_or_default();
        anyhow::anyhow!(
            "reading {}: {at}{}",
            file.display(),
            problem
                .map(|x| message(locale, x.message_key))
                .unwrap_or("?")
        )
    })?;
    let (_, table) = book.sheet(None).context("the file has no sheet")?;
    // field -> (column index, header text)
    let mut columns: HashMap<String, (usize, String)> = HashMap::new();
    let mut unknown = Vec::new();
    for (i, h) in table.headers.iter().enumerate() {
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
    let records: Vec<(u64, Vec<String>)> = table
        .rows
        .iter()
        .enumerate()
        .map(|(n, r)| (n as u64 + 2, r.clone()))
        .collect();
    drop(book);
    phase("read", &mut since);
    let checked = check_rows(
        &records,
        &columns,
        default_source,
        &actor,
        None,
        Utc::now(),
        &[],
    );
    phase("check", &mut since);
    drop(records);
    let (valid, mut problems) = split_checked(checked);
    let choice = on_duplicate.choice();
    let (plans, duplicate_problems, matches) =
        plan_rows(&store, &actor, &valid, &|_| choice, &columns).await?;
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
        if *plan != Plan::Skip {
            continue;
        }
        match matches.iter().find(|m| m.line == *line) {
            Some(m) if m.customer_id.is_some() => eprintln!(
                "line {line}: skipped, duplicate of customer #{} {} ({})",
                m.customer_id.unwrap_or_default(),
                m.customer_name.as_deref().unwrap_or(""),
                m.matched_on
            ),
            Some(m) => eprintln!(
                "line {line}: skipped, duplicate of line {}",
                m.earlier_line.unwrap_or_default()
            ),
            None => eprintln!("line {line}: skipped as a duplicate"),
        }
    }
    let skipped = valid.iter().filter(|(_, _, p)| *p == Plan::Skip).count();
    valid.retain(|(_, _, p)| *p != Plan::Skip);
    let bad_rows: std::collections::BTreeSet<u64> = problems.iter().map(|p| p.line).collect();
    for p in &problems {
        let msg = message(locale, &p.code).to_string();
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
            Plan::Update(id) => ImportWrite::Update(id, v, UpdateMode::Overwrite.into()),
            _ => ImportWrite::Insert(v),
        })
        .collect();
    let shown = bar.clone();
    let counts = store
        .import_customers(
            &actor,
            writes,
            Arc::new(move |n| shown.set_position(n)),
            None,
        )
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
