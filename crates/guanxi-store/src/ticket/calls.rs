//! Calls from the phone system: the screen pop opens a call record with the customer the number
//! identified, the agent answers, and the end writes the talk time and an interaction on the
//! customer's timeline. The phone system's own call id makes a repeated report open the call
//! once.

use chrono::Utc;
use guanxi_domain::interaction::ValidInteraction;
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::records::Call;
use guanxi_domain::ticket::NewCall;
use guanxi_domain::vocabulary::{InteractionChannel, InteractionDirection};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{record, AuditEvent};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::code;

/// How long an unanswered, unended call still pops on the agent's screen.
pub const POP_WINDOW_MS: i64 = 30 * 60 * 1000;

#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    caller: String,
    direction: String,
    agent_id: Option<i64>,
    customer_id: Option<i64>,
    customer_name: Option<String>,
    ticket_id: Option<i64>,
    external_id: Option<String>,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    duration_s: Option<i64>,
}

impl CallRow {
    fn into_record(self) -> Result<Call> {
        Ok(Call {
            id: self.id,
            caller: self.caller,
            direction: code(
                InteractionDirection::parse,
                &self.direction,
                "call direction",
            )?,
            agent_id: self.agent_id,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            ticket_id: self.ticket_id,
            external_id: self.external_id,
            started_at: from_ms(self.started_at),
            answered_at: self.answered_at.map(from_ms),
            ended_at: self.ended_at.map(from_ms),
            duration_s: self.duration_s,
        })
    }
}

const CALL_SELECT: &str = "SELECT k.id, k.caller, k.direction, k.agent_id, k.customer_id, \
    c.name AS customer_name, k.ticket_id, k.external_id, k.started_at, k.answered_at, \
    k.ended_at, k.duration_s FROM calls k LEFT JOIN customers c ON c.id = k.customer_id";

async fn load(conn: &mut AnyConnection, id: i64) -> Result<Call> {
    let r: CallRow = sqlx::query_as(&format!("{CALL_SELECT} WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    r.into_record()
}

impl Store {
    /// Opens a call for the screen pop, with the customer the caller's number identified
    /// (`None` when it matched nobody or several). A call id seen before returns that call.
    pub async fn open_call(
        &self,
        actor: &Actor,
        c: &NewCall,
        agent: i64,
        customer: Option<i64>,
    ) -> Result<Call> {
        let mut tx = self.begin_write().await?;
        if let Some(ext) = &c.external_id {
            let seen: Option<i64> =
                sqlx::query_scalar("SELECT id FROM calls WHERE external_id = $1")
                    .bind(ext)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = seen {
                return load(&mut tx, id).await;
            }
        }
        crate::users::check_active_user(&mut tx, "agent_id", Some(agent)).await?;
        let direction = c.direction.unwrap_or(InteractionDirection::Inbound);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calls (caller, direction, agent_id, customer_id, external_id, \
             started_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(c.caller.as_str())
        .bind(direction.as_str())
        .bind(agent)
        .bind(customer)
        .bind(c.external_id.as_deref())
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "call",
                entity_id: Some(id),
                detail: json!({"agent_id": agent, "customer_id": customer, "direction": direction.as_str()}),
            },
        )
        .await?;
        let call = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(call)
    }

    /// One call; an agent sees their own calls, desk managers (`all`) every call.
    pub async fn call(&self, actor: &Actor, id: i64, all: bool) -> Result<Call> {
        let mut conn = self.read.acquire().await?;
        let c = load(&mut conn, id).await?;
        if !all && c.agent_id != Some(actor.id) {
            return Err(StoreError::NotFound);
        }
        Ok(c)
    }

    /// The call popping on an agent's screen: their newest call not ended, started within the
    /// pop window.
    pub async fn current_call(&self, agent: i64) -> Result<Option<Call>> {
        let since = to_ms(Utc::now()) - POP_WINDOW_MS;
        let r: Option<CallRow> = sqlx::query_as(&format!(
            "{CALL_SELECT} WHERE k.agent_id = $1 AND k.started_at >= $2 AND k.ended_at IS NULL \
             ORDER BY k.started_at DESC, k.id DESC LIMIT 1"
        ))
        .bind(agent)
        .bind(since)
        .fetch_optional(&self.read)
        .await?;
        r.map(CallRow::into_record).transpose()
    }

    /// The agent picks up.
    pub async fn answer_call(&self, actor: &Actor, id: i64) -> Result<Call> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE calls SET answered_at = COALESCE(answered_at, $1) WHERE id = $2 \
             AND ended_at IS NULL",
        )
        .bind(to_ms(Utc::now()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "call",
                entity_id: Some(id),
                detail: json!({"answered": true}),
            },
        )
        .await?;
        let c = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The call ends: its talk time is written, linked to a ticket and a customer if given,
    /// and recorded as a phone interaction on the customer's timeline. Ending twice changes
    /// nothing.
    pub async fn end_call(
        &self,
        actor: &Actor,
        id: i64,
        ticket: Option<i64>,
        customer: Option<i64>,
        subject: &str,
    ) -> Result<Call> {
        let now = Utc::now();
        let now_ms = to_ms(now);
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, id).await?;
        if current.ended_at.is_some() {
            return Ok(current);
        }
        let customer = customer.or(current.customer_id);
        let from = current.answered_at.unwrap_or(current.started_at);
        let duration = (now - from).num_seconds().max(0);
        let interaction = match customer {
            Some(c) => {
                let i = ValidInteraction {
                    channel: InteractionChannel::Phone,
                    direction: current.direction,
                    subject: subject.to_string(),
                    body: Some(format!("{} · {}s", current.caller, duration)),
                    occurred_at: current.started_at,
                    purpose: None,
                };
                Some(
                    self.insert_interaction(&mut tx, actor, c, &i, now_ms)
                        .await?,
                )
            }
            None => None,
        };
        sqlx::query(
            "UPDATE calls SET ended_at = $1, duration_s = $2, ticket_id = COALESCE($3, ticket_id), \
             customer_id = $4, interaction_id = $5 WHERE id = $6",
        )
        .bind(now_ms)
        .bind(duration)
        .bind(ticket)
        .bind(customer)
        .bind(interaction)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "call",
                entity_id: Some(id),
                detail: json!({"ended": true, "duration_s": duration, "ticket_id": ticket}),
            },
        )
        .await?;
        let c = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(c)
    }
}
