//! `guanxi analyze …`: the analytics engine on a transactions CSV a user brings, or on the
//! orders in the database. Results go to a CSV (`--out`, or standard output); a summary goes to
//! standard error.

mod input;

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use guanxi_analytics::{activity, anomaly, assoc, churn, clv, pareto, rfm, value_matrix};
use indicatif::{ProgressBar, ProgressStyle};

pub use input::{civil_from_days, parse_date};
use input::{Columns, Loaded};

/// Where the transactions come from and where results go.
#[derive(Args, Clone)]
pub struct Source {
    /// Transactions CSV with a header (one row per order): customer, date, amount.
    #[arg(long, conflicts_with = "from_db")]
    input: Option<PathBuf>,
    /// Analyse the orders in the database instead.
    #[arg(long)]
    from_db: bool,
    /// Time zone of the shop for --from-db, hours east of UTC (China: 8).
    #[arg(long, default_value_t = 8)]
    utc_offset_hours: i64,
    /// Customer id column.
    #[arg(long, default_value = "customer_id")]
    customer_col: String,
    /// Date column (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD).
    #[arg(long, default_value = "date")]
    date_col: String,
    /// Amount column.
    #[arg(long, default_value = "amount")]
    amount_col: String,
    /// Analyse as of this day (default: the last day in the data).
    #[arg(long)]
    as_of: Option<String>,
    /// Output CSV (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AnalyzeCommand {
    /// RFM scores (1–5) and segments per customer.
    Rfm {
        #[command(flatten)]
        source: Source,
        /// Only purchases in the last N days (default: all history).
        #[arg(long)]
        window_days: Option<i32>,
    },
    /// Grades: ABC (Pareto) class, value-matrix cell and activity status per customer.
    Grade {
        #[command(flatten)]
        source: Source,
        /// Column with the cost of each order (same units as the amount): adds a
        /// profitability grade (good / ordinary / bad) from each customer's margin.
        #[arg(long)]
        cost_col: Option<String>,
        /// Cumulative revenue share of class A.
        #[arg(long, default_value_t = 0.8)]
        a_share: f64,
        /// Cumulative revenue share of classes A and B.
        #[arg(long, default_value_t = 0.95)]
        b_share: f64,
    },
    /// CLV: BG/NBD + Gamma-Gamma, P(alive), expected purchases, discounted value.
    Clv {
        #[command(flatten)]
        source: Source,
        /// Fit on a ready summary instead of transactions: a CSV with `frequency`, `recency`,
        /// `T` and optionally `monetary_value` (the `lifetimes` column names), one row per customer.
        #[arg(long, conflicts_with_all = ["input", "from_db"])]
        summary: Option<PathBuf>,
        /// Length of a model period in days (7: weeks, as in the CDNOW papers).
        #[arg(long, default_value_t = 7)]
        period_days: i32,
        /// Horizon in periods.
        #[arg(long, default_value_t = 52)]
        horizon: u32,
        /// Discount rate per period.
        #[arg(long, default_value_t = 0.0019)]
        discount: f64,
        /// Profit margin on revenue (1.0 = value revenue).
        #[arg(long, default_value_t = 1.0)]
        margin: f64,
    },
    /// Churn warning: probability of no purchase in the next N days, with hold-out AUC.
    Churn {
        #[command(flatten)]
        source: Source,
        /// Days ahead.
        #[arg(long, default_value_t = 90)]
        horizon_days: i32,
    },
    /// Association rules (FP-growth): "customers who bought X also bought Y".
    Assoc {
        /// Baskets: a CSV with a basket column and an item column, or with --one-basket-per-line
        /// a file whose every line is a comma-separated basket.
        #[arg(long, conflicts_with = "from_db")]
        input: Option<PathBuf>,
        /// Use the order lines in the database.
        #[arg(long)]
        from_db: bool,
        /// The input has one basket per line, items separated by commas, no header.
        #[arg(long)]
        one_basket_per_line: bool,
        /// Basket column (an order id).
        #[arg(long, default_value = "order_id")]
        basket_col: String,
        /// Item column.
        #[arg(long, default_value = "product")]
        item_col: String,
        /// Minimum support (share of baskets).
        #[arg(long, default_value_t = 0.01)]
        min_support: f64,
        /// Minimum confidence of a rule.
        #[arg(long, default_value_t = 0.2)]
        min_confidence: f64,
        /// Longest itemset mined (0: no limit). Input whose result could exceed two million
        /// itemsets is refused with advice instead of exhausting memory.
        #[arg(long, default_value_t = guanxi_analytics::assoc::DEFAULT_MAX_LEN)]
        max_len: usize,
        /// Write frequent itemsets instead of rules.
        #[arg(long)]
        itemsets: bool,
        /// Output CSV (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Purchases far outside the customer's own history (robust z-score).
    Anomalies {
        #[command(flatten)]
        source: Source,
        /// Modified z-score above which a purchase is flagged.
        #[arg(long, default_value_t = 3.5)]
        threshold: f64,
        /// Fewest purchases a customer needs before anything is unusual.
        #[arg(long, default_value_t = 5)]
        min_history: usize,
    },
}

fn progress(msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(msg);
    bar
}

async fn load(
    source: &Source,
    store: impl std::future::Future<Output = anyhow::Result<guanxi_store::Store>>,
) -> anyhow::Result<(Loaded, i32)> {
    let loaded = match (&source.input, source.from_db) {
        (Some(path), false) => {
            let cols = Columns {
                customer: source.customer_col.clone(),
                date: source.date_col.clone(),
                amount: source.amount_col.clone(),
            };
            let path = path.clone();
            let bar = progress("reading");
            tokio::task::spawn_blocking(move || input::read_csv(&path, &cols, &bar)).await??
        }
        (None, true) => input::from_db(&store.await?, source.utc_offset_hours).await?,
        _ => bail!("give --input FILE.csv or --from-db"),
    };
    let last = loaded.tx.day.iter().copied().max().unwrap_or(0);
    let as_of = match &source.as_of {
        Some(s) => parse_date(s.as_bytes()).map_err(|why| anyhow::anyhow!("--as-of {s}: {why}"))?,
        None => last,
    };
    Ok((loaded, as_of))
}

fn writer(out: &Option<PathBuf>) -> anyhow::Result<csv::Writer<Box<dyn std::io::Write>>> {
    let w: Box<dyn std::io::Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    Ok(csv::Writer::from_writer(w))
}

fn r6(v: f64) -> String {
    format!("{v:.6}")
}

/// Runs an analysis. `store` is opened only when the database is the source.
pub async fn run(
    cmd: AnalyzeCommand,
    store: impl std::future::Future<Output = anyhow::Result<guanxi_store::Store>>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    match cmd {
        AnalyzeCommand::Rfm {
            source,
            window_days,
        } => {
            let (data, as_of) = load(&source, store).await?;
            let read = started.elapsed();
            let scores = rfm::rfm(&data.tx, as_of, window_days)?;
            let computed = started.elapsed() - read;
            let mut w = writer(&source.out)?;
            w.write_record([
                "customer_id",
                "recency_days",
                "frequency",
                "monetary",
                "r",
                "f",
                "m",
                "rfm",
                "segment",
            ])?;
            let mut counts = std::collections::BTreeMap::new();
            for s in &scores {
                *counts.entry(s.segment.name()).or_insert(0usize) += 1;
                w.write_record([
                    data.id(s.customer),
                    s.recency_days.to_string(),
                    s.frequency.to_string(),
                    format!("{:.2}", s.monetary),
                    s.r.to_string(),
                    s.f.to_string(),
                    s.m.to_string(),
                    format!("{}{}{}", s.r, s.f, s.m),
                    s.segment.name().to_string(),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "RFM of {} customers ({} transactions) as of {} in {:.2?} (read {:.2?}, compute {:.2?}, write {:.2?})",
                scores.len(),
                data.tx.len(),
                civil_from_days(as_of),
                started.elapsed(),
                read,
                computed,
                started.elapsed() - read - computed
            );
            for (seg, n) in counts {
                eprintln!("  {seg:<20} {n}");
            }
        }
        AnalyzeCommand::Grade {
            source,
            cost_col,
            a_share,
            b_share,
        } => {
            let (data, as_of) = load(&source, store).await?;
            let cost = match (&cost_col, &source.input) {
                (Some(col), Some(path)) => Some(read_cost_column(path, col, data.tx.len())?),
                (Some(_), None) => {
                    bail!("--cost-col needs --input (orders in the database carry no cost yet)")
                }
                _ => None,
            };
            // Grades as of a day see only the orders up to it (and their costs).
            let keep: Vec<bool> = data.tx.day.iter().map(|&d| d <= as_of).collect();
            let cost: Option<Vec<f64>> = cost.map(|c| {
                c.into_iter()
                    .zip(&keep)
                    .filter_map(|(v, &k)| k.then_some(v))
                    .collect()
            });
            let tx = data.tx.up_to(as_of);
            let (summary, grades) = pareto::abc(&tx, cost.as_deref(), a_share, b_share)?;
            let (thresholds, cells) = value_matrix::value_matrix(&tx, Some(as_of), None)?;
            let acts = activity::activity(&tx, as_of, activity::ActivityRules::default())?;
            let cell: std::collections::HashMap<i64, &value_matrix::MatrixPosition> =
                cells.iter().map(|c| (c.customer, c)).collect();
            let act: std::collections::HashMap<i64, &activity::ActivityStatus> =
                acts.iter().map(|a| (a.customer, a)).collect();
            let mut w = writer(&source.out)?;
            w.write_record([
                "customer_id",
                "revenue",
                "revenue_rank",
                "cumulative_share",
                "abc_class",
                "profitability",
                "frequency",
                "average_spend",
                "value_cell",
                "activity",
                "days_since_last",
                "typical_interval_days",
                "orders_falling",
            ])?;
            for g in &grades {
                let (c, a) = (cell.get(&g.customer), act.get(&g.customer));
                w.write_record([
                    data.id(g.customer),
                    format!("{:.2}", g.revenue),
                    g.rank.to_string(),
                    r6(g.cumulative_share),
                    format!("{:?}", g.class),
                    g.profitability
                        .map(|p| format!("{p:?}").to_lowercase())
                        .unwrap_or_default(),
                    c.map(|c| c.frequency.to_string()).unwrap_or_default(),
                    c.map(|c| format!("{:.2}", c.average_spend))
                        .unwrap_or_default(),
                    c.map(|c| c.cell.code().to_string()).unwrap_or_default(),
                    a.map(|a| format!("{:?}", a.status).to_lowercase())
                        .unwrap_or_default(),
                    a.map(|a| a.days_since_last.to_string()).unwrap_or_default(),
                    a.map(|a| format!("{:.1}", a.typical_interval))
                        .unwrap_or_default(),
                    a.map(|a| a.orders_falling.to_string()).unwrap_or_default(),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "{} customers, revenue {:.2}: the top 20% bring {:.1}% of revenue; {:.1}% of customers bring 80%. A/B/C = {}/{}/{}. Value matrix split at {:.1} purchases and {:.2} per purchase.",
                summary.customers, summary.revenue, summary.top20_share * 100.0, summary.customers_for_80 * 100.0, summary.class_counts[0], summary.class_counts[1], summary.class_counts[2], thresholds.frequency, thresholds.average_spend
            );
        }
        AnalyzeCommand::Clv {
            source,
            summary: summary_file,
            period_days,
            horizon,
            discount,
            margin,
        } => {
            clv::check_horizon(horizon, period_days)?;
            clv::check_rates(discount, margin)?;
            let (data, summary) = match &summary_file {
                Some(path) => (
                    Loaded {
                        tx: guanxi_analytics::Transactions::default(),
                        names: None,
                    },
                    read_summary(path)?,
                ),
                None => {
                    let (data, as_of) = load(&source, store).await?;
                    let s = clv::rft_summary(&data.tx, as_of, period_days)?;
                    (data, s)
                }
            };
            let x: Vec<f64> = summary.iter().map(|s| s.frequency).collect();
            let tx_: Vec<f64> = summary.iter().map(|s| s.recency).collect();
            let t: Vec<f64> = summary.iter().map(|s| s.t).collect();
            let m: Vec<f64> = summary.iter().map(|s| s.monetary).collect();
            let bg = clv::BgNbd::fit(&x, &tx_, &t)?;
            let gg = if m.iter().any(|v| *v > 0.0) {
                Some(clv::GammaGamma::fit(&x, &m)?)
            } else {
                eprintln!("no spend column: fitted BG/NBD only; CLV columns are left empty");
                None
            };
            let Some(gg) = gg else {
                let mut w = writer(&source.out)?;
                w.write_record([
                    "customer_id",
                    "frequency",
                    "recency",
                    "T",
                    "p_alive",
                    "expected_purchases",
                ])?;
                for s in &summary {
                    w.write_record([
                        data.id(s.customer),
                        s.frequency.to_string(),
                        s.recency.to_string(),
                        s.t.to_string(),
                        r6(bg.p_alive(s.frequency, s.recency, s.t)),
                        r6(bg.expected_purchases(f64::from(horizon), s.frequency, s.recency, s.t)),
                    ])?;
                }
                w.flush()?;
                eprintln!("BG/NBD: r={:.6} alpha={:.6} a={:.6} b={:.6} (LL {:.2}); {} customers in {:.2?}", bg.r, bg.alpha, bg.a, bg.b, bg.log_likelihood, summary.len(), started.elapsed());
                return Ok(());
            };
            let values = clv::lifetime_values(&bg, &gg, &summary, horizon, discount, margin)?;
            let mut w = writer(&source.out)?;
            w.write_record([
                "customer_id",
                "frequency",
                "recency",
                "T",
                "monetary",
                "p_alive",
                "expected_purchases",
                "expected_spend",
                "clv",
            ])?;
            for (s, v) in summary.iter().zip(&values) {
                w.write_record([
                    data.id(s.customer),
                    s.frequency.to_string(),
                    s.recency.to_string(),
                    s.t.to_string(),
                    format!("{:.2}", s.monetary),
                    r6(v.p_alive),
                    r6(v.expected_purchases),
                    format!("{:.2}", v.expected_spend),
                    format!("{:.2}", v.clv),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "BG/NBD: r={:.4} alpha={:.4} a={:.4} b={:.4} (LL {:.1}); Gamma-Gamma: p={:.4} q={:.4} gamma={:.4} (LL {:.1}); {} customers, total CLV {:.2} over {horizon} periods of {period_days} days, in {:.2?}",
                bg.r, bg.alpha, bg.a, bg.b, bg.log_likelihood, gg.p, gg.q, gg.gamma, gg.log_likelihood, values.len(), values.iter().map(|v| v.clv).sum::<f64>(), started.elapsed()
            );
        }
        AnalyzeCommand::Churn {
            source,
            horizon_days,
        } => {
            let (data, as_of) = load(&source, store).await?;
            let report = churn::churn_warning(&data.tx, as_of, horizon_days)?;
            let mut w = writer(&source.out)?;
            let mut header = vec!["customer_id", "churn_probability", "main_reason"];
            header.extend(churn::FEATURES);
            w.write_record(&header)?;
            for s in &report.scores {
                let mut row = vec![
                    data.id(s.customer),
                    r6(s.probability),
                    s.main_reason.unwrap_or_default().to_string(),
                ];
                row.extend(s.features.iter().map(|f| format!("{f:.4}")));
                w.write_record(&row)?;
            }
            w.flush()?;
            eprintln!("churn warning ({horizon_days} days): trained on {} customers, tested on {}; hold-out AUC {:.3}, Brier {:.3}", report.train_rows, report.test_rows, report.auc, report.brier);
            eprintln!("calibration by decile (predicted → observed):");
            for b in &report.calibration {
                eprintln!(
                    "  {:>5} customers  {:.3} → {:.3}",
                    b.count, b.predicted, b.observed
                );
            }
        }
        AnalyzeCommand::Assoc {
            input,
            from_db,
            one_basket_per_line,
            basket_col,
            item_col,
            min_support,
            min_confidence,
            max_len,
            itemsets,
            out,
        } => {
            let baskets = match (&input, from_db) {
                (Some(p), false) => read_baskets(p, one_basket_per_line, &basket_col, &item_col)?,
                (None, true) => {
                    let mut by: std::collections::BTreeMap<i64, Vec<String>> =
                        std::collections::BTreeMap::new();
                    for (order, item) in store.await?.basket_items().await? {
                        by.entry(order).or_default().push(item);
                    }
                    by.into_values().collect()
                }
                _ => bail!("give --input FILE or --from-db"),
            };
            let sets = assoc::frequent_itemsets(&baskets, min_support, Some(max_len))?;
            let mut w = writer(&out)?;
            if itemsets {
                w.write_record(["items", "count", "support"])?;
                for s in &sets {
                    w.write_record([s.items.join("|"), s.count.to_string(), r6(s.support)])?;
                }
                w.flush()?;
            } else {
                let rules = assoc::rules(&sets, min_confidence);
                w.write_record(["antecedent", "consequent", "support", "confidence", "lift"])?;
                for r in &rules {
                    w.write_record([
                        r.antecedent.join("|"),
                        r.consequent.join("|"),
                        r6(r.support),
                        r6(r.confidence),
                        r6(r.lift),
                    ])?;
                }
                w.flush()?;
                eprintln!("{} rules", rules.len());
            }
            eprintln!(
                "{} baskets, {} frequent itemsets at support ≥ {min_support}, in {:.2?}",
                baskets.len(),
                sets.len(),
                started.elapsed()
            );
        }
        AnalyzeCommand::Anomalies {
            source,
            threshold,
            min_history,
        } => {
            let (data, as_of) = load(&source, store).await?;
            let found = anomaly::anomalies(&data.tx.up_to(as_of), threshold, min_history)?;
            let mut w = writer(&source.out)?;
            w.write_record([
                "customer_id",
                "line",
                "date",
                "amount",
                "customer_median",
                "robust_z",
                "reason",
            ])?;
            for a in &found {
                let reason = match a.reason {
                    anomaly::Reason::AmountHigh => "amount far above this customer's usual",
                    anomaly::Reason::AmountLow => "amount far below this customer's usual",
                };
                w.write_record([
                    data.id(a.customer),
                    (a.row + 2).to_string(),
                    civil_from_days(a.day),
                    format!("{:.2}", a.amount),
                    format!("{:.2}", a.median),
                    format!("{:.2}", a.z),
                    reason.to_string(),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "{} unusual purchases among {} transactions",
                found.len(),
                data.tx.len()
            );
        }
    }
    Ok(())
}

/// Reads one numeric column (order cost) aligned with the transactions read from the same file.
fn read_cost_column(path: &std::path::Path, col: &str, rows: usize) -> anyhow::Result<Vec<f64>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let i = rdr
        .headers()?
        .iter()
        .position(|h| h.trim() == col)
        .with_context(|| format!("no column `{col}` in {}", path.display()))?;
    let mut out = Vec::with_capacity(rows);
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("line {}: malformed CSV", n + 2))?;
        let v: f64 = rec
            .get(i)
            .unwrap_or("")
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .with_context(|| format!("line {}, column {col}: not a non-negative number", n + 2))?;
        out.push(v);
    }
    if out.len() != rows {
        bail!(
            "column {col} has {} values for {rows} transactions",
            out.len()
        );
    }
    Ok(out)
}

/// Reads a per-customer summary (`frequency`, `recency`, `T`, optional `monetary_value`,
/// optional `ID`/`customer_id`).
fn read_summary(path: &std::path::Path) -> anyhow::Result<Vec<clv::Rft>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h == *n))
    };
    let (Some(fi), Some(ri), Some(ti)) = (
        col(&["frequency", "x"]),
        col(&["recency", "t_x"]),
        col(&["T"]),
    ) else {
        bail!("{} needs columns frequency, recency and T", path.display());
    };
    let mi = col(&["monetary_value", "zbar", "monetary"]);
    let ii = col(&["customer_id", "ID", "id"]);
    let mut out = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("line {}: malformed CSV", n + 2))?;
        let num = |i: usize, name: &str| -> anyhow::Result<f64> {
            rec.get(i)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .with_context(|| {
                    format!("line {}, column {name}: not a non-negative number", n + 2)
                })
        };
        out.push(clv::Rft {
            customer: match ii {
                Some(i) => {
                    rec.get(i).unwrap_or("").trim().parse().with_context(|| {
                        format!("line {}: customer id must be an integer", n + 2)
                    })?
                }
                None => n as i64 + 1,
            },
            frequency: num(fi, "frequency")?,
            recency: num(ri, "recency")?,
            t: num(ti, "T")?,
            monetary: match mi {
                Some(i) => num(i, "monetary_value")?,
                None => 0.0,
            },
        });
    }
    if out.is_empty() {
        bail!("{} has no rows", path.display());
    }
    Ok(out)
}

fn read_baskets(
    path: &std::path::Path,
    per_line: bool,
    basket_col: &str,
    item_col: &str,
) -> anyhow::Result<Vec<Vec<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if per_line {
        let b: Vec<Vec<String>> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        if b.is_empty() {
            bail!("{} has no baskets", path.display());
        }
        return Ok(b);
    }
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers()?.clone();
    let find = |n: &str| {
        headers.iter().position(|h| h == n).with_context(|| {
            format!("no column `{n}` (use --basket-col / --item-col, or --one-basket-per-line)")
        })
    };
    let (bi, ii) = (find(basket_col)?, find(item_col)?);
    let mut by: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("line {}: malformed CSV", n + 2))?;
        let (b, i) = (
            rec.get(bi).unwrap_or("").trim(),
            rec.get(ii).unwrap_or("").trim(),
        );
        if b.is_empty() || i.is_empty() {
            bail!(
                "line {}: empty {}",
                n + 2,
                if b.is_empty() { basket_col } else { item_col }
            );
        }
        by.entry(b.to_string()).or_default().push(i.to_string());
    }
    if by.is_empty() {
        bail!("{} has no rows", path.display());
    }
    Ok(by.into_values().collect())
}
