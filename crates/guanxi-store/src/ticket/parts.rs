//! The additive parts of the desk's figures over a span of time and a reader's scope: counts
//! and sums (never means or ratios), so the parts of several days add up to the parts of the
//! period. The figures ([`super::metrics`]) are assembled from parts computed live, read from
//! the daily rollup ([`super::rollup`]), or both.

use std::collections::BTreeMap;

use guanxi_domain::role::{Actor, Role};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::error::Result;
use crate::sql::SqlBuilder;
use crate::ticket::push_ticket_scope;

/// Tickets opened in the span with one team, channel and kind. (The query groups by
/// assignee too; that dimension is folded into [`AgentPart`]s, so a day's row stays small.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub(crate) struct OpenedPart {
    pub team: Option<i64>,
    pub channel: String,
    pub kind: String,
    #[serde(skip)]
    pub assignee: Option<i64>,
    pub n: i64,
    pub wait_sum: Option<f64>,
    pub wait_n: Option<i64>,
    pub frt_sum: Option<f64>,
    pub frt_n: Option<i64>,
    pub fr_decided: Option<i64>,
    pub fr_breached: Option<i64>,
}

/// Tickets resolved in the span with one team (the assignee folded as for [`OpenedPart`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub(crate) struct ResolvedPart {
    pub team: Option<i64>,
    #[serde(skip)]
    pub assignee: Option<i64>,
    pub n: i64,
    pub handle_sum: Option<f64>,
    pub fcr: Option<i64>,
    pub reopened: Option<i64>,
    pub res_decided: Option<i64>,
    pub res_breached: Option<i64>,
}

/// One agent's part: first responses of the tickets opened in the span that they hold, and
/// the tickets they resolved in it. Kept as a JSON array (a day holds one per agent, and a
/// year's figures read 365 days of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "AgentRow", into = "AgentRow")]
pub(crate) struct AgentPart {
    pub agent: i64,
    pub frt_sum: f64,
    pub frt_n: i64,
    pub fr_decided: i64,
    pub fr_breached: i64,
    pub resolved: i64,
}

/// [`AgentPart`] as stored: agent, first-response time summed in whole seconds, its count,
/// decided, breached, resolved.
type AgentRow = (i64, i64, i64, i64, i64, i64);

impl From<AgentRow> for AgentPart {
    fn from(r: AgentRow) -> Self {
        AgentPart {
            agent: r.0,
            frt_sum: r.1 as f64 / 60.0,
            frt_n: r.2,
            fr_decided: r.3,
            fr_breached: r.4,
            resolved: r.5,
        }
    }
}

impl From<AgentPart> for AgentRow {
    fn from(a: AgentPart) -> Self {
        // Whole seconds are all a mean in minutes needs, and keep a day's row short.
        let seconds = (a.frt_sum * 60.0).round() as i64;
        (
            a.agent,
            seconds,
            a.frt_n,
            a.fr_decided,
            a.fr_breached,
            a.resolved,
        )
    }
}

/// Everything the figures of a span are made of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Parts {
    pub opened: Vec<OpenedPart>,
    pub resolved: Vec<ResolvedPart>,
    #[serde(default)]
    pub agents: Vec<AgentPart>,
    /// Complaints opened per category.
    pub categories: Vec<(Option<i64>, i64)>,
    /// Complaints opened per product SKU.
    pub skus: Vec<(String, i64)>,
    /// Agents' replies per ticket channel.
    pub replies: Vec<(String, i64)>,
    /// Outbound calls.
    pub calls_out: i64,
    /// Orders placed.
    pub orders: i64,
    /// Orders placed that contained each product, by SKU (a day of the rollup: every product
    /// ordered; a live span: the products asked for).
    pub sku_orders: Vec<(String, i64)>,
}

/// Which products' order counts a span's parts carry.
pub(crate) enum SkuOrders<'a> {
    /// Every product ordered in the span (one grouped pass over the span's orders).
    All,
    /// These SKUs only.
    Only(&'a [String]),
}

fn add<K: Ord + Clone>(m: &mut BTreeMap<K, i64>, rows: &[(K, i64)]) {
    for (k, n) in rows {
        *m.entry(k.clone()).or_insert(0) += n;
    }
}

fn plus(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    Some(a.unwrap_or(0) + b.unwrap_or(0))
}

fn plus_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a.unwrap_or(0.0) + b.unwrap_or(0.0))
}

impl Parts {
    /// The parts of several spans as the parts of their union.
    pub(crate) fn sum(all: impl IntoIterator<Item = Parts>) -> Parts {
        let mut opened: BTreeMap<(Option<i64>, String, String, Option<i64>), OpenedPart> =
            BTreeMap::new();
        let mut resolved: BTreeMap<Option<i64>, ResolvedPart> = BTreeMap::new();
        let mut agents: BTreeMap<i64, AgentPart> = BTreeMap::new();
        let (mut categories, mut skus, mut replies, mut sku_orders) = (
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
        );
        let mut out = Parts::default();
        for p in all {
            for o in p.opened {
                if let Some(a) = o.assignee {
                    let e = agents.entry(a).or_insert_with(|| AgentPart {
                        agent: a,
                        ..Default::default()
                    });
                    e.frt_sum += o.frt_sum.unwrap_or(0.0);
                    e.frt_n += o.frt_n.unwrap_or(0);
                    e.fr_decided += o.fr_decided.unwrap_or(0);
                    e.fr_breached += o.fr_breached.unwrap_or(0);
                }
                let key = (o.team, o.channel.clone(), o.kind.clone(), None);
                let e = opened.entry(key).or_insert_with(|| OpenedPart {
                    team: o.team,
                    channel: o.channel.clone(),
                    kind: o.kind.clone(),
                    ..Default::default()
                });
                e.n += o.n;
                e.wait_sum = plus_f(e.wait_sum, o.wait_sum);
                e.wait_n = plus(e.wait_n, o.wait_n);
                e.frt_sum = plus_f(e.frt_sum, o.frt_sum);
                e.frt_n = plus(e.frt_n, o.frt_n);
                e.fr_decided = plus(e.fr_decided, o.fr_decided);
                e.fr_breached = plus(e.fr_breached, o.fr_breached);
            }
            for r in p.resolved {
                if let Some(a) = r.assignee {
                    agents
                        .entry(a)
                        .or_insert_with(|| AgentPart {
                            agent: a,
                            ..Default::default()
                        })
                        .resolved += r.n;
                }
                let e = resolved.entry(r.team).or_insert_with(|| ResolvedPart {
                    team: r.team,
                    ..Default::default()
                });
                e.n += r.n;
                e.handle_sum = plus_f(e.handle_sum, r.handle_sum);
                e.fcr = plus(e.fcr, r.fcr);
                e.reopened = plus(e.reopened, r.reopened);
                e.res_decided = plus(e.res_decided, r.res_decided);
                e.res_breached = plus(e.res_breached, r.res_breached);
            }
            for a in p.agents {
                let e = agents.entry(a.agent).or_insert_with(|| AgentPart {
                    agent: a.agent,
                    ..Default::default()
                });
                e.frt_sum += a.frt_sum;
                e.frt_n += a.frt_n;
                e.fr_decided += a.fr_decided;
                e.fr_breached += a.fr_breached;
                e.resolved += a.resolved;
            }
            add(&mut categories, &p.categories);
            add(&mut skus, &p.skus);
            add(&mut replies, &p.replies);
            add(&mut sku_orders, &p.sku_orders);
            out.calls_out += p.calls_out;
            out.orders += p.orders;
        }
        out.opened = opened.into_values().collect();
        out.resolved = resolved.into_values().collect();
        out.agents = agents.into_values().collect();
        out.categories = categories.into_iter().collect();
        out.skus = skus.into_iter().collect();
        out.replies = replies.into_iter().collect();
        out.sku_orders = sku_orders.into_iter().collect();
        out
    }
}

/// A cell of the desk: the queue and the team a ticket is in (0 for none). Cells are
/// disjoint, and whether a service agent sees a ticket by their queues or the teams they lead
/// depends on its cell alone, so an agent's figures add up the cells they see.
pub(crate) type Cell = (i64, i64);

/// Which tickets a span's parts count.
pub(crate) enum TicketScope<'a> {
    /// Those the actor may see.
    Actor(&'a Actor),
    /// Every ticket, split by cell (the rollup's cells).
    Cells,
    /// The actor's own tickets outside the cells they see by queue and team: what an agent's
    /// figures add live to the rolled-up cells.
    AssignedOutside {
        /// The agent.
        agent: i64,
        /// Their queues.
        queues: &'a [i64],
        /// The teams they lead.
        teams: &'a [i64],
    },
}

impl TicketScope<'_> {
    fn push(&self, q: &mut SqlBuilder) {
        match self {
            TicketScope::Actor(actor) => push_ticket_scope(q, actor),
            TicketScope::Cells => {}
            TicketScope::AssignedOutside {
                agent,
                queues,
                teams,
            } => {
                q.push(" AND t.assignee_id = ").int(*agent);
                push_outside_cells(q, queues, teams);
            }
        }
    }

    /// The cell columns a query selects (constants when not split by cell).
    fn cell_columns(&self) -> &'static str {
        match self {
            TicketScope::Cells => "COALESCE(t.queue_id, 0) AS cq, COALESCE(t.team_id, 0) AS ct",
            _ => "0 AS cq, 0 AS ct",
        }
    }

    fn group(&self) -> &'static str {
        match self {
            TicketScope::Cells => "COALESCE(t.queue_id, 0), COALESCE(t.team_id, 0), ",
            _ => "",
        }
    }
}

/// ` AND NOT (the ticket's queue is one of `queues` or its team one of `teams`)`.
pub(crate) fn push_outside_cells(q: &mut SqlBuilder, queues: &[i64], teams: &[i64]) {
    if !queues.is_empty() {
        q.push(" AND COALESCE(t.queue_id, 0) NOT IN ")
            .int_list(queues);
    }
    if !teams.is_empty() {
        q.push(" AND COALESCE(t.team_id, 0) NOT IN ")
            .int_list(teams);
    }
}

/// An opened or resolved part with its cell, as a query returns it.
#[derive(sqlx::FromRow)]
struct InCell<T> {
    cq: i64,
    ct: i64,
    #[sqlx(flatten)]
    part: T,
}

/// The ticket parts of `[f, t)` (epoch ms) over `scope`, per cell (one cell, `(0, 0)`, unless
/// split by cell); orders, products and calls are left to the caller.
pub(crate) async fn ticket_parts(
    read: &AnyPool,
    scope: &TicketScope<'_>,
    f: i64,
    t: i64,
) -> Result<BTreeMap<Cell, Parts>> {
    let scoped = |head: &str, tail: &str| {
        let mut q = SqlBuilder::new(&format!("SELECT {}, {head}", scope.cell_columns()));
        q.push(tail);
        scope.push(&mut q);
        q
    };
    let opened_in = |q: &mut SqlBuilder| {
        q.push(" AND t.created_at >= ")
            .int(f)
            .push(" AND t.created_at < ")
            .int(t);
    };
    let group = scope.group();
    let mut cells: BTreeMap<Cell, Parts> = BTreeMap::new();

    // One pass over the tickets opened in the span: volumes, times, first responses.
    let mut q = scoped(
        "t.team_id AS team, t.channel, t.kind, t.assignee_id AS assignee, COUNT(*) AS n, \
         SUM(CAST(t.first_assigned_at - t.created_at AS DOUBLE PRECISION)) / 60000.0 AS wait_sum, \
         SUM(CASE WHEN t.first_assigned_at IS NOT NULL THEN 1 ELSE 0 END) AS wait_n, \
         SUM(CAST(t.first_response_at - t.created_at AS DOUBLE PRECISION)) / 60000.0 AS frt_sum, \
         SUM(CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END) AS frt_n, \
         SUM(CASE WHEN t.first_response_due IS NOT NULL AND (t.first_response_at IS NOT NULL \
             OR t.first_response_breached_at IS NOT NULL) THEN 1 ELSE 0 END) AS fr_decided, \
         SUM(CASE WHEN t.first_response_breached_at IS NOT NULL THEN 1 ELSE 0 END) \
             AS fr_breached",
        " FROM tickets t WHERE 1 = 1",
    );
    opened_in(&mut q);
    q.push(&format!(
        " GROUP BY {group}t.team_id, t.channel, t.kind, t.assignee_id"
    ));
    let rows: Vec<InCell<OpenedPart>> = q.query_as().fetch_all(read).await?;
    for r in rows {
        cells.entry((r.cq, r.ct)).or_default().opened.push(r.part);
    }

    // Resolutions in the span.
    let mut q = scoped(
        "t.team_id AS team, t.assignee_id AS assignee, COUNT(*) AS n, \
         SUM(CAST(t.resolved_at - t.created_at AS DOUBLE PRECISION)) / 60000.0 AS handle_sum, \
         SUM(CASE WHEN t.reopen_count = 0 AND NOT EXISTS (SELECT 1 FROM tickets ch \
             WHERE ch.parent_id = t.id) THEN 1 ELSE 0 END) AS fcr, \
         SUM(CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened, \
         SUM(CASE WHEN t.resolution_due IS NOT NULL THEN 1 ELSE 0 END) AS res_decided, \
         SUM(CASE WHEN t.resolution_breached_at IS NOT NULL THEN 1 ELSE 0 END) AS res_breached",
        " FROM tickets t WHERE 1 = 1",
    );
    q.push(" AND t.resolved_at >= ")
        .int(f)
        .push(" AND t.resolved_at < ")
        .int(t);
    q.push(&format!(" GROUP BY {group}t.team_id, t.assignee_id"));
    let rows: Vec<InCell<ResolvedPart>> = q.query_as().fetch_all(read).await?;
    for r in rows {
        cells.entry((r.cq, r.ct)).or_default().resolved.push(r.part);
    }

    let mut q = scoped(
        "t.category_id, COUNT(*)",
        " FROM tickets t WHERE t.kind = 'complaint'",
    );
    opened_in(&mut q);
    q.push(&format!(" GROUP BY {group}t.category_id"));
    let rows: Vec<(i64, i64, Option<i64>, i64)> = q.query_as().fetch_all(read).await?;
    for (cq, ct, k, n) in rows {
        cells.entry((cq, ct)).or_default().categories.push((k, n));
    }
    let mut q = scoped(
        "t.product_sku, COUNT(*)",
        " FROM tickets t WHERE t.kind = 'complaint' AND t.product_sku IS NOT NULL",
    );
    opened_in(&mut q);
    q.push(&format!(" GROUP BY {group}t.product_sku"));
    let rows: Vec<(i64, i64, String, i64)> = q.query_as().fetch_all(read).await?;
    for (cq, ct, k, n) in rows {
        cells.entry((cq, ct)).or_default().skus.push((k, n));
    }

    // Outbound: agents' replies by their ticket's channel. The period's replies are counted per
    // ticket first, then joined to their tickets: an aggregate is never flattened into the
    // join, so PostgreSQL cannot start from every ticket an agent ever held instead (135 ms
    // for an agent's 5,000 at a million tickets; SQLite chose this order by itself).
    let mut q = SqlBuilder::new(&format!(
        "SELECT {}, t.channel, CAST(SUM(m.n) AS BIGINT) FROM (SELECT ticket_id, COUNT(*) AS n \
         FROM ticket_messages WHERE kind = 'reply' AND created_at >= ",
        scope.cell_columns()
    ));
    q.int(f)
        .push(" AND created_at < ")
        .int(t)
        .push(" GROUP BY ticket_id) m JOIN tickets t ON t.id = m.ticket_id WHERE 1 = 1");
    scope.push(&mut q);
    q.push(&format!(" GROUP BY {group}t.channel"));
    let rows: Vec<(i64, i64, String, i64)> = q.query_as().fetch_all(read).await?;
    for (cq, ct, k, n) in rows {
        cells.entry((cq, ct)).or_default().replies.push((k, n));
    }
    // Folding each cell through `sum` moves the assignee dimension into agent parts.
    Ok(cells
        .into_iter()
        .map(|(cell, p)| (cell, Parts::sum([p])))
        .collect())
}

/// Outbound calls in `[f, t)`: an agent's or a rep's own, everyone's for the rest of the desk.
pub(crate) async fn calls_out(read: &AnyPool, actor: &Actor, f: i64, t: i64) -> Result<i64> {
    let mut q = SqlBuilder::new(
        "SELECT COUNT(*) FROM calls c WHERE c.direction = 'outbound' AND c.started_at >= ",
    );
    q.int(f).push(" AND c.started_at < ").int(t);
    if matches!(actor.role, Role::Service | Role::Sales) {
        q.push(" AND c.agent_id = ").int(actor.id);
    }
    Ok(q.query_scalar().fetch_one(read).await?)
}

/// Orders placed in `[f, t)`, and those with each product (`sku_orders`).
pub(crate) async fn order_parts(
    read: &AnyPool,
    f: i64,
    t: i64,
    sku_orders: SkuOrders<'_>,
) -> Result<Parts> {
    let orders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE ordered_at >= $1 AND ordered_at < $2",
    )
    .bind(f)
    .bind(t)
    .fetch_one(read)
    .await?;
    Ok(Parts {
        orders,
        sku_orders: sku_orders_in(read, sku_orders, f, t).await?,
        ..Parts::default()
    })
}

/// The parts of `[f, t)` (epoch ms) over the tickets `actor` may see.
pub(crate) async fn parts(
    read: &AnyPool,
    actor: &Actor,
    f: i64,
    t: i64,
    sku_orders: SkuOrders<'_>,
) -> Result<Parts> {
    let tickets = ticket_parts(read, &TicketScope::Actor(actor), f, t).await?;
    let mut all: Vec<Parts> = tickets.into_values().collect();
    all.push(order_parts(read, f, t, sku_orders).await?);
    all.push(Parts {
        calls_out: calls_out(read, actor, f, t).await?,
        ..Parts::default()
    });
    Ok(Parts::sum(all))
}

/// Orders placed in `[f, t)` that contained each product, by SKU.
pub(crate) async fn sku_orders_in(
    read: &AnyPool,
    which: SkuOrders<'_>,
    f: i64,
    t: i64,
) -> Result<Vec<(String, i64)>> {
    Ok(match which {
        SkuOrders::All => {
            sqlx::query_as(
                "SELECT p.sku, COUNT(DISTINCT o.id) FROM orders o \
                 JOIN order_lines ol ON ol.order_id = o.id JOIN products p ON p.id = ol.product_id \
                 WHERE o.ordered_at >= $1 AND o.ordered_at < $2 GROUP BY p.sku",
            )
            .bind(f)
            .bind(t)
            .fetch_all(read)
            .await?
        }
        SkuOrders::Only(list) => {
            let mut out = Vec::with_capacity(list.len());
            for sku in list {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT ol.order_id) FROM products p \
                     JOIN order_lines ol ON ol.product_id = p.id \
                     JOIN orders o ON o.id = ol.order_id \
                     WHERE p.sku = $1 AND o.ordered_at >= $2 AND o.ordered_at < $3",
                )
                .bind(sku)
                .bind(f)
                .bind(t)
                .fetch_one(read)
                .await?;
                out.push((sku.clone(), n));
            }
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(n: i64, frt: f64) -> OpenedPart {
        OpenedPart {
            team: Some(1),
            channel: "phone".into(),
            kind: "complaint".into(),
            assignee: Some(7),
            n,
            frt_sum: Some(frt),
            frt_n: Some(n),
            ..Default::default()
        }
    }

    #[test]
    fn the_parts_of_two_days_add_up_key_by_key() {
        let a = Parts {
            opened: vec![opened(2, 60.0)],
            categories: vec![(Some(2), 1)],
            orders: 10,
            ..Default::default()
        };
        let b = Parts {
            opened: vec![opened(3, 30.0)],
            categories: vec![(Some(2), 4), (None, 1)],
            orders: 5,
            calls_out: 1,
            ..Default::default()
        };
        let s = Parts::sum([a.clone(), b]);
        assert_eq!(s.opened.len(), 1);
        assert_eq!(s.opened[0].n, 5);
        assert_eq!(s.opened[0].assignee, None, "folded into the agent's part");
        assert_eq!((s.agents[0].agent, s.agents[0].frt_n), (7, 5));
        assert_eq!(s.opened[0].frt_sum, Some(90.0));
        assert_eq!(s.opened[0].frt_n, Some(5));
        assert_eq!(s.categories, vec![(None, 1), (Some(2), 5)]);
        assert_eq!((s.orders, s.calls_out), (15, 1));
        // One part alone sums to itself.
        let one = Parts::sum([a.clone()]);
        assert_eq!((one.opened[0].n, one.opened[0].frt_sum), (2, Some(60.0)));
        assert_eq!(one.categories, a.categories);
    }
}
