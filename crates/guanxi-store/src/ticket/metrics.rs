//! The service desk's figures for a period: volume by channel, wait and response times,
//! first-contact resolution, reopen rate, SLA attainment, backlog, per agent; and the seeds'
//! complaint rate (投诉率 = complaints ÷ orders) overall and per category. Every figure counts
//! only tickets the reader may see, with the same scope as the lists.
//!
//! Definitions (stated on the page, so a manager and an analyst read the same thing):
//! - wait: opened → first assigned to an agent; first response: opened → first reply;
//!   handle: opened → resolved (wall-clock minutes, medians are not taken: means with n).
//! - first-contact resolution: resolved tickets never reopened and not continued by a later
//!   ticket, over resolved tickets (Zammad's "closed within 15 minutes" counts the wrong thing).
//! - SLA attainment per target: decided targets (met, or breached) not breached, over decided.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use serde::Serialize;

use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::sql::SqlBuilder;
use crate::ticket::{push_ticket_scope, OPEN_STATUSES};

/// A count with its share.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    /// What is counted (a channel code, a category id, a user id as text).
    pub key: String,
    /// How many.
    pub n: i64,
}

/// One agent's figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentFigures {
    /// Agent.
    pub user_id: i64,
    /// Tickets they resolved in the period.
    pub resolved: i64,
    /// Mean minutes to their first reply.
    pub first_response_minutes: Option<f64>,
    /// Share of their decided first-response targets met (0–1).
    pub first_response_attainment: Option<f64>,
    /// Open tickets they carry now.
    pub open: i64,
}

/// Complaints per category against orders.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComplaintRate {
    /// Category (None: uncategorised).
    pub category_id: Option<i64>,
    /// Complaints opened in the period.
    pub complaints: i64,
    /// Complaints per 1,000 orders placed in the period.
    pub per_thousand_orders: Option<f64>,
}

/// The desk's figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceMetrics {
    /// Period start.
    pub from: DateTime<Utc>,
    /// Period end (exclusive).
    pub to: DateTime<Utc>,
    /// Tickets opened in the period.
    pub opened: i64,
    /// Opened by channel.
    pub by_channel: Vec<Bucket>,
    /// Opened by kind.
    pub by_kind: Vec<Bucket>,
    /// Resolved in the period.
    pub resolved: i64,
    /// Open now (the backlog).
    pub backlog: i64,
    /// Mean minutes from opening to the first agent, tickets opened in the period.
    pub wait_minutes: Option<f64>,
    /// Mean minutes from opening to the first reply.
    pub first_response_minutes: Option<f64>,
    /// Mean minutes from opening to resolution, tickets resolved in the period.
    pub handle_minutes: Option<f64>,
    /// First-contact resolution rate (0–1).
    pub first_contact_resolution: Option<f64>,
    /// Reopened ÷ resolved (0–1).
    pub reopen_rate: Option<f64>,
    /// First-response targets decided in the period (met or breached): the attainment's n.
    pub first_response_decided: i64,
    /// First-response targets met ÷ decided (0–1).
    pub first_response_attainment: Option<f64>,
    /// Resolution targets decided (tickets resolved in the period with a target).
    pub resolution_decided: i64,
    /// Resolution targets met ÷ decided (0–1).
    pub resolution_attainment: Option<f64>,
    /// Complaints opened in the period.
    pub complaints: i64,
    /// Orders placed in the period (the complaint rate's base).
    pub orders: i64,
    /// Complaints per 1,000 orders.
    pub complaints_per_thousand_orders: Option<f64>,
    /// Per complaint category.
    pub complaint_rate: Vec<ComplaintRate>,
    /// Per agent.
    pub agents: Vec<AgentFigures>,
}

/// Mean wait, mean first response, decided and breached first responses, complaints.
type OpenedRow = (
    Option<f64>,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);
/// Resolved, mean handle time, first-contact resolutions, reopened, decided and breached
/// resolution targets.
type ResolvedRow = (
    i64,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// An agent's first responses in the period: agent, mean minutes, decided, breached.
type AgentResponses = (i64, Option<f64>, Option<i64>, Option<i64>);

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Store {
    /// The desk's figures for `[from, to)`, over the tickets the actor may see.
    pub async fn service_metrics(
        &self,
        actor: &Actor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ServiceMetrics> {
        let (f, t) = (to_ms(from), to_ms(to));
        let scoped = |sql: &str| {
            let mut q = SqlBuilder::new(sql);
            push_ticket_scope(&mut q, actor);
            q
        };
        let opened_in = |q: &mut SqlBuilder| {
            q.push(" AND t.created_at >= ")
                .int(f)
                .push(" AND t.created_at < ")
                .int(t);
        };
        let resolved_in = |q: &mut SqlBuilder| {
            q.push(" AND t.resolved_at >= ")
                .int(f)
                .push(" AND t.resolved_at < ")
                .int(t);
        };

        let mut q = scoped("SELECT t.channel, COUNT(*) FROM tickets t WHERE 1 = 1");
        opened_in(&mut q);
        q.push(" GROUP BY t.channel ORDER BY 2 DESC");
        let by_channel: Vec<(String, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut q = scoped("SELECT t.kind, COUNT(*) FROM tickets t WHERE 1 = 1");
        opened_in(&mut q);
        q.push(" GROUP BY t.kind ORDER BY 2 DESC");
        let by_kind: Vec<(String, i64)> = q.query_as().fetch_all(&self.read).await?;
        let opened: i64 = by_channel.iter().map(|b| b.1).sum();

        // Times and first-response attainment over tickets opened in the period.
        let mut q = scoped(
            "SELECT AVG(CAST(t.first_assigned_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             AVG(CAST(t.first_response_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.first_response_due IS NOT NULL AND (t.first_response_at IS NOT NULL \
                 OR t.first_response_breached_at IS NOT NULL) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.first_response_breached_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.kind = 'complaint' THEN 1 ELSE 0 END) \
             FROM tickets t WHERE 1 = 1",
        );
        opened_in(&mut q);
        let (wait, frt, fr_decided, fr_breached, complaints): OpenedRow =
            q.query_as().fetch_one(&self.read).await?;

        // Resolution figures over tickets resolved in the period.
        let mut q = scoped(
            "SELECT COUNT(*), AVG(CAST(t.resolved_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.reopen_count = 0 AND NOT EXISTS (SELECT 1 FROM tickets ch \
                 WHERE ch.parent_id = t.id) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.resolution_due IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.resolution_breached_at IS NOT NULL THEN 1 ELSE 0 END) \
             FROM tickets t WHERE 1 = 1",
        );
        resolved_in(&mut q);
        let (resolved, handle, fcr, reopened, res_decided, res_breached): ResolvedRow =
            q.query_as().fetch_one(&self.read).await?;

        let mut q = scoped("SELECT COUNT(*) FROM tickets t WHERE t.status IN ");
        q.push(OPEN_STATUSES);
        let backlog: i64 = q.query_scalar().fetch_one(&self.read).await?;

        let orders: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE ordered_at >= $1 AND ordered_at < $2",
        )
        .bind(f)
        .bind(t)
        .fetch_one(&self.read)
        .await?;
        let per_thousand = |n: i64| ratio(n * 1000, orders);
        let mut q =
            scoped("SELECT t.category_id, COUNT(*) FROM tickets t WHERE t.kind = 'complaint'");
        opened_in(&mut q);
        q.push(" GROUP BY t.category_id ORDER BY 2 DESC");
        let per_category: Vec<(Option<i64>, i64)> = q.query_as().fetch_all(&self.read).await?;

        // Per agent, three index ranges merged here: first responses of the tickets opened in
        // the period, tickets resolved in it, and the open tickets now.
        let mut q = SqlBuilder::new(
            "SELECT t.assignee_id, \
             AVG(CAST(t.first_response_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.first_response_due IS NOT NULL AND (t.first_response_at IS NOT NULL \
                 OR t.first_response_breached_at IS NOT NULL) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.first_response_breached_at IS NOT NULL THEN 1 ELSE 0 END) \
             FROM tickets t WHERE t.assignee_id IS NOT NULL",
        );
        opened_in(&mut q);
        push_ticket_scope(&mut q, actor);
        q.push(" GROUP BY t.assignee_id");
        let responses: Vec<AgentResponses> = q.query_as().fetch_all(&self.read).await?;
        let mut q = SqlBuilder::new(
            "SELECT t.assignee_id, COUNT(*) FROM tickets t WHERE t.assignee_id IS NOT NULL",
        );
        resolved_in(&mut q);
        push_ticket_scope(&mut q, actor);
        q.push(" GROUP BY t.assignee_id");
        let resolved_by: Vec<(i64, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut q = SqlBuilder::new(
            "SELECT t.assignee_id, COUNT(*) FROM tickets t WHERE t.assignee_id IS NOT NULL \
             AND t.status IN ",
        );
        q.push(OPEN_STATUSES);
        push_ticket_scope(&mut q, actor);
        q.push(" GROUP BY t.assignee_id");
        let open_by: Vec<(i64, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut agent_ids: Vec<i64> = responses
            .iter()
            .map(|r| r.0)
            .chain(resolved_by.iter().map(|r| r.0))
            .chain(open_by.iter().map(|r| r.0))
            .collect();
        agent_ids.sort_unstable();
        agent_ids.dedup();
        let count_of = |rows: &[(i64, i64)], id: i64| {
            rows.iter().find(|r| r.0 == id).map(|r| r.1).unwrap_or(0)
        };
        let mut agents: Vec<AgentFigures> = agent_ids
            .into_iter()
            .map(|user_id| {
                let r = responses.iter().find(|r| r.0 == user_id);
                let decided = r.and_then(|r| r.2).unwrap_or(0);
                let breached = r.and_then(|r| r.3).unwrap_or(0);
                AgentFigures {
                    user_id,
                    resolved: count_of(&resolved_by, user_id),
                    first_response_minutes: r.and_then(|r| r.1),
                    first_response_attainment: ratio(decided - breached, decided),
                    open: count_of(&open_by, user_id),
                }
            })
            .collect();
        agents.sort_by(|a, b| b.resolved.cmp(&a.resolved).then(a.user_id.cmp(&b.user_id)));

        let complaints = complaints.unwrap_or(0);
        let fr_decided = fr_decided.unwrap_or(0);
        let res_decided = res_decided.unwrap_or(0);
        Ok(ServiceMetrics {
            from,
            to,
            opened,
            by_channel: by_channel
                .into_iter()
                .map(|(key, n)| Bucket { key, n })
                .collect(),
            by_kind: by_kind
                .into_iter()
                .map(|(key, n)| Bucket { key, n })
                .collect(),
            resolved,
            backlog,
            wait_minutes: wait,
            first_response_minutes: frt,
            handle_minutes: handle,
            first_contact_resolution: ratio(fcr.unwrap_or(0), resolved),
            reopen_rate: ratio(reopened.unwrap_or(0), resolved),
            first_response_decided: fr_decided,
            first_response_attainment: ratio(fr_decided - fr_breached.unwrap_or(0), fr_decided),
            resolution_decided: res_decided,
            resolution_attainment: ratio(res_decided - res_breached.unwrap_or(0), res_decided),
            complaints,
            orders,
            complaints_per_thousand_orders: per_thousand(complaints),
            complaint_rate: per_category
                .into_iter()
                .map(|(category_id, n)| ComplaintRate {
                    category_id,
                    complaints: n,
                    per_thousand_orders: per_thousand(n),
                })
                .collect(),
            agents,
        })
    }
}
