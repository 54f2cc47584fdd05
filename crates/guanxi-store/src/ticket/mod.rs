//! Tickets: opening one (routed to an agent or left waiting in its queue), the thread of
//! messages and notes, status moves with the pause history, the complaint procedure, and the
//! ticket's history, which is projected onto the customer's timeline as it is written.
//!
//! Who sees a ticket: a service agent the tickets of their queues, their own, and (as a team
//! lead) their team's; a sales rep the tickets of the customers they may see; managers, admins
//! and viewers all of them. The permission to read or work tickets is the app layer's check.

pub mod admin;
mod attachments;
pub mod calls;
pub mod clock;
pub mod history;
pub mod metrics;
pub(crate) mod parts;
pub mod queue;
pub mod rollup;
mod row;
pub mod setup;

use chrono::{DateTime, Utc};
use guanxi_domain::role::{Actor, Role};
use guanxi_domain::ticket::attachment::ValidAttachment;
use guanxi_domain::ticket::records::{Ticket, TicketDetail, TicketEvent, TicketMessage};
use guanxi_domain::ticket::status::{check_status_change, StatusChange};
use guanxi_domain::ticket::{
    ComplaintStep, MessageKind, TicketKind, TicketPatch, TicketStatus, ValidTicket,
};
use guanxi_domain::ValidationErrors;
use serde_json::json;
use sqlx::AnyConnection;

use crate::custom_field::{write_values_in, CustomChange};
use crate::customers::{load_row, push_owner_scope};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::rows::code;
use crate::sql::{like_pattern, SqlBuilder};
use clock::{apply_sla, escalate, escalate_breaches};
use queue::{assign, route_waiting};
use row::{TicketRow, TICKET_COLUMNS, TICKET_FROM};

/// Statuses of work not yet done (an agent's load).
pub(crate) const OPEN_STATUSES: &str = "('new', 'open', 'pending_customer', 'pending_internal')";
/// Statuses in which an unassigned ticket waits in its queue (the `tickets_waiting` index's
/// predicate, word for word, so SQLite can use it).
pub(crate) const WAITING_STATUSES: &str = "('new', 'open', 'pending_internal')";

/// Longest excerpt of a message shown on the customer's timeline.
const EXCERPT_CHARS: usize = 200;

/// A ticket's history on the customer timeline; the entry opens the ticket (`link_id`).
pub(crate) const TICKET_EVENTS: EventSource = EventSource {
    kind: "ticket",
    select: "SELECT id, customer_id, at, kind, ref_id, code, title, detail, amount_minor, \
             currency, user_id, version, link_id FROM (SELECT e.id, e.customer_id, e.at, \
             'ticket' AS kind, e.id AS ref_id, e.action AS code, t.subject AS title, e.detail, \
             CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency, e.user_id, \
             CAST(NULL AS BIGINT) AS version, e.ticket_id AS link_id \
             FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id) te",
};

/// Appends one step to a ticket's history and, when the ticket has a customer, to their
/// timeline, in the caller's transaction.
pub(crate) async fn log_event(
    conn: &mut AnyConnection,
    ticket: i64,
    customer: Option<i64>,
    at: DateTime<Utc>,
    action: &str,
    detail: Option<&str>,
    user: Option<i64>,
) -> Result<()> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ticket_events (ticket_id, customer_id, at, action, detail, user_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(ticket)
    .bind(customer)
    .bind(to_ms(at))
    .bind(action)
    .bind(detail)
    .bind(user)
    .fetch_one(&mut *conn)
    .await?;
    if customer.is_some() {
        project(conn, &TICKET_EVENTS, Rows::Id(id)).await?;
    }
    Ok(())
}

/// Writes a ticket's audit entry.
pub(crate) async fn audit_ticket(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &'static str,
    id: i64,
    detail: serde_json::Value,
) -> Result<()> {
    crate::audit::entry(conn, actor, action, "ticket", Some(id), detail).await
}

/// The record-scope rule for tickets (see the module documentation).
pub(crate) fn push_ticket_scope(q: &mut SqlBuilder, actor: &Actor) {
    let me = actor.id;
    match actor.role {
        Role::Service => {
            q.push(" AND (t.assignee_id = ")
                .int(me)
                .push(" OR t.queue_id IN (SELECT queue_id FROM queue_members WHERE user_id = ")
                .int(me)
                .push(") OR t.team_id IN (SELECT id FROM teams WHERE lead_id = ")
                .int(me)
                .push("))");
        }
        Role::Sales => {
            q.push(" AND (t.assignee_id = ")
                .int(me)
                .push(" OR EXISTS (SELECT 1 FROM customers sc WHERE sc.id = t.customer_id");
            push_owner_scope(q, actor, "sc.owner_id");
            q.push("))");
        }
        Role::Admin | Role::Manager | Role::Marketing | Role::Viewer => {}
    }
}

/// The stale-version answer for a ticket as last read.
fn conflict(current: &Ticket) -> StoreError {
    StoreError::Conflict {
        current: current.meta.version,
        updated_by: current.meta.updated_by,
    }
}

/// Fails with a conflict unless the client's version is the ticket's.
fn fresh(current: &Ticket, version: i64) -> Result<()> {
    if current.meta.version == version {
        Ok(())
    } else {
        Err(conflict(current))
    }
}

/// Whether a category exists and is offered for tickets (opening one and moving one).
async fn category_is_active(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let ok: Option<i64> =
        sqlx::query_scalar("SELECT id FROM ticket_categories WHERE id = $1 AND active = TRUE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(ok.is_some())
}

fn excerpt(s: &str) -> String {
    s.chars().take(EXCERPT_CHARS).collect()
}

/// A thread row: id, kind, body, author id, author name, time.
type MessageRow = (i64, String, String, Option<i64>, Option<String>, i64);
/// A history row: id, time, action, detail, user.
type EventRow = (i64, i64, String, Option<String>, Option<i64>);

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketView {
    /// Assigned to this user.
    AssignedTo(i64),
    /// Waiting unassigned in this queue.
    Waiting(i64),
    /// Every ticket the actor may see.
    All,
    /// Of one customer.
    Customer(i64),
}

/// Which tickets by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketState {
    /// Not resolved or closed.
    #[default]
    Open,
    /// Resolved or closed.
    Done,
    /// A target breached and still open.
    Breached,
    /// Any.
    All,
}

/// The conditions of a ticket list.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFilter {
    /// Whose tickets.
    pub view: TicketView,
    /// Open, done, breached or all.
    pub state: TicketState,
    /// Only this kind.
    pub kind: Option<TicketKind>,
    /// Only this category.
    pub category_id: Option<i64>,
    /// Words in the subject or the customer's name.
    pub q: Option<String>,
    /// Rows per page (1–200).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Custom-field values the tickets must hold, by field code (checked by the caller).
    pub custom: Vec<(String, guanxi_domain::segment::CustomTest)>,
}

/// One page of tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketPage {
    /// The rows.
    pub items: Vec<Ticket>,
    /// Whether another page follows.
    pub more: bool,
}

impl Store {
    /// A ticket the actor may see.
    pub async fn ticket(&self, actor: &Actor, id: i64) -> Result<Ticket> {
        let mut q = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS}{TICKET_FROM} WHERE t.id = "
        ));
        q.int(id);
        push_ticket_scope(&mut q, actor);
        q.query_as::<TicketRow>()
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?
            .into_record()
    }

    /// A ticket with its thread and history.
    pub async fn ticket_detail(&self, actor: &Actor, id: i64) -> Result<TicketDetail> {
        let ticket = self.ticket(actor, id).await?;
        let attachments = self.attachments_of(id).await?;
        let messages: Vec<MessageRow> = sqlx::query_as(
            "SELECT m.id, m.kind, m.body, m.user_id, u.display_name, m.created_at \
                 FROM ticket_messages m LEFT JOIN users u ON u.id = m.user_id \
                 WHERE m.ticket_id = $1 ORDER BY m.id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT id, at, action, detail, user_id FROM ticket_events WHERE ticket_id = $1 \
             ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(TicketDetail {
            ticket,
            messages: messages
                .into_iter()
                .map(|(mid, kind, body, user_id, author, at)| {
                    Ok(TicketMessage {
                        id: mid,
                        ticket_id: id,
                        kind: code(MessageKind::parse, &kind, "message kind")?,
                        body,
                        user_id,
                        author,
                        created_at: from_ms(at),
                    })
                })
                .collect::<Result<_>>()?,
            events: events
                .into_iter()
                .map(|(eid, at, action, detail, user_id)| TicketEvent {
                    id: eid,
                    at: from_ms(at),
                    action,
                    detail,
                    user_id,
                })
                .collect(),
            attachments,
        })
    }

    /// One page of tickets: a queue's waiting work highest priority first, otherwise newest
    /// first.
    pub async fn list_tickets(&self, actor: &Actor, f: &TicketFilter) -> Result<TicketPage> {
        let mut q = SqlBuilder::new(&format!("SELECT {TICKET_COLUMNS}{TICKET_FROM} WHERE 1 = 1"));
        let mut order = " ORDER BY t.created_at DESC, t.id DESC";
        match f.view {
            TicketView::AssignedTo(u) => {
                q.push(" AND t.assignee_id = ").int(u);
            }
            TicketView::Waiting(queue) => {
                q.push(" AND t.queue_id = ")
                    .int(queue)
                    .push(" AND t.assignee_id IS NULL AND t.status IN ")
                    .push(WAITING_STATUSES);
                order = " ORDER BY t.priority_rank DESC, t.created_at, t.id";
            }
            TicketView::Customer(c) => {
                q.push(" AND t.customer_id = ").int(c);
            }
            TicketView::All => {}
        }
        match f.state {
            TicketState::Open => {
                q.push(" AND t.status IN ").push(OPEN_STATUSES);
            }
            TicketState::Done => {
                q.push(" AND t.status IN ('resolved', 'closed')");
            }
            TicketState::Breached => {
                q.push(" AND t.status IN ").push(OPEN_STATUSES).push(
                    " AND (t.first_response_breached_at IS NOT NULL \
                     OR t.next_response_breached_at IS NOT NULL \
                     OR t.resolution_breached_at IS NOT NULL)",
                );
            }
            TicketState::All => {}
        }
        if let Some(k) = f.kind {
            q.push(" AND t.kind = ").text(k.as_str());
        }
        if let Some(c) = f.category_id {
            q.push(" AND t.category_id = ").int(c);
        }
        crate::custom_field::push_record_filters(&mut q, "t.id", "ticket", &f.custom);
        if let Some(words) = f.q.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            let pattern = like_pattern(words);
            q.push(" AND (LOWER(t.subject) LIKE ")
                .text(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(c.name) LIKE ")
                .text(pattern)
                .push(" ESCAPE '\\' OR t.product_sku = ")
                .text(words.to_string())
                .push(")");
        }
        push_ticket_scope(&mut q, actor);
        let limit = f.limit.clamp(1, 200);
        q.push(order)
            .push(" LIMIT ")
            .int(limit + 1)
            .push(" OFFSET ")
            .int(f.offset.max(0));
        let rows: Vec<TicketRow> = q.query_as().fetch_all(&self.read).await?;
        let more = rows.len() as i64 > limit;
        let items = rows
            .into_iter()
            .take(limit as usize)
            .map(TicketRow::into_record)
            .collect::<Result<_>>()?;
        Ok(TicketPage { items, more })
    }

    /// Opens a ticket: checks its references, writes the customer's first message, starts the
    /// SLA clock, routes it to a free agent of its queue (or leaves it waiting), and sends a
    /// severe complaint up the ladder at once.
    pub async fn create_ticket(&self, actor: &Actor, t: ValidTicket) -> Result<Ticket> {
        self.create_ticket_with(actor, t, &[]).await
    }

    /// [`Store::create_ticket`] with its custom-field values (checked by the caller), written
    /// in the same transaction.
    pub async fn create_ticket_with(
        &self,
        actor: &Actor,
        t: ValidTicket,
        custom: &[CustomChange],
    ) -> Result<Ticket> {
        let now = Utc::now();
        let now_ms = to_ms(now);
        let mut tx = self.begin_write().await?;
        let mut e = ValidationErrors::new();
        if let Some(c) = t.customer_id {
            if matches!(load_row(&mut tx, actor, c).await, Err(StoreError::NotFound)) {
                e.push("customer_id", "invalid_reference");
            }
        }
        if let Some(cat) = t.category_id {
            if !category_is_active(&mut tx, cat).await? {
                e.push("category_id", "invalid_reference");
            }
        }
        if let Some(order) = t.order_id {
            let owner: Option<i64> =
                sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
                    .bind(order)
                    .fetch_optional(&mut *tx)
                    .await?;
            if owner.is_none() || owner != t.customer_id {
                e.push("order_id", "invalid_reference");
            }
        }
        let queue: Option<(i64, Option<i64>)> =
            match t.queue_id {
                Some(q) => {
                    sqlx::query_as("SELECT id, team_id FROM service_queues WHERE id = $1")
                        .bind(q)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => sqlx::query_as(
                    "SELECT id, team_id FROM service_queues ORDER BY is_default DESC, id LIMIT 1",
                )
                .fetch_optional(&mut *tx)
                .await?,
            };
        if queue.is_none() {
            e.push("queue_id", "invalid_reference");
        }
        let Some((queue_id, team_id)) = queue.filter(|_| e.is_empty()) else {
            return Err(StoreError::Invalid(e));
        };
        let step = (t.kind == TicketKind::Complaint).then_some(ComplaintStep::Received.as_str());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (customer_id, contact_name, contact_address, kind, category_id, \
             priority, priority_rank, channel, subject, status, queue_id, team_id, severe, \
             complaint_step, order_id, product_sku, waiting_since, created_at, updated_at, \
             created_by, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $11, \
             $12, $13, $14, $15, $16, $16, $16, $17, $17) RETURNING id",
        )
        .bind(t.customer_id)
        .bind(t.contact_name.as_deref())
        .bind(t.contact_address.as_deref())
        .bind(t.kind.as_str())
        .bind(t.category_id)
        .bind(t.priority.as_str())
        .bind(t.priority.rank())
        .bind(t.channel.as_str())
        .bind(t.subject.as_str())
        .bind(queue_id)
        .bind(team_id)
        .bind(t.severe)
        .bind(step)
        .bind(t.order_id)
        .bind(t.product_sku.as_deref())
        .bind(now_ms)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(body) = &t.body {
            sqlx::query(
                "INSERT INTO ticket_messages (ticket_id, kind, body, user_id, created_at) \
                 VALUES ($1, 'customer', $2, NULL, $3)",
            )
            .bind(id)
            .bind(body.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        log_event(
            &mut tx,
            id,
            t.customer_id,
            now,
            "opened",
            Some(t.channel.as_str()),
            actor.user_id(),
        )
        .await?;
        audit_ticket(
            &mut tx,
            actor,
            "create",
            id,
            json!({"customer_id": t.customer_id, "kind": t.kind.as_str(), "subject": t.subject,
                   "queue_id": queue_id, "severe": t.severe}),
        )
        .await?;
        write_values_in(&mut tx, actor, "ticket", id, custom).await?;
        apply_sla(&mut tx, id, now).await?;
        route_waiting(&mut tx, self.backend(), queue_id, now).await?;
        if t.severe && t.kind == TicketKind::Complaint {
            escalate(&mut tx, id, now, "severe").await?;
        }
        tx.commit().await?;
        self.ticket(&Actor::system(), id).await
    }

    /// Changes a ticket's status, priority, category, severity, complaint step, remedy or
    /// resolution, with optimistic locking: every move is checked against the life cycle and
    /// the complaint procedure, logged in the history, and re-runs the SLA clock.
    pub async fn update_ticket(&self, actor: &Actor, id: i64, p: TicketPatch) -> Result<Ticket> {
        let current = self.ticket(actor, id).await?;
        fresh(&current, p.version)?;
        let now = Utc::now();
        let now_ms = to_ms(now);
        let mut tx = self.begin_write().await?;
        let reopen_days = setup::reopen_days(&mut tx).await?;
        let mut e = ValidationErrors::new();
        let is_complaint = current.kind == TicketKind::Complaint;

        let step = match p.complaint_step {
            Some(_) if !is_complaint => {
                e.push("complaint_step", "not_a_complaint");
                current.complaint_step
            }
            Some(s) if Some(s) == current.complaint_step => current.complaint_step,
            Some(s) => {
                let from = current.complaint_step.unwrap_or(ComplaintStep::Received);
                if !from.next().contains(&s) {
                    e.push("complaint_step", "transition_not_allowed");
                }
                Some(s)
            }
            None => current.complaint_step,
        };
        let remedy = p.remedy_kind.or(current.remedy_kind);
        if step == Some(ComplaintStep::RemedyProposed) && remedy.is_none() {
            e.push("remedy_kind", "required");
        }
        let status = p.status.unwrap_or(current.status);
        if status != current.status {
            let change = StatusChange {
                from: current.status,
                to: status,
                closed_at: current.closed_at,
                has_resolution: p.resolution_code.or(current.resolution_code).is_some(),
                complaint_step: if is_complaint { step } else { None },
                reopen_days,
            };
            if let Err(errs) = check_status_change(&change, now) {
                e.0.extend(errs.0);
            }
        }
        if let Some(cat) = p.category_id {
            if !category_is_active(&mut tx, cat).await? {
                e.push("category_id", "invalid_reference");
            }
        }
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        // Closing archives a complaint (投诉档案).
        let step = if status == TicketStatus::Closed && is_complaint {
            Some(ComplaintStep::Archived)
        } else {
            step
        };
        let reopened = current.status.is_done() && !status.is_done();
        let priority = p.priority.unwrap_or(current.priority);
        let severe = p.severe.unwrap_or(current.severe);
        let n = sqlx::query(
            "UPDATE tickets SET status = $1, priority = $2, priority_rank = $3, category_id = $4, \
             severe = $5, complaint_step = $6, remedy_kind = $7, \
             remedy_detail = COALESCE($8, remedy_detail), \
             remedy_amount_minor = COALESCE($9, remedy_amount_minor), \
             resolution_code = $10, resolution_text = COALESCE($11, resolution_text), \
             resolved_at = CASE WHEN $1 = 'resolved' AND status <> 'resolved' THEN $12 \
                                WHEN $1 IN ('resolved', 'closed') THEN resolved_at ELSE NULL END, \
             closed_at = CASE WHEN $1 = 'closed' THEN $12 ELSE NULL END, \
             reopen_count = reopen_count + $13, \
             version = version + 1, updated_at = $12, updated_by = $14 \
             WHERE id = $15 AND version = $16",
        )
        .bind(status.as_str())
        .bind(priority.as_str())
        .bind(priority.rank())
        .bind(p.category_id.or(current.category_id))
        .bind(severe)
        .bind(step.map(ComplaintStep::as_str))
        .bind(remedy.map(|r| r.as_str()))
        .bind(p.remedy_detail.as_deref())
        .bind(p.remedy_amount_minor)
        .bind(
            p.resolution_code
                .or(current.resolution_code)
                .map(|r| r.as_str()),
        )
        .bind(p.resolution_text.as_deref())
        .bind(now_ms)
        .bind(i64::from(reopened))
        .bind(actor.user_id())
        .bind(id)
        .bind(p.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(conflict(&current));
        }
        let user = actor.user_id();
        let customer = current.customer_id;
        if status != current.status {
            set_pause(&mut tx, id, current.status, status, now_ms).await?;
            let detail = format!("{}>{}", current.status, status);
            let action = if reopened { "reopened" } else { "status" };
            log_event(&mut tx, id, customer, now, action, Some(&detail), user).await?;
        }
        if step != current.complaint_step {
            if let Some(s) = step {
                log_event(
                    &mut tx,
                    id,
                    customer,
                    now,
                    "complaint_step",
                    Some(s.as_str()),
                    user,
                )
                .await?;
            }
        }
        if p.remedy_kind.is_some() || p.remedy_detail.is_some() || p.remedy_amount_minor.is_some() {
            let detail = remedy.map(|r| r.as_str().to_string()).unwrap_or_default();
            log_event(&mut tx, id, customer, now, "remedy", Some(&detail), user).await?;
        }
        if priority != current.priority {
            log_event(
                &mut tx,
                id,
                customer,
                now,
                "priority",
                Some(priority.as_str()),
                user,
            )
            .await?;
        }
        audit_ticket(
            &mut tx,
            actor,
            "update",
            id,
            serde_json::to_value(&p).unwrap_or_default(),
        )
        .await?;
        let found = apply_sla(&mut tx, id, now).await?;
        escalate_breaches(&mut tx, id, current.kind.as_str(), found, now).await?;
        if severe && !current.severe && is_complaint && current.escalation_level == 0 {
            escalate(&mut tx, id, now, "severe").await?;
        }
        if status.is_done() && !current.status.is_done() {
            route_waiting(&mut tx, self.backend(), current.queue_id, now).await?;
        }
        tx.commit().await?;
        self.ticket(&Actor::system(), id).await
    }

    /// Adds a message or a note to a ticket's thread. An agent's reply is the first response
    /// (and takes an unassigned ticket); a customer's message reopens a resolved ticket, or a
    /// closed one within the reopen window; after the window it opens a new ticket linked to
    /// the old one. Returns the ticket the message landed on.
    pub async fn add_ticket_message(
        &self,
        actor: &Actor,
        id: i64,
        kind: MessageKind,
        body: &str,
        files: &[ValidAttachment],
    ) -> Result<Ticket> {
        let current = self.ticket(actor, id).await?;
        let now = Utc::now();
        let now_ms = to_ms(now);
        let mut tx = self.begin_write().await?;
        let reopen_days = setup::reopen_days(&mut tx).await?;
        let user = actor.user_id();
        let customer = current.customer_id;
        let late = kind == MessageKind::Customer
            && current.status == TicketStatus::Closed
            && !current
                .closed_at
                .is_some_and(|c| guanxi_domain::ticket::status::may_reopen(c, now, reopen_days));
        let target = if late {
            follow_up(&mut tx, &current, now_ms, user).await?
        } else {
            id
        };
        let message: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_messages (ticket_id, kind, body, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(target)
        .bind(kind.as_str())
        .bind(body)
        .bind(if kind == MessageKind::Customer {
            None
        } else {
            user
        })
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        attachments::insert(&mut tx, target, message, files, user, now).await?;
        if !late {
            let next = match (kind, current.status) {
                (MessageKind::Customer, s) if s.is_done() || s == TicketStatus::PendingCustomer => {
                    TicketStatus::Open
                }
                (MessageKind::Reply, TicketStatus::New) => TicketStatus::Open,
                (_, s) => s,
            };
            let reopened = current.status.is_done() && !next.is_done();
            sqlx::query(
                "UPDATE tickets SET status = $1, \
                 first_response_at = CASE WHEN $2 = 'reply' THEN COALESCE(first_response_at, $3) \
                                          ELSE first_response_at END, \
                 resolved_at = CASE WHEN $4 = 1 THEN NULL ELSE resolved_at END, \
                 closed_at = CASE WHEN $4 = 1 THEN NULL ELSE closed_at END, \
                 reopen_count = reopen_count + $4, \
                 version = version + 1, updated_at = $3, updated_by = $5 WHERE id = $6",
            )
            .bind(next.as_str())
            .bind(kind.as_str())
            .bind(now_ms)
            .bind(i64::from(reopened))
            .bind(user)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if next != current.status {
                set_pause(&mut tx, id, current.status, next, now_ms).await?;
                let detail = format!("{}>{}", current.status, next);
                let action = if reopened { "reopened" } else { "status" };
                log_event(&mut tx, id, customer, now, action, Some(&detail), user).await?;
            }
            if kind == MessageKind::Reply && current.assignee_id.is_none() {
                if let Some(me) = user {
                    assign(&mut tx, id, me, user, "replied", now).await?;
                }
            }
        }
        let action = match kind {
            MessageKind::Customer => "customer_message",
            MessageKind::Reply => "replied",
            MessageKind::Note => "note",
        };
        log_event(
            &mut tx,
            target,
            customer,
            now,
            action,
            Some(&excerpt(body)),
            user,
        )
        .await?;
        audit_ticket(
            &mut tx,
            actor,
            "message",
            target,
            json!({
                "kind": kind.as_str(),
                "files": files.iter().map(|f| &f.file_name).collect::<Vec<_>>(),
            }),
        )
        .await?;
        let found = apply_sla(&mut tx, target, now).await?;
        escalate_breaches(&mut tx, target, current.kind.as_str(), found, now).await?;
        tx.commit().await?;
        self.ticket(&Actor::system(), target).await
    }

    /// Gives a ticket to an agent or takes it back to the queue (a lead's or manager's move).
    pub async fn reassign_ticket(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        assignee: Option<i64>,
    ) -> Result<Ticket> {
        let current = self.ticket(actor, id).await?;
        fresh(&current, version)?;
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        crate::users::check_active_user(&mut tx, "assignee_id", assignee).await?;
        let n = sqlx::query(
            "UPDATE tickets SET assignee_id = NULL, \
             waiting_since = CASE WHEN status IN ('resolved', 'closed') THEN NULL ELSE $1 END, \
             version = version + 1, updated_at = $1, updated_by = $2 \
             WHERE id = $3 AND version = $4",
        )
        .bind(to_ms(now))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(conflict(&current));
        }
        match assignee {
            Some(a) => {
                assign(&mut tx, id, a, actor.user_id(), "assigned", now).await?;
            }
            None => {
                log_event(
                    &mut tx,
                    id,
                    current.customer_id,
                    now,
                    "unassigned",
                    None,
                    actor.user_id(),
                )
                .await?;
            }
        }
        audit_ticket(
            &mut tx,
            actor,
            "assign",
            id,
            json!({"assignee_id": assignee}),
        )
        .await?;
        tx.commit().await?;
        self.ticket(&Actor::system(), id).await
    }

    /// Links an unidentified contact's ticket to a customer; its history joins their timeline.
    pub async fn link_ticket_customer(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        customer: i64,
    ) -> Result<Ticket> {
        let current = self.ticket(actor, id).await?;
        let mut tx = self.begin_write().await?;
        if matches!(
            load_row(&mut tx, actor, customer).await,
            Err(StoreError::NotFound)
        ) {
            return Err(StoreError::invalid("customer_id", "invalid_reference"));
        }
        let now = Utc::now();
        let n = sqlx::query(
            "UPDATE tickets SET customer_id = $1, version = version + 1, updated_at = $2, \
             updated_by = $3 WHERE id = $4 AND version = $5",
        )
        .bind(customer)
        .bind(to_ms(now))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(conflict(&current));
        }
        sqlx::query("UPDATE ticket_events SET customer_id = $1 WHERE ticket_id = $2")
            .bind(customer)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(old) = current.customer_id {
            let refs: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM ticket_events WHERE ticket_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            crate::events::repoint(&mut tx, TICKET_EVENTS.kind, &refs, old, customer).await?;
        }
        log_event(
            &mut tx,
            id,
            Some(customer),
            now,
            "linked",
            None,
            actor.user_id(),
        )
        .await?;
        project(&mut tx, &TICKET_EVENTS, Rows::Customer(customer)).await?;
        audit_ticket(&mut tx, actor, "link", id, json!({"customer_id": customer})).await?;
        apply_sla(&mut tx, id, now).await?;
        tx.commit().await?;
        self.ticket(&Actor::system(), id).await
    }
}

/// Opens and closes the pause history as a ticket enters and leaves pending-customer.
async fn set_pause(
    conn: &mut AnyConnection,
    ticket: i64,
    from: TicketStatus,
    to: TicketStatus,
    now_ms: i64,
) -> Result<()> {
    if from == TicketStatus::PendingCustomer && to != TicketStatus::PendingCustomer {
        sqlx::query(
            "UPDATE ticket_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL",
        )
        .bind(now_ms)
        .bind(ticket)
        .execute(&mut *conn)
        .await?;
    }
    if to == TicketStatus::PendingCustomer && from != TicketStatus::PendingCustomer {
        sqlx::query("INSERT INTO ticket_pauses (ticket_id, started_at) VALUES ($1, $2)")
            .bind(ticket)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A new ticket for a customer's reply after the reopen window, linked to the old one.
async fn follow_up(
    conn: &mut AnyConnection,
    old: &Ticket,
    now_ms: i64,
    user: Option<i64>,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tickets (customer_id, contact_name, contact_address, kind, category_id, \
         priority, priority_rank, channel, subject, status, queue_id, team_id, complaint_step, \
         order_id, product_sku, parent_id, waiting_since, created_at, updated_at, created_by, \
         updated_by) SELECT customer_id, contact_name, contact_address, kind, category_id, \
         priority, priority_rank, channel, subject, 'new', queue_id, team_id, \
         CASE WHEN kind = 'complaint' THEN 'received' ELSE NULL END, order_id, product_sku, id, \
         $1, $1, $1, $2, $2 FROM tickets WHERE id = $3 RETURNING id",
    )
    .bind(now_ms)
    .bind(user)
    .bind(old.id)
    .fetch_one(&mut *conn)
    .await?;
    let detail = format!("#{}", old.id);
    log_event(
        conn,
        id,
        old.customer_id,
        from_ms(now_ms),
        "opened",
        Some(&detail),
        user,
    )
    .await?;
    Ok(id)
}
