//! Customer scores: the analytics engine run over the orders in the database and written back
//! to `customer_scores`, so lists, segments and dashboards read a column instead of recomputing.
//! A refresh replaces every row in one transaction: readers see the old scores or the new ones,
//! never a mix.

use chrono::Utc;
use guanxi_analytics::assoc;
use guanxi_analytics::scorecard::{scorecard, Scorecard, ScorecardSettings};
use serde::Serialize;

use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

/// Settings of a refresh.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSettings {
    /// Shop time zone, hours east of UTC: decides which day an order falls on.
    pub utc_offset_hours: i64,
    /// Horizons, discount and margin of the models.
    pub models: ScorecardSettings,
}

impl Default for ScoreSettings {
    fn default() -> Self {
        Self {
            utc_offset_hours: 8,
            models: ScorecardSettings::default(),
        }
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    /// Customers scored.
    pub customers: usize,
    /// Orders read.
    pub orders: usize,
    /// The as-of day (YYYY-MM-DD, shop time).
    pub as_of: String,
    /// Hold-out AUC of the churn model, when it could be trained.
    pub churn_auc: Option<f64>,
    /// Models that were skipped and why (too little data, …).
    pub skipped: Vec<String>,
    /// Milliseconds spent extracting the orders, computing, writing the scores, and mining and
    /// writing the product pairs.
    pub millis: [u128; 4],
    /// Milliseconds per model within the compute phase (two threads, so they overlap).
    pub steps: Vec<(String, u128)>,
    /// Customers whose lifecycle stage the rule changed ([`guanxi_domain::lifecycle`]).
    pub stages_changed: u64,
}

impl RefreshReport {
    /// What the audit log keeps of a refresh, the same whether the server's job or the CLI ran
    /// it: how many customers and orders, the phase timings and the models skipped.
    pub fn audit_detail(&self) -> serde_json::Value {
        serde_json::json!({"customers": self.customers, "orders": self.orders,
            "millis": self.millis, "skipped": self.skipped})
    }
}

/// Lowest support of a product pair worth storing (0.2 % of orders).
pub const PAIR_MIN_SUPPORT: f64 = 0.002;
/// Fewest orders a pair must share to be suggested: below it a "pattern" is one customer's
/// habit or chance.
pub const PAIR_MIN_BASKETS: u64 = 5;
/// Most partners stored per product.
pub const PAIRS_PER_PRODUCT: usize = 20;

/// A recommendation for the 360 page.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlsoBought {
    /// The product to suggest.
    pub product: String,
    /// The product the customer bought that leads to it.
    pub because: String,
    /// P(suggested | bought).
    pub confidence: f64,
    /// Lift of the pair.
    pub lift: f64,
}

/// One row of `customer_scores`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ScoreRow {
    /// Customer.
    pub customer_id: i64,
    /// Days since last order.
    pub recency_days: i64,
    /// Orders.
    pub frequency: i64,
    /// Revenue, minor units.
    pub monetary_minor: i64,
    /// R score.
    pub r_score: i64,
    /// F score.
    pub f_score: i64,
    /// M score.
    pub m_score: i64,
    /// RFM segment code.
    pub rfm_segment: String,
    /// Value-matrix cell.
    pub value_cell: String,
    /// ABC class.
    pub abc_class: String,
    /// Activity status.
    pub activity: String,
    /// Typical days between orders.
    pub typical_interval_days: f64,
    /// Orders falling.
    #[sqlx(try_from = "crate::rows::Flag")]
    pub orders_falling: bool,
    /// Discounted CLV, minor units.
    pub clv_minor: Option<i64>,
    /// P(alive).
    pub p_alive: Option<f64>,
    /// Expected orders over the CLV horizon.
    pub expected_purchases: Option<f64>,
    /// Churn probability.
    pub churn_probability: Option<f64>,
    /// Main churn reason (feature name).
    pub churn_reason: Option<String>,
    /// When computed (ms).
    pub computed_at: i64,
}

pub(crate) const COLUMNS: [&str; 19] = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary_minor",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "value_cell",
    "abc_class",
    "activity",
    "typical_interval_days",
    "orders_falling",
    "clv_minor",
    "p_alive",
    "expected_purchases",
    "churn_probability",
    "churn_reason",
    "computed_at",
];

impl Store {
    /// `(customer, shop day)` of each marketing message's first response (open, click,
    /// reply) since `since_ms`.
    async fn campaign_response_days(
        &self,
        since_ms: i64,
        offset_ms: i64,
    ) -> Result<Vec<(i64, i32)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT customer_id, MIN(at) FROM outbox_events WHERE kind IN ('opened', 'clicked', \
             'replied') AND at >= $1 GROUP BY outbox_id, customer_id",
        )
        .bind(since_ms)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, at)| (c, (at + offset_ms).div_euclid(86_400_000) as i32))
            .collect())
    }

    /// Recomputes every customer's scores from the orders and replaces `customer_scores`, then
    /// the "also bought" product pairs. Reads and writes go through the bulk paths
    /// ([`crate::bulk`]): at a million customers the `Any` driver was the bottleneck.
    pub async fn refresh_scores(&self, settings: ScoreSettings) -> Result<RefreshReport> {
        let t0 = std::time::Instant::now();
        let tx = self.order_transactions(settings.utc_offset_hours).await?;
        let offset = settings.utc_offset_hours * 3_600_000;
        let orders = tx.len();
        let t_extract = t0.elapsed().as_millis();
        let now = Utc::now();
        let as_of = ((now.timestamp_millis() + offset).div_euclid(86_400_000)) as i32;
        // Past responses to marketing, for the churn model: from the earliest cut-off's
        // window on, one per message (its first open, click or reply), on the shop's days.
        let since = (i64::from(as_of)
            - 2 * i64::from(settings.models.churn_horizon_days)
            - i64::from(guanxi_analytics::churn::RESPONSE_WINDOW_DAYS))
            * 86_400_000
            - offset;
        let responses = guanxi_analytics::churn::Responses::new(
            &self.campaign_response_days(since, offset).await?,
        );
        let card = if tx.is_empty() {
            Scorecard {
                skipped: vec!["everything: no orders yet".into()],
                ..Scorecard::default()
            }
        } else {
            let st = settings.models;
            // Seconds of number crunching: off the async runtime's threads.
            tokio::task::spawn_blocking(move || scorecard(&tx, &responses, as_of, st))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        };
        let t_compute = t0.elapsed().as_millis() - t_extract;
        let computed_at = to_ms(now);
        let Scorecard {
            scores,
            churn_auc,
            mut skipped,
            steps,
        } = card;
        let customers = scores.len();
        self.bulk_replace_scores(scores, computed_at).await?;
        let stages_changed = self.apply_lifecycle_rule(computed_at).await?;
        let t_write = t0.elapsed().as_millis() - t_extract - t_compute;
        if let Some(why) = self.refresh_product_pairs(computed_at).await? {
            skipped.push(why);
        }
        let t_pairs = t0.elapsed().as_millis() - t_extract - t_compute - t_write;
        // The segments' purchase windows move on with the scores (see crate::purchases).
        let t_facts = std::time::Instant::now();
        self.reanchor_purchase_facts(computed_at).await?;
        let t_facts = t_facts.elapsed();
        let (y, m, d) = civil(as_of);
        Ok(RefreshReport {
            stages_changed,
            customers,
            orders,
            as_of: format!("{y:04}-{m:02}-{d:02}"),
            churn_auc,
            skipped,
            millis: [t_extract, t_compute, t_write, t_pairs],
            steps: steps
                .into_iter()
                .chain([("purchase facts", t_facts)])
                .map(|(name, d)| (name.to_string(), d.as_millis()))
                .collect(),
        })
    }

    /// Mines product pairs ("also bought") from the order baskets and replaces `product_pairs`:
    /// for each product, up to [`PAIRS_PER_PRODUCT`] partners with confidence ≥ 5 %, lift > 1
    /// (bought together more often than chance would have it) and at least
    /// [`PAIR_MIN_BASKETS`] shared orders, best lift first. Pairs are counted directly ([`assoc::frequent_pairs`], equal to FP-growth with
    /// itemsets of two). Returns why it was skipped, if it was.
    pub async fn refresh_product_pairs(&self, computed_at: i64) -> Result<Option<String>> {
        // Lines come in storage order, which is almost always order-id order; sorting here when
        // it is not is cheaper than asking the database to sort twenty million rows.
        let mut lines: Vec<[i64; 2]> = self
            .bulk_i64_rows("SELECT order_id, product_id FROM order_lines")
            .await?;
        if !lines.is_sorted_by_key(|l| l[0]) {
            lines.sort_unstable_by_key(|l| l[0]);
        }
        // Product ids to dense codes; baskets as code slices of one flat vector.
        let mut products: Vec<i64> = lines.iter().map(|l| l[1]).collect();
        products.sort_unstable();
        products.dedup();
        let mut codes = Vec::with_capacity(lines.len());
        let mut starts = Vec::new();
        let mut multi = 0usize;
        let mut last = None;
        for [order, product] in &lines {
            if last != Some(*order) {
                if starts.last().is_some_and(|&s| codes.len() - s > 1) {
                    multi += 1;
                }
                starts.push(codes.len());
                last = Some(*order);
            }
            codes.push(products.binary_search(product).unwrap_or(0) as u32);
        }
        if starts.last().is_some_and(|&s| codes.len() - s > 1) {
            multi += 1;
        }
        drop(lines);
        if multi < 20 {
            return Ok(Some(format!(
                "also-bought pairs: only {multi} orders with two or more products"
            )));
        }
        let names: Vec<String> = products.iter().map(i64::to_string).collect();
        let baskets = (0..starts.len()).map(|k| {
            let end = starts.get(k + 1).copied().unwrap_or(codes.len());
            &codes[starts[k]..end]
        });
        let sets = match assoc::frequent_pairs(baskets, &names, PAIR_MIN_SUPPORT) {
            Ok(s) => s,
            Err(e) => return Ok(Some(format!("also-bought pairs: {e}"))),
        };
        let mut rules = assoc::rules(&sets, 0.05);
        rules.retain(|r| r.lift > 1.0 && r.count >= PAIR_MIN_BASKETS);
        rules.sort_by(|a, b| {
            a.antecedent
                .cmp(&b.antecedent)
                .then(b.lift.total_cmp(&a.lift))
                .then(a.consequent.cmp(&b.consequent))
        });
        let mut db = self.begin_write().await?;
        sqlx::query("DELETE FROM product_pairs")
            .execute(&mut *db)
            .await?;
        let mut per: Option<(String, usize)> = None;
        for r in &rules {
            let (Some(a), Some(c)) = (r.antecedent.first(), r.consequent.first()) else {
                continue;
            };
            let n = match &mut per {
                Some((p, n)) if p == a => {
                    *n += 1;
                    *n
                }
                _ => {
                    per = Some((a.clone(), 1));
                    1
                }
            };
            if n > PAIRS_PER_PRODUCT {
                continue;
            }
            let (Ok(a), Ok(c)) = (a.parse::<i64>(), c.parse::<i64>()) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO product_pairs (product_id, other_id, support, confidence, lift, computed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a)
            .bind(c)
            .bind(r.support)
            .bind(r.confidence)
            .bind(r.lift)
            .bind(computed_at)
            .execute(&mut *db)
            .await?;
        }
        db.commit().await?;
        Ok(None)
    }

    /// "Customers who bought what this customer bought also bought": products the customer has
    /// not bought yet, best lift first, with the product that led there.
    pub async fn also_bought(&self, customer_id: i64, limit: i64) -> Result<Vec<AlsoBought>> {
        Ok(sqlx::query_as(
            "SELECT o.name AS product, b.name AS because, pp.confidence, pp.lift \
             FROM product_pairs pp \
             JOIN products o ON o.id = pp.other_id JOIN products b ON b.id = pp.product_id \
             WHERE pp.product_id IN (SELECT l.product_id FROM order_lines l JOIN orders r ON r.id = l.order_id WHERE r.customer_id = $1) \
               AND pp.other_id NOT IN (SELECT l.product_id FROM order_lines l JOIN orders r ON r.id = l.order_id WHERE r.customer_id = $1) \
             ORDER BY pp.lift DESC, pp.confidence DESC, o.name LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit.clamp(1, 50) * 4)
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .fold(Vec::<AlsoBought>::new(), |mut acc, r: AlsoBought| {
            // Several bought products can lead to the same suggestion; keep its best reason.
            if !acc.iter().any(|x| x.product == r.product) && (acc.len() as i64) < limit {
                acc.push(r);
            }
            acc
        }))
    }

    /// Segment sizes after each of the last `refreshes` refreshes, oldest first: (computed at
    /// ms, segment, customers). Whole-book figures (not scoped), for readers who see all.
    pub async fn segment_history(&self, refreshes: i64) -> Result<Vec<(i64, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT h.computed_at, h.rfm_segment, h.customers FROM segment_history h \
             WHERE h.computed_at IN (SELECT DISTINCT computed_at FROM segment_history \
                                     ORDER BY computed_at DESC LIMIT $1) \
             ORDER BY h.computed_at, h.rfm_segment",
        )
        .bind(refreshes.clamp(1, 365))
        .fetch_all(&self.read)
        .await?)
    }

    /// When the stored scores were computed (ms) and how many customers they covered then,
    /// from the last refresh's line in `segment_history` (its segment sizes add up to every
    /// scored customer): two index probes, where counting `customer_scores` read a million
    /// rows on every dashboard view (135 ms).
    pub async fn scores_summary(&self) -> Result<(Option<i64>, i64)> {
        Ok(sqlx::query_as(
            "SELECT CAST(MAX(computed_at) AS BIGINT), CAST(COALESCE(SUM(customers), 0) AS BIGINT) \
             FROM segment_history \
             WHERE computed_at = (SELECT MAX(computed_at) FROM segment_history)",
        )
        .fetch_one(&self.read)
        .await?)
    }

    /// The stored scores of some customers in one query (a page of the list, an export);
    /// customers without scores are absent.
    pub async fn scores_of(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, ScoreRow>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        // Bounded IN lists: an export may ask for every customer of a segment.
        for chunk in ids.chunks(500) {
            let mut q = crate::sql::SqlBuilder::new(&format!(
                "SELECT {} FROM customer_scores WHERE customer_id IN (",
                COLUMNS.join(", ")
            ));
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.int(*id);
            }
            q.push(")");
            for row in q.query_as::<ScoreRow>().fetch_all(&self.read).await? {
                out.insert(row.customer_id, row);
            }
        }
        Ok(out)
    }

    /// The stored scores of one customer, if computed.
    pub async fn customer_score(&self, customer_id: i64) -> Result<Option<ScoreRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM customer_scores WHERE customer_id = $1",
            COLUMNS.join(", ")
        ))
        .bind(customer_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Customers per RFM segment, as stored.
    pub async fn segment_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT rfm_segment, COUNT(*) FROM customer_scores GROUP BY rfm_segment ORDER BY rfm_segment")
            .fetch_all(&self.read)
            .await?)
    }
}

fn civil(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i32::from(m <= 2), m, d)
}
