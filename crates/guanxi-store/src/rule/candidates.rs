//! Whom a rule's trigger fires for, as SQL over the store's own tables (see the trigger
//! classes in `guanxi_domain::rule::trigger`). Every query here returns `(customer_id, cause)`
//! rows of live customers in the rule's audience; the caller reads them on the read pool and
//! writes the firings in chunks, so no comparison over a million customers holds the writer.

use chrono::NaiveDate;
use guanxi_domain::rule::{RuleInput, Trigger};
use guanxi_domain::segment::{AsOf, SegmentFilter};

use crate::db::Store;
use crate::error::Result;
use crate::segments::{push_segment, KeptPlan};
use crate::sql::SqlBuilder;

/// A rule's segments, resolved for today.
pub(crate) struct Resolved {
    /// The segment a "segment entered/left" trigger watches.
    trigger: Option<(SegmentFilter, KeptPlan)>,
    /// The rule's audience.
    audience: Option<(SegmentFilter, KeptPlan)>,
}

/// Which event rows a rule on events reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Events {
    /// Ids in `(after, upto]` (a run).
    Ids {
        /// The last id read before.
        after: i64,
        /// The newest id when the run began.
        upto: i64,
    },
    /// Rows since this time, ms (a dry run's look back).
    Since(i64),
}

impl Store {
    /// The rule's segments for `as_of`; `None` when one is gone or no longer valid (the rule
    /// is then skipped, not run against everyone).
    pub(crate) async fn resolve_rule(
        &self,
        conn: &mut sqlx::AnyConnection,
        r: &RuleInput,
        as_of: AsOf,
    ) -> Result<Option<Resolved>> {
        let mut resolved = [None, None];
        for (slot, id) in resolved.iter_mut().zip([r.trigger.segment(), r.segment_id]) {
            if let Some(id) = id {
                match self.resolve_saved_segment(conn, id, as_of).await? {
                    Ok(segment) => *slot = Some(segment),
                    Err(_) => return Ok(None),
                }
            }
        }
        let [trigger, audience] = resolved;
        Ok(Some(Resolved { trigger, audience }))
    }
}

impl Resolved {
    /// The audience's filter, if the rule has one.
    pub(crate) fn audience_filter(&self) -> Option<&(SegmentFilter, KeptPlan)> {
        self.audience.as_ref()
    }
}

fn push_audience(q: &mut SqlBuilder, res: &Resolved) {
    if let Some((f, k)) = &res.audience {
        q.push(" AND ");
        push_segment(q, f, k);
    }
}

/// `SELECT c.id AS customer_id FROM customers c WHERE …`: the customers in a set trigger's set
/// now (within the audience).
pub(crate) fn push_set(q: &mut SqlBuilder, t: &Trigger, res: &Resolved) {
    q.push("SELECT c.id AS customer_id FROM customers c WHERE c.deleted_at IS NULL");
    match t {
        Trigger::SegmentEntered { .. } | Trigger::SegmentLeft { .. } => {
            if let Some((f, k)) = &res.trigger {
                q.push(" AND ");
                push_segment(q, f, k);
            }
        }
        Trigger::ChurnRisk { percent } => {
            // Bound as a whole-number percent against probability × 100, so both backends
            // compare the same integers-or-reals without a float parameter.
            q.push(
                " AND c.id IN (SELECT s.customer_id FROM customer_scores s \
                 WHERE s.churn_probability * 100 >= ",
            )
            .int(*percent)
            .push(")");
        }
        Trigger::TurnedDormant => {
            q.push(
                " AND c.id IN (SELECT s.customer_id FROM customer_scores s \
                 WHERE s.activity = 'dormant')",
            );
        }
        Trigger::OrdersFalling => {
            q.push(
                " AND c.id IN (SELECT s.customer_id FROM customer_scores s \
                 WHERE s.orders_falling = TRUE)",
            );
        }
        _ => {
            q.push(" AND 1 = 0");
        }
    }
    push_audience(q, res);
}

/// Customers who came into the set since the rule last looked (`entered`), or left it: the
/// set now against `rule_members`, with the cause `in:<day>` / `out:<day>`.
pub(crate) fn push_set_change(
    q: &mut SqlBuilder,
    rule_id: i64,
    t: &Trigger,
    res: &Resolved,
    entered: bool,
    today: NaiveDate,
) {
    if entered {
        q.push("SELECT s.customer_id, ")
            .text(format!("in:{today}"))
            .push(" AS cause FROM (");
        push_set(q, t, res);
        q.push(") s WHERE NOT EXISTS (SELECT 1 FROM rule_members m WHERE m.rule_id = ")
            .int(rule_id)
            .push(" AND m.customer_id = s.customer_id)");
    } else {
        q.push("SELECT m.customer_id, ")
            .text(format!("out:{today}"))
            .push(" AS cause FROM rule_members m WHERE m.rule_id = ")
            .int(rule_id)
            .push(" AND m.customer_id NOT IN (");
        push_set(q, t, res);
        q.push(")");
    }
}

/// The `(customer_id, cause)` rows a threshold or event trigger fires for (not the anomaly
/// trigger, which the caller judges in Rust); `false` when `t` is neither.
pub(crate) fn push_firing_rows(
    q: &mut SqlBuilder,
    t: &Trigger,
    res: &Resolved,
    as_of: AsOf,
    events: Events,
) -> bool {
    let applies = matches!(
        t,
        Trigger::SpendReached { .. }
            | Trigger::ComplaintsReached { .. }
            | Trigger::Occasion { .. }
            | Trigger::OrderPlaced { .. }
            | Trigger::TicketOpened { .. }
            | Trigger::TicketResolved { .. }
    );
    if !applies {
        return false;
    }
    q.push("SELECT DISTINCT y.customer_id, y.cause FROM (");
    match t {
        Trigger::SpendReached { amount_minor } => {
            q.push("SELECT p.customer_id, ")
                .text(format!("spend:{amount_minor}"))
                .push(" AS cause FROM customer_purchases p WHERE p.spend_minor >= ")
                .int(*amount_minor);
        }
        Trigger::ComplaintsReached { count, days } => {
            // The cause is the first complaint of the run: a fourth complaint inside the same
            // window is the same cause, a run after a quiet spell a new one.
            q.push(
                "SELECT t.customer_id, 'complaints:' || CAST(MIN(t.id) AS TEXT) AS cause \
                 FROM tickets t WHERE t.kind = 'complaint' AND t.customer_id IS NOT NULL \
                 AND t.created_at >= ",
            )
            .int(crate::db::to_ms(as_of.now) - days * 86_400_000)
            .push(" GROUP BY t.customer_id HAVING COUNT(*) >= ")
            .int(*count);
        }
        Trigger::Occasion {
            occasion,
            days_before,
        } => {
            let to = as_of.today + chrono::Duration::days(*days_before);
            q.push("SELECT d.customer_id, d.kind || ':' || d.next_on AS cause FROM care_dates d WHERE d.kind = ")
                .text(occasion.clone())
                .push(" AND d.next_on >= ")
                .text(as_of.today.to_string())
                .push(" AND d.next_on <= ")
                .text(to.to_string());
        }
        Trigger::OrderPlaced { min_amount_minor } => {
            q.push(
                "SELECT o.customer_id, 'order:' || CAST(o.id AS TEXT) AS cause FROM orders o \
                 WHERE o.total_minor >= ",
            )
            .int(*min_amount_minor);
            match events {
                Events::Ids { after, upto } => {
                    q.push(" AND o.id > ")
                        .int(after)
                        .push(" AND o.id <= ")
                        .int(upto);
                }
                Events::Since(ms) => {
                    q.push(" AND o.ordered_at >= ").int(ms);
                }
            }
        }
        Trigger::TicketOpened { ticket_kind } | Trigger::TicketResolved { ticket_kind } => {
            let opened = matches!(t, Trigger::TicketOpened { .. });
            q.push("SELECT e.customer_id, 'ticket:' || CAST(e.ticket_id AS TEXT) || ")
                .text(if opened { ":opened" } else { ":resolved" })
                .push(
                    " AS cause FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
                     WHERE e.customer_id IS NOT NULL",
                );
            if opened {
                q.push(" AND e.action = 'opened'");
            } else {
                q.push(" AND e.action = 'status' AND e.detail LIKE '%>resolved'");
            }
            if let Some(k) = ticket_kind {
                q.push(" AND t.kind = ").text(k.clone());
            }
            match events {
                Events::Ids { after, upto } => {
                    q.push(" AND e.id > ")
                        .int(after)
                        .push(" AND e.id <= ")
                        .int(upto);
                }
                Events::Since(ms) => {
                    q.push(" AND e.at >= ").int(ms);
                }
            }
        }
        _ => return false,
    }
    q.push(") y JOIN customers c ON c.id = y.customer_id WHERE c.deleted_at IS NULL");
    push_audience(q, res);
    true
}
