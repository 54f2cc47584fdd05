//! The service desk's use cases: open, read, list, answer and move tickets; take the next one
//! from the queue; set an agent's presence; run the queues; and the SLA sweep the worker runs.
//! Each checks the role's allow-list first, then validates, then calls the store (which writes
//! the audit entry with the change).

use chrono::Utc;
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::ticket::attachment::{check_attachments, TicketAttachment};
use guanxi_domain::ticket::records::{
    AgentState, Call, CallPop, NamedCalendar, ServiceQueue, SlaPolicy, Ticket, TicketCategory,
    TicketDetail,
};
use guanxi_domain::ticket::routing::{AgentStatus, RoutingMode};
use guanxi_domain::ticket::{check_message, MessageKind, NewCall, NewTicket, TicketPatch};
use guanxi_domain::ValidationErrors;
use guanxi_store::ticket::metrics::ServiceMetrics;
use guanxi_store::ticket::{TicketFilter, TicketPage};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

pub mod admin;

/// The SLA sweep's job kind: records breaches as time passes and escalates complaints.
pub const SLA_SWEEP_JOB: &str = "tickets.sla_sweep";

/// Longest queue name.
const MAX_QUEUE_NAME: usize = 100;
/// Most skills on a queue or an agent, and the longest one.
const MAX_SKILLS: usize = 20;
const MAX_SKILL: usize = 40;

/// Opens a ticket (an agent on the phone, the API, the phone system's screen pop) with its
/// custom fields (the required ones must be given); every problem named in one answer.
pub async fn open_ticket(store: &Store, actor: &Actor, t: NewTicket) -> Result<Ticket, AppError> {
    require(actor, Permission::WorkTickets)?;
    let mut t = t;
    let values = std::mem::take(&mut t.custom);
    let cat = crate::custom_field::catalogue(store, FieldEntity::Ticket).await?;
    let (t, custom) = ValidationErrors::both(
        t.validate(),
        crate::custom_field::checked_changes(actor, &cat, None, &values, None),
    )?;
    Ok(store.create_ticket_with(actor, t, &custom).await?)
}

/// A ticket with its thread and history.
pub async fn read_ticket(store: &Store, actor: &Actor, id: i64) -> Result<TicketDetail, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.ticket_detail(actor, id).await?)
}

/// One page of the tickets the actor may see, with their custom values.
pub async fn list_tickets(
    store: &Store,
    actor: &Actor,
    f: &TicketFilter,
) -> Result<TicketPage, AppError> {
    require(actor, Permission::ReadTickets)?;
    let mut page = store.list_tickets(actor, f).await?;
    crate::custom_field::fill_list(
        store,
        actor,
        FieldEntity::Ticket,
        &mut page.items,
        |t| t.id,
        |t, v| t.custom = v,
    )
    .await?;
    Ok(page)
}

/// Moves a ticket (status, priority, category, complaint step, remedy, resolution).
pub async fn change_ticket(
    store: &Store,
    actor: &Actor,
    id: i64,
    p: TicketPatch,
) -> Result<Ticket, AppError> {
    require(actor, Permission::WorkTickets)?;
    let p = p.validate()?;
    Ok(store.update_ticket(actor, id, p).await?)
}

/// Adds a reply, a note, or a customer's message (recorded by the agent or sent by a channel),
/// with up to three files (`(name, bytes)`). A message of files alone needs no text. Every
/// file is checked against the allow-list and the desk's size limit before anything is
/// written: one refused file keeps the whole message out.
pub async fn post_message(
    store: &Store,
    actor: &Actor,
    id: i64,
    kind: MessageKind,
    body: &str,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Ticket, AppError> {
    require(actor, Permission::WorkTickets)?;
    let mut e = ValidationErrors::new();
    let body = if files.is_empty() || !body.trim().is_empty() {
        match check_message(body) {
            Ok(body) => body,
            Err(problems) => {
                e.0.extend(problems.0);
                String::new()
            }
        }
    } else {
        String::new()
    };
    let files = if files.is_empty() {
        Vec::new()
    } else {
        let max_kb = store.service_settings().await?.attachment_max_kb;
        match check_attachments(files, max_kb) {
            Ok(files) => files,
            Err(problems) => {
                e.0.extend(problems.0);
                Vec::new()
            }
        }
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store
        .add_ticket_message(actor, id, kind, &body, &files)
        .await?)
}

/// One file of a ticket, with its bytes, for a user who may read the ticket; the read is
/// audited.
pub async fn attachment(
    store: &Store,
    actor: &Actor,
    ticket: i64,
    id: i64,
) -> Result<(TicketAttachment, Vec<u8>), AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.ticket_attachment(actor, ticket, id).await?)
}

/// "Take next": the oldest, most urgent ticket the agent is skilled for.
pub async fn take_next(store: &Store, actor: &Actor) -> Result<Option<i64>, AppError> {
    require(actor, Permission::WorkTickets)?;
    Ok(store.take_next_ticket(actor).await?)
}

/// Assigns a ticket. Taking it oneself needs only `WorkTickets`; giving it to someone else or
/// back to the queue is the desk manager's move.
pub async fn assign_ticket(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    assignee: Option<i64>,
) -> Result<Ticket, AppError> {
    require(actor, Permission::WorkTickets)?;
    if assignee != Some(actor.id) && !may_reassign(store, actor, id).await? {
        return Err(AppError::Forbidden);
    }
    Ok(store.reassign_ticket(actor, id, version, assignee).await?)
}

/// Whether the actor may hand a ticket to someone else or back to the queue: the desk's
/// managers, and the lead of the team the ticket is filed under.
pub async fn may_reassign(store: &Store, actor: &Actor, id: i64) -> Result<bool, AppError> {
    if actor.can(Permission::ManageServiceDesk) {
        return Ok(true);
    }
    Ok(actor.can(Permission::WorkTickets) && store.leads_ticket_team(actor.id, id).await?)
}

/// Links an unidentified contact's ticket to a customer the actor can see.
pub async fn link_customer(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    customer: i64,
) -> Result<Ticket, AppError> {
    require(actor, Permission::WorkTickets)?;
    require(actor, Permission::ReadCustomers)?;
    Ok(store
        .link_ticket_customer(actor, id, version, customer)
        .await?)
}

fn check_skills(e: &mut ValidationErrors, skills: &[String]) -> Vec<String> {
    if skills.len() > MAX_SKILLS {
        e.push("skills", "too_many");
    }
    let mut out: Vec<String> = Vec::new();
    for s in skills {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if s.chars().count() > MAX_SKILL || s.contains(',') || s.chars().any(char::is_control) {
            e.push("skills", "invalid_characters");
        } else if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// Sets the actor's own presence (available, away, offline).
pub async fn set_presence(
    store: &Store,
    actor: &Actor,
    status: AgentStatus,
) -> Result<AgentState, AppError> {
    require(actor, Permission::WorkTickets)?;
    Ok(store
        .set_agent_state(actor, actor.id, status, None, None)
        .await?)
}

/// Sets an agent's presence, capacity and skills (desk manager).
pub async fn set_agent(
    store: &Store,
    actor: &Actor,
    user: i64,
    status: AgentStatus,
    capacity: Option<i64>,
    skills: Option<Vec<String>>,
) -> Result<AgentState, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let mut e = ValidationErrors::new();
    let skills = skills.map(|s| check_skills(&mut e, &s));
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store
        .set_agent_state(actor, user, status, capacity, skills.as_deref())
        .await?)
}

/// The actor's own presence and load.
pub async fn my_state(store: &Store, actor: &Actor) -> Result<AgentState, AppError> {
    require(actor, Permission::WorkTickets)?;
    Ok(store.agent_state(actor.id).await?)
}

/// Every agent's presence and load (the supervisor's wall).
pub async fn agents(store: &Store, actor: &Actor) -> Result<Vec<AgentState>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.agent_states().await?)
}

/// Every queue with its members and waiting count.
pub async fn queues(store: &Store, actor: &Actor) -> Result<Vec<ServiceQueue>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.service_queues().await?)
}

/// Creates a queue.
pub async fn create_queue(
    store: &Store,
    actor: &Actor,
    name: &str,
    team_id: Option<i64>,
    skills: &[String],
    routing: RoutingMode,
) -> Result<i64, AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    let mut e = ValidationErrors::new();
    let name = name.trim();
    if name.is_empty() {
        e.push("name", "required");
    } else if name.chars().count() > MAX_QUEUE_NAME {
        e.push("name", "too_long");
    }
    let skills = check_skills(&mut e, skills);
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store
        .create_queue(actor, name, team_id, &skills, routing)
        .await?)
}

/// Adds an agent to a queue.
pub async fn add_queue_member(
    store: &Store,
    actor: &Actor,
    queue: i64,
    user: i64,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    Ok(store.add_queue_member(actor, queue, user).await?)
}

/// Names a team's lead (the first step of a complaint's escalation).
pub async fn set_team_lead(
    store: &Store,
    actor: &Actor,
    team: i64,
    lead: Option<i64>,
) -> Result<(), AppError> {
    require(actor, Permission::ManageServiceDesk)?;
    Ok(store.set_team_lead(actor, team, lead).await?)
}

/// The category tree.
pub async fn categories(store: &Store, actor: &Actor) -> Result<Vec<TicketCategory>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.ticket_categories().await?)
}

/// The SLA policies in evaluation order.
pub async fn sla_policies(store: &Store, actor: &Actor) -> Result<Vec<SlaPolicy>, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.sla_policies().await?)
}

/// A business calendar with its holidays and make-up working days.
pub async fn calendar(store: &Store, actor: &Actor, id: i64) -> Result<NamedCalendar, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store.business_calendar(id).await?)
}

/// The screen pop: the phone system reports a call ringing at an agent (the caller of the API
/// when no agent is named). The number is identified among the customers the agent may see;
/// exactly one exact match is linked to the call, several are offered, none offers a new
/// customer with the number.
pub async fn screen_pop(store: &Store, actor: &Actor, c: NewCall) -> Result<CallPop, AppError> {
    require(actor, Permission::WorkTickets)?;
    let c = c.validate()?;
    let agent_id = c.agent_id.unwrap_or(actor.id);
    if agent_id != actor.id {
        // Announcing a call for somebody else is the phone system's integration account.
        require(actor, Permission::ManageServiceDesk)?;
    }
    let agent = match store.get_user(agent_id).await {
        Ok(u) if u.active => u,
        _ => return Err(ValidationErrors::single("agent_id", "invalid_reference").into()),
    };
    let agent_actor = Actor::for_user(&agent);
    let candidates: Vec<_> = if agent_actor.can(Permission::ReadCustomers) {
        store
            .identify(&agent_actor, &c.caller, 5)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.matched_on.starts_with("phone"))
            .collect()
    } else {
        Vec::new()
    };
    let exact: Vec<i64> = candidates
        .iter()
        .filter(|h| h.score >= 100)
        .map(|h| h.customer_id)
        .collect();
    let customer = (exact.len() == 1).then(|| exact[0]);
    let call = store.open_call(actor, &c, agent_id, customer).await?;
    Ok(CallPop { call, candidates })
}

/// What pops on the agent's own screen now (the newest call still ringing or in progress).
pub async fn my_pop(store: &Store, actor: &Actor) -> Result<Option<CallPop>, AppError> {
    require(actor, Permission::WorkTickets)?;
    let Some(call) = store.current_call(actor.id).await? else {
        return Ok(None);
    };
    let candidates = if call.customer_id.is_none() && actor.can(Permission::ReadCustomers) {
        store
            .identify(actor, &call.caller, 5)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.matched_on.starts_with("phone"))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(CallPop { call, candidates }))
}

/// The agent answers a call popping on their screen.
pub async fn answer_call(store: &Store, actor: &Actor, id: i64) -> Result<Call, AppError> {
    require(actor, Permission::WorkTickets)?;
    let all = actor.can(Permission::ManageServiceDesk);
    store.call(actor, id, all).await?;
    Ok(store.answer_call(actor, id).await?)
}

/// The call ends: talk time, the ticket and customer it was about, and a phone interaction on
/// the customer's timeline (subject in the agent's language).
pub async fn end_call(
    store: &Store,
    actor: &Actor,
    id: i64,
    ticket: Option<i64>,
    customer: Option<i64>,
    subject: &str,
) -> Result<Call, AppError> {
    require(actor, Permission::WorkTickets)?;
    let all = actor.can(Permission::ManageServiceDesk);
    store.call(actor, id, all).await?;
    let mut e = ValidationErrors::new();
    if let Some(t) = ticket {
        if store.ticket(actor, t).await.is_err() {
            e.push("ticket_id", "invalid_reference");
        }
    }
    if let Some(c) = customer {
        if !store.customer_visible(actor, c).await? {
            e.push("customer_id", "invalid_reference");
        }
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    Ok(store.end_call(actor, id, ticket, customer, subject).await?)
}

/// The desk's figures for a period, over the tickets the actor may see.
/// The desk's figures for a period, over the tickets the actor may see; days are cut at the
/// shop's local midnight (`utc_offset_hours`), as the daily rollup is.
pub async fn metrics(
    store: &Store,
    actor: &Actor,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
    utc_offset_hours: i64,
) -> Result<ServiceMetrics, AppError> {
    require(actor, Permission::ReadTickets)?;
    Ok(store
        .service_metrics(actor, from, to, utc_offset_hours)
        .await?)
}

/// "The last `days` days" as of `now`: today so far and the `days − 1` whole local days
/// before it, cut at the shop's midnight (`utc_offset_hours`), as the daily rollup is.
pub fn last_days(
    days: i64,
    now: chrono::DateTime<Utc>,
    utc_offset_hours: i64,
) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let offset = chrono::Duration::hours(utc_offset_hours);
    let today = (now + offset).date_naive();
    let from = (today - chrono::Duration::days(days.max(1) - 1))
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc() - offset)
        .unwrap_or(now - chrono::Duration::days(days));
    (from, now)
}

/// The daily rollup's job kind: counts the desk's figures per local day.
pub const ROLLUP_JOB: &str = "tickets.rollup";

/// Queues a step of the daily rollup unless one is queued or running (the server's schedule).
pub async fn queue_rollup(store: &Store, utc_offset_hours: i64) -> Result<(), AppError> {
    crate::jobs::queue_system_job(
        store,
        ROLLUP_JOB,
        Some("all"),
        json!({"utc_offset_hours": utc_offset_hours}),
    )
    .await
}

/// One step of the rollup (the worker's handler): how many days it counted and whether more
/// are due.
pub async fn roll_up(store: &Store, utc_offset_hours: i64) -> Result<serde_json::Value, AppError> {
    let (days, more) = store
        .roll_up_service_days(Utc::now(), utc_offset_hours)
        .await?;
    Ok(json!({"days": days, "more": more}))
}

/// Queues the SLA sweep unless one is queued or running (the server's schedule).
pub async fn queue_sla_sweep(store: &Store) -> Result<(), AppError> {
    crate::jobs::queue_system_job(store, SLA_SWEEP_JOB, Some("all"), json!({})).await
}

/// The sweep itself (the worker's handler): breaches recorded, then one routing pass over
/// the queues; how many tickets it looked at and routed, and whether a full batch means it
/// should run again at once.
pub async fn sweep_sla(store: &Store) -> Result<serde_json::Value, AppError> {
    let n = store.sweep_sla(Utc::now()).await?;
    let routed = store.route_all_queues().await?;
    Ok(json!({"tickets": n, "routed": routed,
              "more": n as i64 >= guanxi_store::ticket::clock::SWEEP_BATCH
                  || routed as i64 >= guanxi_store::ticket::queue::ROUTE_BATCH}))
}
