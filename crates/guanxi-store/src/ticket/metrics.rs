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
//!
//! A reader who sees every ticket gets whole local days from the daily rollup
//! ([`super::rollup`], refreshed every few minutes) and the rest of the period (today, a
//! partial first day) counted live; a reader with a narrower scope is counted live.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guanxi_domain::role::{Actor, Role};
use serde::Serialize;

use super::parts::{calls_out, parts, sku_orders_in, ticket_parts, Parts, SkuOrders, TicketScope};
use crate::db::{from_ms, to_ms, Store};
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
    /// When the oldest day read from the daily rollup was counted (`None`: everything was
    /// counted live for this request). Today is always counted live.
    pub counted_at: Option<DateTime<Utc>>,
}

/// Most products listed in the complaint rate by product.
pub const TOP_PRODUCTS: i64 = 10;

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
    fn add_opened(&mut self, o: &super::parts::OpenedPart) {
        self.opened += o.n;
        self.wait_sum += o.wait_sum.unwrap_or(0.0);
        self.wait_n += o.wait_n.unwrap_or(0);
        self.frt_sum += o.frt_sum.unwrap_or(0.0);
        self.frt_n += o.frt_n.unwrap_or(0);
        self.fr_decided += o.fr_decided.unwrap_or(0);
        self.fr_breached += o.fr_breached.unwrap_or(0);
        if o.kind == "complaint" {
            self.complaints += o.n;
        }
    }

    fn add_resolved(&mut self, r: &super::parts::ResolvedPart) {
        self.resolved += r.n;
        self.handle_sum += r.handle_sum.unwrap_or(0.0);
        self.fcr += r.fcr.unwrap_or(0);
        self.reopened += r.reopened.unwrap_or(0);
        self.res_decided += r.res_decided.unwrap_or(0);
        self.res_breached += r.res_breached.unwrap_or(0);
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

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn mean(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

fn buckets(m: BTreeMap<String, i64>) -> Vec<Bucket> {
    let mut v: Vec<Bucket> = m.into_iter().map(|(key, n)| Bucket { key, n }).collect();
    v.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
    v
}

/// What is open now, per team and per agent (never rolled up: it is a state, not a period).
struct OpenNow {
    by_team: Vec<(Option<i64>, i64)>,
    by_agent: Vec<(i64, i64)>,
}

/// The figures of a period from its parts and what is open now.
fn assemble(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    p: Parts,
    now: OpenNow,
    counted_at: Option<DateTime<Utc>>,
) -> ServiceMetrics {
    let mut all = Sums::default();
    let mut per_team: BTreeMap<Option<i64>, Sums> = BTreeMap::new();
    let (mut channels, mut kinds) = (BTreeMap::new(), BTreeMap::new());
    // Per agent: first responses of tickets opened in the period, resolutions in it.
    let mut agent_frt: BTreeMap<i64, (f64, i64, i64, i64)> = BTreeMap::new();
    let mut agent_resolved: BTreeMap<i64, i64> = BTreeMap::new();
    for o in &p.opened {
        all.add_opened(o);
        per_team.entry(o.team).or_default().add_opened(o);
        *channels.entry(o.channel.clone()).or_insert(0) += o.n;
        *kinds.entry(o.kind.clone()).or_insert(0) += o.n;
    }
    for r in &p.resolved {
        all.add_resolved(r);
        per_team.entry(r.team).or_default().add_resolved(r);
    }
    for a in &p.agents {
        agent_frt.insert(a.agent, (a.frt_sum, a.frt_n, a.fr_decided, a.fr_breached));
        agent_resolved.insert(a.agent, a.resolved);
    }
    for (team, n) in &now.by_team {
        all.backlog += n;
        per_team.entry(*team).or_default().backlog += n;
    }
    let mut outbound: BTreeMap<String, i64> = p.replies.iter().cloned().collect();
    if p.calls_out > 0 {
        *outbound.entry("phone".to_string()).or_insert(0) += p.calls_out;
    }
    let orders = p.orders;
    let per_thousand = |n: i64| ratio(n * 1000, orders);
    let mut complaint_rate: Vec<ComplaintRate> = p
        .categories
        .iter()
        .map(|(category_id, n)| ComplaintRate {
            category_id: *category_id,
            complaints: *n,
            per_thousand_orders: per_thousand(*n),
        })
        .collect();
    complaint_rate.sort_by_key(|r| std::cmp::Reverse(r.complaints));
    let complaint_rate_by_product = top_skus(&p.skus)
        .into_iter()
        .map(|(sku, n)| {
            let with_it = p
                .sku_orders
                .iter()
                .find(|(s, _)| *s == sku)
                .map(|(_, o)| *o)
                .unwrap_or(0);
            ProductComplaintRate {
                per_thousand_orders: ratio(n * 1000, with_it),
                sku,
                complaints: n,
                orders: with_it,
            }
        })
        .collect();
    let mut ids: Vec<i64> = agent_frt
        .keys()
        .chain(agent_resolved.keys())
        .copied()
        .chain(now.by_agent.iter().map(|r| r.0))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut agents: Vec<AgentFigures> = ids
        .into_iter()
        .map(|user_id| {
            let (sum, n, decided, breached) = agent_frt.get(&user_id).copied().unwrap_or_default();
            AgentFigures {
                user_id,
                resolved: agent_resolved.get(&user_id).copied().unwrap_or(0),
                first_response_minutes: mean(sum, n),
                first_response_attainment: ratio(decided - breached, decided),
                open: now
                    .by_agent
                    .iter()
                    .find(|r| r.0 == user_id)
                    .map(|r| r.1)
                    .unwrap_or(0),
            }
        })
        .collect();
    agents.sort_by(|a, b| b.resolved.cmp(&a.resolved).then(a.user_id.cmp(&b.user_id)));
    ServiceMetrics {
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
        complaint_rate,
        complaint_rate_by_product,
        outbound_by_channel: buckets(outbound),
        teams: per_team.iter().map(|(id, s)| s.team(*id)).collect(),
        agents,
        counted_at,
    }
}

/// The most complained-about SKUs, most first (ties by SKU).
fn top_skus(skus: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut v = skus.to_vec();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(usize::try_from(TOP_PRODUCTS).unwrap_or(10));
    v
}

/// Whether a reader's figures may come from the desk-wide rollup (they see every ticket).
fn sees_every_ticket(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::Admin | Role::Manager | Role::Marketing | Role::Viewer
    )
}

impl Store {
    /// The desk's figures for `[from, to)`, over the tickets the actor may see; whole local
    /// days (at `utc_offset_hours`) come from the daily rollup when the actor sees every
    /// ticket and the rollup has them.
    pub async fn service_metrics(
        &self,
        actor: &Actor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        utc_offset_hours: i64,
    ) -> Result<ServiceMetrics> {
        let (f, t) = (to_ms(from), to_ms(to));
        let (mut spans, mut counted_at) = (Vec::new(), None);
        let mut live: Vec<(i64, i64)> = vec![(f, t)];
        if sees_every_ticket(actor) {
            let rolled = self.rolled_up_days(f, t, utc_offset_hours).await?;
            if let Some(r) = rolled {
                counted_at = r.counted_at.map(from_ms);
                live = r.live;
                spans.extend(r.parts);
            }
        } else if actor.role == Role::Service {
            // An agent sees the cells of their queues and the teams they lead, and their own
            // tickets elsewhere: the cells come from the rollup, the rest is counted live.
            let mut conn = self.read.acquire().await?;
            let queues = super::queue::agent_queues(&mut conn, actor.id).await?;
            let teams: Vec<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE lead_id = $1")
                .bind(actor.id)
                .fetch_all(&mut *conn)
                .await?;
            drop(conn);
            let rolled = self
                .rolled_up_cells(f, t, utc_offset_hours, &queues, &teams)
                .await?;
            if let Some(r) = rolled {
                counted_at = r.counted_at.map(from_ms);
                live = r.live;
                spans.extend(r.parts);
                let outside = TicketScope::AssignedOutside {
                    agent: actor.id,
                    queues: &queues,
                    teams: &teams,
                };
                for (a, b) in r.covered {
                    spans.extend(
                        ticket_parts(&self.read, &outside, a, b)
                            .await?
                            .into_values(),
                    );
                    spans.push(Parts {
                        calls_out: calls_out(&self.read, actor, a, b).await?,
                        ..Parts::default()
                    });
                }
            }
        }
        // A long live span counts orders only for the products that make the list (a grouped
        // count of every product over a month of orders is the slow part); a day or less
        // counts them all, as the rollup does.
        let mut long = Vec::new();
        for (a, b) in live {
            if b - a > 2 * 24 * 3_600_000 {
                long.push((a, b));
                spans.push(parts(&self.read, actor, a, b, SkuOrders::Only(&[])).await?);
            } else if a < b {
                spans.push(parts(&self.read, actor, a, b, SkuOrders::All).await?);
            }
        }
        let mut p = Parts::sum(spans);
        if !long.is_empty() {
            let top: Vec<String> = top_skus(&p.skus).into_iter().map(|(s, _)| s).collect();
            let mut extra = vec![p];
            for (a, b) in long {
                extra.push(Parts {
                    sku_orders: sku_orders_in(&self.read, SkuOrders::Only(&top), a, b).await?,
                    ..Parts::default()
                });
            }
            p = Parts::sum(extra);
        }
        let now = self.open_now(actor).await?;
        Ok(assemble(from, to, p, now, counted_at))
    }

    async fn open_now(&self, actor: &Actor) -> Result<OpenNow> {
        // One pass over the open tickets, per team and agent. The scope goes after the whole
        // condition (an agent's used to land inside `IN`).
        let mut q = SqlBuilder::new(&format!(
            "SELECT t.team_id, t.assignee_id, COUNT(*) FROM tickets t \
             WHERE t.status IN {OPEN_STATUSES}"
        ));
        push_ticket_scope(&mut q, actor);
        q.push(" GROUP BY t.team_id, t.assignee_id");
        let rows: Vec<(Option<i64>, Option<i64>, i64)> = q.query_as().fetch_all(&self.read).await?;
        let (mut by_team, mut by_agent) = (BTreeMap::new(), BTreeMap::new());
        for (team, agent, n) in rows {
            *by_team.entry(team).or_insert(0) += n;
            if let Some(a) = agent {
                *by_agent.entry(a).or_insert(0) += n;
            }
        }
        Ok(OpenNow {
            by_team: by_team.into_iter().collect(),
            by_agent: by_agent.into_iter().collect(),
        })
    }
}
