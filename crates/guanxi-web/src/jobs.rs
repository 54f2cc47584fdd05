//! Background jobs of the server. One for now: the customer-score refresh, run on a schedule
//! and on demand (dashboard button, `POST /api/v1/scores/refresh`, `guanxi scores refresh`).
//! At most one refresh runs at a time; asking again while one runs just reports it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_store::audit::AuditEvent;
use guanxi_store::scores::ScoreSettings;
use guanxi_store::Store;
use serde::Serialize;
use serde_json::json;

/// What the last and the current refresh did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RefreshStatus {
    /// A refresh is running now.
    pub running: bool,
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
    /// Why the last refresh failed, if it did.
    pub error: Option<String>,
    /// Who asked for the running or last refresh (`system` for the schedule).
    pub requested_by: Option<String>,
}

/// The score-refresh job.
#[derive(Default)]
pub struct ScoresJob {
    status: Mutex<RefreshStatus>,
}

impl ScoresJob {
    /// The current status.
    pub fn status(&self) -> RefreshStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Starts a refresh in the background unless one is running; returns whether it started.
    /// The compute part is CPU-bound, so it runs on the blocking pool, not on a request thread.
    pub fn start(self: &Arc<Self>, store: Store, utc_offset_hours: i64, by: Actor) -> bool {
        {
            let Ok(mut s) = self.status.lock() else {
                return false;
            };
            if s.running {
                return false;
            }
            s.running = true;
            s.started_at = Some(Utc::now());
            s.requested_by = Some(by.name.clone());
        }
        let job = Arc::clone(self);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let settings = ScoreSettings {
                utc_offset_hours,
                ..Default::default()
            };
            let result = handle.block_on(async {
                let r = store.refresh_scores(settings).await?;
                store
                    .audit(
                        &by,
                        AuditEvent {
                            action: "refresh_scores",
                            entity: "customer_scores",
                            entity_id: None,
                            detail: json!({"customers": r.customers, "orders": r.orders, "millis": r.millis, "skipped": r.skipped}),
                        },
                    )
                    .await?;
                Ok::<_, guanxi_store::StoreError>(r)
            });
            if let Ok(mut s) = job.status.lock() {
                s.running = false;
                s.finished_at = Some(Utc::now());
                match result {
                    Ok(r) => {
                        s.customers = Some(r.customers);
                        s.orders = Some(r.orders);
                        s.took_ms = Some(r.millis.iter().sum());
                        s.error = None;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "score refresh failed");
                        s.error = Some(e.to_string());
                    }
                }
            }
        });
        true
    }

    /// Refreshes every `every` (first run after one interval), for the life of the server.
    pub fn schedule(self: &Arc<Self>, store: Store, utc_offset_hours: i64, every: Duration) {
        let job = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await; // the first tick is immediate; skip it
            loop {
                tick.tick().await;
                job.start(store.clone(), utc_offset_hours, Actor::system());
            }
        });
    }

    /// Waits until no refresh is running (tests and the CLI).
    pub async fn wait_idle(&self) {
        while self.status().running {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
