//! The SLA clock of a ticket: which policy applies, when each target is due, whether it was
//! breached; the sweep that records breaches as time passes; and the escalation ladder
//! (team lead, then manager) a breached or severe complaint climbs, one step per event.
//!
//! Everything is recomputed from the facts (creation time, messages, the pause history, the
//! policy and its calendar) on every change, so a policy edit gives the same answer a fresh
//! ticket would get and no accumulated pause is lost.

use chrono::{DateTime, Utc};
use guanxi_domain::ticket::sla::{choose, due, Due, Pause, SlaSubject};
use guanxi_domain::ticket::{Priority, TicketKind};
use sqlx::AnyConnection;

use crate::db::{from_ms, to_ms, Store};
use crate::error::Result;
use crate::rows::code;
use crate::ticket::log_event;
use crate::ticket::setup::{active_policies, calendar, categories, category_path};
use crate::timeline::insert_system_task;

/// Tickets one sweep looks at; the job runs again soon after when there were more.
pub const SWEEP_BATCH: i64 = 500;

#[derive(sqlx::FromRow)]
struct ClockRow {
    kind: String,
    category_id: Option<i64>,
    priority: String,
    customer_id: Option<i64>,
    created_at: i64,
    first_response_at: Option<i64>,
    resolved_at: Option<i64>,
    first_response_breached_at: Option<i64>,
    next_response_breached_at: Option<i64>,
    resolution_breached_at: Option<i64>,
}

/// Which targets a recomputation found newly breached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Breaches {
    pub(crate) first_response: bool,
    pub(crate) next_response: bool,
    pub(crate) resolution: bool,
}

impl Breaches {
    fn any(self) -> bool {
        self.first_response || self.next_response || self.resolution
    }
}

/// Breach time of a target: its due time when it was met late or is still unmet past it.
fn breach(d: Option<i64>, met: Option<i64>, now: i64) -> Option<i64> {
    let d = d?;
    match met {
        Some(m) if m > d => Some(d),
        Some(_) => None,
        None if now > d => Some(d),
        None => None,
    }
}

async fn pauses(conn: &mut AnyConnection, ticket: i64) -> Result<Vec<Pause>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT started_at, ended_at FROM ticket_pauses WHERE ticket_id = $1 ORDER BY started_at, id",
    )
    .bind(ticket)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(s, e)| Pause {
            start: from_ms(s),
            end: e.map(from_ms),
        })
        .collect())
}

/// Milliseconds of a due time (`None` while paused or when there is no working time).
fn due_ms(d: Due) -> Option<i64> {
    match d {
        Due::At(at) => Some(to_ms(at)),
        Due::Paused { .. } | Due::Never => None,
    }
}

/// Recomputes a ticket's policy, due times and breaches, inside the caller's transaction, and
/// records each newly breached target in its history.
pub(crate) async fn apply_sla(
    conn: &mut AnyConnection,
    ticket: i64,
    now: DateTime<Utc>,
) -> Result<Breaches> {
    let now_ms = to_ms(now);
    let t: ClockRow = sqlx::query_as(
        "SELECT kind, category_id, priority, customer_id, created_at, first_response_at, \
         resolved_at, first_response_breached_at, next_response_breached_at, \
         resolution_breached_at FROM tickets WHERE id = $1",
    )
    .bind(ticket)
    .fetch_one(&mut *conn)
    .await?;
    let tier: Option<String> = match t.customer_id {
        Some(c) => {
            sqlx::query_scalar("SELECT abc_class FROM customer_scores WHERE customer_id = $1")
                .bind(c)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    let cats = categories(conn).await?;
    let path = category_path(&cats, t.category_id);
    let policies = active_policies(conn).await?;
    let subject = SlaSubject {
        kind: code(TicketKind::parse, &t.kind, "ticket kind")?,
        category_path: &path,
        priority: code(Priority::parse, &t.priority, "ticket priority")?,
        tier: tier.as_deref(),
    };
    let Some(policy) = choose(&policies, |p| &p.conditions, &subject) else {
        sqlx::query(
            "UPDATE tickets SET sla_policy_id = NULL, first_response_due = NULL, \
             next_response_due = NULL, resolution_due = NULL, paused_remaining_s = NULL \
             WHERE id = $1",
        )
        .bind(ticket)
        .execute(&mut *conn)
        .await?;
        return Ok(Breaches::default());
    };
    let cal = calendar(conn, policy.calendar_id).await?.calendar;
    let pauses = pauses(conn, ticket).await?;
    let created = from_ms(t.created_at);
    // A target met before a pause began is not moved by it (nor shown as paused).
    let target = |minutes: Option<i64>, start: DateTime<Utc>, met: Option<i64>| {
        let before: Vec<Pause> = pauses
            .iter()
            .filter(|p| met.is_none_or(|m| to_ms(p.start) < m))
            .copied()
            .collect();
        minutes.map(|m| due(&cal, start, m, &before))
    };

    let first_met = t.first_response_at.or(t.resolved_at);
    let first = target(policy.first_response_minutes, created, first_met);
    let first_due = first.and_then(due_ms);
    let first_breach = breach(first_due, first_met, now_ms);

    // The next-response clock runs from the customer's oldest message after the last reply.
    let unanswered: Option<i64> = if t.first_response_at.is_some() && t.resolved_at.is_none() {
        sqlx::query_scalar(
            "SELECT MIN(created_at) FROM ticket_messages WHERE ticket_id = $1 AND kind = 'customer' \
             AND id > COALESCE((SELECT MAX(id) FROM ticket_messages WHERE ticket_id = $1 \
             AND kind = 'reply'), 0)",
        )
        .bind(ticket)
        .fetch_one(&mut *conn)
        .await?
    } else {
        None
    };
    let next_due = unanswered
        .and_then(|start| target(policy.next_response_minutes, from_ms(start), None))
        .and_then(due_ms);
    // A next-response breach stays on record after the late reply closes the window.
    let next_breach = t
        .next_response_breached_at
        .or_else(|| breach(next_due, None, now_ms));

    let resolution = target(policy.resolution_minutes, created, t.resolved_at);
    let resolution_due = resolution.and_then(due_ms);
    let resolution_breach = breach(resolution_due, t.resolved_at, now_ms);
    let paused_remaining = match resolution {
        Some(Due::Paused { remaining_seconds }) => Some(remaining_seconds),
        _ => None,
    };

    sqlx::query(
        "UPDATE tickets SET sla_policy_id = $1, first_response_due = $2, \
         first_response_breached_at = $3, next_response_due = $4, next_response_breached_at = $5, \
         resolution_due = $6, resolution_breached_at = $7, paused_remaining_s = $8 WHERE id = $9",
    )
    .bind(policy.id)
    .bind(first_due)
    .bind(first_breach)
    .bind(next_due)
    .bind(next_breach)
    .bind(resolution_due)
    .bind(resolution_breach)
    .bind(paused_remaining)
    .bind(ticket)
    .execute(&mut *conn)
    .await?;

    let found = Breaches {
        first_response: first_breach.is_some() && t.first_response_breached_at.is_none(),
        next_response: next_breach.is_some() && t.next_response_breached_at.is_none(),
        resolution: resolution_breach.is_some() && t.resolution_breached_at.is_none(),
    };
    for (hit, name, at) in [
        (found.first_response, "first_response", first_breach),
        (found.next_response, "next_response", next_breach),
        (found.resolution, "resolution", resolution_breach),
    ] {
        if hit {
            let at = at.map(from_ms).unwrap_or(now);
            log_event(
                conn,
                ticket,
                t.customer_id,
                at,
                "breached",
                Some(name),
                None,
            )
            .await?;
        }
    }
    Ok(found)
}

#[derive(sqlx::FromRow)]
struct LadderRow {
    customer_id: Option<i64>,
    subject: String,
    team_id: Option<i64>,
    escalation_level: i64,
}

/// Moves a complaint one step up the ladder: level 1 to its team's lead, level 2 to a manager
/// (of the team when there is one). Each step fires once; the person gets a task on the
/// customer, written in their language, and the step goes on the timeline.
pub(crate) async fn escalate(
    conn: &mut AnyConnection,
    ticket: i64,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<()> {
    let t: LadderRow = sqlx::query_as(
        "SELECT customer_id, subject, team_id, escalation_level FROM tickets WHERE id = $1",
    )
    .bind(ticket)
    .fetch_one(&mut *conn)
    .await?;
    if t.escalation_level >= 2 {
        return Ok(());
    }
    let level = t.escalation_level + 1;
    let lead: Option<i64> = match (level, t.team_id) {
        (1, Some(team)) => {
            sqlx::query_scalar(
                "SELECT u.id FROM teams tm JOIN users u ON u.id = tm.lead_id \
                 WHERE tm.id = $1 AND u.active = TRUE",
            )
            .bind(team)
            .fetch_optional(&mut *conn)
            .await?
        }
        _ => None,
    };
    let target: Option<(i64, String)> = match lead {
        Some(id) => {
            sqlx::query_as("SELECT id, locale FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => {
            sqlx::query_as(
                "SELECT id, locale FROM users WHERE role = 'manager' AND active = TRUE \
                 ORDER BY CASE WHEN team_id = $1 THEN 0 ELSE 1 END, id LIMIT 1",
            )
            .bind(t.team_id.unwrap_or(0))
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let now_ms = to_ms(now);
    sqlx::query(
        "UPDATE tickets SET escalation_level = $1, escalated_to = $2, version = version + 1, \
         updated_at = $3 WHERE id = $4",
    )
    .bind(level)
    .bind(target.as_ref().map(|t| t.0))
    .bind(now_ms)
    .bind(ticket)
    .execute(&mut *conn)
    .await?;
    let detail = format!("{level}:{reason}");
    log_event(
        conn,
        ticket,
        t.customer_id,
        now,
        "escalated",
        Some(&detail),
        target.as_ref().map(|t| t.0),
    )
    .await?;
    if let (Some((user, locale)), Some(customer)) = (target, t.customer_id) {
        let title = if locale.starts_with("zh") {
            format!("投诉升级 #{ticket}：{}", t.subject)
        } else {
            format!("Escalated complaint #{ticket}: {}", t.subject)
        };
        let note = format!("/tickets/{ticket}");
        insert_system_task(
            conn,
            customer,
            &title,
            Some(&note),
            now_ms,
            Some(user),
            now_ms,
        )
        .await?;
    }
    Ok(())
}

/// After a recomputation: a complaint climbs one step for each newly breached target.
pub(crate) async fn escalate_breaches(
    conn: &mut AnyConnection,
    ticket: i64,
    kind: &str,
    found: Breaches,
    now: DateTime<Utc>,
) -> Result<()> {
    if kind != TicketKind::Complaint.as_str() || !found.any() {
        return Ok(());
    }
    for (hit, reason) in [
        (found.first_response, "first_response"),
        (found.next_response, "next_response"),
        (found.resolution, "resolution"),
    ] {
        if hit {
            escalate(conn, ticket, now, reason).await?;
        }
    }
    Ok(())
}

impl Store {
    /// Recomputes one ticket's clock as of `now` and escalates what it finds breached: after
    /// an admin changed a policy or a calendar, or to look at a ticket at a given moment.
    pub async fn refresh_ticket_sla(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let kind = kind.ok_or(crate::error::StoreError::NotFound)?;
        let found = apply_sla(&mut tx, id, now).await?;
        escalate_breaches(&mut tx, id, &kind, found, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the breaches time has caused since the last sweep (targets due before `now`,
    /// unmet and unmarked) and escalates complaints, one ticket per transaction. Returns how
    /// many tickets it looked at; a full batch means there may be more.
    pub async fn sweep_sla(&self, now: DateTime<Utc>) -> Result<usize> {
        let now_ms = to_ms(now);
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE first_response_at IS NULL \
             AND first_response_breached_at IS NULL AND first_response_due < $1 \
             UNION SELECT id FROM tickets WHERE next_response_breached_at IS NULL \
             AND next_response_due < $1 \
             UNION SELECT id FROM tickets WHERE resolved_at IS NULL \
             AND resolution_breached_at IS NULL AND resolution_due < $1 \
             ORDER BY 1 LIMIT $2",
        )
        .bind(now_ms)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.read)
        .await?;
        for id in &ids {
            self.refresh_ticket_sla(*id, now).await?;
        }
        Ok(ids.len())
    }
}
