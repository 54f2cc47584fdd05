//! The server's worker over the durable job queue ([`guanxi_store::jobs`]): it claims due jobs
//! one at a time, keeps the lease alive while a job runs, and completes or fails it. Work asked
//! for by a page, the API, the CLI or the schedule is a row in `jobs`, so it survives a crash or
//! `kill -9`: the next worker takes it over once the lease runs out, and the completion (with
//! its audit entry) is written exactly once.
//!
//! Four handlers: the customer-score refresh (`scores.refresh`), the counting of saved
//! segments' sizes for every reader scope (`segments.size`, queued after each refresh, at
//! start and on a schedule), and the service desk's SLA sweep (`tickets.sla_sweep`, every
//! minute), each at most one queued or running at a time (dedupe key `all`); and the
//! recomputation of open tickets' clocks after an SLA policy or a calendar changed
//! (`tickets.sla_recompute`, one batch per job, each queuing the next by cursor).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::segment::AsOf;
use guanxi_store::audit::AuditEvent;
use guanxi_store::jobs::{Enqueued, JobFilter, JobState, Lease, NewJob};
use guanxi_store::scores::ScoreSettings;
use guanxi_store::{Store, StoreError};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{watch, Notify};

/// The score refresh's job kind.
pub const SCORES_REFRESH: &str = "scores.refresh";

/// The saved segments' sizes job kind ([`guanxi_store::segment_sizes`]).
pub const SEGMENT_SIZES: &str = guanxi_app::segments::SIZES_JOB;

/// The service desk's SLA sweep job kind (breaches as time passes, complaint escalation).
pub const SLA_SWEEP: &str = guanxi_app::ticket::SLA_SWEEP_JOB;

/// The recomputation of open tickets' clocks after a rule changed.
pub const SLA_RECOMPUTE: &str = guanxi_app::ticket::admin::SLA_RECOMPUTE_JOB;

/// The service desk's daily rollup of its figures.
pub const SERVICE_ROLLUP: &str = guanxi_app::ticket::ROLLUP_JOB;

/// Customer care: a step of deriving the dates worth a greeting from the customer file.
pub const CARE_REFRESH: &str = guanxi_app::care::REFRESH_JOB;

/// Customer care: firing the active care plans.
pub const CARE_PLANS: &str = guanxi_app::care::PLANS_JOB;

/// Membership: earning points on new orders, and once a day expiring and moving tiers.
pub const LOYALTY_RUN: &str = guanxi_app::loyalty::program::RUN_JOB;

/// Rules: firing the active rules and carrying out their actions.
pub const RULES_RUN: &str = guanxi_app::rule::RUN_JOB;

/// Campaigns: preparing audiences and delivering the outbox.
pub const CAMPAIGNS_SEND: &str = guanxi_app::campaign::SEND_JOB;

/// Surveys: inviting by trigger and to segments, and the reminders.
pub const SURVEYS_DISPATCH: &str = guanxi_app::survey::send::DISPATCH_JOB;

/// Key accounts: visit tasks when nobody has been in touch for longer than the cadence.
pub const KEY_ACCOUNT_VISITS: &str = guanxi_app::key_account::VISITS_JOB;

/// Imports: running one import from the browser's wizard.
pub const IMPORTS_RUN: &str = guanxi_app::import::RUN_JOB;

/// Every kind the worker runs.
pub const KINDS: [&str; 13] = [
    CAMPAIGNS_SEND,
    SURVEYS_DISPATCH,
    SCORES_REFRESH,
    SEGMENT_SIZES,
    SLA_SWEEP,
    SLA_RECOMPUTE,
    SERVICE_ROLLUP,
    CARE_REFRESH,
    CARE_PLANS,
    LOYALTY_RUN,
    RULES_RUN,
    KEY_ACCOUNT_VISITS,
    IMPORTS_RUN,
];

/// What the last and the current refresh did (read from the newest `scores.refresh` job).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RefreshStatus {
    /// A refresh is queued or running now.
    pub running: bool,
    /// The job's id in the queue (admin page `/admin/jobs`).
    pub job_id: Option<i64>,
    /// When the running (or last) refresh started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the last refresh finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Customers scored by the last successful refresh.
    pub customers: Option<usize>,
    /// Orders read by the last successful refresh.
    pub orders: Option<usize>,
    /// Milliseconds the last refresh took (extract + compute + write).
    pub took_ms: Option<u128>,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
    /// Who asked for the running or last refresh (`system` for the schedule).
    pub requested_by: Option<String>,
}

/// Where a test or an operator wants the worker to stop for a while: `before_run` (job
/// claimed, nothing done) or `before_complete` (effect committed, completion not yet). Read
/// from `GUANXI_JOB_PAUSE=<stage>:<milliseconds>`; it exists so the kill -9 test can kill the
/// server at exactly those points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseAt {
    /// After the claim.
    BeforeRun,
    /// After the handler's effect, before the completion.
    BeforeComplete,
}

impl ChildRefresh {
    /// Runs one score refresh in a child process and returns its audit detail. The child is
    /// killed if this future is dropped (the server shutting down).
    async fn refresh(&self, utc_offset_hours: i64) -> Result<serde_json::Value, StoreError> {
        let out = tokio::process::Command::new(&self.program)
            .arg("--database-url")
            .arg(&self.database_url)
            .args(["scores", "refresh-job", "--utc-offset-hours"])
            .arg(utc_offset_hours.to_string())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| StoreError::Task(format!("score refresh process: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            return Err(StoreError::Task(format!(
                "score refresh process {}: {tail}",
                out.status
            )));
        }
        stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| StoreError::Task(format!("score refresh process said: {stdout}")))
    }
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The lease a claim takes; renewed every third of it while a job runs. A killed worker's
    /// job is taken over this long after its last renewal.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (it is also woken when a job is queued here).
    pub poll: Duration,
    /// Shop time zone, hours east of UTC (for the score refresh's days and months).
    pub utc_offset_hours: i64,
    /// Test hook: pause at a stage for a while.
    pub pause: Option<(PauseAt, Duration)>,
    /// Where the score refresh runs: `None` in this process (tests, embedders), or in a child
    /// process of the server's own program, so that the refresh's working set (about a
    /// gigabyte at a million customers) is returned to the system when it ends instead of
    /// staying in the server (issue #13: 1,046 MB peak, 711 MB after).
    pub refresh_in: Option<ChildRefresh>,
    /// How campaign and transactional messages leave (no SMTP or SMS provider by default:
    /// those channels wait; call lists still go out).
    pub delivery: Arc<guanxi_app::campaign::deliver::Delivery>,
}

/// The program and database a child-process score refresh runs with: `program --database-url
/// URL scores refresh-job --utc-offset-hours N`, which prints the refresh's audit detail as
/// one JSON line and exits 0, and exits by itself if the server dies (so a job taken over
/// after `kill -9` never runs beside an orphan).
#[derive(Debug, Clone)]
pub struct ChildRefresh {
    /// The server's own executable.
    pub program: std::path::PathBuf,
    /// The database the server serves.
    pub database_url: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            utc_offset_hours: 8,
            pause: None,
            refresh_in: None,
            delivery: Arc::new(default_delivery()),
        }
    }
}

/// A delivery with no SMTP relay and no SMS provider, links to the default address.
fn default_delivery() -> guanxi_app::campaign::deliver::Delivery {
    guanxi_app::campaign::deliver::Delivery {
        mailer: None,
        from: lettre::message::Mailbox::new(
            Some("Guanxi".into()),
            lettre::Address::new("noreply", "localhost").expect("a valid constant address"),
        ),
        sms: None,
        sms_sign: String::new(),
        survey_sms_template: String::new(),
        base_url: "http://127.0.0.1:8080".into(),
        utc_offset_hours: 8,
        lease: Duration::from_secs(60),
        concurrency: 8,
    }
}

impl WorkerConfig {
    /// Reads `GUANXI_JOB_PAUSE` (see [`PauseAt`]); anything malformed is ignored with a warning.
    pub fn pause_from_env() -> Option<(PauseAt, Duration)> {
        let v = std::env::var("GUANXI_JOB_PAUSE").ok()?;
        let parsed = v.split_once(':').and_then(|(stage, ms)| {
            let stage = match stage {
                "before_run" => PauseAt::BeforeRun,
                "before_complete" => PauseAt::BeforeComplete,
                _ => return None,
            };
            Some((stage, Duration::from_millis(ms.parse().ok()?)))
        });
        if parsed.is_none() {
            tracing::warn!(value = %v, "GUANXI_JOB_PAUSE ignored: expected before_run|before_complete:<ms>");
        }
        parsed
    }
}

/// The queue as the server uses it: enqueue, wake the worker, read status, shut down.
pub struct Jobs {
    store: Store,
    config: WorkerConfig,
    worker: String,
    wake: Notify,
    stop: watch::Sender<bool>,
    busy: watch::Sender<bool>,
}

/// What a handler reports: the job's result and the audit entry written with its completion.
struct Outcome {
    result: serde_json::Value,
    audit: Option<(&'static str, &'static str, serde_json::Value)>,
}

impl Jobs {
    /// The queue over a store, with its worker not yet started ([`Jobs::start`]).
    pub fn new(store: Store, config: WorkerConfig) -> Arc<Self> {
        let worker = format!(
            "{}-{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "guanxi".into()),
            std::process::id(),
            Utc::now().timestamp_millis()
        );
        Arc::new(Self {
            store,
            config,
            worker,
            wake: Notify::new(),
            stop: watch::channel(false).0,
            busy: watch::channel(false).0,
        })
    }

    /// Starts the worker loop on the runtime; it runs until [`Jobs::shutdown`].
    pub fn start(self: &Arc<Self>) {
        let jobs = Arc::clone(self);
        tokio::spawn(async move { jobs.work().await });
    }

    async fn work(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            if *stop.borrow() {
                return;
            }
            let ran = match self.run_one().await {
                Ok(ran) => ran,
                Err(e) => {
                    tracing::error!(error = ?e, "job queue: claiming or finishing a job failed");
                    false
                }
            };
            if ran {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Claims and runs one due job; `false` when none was due.
    pub async fn run_one(&self) -> Result<bool, StoreError> {
        let lease_ms = self.config.lease.as_millis() as i64;
        let Some(lease) = self.store.claim_job(&self.worker, &KINDS, lease_ms).await? else {
            return Ok(false);
        };
        self.busy.send_replace(true);
        let r = self.run_claimed(&lease, lease_ms).await;
        self.busy.send_replace(false);
        r.map(|_| true)
    }

    async fn run_claimed(&self, lease: &Lease, lease_ms: i64) -> Result<(), StoreError> {
        tracing::info!(job = lease.id, kind = %lease.kind, attempt = lease.attempt, "job started");
        // Heartbeat: renew the lease every third of it while the handler runs.
        let (done_tx, mut done_rx) = watch::channel(false);
        let beat = {
            let store = self.store.clone();
            let lease = lease.clone();
            let every = self.config.lease / 3;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = done_rx.changed() => return,
                    }
                    match store.extend_job_lease(&lease, lease_ms).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job = lease.id, "job lease lost to another worker");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(job = lease.id, error = ?e, "job lease renewal failed")
                        }
                    }
                }
            })
        };
        self.pause(PauseAt::BeforeRun).await;
        let outcome = self.handle(lease).await;
        if outcome.is_ok() {
            self.pause(PauseAt::BeforeComplete).await;
        }
        let _ = done_tx.send(true);
        let _ = beat.await;
        match outcome {
            Ok(o) => {
                let actor = self.requester(lease).await;
                let audit = o.audit.map(|(action, entity, detail)| {
                    (
                        &actor,
                        AuditEvent {
                            action,
                            entity,
                            entity_id: None,
                            detail,
                        },
                    )
                });
                match self.store.complete_job(lease, o.result, audit).await {
                    Ok(()) => tracing::info!(job = lease.id, "job done"),
                    Err(StoreError::Conflict { .. }) => {
                        tracing::warn!(
                            job = lease.id,
                            "job finished after its lease was lost; the newer attempt wins"
                        )
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => {
                tracing::error!(job = lease.id, error = ?e, "job failed");
                let state = self.store.fail_job(lease, &e.to_string()).await?;
                if state == Some(JobState::Failed) {
                    tracing::error!(job = lease.id, "job gave up after its last attempt");
                }
            }
        }
        Ok(())
    }

    async fn pause(&self, at: PauseAt) {
        if let Some((stage, d)) = self.config.pause {
            if stage == at {
                tracing::warn!(
                    ?stage,
                    millis = d.as_millis() as u64,
                    "job worker pausing (GUANXI_JOB_PAUSE)"
                );
                tokio::time::sleep(d).await;
            }
        }
    }

    /// Who the audit entry of a job is signed by: the user who asked for it, as they are now;
    /// the system (under the recorded name) when they are gone or it was the schedule.
    async fn requester(&self, lease: &Lease) -> Actor {
        if let Some(id) = lease.requested_by {
            if let Ok(u) = self.store.get_user(id).await {
                return Actor::for_user(&u);
            }
        }
        Actor {
            name: lease.requested_by_name.clone(),
            ..Actor::system()
        }
    }

    /// The time zone a job counts days in: the one it was queued with, else the server's.
    fn offset_of(&self, lease: &Lease) -> i64 {
        lease.payload["utc_offset_hours"]
            .as_i64()
            .unwrap_or(self.config.utc_offset_hours)
    }

    async fn handle(&self, lease: &Lease) -> Result<Outcome, StoreError> {
        match lease.kind.as_str() {
            SCORES_REFRESH => {
                let utc_offset_hours = self.offset_of(lease);
                let detail = match &self.config.refresh_in {
                    Some(child) => child.refresh(utc_offset_hours).await?,
                    None => {
                        let store = self.store.clone();
                        let handle = tokio::runtime::Handle::current();
                        // The compute part is CPU-bound: the blocking pool, not a request
                        // thread.
                        tokio::task::spawn_blocking(move || {
                            handle.block_on(store.refresh_scores(ScoreSettings {
                                utc_offset_hours,
                                ..Default::default()
                            }))
                        })
                        .await
                        .map_err(|e| StoreError::Task(e.to_string()))??
                        .audit_detail()
                    }
                };
                // New scores move segments: count them again.
                if let Err(e) = self.request_segment_sizes().await {
                    tracing::error!(error = ?e, "segment sizes could not be queued after a refresh");
                }
                Ok(Outcome {
                    result: detail.clone(),
                    audit: Some(("refresh_scores", "customer_scores", detail)),
                })
            }
            SEGMENT_SIZES => {
                let utc_offset_hours = self.offset_of(lease);
                let now = Utc::now();
                let as_of = AsOf {
                    now,
                    today: (now + chrono::Duration::hours(utc_offset_hours)).date_naive(),
                    utc_offset_hours,
                };
                let report = guanxi_app::segments::size_saved_segments(
                    &self.store,
                    as_of,
                    &self.requester(lease).await,
                )
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                let result =
                    serde_json::to_value(&report).map_err(|e| StoreError::Task(e.to_string()))?;
                // Counting reads only: no audit entry beyond the job's own row.
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            SLA_SWEEP => {
                let result = guanxi_app::ticket::sweep_sla(&self.store)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // A full batch: more breaches wait; run again once this one is done.
                if result["more"].as_bool() == Some(true) {
                    again_soon(self.store.clone(), "SLA sweep", |store| async move {
                        guanxi_app::ticket::queue_sla_sweep(&store).await
                    });
                }
                // The breaches and escalations it records are in each ticket's history.
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            SLA_RECOMPUTE => {
                let after = lease.payload["after"].as_i64().unwrap_or(0);
                let result = guanxi_app::ticket::admin::recompute_step(&self.store, after)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // The next batch is its own job, queued before this one completes: a crash
                // in between repeats a batch (idempotent), never skips one.
                if let Some(next) = result["next"].as_i64() {
                    guanxi_app::ticket::admin::queue_recompute(&self.store, next)
                        .await
                        .map_err(|e| StoreError::Task(e.to_string()))?;
                    self.wake.notify_one();
                }
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            SERVICE_ROLLUP => {
                let utc_offset_hours = self.offset_of(lease);
                let result = guanxi_app::ticket::roll_up(&self.store, utc_offset_hours)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // More days due: run again once this step is done (it holds the dedupe key).
                if result["more"].as_bool() == Some(true) {
                    again_soon(
                        self.store.clone(),
                        "service rollup",
                        move |store| async move {
                            guanxi_app::ticket::queue_rollup(&store, utc_offset_hours).await
                        },
                    );
                }
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            CARE_REFRESH => {
                let utc_offset_hours = self.offset_of(lease);
                let result = guanxi_app::care::refresh_step(&self.store, utc_offset_hours)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // More customers to read: run again once this step is done (it holds the
                // dedupe key). The last step queued the plans.
                if result["more"].as_bool() == Some(true) {
                    again_soon(
                        self.store.clone(),
                        "care refresh",
                        move |store| async move {
                            guanxi_app::care::queue_refresh(&store, utc_offset_hours).await
                        },
                    );
                } else {
                    self.wake.notify_one();
                }
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            IMPORTS_RUN => {
                let id = lease.payload["import_id"]
                    .as_i64()
                    .ok_or_else(|| StoreError::Task("import job without import_id".into()))?;
                let result = guanxi_app::import::run(&self.store, id)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // Each customer's create or update is audited by the write; the run by the
                // import's own entry.
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            KEY_ACCOUNT_VISITS => {
                let report = guanxi_app::key_account::visits(&self.store)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // The tasks are on each customer's timeline; the count is here.
                Ok(Outcome {
                    result: json!({"tasks": report.tasks}),
                    audit: None,
                })
            }
            CARE_PLANS => {
                let utc_offset_hours = self.offset_of(lease);
                let result = guanxi_app::care::fire_plans(&self.store, utc_offset_hours)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                // The tasks it creates are on each customer's timeline; the count is here.
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            LOYALTY_RUN => {
                let utc_offset_hours = self.offset_of(lease);
                let force = lease.payload["tiers"].as_bool() == Some(true);
                let result =
                    guanxi_app::loyalty::program::run_step(&self.store, utc_offset_hours, force)
                        .await
                        .map_err(|e| StoreError::Task(e.to_string()))?;
                // More orders waiting: run again once this step is done (it holds the dedupe
                // key); the evaluation comes in the run that reads the last of them.
                if result["more"].as_bool() == Some(true) {
                    again_soon(self.store.clone(), "loyalty run", move |store| async move {
                        guanxi_app::loyalty::program::queue_run(&store, utc_offset_hours, force)
                            .await
                    });
                }
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            RULES_RUN => {
                let utc_offset_hours = self.offset_of(lease);
                let full = lease.payload["full"].as_bool() == Some(true);
                let result = guanxi_app::rule::run_step(&self.store, utc_offset_hours, full)
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?;
                Ok(Outcome {
                    result,
                    audit: None,
                })
            }
            CAMPAIGNS_SEND => {
                let report = guanxi_app::campaign::deliver::run_step(
                    &self.store,
                    &self.config.delivery,
                    self.step_budget(),
                )
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                // Every message and response is in the outbox and on the timeline.
                self.stepped(&report, report.more, "campaign send", |store| async move {
                    guanxi_app::campaign::queue_step(&store).await
                })
            }
            SURVEYS_DISPATCH => {
                let report = guanxi_app::survey::send::dispatch_step(
                    &self.store,
                    &self.config.delivery,
                    self.step_budget(),
                )
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                // Each invitation and its message are in the store; a send is audited.
                self.stepped(
                    &report,
                    report.more,
                    "survey dispatch",
                    |store| async move { guanxi_app::survey::send::queue_dispatch(&store).await },
                )
            }
            other => Err(StoreError::Corrupt(format!("jobs.kind: {other}"))),
        }
    }

    /// How this server delivers messages (a campaign's test send uses it directly).
    pub fn delivery(&self) -> Arc<guanxi_app::campaign::deliver::Delivery> {
        Arc::clone(&self.config.delivery)
    }

    /// Wakes the worker (a job was queued or put back outside [`Jobs`]).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Queues a score refresh for `by` unless one is queued or running, and wakes the worker.
    pub async fn request_score_refresh(&self, by: &Actor) -> Result<Enqueued, StoreError> {
        let e = self
            .store
            .enqueue_job(
                by,
                NewJob {
                    kind: SCORES_REFRESH.into(),
                    dedupe_key: Some("all".into()),
                    payload: json!({"utc_offset_hours": self.config.utc_offset_hours}),
                    run_at: None,
                    max_attempts: 3,
                },
            )
            .await?;
        self.wake.notify_one();
        Ok(e)
    }

    /// Queues a count of the saved segments' sizes (the application layer's
    /// [`guanxi_app::segments::queue_sizes`], as a save does) and wakes the worker.
    pub async fn request_segment_sizes(&self) -> Result<(), guanxi_app::AppError> {
        guanxi_app::segments::queue_sizes(&self.store, self.config.utc_offset_hours).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Queues a count of the saved segments' sizes now and every `every`, for the life of the
    /// server (rules with relative dates move, and customers change, between refreshes).
    pub fn schedule_segment_sizes(self: &Arc<Self>, every: Duration) {
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = jobs.request_segment_sizes().await {
                    tracing::error!(error = ?e, "segment sizes could not be queued");
                }
            }
        });
    }

    /// Queues a step of the desk's daily rollup now and every `every`, for the life of the
    /// server: the manager's figures are at most that old for past days.
    pub fn schedule_service_rollup(self: &Arc<Self>, every: Duration) {
        let utc_offset_hours = self.config.utc_offset_hours;
        self.queue_every(every, "service rollup", move |store| async move {
            guanxi_app::ticket::queue_rollup(&store, utc_offset_hours).await
        });
    }

    /// Queues a care-date refresh now and every `every`, for the life of the server; each
    /// refresh that reads the last customers queues the care plans. A new birthday is on the
    /// care list within that interval; the first refresh of each day re-reads the whole book.
    pub fn schedule_care(self: &Arc<Self>, every: Duration) {
        let utc_offset_hours = self.config.utc_offset_hours;
        self.queue_every(every, "care refresh", move |store| async move {
            guanxi_app::care::queue_refresh(&store, utc_offset_hours).await
        });
    }

    /// Queues a membership run now and every `every`, for the life of the server: new orders'
    /// points within that interval (an order saved in the app queues its own run at once); the
    /// first run after the business's midnight expires points and moves tiers.
    pub fn schedule_loyalty(self: &Arc<Self>, every: Duration) {
        let utc_offset_hours = self.config.utc_offset_hours;
        self.queue_every(every, "loyalty run", move |store| async move {
            guanxi_app::loyalty::program::queue_run(&store, utc_offset_hours, false).await
        });
    }

    /// Queues a key-account cadence run now and every `every`, for the life of the server.
    pub fn schedule_key_account_visits(self: &Arc<Self>, every: Duration) {
        self.queue_every(every, "key account visits", |store| async move {
            guanxi_app::key_account::queue_visits(&store).await
        });
    }

    /// Queues a rules run now and every `every`, for the life of the server: rules on events
    /// act within that interval, rules on sets and thresholds compare the customers hourly.
    pub fn schedule_rules(self: &Arc<Self>, every: Duration) {
        let utc_offset_hours = self.config.utc_offset_hours;
        self.queue_every(every, "rules run", move |store| async move {
            guanxi_app::rule::queue_run(&store, Some(utc_offset_hours), false).await
        });
    }

    /// Queues a campaign send step now and every `every`, for the life of the server: a
    /// scheduled campaign starts, and messages waiting for a cap slot or the end of the quiet
    /// hours go, within that interval.
    pub fn schedule_campaigns(self: &Arc<Self>, every: Duration) {
        self.queue_every(every, "campaign send", |store| async move {
            guanxi_app::campaign::queue_step(&store).await
        });
    }

    /// Queues a survey dispatch step now and every `every`, for the life of the server:
    /// resolved tickets and new orders get their survey, and unanswered links their reminder,
    /// within that interval.
    pub fn schedule_survey_dispatch(self: &Arc<Self>, every: Duration) {
        self.queue_every(every, "survey dispatch", |store| async move {
            guanxi_app::survey::send::queue_dispatch(&store).await
        });
    }

    /// Queues the SLA sweep every `every`, for the life of the server: breaches are recorded
    /// and complaints escalated within a sweep interval of their due time.
    pub fn schedule_sla_sweep(self: &Arc<Self>, every: Duration) {
        self.queue_every(every, "SLA sweep", |store| async move {
            guanxi_app::ticket::queue_sla_sweep(&store).await
        });
    }

    /// Runs `queue` now and every `every`, for the life of the server, and wakes the worker
    /// after each job it queued.
    fn queue_every<F, Fut>(self: &Arc<Self>, every: Duration, what: &'static str, queue: F)
    where
        F: Fn(Store) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), guanxi_app::AppError>> + Send,
    {
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match queue(jobs.store.clone()).await {
                    Ok(()) => jobs.wake.notify_one(),
                    Err(e) => tracing::error!(error = ?e, job = what, "could not be queued"),
                }
            }
        });
    }

    /// The newest score refresh's status, with the last successful run's figures.
    pub async fn score_status(&self) -> Result<RefreshStatus, StoreError> {
        let recent = self
            .store
            .list_jobs(&JobFilter {
                kind: Some(SCORES_REFRESH.into()),
                state: None,
                limit: 20,
            })
            .await?;
        let Some(newest) = recent.first() else {
            return Ok(RefreshStatus::default());
        };
        let last_done = recent.iter().find(|j| j.state == JobState::Done);
        let figures = last_done.and_then(|j| j.result.as_ref());
        let n = |k: &str| figures.and_then(|r| r[k].as_u64()).map(|v| v as usize);
        Ok(RefreshStatus {
            running: matches!(newest.state, JobState::Queued | JobState::Running),
            job_id: Some(newest.id),
            started_at: newest.started_at,
            finished_at: last_done.and_then(|j| j.finished_at),
            customers: n("customers"),
            orders: n("orders"),
            took_ms: figures
                .and_then(|r| r["millis"].as_array())
                .map(|m| m.iter().filter_map(|v| v.as_u64()).map(u128::from).sum()),
            error: newest.last_error.clone(),
            requested_by: Some(newest.requested_by_name.clone()),
        })
    }

    /// Queues a refresh every `every` (first after one interval), for the life of the server.
    pub fn schedule_score_refresh(self: &Arc<Self>, every: Duration) {
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await; // the first tick is immediate; skip it
            loop {
                tick.tick().await;
                if let Err(e) = jobs.request_score_refresh(&Actor::system()).await {
                    tracing::error!(error = ?e, "scheduled score refresh could not be queued");
                }
            }
        });
    }

    /// Waits until nothing is queued or running and the worker is idle (tests and the CLI).
    pub async fn wait_idle(&self) {
        loop {
            let active = self
                .store
                .list_jobs(&JobFilter {
                    limit: 500,
                    ..Default::default()
                })
                .await
                .map(|j| {
                    j.iter().any(|j| {
                        matches!(j.state, JobState::Queued | JobState::Running)
                            && j.run_at <= Utc::now()
                    })
                })
                .unwrap_or(false);
            if !active && !*self.busy.borrow() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops claiming and waits for the job in hand to finish (graceful shutdown): its effect
    /// and completion commit, or — if the process is killed harder — its lease runs out and
    /// another worker redoes it.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let mut busy = self.busy.subscribe();
        while *busy.borrow_and_update() {
            if busy.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Queues a job's next step a moment after this step completes: the step holds the job's
/// dedupe key until then, so queuing at once would be refused.
impl Jobs {
    /// A stepped job's time: at most a third of the lease, so the heartbeat never matters.
    fn step_budget(&self) -> Duration {
        (self.config.lease / 3).clamp(Duration::from_secs(1), Duration::from_secs(20))
    }

    /// A stepped job's outcome: its report as the result; when it left work (`more`), the
    /// next step queued at once with `queue`.
    fn stepped<R, F, Fut>(
        &self,
        report: &R,
        more: bool,
        what: &'static str,
        queue: F,
    ) -> Result<Outcome, StoreError>
    where
        R: serde::Serialize,
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), guanxi_app::AppError>> + Send,
    {
        if more {
            again_soon(self.store.clone(), what, queue);
        }
        let result = serde_json::to_value(report).map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Outcome {
            result,
            audit: None,
        })
    }
}

fn again_soon<F, Fut>(store: Store, what: &'static str, queue: F)
where
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), guanxi_app::AppError>> + Send,
{
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Err(e) = queue(store).await {
            tracing::error!(error = ?e, job = what, "the next step could not be queued");
        }
    });
}
