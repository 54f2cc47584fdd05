//! The service desk over the API: tickets (open, list, read, move, answer, assign, link),
//! "take next", agents' presence, queues, and the desk's configuration (categories, SLA
//! policies, business calendars). Use cases: `guanxi_app::ticket`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use guanxi_domain::ticket::records::{
    AgentState, Call, CallPop, NamedCalendar, ServiceQueue, SlaPolicy, Ticket, TicketCategory,
    TicketDetail,
};
use guanxi_domain::ticket::routing::{AgentStatus, RoutingMode};
use guanxi_domain::ticket::{MessageKind, NewCall, NewTicket, TicketKind, TicketPatch};
use guanxi_domain::ValidationErrors;
use guanxi_store::ticket::metrics::ServiceMetrics;
use guanxi_store::ticket::{TicketFilter, TicketState, TicketView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use guanxi_app::ticket as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Open a ticket (enquiry, complaint, service request, suggestion) for a customer or an
/// unidentified contact. It is routed to a free agent of its queue or waits there.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "service", request_body = NewTicket,
    responses((status = 201, body = Ticket), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(t): JsonBody<NewTicket>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::open_ticket(&st.store, &auth.actor, t).await?),
    ))
}

/// Which tickets `GET /tickets` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// `mine` (assigned to me, the default), `waiting` (unassigned in `queue`), `all`.
    pub view: Option<String>,
    /// The queue for `view=waiting`.
    #[param(minimum = 1)]
    pub queue: Option<i64>,
    /// Only this customer's tickets (any view).
    #[param(minimum = 1)]
    pub customer: Option<i64>,
    /// `open` (default), `done`, `breached` (a target breached, still open) or `all`.
    pub state: Option<String>,
    /// Only this kind.
    pub kind: Option<TicketKind>,
    /// Only this category.
    #[param(minimum = 1)]
    pub category: Option<i64>,
    /// Words in the subject or the customer's name.
    pub q: Option<String>,
    /// Most rows (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Custom-field values the tickets must hold, as a JSON object by field code
    /// (`{"device": "router"}`); each ticket carries its values in `custom`.
    pub cf: Option<String>,
}

impl TicketQuery {
    fn filter(self, auth: &Auth) -> Result<TicketFilter, ApiError> {
        let bad =
            |field: &str| ApiError::BadQuery(ValidationErrors::single(field, "unknown_value").0);
        for (field, v) in [("queue", self.queue), ("category", self.category)] {
            if v.is_some_and(|v| v < 1) {
                return Err(ApiError::BadQuery(
                    ValidationErrors::single(field, "out_of_range").0,
                ));
            }
        }
        let view = match (self.customer, self.view.as_deref(), self.queue) {
            (Some(c), _, _) if c > 0 => TicketView::Customer(c),
            (Some(_), _, _) => return Err(bad("customer")),
            (None, None | Some("mine"), _) => TicketView::AssignedTo(auth.user.id),
            (None, Some("waiting"), Some(q)) if q > 0 => TicketView::Waiting(q),
            (None, Some("waiting"), _) => {
                return Err(ApiError::BadQuery(
                    ValidationErrors::single("queue", "required").0,
                ))
            }
            (None, Some("all"), _) => TicketView::All,
            (None, Some(_), _) => return Err(bad("view")),
        };
        let state = match self.state.as_deref() {
            None | Some("open") => TicketState::Open,
            Some("done") => TicketState::Done,
            Some("breached") => TicketState::Breached,
            Some("all") => TicketState::All,
            Some(_) => return Err(bad("state")),
        };
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::BadQuery(
                ValidationErrors::single("offset", "out_of_range").0,
            ));
        }
        Ok(TicketFilter {
            view,
            state,
            kind: self.kind,
            category_id: self.category,
            q: self.q,
            limit: crate::extract::page_limit(self.limit, 50, 200)?,
            offset,
            custom: Vec::new(),
        })
    }
}

/// Tickets the caller may see: mine by default, a queue's waiting work highest priority
/// first, or all. `X-More: true` when another page follows.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "service", params(TicketQuery),
    responses((status = 200, body = Vec<Ticket>, headers(("x-more" = bool, description = "Another page follows"))),
        (status = 400, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<TicketQuery>,
) -> Result<Response, ApiError> {
    let cf = q.cf.clone();
    let mut filter = q.filter(&auth)?;
    filter.custom = crate::features::custom_field::api::list_filters(
        &st,
        &auth.actor,
        guanxi_domain::custom_field::FieldEntity::Ticket,
        cf.as_deref(),
    )
    .await?;
    let page = uc::list_tickets(&st.store, &auth.actor, &filter).await?;
    Ok((
        [(
            axum::http::HeaderName::from_static("x-more"),
            page.more.to_string(),
        )],
        Json(page.items),
    )
        .into_response())
}

/// A ticket with its thread (messages and internal notes) and its history.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "service", params(("id" = i64, Path, description = "Ticket id", minimum = 1)),
    responses((status = 200, body = TicketDetail), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<TicketDetail>, ApiError> {
    Ok(Json(uc::read_ticket(&st.store, &auth.actor, id).await?))
}

/// Move a ticket: status (checked against the life cycle), priority, category, severity,
/// complaint step, remedy, resolution. A stale `version` is 409.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "service", params(("id" = i64, Path, description = "Ticket id", minimum = 1)), request_body = TicketPatch,
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<TicketPatch>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(
        uc::change_ticket(&st.store, &auth.actor, id, p).await?,
    ))
}

/// A message on a ticket's thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// `reply` (to the customer; the first one meets the first-response target), `note`
    /// (internal) or `customer` (the customer's words, recorded or sent by a channel).
    pub kind: MessageKind,
    /// Text.
    pub body: String,
}

/// Add a reply, an internal note or the customer's message. Returns the ticket the message
/// landed on: a customer's reply after the reopen window opens a new, linked ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "service", params(("id" = i64, Path, description = "Ticket id", minimum = 1)), request_body = NewMessage,
    responses((status = 201, body = Ticket), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn message(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(m): JsonBody<NewMessage>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::post_message(&st.store, &auth.actor, id, m.kind, &m.body, Vec::new()).await?),
    ))
}

/// Who a ticket goes to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Version last read.
    pub version: i64,
    /// The agent, or null to put it back in the queue.
    #[schema(minimum = 1)]
    pub assignee_id: Option<i64>,
}

/// Assign a ticket (to oneself with `WorkTickets`; to others or back to the queue with
/// `ManageServiceDesk`).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", tag = "service", params(("id" = i64, Path, description = "Ticket id", minimum = 1)), request_body = Assignment,
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(a): JsonBody<Assignment>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(
        uc::assign_ticket(&st.store, &auth.actor, id, a.version, a.assignee_id).await?,
    ))
}

/// The customer an unidentified contact turned out to be.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerLink {
    /// Version last read.
    pub version: i64,
    /// The customer.
    #[schema(minimum = 1)]
    pub customer_id: i64,
}

/// Link a ticket to a customer; its history joins their timeline.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/customer", tag = "service", params(("id" = i64, Path, description = "Ticket id", minimum = 1)), request_body = CustomerLink,
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(l): JsonBody<CustomerLink>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(
        uc::link_customer(&st.store, &auth.actor, id, l.version, l.customer_id).await?,
    ))
}

/// Take the next ticket: the most urgent, oldest waiting one in the caller's queues that they
/// hold the skills for. 204 when nothing waits; 422 `capacity_reached` when they are full.
#[utoipa::path(post, path = "/api/v1/tickets/take-next", tag = "service",
    responses((status = 200, body = Ticket), (status = 204, description = "Nothing is waiting"), (status = 422, body = ErrorBody)))]
pub async fn take_next(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    match uc::take_next(&st.store, &auth.actor).await? {
        Some(id) => {
            let t = uc::read_ticket(&st.store, &auth.actor, id).await?.ticket;
            Ok(Json(t).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// An agent's presence (and, for the desk manager, capacity and skills).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentUpdate {
    /// Available, away or offline.
    pub status: AgentStatus,
    /// Most open tickets at once (0–1000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub capacity: Option<i64>,
    /// Skills (language, product line, `vip` …).
    #[serde(default)]
    pub skills: Option<Vec<String>>,
}

/// Every agent's presence and load.
#[utoipa::path(get, path = "/api/v1/service/agents", tag = "service",
    responses((status = 200, body = Vec<AgentState>)))]
pub async fn agents(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<AgentState>>, ApiError> {
    Ok(Json(uc::agents(&st.store, &auth.actor).await?))
}

/// Set one's own presence; becoming available routes waiting work to free agents.
#[utoipa::path(put, path = "/api/v1/service/agents/me", tag = "service", request_body = AgentUpdate,
    responses((status = 200, body = AgentState), (status = 422, body = ErrorBody)))]
pub async fn set_me(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(a): JsonBody<AgentUpdate>,
) -> Result<Json<AgentState>, ApiError> {
    if a.capacity.is_some() || a.skills.is_some() {
        return Ok(Json(
            uc::set_agent(
                &st.store,
                &auth.actor,
                auth.user.id,
                a.status,
                a.capacity,
                a.skills,
            )
            .await?,
        ));
    }
    Ok(Json(
        uc::set_presence(&st.store, &auth.actor, a.status).await?,
    ))
}

/// Set an agent's presence, capacity and skills (desk manager).
#[utoipa::path(put, path = "/api/v1/service/agents/{id}", tag = "service", params(("id" = i64, Path, description = "User id", minimum = 1)), request_body = AgentUpdate,
    responses((status = 200, body = AgentState), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_agent(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(a): JsonBody<AgentUpdate>,
) -> Result<Json<AgentState>, ApiError> {
    Ok(Json(
        uc::set_agent(&st.store, &auth.actor, id, a.status, a.capacity, a.skills).await?,
    ))
}

/// Every queue with its members and how many tickets wait in it.
#[utoipa::path(get, path = "/api/v1/service/queues", tag = "service",
    responses((status = 200, body = Vec<ServiceQueue>)))]
pub async fn queues(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ServiceQueue>>, ApiError> {
    Ok(Json(uc::queues(&st.store, &auth.actor).await?))
}

/// A new queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQueue {
    /// Name.
    pub name: String,
    /// The team that works it (its lead is a complaint's first escalation).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    /// Skills an agent needs for its tickets.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Round robin (default), least loaded, or manual ("take next" only).
    #[serde(default)]
    pub routing: Option<RoutingMode>,
}

/// Create a queue (desk manager). Returns the new queue list entry.
#[utoipa::path(post, path = "/api/v1/service/queues", tag = "service", request_body = NewQueue,
    responses((status = 201, body = ServiceQueue), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_queue(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(q): JsonBody<NewQueue>,
) -> Result<(StatusCode, Json<ServiceQueue>), ApiError> {
    let id = uc::create_queue(
        &st.store,
        &auth.actor,
        &q.name,
        q.team_id,
        &q.skills,
        q.routing.unwrap_or(RoutingMode::RoundRobin),
    )
    .await?;
    let all = uc::queues(&st.store, &auth.actor).await?;
    let created = all
        .into_iter()
        .find(|q| q.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A queue member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The agent.
    #[schema(minimum = 1)]
    pub user_id: i64,
}

/// Add an agent to a queue (desk manager).
#[utoipa::path(post, path = "/api/v1/service/queues/{id}/members", tag = "service", params(("id" = i64, Path, description = "Queue id", minimum = 1)), request_body = NewMember,
    responses((status = 204, description = "Added"), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(m): JsonBody<NewMember>,
) -> Result<StatusCode, ApiError> {
    uc::add_queue_member(&st.store, &auth.actor, id, m.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ticket category tree (complaint categories and the rest).
#[utoipa::path(get, path = "/api/v1/service/categories", tag = "service",
    responses((status = 200, body = Vec<TicketCategory>)))]
pub async fn categories(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<TicketCategory>>, ApiError> {
    Ok(Json(uc::categories(&st.store, &auth.actor).await?))
}

/// SLA policies in evaluation order (first match wins).
#[utoipa::path(get, path = "/api/v1/service/sla-policies", tag = "service",
    responses((status = 200, body = Vec<SlaPolicy>)))]
pub async fn sla_policies(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SlaPolicy>>, ApiError> {
    Ok(Json(uc::sla_policies(&st.store, &auth.actor).await?))
}

/// A business calendar: weekly hours, holidays and make-up working days (调休).
#[utoipa::path(get, path = "/api/v1/service/calendars/{id}", tag = "service", params(("id" = i64, Path, description = "Calendar id", minimum = 1)),
    responses((status = 200, body = NamedCalendar), (status = 404, body = ErrorBody)))]
pub async fn calendar(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<NamedCalendar>, ApiError> {
    Ok(Json(uc::calendar(&st.store, &auth.actor, id).await?))
}

/// The period of the desk's figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Start (default: local midnight 29 days before today, so "the last 30 days" are today
    /// and 29 whole days; 30 days before `to` when `to` is given).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// End, exclusive (default: now).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// The desk's figures for a period: volume by channel and kind, wait, first response and
/// handle times, first-contact resolution, reopen rate, SLA attainment, backlog, per agent,
/// and the complaint rate per 1,000 orders overall and per category.
#[utoipa::path(get, path = "/api/v1/service/metrics", tag = "service", params(MetricsQuery),
    responses((status = 200, body = ServiceMetrics), (status = 400, body = ErrorBody)))]
pub async fn metrics(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<MetricsQuery>,
) -> Result<Json<ServiceMetrics>, ApiError> {
    let (last_30_from, now) = uc::last_days(30, chrono::Utc::now(), st.utc_offset_hours);
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(if q.to.is_none() {
        last_30_from
    } else {
        to - chrono::Duration::days(30)
    });
    if from >= to {
        return Err(ApiError::BadQuery(
            ValidationErrors::single("from", "out_of_range").0,
        ));
    }
    Ok(Json(
        uc::metrics(&st.store, &auth.actor, from, to, st.utc_offset_hours).await?,
    ))
}

/// Screen pop: the phone system reports a call ringing at an agent (`agent_id`, or the caller
/// of the API). The number is identified among the agent's customers; the agent's desk shows
/// the pop within seconds. Reporting the same `external_id` again returns the same call.
#[utoipa::path(post, path = "/api/v1/calls", tag = "service", request_body = NewCall,
    responses((status = 201, body = CallPop), (status = 422, body = ErrorBody)))]
pub async fn open_call(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(c): JsonBody<NewCall>,
) -> Result<(StatusCode, Json<CallPop>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::screen_pop(&st.store, &auth.actor, c).await?),
    ))
}

/// What pops on the caller's own screen now: the newest call ringing or in progress. 204 when
/// there is none.
#[utoipa::path(get, path = "/api/v1/calls/pop", tag = "service",
    responses((status = 200, body = CallPop), (status = 204, description = "No call")))]
pub async fn pop(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    Ok(match uc::my_pop(&st.store, &auth.actor).await? {
        Some(p) => Json(p).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The agent answers the call.
#[utoipa::path(post, path = "/api/v1/calls/{id}/answer", tag = "service", params(("id" = i64, Path, description = "Call id", minimum = 1)),
    responses((status = 200, body = Call), (status = 404, body = ErrorBody)))]
pub async fn answer_call(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Call>, ApiError> {
    Ok(Json(uc::answer_call(&st.store, &auth.actor, id).await?))
}

/// How a call ended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallEnd {
    /// The ticket the call was about.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub ticket_id: Option<i64>,
    /// The customer, when the number did not identify them.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub customer_id: Option<i64>,
}

/// The call ends: the talk time is written and a phone interaction goes on the customer's
/// timeline. Ending twice changes nothing.
#[utoipa::path(post, path = "/api/v1/calls/{id}/end", tag = "service", params(("id" = i64, Path, description = "Call id", minimum = 1)), request_body = CallEnd,
    responses((status = 200, body = Call), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn end_call(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(e): JsonBody<CallEnd>,
) -> Result<Json<Call>, ApiError> {
    let locale =
        guanxi_text::Locale::from_code(&auth.user.locale).unwrap_or(guanxi_text::Locale::ZhCn);
    let subject = guanxi_text::text::t(locale, "ticket.call_subject");
    Ok(Json(
        uc::end_call(
            &st.store,
            &auth.actor,
            id,
            e.ticket_id,
            e.customer_id,
            subject,
        )
        .await?,
    ))
}
