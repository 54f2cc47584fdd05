//! Tickets that happened before they were entered: the demo's year of service work, and a
//! later import from another help desk. Each keeps its own times (opened, answered, waiting
//! for the customer, resolved, closed); the SLA clock is then run over those facts as of now,
//! so met and breached targets come out as the live clock would have recorded them.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::{
    ComplaintStep, Priority, RemedyKind, ResolutionCode, TicketKind, TicketStatus,
};
use guanxi_domain::vocabulary::InteractionChannel;

use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::ticket::clock::{apply_sla, escalate_breaches};
use crate::ticket::log_event;

/// A ticket with its history, as it happened.
#[derive(Debug, Clone)]
pub struct HistoricTicket {
    /// Customer.
    pub customer_id: Option<i64>,
    /// Kind.
    pub kind: TicketKind,
    /// Category.
    pub category_id: Option<i64>,
    /// Priority.
    pub priority: Priority,
    /// Channel.
    pub channel: InteractionChannel,
    /// Subject.
    pub subject: String,
    /// The customer's first message.
    pub body: String,
    /// Queue.
    pub queue_id: i64,
    /// Agent who worked it (assigned when opened plus `first_response` minus a little).
    pub assignee_id: Option<i64>,
    /// Severe complaint.
    pub severe: bool,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// The agent's first reply: when and what.
    pub first_reply: Option<(DateTime<Utc>, String)>,
    /// Spans waiting for the customer.
    pub pauses: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// Remedy for a complaint.
    pub remedy: Option<RemedyKind>,
    /// When and how it was resolved.
    pub resolved: Option<(DateTime<Utc>, ResolutionCode)>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Enters tickets that already happened, one transaction per ticket, each with its thread,
    /// history (on the customer's timeline) and SLA outcome as of `now`. Returns their ids.
    pub async fn load_historic_tickets(
        &self,
        actor: &Actor,
        tickets: &[HistoricTicket],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(tickets.len());
        for t in tickets {
            let mut tx = self.begin_write().await?;
            let status = match (t.closed_at, t.resolved, t.pauses.last()) {
                (Some(_), _, _) => TicketStatus::Closed,
                (None, Some(_), _) => TicketStatus::Resolved,
                (None, None, Some((_, None))) => TicketStatus::PendingCustomer,
                (None, None, _) if t.first_reply.is_some() => TicketStatus::Open,
                _ => TicketStatus::New,
            };
            let step = (t.kind == TicketKind::Complaint).then(|| match status {
                TicketStatus::Closed => ComplaintStep::Archived,
                TicketStatus::Resolved => ComplaintStep::Confirmed,
                _ if t.remedy.is_some() => ComplaintStep::RemedyProposed,
                _ if t.first_reply.is_some() => ComplaintStep::Investigating,
                _ => ComplaintStep::Received,
            });
            let opened = to_ms(t.opened_at);
            let assigned = t.assignee_id.map(|_| {
                t.first_reply
                    .as_ref()
                    .map(|r| to_ms(r.0).min(opened + 60_000))
                    .unwrap_or(opened + 60_000)
            });
            let team: Option<i64> =
                sqlx::query_scalar("SELECT team_id FROM service_queues WHERE id = $1")
                    .bind(t.queue_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let last = [
                Some(opened),
                t.first_reply.as_ref().map(|r| to_ms(r.0)),
                t.resolved.map(|r| to_ms(r.0)),
                t.closed_at.map(to_ms),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(opened);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tickets (customer_id, kind, category_id, priority, priority_rank, \
                 channel, subject, status, queue_id, team_id, assignee_id, severe, complaint_step, \
                 remedy_kind, resolution_code, first_response_at, waiting_since, \
                 first_assigned_at, resolved_at, closed_at, created_at, updated_at, created_by, \
                 updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                 $15, $16, $17, $18, $19, $20, $21, $22, $23, $23) RETURNING id",
            )
            .bind(t.customer_id)
            .bind(t.kind.as_str())
            .bind(t.category_id)
            .bind(t.priority.as_str())
            .bind(t.priority.rank())
            .bind(t.channel.as_str())
            .bind(t.subject.as_str())
            .bind(status.as_str())
            .bind(t.queue_id)
            .bind(team)
            .bind(t.assignee_id)
            .bind(t.severe)
            .bind(step.map(ComplaintStep::as_str))
            .bind(t.remedy.map(RemedyKind::as_str))
            .bind(t.resolved.map(|r| r.1.as_str()))
            .bind(t.first_reply.as_ref().map(|r| to_ms(r.0)))
            .bind(if t.assignee_id.is_none() && !status.is_done() {
                Some(opened)
            } else {
                None
            })
            .bind(assigned)
            .bind(t.resolved.map(|r| to_ms(r.0)))
            .bind(t.closed_at.map(to_ms))
            .bind(opened)
            .bind(last)
            .bind(actor.user_id())
            .fetch_one(&mut *tx)
            .await?;
            let message = |kind: &'static str, body: String, user: Option<i64>, at: i64| {
                sqlx::query(
                    "INSERT INTO ticket_messages (ticket_id, kind, body, user_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(kind)
                .bind(body)
                .bind(user)
                .bind(at)
            };
            message("customer", t.body.clone(), None, opened)
                .execute(&mut *tx)
                .await?;
            log_event(
                &mut tx,
                id,
                t.customer_id,
                t.opened_at,
                "opened",
                Some(t.channel.as_str()),
                None,
            )
            .await?;
            if let (Some(agent), Some(at)) = (t.assignee_id, assigned) {
                let detail = format!("round_robin:{agent}");
                log_event(
                    &mut tx,
                    id,
                    t.customer_id,
                    crate::db::from_ms(at),
                    "assigned",
                    Some(&detail),
                    None,
                )
                .await?;
            }
            if let Some((at, text)) = &t.first_reply {
                message("reply", text.clone(), t.assignee_id, to_ms(*at))
                    .execute(&mut *tx)
                    .await?;
                log_event(
                    &mut tx,
                    id,
                    t.customer_id,
                    *at,
                    "replied",
                    Some(text),
                    t.assignee_id,
                )
                .await?;
            }
            for (start, end) in &t.pauses {
                sqlx::query(
                    "INSERT INTO ticket_pauses (ticket_id, started_at, ended_at) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(to_ms(*start))
                .bind(end.map(to_ms))
                .execute(&mut *tx)
                .await?;
            }
            if let Some((at, code)) = t.resolved {
                let detail = format!("open>resolved:{}", code.as_str());
                log_event(
                    &mut tx,
                    id,
                    t.customer_id,
                    at,
                    "status",
                    Some(&detail),
                    t.assignee_id,
                )
                .await?;
            }
            if let Some(at) = t.closed_at {
                log_event(
                    &mut tx,
                    id,
                    t.customer_id,
                    at,
                    "status",
                    Some("resolved>closed"),
                    t.assignee_id,
                )
                .await?;
            }
            let found = apply_sla(&mut tx, id, now).await?;
            // A complaint still open past its targets climbs the ladder now, as the sweep
            // would have done while it waited; closed history is left as it was.
            if t.resolved.is_none() {
                escalate_breaches(&mut tx, id, t.kind.as_str(), found, now).await?;
            }
            tx.commit().await?;
            ids.push(id);
        }
        Ok(ids)
    }
}
