//! `guanxi`: the Guanxi CRM command line — run the server, migrate, manage users, load demo
//! data, import customers.

mod analyze;
mod config;
mod demo;
mod demo_pipeline;
mod demo_service;
mod import;
mod users;
mod warehouse;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use guanxi_store::Store;
use guanxi_web::AppState;

use crate::config::Config;

#[derive(Parser)]
#[command(name = "guanxi", version, about = "Guanxi (关系) CRM")]
struct Cli {
    /// Configuration file (optional).
    #[arg(long, global = true, default_value = "guanxi.toml")]
    config: PathBuf,
    /// Database URL (overrides GUANXI_DATABASE_URL and the file).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates first).
    Serve {
        /// Listen address (overrides GUANXI_BIND).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage teams.
    #[command(subcommand)]
    Team(users::TeamCommand),
    /// Fill an empty database with a realistic demo data set, then serve.
    Demo(demo::DemoArgs),
    /// Import data.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Analyse customers: RFM, grades, CLV, churn, association rules, anomalies.
    #[command(subcommand)]
    Analyze(analyze::AnalyzeCommand),
    /// Customer scores in the database (RFM, grades, CLV, churn).
    #[command(subcommand)]
    Scores(ScoresCommand),
    /// Customer care: birthdays, anniversaries and the care plans.
    #[command(subcommand)]
    Care(CareCommand),
    /// Membership: points for orders, expiry and tiers.
    #[command(subcommand)]
    Loyalty(LoyaltyCommand),
    /// Rules that act on customers by themselves.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Export data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Write a consistent copy of the whole database to FILE while the server runs (SQLite:
    /// online backup; PostgreSQL: pg_dump custom format).
    Backup {
        /// The backup file to write.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        overwrite: bool,
    },
    /// Replace the database with a backup and migrate it. Stop the server first.
    Restore {
        /// A file written by `guanxi backup`.
        file: PathBuf,
        /// Replace a database that already holds customers (SQLite keeps it as .pre-restore).
        #[arg(long)]
        replace: bool,
    },
    /// Find customers at a touchpoint: phone (any format), email, name, pinyin or initials.
    Identify {
        /// What the caller gave: "138 1234 5678", "zhangsan", "zs", "li@example.com" …
        query: String,
        /// Most hits.
        #[arg(long, default_value_t = 10)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The sales history as a star schema (fact_order_line + dim_customer, dim_product,
    /// dim_date, dim_channel, dim_store) in CSV and Parquet, with a README of the schema.
    Warehouse {
        /// Directory to write (created if missing; must be empty unless --overwrite).
        dir: PathBuf,
        /// Replace the files of an earlier export in DIR.
        #[arg(long)]
        overwrite: bool,
        /// Shop time zone, hours east of UTC: decides the day of each order.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
    },
}

#[derive(Subcommand)]
enum CareCommand {
    /// Derive the care dates from the customer file and fire the care plans now, as the
    /// server's schedule does (`--full` re-reads every customer, as the first run of a day).
    Run {
        /// Shop time zone, hours east of UTC.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
        /// Re-read every customer, not only those changed since the last run.
        #[arg(long)]
        full: bool,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Run every active rule now, comparing sets and thresholds whatever the time since they
    /// last did, as the server's schedule does.
    Run {
        /// Shop time zone, hours east of UTC.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
    },
}

#[derive(Subcommand)]
enum LoyaltyCommand {
    /// Earn the points of every order not yet read, expire what fell due and place every
    /// member in their tier now, as the server's nightly run does.
    Run {
        /// Shop time zone, hours east of UTC.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
    },
}

#[derive(Subcommand)]
enum ScoresCommand {
    /// Recompute every customer's scores from the orders and replace them in one transaction.
    Refresh {
        /// Shop time zone, hours east of UTC.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
        /// Churn horizon in days.
        #[arg(long, default_value_t = 90)]
        churn_horizon_days: i32,
    },
    /// Customers per RFM segment, as stored.
    Segments,
    /// The server's score-refresh job in a process of its own: refreshes without an audit
    /// entry (the job writes it for whoever asked) and prints the audit detail as JSON.
    #[command(hide = true)]
    RefreshJob {
        /// Shop time zone, hours east of UTC.
        #[arg(long, default_value_t = 8)]
        utc_offset_hours: i64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = Config::load(&cli.config)?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    match cli.command {
        Command::Serve { bind } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            let store = open(&config).await?;
            serve(store, &config).await
        }
        Command::Migrate => {
            open(&config).await?;
            println!("migrations applied to {}", redact(&config.database_url));
            Ok(())
        }
        Command::User(cmd) => users::run(cmd, open(&config).await?).await,
        Command::Team(cmd) => users::run_team(cmd, open(&config).await?).await,
        Command::Demo(args) => {
            if let Some(b) = &args.bind {
                config.bind = b.clone();
            }
            let store = open(&config).await?;
            demo::run(&store, &args).await?;
            if args.no_serve {
                Ok(())
            } else {
                serve(store, &config).await
            }
        }
        Command::Import(cmd) => import::run(cmd, open(&config).await?).await,
        Command::Backup { file, overwrite } => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            // A backup carries the whole customer file: audited like any export.
            let b = guanxi_app::maintenance::backup(
                &store,
                &guanxi_domain::role::Actor::system(),
                &file,
                overwrite,
            )
            .await?;
            println!(
                "backed up {} customers and {} orders to {} ({} bytes, {} ms)",
                b.customers,
                b.orders,
                b.file.display(),
                b.bytes,
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Command::Restore { file, replace } => {
            let b = guanxi_store::backup::restore(&config.database_url, &file, replace).await?;
            println!(
                "restored {} customers and {} orders from {} into {}",
                b.customers,
                b.orders,
                b.file.display(),
                redact(&config.database_url)
            );
            Ok(())
        }
        Command::Scores(ScoresCommand::RefreshJob { utc_offset_hours }) => {
            exit_with_parent();
            let store = open(&config).await?;
            let r = store
                .refresh_scores(guanxi_store::scores::ScoreSettings {
                    utc_offset_hours,
                    ..Default::default()
                })
                .await?;
            println!("{}", r.audit_detail());
            Ok(())
        }
        Command::Scores(ScoresCommand::Refresh {
            utc_offset_hours,
            churn_horizon_days,
        }) => {
            let store = open(&config).await?;
            let settings = guanxi_store::scores::ScoreSettings {
                utc_offset_hours,
                models: guanxi_analytics::scorecard::ScorecardSettings {
                    churn_horizon_days,
                    ..Default::default()
                },
            };
            let r = guanxi_app::analytics::refresh_scores(
                &store,
                &guanxi_domain::role::Actor::system(),
                settings,
            )
            .await?;
            println!(
                "scored {} customers from {} orders as of {} (extract {} ms, compute {} ms, write {} ms, product pairs {} ms){}",
                r.customers,
                r.orders,
                r.as_of,
                r.millis[0],
                r.millis[1],
                r.millis[2],
                r.millis[3],
                r.churn_auc.map(|a| format!("; churn model hold-out AUC {a:.3}")).unwrap_or_default()
            );
            let steps: Vec<String> = r
                .steps
                .iter()
                .map(|(name, ms)| format!("{name} {ms}"))
                .collect();
            if !steps.is_empty() {
                println!("compute steps (ms, on two threads): {}", steps.join(", "));
            }
            println!(
                "lifecycle stage rule: {} customers changed stage",
                r.stages_changed
            );
            for s in &r.skipped {
                println!("skipped {s}");
            }
            Ok(())
        }
        Command::Rules(RulesCommand::Run { utc_offset_hours }) => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            let r = guanxi_app::rule::run(
                &store,
                guanxi_app::care::as_of(chrono::Utc::now(), utc_offset_hours),
                true,
            )
            .await?;
            println!(
                "rules: {} active, {} compared, {} new firings, {} acted on, {} failed, {} ms{}",
                r.rules,
                r.compared,
                r.fired,
                r.done,
                r.failed,
                started.elapsed().as_millis(),
                if r.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped (segment gone): {:?}", r.skipped)
                }
            );
            Ok(())
        }
        Command::Loyalty(LoyaltyCommand::Run { utc_offset_hours }) => {
            let store = open(&config).await?;
            let r = guanxi_app::loyalty::program::run(
                &store,
                chrono::Utc::now(),
                utc_offset_hours,
                true,
                None,
            )
            .await?;
            println!(
                "points: {} orders read, {} earned {} points, {} ms",
                r.accrual.orders, r.accrual.earned, r.accrual.points, r.accrual_ms
            );
            match r.tiers {
                Some(t) => println!(
                    "tiers: {} members, {} joined, {} up, {} down; {} lots expired; {} ms",
                    t.members, t.joined, t.up, t.down, r.expired, r.tiers_ms
                ),
                None => println!("tiers: no active programme"),
            }
            Ok(())
        }
        Command::Care(CareCommand::Run {
            utc_offset_hours,
            full,
        }) => {
            let store = open(&config).await?;
            let r = guanxi_app::care::run_now(&store, utc_offset_hours, full).await?;
            println!(
                "care dates: {} customers read, {} dates written in {} steps, {} ms",
                r.customers, r.dates, r.steps, r.refresh_ms
            );
            println!(
                "care plans: {} active, {} new tasks, {} ms{}",
                r.fired.plans,
                r.fired.fired,
                r.fire_ms,
                if r.fired.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped (segment gone): {:?}", r.fired.skipped)
                }
            );
            Ok(())
        }
        Command::Scores(ScoresCommand::Segments) => {
            for (seg, n) in open(&config).await?.segment_counts().await? {
                println!("{seg:<22} {n}");
            }
            Ok(())
        }
        Command::Analyze(cmd) => analyze::run(cmd, open(&config)).await,
        Command::Export(ExportCommand::Warehouse {
            dir,
            overwrite,
            utc_offset_hours,
        }) => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            let r = warehouse::export(&store, &dir, utc_offset_hours, overwrite).await?;
            for (table, rows) in &r.tables {
                println!("{table:<16} {rows:>10} rows");
            }
            println!(
                "wrote {} (CSV, Parquet, README.md) in {:.1} s: {} order lines, {} orders; audited",
                dir.display(),
                started.elapsed().as_secs_f64(),
                r.totals.lines,
                r.totals.orders
            );
            Ok(())
        }
        Command::Identify { query, limit } => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            let hits = guanxi_app::customers::identify(
                &store,
                &guanxi_domain::role::Actor::system(),
                &query,
                limit,
            )
            .await?;
            let took = started.elapsed();
            if hits.is_empty() {
                println!("no customer matches `{query}`");
            }
            for h in &hits {
                println!(
                    "{:>3}  #{:<7} {:<24} {:<8} matched {} `{}`",
                    h.score,
                    h.customer_id,
                    h.name,
                    h.city.as_deref().unwrap_or("-"),
                    h.matched_on,
                    h.matched_value
                );
            }
            eprintln!(
                "({} hits in {:.1} ms)",
                hits.len(),
                took.as_secs_f64() * 1000.0
            );
            Ok(())
        }
    }
}

/// Opens (creating and migrating) the database.
async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening database {}", redact(&config.database_url)))
}

/// Hides a password in a database URL for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

async fn serve(store: Store, config: &Config) -> anyhow::Result<()> {
    if store.count_users().await? == 0 {
        println!(
            "No users yet. Create the first administrator with:\n  guanxi user add admin --role admin --display-name 'Administrator'\n\
             (a strong password is generated and printed once; or pass --password-stdin)."
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    println!(
        "Guanxi is listening on http://{} (API docs: /api/v1/openapi.json)",
        listener.local_addr()?
    );
    let worker = guanxi_web::jobs::WorkerConfig {
        lease: std::time::Duration::from_secs(config.job_lease_seconds),
        poll: std::time::Duration::from_secs(config.job_lease_seconds.clamp(1, 5)),
        pause: guanxi_web::jobs::WorkerConfig::pause_from_env(),
        // The refresh's working set goes back to the system when its process ends.
        refresh_in: std::env::current_exe()
            .ok()
            .map(|program| guanxi_web::jobs::ChildRefresh {
                program,
                database_url: config.database_url.clone(),
            }),
        delivery: std::sync::Arc::new(
            guanxi_app::campaign::deliver::Delivery::new(&config.delivery())
                .map_err(anyhow::Error::msg)?,
        ),
        ..Default::default()
    };
    let mut state = AppState::with_worker(store, config.secure_cookies, worker);
    state.limits = config.limits();
    if config.scores_refresh_hours > 0 {
        state
            .jobs
            .schedule_score_refresh(std::time::Duration::from_secs(
                config.scores_refresh_hours * 3600,
            ));
    }
    if config.segment_sizes_minutes > 0 {
        state
            .jobs
            .schedule_segment_sizes(std::time::Duration::from_secs(
                config.segment_sizes_minutes * 60,
            ));
    }
    if config.sla_sweep_seconds > 0 {
        state
            .jobs
            .schedule_sla_sweep(std::time::Duration::from_secs(config.sla_sweep_seconds));
    }
    if config.service_rollup_minutes > 0 {
        state
            .jobs
            .schedule_service_rollup(std::time::Duration::from_secs(
                config.service_rollup_minutes * 60,
            ));
    }
    if config.care_minutes > 0 {
        state
            .jobs
            .schedule_care(std::time::Duration::from_secs(config.care_minutes * 60));
        // Visits are due by the day: checked as often as the care dates.
        state
            .jobs
            .schedule_key_account_visits(std::time::Duration::from_secs(config.care_minutes * 60));
    }
    if config.rules_minutes > 0 {
        state
            .jobs
            .schedule_rules(std::time::Duration::from_secs(config.rules_minutes * 60));
    }
    if config.loyalty_minutes > 0 {
        state
            .jobs
            .schedule_loyalty(std::time::Duration::from_secs(config.loyalty_minutes * 60));
    }
    if config.campaign_seconds > 0 {
        state
            .jobs
            .schedule_campaigns(std::time::Duration::from_secs(config.campaign_seconds));
        state
            .jobs
            .schedule_survey_dispatch(std::time::Duration::from_secs(config.campaign_seconds));
    }
    guanxi_web::serve(listener, state).await?;
    Ok(())
}

/// Ends this process once its parent has gone (the server killed with `kill -9`): a score
/// refresh job is then taken over by the next server, and must not run beside an orphan.
/// Checked every half second; a refresh that had not committed is rolled back by the database.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(3);
        }
    });
}
