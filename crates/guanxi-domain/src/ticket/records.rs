//! The service desk's records as the store returns them and the API serialises them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::RowMeta;
use crate::ticket::calendar::{BusinessCalendar, DayRule};
use crate::ticket::routing::{AgentStatus, RoutingMode};
use crate::ticket::sla::SlaConditions;
use crate::ticket::{
    ComplaintStep, MessageKind, Priority, RemedyKind, ResolutionCode, TicketKind, TicketStatus,
};
use crate::vocabulary::InteractionChannel;

/// One SLA target on a ticket: when it is due, when it was met, when it was breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TargetState {
    /// Due time (absent while the clock is paused or when the policy sets no target).
    pub due_at: Option<DateTime<Utc>>,
    /// When it was met.
    pub met_at: Option<DateTime<Utc>>,
    /// When it was breached (the due time it passed), kept even after it is met late.
    pub breached_at: Option<DateTime<Utc>>,
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Id.
    pub id: i64,
    /// Customer, once identified.
    pub customer_id: Option<i64>,
    /// The customer's name (for lists), when identified.
    pub customer_name: Option<String>,
    /// Unidentified contact's name.
    pub contact_name: Option<String>,
    /// Unidentified contact's phone or e-mail.
    pub contact_address: Option<String>,
    /// Kind.
    pub kind: TicketKind,
    /// Category.
    pub category_id: Option<i64>,
    /// Priority.
    pub priority: Priority,
    /// Channel it came in on.
    pub channel: InteractionChannel,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: TicketStatus,
    /// Queue.
    pub queue_id: i64,
    /// Team (the queue's).
    pub team_id: Option<i64>,
    /// Agent working it.
    pub assignee_id: Option<i64>,
    /// Severe complaint.
    pub severe: bool,
    /// Complaint procedure step (complaints only).
    pub complaint_step: Option<ComplaintStep>,
    /// Remedy proposed.
    pub remedy_kind: Option<RemedyKind>,
    /// Remedy details.
    pub remedy_detail: Option<String>,
    /// Remedy value in minor units (refund, compensation).
    pub remedy_amount_minor: Option<i64>,
    /// How it ended.
    pub resolution_code: Option<ResolutionCode>,
    /// Resolution text.
    pub resolution_text: Option<String>,
    /// Order it is about.
    pub order_id: Option<i64>,
    /// Product it is about.
    pub product_sku: Option<String>,
    /// The earlier ticket a late reply continued.
    pub parent_id: Option<i64>,
    /// SLA policy applied.
    pub sla_policy_id: Option<i64>,
    /// First response target.
    pub first_response: TargetState,
    /// Next response target (after the customer's latest unanswered message).
    pub next_response: TargetState,
    /// Resolution target.
    pub resolution: TargetState,
    /// Whether the SLA clock is paused now (pending customer).
    pub paused: bool,
    /// When it started waiting in the queue unassigned.
    pub waiting_since: Option<DateTime<Utc>>,
    /// When an agent first got it.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Times a customer reply reopened it.
    pub reopen_count: i64,
    /// 0 none, 1 team lead, 2 manager.
    pub escalation_level: i64,
    /// Who it was escalated to.
    pub escalated_to: Option<i64>,
    /// Row metadata.
    pub meta: RowMeta,
    /// Custom-field values by field code, as the reader sees them (lists mask sensitive
    /// ones); filled by the ticket list, `GET /tickets/{id}/custom` for one ticket.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
}

/// One message or note on a ticket's thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketMessage {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Customer message, reply, or internal note.
    pub kind: MessageKind,
    /// Text.
    pub body: String,
    /// Author (agents).
    pub user_id: Option<i64>,
    /// Author's display name.
    pub author: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One step in a ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketEvent {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What (`opened`, `assigned`, `status`, `replied`, `escalated`, `breached` …).
    pub action: String,
    /// Details (the new status, the assignee's name, the target breached).
    pub detail: Option<String>,
    /// Who did it.
    pub user_id: Option<i64>,
}

/// A ticket with its thread and history, for the ticket page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketDetail {
    /// The ticket.
    pub ticket: Ticket,
    /// Messages and notes, oldest first.
    pub messages: Vec<TicketMessage>,
    /// History, oldest first.
    pub events: Vec<TicketEvent>,
    /// Files on the thread, oldest first (each names the message it came with).
    pub attachments: Vec<crate::ticket::attachment::TicketAttachment>,
}

/// A node of the admin's category tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketCategory {
    /// Id.
    pub id: i64,
    /// Parent category.
    pub parent_id: Option<i64>,
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Order among siblings.
    pub position: i64,
    /// Offered for new tickets.
    pub active: bool,
}

/// An SLA policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Order of evaluation (first match wins).
    pub position: i64,
    /// Conditions.
    pub conditions: SlaConditions,
    /// First response target in working minutes.
    pub first_response_minutes: Option<i64>,
    /// Next response target in working minutes.
    pub next_response_minutes: Option<i64>,
    /// Resolution target in working minutes.
    pub resolution_minutes: Option<i64>,
    /// Business calendar.
    pub calendar_id: i64,
    /// In use.
    pub active: bool,
}

/// A business calendar with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NamedCalendar {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hours and dated exceptions.
    pub calendar: BusinessCalendar,
    /// The dated exceptions with their festival and whether they are provisional.
    pub days: Vec<CalendarDay>,
}

/// One dated exception as listed for the admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarDay {
    /// Date.
    pub day: chrono::NaiveDate,
    /// Holiday or make-up working day.
    pub rule: DayRule,
    /// Festival code.
    pub festival: Option<String>,
    /// Not yet confirmed by the official notice.
    pub provisional: bool,
}

/// A queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceQueue {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Team that works it.
    pub team_id: Option<i64>,
    /// Skills an agent needs to get its tickets.
    pub skills: Vec<String>,
    /// How tickets are handed out.
    pub routing: RoutingMode,
    /// Where tickets without a queue go.
    pub is_default: bool,
    /// Member agents.
    pub members: Vec<i64>,
    /// Tickets waiting unassigned.
    pub waiting: i64,
}

/// An agent's presence and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentState {
    /// User.
    pub user_id: i64,
    /// Display name.
    pub name: String,
    /// Presence.
    pub status: AgentStatus,
    /// Most open tickets at once.
    pub capacity: i64,
    /// Skills.
    pub skills: Vec<String>,
    /// Open tickets now.
    pub open: i64,
}

/// A call from (or to) the phone system, for the screen pop and the call log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    /// Id.
    pub id: i64,
    /// The number as the phone system sent it.
    pub caller: String,
    /// Inbound or outbound.
    pub direction: crate::vocabulary::InteractionDirection,
    /// The agent whose phone rang.
    pub agent_id: Option<i64>,
    /// The customer the number identified (exactly one match), or the one linked later.
    pub customer_id: Option<i64>,
    /// That customer's name.
    pub customer_name: Option<String>,
    /// The ticket the call was about.
    pub ticket_id: Option<i64>,
    /// The phone system's own call id.
    pub external_id: Option<String>,
    /// When it started ringing.
    pub started_at: DateTime<Utc>,
    /// When the agent answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Talk time in seconds (from answer, or from start when never answered).
    pub duration_s: Option<i64>,
}

/// What an agent's screen pops for a call: the call and who the number may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallPop {
    /// The call.
    pub call: Call,
    /// Customers the number matches, best first (empty: offer a new customer).
    pub candidates: Vec<crate::records::IdentifyHit>,
}
