//! Shared state of the HTTP server.

use std::sync::Arc;

use guanxi_store::Store;

use crate::auth::LoginThrottle;
use crate::jobs::{Jobs, WorkerConfig};
use crate::overload::Limits;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Mark cookies `Secure` (set when served behind HTTPS).
    pub secure_cookies: bool,
    /// Failed-login throttle.
    pub throttle: Arc<LoginThrottle>,
    /// The shop's time zone as hours east of UTC: pages show times in it and cut months and
    /// days by it (default 8, China Standard Time).
    pub utc_offset_hours: i64,
    /// The durable job queue and this server's worker over it.
    pub jobs: Arc<Jobs>,
    /// How much load the server accepts before it refuses with 429/503.
    pub limits: Limits,
    /// Submissions of the public lead forms per address.
    pub lead_capture: Arc<crate::features::lead::public::CaptureLimit>,
}

impl AppState {
    /// The moment segment rules are resolved at: now, and today's date in the shop's time
    /// zone (birthdays turn over at local midnight, not UTC's).
    pub fn as_of(&self) -> guanxi_domain::segment::AsOf {
        let now = chrono::Utc::now();
        let tz = crate::ui::format::zone(self.utc_offset_hours);
        guanxi_domain::segment::AsOf {
            now,
            today: now.with_timezone(&tz).date_naive(),
            utc_offset_hours: self.utc_offset_hours,
        }
    }

    /// State over a store, with a job worker of default settings started (call from inside
    /// the Tokio runtime).
    pub fn new(store: Store, secure_cookies: bool) -> Self {
        Self::with_worker(store, secure_cookies, WorkerConfig::default())
    }

    /// State over a store with a job worker of these settings started.
    pub fn with_worker(store: Store, secure_cookies: bool, worker: WorkerConfig) -> Self {
        let utc_offset_hours = worker.utc_offset_hours;
        let jobs = Jobs::new(store.clone(), worker);
        jobs.start();
        Self {
            store,
            secure_cookies,
            throttle: Arc::new(LoginThrottle::default()),
            utc_offset_hours,
            jobs,
            limits: Limits::default(),
            lead_capture: Arc::default(),
        }
    }
}
