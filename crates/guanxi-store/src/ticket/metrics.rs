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
use guanxi_domain::role::{Actor, Role};
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

/// One team's figures (tickets filed under the team; `None`: no team).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TeamFigures {
    /// Team.
    pub team_id: Option<i64>,
    /// Tickets opened in the period.
    pub opened: i64,
    /// Tickets resolved in the period.
    pub resolved: i64,
    /// Open now.
    pub backlog: i64,
    /// First-response targets met ÷ decided (0–1).
    pub first_response_attainment: Option<f64>,
    /// Resolution targets met ÷ decided (0–1).
    pub resolution_attainment: Option<f64>,
    /// First-contact resolution rate (0–1).
    pub first_contact_resolution: Option<f64>,
}

/// Complaints about one product against the orders that contained it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProductComplaintRate {
    /// The product's SKU as the complaint names it.
    pub sku: String,
    /// Complaints opened in the period naming it.
    pub complaints: i64,
    /// Orders placed in the period that contained it (0 for a SKU the shop does not know).
    pub orders: i64,
    /// Complaints per 1,000 of those orders.
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
    /// Per product named by complaints, most complained-about first (at most
    /// [`TOP_PRODUCTS`]).
    pub complaint_rate_by_product: Vec<ProductComplaintRate>,
    /// Outbound contacts in the period by channel: agents' replies (by the ticket's channel)
    /// and outbound calls (`phone`). Inbound is `by_channel`.
    pub outbound_by_channel: Vec<Bucket>,
    /// Per team.
    pub teams: Vec<TeamFigures>,
    /// Per agent.
    pub agents: Vec<AgentFigures>,
}

/// Most products listed in the complaint rate by product.
pub const TOP_PRODUCTS: i64 = 10;

/// Tickets opened in the period per team, channel and kind: count, summed and counted wait
/// and first-response minutes, decided and breached first responses, complaints.
type OpenedRow = (
    Option<i64>,
    String,
    String,
    i64,
    Option<f64>,
    Option<i64>,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);
/// Tickets resolved in the period per team: count, summed handle minutes, first-contact
/// resolutions, reopened, decided and breached resolution targets.
type ResolvedRow = (
    Option<i64>,
    i64,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Running sums of one team's (or the whole desk's) figures.
#[derive(Default)]
struct Sums {
    opened: i64,
    wait_sum: f64,
    wait_n: i64,
    frt_sum: f64,
    frt_n: i64,
    fr_decided: i64,
    fr_breached: i64,
    complaints: i64,
    resolved: i64,
    handle_sum: f64,
    fcr: i64,
    reopened: i64,
    res_decided: i64,
    res_breached: i64,
    backlog: i64,
}

impl Sums {
    fn add_opened(&mut self, r: &OpenedRow) {
        self.opened += r.3;
        self.wait_sum += r.4.unwrap_or(0.0);
        self.wait_n += r.5.unwrap_or(0);
        self.frt_sum += r.6.unwrap_or(0.0);
        self.frt_n += r.7.unwrap_or(0);
        self.fr_decided += r.8.unwrap_or(0);
        self.fr_breached += r.9.unwrap_or(0);
        if r.2 == "complaint" {
            self.complaints += r.3;
        }
    }

    fn add_resolved(&mut self, r: &ResolvedRow) {
        self.resolved += r.1;
        self.handle_sum += r.2.unwrap_or(0.0);
        self.fcr += r.3.unwrap_or(0);
        self.reopened += r.4.unwrap_or(0);
        self.res_decided += r.5.unwrap_or(0);
        self.res_breached += r.6.unwrap_or(0);
    }

    fn team(&self, team_id: Option<i64>) -> TeamFigures {
        TeamFigures {
            team_id,
            opened: self.opened,
            resolved: self.resolved,
            backlog: self.backlog,
            first_response_attainment: ratio(self.fr_decided - self.fr_breached, self.fr_decided),
            resolution_attainment: ratio(self.res_decided - self.res_breached, self.res_decided),
            first_contact_resolution: ratio(self.fcr, self.resolved),
        }
    }
}

fn mean(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

fn buckets(mut m: std::collections::BTreeMap<String, i64>) -> Vec<Bucket> {
    let mut v: Vec<Bucket> = std::mem::take(&mut m)
        .into_iter()
        .map(|(key, n)| Bucket { key, n })
        .collect();
    v.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
    v
}

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

        // One pass over the tickets opened in the period, grouped by team, channel and kind:
        // volumes, times and first-response attainment, overall and per team.
        let mut q = scoped(
            "SELECT t.team_id, t.channel, t.kind, COUNT(*), \
             SUM(CAST(t.first_assigned_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.first_assigned_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CAST(t.first_response_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.first_response_due IS NOT NULL AND (t.first_response_at IS NOT NULL \
                 OR t.first_response_breached_at IS NOT NULL) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.first_response_breached_at IS NOT NULL THEN 1 ELSE 0 END) \
             FROM tickets t WHERE 1 = 1",
        );
        opened_in(&mut q);
        q.push(" GROUP BY t.team_id, t.channel, t.kind");
        let opened_rows: Vec<OpenedRow> = q.query_as().fetch_all(&self.read).await?;

        // Resolution figures over tickets resolved in the period, per team.
        let mut q = scoped(
            "SELECT t.team_id, COUNT(*), \
             SUM(CAST(t.resolved_at - t.created_at AS DOUBLE PRECISION)) / 60000.0, \
             SUM(CASE WHEN t.reopen_count = 0 AND NOT EXISTS (SELECT 1 FROM tickets ch \
                 WHERE ch.parent_id = t.id) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.resolution_due IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN t.resolution_breached_at IS NOT NULL THEN 1 ELSE 0 END) \
             FROM tickets t WHERE 1 = 1",
        );
        resolved_in(&mut q);
        q.push(" GROUP BY t.team_id");
        let resolved_rows: Vec<ResolvedRow> = q.query_as().fetch_all(&self.read).await?;

        // The scope goes after the whole condition (an agent's used to land inside `IN`).
        let mut q = scoped(&format!(
            "SELECT t.team_id, COUNT(*) FROM tickets t WHERE t.status IN {OPEN_STATUSES}"
        ));
        q.push(" GROUP BY t.team_id");
        let backlog_rows: Vec<(Option<i64>, i64)> = q.query_as().fetch_all(&self.read).await?;

        let mut all = Sums::default();
        let mut per_team: std::collections::BTreeMap<Option<i64>, Sums> = Default::default();
        let mut channels = std::collections::BTreeMap::new();
        let mut kinds = std::collections::BTreeMap::new();
        for r in &opened_rows {
            all.add_opened(r);
            per_team.entry(r.0).or_default().add_opened(r);
            *channels.entry(r.1.clone()).or_insert(0) += r.3;
            *kinds.entry(r.2.clone()).or_insert(0) += r.3;
        }
        for r in &resolved_rows {
            all.add_resolved(r);
            per_team.entry(r.0).or_default().add_resolved(r);
        }
        for (team, n) in &backlog_rows {
            all.backlog += n;
            per_team.entry(*team).or_default().backlog += n;
        }
        let teams: Vec<TeamFigures> = per_team.iter().map(|(id, s)| s.team(*id)).collect();

        // Outbound: agents' replies by their ticket's channel, and outbound calls.
        let mut q = scoped(
            "SELECT t.channel, COUNT(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id \
             WHERE m.kind = 'reply'",
        );
        q.push(" AND m.created_at >= ")
            .int(f)
            .push(" AND m.created_at < ")
            .int(t)
            .push(" GROUP BY t.channel");
        let replies: Vec<(String, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut outbound: std::collections::BTreeMap<String, i64> = replies.into_iter().collect();
        let mut q = SqlBuilder::new(
            "SELECT COUNT(*) FROM calls c WHERE c.direction = 'outbound' AND c.started_at >= ",
        );
        q.int(f).push(" AND c.started_at < ").int(t);
        // Agents and reps count their own calls; the rest of the desk sees every call.
        if matches!(actor.role, Role::Service | Role::Sales) {
            q.push(" AND c.agent_id = ").int(actor.id);
        }
        let calls_out: i64 = q.query_scalar().fetch_one(&self.read).await?;
        if calls_out > 0 {
            *outbound.entry("phone".to_string()).or_insert(0) += calls_out;
        }

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
        // Per product: the most complained-about SKUs, each against the orders of the period
        // that contained it.
        let mut q = scoped(
            "SELECT t.product_sku, COUNT(*) FROM tickets t WHERE t.kind = 'complaint' \
             AND t.product_sku IS NOT NULL",
        );
        opened_in(&mut q);
        q.push(" GROUP BY t.product_sku ORDER BY 2 DESC, 1 LIMIT ")
            .int(TOP_PRODUCTS);
        let per_sku: Vec<(String, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut by_product = Vec::with_capacity(per_sku.len());
        for (sku, n) in per_sku {
            let with_it: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT ol.order_id) FROM products p \
                 JOIN order_lines ol ON ol.product_id = p.id \
                 JOIN orders o ON o.id = ol.order_id \
                 WHERE p.sku = $1 AND o.ordered_at >= $2 AND o.ordered_at < $3",
            )
            .bind(&sku)
            .bind(f)
            .bind(t)
            .fetch_one(&self.read)
            .await?;
            by_product.push(ProductComplaintRate {
                sku,
                complaints: n,
                orders: with_it,
                per_thousand_orders: ratio(n * 1000, with_it),
            });
        }

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

        Ok(ServiceMetrics {
            from,
            to,
            opened: all.opened,
            by_channel: buckets(channels),
            by_kind: buckets(kinds),
            resolved: all.resolved,
            backlog: all.backlog,
            wait_minutes: mean(all.wait_sum, all.wait_n),
            first_response_minutes: mean(all.frt_sum, all.frt_n),
            handle_minutes: mean(all.handle_sum, all.resolved),
            first_contact_resolution: ratio(all.fcr, all.resolved),
            reopen_rate: ratio(all.reopened, all.resolved),
            first_response_decided: all.fr_decided,
            first_response_attainment: ratio(all.fr_decided - all.fr_breached, all.fr_decided),
            resolution_decided: all.res_decided,
            resolution_attainment: ratio(all.res_decided - all.res_breached, all.res_decided),
            complaints: all.complaints,
            orders,
            complaints_per_thousand_orders: per_thousand(all.complaints),
            complaint_rate: per_category
                .into_iter()
                .map(|(category_id, n)| ComplaintRate {
                    category_id,
                    complaints: n,
                    per_thousand_orders: per_thousand(n),
                })
                .collect(),
            complaint_rate_by_product: by_product,
            outbound_by_channel: buckets(outbound),
            teams,
            agents,
        })
    }
}
