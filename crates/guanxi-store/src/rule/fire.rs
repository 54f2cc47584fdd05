//! The rules run: for each active rule, find whom it fires for, write the firings (unique per
//! rule, customer and cause, so nothing fires twice), then carry out the pending firings'
//! actions a chunk per transaction, marking each `done` in the transaction that acted — or,
//! when a chunk fails, one by one, the failing ones `failed` with the reason. Rules on events
//! run every time; rules on a set or a threshold compare the customers at most every
//! [`SET_EVERY_MINUTES`] (the scores they read change once a day), or on a full run.

use std::collections::HashMap;

use chrono::Duration;
use guanxi_analytics::anomaly::anomalies;
use guanxi_analytics::summary::Transactions;
use guanxi_domain::rule::{Action, RuleInput, Trigger, TriggerClass};
use guanxi_domain::segment::AsOf;

use super::candidates::{push_firing_rows, push_set_change, Events, Resolved};
use super::setup::RuleRecord;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::loyalty::coupon::issue_in;
use crate::loyalty::ledger::{lock_account, post_lot, posted, EntryKind, NewEntry};
use crate::notification::{notify_in, NewNotification};
use crate::sql::SqlBuilder;
use crate::timeline::insert_system_task;

/// How often a rule on a set or a threshold compares the customers.
pub const SET_EVERY_MINUTES: i64 = 60;
/// Firings (or memberships) one transaction writes or acts on.
const CHUNK: usize = 500;
/// How far back a dry run of a rule on events looks.
pub const PREVIEW_DAYS: i64 = 30;
/// Customers a dry run names.
const SAMPLE: usize = 10;
/// Threshold of the modified z-score for an unusual order (Iglewicz and Hoaglin).
const ANOMALY_Z: f64 = 3.5;
/// Earlier orders an unusual order is judged against (at least, and at most).
const ANOMALY_HISTORY: (usize, usize) = (5, 50);

/// What a rules run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuleRunReport {
    /// Active rules.
    pub rules: usize,
    /// Rules on a set or threshold that compared the customers this run.
    pub compared: usize,
    /// New firings.
    pub fired: usize,
    /// Firings acted on.
    pub done: usize,
    /// Firings whose actions failed.
    pub failed: usize,
    /// Rules skipped because a segment they name is gone or no longer valid.
    pub skipped: Vec<i64>,
}

/// A dry run's answer: "would fire for 312 customers".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RulePreview {
    /// Customers it would fire for now (rules on events: fired for over the last
    /// [`PREVIEW_DAYS`] days).
    pub customers: i64,
    /// Firings (a customer may fire for several orders or tickets).
    pub firings: i64,
    /// Days looked back, for a rule on events.
    pub days: Option<i64>,
    /// Some of them: (id, name).
    pub sample: Vec<(i64, String)>,
    /// A segment the rule names is gone or no longer valid.
    pub segment_gone: bool,
}

impl Store {
    /// Runs every active rule at `as_of`; `full` compares sets and thresholds whatever the
    /// time since they last did.
    pub async fn run_rules(&self, as_of: AsOf, full: bool) -> Result<RuleRunReport> {
        let rules: Vec<RuleRecord> = self
            .list_rules()
            .await?
            .into_iter()
            .filter(|r| r.rule.active)
            .collect();
        let mut report = RuleRunReport {
            rules: rules.len(),
            ..RuleRunReport::default()
        };
        for r in rules {
            let class = r.rule.trigger.class();
            let due = full
                || class == TriggerClass::Event
                || r.checked_at
                    .is_none_or(|c| as_of.now - c >= Duration::minutes(SET_EVERY_MINUTES));
            if due {
                match self.fire_rule(r.id, &r.rule, as_of).await? {
                    Some(n) => {
                        report.fired += n;
                        if class != TriggerClass::Event {
                            report.compared += 1;
                        }
                    }
                    None => report.skipped.push(r.id),
                }
            }
            let (done, failed) = self.act_on_pending(r.id, &r.rule, as_of).await?;
            report.done += done;
            report.failed += failed;
        }
        Ok(report)
    }

    /// Writes the new firings of one rule; `None` when a segment it names is gone.
    async fn fire_rule(&self, id: i64, r: &RuleInput, as_of: AsOf) -> Result<Option<usize>> {
        let mut conn = self.read.acquire().await?;
        let Some(res) = self.resolve_rule(&mut conn, r, as_of).await? else {
            return Ok(None);
        };
        let now = to_ms(as_of.now);
        let n = match r.trigger.class() {
            TriggerClass::Set => {
                let entered = set_change(&mut conn, id, &r.trigger, &res, true, as_of).await?;
                let left = set_change(&mut conn, id, &r.trigger, &res, false, as_of).await?;
                drop(conn);
                let fire = if matches!(r.trigger, Trigger::SegmentLeft { .. }) {
                    &left
                } else {
                    &entered
                };
                let n = self.write_firings(id, fire, now).await?;
                self.write_members(id, &entered, &left).await?;
                self.mark_rule_checked(id, None, now).await?;
                n
            }
            TriggerClass::Threshold => {
                let rows =
                    new_rows(&mut conn, id, &r.trigger, &res, as_of, Events::Since(0)).await?;
                drop(conn);
                let n = self.write_firings(id, &rows, now).await?;
                self.mark_rule_checked(id, None, now).await?;
                n
            }
            TriggerClass::Event => {
                let (cursor,): (i64,) = sqlx::query_as("SELECT cursor FROM rules WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                let table = if matches!(
                    r.trigger,
                    Trigger::OrderPlaced { .. } | Trigger::OrderAnomaly
                ) {
                    "orders"
                } else {
                    "ticket_events"
                };
                let upto: i64 =
                    sqlx::query_scalar::<_, Option<i64>>(&format!("SELECT MAX(id) FROM {table}"))
                        .fetch_one(&mut *conn)
                        .await?
                        .unwrap_or(0);
                if upto <= cursor {
                    return Ok(Some(0));
                }
                let events = Events::Ids {
                    after: cursor,
                    upto,
                };
                let rows = if r.trigger == Trigger::OrderAnomaly {
                    unusual_orders(&mut conn, id, &res, events).await?
                } else {
                    new_rows(&mut conn, id, &r.trigger, &res, as_of, events).await?
                };
                drop(conn);
                let n = self.write_firings(id, &rows, now).await?;
                self.mark_rule_checked(id, Some(upto), now).await?;
                n
            }
        };
        Ok(Some(n))
    }

    /// Inserts firings `pending`, a chunk per transaction; a firing already written for the
    /// same cause is left alone. Returns how many were new.
    async fn write_firings(&self, rule: i64, rows: &[(i64, String)], now: i64) -> Result<usize> {
        let mut n = 0;
        for chunk in rows.chunks(CHUNK) {
            let mut q = SqlBuilder::new(
                "INSERT INTO rule_firings (rule_id, customer_id, cause, fired_at, status) VALUES ",
            );
            for (i, (customer, cause)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(")
                    .int(rule)
                    .push(", ")
                    .int(*customer)
                    .push(", ")
                    .text(cause.clone())
                    .push(", ")
                    .int(now)
                    .push(", 'pending')");
            }
            q.push(" ON CONFLICT (rule_id, customer_id, cause) DO NOTHING");
            let mut tx = self.begin_write().await?;
            n += usize::try_from(q.query().execute(&mut *tx).await?.rows_affected()).unwrap_or(0);
            tx.commit().await?;
        }
        Ok(n)
    }

    /// Brings a set rule's picture of who is in the set up to date.
    async fn write_members(
        &self,
        rule: i64,
        entered: &[(i64, String)],
        left: &[(i64, String)],
    ) -> Result<()> {
        for chunk in entered.chunks(CHUNK) {
            let mut q = SqlBuilder::new("INSERT INTO rule_members (rule_id, customer_id) VALUES ");
            for (i, (customer, _)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(").int(rule).push(", ").int(*customer).push(")");
            }
            q.push(" ON CONFLICT (rule_id, customer_id) DO NOTHING");
            let mut tx = self.begin_write().await?;
            q.query().execute(&mut *tx).await?;
            tx.commit().await?;
        }
        for chunk in left.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|(c, _)| *c).collect();
            let mut q = SqlBuilder::new("DELETE FROM rule_members WHERE rule_id = ");
            q.int(rule).push(" AND customer_id IN ").int_list(&ids);
            let mut tx = self.begin_write().await?;
            q.query().execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn mark_rule_checked(&self, rule: i64, cursor: Option<i64>, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE rules SET checked_at = $1, cursor = COALESCE($2, cursor) WHERE id = $3",
        )
        .bind(now)
        .bind(cursor)
        .bind(rule)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Carries out the actions of a rule's pending firings; returns (done, failed).
    async fn act_on_pending(
        &self,
        rule: i64,
        r: &RuleInput,
        as_of: AsOf,
    ) -> Result<(usize, usize)> {
        let now = as_of.now;
        let (mut done, mut failed) = (0, 0);
        let mut after = 0;
        loop {
            let pending: Vec<Pending> = sqlx::query_as(
                "SELECT f.id, f.customer_id, f.cause, c.owner_id, c.tags FROM rule_firings f \
                 JOIN customers c ON c.id = f.customer_id \
                 WHERE f.rule_id = $1 AND f.status = 'pending' AND f.id > $2 ORDER BY f.id LIMIT $3",
            )
            .bind(rule)
            .bind(after)
            .bind(i64::try_from(CHUNK).unwrap_or(500))
            .fetch_all(&self.read)
            .await?;
            let Some(last) = pending.last().map(|p| p.0) else {
                break;
            };
            after = last;
            let together: Result<()> = async {
                let mut tx = self.begin_write().await?;
                act(self, &mut tx, rule, &pending, r, as_of).await?;
                tx.commit().await?;
                Ok(())
            }
            .await;
            if together.is_ok() {
                done += pending.len();
                continue;
            }
            // One at a time, so one customer's problem does not hold up the others.
            for p in &pending {
                let alone: Result<()> = async {
                    let mut tx = self.begin_write().await?;
                    act(self, &mut tx, rule, std::slice::from_ref(p), r, as_of).await?;
                    tx.commit().await?;
                    Ok(())
                }
                .await;
                match alone {
                    Ok(()) => done += 1,
                    Err(e) => {
                        failed += 1;
                        let mut tx = self.begin_write().await?;
                        sqlx::query(
                            "UPDATE rule_firings SET status = 'failed', outcome = $1, done_at = $2 \
                             WHERE id = $3 AND status = 'pending'",
                        )
                        .bind(e.to_string())
                        .bind(to_ms(now))
                        .bind(p.0)
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                    }
                }
            }
        }
        Ok((done, failed))
    }

    /// The dry run: whom `r` would fire for now (`rule`: the saved rule, whose log and set
    /// picture count; a new rule has none).
    pub async fn preview_rule(
        &self,
        r: &RuleInput,
        rule: Option<i64>,
        as_of: AsOf,
    ) -> Result<RulePreview> {
        self.check_rule_segments(r).await?;
        let mut conn = self.read.acquire().await?;
        let Some(res) = self.resolve_rule(&mut conn, r, as_of).await? else {
            return Ok(RulePreview {
                segment_gone: true,
                ..RulePreview::default()
            });
        };
        let id = rule.unwrap_or(0);
        let since = Events::Since(to_ms(as_of.now - Duration::days(PREVIEW_DAYS)));
        let days = (r.trigger.class() == TriggerClass::Event).then_some(PREVIEW_DAYS);
        if r.trigger == Trigger::OrderAnomaly {
            // Judged in Rust, order by order: the rows are few (a month of orders' outliers).
            let rows = unusual_orders(&mut conn, id, &res, since).await?;
            let mut customers: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
            customers.sort_unstable();
            customers.dedup();
            let mut sample = Vec::new();
            if !customers.is_empty() {
                let take: Vec<i64> = customers.iter().take(SAMPLE).copied().collect();
                let mut q = SqlBuilder::new("SELECT id, name FROM customers WHERE id IN ");
                q.int_list(&take).push(" ORDER BY id");
                sample = q.query_as().fetch_all(&mut *conn).await?;
            }
            return Ok(RulePreview {
                customers: i64::try_from(customers.len()).unwrap_or(i64::MAX),
                firings: i64::try_from(rows.len()).unwrap_or(i64::MAX),
                days,
                sample,
                segment_gone: false,
            });
        }
        // Counted and sampled in SQL: a rule that reaches half a million customers is not
        // read into memory to say so.
        let rows = |prefix: &str, suffix: &str| {
            let mut q = SqlBuilder::new(prefix);
            match r.trigger.class() {
                TriggerClass::Set => {
                    let entered = !matches!(r.trigger, Trigger::SegmentLeft { .. });
                    push_set_change(&mut q, id, &r.trigger, &res, entered, as_of.today);
                }
                TriggerClass::Threshold => {
                    push_new_rows(&mut q, id, &r.trigger, &res, as_of, Events::Since(0))
                }
                TriggerClass::Event => push_new_rows(&mut q, id, &r.trigger, &res, as_of, since),
            }
            q.push(suffix);
            q
        };
        let q = rows(
            "SELECT COUNT(DISTINCT n.customer_id), COUNT(*) FROM (",
            ") n",
        );
        let (customers, firings): (i64, i64) = q.query_as().fetch_one(&mut *conn).await?;
        let q = rows(
            "SELECT c.id, c.name FROM customers c WHERE c.id IN (SELECT n.customer_id FROM (",
            ") n) ORDER BY c.id LIMIT 10",
        );
        let sample = q.query_as().fetch_all(&mut *conn).await?;
        Ok(RulePreview {
            customers,
            firings,
            days,
            sample,
            segment_gone: false,
        })
    }
}

/// A pending firing: (id, customer, cause, owner, tags JSON).
type Pending = (i64, i64, String, Option<i64>, String);

/// The rows entering (or leaving) a set rule's set.
async fn set_change(
    conn: &mut sqlx::AnyConnection,
    rule: i64,
    t: &Trigger,
    res: &Resolved,
    entered: bool,
    as_of: AsOf,
) -> Result<Vec<(i64, String)>> {
    let mut q = SqlBuilder::new("");
    push_set_change(&mut q, rule, t, res, entered, as_of.today);
    Ok(q.query_as().fetch_all(&mut *conn).await?)
}

/// Appends a threshold or event rule's `(customer_id, cause)` rows without a firing yet.
fn push_new_rows(
    q: &mut SqlBuilder,
    rule: i64,
    t: &Trigger,
    res: &Resolved,
    as_of: AsOf,
    events: Events,
) {
    q.push("SELECT z.customer_id, z.cause FROM (");
    if !push_firing_rows(q, t, res, as_of, events) {
        q.push("SELECT 0 AS customer_id, '' AS cause WHERE 1 = 0) z");
        return;
    }
    q.push(") z WHERE NOT EXISTS (SELECT 1 FROM rule_firings f WHERE f.rule_id = ")
        .int(rule)
        .push(" AND f.customer_id = z.customer_id AND f.cause = z.cause)");
}

/// A threshold or event rule's rows without a firing yet.
async fn new_rows(
    conn: &mut sqlx::AnyConnection,
    rule: i64,
    t: &Trigger,
    res: &Resolved,
    as_of: AsOf,
    events: Events,
) -> Result<Vec<(i64, String)>> {
    let mut q = SqlBuilder::new("");
    push_new_rows(&mut q, rule, t, res, as_of, events);
    Ok(q.query_as().fetch_all(&mut *conn).await?)
}

/// Orders in `events` far outside their customer's own history: each judged against the
/// customer's orders up to it (at most [`ANOMALY_HISTORY`].1 of them, at least .0 before it).
async fn unusual_orders(
    conn: &mut sqlx::AnyConnection,
    rule: i64,
    res: &Resolved,
    events: Events,
) -> Result<Vec<(i64, String)>> {
    let mut q = SqlBuilder::new("SELECT o.id, o.customer_id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.deleted_at IS NULL");
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
    if let Some((f, k)) = &res.audience_filter() {
        q.push(" AND ");
        crate::segments::push_segment(&mut q, f, k);
    }
    let new: Vec<(i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
    let mut by_customer: HashMap<i64, Vec<i64>> = HashMap::new();
    for (order, customer) in new {
        by_customer.entry(customer).or_default().push(order);
    }
    let mut out = Vec::new();
    let customers: Vec<i64> = by_customer.keys().copied().collect();
    for chunk in customers.chunks(CHUNK) {
        let mut q = SqlBuilder::new(
            "SELECT customer_id, id, total_minor FROM orders WHERE customer_id IN ",
        );
        q.int_list(chunk)
            .push(" ORDER BY customer_id, ordered_at, id");
        let history: Vec<(i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let mut per: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for (c, id, amount) in history {
            per.entry(c).or_default().push((id, amount));
        }
        for (c, orders) in per {
            for new_order in by_customer.get(&c).into_iter().flatten() {
                let Some(at) = orders.iter().position(|(id, _)| id == new_order) else {
                    continue;
                };
                if at < ANOMALY_HISTORY.0 {
                    continue;
                }
                let from = (at + 1).saturating_sub(ANOMALY_HISTORY.1);
                let window = &orders[from..=at];
                #[allow(clippy::cast_precision_loss)]
                let tx = Transactions {
                    customer: vec![c; window.len()],
                    day: (0..window.len())
                        .map(|d| i32::try_from(d).unwrap_or(0))
                        .collect(),
                    amount: window.iter().map(|(_, a)| *a as f64).collect(),
                };
                let last = window.len() - 1;
                let flagged = anomalies(&tx, ANOMALY_Z, ANOMALY_HISTORY.0)
                    .map_err(|e| StoreError::Task(e.to_string()))?
                    .iter()
                    .any(|a| a.row == last);
                if flagged {
                    out.push((c, format!("order:{new_order}")));
                }
            }
        }
    }
    if rule > 0 && !out.is_empty() {
        let mut q = SqlBuilder::new("SELECT customer_id, cause FROM rule_firings WHERE rule_id = ");
        q.int(rule).push(" AND customer_id IN ");
        let ids: Vec<i64> = out.iter().map(|(c, _)| *c).collect();
        q.int_list(&ids);
        let seen: Vec<(i64, String)> = q.query_as().fetch_all(&mut *conn).await?;
        out.retain(|x| !seen.contains(x));
    }
    out.sort();
    Ok(out)
}

/// Carries out a rule's actions for a chunk of firings and marks them done, in the caller's
/// transaction. Tag changes and the firings' outcomes are written set-based, one statement
/// each for the whole chunk: on PostgreSQL every statement on `customers` runs its rollup
/// triggers, and a statement per firing held a first night's 135 k firings to ~100 a second.
async fn act(
    store: &Store,
    conn: &mut sqlx::AnyConnection,
    rule: i64,
    pending: &[Pending],
    r: &RuleInput,
    as_of: AsOf,
) -> Result<()> {
    let now = as_of.now;
    let now_ms = to_ms(now);
    // Each customer's tags as the chunk leaves them (a customer may fire twice in a chunk),
    // and whether they changed.
    let mut tags_of: HashMap<i64, (Vec<String>, bool)> = HashMap::new();
    let mut outcomes: Vec<(i64, Vec<String>)> = Vec::with_capacity(pending.len());
    // Enrolments are written per campaign for the whole chunk: (campaign, firing's row).
    let mut enrol: Vec<(i64, usize)> = Vec::new();
    for (firing, customer, cause, owner, tags) in pending {
        let mut done: Vec<String> = Vec::new();
        for (i, a) in r.actions.iter().enumerate() {
            match a {
                Action::Task { title, due_days } => {
                    let note = format!("{} · {cause}", r.name);
                    let id = insert_system_task(
                        conn,
                        *customer,
                        title,
                        Some(&note),
                        to_ms(now + Duration::days(*due_days)),
                        *owner,
                        now_ms,
                    )
                    .await?;
                    done.push(format!("task {id}"));
                }
                Action::AddTag { tag } | Action::RemoveTag { tag } => {
                    let (current, changed) = tags_of
                        .entry(*customer)
                        .or_insert_with(|| (serde_json::from_str(tags).unwrap_or_default(), false));
                    let add = matches!(a, Action::AddTag { .. });
                    if add && !current.contains(tag) {
                        current.push(tag.clone());
                        *changed = true;
                        done.push(format!("+tag {tag}"));
                    } else if !add && current.contains(tag) {
                        current.retain(|t| t != tag);
                        *changed = true;
                        done.push(format!("-tag {tag}"));
                    }
                }
                Action::AwardPoints {
                    points,
                    expiry_months,
                } => {
                    let key = format!("rule:{firing}:{i}");
                    lock_account(conn, *customer, now_ms).await?;
                    if posted(conn, &key).await?.is_none() {
                        let expires_at = u32::try_from(*expiry_months)
                            .ok()
                            .filter(|m| *m > 0)
                            .and_then(|m| now.checked_add_months(chrono::Months::new(m)));
                        let e = NewEntry {
                            customer: *customer,
                            kind: EntryKind::Award,
                            points: *points,
                            expires_at,
                            order_id: None,
                            amount_minor: None,
                            reason: Some(&r.name),
                            user_id: None,
                            at: now,
                            key: &key,
                        };
                        post_lot(conn, &e).await?;
                    }
                    done.push(format!("+{points} points"));
                }
                Action::IssueCoupon { offer_id } => {
                    // A refusal (limit reached, offer over) is checked before anything is
                    // written, so the transaction carries on; the log says why.
                    match issue_in(
                        conn,
                        *offer_id,
                        *customer,
                        "rule",
                        Some(rule),
                        None,
                        now,
                        as_of.utc_offset_hours,
                    )
                    .await
                    {
                        Ok((_, code)) => done.push(format!("coupon {code}")),
                        Err(StoreError::Invalid(e)) => done.push(format!(
                            "no coupon ({})",
                            e.0.first().map_or("refused", |x| x.code.as_str())
                        )),
                        Err(e) => return Err(e),
                    }
                }
                Action::SendSurvey { survey_id } => {
                    // The survey sender makes the link and its message (see `survey::send`).
                    crate::survey::send::request_survey(
                        conn,
                        *survey_id,
                        *customer,
                        &format!("rule:{firing}"),
                        now_ms,
                    )
                    .await?;
                    done.push(format!("survey #{survey_id}"));
                }
                Action::Notify { message, user_id } => match user_id.or(*owner) {
                    Some(user) => {
                        let n = NewNotification {
                            user_id: user,
                            customer_id: Some(*customer),
                            source: "rule",
                            source_id: Some(rule),
                            message,
                            dedupe_key: &format!("rule:{firing}:{i}"),
                            at: now,
                        };
                        notify_in(conn, &n).await?;
                        done.push(format!("notified user {user}"));
                    }
                    None => done.push("nobody to notify".into()),
                },
                Action::EnrolCampaign { campaign_id } => {
                    enrol.push((*campaign_id, outcomes.len()));
                }
            }
        }
        outcomes.push((*firing, done));
    }
    let mut campaigns: Vec<i64> = enrol.iter().map(|(k, _)| *k).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    for k in campaigns {
        let rows: Vec<usize> = enrol
            .iter()
            .filter(|(c, _)| *c == k)
            .map(|(_, r)| *r)
            .collect();
        let mut customers: Vec<i64> = rows.iter().map(|r| pending[*r].1).collect();
        customers.sort_unstable();
        customers.dedup();
        let got = store.enrol_in(conn, k, &customers, as_of).await?;
        // A customer firing twice in the chunk is enrolled by the first firing.
        let mut seen: Vec<i64> = Vec::new();
        for r in rows {
            let customer = pending[r].1;
            let what = if seen.contains(&customer) {
                "already".to_string()
            } else {
                seen.push(customer);
                got.get(&customer)
                    .map_or_else(|| "closed".to_string(), |e| e.code())
            };
            outcomes[r].1.push(format!("campaign #{k}: {what}"));
        }
    }
    let outcomes: Vec<(i64, String)> = outcomes
        .into_iter()
        .map(|(f, done)| (f, done.join("; ")))
        .collect();
    let mut changed: Vec<(i64, Vec<String>)> = tags_of
        .into_iter()
        .filter(|(_, (_, c))| *c)
        .map(|(id, (tags, _))| (id, tags))
        .collect();
    changed.sort_unstable_by_key(|(id, _)| *id);
    write_changed_tags(conn, &changed, now_ms).await?;
    if !outcomes.is_empty() {
        let ids: Vec<i64> = outcomes.iter().map(|(f, _)| *f).collect();
        let mut q = SqlBuilder::new("UPDATE rule_firings SET status = 'done', done_at = ");
        q.int(now_ms).push(", outcome = CASE id");
        for (firing, outcome) in &outcomes {
            q.push(" WHEN ")
                .int(*firing)
                .push(" THEN ")
                .text(outcome.clone());
        }
        q.push(" END WHERE id IN ").int_list(&ids);
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the new tags of the customers a chunk changed: one UPDATE of `customers` and the
/// tag index rewritten for all of them at once, whatever the chunk's size.
async fn write_changed_tags(
    conn: &mut sqlx::AnyConnection,
    changed: &[(i64, Vec<String>)],
    now_ms: i64,
) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).collect();
    let mut q = SqlBuilder::new("UPDATE customers SET tags = CASE id");
    for (id, tags) in changed {
        let json = serde_json::to_string(tags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        q.push(" WHEN ").int(*id).push(" THEN ").text(json);
    }
    q.push(" END, version = version + 1, updated_at = ")
        .int(now_ms)
        .push(" WHERE id IN ")
        .int_list(&ids);
    q.query().execute(&mut *conn).await?;
    crate::customers::write_tags_of(conn, changed).await?;
    Ok(())
}
