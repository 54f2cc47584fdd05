//! Sending surveys: one step of the `surveys.dispatch` job invites the customers of tickets
//! resolved and orders placed since each triggered survey last looked, the next customers of
//! each segment a survey is being sent to, those rules asked a survey for, and reminds (once) those who have not answered
//! after the settings' days. Each invitation's link leaves as a transactional message through
//! the outbox (the `campaigns.send` job delivers it), e-mail first, else SMS when a survey SMS
//! template is configured. The fatigue rule and "one invitation per cause" are the store's, so
//! a step that runs twice invites nobody twice.

use std::time::{Duration, Instant};

use chrono::Utc;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::survey::SurveyTrigger;
use guanxi_store::survey::{Cause, Invited, NewLink, Sent, SurveyRecord};
use guanxi_store::Store;
use serde_json::json;

use crate::campaign::deliver::Delivery;
use crate::sessions::{digest, random_secret};
use crate::{require, AppError};

/// The job that sends surveys by their triggers, to segments, and their reminders.
pub const DISPATCH_JOB: &str = "surveys.dispatch";

/// Causes (or customers, or reminders) one read takes.
const CHUNK: i64 = 200;

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DispatchReport {
    /// Invitations made, their messages queued.
    pub invited: usize,
    /// Customers not invited: surveyed inside the fatigue window.
    pub fatigued: usize,
    /// Customers not invited: no address a message may go to.
    pub no_address: usize,
    /// Reminders queued.
    pub reminded: usize,
    /// Work was left when the step's time ran out.
    pub more: bool,
}

impl DispatchReport {
    fn count(&mut self, s: Sent) {
        match s {
            Sent::Queued(_) => self.invited += 1,
            Sent::NotInvited(Invited::Fatigued) => self.fatigued += 1,
            Sent::NotInvited(_) => {}
            Sent::NoAddress => self.no_address += 1,
        }
    }
}

/// The contact-point kinds a survey link may go to: e-mail, and mobiles when SMS can carry it.
fn kinds(d: &Delivery) -> &'static [&'static str] {
    if d.sms.is_some() && !d.survey_sms_template.is_empty() {
        &["email", "mobile"]
    } else {
        &["email"]
    }
}

/// Invites one customer for one cause with a fresh link.
async fn invite(
    store: &Store,
    survey: &SurveyRecord,
    customer: i64,
    cause: &str,
    snapshot: &guanxi_store::survey::Snapshot,
    d: &Delivery,
) -> Result<Sent, AppError> {
    let token = random_secret();
    let link = NewLink {
        token: &token,
        token_hash: &digest(&token),
        kinds: kinds(d),
    };
    Ok(store
        .invite_and_send(survey, customer, cause, snapshot, link, Utc::now())
        .await?)
}

/// One step, at most `budget` long.
pub async fn dispatch_step(
    store: &Store,
    d: &Delivery,
    budget: Duration,
) -> Result<DispatchReport, AppError> {
    let deadline = Instant::now() + budget;
    let mut r = DispatchReport::default();
    for survey in store.list_surveys().await?.into_iter().filter(|s| s.active) {
        if !matches!(
            survey.trigger,
            SurveyTrigger::TicketResolved | SurveyTrigger::Order
        ) {
            continue;
        }
        loop {
            if Instant::now() >= deadline {
                r.more = true;
                return finish(store, r).await;
            }
            let cursor = store.survey_cursor(survey.id).await?;
            let causes: Vec<Cause> = match survey.trigger {
                SurveyTrigger::TicketResolved => {
                    store.resolved_tickets_for(&survey, cursor, CHUNK).await?
                }
                _ => store.orders_for(&survey, cursor, Utc::now(), CHUNK).await?,
            };
            for c in &causes {
                let s = invite(store, &survey, c.customer_id, &c.key, &c.snapshot, d).await?;
                r.count(s);
            }
            if let Some(last) = causes.last() {
                store.move_survey_cursor(survey.id, last.cursor).await?;
            }
            if (causes.len() as i64) < CHUNK {
                break;
            }
        }
    }
    for send in store.open_segment_sends().await? {
        let survey = store.get_survey(send.survey_id).await?;
        let mut send = send;
        loop {
            if Instant::now() >= deadline {
                r.more = true;
                return finish(store, r).await;
            }
            let as_of = crate::campaign::deliver::as_of(d);
            let Some(ids) = store.segment_send_chunk(&send, as_of, CHUNK).await? else {
                store
                    .advance_segment_send(send.id, send.cursor, 0, 0, true)
                    .await?;
                break;
            };
            let before = r.invited;
            for &c in &ids {
                let cause = format!("segment:{}:{c}", send.id);
                let s = invite(store, &survey, c, &cause, &Default::default(), d).await?;
                r.count(s);
            }
            let invited = (r.invited - before) as i64;
            let done = (ids.len() as i64) < CHUNK;
            let cursor = ids.last().copied().unwrap_or(send.cursor);
            store
                .advance_segment_send(send.id, cursor, invited, ids.len() as i64 - invited, done)
                .await?;
            send.cursor = cursor;
            if done {
                break;
            }
        }
    }
    // Surveys rules asked for (their action `send_survey`).
    loop {
        if Instant::now() >= deadline {
            r.more = true;
            return finish(store, r).await;
        }
        let requests = store.pending_survey_requests(CHUNK).await?;
        for q in &requests {
            let survey = store.get_survey(q.survey_id).await?;
            let outcome = if survey.active {
                let s = invite(
                    store,
                    &survey,
                    q.customer_id,
                    &q.cause,
                    &Default::default(),
                    d,
                )
                .await?;
                r.count(s);
                match s {
                    Sent::Queued(_) => "sent",
                    Sent::NotInvited(Invited::Fatigued) => "fatigued",
                    Sent::NotInvited(_) => "already_invited",
                    Sent::NoAddress => "no_address",
                }
            } else {
                "inactive"
            };
            store.finish_survey_request(q.id, outcome).await?;
        }
        if (requests.len() as i64) < CHUNK {
            break;
        }
    }
    let after = store.survey_remind_after_days().await?;
    if after > 0 {
        loop {
            if Instant::now() >= deadline {
                r.more = true;
                break;
            }
            let due = store.reminders_due(after, Utc::now(), CHUNK).await?;
            for due_one in &due {
                let survey = store.get_survey(due_one.survey_id).await?;
                let token = random_secret();
                let link = NewLink {
                    token: &token,
                    token_hash: &digest(&token),
                    kinds: kinds(d),
                };
                if store
                    .send_reminder(&survey, due_one, link, Utc::now())
                    .await?
                {
                    r.reminded += 1;
                }
            }
            if (due.len() as i64) < CHUNK {
                break;
            }
        }
    }
    finish(store, r).await
}

/// Wakes the sender when anything was queued.
async fn finish(store: &Store, r: DispatchReport) -> Result<DispatchReport, AppError> {
    if r.invited + r.reminded > 0 {
        crate::campaign::queue_step(store).await?;
    }
    Ok(r)
}

/// Queues a dispatch step now (a send to a segment, the schedule's tick).
pub async fn queue_dispatch(store: &Store) -> Result<(), AppError> {
    crate::jobs::queue_system_job(store, DISPATCH_JOB, Some("all"), json!({})).await
}

/// Sends `survey` to the customers of `segment` the actor may see as a segment: each gets a
/// personal link (fatigue rule applied), read and sent in the background. Returns the send.
pub async fn send_to_segment(
    store: &Store,
    actor: &Actor,
    survey: i64,
    segment: i64,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageCare)?;
    let s = store.get_survey(survey).await?;
    if !s.active {
        return Err(guanxi_domain::ValidationErrors::single("survey_id", "inactive").into());
    }
    store.get_segment(segment).await?;
    let id = store.start_segment_send(actor, survey, segment).await?;
    queue_dispatch(store).await?;
    Ok(id)
}
