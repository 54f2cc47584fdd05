//! Ticket rows as the database returns them, and their conversion into domain records.

use guanxi_domain::ticket::records::{TargetState, Ticket};
use guanxi_domain::ticket::{
    ComplaintStep, Priority, RemedyKind, ResolutionCode, TicketKind, TicketStatus,
};
use guanxi_domain::vocabulary::InteractionChannel;

use crate::db::from_ms;
use crate::error::Result;
use crate::rows::{code, meta, Flag};

/// Columns matching [`TicketRow`], for `SELECT … FROM tickets t LEFT JOIN customers c`.
pub(crate) const TICKET_COLUMNS: &str = "t.id, t.customer_id, c.name AS customer_name, \
    t.contact_name, t.contact_address, t.kind, t.category_id, t.priority, t.channel, t.subject, \
    t.status, t.queue_id, t.team_id, t.assignee_id, t.severe, t.complaint_step, t.remedy_kind, \
    t.remedy_detail, t.remedy_amount_minor, t.resolution_code, t.resolution_text, t.order_id, \
    t.product_sku, t.parent_id, t.sla_policy_id, t.first_response_due, t.first_response_at, \
    t.first_response_breached_at, t.next_response_due, t.next_response_breached_at, \
    t.resolution_due, t.resolution_breached_at, t.paused_remaining_s, t.waiting_since, \
    t.first_assigned_at, t.resolved_at, t.closed_at, t.reopen_count, t.escalation_level, \
    t.escalated_to, t.version, t.created_at, t.updated_at, t.created_by, t.updated_by";

/// The `FROM` clause [`TICKET_COLUMNS`] reads.
pub(crate) const TICKET_FROM: &str =
    " FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id";

#[derive(sqlx::FromRow)]
pub(crate) struct TicketRow {
    pub(crate) id: i64,
    pub(crate) customer_id: Option<i64>,
    customer_name: Option<String>,
    contact_name: Option<String>,
    contact_address: Option<String>,
    pub(crate) kind: String,
    pub(crate) category_id: Option<i64>,
    priority: String,
    channel: String,
    pub(crate) subject: String,
    pub(crate) status: String,
    pub(crate) queue_id: i64,
    pub(crate) team_id: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    severe: Flag,
    complaint_step: Option<String>,
    remedy_kind: Option<String>,
    remedy_detail: Option<String>,
    remedy_amount_minor: Option<i64>,
    resolution_code: Option<String>,
    resolution_text: Option<String>,
    order_id: Option<i64>,
    product_sku: Option<String>,
    parent_id: Option<i64>,
    sla_policy_id: Option<i64>,
    first_response_due: Option<i64>,
    first_response_at: Option<i64>,
    first_response_breached_at: Option<i64>,
    next_response_due: Option<i64>,
    next_response_breached_at: Option<i64>,
    resolution_due: Option<i64>,
    resolution_breached_at: Option<i64>,
    paused_remaining_s: Option<i64>,
    waiting_since: Option<i64>,
    first_assigned_at: Option<i64>,
    resolved_at: Option<i64>,
    pub(crate) closed_at: Option<i64>,
    reopen_count: i64,
    escalation_level: i64,
    escalated_to: Option<i64>,
    pub(crate) version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    pub(crate) updated_by: Option<i64>,
}

fn target(due: Option<i64>, met: Option<i64>, breached: Option<i64>) -> TargetState {
    TargetState {
        due_at: due.map(from_ms),
        met_at: met.map(from_ms),
        breached_at: breached.map(from_ms),
    }
}

fn opt<T>(
    parse: fn(&str) -> std::result::Result<T, &'static str>,
    v: Option<&str>,
    what: &str,
) -> Result<Option<T>> {
    v.map(|s| code(parse, s, what)).transpose()
}

impl TicketRow {
    pub(crate) fn into_record(self) -> Result<Ticket> {
        Ok(Ticket {
            id: self.id,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            contact_name: self.contact_name,
            contact_address: self.contact_address,
            kind: code(TicketKind::parse, &self.kind, "ticket kind")?,
            category_id: self.category_id,
            priority: code(Priority::parse, &self.priority, "ticket priority")?,
            channel: code(InteractionChannel::parse, &self.channel, "ticket channel")?,
            subject: self.subject,
            status: code(TicketStatus::parse, &self.status, "ticket status")?,
            queue_id: self.queue_id,
            team_id: self.team_id,
            assignee_id: self.assignee_id,
            severe: self.severe.into(),
            complaint_step: opt(
                ComplaintStep::parse,
                self.complaint_step.as_deref(),
                "complaint step",
            )?,
            remedy_kind: opt(RemedyKind::parse, self.remedy_kind.as_deref(), "remedy")?,
            remedy_detail: self.remedy_detail,
            remedy_amount_minor: self.remedy_amount_minor,
            resolution_code: opt(
                ResolutionCode::parse,
                self.resolution_code.as_deref(),
                "resolution code",
            )?,
            resolution_text: self.resolution_text,
            order_id: self.order_id,
            product_sku: self.product_sku,
            parent_id: self.parent_id,
            sla_policy_id: self.sla_policy_id,
            first_response: target(
                self.first_response_due,
                self.first_response_at,
                self.first_response_breached_at,
            ),
            next_response: target(self.next_response_due, None, self.next_response_breached_at),
            resolution: target(
                self.resolution_due,
                self.resolved_at,
                self.resolution_breached_at,
            ),
            paused: self.paused_remaining_s.is_some(),
            waiting_since: self.waiting_since.map(from_ms),
            first_assigned_at: self.first_assigned_at.map(from_ms),
            closed_at: self.closed_at.map(from_ms),
            reopen_count: self.reopen_count,
            escalation_level: self.escalation_level,
            escalated_to: self.escalated_to,
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
            custom: Default::default(),
        })
    }
}
