//! The service agent's pages: the desk (`/tickets`: presence, "take next", my tickets, a
//! queue's waiting work, breached ones, with live countdowns), opening a ticket, and the ticket
//! page (thread, reply or note, status and complaint steps, SLA targets). Every change posts a
//! form with its CSRF token and the version last read; the handlers call `guanxi_app::ticket`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::ticket::records::{TargetState, Ticket, TicketCategory};
use guanxi_domain::ticket::routing::AgentStatus;
use guanxi_domain::ticket::{
    ComplaintStep, MessageKind, NewTicket, Priority, RemedyKind, ResolutionCode, TicketKind,
    TicketPatch, TicketStatus,
};
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_domain::ValidationError;
use guanxi_store::ticket::{TicketFilter, TicketState, TicketView};
use guanxi_text::i18n::message;

use guanxi_app::ticket as uc;

use crate::features::custom_field::list::{page_pairs, CustomFilterView, ListFields};
use crate::features::custom_field::{CustomInput, NewRecordFields};
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{api_errors, page_err, Ctx, FormData, Submitted, UiError, UiUser};

/// Rows per page.
const PAGE: i64 = 50;

/// A ticket as a list row shows it.
pub struct RowView {
    id: i64,
    subject: String,
    customer: String,
    customer_id: i64,
    kind: String,
    priority: String,
    priority_code: &'static str,
    status: String,
    assignee: String,
    due_iso: String,
    due_at: String,
    breached: bool,
    paused: bool,
    severe: bool,
    /// One cell per custom field (the desk's columns).
    custom: Vec<String>,
}

/// One SLA target as the ticket page shows it.
pub struct TargetView {
    label: &'static str,
    due_iso: String,
    due_at: String,
    met_at: String,
    breached_at: String,
}

/// A queue tab on the desk.
pub struct QueueTab {
    id: i64,
    name: String,
    waiting: i64,
}

#[derive(Template)]
#[template(path = "ticket/desk.html")]
struct DeskTpl {
    ctx: Ctx,
    flash: String,
    status: &'static str,
    open: i64,
    capacity: i64,
    is_agent: bool,
    view: String,
    queue: i64,
    state: String,
    q: String,
    extra: String,
    tabs: Vec<QueueTab>,
    rows: Vec<RowView>,
    next_url: String,
    custom_filters: Vec<CustomFilterView>,
    /// The custom fields' column headings.
    custom_headings: Vec<String>,
}

#[derive(Template)]
#[template(path = "ticket/new.html")]
struct NewTpl {
    ctx: Ctx,
    errors: Vec<(String, String)>,
    v: HashMap<String, String>,
    categories: Vec<(i64, String)>,
    queues: Vec<(i64, String)>,
    customer_name: String,
    /// The ticket's custom fields.
    custom: Vec<CustomInput>,
}

impl NewTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// A message on the thread.
pub struct MessageView {
    id: i64,
    kind: &'static str,
    kind_label: String,
    author: String,
    at: String,
    body: String,
}

/// A history row.
pub struct EventView {
    at: String,
    action: String,
    detail: String,
    who: String,
}

#[derive(Template)]
#[template(path = "ticket/show.html")]
struct ShowTpl {
    ctx: Ctx,
    flash: String,
    errors: Vec<(String, String)>,
    /// The ticket's custom fields (label, value).
    custom: Vec<crate::features::custom_field::ShownField>,
    can_edit_custom: bool,
    custom_edit: String,
    t: RowView,
    version: i64,
    kind_code: &'static str,
    status_code: &'static str,
    category: String,
    channel: String,
    contact: String,
    queue: String,
    targets: Vec<TargetView>,
    paused: bool,
    escalation: String,
    complaint_step: String,
    remedy: String,
    resolution: String,
    next_statuses: Vec<(&'static str, String)>,
    next_steps: Vec<(&'static str, String)>,
    remedies: Vec<(&'static str, String)>,
    resolutions: Vec<(&'static str, String)>,
    priorities: Vec<(&'static str, String)>,
    messages: Vec<MessageView>,
    events: Vec<EventView>,
    can_take: bool,
    order_id: String,
    product: String,
    parent_id: i64,
    articles: Vec<(i64, String)>,
    attachments: Vec<AttachmentView>,
    max_kb: i64,
    draft_kind: String,
    draft: String,
    /// Agents the ticket can be handed to (empty: the reader may not reassign it).
    assignable: Vec<(i64, String)>,
    assignee_id: i64,
}

/// A file on the thread, under the message it came with.
pub struct AttachmentView {
    id: i64,
    message_id: i64,
    file_name: String,
    size: String,
    inline: bool,
}

/// A file size the way people read it.
fn size_label(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn category_name(cats: &[TicketCategory], id: Option<i64>, zh: bool) -> String {
    let Some(c) = id.and_then(|id| cats.iter().find(|c| c.id == id)) else {
        return String::new();
    };
    let name = |c: &TicketCategory| {
        if zh {
            c.name_zh.clone()
        } else {
            c.name_en.clone()
        }
    };
    match c.parent_id.and_then(|p| cats.iter().find(|x| x.id == p)) {
        Some(parent) => format!("{} / {}", name(parent), name(c)),
        None => name(c),
    }
}

/// A history step's detail in words: codes become labels in the reader's language, user ids
/// names (the stored detail stays language-neutral, so it reads right in either language).
pub fn describe_event(
    ctx: &Ctx,
    action: &str,
    detail: &str,
    names: &HashMap<i64, String>,
) -> String {
    let name = |id: &str| {
        id.parse::<i64>()
            .ok()
            .and_then(|i| names.get(&i).cloned())
            .unwrap_or_else(|| id.to_string())
    };
    match action {
        "opened" if !detail.starts_with('#') => ctx.label("interaction_channel", detail),
        "status" | "reopened" => {
            let (change, code) = detail.split_once(':').unwrap_or((detail, ""));
            let mut out = match change.split_once('>') {
                Some((a, b)) => format!(
                    "{} → {}",
                    ctx.label("ticket_status", a),
                    ctx.label("ticket_status", b)
                ),
                None => change.to_string(),
            };
            if !code.is_empty() {
                out = format!("{out} · {}", ctx.label("resolution_code", code));
            }
            out
        }
        "complaint_step" => ctx.label("complaint_step", detail),
        "remedy" => ctx.label("remedy_kind", detail),
        "priority" => ctx.label("ticket_priority", detail),
        "assigned" => name(detail.rsplit(':').next().unwrap_or(detail)),
        "breached" => ctx
            .t(match detail {
                "first_response" => "ticket.first_response",
                "next_response" => "ticket.next_response",
                _ => "ticket.resolution",
            })
            .to_string(),
        "escalated" => {
            let (level, reason) = detail.split_once(':').unwrap_or((detail, ""));
            format!(
                "{} {level} · {}",
                ctx.t("ticket.escalated"),
                ctx.label("escalation_reason", reason)
            )
        }
        _ => detail.to_string(),
    }
}

/// The nearest unmet target: what an agent must beat next.
fn nearest(t: &Ticket) -> Option<(DateTime<Utc>, bool)> {
    let mut due: Vec<(DateTime<Utc>, bool)> = Vec::new();
    for (s, needs_unmet) in [
        (&t.first_response, true),
        (&t.next_response, false),
        (&t.resolution, true),
    ] {
        if let Some(d) = s.due_at {
            if !needs_unmet || s.met_at.is_none() {
                due.push((d, s.breached_at.is_some() || d < Utc::now()));
            }
        }
    }
    due.into_iter().min_by_key(|d| d.0)
}

fn row(ctx: &Ctx, t: &Ticket, names: &HashMap<i64, String>, tz: chrono::FixedOffset) -> RowView {
    let due = if t.status.is_done() { None } else { nearest(t) };
    RowView {
        id: t.id,
        subject: t.subject.clone(),
        customer: t
            .customer_name
            .clone()
            .or_else(|| t.contact_name.clone())
            .or_else(|| t.contact_address.clone())
            .unwrap_or_default(),
        customer_id: t.customer_id.unwrap_or(0),
        kind: ctx.label("ticket_kind", t.kind.as_str()),
        priority: ctx.label("ticket_priority", t.priority.as_str()),
        priority_code: t.priority.as_str(),
        status: ctx.label("ticket_status", t.status.as_str()),
        assignee: t
            .assignee_id
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_default(),
        due_iso: due.map(|d| d.0.to_rfc3339()).unwrap_or_default(),
        due_at: due.map(|d| format::datetime(d.0, tz)).unwrap_or_default(),
        breached: t.first_response.breached_at.is_some()
            || t.next_response.breached_at.is_some()
            || t.resolution.breached_at.is_some(),
        paused: t.paused,
        severe: t.severe,
        custom: Vec::new(),
    }
}

fn link(view: &str, queue: i64, state: &str, q: &str, extra: &str, page: i64) -> String {
    let mut parts = vec![format!("view={view}")];
    if !extra.is_empty() {
        parts.push(extra.to_string());
    }
    if queue > 0 {
        parts.push(format!("queue={queue}"));
    }
    if state != "open" {
        parts.push(format!("state={state}"));
    }
    if !q.is_empty() {
        parts.push(format!("q={}", crate::ui::session::urlencode(q)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    format!("/tickets?{}", parts.join("&"))
}

/// The desk: `?view=mine|waiting|all&queue=&state=open|done|breached|all&q=&page=`.
pub async fn desk(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    desk_page(&st, &user, &q, String::new(), StatusCode::OK).await
}

async fn desk_page(
    st: &AppState,
    user: &UiUser,
    q: &FormData,
    flash: String,
    code: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let err = page_err(l);
    let tz = format::zone(st.utc_offset_hours);
    let queues = uc::queues(&st.store, &user.actor).await.map_err(&err)?;
    let mine: Vec<&guanxi_domain::ticket::records::ServiceQueue> = queues
        .iter()
        .filter(|x| {
            x.members.contains(&user.user.id) || user.actor.can(Permission::ManageServiceDesk)
        })
        .collect();
    let queue = q
        .get("queue")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|id| queues.iter().any(|x| x.id == *id))
        .unwrap_or(0);
    let (view, view_code) = match (q.get("view"), queue) {
        (Some("waiting"), id) if id > 0 => (TicketView::Waiting(id), "waiting"),
        (Some("all"), _) => (TicketView::All, "all"),
        _ => (TicketView::AssignedTo(user.user.id), "mine"),
    };
    let (state, state_code) = match q.get("state") {
        Some("done") => (TicketState::Done, "done"),
        Some("breached") => (TicketState::Breached, "breached"),
        Some("all") => (TicketState::All, "all"),
        _ => (TicketState::Open, "open"),
    };
    let page = q
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let words = q.get("q").unwrap_or("").to_string();
    let kind = q.get("kind").and_then(|k| TicketKind::parse(k).ok());
    let category = q.get("category").and_then(|c| c.parse::<i64>().ok());
    let users = user_names(st, user).await?;
    let fields = ListFields::of(st, user, FieldEntity::Ticket, &users).await?;
    let custom = fields.filters(st, user, q).await?;
    let list = uc::list_tickets(
        &st.store,
        &user.actor,
        &TicketFilter {
            view,
            state,
            kind,
            category_id: category,
            q: Some(words.clone()).filter(|w| !w.is_empty()),
            limit: PAGE,
            offset: (page - 1) * PAGE,
            custom,
        },
    )
    .await
    .map_err(&err)?;
    let names: HashMap<i64, String> = users.into_iter().collect();
    let is_agent = user.actor.can(Permission::WorkTickets);
    let me = if is_agent {
        Some(uc::my_state(&st.store, &user.actor).await.map_err(&err)?)
    } else {
        None
    };
    let extra = [
        kind.map(|k| format!("kind={k}")),
        category.map(|c| format!("category={c}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("&");
    let ctx = user.ctx("ticket.desk");
    let rows = list
        .items
        .iter()
        .map(|t| RowView {
            custom: fields.cells(user, &t.custom),
            ..row(&ctx, t, &names, tz)
        })
        .collect();
    // The next page keeps the custom-field filters.
    let cf_query: String = page_pairs(q)
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("&cf.{k}={}", crate::ui::session::urlencode(v)))
        .collect();
    let tpl = DeskTpl {
        flash,
        status: me.as_ref().map(|m| m.status.as_str()).unwrap_or("offline"),
        open: me.as_ref().map(|m| m.open).unwrap_or(0),
        capacity: me.as_ref().map(|m| m.capacity).unwrap_or(0),
        is_agent,
        view: view_code.into(),
        queue,
        state: state_code.into(),
        tabs: mine
            .iter()
            .map(|x| QueueTab {
                id: x.id,
                name: x.name.clone(),
                waiting: x.waiting,
            })
            .collect(),
        rows,
        next_url: if list.more {
            link(view_code, queue, state_code, &words, &extra, page + 1) + &cf_query
        } else {
            String::new()
        },
        custom_filters: fields.inputs(user, &ctx, q),
        custom_headings: fields.headings(user),
        q: words,
        extra,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = code;
    Ok(r)
}

/// "Take next": opens the ticket taken, or comes back to the desk saying why not.
pub async fn take_next(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    match uc::take_next(&st.store, &user.actor).await {
        Ok(Some(id)) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Ok(None) => {
            let flash = user
                .ctx("ticket.desk")
                .t("ticket.nothing_waiting")
                .to_string();
            desk_page(&st, &user, &form, flash, StatusCode::OK).await
        }
        Err(e) => match api_errors(e.into()) {
            Some(errs) => {
                let flash = errs
                    .iter()
                    .map(|e| message(user.locale, &e.code).to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                desk_page(&st, &user, &form, flash, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(UiError::Internal(user.locale, "take next".into())),
        },
    }
}

/// Sets the agent's own presence from the desk.
pub async fn presence(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let Some(status) = form.get("status").and_then(|s| AgentStatus::parse(s).ok()) else {
        return Err(UiError::Invalid(
            user.locale,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!("status: {}", message(user.locale, "unknown_value"))],
        ));
    };
    uc::set_presence(&st.store, &user.actor, status)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to("/tickets").into_response())
}

/// Each problem as (the field's label, the message) in the page language. A field of a list
/// (`files[1]`, `week[5]`) is named by its label and position (a weekday by its name); a nested
/// one (`conditions.tier`) by its last part.
pub(super) fn localized_errors(
    l: guanxi_text::Locale,
    errs: &[ValidationError],
) -> Vec<(String, String)> {
    let text = |key: &str| {
        guanxi_text::text::lookup(key).map(|(zh, en)| match l {
            guanxi_text::Locale::ZhCn => zh.to_string(),
            guanxi_text::Locale::En => en.to_string(),
        })
    };
    errs.iter()
        .map(|e| {
            let leaf = e.field.rsplit('.').next().unwrap_or(&e.field);
            let (base, index) = match leaf.split_once('[') {
                Some((b, rest)) => (b, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (leaf, None),
            };
            let label = match (base, index) {
                ("week", Some(i)) => text(&format!("ticket.weekday_{i}")),
                (b, Some(i)) => {
                    text(&format!("ticket.field_{b}")).map(|t| format!("{t} {}", i + 1))
                }
                (b, None) => text(&format!("ticket.field_{b}")),
            }
            .unwrap_or_else(|| e.field.clone());
            (label, message(l, &e.code).to_string())
        })
        .collect()
}

async fn choices(
    st: &AppState,
    user: &UiUser,
) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>), UiError> {
    let err = page_err(user.locale);
    let cats = uc::categories(&st.store, &user.actor).await.map_err(&err)?;
    let zh = user.ctx("ticket.new").is_zh();
    let categories = cats
        .iter()
        .filter(|c| c.active)
        .map(|c| (c.id, category_name(&cats, Some(c.id), zh)))
        .collect();
    let queues = uc::queues(&st.store, &user.actor)
        .await
        .map_err(&err)?
        .into_iter()
        .map(|q| (q.id, q.name))
        .collect();
    Ok((categories, queues))
}

/// The new-ticket form (`?customer=ID` fills the customer in).
pub async fn new_form(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let mut v = HashMap::new();
    let mut customer_name = String::new();
    if let Some(c) = q.get("customer").and_then(|c| c.parse::<i64>().ok()) {
        let customer = guanxi_app::customers::read_in_list(&st.store, &user.actor, c)
            .await
            .map_err(page_err(user.locale))?;
        customer_name = customer.name;
        v.insert("customer_id".into(), c.to_string());
    }
    for (k, d) in [
        ("kind", "complaint"),
        ("priority", "normal"),
        ("channel", "phone"),
    ] {
        v.insert(k.into(), q.get(k).unwrap_or(d).to_string());
    }
    let (categories, queues) = choices(&st, &user).await?;
    let custom = NewRecordFields::of(&st, &user, FieldEntity::Ticket)
        .await?
        .inputs(&st, &user, None, &[])
        .await?;
    Ok(render(
        user.locale,
        &NewTpl {
            ctx: user.ctx("ticket.new"),
            errors: Vec::new(),
            v,
            categories,
            queues,
            customer_name,
            custom,
        },
    ))
}

/// An optional coded field: `None` when empty, a field error when the code is unknown.
fn coded<T>(
    form: &FormData,
    e: &mut Vec<ValidationError>,
    name: &str,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    let v = form.get(name)?;
    match parse(v) {
        Ok(x) => Some(x),
        Err(code) => {
            e.push(ValidationError::new(name, code));
            None
        }
    }
}

fn id_field(form: &FormData, name: &str, e: &mut Vec<ValidationError>) -> Option<i64> {
    let v = form.get(name)?;
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            e.push(ValidationError::new(name, "invalid_type"));
            None
        }
    }
}

/// Opens a ticket from the form; field problems come back on the form (422), nothing saved.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let fields = NewRecordFields::of(&st, &user, FieldEntity::Ticket).await?;
    let mut errs = Vec::new();
    let kind = coded(&form, &mut errs, "kind", TicketKind::parse);
    let channel = coded(&form, &mut errs, "channel", InteractionChannel::parse);
    let priority = coded(&form, &mut errs, "priority", Priority::parse);
    if kind.is_none() && form.get("kind").is_none() {
        errs.push(ValidationError::new("kind", "required"));
    }
    if channel.is_none() && form.get("channel").is_none() {
        errs.push(ValidationError::new("channel", "required"));
    }
    let customer_id = id_field(&form, "customer_id", &mut errs);
    let category_id = id_field(&form, "category_id", &mut errs);
    let queue_id = id_field(&form, "queue_id", &mut errs);
    let order_id = id_field(&form, "order_id", &mut errs);
    let result = match (kind, channel, errs.is_empty()) {
        (Some(kind), Some(channel), true) => {
            let t = NewTicket {
                customer_id,
                contact_name: form.get("contact_name").map(String::from),
                contact_address: form.get("contact_address").map(String::from),
                kind,
                category_id,
                priority,
                channel,
                subject: form.get("subject").unwrap_or("").to_string(),
                body: form.get("body").map(String::from),
                queue_id,
                order_id,
                product_sku: form.get("product_sku").map(String::from),
                severe: form.checked("severe"),
                custom: fields.sent(&user, &form),
            };
            uc::open_ticket(&st.store, &user.actor, t)
                .await
                .map_err(|e| api_errors(e.into()))
        }
        _ => Err(Some(errs)),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/tickets/{}", t.id)).into_response()),
        Err(Some(errs)) => {
            let (categories, queues) = choices(&st, &user).await?;
            let custom = fields.inputs(&st, &user, Some(&form), &errs).await?;
            let tpl = NewTpl {
                ctx: user.ctx("ticket.new"),
                errors: localized_errors(user.locale, &errs),
                v: form.values(),
                categories,
                queues,
                customer_name: String::new(),
                custom,
            };
            let mut r = render(user.locale, &tpl);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(None) => Err(UiError::Internal(user.locale, "open ticket".into())),
    }
}

fn target(label: &'static str, s: &TargetState, tz: chrono::FixedOffset) -> TargetView {
    let f = |t: Option<DateTime<Utc>>| t.map(|t| format::datetime(t, tz)).unwrap_or_default();
    TargetView {
        label,
        due_iso: if s.met_at.is_none() {
            s.due_at.map(|d| d.to_rfc3339()).unwrap_or_default()
        } else {
            String::new()
        },
        due_at: f(s.due_at),
        met_at: f(s.met_at),
        breached_at: f(s.breached_at),
    }
}

fn labels<T: Copy>(
    ctx: &Ctx,
    vocab: &str,
    all: &[T],
    code: impl Fn(T) -> &'static str,
) -> Vec<(&'static str, String)> {
    all.iter()
        .map(|v| (code(*v), ctx.label(vocab, code(*v))))
        .collect()
}

/// The ticket page.
pub async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    show_page(
        &st,
        &user,
        id,
        String::new(),
        Vec::new(),
        StatusCode::OK,
        ("", ""),
    )
    .await
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    flash: String,
    errors: Vec<(String, String)>,
    code: StatusCode,
    draft: (&str, &str),
) -> Result<Response, UiError> {
    let l = user.locale;
    let err = page_err(l);
    let tz = format::zone(st.utc_offset_hours);
    let d = uc::read_ticket(&st.store, &user.actor, id)
        .await
        .map_err(&err)?;
    let cats = uc::categories(&st.store, &user.actor).await.map_err(&err)?;
    let queues = uc::queues(&st.store, &user.actor).await.map_err(&err)?;
    let names: HashMap<i64, String> = user_names(st, user).await?.into_iter().collect();
    let ctx = user.ctx("ticket.title");
    let t = &d.ticket;
    let who = |u: Option<i64>| u.and_then(|u| names.get(&u).cloned()).unwrap_or_default();
    let next_statuses = t
        .status
        .next()
        .iter()
        .map(|s| (s.as_str(), ctx.label("ticket_status", s.as_str())))
        .collect();
    let next_steps = match t.complaint_step {
        Some(s) => s
            .next()
            .iter()
            .map(|n| (n.as_str(), ctx.label("complaint_step", n.as_str())))
            .collect(),
        None => Vec::new(),
    };
    let (custom, has_fields) = crate::features::custom_field::pages::shown_on_record(
        st,
        user,
        guanxi_domain::custom_field::FieldEntity::Ticket,
        id,
    )
    .await?;
    let tpl = ShowTpl {
        custom,
        can_edit_custom: has_fields && user.actor.can(Permission::WorkTickets),
        custom_edit: format!("/tickets/{id}/fields"),
        flash,
        errors,
        version: t.meta.version,
        kind_code: t.kind.as_str(),
        status_code: t.status.as_str(),
        category: category_name(&cats, t.category_id, ctx.is_zh()),
        channel: ctx.label("interaction_channel", t.channel.as_str()),
        contact: [t.contact_name.clone(), t.contact_address.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
        queue: queues
            .iter()
            .find(|q| q.id == t.queue_id)
            .map(|q| q.name.clone())
            .unwrap_or_default(),
        targets: vec![
            target("ticket.first_response", &t.first_response, tz),
            target("ticket.next_response", &t.next_response, tz),
            target("ticket.resolution", &t.resolution, tz),
        ],
        paused: t.paused,
        escalation: if t.escalation_level > 0 {
            format!(
                "{} {} → {}",
                ctx.t("ticket.escalated"),
                t.escalation_level,
                who(t.escalated_to)
            )
        } else {
            String::new()
        },
        complaint_step: t
            .complaint_step
            .map(|s| ctx.label("complaint_step", s.as_str()))
            .unwrap_or_default(),
        remedy: [
            t.remedy_kind.map(|r| ctx.label("remedy_kind", r.as_str())),
            t.remedy_detail.clone(),
            t.remedy_amount_minor.map(|a| format::money(a, "CNY")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
        resolution: [
            t.resolution_code
                .map(|r| ctx.label("resolution_code", r.as_str())),
            t.resolution_text.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
        next_statuses,
        next_steps,
        remedies: labels(&ctx, "remedy_kind", RemedyKind::ALL, RemedyKind::as_str),
        resolutions: labels(
            &ctx,
            "resolution_code",
            ResolutionCode::ALL,
            ResolutionCode::as_str,
        ),
        priorities: labels(&ctx, "ticket_priority", Priority::ALL, Priority::as_str),
        messages: d
            .messages
            .iter()
            .map(|m| MessageView {
                id: m.id,
                kind: m.kind.as_str(),
                kind_label: ctx.label("message_kind", m.kind.as_str()),
                author: match m.kind {
                    MessageKind::Customer => t
                        .customer_name
                        .clone()
                        .or_else(|| t.contact_name.clone())
                        .unwrap_or_default(),
                    _ => m.author.clone().unwrap_or_default(),
                },
                at: format::datetime(m.created_at, tz),
                body: m.body.clone(),
            })
            .collect(),
        events: d
            .events
            .iter()
            .map(|e| EventView {
                at: format::datetime(e.at, tz),
                action: ctx.label("ticket_event", &e.action),
                detail: describe_event(&ctx, &e.action, e.detail.as_deref().unwrap_or(""), &names),
                who: who(e.user_id),
            })
            .collect(),
        can_take: t.assignee_id.is_none() && user.actor.can(Permission::WorkTickets),
        order_id: t.order_id.map(|o| o.to_string()).unwrap_or_default(),
        product: t.product_sku.clone().unwrap_or_default(),
        parent_id: t.parent_id.unwrap_or(0),
        articles: guanxi_app::knowledge::linked(&st.store, &user.actor, id)
            .await
            .map_err(&err)?,
        assignable: if uc::may_reassign(&st.store, &user.actor, id)
            .await
            .map_err(&err)?
        {
            let agents = uc::agents(&st.store, &user.actor).await.map_err(&err)?;
            agents
                .iter()
                .map(|a| (a.user_id, format!("{} ({}/{})", a.name, a.open, a.capacity)))
                .collect()
        } else {
            Vec::new()
        },
        assignee_id: t.assignee_id.unwrap_or(0),
        draft_kind: draft.0.to_string(),
        draft: draft.1.to_string(),
        attachments: d
            .attachments
            .iter()
            .map(|a| AttachmentView {
                id: a.id,
                message_id: a.message_id.unwrap_or(0),
                file_name: a.file_name.clone(),
                size: size_label(a.size_bytes),
                inline: a.inline(),
            })
            .collect(),
        max_kb: guanxi_app::ticket::admin::settings(&st.store, &user.actor)
            .await
            .map_err(&err)?
            .attachment_max_kb,
        t: row(&ctx, t, &names, tz),
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = code;
    Ok(r)
}

/// Posts a reply, a note or the customer's words; problems come back on the page (422).
pub async fn post_message(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, mut form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let kind = MessageKind::parse(form.get("kind").unwrap_or("reply"));
    let files = form.take_files();
    let result = match kind {
        Ok(kind) => uc::post_message(
            &st.store,
            &user.actor,
            id,
            kind,
            form.raw("body").unwrap_or(""),
            files,
        )
        .await
        .map_err(|e| api_errors(e.into())),
        Err(code) => Err(Some(vec![ValidationError::new("kind", code)])),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/tickets/{}#thread", t.id)).into_response()),
        Err(Some(errs)) => {
            let errors = localized_errors(user.locale, &errs);
            show_page(
                &st,
                &user,
                id,
                String::new(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                (
                    form.get("kind").unwrap_or(""),
                    form.raw("body").unwrap_or(""),
                ),
            )
            .await
        }
        Err(None) => Err(UiError::Internal(user.locale, "ticket message".into())),
    }
}

/// The ticket form's change: status, priority, complaint step, remedy, resolution.
fn patch_of(form: &FormData) -> Result<TicketPatch, Vec<ValidationError>> {
    let mut e = Vec::new();
    let version = match form.get("version").map(str::parse::<i64>) {
        Some(Ok(v)) => v,
        _ => {
            e.push(ValidationError::new("version", "required"));
            0
        }
    };
    let status = coded(form, &mut e, "status", TicketStatus::parse);
    let priority = coded(form, &mut e, "priority", Priority::parse);
    let complaint_step = coded(form, &mut e, "complaint_step", ComplaintStep::parse);
    let remedy_kind = coded(form, &mut e, "remedy_kind", RemedyKind::parse);
    let resolution_code = coded(form, &mut e, "resolution_code", ResolutionCode::parse);
    let remedy_amount_minor = coded(form, &mut e, "remedy_amount", parse_money);
    if !e.is_empty() {
        return Err(e);
    }
    Ok(TicketPatch {
        version,
        status,
        priority,
        complaint_step,
        remedy_kind,
        remedy_detail: form.get("remedy_detail").map(String::from),
        remedy_amount_minor,
        resolution_code,
        resolution_text: form.get("resolution_text").map(String::from),
        severe: None,
        category_id: None,
    })
}

/// Applies the ticket form; a stale version or a refused move comes back on the page (409 or
/// 422) with nothing changed.
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let result = match patch_of(&form) {
        Ok(p) => uc::change_ticket(&st.store, &user.actor, id, p)
            .await
            .map_err(|e| {
                let e: crate::error::ApiError = e.into();
                let status = if matches!(e, crate::error::ApiError::Conflict { .. }) {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                (status, api_errors(e))
            }),
        Err(errs) => Err((StatusCode::UNPROCESSABLE_ENTITY, Some(errs))),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/tickets/{}", t.id)).into_response()),
        Err((status, Some(errs))) => {
            let errors = localized_errors(user.locale, &errs);
            show_page(&st, &user, id, String::new(), errors, status, ("", "")).await
        }
        Err((_, None)) => Err(UiError::Internal(user.locale, "ticket update".into())),
    }
}

/// Takes an unassigned ticket for oneself.
pub async fn take(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let version = form.version(user.locale)?;
    // Without `assignee_id` the reader takes it; `0` puts it back in the queue (a lead's or
    // manager's move, as is naming someone else).
    let assignee = match form.get("assignee_id").map(str::parse::<i64>) {
        None => Some(user.user.id),
        Some(Ok(0)) => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => return Err(UiError::BadForm(user.locale)),
    };
    match uc::assign_ticket(&st.store, &user.actor, id, version, assignee).await {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Err(e) => match api_errors(e.into()) {
            Some(errs) => {
                let errors = localized_errors(user.locale, &errs);
                show_page(
                    &st,
                    &user,
                    id,
                    String::new(),
                    errors,
                    StatusCode::CONFLICT,
                    ("", ""),
                )
                .await
            }
            None => Err(UiError::Forbidden(user.locale)),
        },
    }
}

/// The call popping on the agent's screen, as the desk shows it.
pub struct PopView {
    id: i64,
    caller: String,
    answered: bool,
    customer_id: i64,
    customer: String,
    candidates: Vec<(i64, String, String)>,
    since: String,
}

#[derive(Template)]
#[template(path = "ticket/pop.html")]
struct PopTpl {
    ctx: Ctx,
    pop: Option<PopView>,
    ticket: i64,
}

/// The screen-pop fragment the desk polls every few seconds (empty when no call).
pub async fn pop(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let tz = format::zone(st.utc_offset_hours);
    let p = uc::my_pop(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let pop = p.map(|p| PopView {
        id: p.call.id,
        caller: p.call.caller.clone(),
        answered: p.call.answered_at.is_some(),
        customer_id: p.call.customer_id.unwrap_or(0),
        customer: p.call.customer_name.clone().unwrap_or_default(),
        candidates: p
            .candidates
            .iter()
            .map(|h| {
                (
                    h.customer_id,
                    h.name.clone(),
                    h.city.clone().unwrap_or_default(),
                )
            })
            .collect(),
        since: format::datetime(p.call.started_at, tz),
    });
    Ok(render(
        user.locale,
        &PopTpl {
            ctx: user.ctx("ticket.desk"),
            pop,
            ticket: q
                .get("ticket")
                .and_then(|t| t.parse::<i64>().ok())
                .unwrap_or(0),
        },
    ))
}

/// Answers the popping call and comes back to the desk.
pub async fn answer_call(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    uc::answer_call(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to("/tickets").into_response())
}

/// Ends the call (optionally about a ticket) and goes back where the agent was.
pub async fn end_call(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WorkTickets)?;
    let ticket = form.get("ticket_id").and_then(|t| t.parse::<i64>().ok());
    let subject = user.ctx("ticket.desk").t("ticket.call_subject");
    uc::end_call(&st.store, &user.actor, id, ticket, None, subject)
        .await
        .map_err(page_err(user.locale))?;
    let back = match ticket {
        Some(t) => format!("/tickets/{t}"),
        None => "/tickets".into(),
    };
    Ok(Redirect::to(&back).into_response())
}

/// A figure on the metrics page: label key, value as shown.
pub struct Kpi {
    label: &'static str,
    value: String,
    id: &'static str,
}

#[derive(Template)]
#[template(path = "ticket/metrics.html")]
struct MetricsTpl {
    ctx: Ctx,
    counted_at: String,
    days: i64,
    kpis: Vec<Kpi>,
    channels: Vec<(String, i64, i64)>,
    kinds: Vec<(String, String, i64)>,
    complaint_rate: Vec<(i64, String, i64, String)>,
    products: Vec<(String, i64, i64, String)>,
    teams: Vec<TeamRow>,
    agents: Vec<(String, i64, String, String, i64)>,
}

/// A team's line in the figures.
pub struct TeamRow {
    name: String,
    opened: i64,
    resolved: i64,
    backlog: i64,
    fr_attainment: String,
    res_attainment: String,
    fcr: String,
}

fn minutes(v: Option<f64>) -> String {
    v.map(|m| format!("{m:.0}")).unwrap_or_else(|| "—".into())
}

/// A rate per thousand, one decimal.
fn permille(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.1}‰")).unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(format::percent).unwrap_or_else(|| "—".into())
}

/// The desk's figures (`?days=7|30|90|365`), each linking to the tickets behind it.
pub async fn metrics(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ReadTickets)?;
    let err = page_err(user.locale);
    let days = q
        .get("days")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| [7, 30, 90, 365].contains(d))
        .unwrap_or(30);
    let (from, to) = uc::last_days(days, Utc::now(), st.utc_offset_hours);
    let tz = format::zone(st.utc_offset_hours);
    let m = uc::metrics(&st.store, &user.actor, from, to, st.utc_offset_hours)
        .await
        .map_err(&err)?;
    let cats = uc::categories(&st.store, &user.actor).await.map_err(&err)?;
    let names: HashMap<i64, String> = user_names(&st, &user).await?.into_iter().collect();
    let teams = guanxi_app::users::list_teams(&st.store, &user.actor)
        .await
        .map_err(&err)?;
    let ctx = user.ctx("ticket.metrics");
    let kpis = vec![
        Kpi {
            label: "ticket.m_opened",
            value: m.opened.to_string(),
            id: "m-opened",
        },
        Kpi {
            label: "ticket.m_resolved",
            value: m.resolved.to_string(),
            id: "m-resolved",
        },
        Kpi {
            label: "ticket.m_backlog",
            value: m.backlog.to_string(),
            id: "m-backlog",
        },
        Kpi {
            label: "ticket.m_wait",
            value: minutes(m.wait_minutes),
            id: "m-wait",
        },
        Kpi {
            label: "ticket.m_first_response",
            value: minutes(m.first_response_minutes),
            id: "m-frt",
        },
        Kpi {
            label: "ticket.m_handle",
            value: minutes(m.handle_minutes),
            id: "m-handle",
        },
        Kpi {
            label: "ticket.m_fcr",
            value: pct(m.first_contact_resolution),
            id: "m-fcr",
        },
        Kpi {
            label: "ticket.m_reopen",
            value: pct(m.reopen_rate),
            id: "m-reopen",
        },
        Kpi {
            label: "ticket.m_fr_attainment",
            value: pct(m.first_response_attainment),
            id: "m-fr-sla",
        },
        Kpi {
            label: "ticket.m_res_attainment",
            value: pct(m.resolution_attainment),
            id: "m-res-sla",
        },
        Kpi {
            label: "ticket.m_complaints",
            value: m.complaints.to_string(),
            id: "m-complaints",
        },
        Kpi {
            label: "ticket.m_complaint_rate",
            value: permille(m.complaints_per_thousand_orders),
            id: "m-complaint-rate",
        },
    ];
    let tpl = MetricsTpl {
        counted_at: m
            .counted_at
            .map(|c| format::datetime(c, tz))
            .unwrap_or_default(),
        days,
        kpis,
        channels: {
            let mut keys: Vec<&str> = m.by_channel.iter().map(|b| b.key.as_str()).collect();
            for b in &m.outbound_by_channel {
                if !keys.contains(&b.key.as_str()) {
                    keys.push(&b.key);
                }
            }
            let n = |list: &[guanxi_store::ticket::metrics::Bucket], k: &str| {
                list.iter().find(|b| b.key == k).map(|b| b.n).unwrap_or(0)
            };
            keys.iter()
                .map(|k| {
                    (
                        ctx.label("interaction_channel", k),
                        n(&m.by_channel, k),
                        n(&m.outbound_by_channel, k),
                    )
                })
                .collect()
        },
        kinds: m
            .by_kind
            .iter()
            .map(|b| (b.key.clone(), ctx.label("ticket_kind", &b.key), b.n))
            .collect(),
        complaint_rate: m
            .complaint_rate
            .iter()
            .map(|r| {
                (
                    r.category_id.unwrap_or(0),
                    category_name(&cats, r.category_id, ctx.is_zh()),
                    r.complaints,
                    permille(r.per_thousand_orders),
                )
            })
            .collect(),
        products: m
            .complaint_rate_by_product
            .iter()
            .map(|r| {
                (
                    r.sku.clone(),
                    r.complaints,
                    r.orders,
                    permille(r.per_thousand_orders),
                )
            })
            .collect(),
        teams: m
            .teams
            .iter()
            .map(|t| TeamRow {
                name: t
                    .team_id
                    .and_then(|id| teams.iter().find(|x| x.id == id))
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| ctx.t("ticket.m_no_team").to_string()),
                opened: t.opened,
                resolved: t.resolved,
                backlog: t.backlog,
                fr_attainment: pct(t.first_response_attainment),
                res_attainment: pct(t.resolution_attainment),
                fcr: pct(t.first_contact_resolution),
            })
            .collect(),
        agents: m
            .agents
            .iter()
            .map(|a| {
                (
                    names.get(&a.user_id).cloned().unwrap_or_default(),
                    a.resolved,
                    minutes(a.first_response_minutes),
                    pct(a.first_response_attainment),
                    a.open,
                )
            })
            .collect(),
        ctx,
    };
    Ok(render(user.locale, &tpl))
}
