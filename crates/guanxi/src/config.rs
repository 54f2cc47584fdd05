//! Configuration: defaults, then `guanxi.toml` (if present), then environment variables, then
//! command-line flags. The defaults run fully embedded: `sqlite://guanxi.db` on 127.0.0.1:8080.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// Effective configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://file.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Mark cookies Secure (enable behind HTTPS).
    pub secure_cookies: bool,
    /// SMTP server for outgoing mail (used by later features).
    pub smtp_url: Option<String>,
    /// The sender of campaign and transactional e-mail, `Name <address>`.
    pub mail_from: String,
    /// The server's address as recipients reach it (unsubscribe, open and click links).
    pub public_url: String,
    /// The SMS provider: `file`, `aliyun` or `tencent` (empty: the file provider when
    /// `sms_file` is set, else none).
    pub sms_provider: String,
    /// Development SMS provider: each text message is appended to this file as JSON.
    pub sms_file: Option<String>,
    /// AccessKeyId (Aliyun) or SecretId (Tencent Cloud).
    pub sms_key_id: String,
    /// AccessKeySecret (Aliyun) or SecretKey (Tencent Cloud).
    pub sms_key_secret: String,
    /// Tencent Cloud's SmsSdkAppId.
    pub sms_app_id: String,
    /// The provider's endpoint, when not its public one (a proxy; a local server in tests).
    pub sms_endpoint: String,
    /// The SMS signature (签名) registered with the provider.
    pub sms_sign: String,
    /// The approved SMS template that carries a survey link (its parameter `url`); empty:
    /// survey links go by e-mail only.
    pub sms_survey_template: String,
    /// SMTP connections (and deliveries) in flight at once.
    pub send_concurrency: usize,
    /// Seconds a claimed outbox message is held before another sender may retry it.
    pub outbox_lease_seconds: u64,
    /// How often the campaign sender looks for due work, seconds (0: never by schedule).
    pub campaign_seconds: u64,
    /// Hours between automatic score refreshes while serving; 0 turns the schedule off.
    pub scores_refresh_hours: u64,
    /// Minutes between counts of the saved segments' sizes for the list of segments (also
    /// after each refresh and at start); 0 turns the schedule off.
    pub segment_sizes_minutes: u64,
    /// Seconds between SLA sweeps of the service desk (breaches recorded, complaints
    /// escalated); 0 turns the schedule off.
    pub sla_sweep_seconds: u64,
    /// Minutes between steps of the service desk's daily rollup of its figures (past days of
    /// the manager's figures are at most this old; today is always live); 0 turns it off.
    pub service_rollup_minutes: u64,
    /// Minutes between refreshes of the care dates (birthdays and anniversaries from the
    /// customer file; the care plans fire after each); 0 turns customer care's schedule off.
    pub care_minutes: u64,
    /// Minutes between membership runs (points for new orders; the first run of a day also
    /// expires points and moves tiers); 0 turns the membership schedule off.
    pub loyalty_minutes: u64,
    /// Minutes between rules runs (rules on orders and tickets act within this; rules on
    /// segments, scores and thresholds compare the customers hourly); 0 turns rules off.
    pub rules_minutes: u64,
    /// Seconds a background job's lease lasts: a job whose server died is taken over this long
    /// after its last heartbeat.
    pub job_lease_seconds: u64,
    /// Sustained requests per second accepted from one client address (429 beyond it, with
    /// `Retry-After`); 0 turns the per-client limit off.
    pub rate_limit_per_second: u32,
    /// Requests one address may send at once above that rate.
    pub rate_limit_burst: u32,
    /// Requests served at once, all clients together (503 beyond it); 0 means no cap.
    pub max_in_flight: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://guanxi.db".into(),
            bind: "127.0.0.1:8080".into(),
            secure_cookies: false,
            smtp_url: None,
            mail_from: "Guanxi <noreply@localhost>".into(),
            public_url: "http://127.0.0.1:8080".into(),
            sms_provider: String::new(),
            sms_file: None,
            sms_key_id: String::new(),
            sms_key_secret: String::new(),
            sms_app_id: String::new(),
            sms_endpoint: String::new(),
            sms_sign: "【关系】".into(),
            sms_survey_template: String::new(),
            send_concurrency: 8,
            outbox_lease_seconds: 60,
            campaign_seconds: 10,
            scores_refresh_hours: 24,
            segment_sizes_minutes: 60,
            sla_sweep_seconds: 60,
            service_rollup_minutes: 10,
            care_minutes: 10,
            loyalty_minutes: 10,
            rules_minutes: 5,
            job_lease_seconds: 60,
            rate_limit_per_second: guanxi_web::overload::Limits::default().requests_per_second,
            rate_limit_burst: guanxi_web::overload::Limits::default().burst,
            max_in_flight: guanxi_web::overload::Limits::default().max_in_flight,
        }
    }
}

impl Config {
    /// How campaign and transactional messages leave this server.
    pub fn delivery(&self) -> guanxi_app::campaign::deliver::DeliveryConfig {
        guanxi_app::campaign::deliver::DeliveryConfig {
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            sms_provider: self.sms_provider.clone(),
            sms_file: self.sms_file.clone().map(Into::into),
            sms_account: (!self.sms_key_id.is_empty()).then(|| {
                guanxi_app::campaign::sms::ApiAccount {
                    endpoint: self.sms_endpoint.clone(),
                    key_id: self.sms_key_id.clone(),
                    secret: self.sms_key_secret.clone(),
                    app_id: self.sms_app_id.clone(),
                }
            }),
            sms_sign: self.sms_sign.clone(),
            survey_sms_template: self.sms_survey_template.clone(),
            base_url: self.public_url.clone(),
            utc_offset_hours: 8,
            lease: std::time::Duration::from_secs(self.outbox_lease_seconds.max(1)),
            concurrency: self.send_concurrency,
        }
    }

    /// Loads the file (when it exists) and applies `GUANXI_*` environment variables.
    pub fn load(file: &Path) -> anyhow::Result<Self> {
        let mut c = if file.exists() {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?
        } else {
            Config::default()
        };
        if let Ok(v) = std::env::var("GUANXI_DATABASE_URL") {
            c.database_url = v;
        }
        if let Ok(v) = std::env::var("GUANXI_BIND") {
            c.bind = v;
        }
        if let Ok(v) = std::env::var("GUANXI_SECURE_COOKIES") {
            c.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Ok(v) = std::env::var("GUANXI_SMTP_URL") {
            c.smtp_url = Some(v);
        }
        if let Ok(v) = std::env::var("GUANXI_SCORES_REFRESH_HOURS") {
            c.scores_refresh_hours = v.parse().with_context(|| {
                format!("GUANXI_SCORES_REFRESH_HOURS: not a number of hours: {v}")
            })?;
        }
        if let Ok(v) = std::env::var("GUANXI_SEGMENT_SIZES_MINUTES") {
            c.segment_sizes_minutes = v.parse().with_context(|| {
                format!("GUANXI_SEGMENT_SIZES_MINUTES: not a number of minutes: {v}")
            })?;
        }
        if let Ok(v) = std::env::var("GUANXI_SLA_SWEEP_SECONDS") {
            c.sla_sweep_seconds = v.parse().with_context(|| {
                format!("GUANXI_SLA_SWEEP_SECONDS: not a number of seconds: {v}")
            })?;
        }
        if let Ok(v) = std::env::var("GUANXI_SERVICE_ROLLUP_MINUTES") {
            c.service_rollup_minutes = v.parse().with_context(|| {
                format!("GUANXI_SERVICE_ROLLUP_MINUTES: not a number of minutes: {v}")
            })?;
        }
        if let Ok(v) = std::env::var("GUANXI_CARE_MINUTES") {
            c.care_minutes = v
                .parse()
                .with_context(|| format!("GUANXI_CARE_MINUTES: not a number of minutes: {v}"))?;
        }
        if let Ok(v) = std::env::var("GUANXI_LOYALTY_MINUTES") {
            c.loyalty_minutes = v
                .parse()
                .with_context(|| format!("GUANXI_LOYALTY_MINUTES: not a number of minutes: {v}"))?;
        }
        if let Ok(v) = std::env::var("GUANXI_RULES_MINUTES") {
            c.rules_minutes = v
                .parse()
                .with_context(|| format!("GUANXI_RULES_MINUTES: not a number of minutes: {v}"))?;
        }
        for (name, slot) in [
            ("GUANXI_MAIL_FROM", &mut c.mail_from),
            ("GUANXI_PUBLIC_URL", &mut c.public_url),
            ("GUANXI_SMS_SIGN", &mut c.sms_sign),
            ("GUANXI_SMS_SURVEY_TEMPLATE", &mut c.sms_survey_template),
            ("GUANXI_SMS_PROVIDER", &mut c.sms_provider),
            ("GUANXI_SMS_KEY_ID", &mut c.sms_key_id),
            ("GUANXI_SMS_KEY_SECRET", &mut c.sms_key_secret),
            ("GUANXI_SMS_APP_ID", &mut c.sms_app_id),
            ("GUANXI_SMS_ENDPOINT", &mut c.sms_endpoint),
        ] {
            if let Ok(v) = std::env::var(name) {
                *slot = v;
            }
        }
        if let Ok(v) = std::env::var("GUANXI_SMS_FILE") {
            c.sms_file = Some(v);
        }
        for (name, slot) in [
            ("GUANXI_OUTBOX_LEASE_SECONDS", &mut c.outbox_lease_seconds),
            ("GUANXI_CAMPAIGN_SECONDS", &mut c.campaign_seconds),
        ] {
            if let Ok(v) = std::env::var(name) {
                *slot = v
                    .parse()
                    .with_context(|| format!("{name}: not a number of seconds: {v}"))?;
            }
        }
        if let Ok(v) = std::env::var("GUANXI_SEND_CONCURRENCY") {
            c.send_concurrency = v
                .parse()
                .with_context(|| format!("GUANXI_SEND_CONCURRENCY: not a whole number: {v}"))?;
        }
        if let Ok(v) = std::env::var("GUANXI_JOB_LEASE_SECONDS") {
            c.job_lease_seconds = v.parse().ok().filter(|s| *s > 0).with_context(|| {
                format!("GUANXI_JOB_LEASE_SECONDS: not a positive number of seconds: {v}")
            })?;
        }
        for (name, slot) in [
            ("GUANXI_RATE_LIMIT_PER_SECOND", &mut c.rate_limit_per_second),
            ("GUANXI_RATE_LIMIT_BURST", &mut c.rate_limit_burst),
        ] {
            if let Ok(v) = std::env::var(name) {
                *slot = v
                    .parse()
                    .with_context(|| format!("{name}: not a whole number: {v}"))?;
            }
        }
        if let Ok(v) = std::env::var("GUANXI_MAX_IN_FLIGHT") {
            c.max_in_flight = v
                .parse()
                .with_context(|| format!("GUANXI_MAX_IN_FLIGHT: not a whole number: {v}"))?;
        }
        Ok(c)
    }

    /// The server's overload limits.
    pub fn limits(&self) -> guanxi_web::overload::Limits {
        guanxi_web::overload::Limits {
            requests_per_second: self.rate_limit_per_second,
            burst: self.rate_limit_burst,
            max_in_flight: self.max_in_flight,
        }
    }
}
