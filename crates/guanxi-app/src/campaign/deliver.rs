//! The sender: one step of the `campaigns.send` job. It starts scheduled campaigns, reads
//! audiences into the outbox, chooses A/B winners, and delivers due messages — campaign by
//! campaign, in batches claimed with a lease, checking each recipient against the frequency
//! cap (over it: the message waits for the next slot) and the channel's quiet hours where the
//! customer is (their own time zone, else the shop's: the message waits for their morning),
//! at most the channel's rate, several deliveries in flight at once,
//! each outcome recorded as soon as the provider answered (see `guanxi_store::campaign::outbox`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;
use guanxi_domain::campaign::bounce::Bounce;
use guanxi_domain::campaign::content::is_chinese_name;
use guanxi_domain::campaign::{CampaignState, Channel, ContactPolicy, Rendered, Variant};
use guanxi_domain::segment::AsOf;
use guanxi_store::campaign::{CampaignRecord, OutboxMessage, Outcome};
use guanxi_store::Store;
use lettre::message::Mailbox;
use std::sync::Arc;

use super::email::{self, Links};
use super::sms::{SmsError, SmsProvider, SmsRequest};
use super::smtp::{Mailer, SendError};
use crate::AppError;

/// Attempts before a message that keeps failing temporarily is given up.
pub const MAX_ATTEMPTS: i64 = 5;
/// Most messages one claim takes.
const BATCH: i64 = 500;

/// How messages leave this server.
#[derive(Clone)]
pub struct Delivery {
    /// The SMTP relay (none: e-mail waits until one is configured).
    pub mailer: Option<Arc<Mailer>>,
    /// The sender's address.
    pub from: Mailbox,
    /// The SMS provider (none: text messages wait).
    pub sms: Option<SmsProvider>,
    /// The SMS signature (签名).
    pub sms_sign: String,
    /// The approved SMS template that carries a survey link (parameter `url`); empty: survey
    /// links go by e-mail only.
    pub survey_sms_template: String,
    /// The server's public address for links, no trailing slash.
    pub base_url: String,
    /// The shop's time zone, hours east of UTC (quiet hours, coupon expiry).
    pub utc_offset_hours: i64,
    /// How long a claimed message is held before another sender may take it (a crashed
    /// sender's messages are retried after this).
    pub lease: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials: only whether there is one.
        f.debug_struct("Delivery")
            .field("smtp", &self.mailer.is_some())
            .field("from", &self.from.to_string())
            .field("sms", &self.sms)
            .field("base_url", &self.base_url)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// What configures a [`Delivery`].
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// `smtp://user:pass@host:port?tls=required`, `smtps://…` (lettre's URL form).
    pub smtp_url: Option<String>,
    /// `Name <address>` of the sender.
    pub mail_from: String,
    /// The SMS provider: `file`, `aliyun`, `tencent` (empty: the file provider when a file
    /// is set, else none).
    pub sms_provider: String,
    /// Where the file SMS provider writes (development).
    pub sms_file: Option<std::path::PathBuf>,
    /// The account at Aliyun or Tencent Cloud.
    pub sms_account: Option<super::sms::ApiAccount>,
    /// The SMS signature.
    pub sms_sign: String,
    /// The SMS template for survey links.
    pub survey_sms_template: String,
    /// The server's public address.
    pub base_url: String,
    /// The shop's time zone.
    pub utc_offset_hours: i64,
    /// The claim lease.
    pub lease: Duration,
    /// SMTP connections (and deliveries) in flight at once.
    pub concurrency: usize,
}

impl Delivery {
    /// Builds the transports; a malformed SMTP URL or sender address is an error at start.
    pub fn new(c: &DeliveryConfig) -> Result<Self, String> {
        let concurrency = c.concurrency.clamp(1, 64);
        let mailer = match &c.smtp_url {
            Some(u) => Some(Arc::new(Mailer::from_url(u, concurrency)?)),
            None => None,
        };
        Ok(Self {
            mailer,
            from: c.mail_from.parse().map_err(|e| format!("mail_from: {e}"))?,
            sms: SmsProvider::configure(
                &c.sms_provider,
                c.sms_file.clone(),
                c.sms_account.clone(),
            )?,
            sms_sign: c.sms_sign.clone(),
            survey_sms_template: c.survey_sms_template.clone(),
            base_url: c.base_url.trim_end_matches('/').to_string(),
            utc_offset_hours: c.utc_offset_hours,
            lease: c.lease,
            concurrency,
        })
    }

    /// Sends a campaign's first variant to `address` outside the outbox (a test send), its
    /// merge fields filled from `merge`.
    pub async fn test_send(
        &self,
        k: &CampaignRecord,
        address: &str,
        mut merge: guanxi_domain::campaign::MergeData,
    ) -> Result<String, AppError> {
        let v = &k.campaign.variants[0];
        merge.coupon = k.campaign.offer_id.map(|_| "TEST-0000".to_string());
        let lang = if is_chinese_name(&merge.name) {
            "zh-CN"
        } else {
            "en"
        };
        let r = v.render(lang, &merge);
        let token = "00000000000000000000000000000000";
        let out = self
            .deliver(k.campaign.channel, v, &r, lang, address, token, true, false)
            .await;
        match out {
            Ok(key) => Ok(key),
            Err((e, _)) => Err(guanxi_domain::ValidationErrors::single(
                "address",
                if e.contains("not configured") {
                    "not_configured"
                } else {
                    "send_failed"
                },
            )
            .into()),
        }
    }

    /// Delivers one message; the idempotency key on success, else the error and what it
    /// means for the address.
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        channel: Channel,
        v: &Variant,
        r: &Rendered,
        lang: &str,
        address: &str,
        token: &str,
        marketing: bool,
        track_opens: bool,
    ) -> Result<String, (String, Option<Bounce>)> {
        match channel {
            Channel::Email => {
                let Some(mailer) = &self.mailer else {
                    return Err(("smtp not configured".into(), None));
                };
                let links = Links {
                    base: &self.base_url,
                    token,
                };
                let id = email::message_id(token, &self.from);
                let m = email::build(
                    &self.from,
                    address,
                    r,
                    lang,
                    &links,
                    marketing,
                    track_opens,
                    &id,
                )
                .map_err(|e| (e, Some(Bounce::Hard)))?;
                match mailer.send(&m).await {
                    Ok(()) => Ok(id),
                    Err(SendError::Connect(e)) => Err((e, None)),
                    Err(SendError::Smtp(e)) => {
                        let text = e.to_string();
                        let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
                        let bounce = match code {
                            Some(code) if e.is_permanent() => Some(Bounce::from_smtp(code, &text)),
                            // A 4xx about the mailbox (full, unknown for now) is a soft bounce;
                            // any other 4xx (throttling, greylisting) is the server's, not the
                            // address's: retried without counting.
                            Some(code) if Bounce::is_mailbox_soft(&text) => {
                                Some(Bounce::from_smtp(code, &text))
                            }
                            _ => None,
                        };
                        Err((text, bounce))
                    }
                }
            }
            Channel::Sms => {
                let Some(sms) = &self.sms else {
                    return Err(("sms provider not configured".into(), None));
                };
                let req = SmsRequest {
                    phone: address.to_string(),
                    sign: self.sms_sign.clone(),
                    template: v.sms_template.clone(),
                    params: r.sms_params.clone(),
                    out_id: token.to_string(),
                };
                sms.send(&req).await.map_err(|e| match e {
                    SmsError::Temporary(t) => (t, None),
                    SmsError::Rejected(t) => (t, Some(Bounce::Hard)),
                })
            }
            Channel::Call | Channel::Mail => Err(("a list is not delivered".into(), None)),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepReport {
    /// Customers read into the outbox.
    pub prepared: usize,
    /// Messages delivered.
    pub sent: usize,
    /// Deliveries that failed (retried later or given up).
    pub failed: usize,
    /// Messages put back for the frequency cap.
    pub deferred: usize,
    /// Campaigns that finished.
    pub finished: Vec<i64>,
    /// Large campaigns whose figures were recomputed.
    pub figures: usize,
    /// Work was left when the step's time ran out: run again at once.
    pub more: bool,
}

/// One step, at most `budget` long.
pub async fn run_step(
    store: &Store,
    d: &Delivery,
    budget: Duration,
) -> Result<StepReport, AppError> {
    let deadline = Instant::now() + budget;
    let mut report = StepReport::default();
    for k in store.sending_campaigns().await? {
        let mut k = k;
        while !k.prepared {
            if Instant::now() >= deadline {
                report.more = true;
                return Ok(report);
            }
            let r = store.prepare_campaign_step(&k, as_of(d)).await?;
            report.prepared += r.read;
            k = store.get_campaign(k.id).await?;
        }
        if store.decide_ab(&k).await?.is_some() {
            k = store.get_campaign(k.id).await?;
        }
        send_batches(
            store,
            d,
            Some(&k),
            k.campaign.channel,
            deadline,
            &mut report,
        )
        .await?;
        if Instant::now() >= deadline {
            report.more = true;
            return Ok(report);
        }
        if store.finish_campaign_if_done(&k, as_of(d).today).await? {
            report.finished.push(k.id);
        }
    }
    for channel in [Channel::Email, Channel::Sms] {
        send_batches(store, d, None, channel, deadline, &mut report).await?;
    }
    refresh_figures(store, d, deadline, &mut report).await?;
    if Instant::now() >= deadline {
        report.more = true;
    }
    Ok(report)
}

/// Recomputes the kept figures of large campaigns that may have changed since (sending, or
/// inside their attribution window, once more after it closes), while the step has time.
async fn refresh_figures(
    store: &Store,
    d: &Delivery,
    deadline: Instant,
    report: &mut StepReport,
) -> Result<(), AppError> {
    let now = Utc::now().timestamp_millis();
    let due = store
        .campaigns_with_stale_figures(super::LIVE_FIGURES_LIMIT, now - super::FIGURES_EVERY_MS)
        .await?;
    for (id, computed_at) in due {
        if Instant::now() >= deadline {
            report.more = true;
            return Ok(());
        }
        let k = store.get_campaign(id).await?;
        let closed = k
            .finished_at
            .map(|f| f.timestamp_millis() + k.campaign.attribution_days * 86_400_000);
        if let (Some(closed), Some(at)) = (closed, computed_at) {
            if at > closed {
                continue;
            }
        }
        store.refresh_figures(id, d.utc_offset_hours).await?;
        report.figures += 1;
    }
    Ok(())
}

/// Now and today in the shop's time zone.
pub(crate) fn as_of(d: &Delivery) -> AsOf {
    let now = Utc::now();
    AsOf {
        now,
        today: (now + chrono::Duration::hours(d.utc_offset_hours)).date_naive(),
        utc_offset_hours: d.utc_offset_hours,
    }
}

/// Delivers due messages of one campaign (transactional ones when `None`) until none is due
/// or the deadline passes.
async fn send_batches(
    store: &Store,
    d: &Delivery,
    k: Option<&CampaignRecord>,
    channel: Channel,
    deadline: Instant,
    report: &mut StepReport,
) -> Result<(), AppError> {
    let ready = match channel {
        Channel::Email => d.mailer.is_some(),
        Channel::Sms => d.sms.is_some(),
        Channel::Call | Channel::Mail => true,
    };
    if !ready {
        // No relay or provider configured: the messages wait in the outbox.
        return Ok(());
    }
    let policy = store.contact_policy(channel).await?;
    let batch = BATCH.min(policy.per_second.max(1));
    while Instant::now() < deadline {
        if let Some(k) = k {
            if store.campaign_state(k.id).await? != CampaignState::Sending {
                return Ok(());
            }
        }
        let started = Instant::now();
        let claimed = store
            .claim_outbox(k.map(|k| k.id), channel, batch, d.lease.as_millis() as i64)
            .await?;
        if claimed.is_empty() {
            return Ok(());
        }
        let go = match k {
            Some(_) => {
                // Quiet hours where the customer is: their message waits for their morning.
                let (awake, asleep) = split_quiet(&policy, claimed, d.utc_offset_hours * 60);
                report.deferred += asleep.len();
                store.defer_outbox(&asleep, "quiet").await?;
                let (go, later) = apply_cap(store, channel, &policy, awake).await?;
                report.deferred += later.len();
                store.defer_outbox(&later, "cap").await?;
                go
            }
            None => claimed,
        };
        let n = go.len();
        let outcomes: Vec<Result<bool, AppError>> = futures_util::stream::iter(go)
            .map(|m| deliver_one(store, d, k, m, &policy))
            .buffer_unordered(d.concurrency)
            .collect()
            .await;
        let mut any_sent = false;
        for o in outcomes {
            if o? {
                report.sent += 1;
                any_sent = true;
            } else {
                report.failed += 1;
            }
        }
        if let (Some(k), true) = (k, any_sent) {
            store.campaign_succeeded(k.id).await?;
        }
        // The channel's rate: this batch may not have taken less than n / per_second.
        let floor = Duration::from_secs_f64(n as f64 / policy.per_second.max(1) as f64);
        let spent = started.elapsed();
        if spent < floor {
            tokio::time::sleep(floor - spent).await;
        }
    }
    Ok(())
}

/// Splits claimed marketing messages into those outside the quiet hours where each customer
/// is (their own time zone, else the shop's) and those that wait, with when their quiet hours
/// end (`(id, due_at)`).
fn split_quiet(
    policy: &ContactPolicy,
    claimed: Vec<OutboxMessage>,
    shop_offset_minutes: i64,
) -> (Vec<OutboxMessage>, Vec<(i64, i64)>) {
    let now = Utc::now().timestamp_millis();
    let mut awake = vec![];
    let mut asleep = vec![];
    for m in claimed {
        let offset = m
            .time_zone
            .as_deref()
            .and_then(|z| guanxi_domain::time_zone::offset_minutes(z, now))
            .unwrap_or(shop_offset_minutes);
        match policy.quiet_until(now, offset) {
            Some(until) => asleep.push((m.id, until)),
            None => awake.push(m),
        }
    }
    (awake, asleep)
}

/// Splits claimed marketing messages into those the frequency cap allows now and those that
/// wait, with the time each may go (`(id, due_at)`). Two messages to one customer in the same
/// batch count against each other.
async fn apply_cap(
    store: &Store,
    channel: Channel,
    policy: &ContactPolicy,
    claimed: Vec<OutboxMessage>,
) -> Result<(Vec<OutboxMessage>, Vec<(i64, i64)>), AppError> {
    let customers: Vec<i64> = claimed.iter().map(|m| m.customer_id).collect();
    let (sent, caps) = store
        .recent_marketing(channel, &customers, policy.cap_days)
        .await?;
    let mut times: HashMap<i64, Vec<i64>> = HashMap::new();
    for (c, t) in sent {
        times.entry(c).or_default().push(t);
    }
    let own: HashMap<i64, (i64, i64)> = caps.into_iter().map(|(c, n, d)| (c, (n, d))).collect();
    let now = Utc::now().timestamp_millis();
    let mut go = vec![];
    let mut later = vec![];
    for m in claimed {
        let (count, days) = own
            .get(&m.customer_id)
            .copied()
            .unwrap_or((policy.cap_count, policy.cap_days));
        let t = times.entry(m.customer_id).or_default();
        let slot = ContactPolicy::next_slot(count, days, t, now);
        if slot > now {
            later.push((m.id, slot));
        } else {
            t.push(now);
            go.push(m);
        }
    }
    Ok((go, later))
}

/// Renders, delivers and records one message; `true` when it was sent.
async fn deliver_one(
    store: &Store,
    d: &Delivery,
    k: Option<&CampaignRecord>,
    mut m: OutboxMessage,
    policy: &ContactPolicy,
) -> Result<bool, AppError> {
    let lang = if is_chinese_name(&m.merge.name) {
        "zh-CN"
    } else {
        "en"
    };
    let channel = Channel::parse(&m.channel).unwrap_or(Channel::Email);
    let (variant, rendered, marketing, track) = match k {
        Some(k) => {
            if let Some(offer) = k.campaign.offer_id {
                match store
                    .campaign_coupon(k.id, offer, m.customer_id, d.utc_offset_hours)
                    .await
                {
                    Ok(code) => m.merge.coupon = Some(code),
                    Err(e) => {
                        let outcome = Outcome::Failed {
                            error: format!("coupon: {e}"),
                            bounce: None,
                            retry_at: None,
                        };
                        store.record_delivery(&m, &outcome, policy).await?;
                        return Ok(false);
                    }
                }
            }
            let v = &k.campaign.variants
                [usize::from(m.variant == "b").min(k.campaign.variants.len() - 1)];
            (
                v.clone(),
                v.render(lang, &m.merge),
                true,
                k.campaign.track_opens,
            )
        }
        None => {
            // A survey link: the personal link is filled in now, from the token the row
            // holds until it is delivered.
            let link = m.secret.as_ref().map(|t| format!("{}/s/{t}", d.base_url));
            let body = m.body.clone().unwrap_or_default();
            let body = match &link {
                Some(l) => guanxi_domain::survey::invite::with_link(&body, l),
                None => body,
            };
            let v = Variant {
                subject_zh: m.subject.clone().unwrap_or_default(),
                subject_en: String::new(),
                body_zh: body,
                body_en: String::new(),
                sms_template: d.survey_sms_template.clone(),
                sms_params: vec![],
            };
            let r = Rendered {
                subject: v.subject_zh.clone(),
                body: v.body_zh.clone(),
                sms_params: link
                    .map(|l| vec![(guanxi_domain::survey::invite::SMS_LINK_PARAM.to_string(), l)])
                    .unwrap_or_default(),
            };
            (v, r, false, false)
        }
    };
    // A campaign writes in English only when it has English content; a transactional message
    // was written in its customer's language when it was queued.
    let lang_used = match k {
        None if m.lang == "en" => "en",
        None => "zh-CN",
        Some(_) if lang == "en" && !variant.body_en.is_empty() => "en",
        Some(_) => "zh-CN",
    };
    let outcome = if channel == Channel::Call {
        Outcome::CallTask {
            title: rendered.subject.clone(),
            note: rendered.body.clone(),
            lang: lang_used.to_string(),
        }
    } else if channel == Channel::Mail {
        // The letter is written now (its coupon, its salutation) and waits on the mailing
        // list for the printer.
        Outcome::Listed {
            subject: rendered.subject.clone(),
            body: rendered.body.clone(),
            lang: lang_used.to_string(),
        }
    } else {
        let Some(address) = m.address.clone() else {
            let o = Outcome::Failed {
                error: "no address".into(),
                bounce: None,
                retry_at: None,
            };
            store.record_delivery(&m, &o, policy).await?;
            return Ok(false);
        };
        match d
            .deliver(
                channel, &variant, &rendered, lang_used, &address, &m.token, marketing, track,
            )
            .await
        {
            Ok(key) => Outcome::Sent {
                message_key: key,
                lang: lang_used.to_string(),
            },
            Err((error, bounce)) => {
                let retry = bounce.is_none_or(|b| b == Bounce::Soft) && m.attempts < MAX_ATTEMPTS;
                let backoff = 60_000i64 << (m.attempts - 1).clamp(0, 6);
                Outcome::Failed {
                    error,
                    bounce,
                    retry_at: retry.then(|| Utc::now().timestamp_millis() + backoff),
                }
            }
        }
    };
    let sent = !matches!(outcome, Outcome::Failed { .. });
    store.record_delivery(&m, &outcome, policy).await?;
    Ok(sent)
}
