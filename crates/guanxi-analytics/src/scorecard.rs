//! Every model over one book, for the stored per-customer scores: RFM, value-matrix cell, ABC
//! class, activity, CLV (BG/NBD + Gamma-Gamma) and churn risk. A model without enough data is
//! skipped with a reason rather than failing the lot, so a young shop still gets its RFM grid.
//!
//! The models are independent, so they run on two threads; each step's time is reported so a
//! slow refresh can be read off the output instead of guessed at.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::summary::{History, IdMap};
use crate::{activity, churn, clv, pareto, rfm, value_matrix, Transactions};

/// Settings of the models that have any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScorecardSettings {
    /// Churn horizon in days.
    pub churn_horizon_days: i32,
    /// CLV horizon in weeks.
    pub clv_horizon_weeks: u32,
    /// Weekly discount rate.
    pub weekly_discount: f64,
    /// Margin on revenue for CLV.
    pub margin: f64,
}

impl Default for ScorecardSettings {
    fn default() -> Self {
        Self {
            churn_horizon_days: 90,
            clv_horizon_weeks: 52,
            weekly_discount: 0.0019,
            margin: 1.0,
        }
    }
}

/// One customer's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerScores {
    /// Customer.
    pub customer: i64,
    /// Days since the last order.
    pub recency_days: i64,
    /// Orders.
    pub frequency: i64,
    /// Revenue in minor units (fen).
    pub monetary_minor: i64,
    /// R score (1–5).
    pub r_score: i64,
    /// F score (1–5).
    pub f_score: i64,
    /// M score (1–5).
    pub m_score: i64,
    /// RFM segment code.
    pub rfm_segment: &'static str,
    /// Value-matrix cell code.
    pub value_cell: &'static str,
    /// ABC class ("A", "B", "C").
    pub abc_class: &'static str,
    /// Activity status code.
    pub activity: &'static str,
    /// Typical days between orders.
    pub typical_interval_days: f64,
    /// Orders falling against the period before.
    pub orders_falling: bool,
    /// Discounted CLV in minor units.
    pub clv_minor: Option<i64>,
    /// P(alive).
    pub p_alive: Option<f64>,
    /// Expected orders over the CLV horizon.
    pub expected_purchases: Option<f64>,
    /// Churn probability over the churn horizon.
    pub churn_probability: Option<f64>,
    /// The feature that pushes the churn probability up most.
    pub churn_reason: Option<&'static str>,
}

/// The scores of a book and how they were reached.
#[derive(Debug, Clone, Default)]
pub struct Scorecard {
    /// One entry per customer with an order up to the as-of day, by customer id.
    pub scores: Vec<CustomerScores>,
    /// Hold-out AUC of the churn model, when it could be trained.
    pub churn_auc: Option<f64>,
    /// Models skipped and why.
    pub skipped: Vec<String>,
    /// Time per step, in the order the steps finished on their thread.
    pub steps: Vec<(&'static str, Duration)>,
}

/// Runs every model on `tx` as of day `as_of` (days since the epoch, shop time), with the
/// customers' past responses to marketing (a churn feature; empty when none were sent).
pub fn scorecard(
    tx: &Transactions,
    responses: &churn::Responses,
    as_of: i32,
    st: ScorecardSettings,
) -> Scorecard {
    let mut card = Scorecard::default();
    let t = Instant::now();
    let Ok(scores) = rfm::rfm(tx, as_of, None) else {
        card.skipped.push("rfm: no orders up to today".into());
        return card;
    };
    card.steps.push(("rfm", t.elapsed()));
    let t = Instant::now();
    let history = History::new(tx);
    card.steps.push(("group by customer", t.elapsed()));
    let history = &history;
    // Churn is the heaviest model; it runs on its own thread beside CLV and the light ones.
    let ((clv_by, clv_err, mut clv_steps), (churn_by, auc, churn_err, t_churn), light) =
        std::thread::scope(|s| {
            let churn_job = s.spawn(|| {
                let t = Instant::now();
                let (by, auc, err) =
                    match churn::churn_warning_of(history, responses, as_of, st.churn_horizon_days)
                    {
                        Ok(rep) => {
                            let by: IdMap<(f64, Option<&'static str>)> = rep
                                .scores
                                .into_iter()
                                .map(|s| (s.customer, (s.probability, s.main_reason)))
                                .collect();
                            (by, Some(rep.auc), None)
                        }
                        Err(e) => (IdMap::default(), None, Some(format!("churn: {e}"))),
                    };
                (by, auc, err, t.elapsed())
            });
            let mut steps = Vec::new();
            let clv = match lifetime_values(history, as_of, st, &mut steps) {
                Ok(v) => (v, None, steps),
                Err(e) => (IdMap::default(), Some(format!("clv: {e}")), steps),
            };
            let light = light_models(tx, history, as_of);
            let churn = churn_job.join().unwrap_or_else(|_| {
                (
                    IdMap::default(),
                    None,
                    Some("churn: the model panicked".into()),
                    Duration::ZERO,
                )
            });
            (clv, churn, light)
        });
    let (cells, abc, act, mut light_steps) = light;
    card.steps.append(&mut light_steps);
    card.steps.append(&mut clv_steps);
    card.steps.push(("churn", t_churn));
    card.skipped.extend(clv_err);
    card.skipped.extend(churn_err);
    card.churn_auc = auc;
    let t = Instant::now();
    card.scores = scores
        .into_iter()
        .map(|s| {
            let a = act.get(&s.customer);
            let v = clv_by.get(&s.customer);
            let c = churn_by.get(&s.customer);
            CustomerScores {
                customer: s.customer,
                recency_days: i64::from(s.recency_days),
                frequency: i64::from(s.frequency),
                monetary_minor: (s.monetary * 100.0).round() as i64,
                r_score: i64::from(s.r),
                f_score: i64::from(s.f),
                m_score: i64::from(s.m),
                rfm_segment: s.segment.code(),
                value_cell: cells.get(&s.customer).map_or("uncertain", |c| c.code()),
                abc_class: abc.get(&s.customer).map_or("C", |c| c.code()),
                activity: a.map_or("lost", |a| a.status.code()),
                typical_interval_days: a.map_or(0.0, |a| a.typical_interval),
                orders_falling: a.is_some_and(|a| a.orders_falling),
                clv_minor: v.map(|v| (v.clv * 100.0).round() as i64),
                p_alive: v.map(|v| v.p_alive),
                expected_purchases: v.map(|v| v.expected_purchases),
                churn_probability: c.map(|c| c.0),
                churn_reason: c.and_then(|c| c.1),
            }
        })
        .collect();
    card.steps.push(("assemble", t.elapsed()));
    card
}

/// The per-customer results of the light models, keyed by customer, with their step times.
type LightModels = (
    IdMap<value_matrix::Cell>,
    IdMap<pareto::AbcClass>,
    IdMap<activity::ActivityStatus>,
    Vec<(&'static str, Duration)>,
);

fn light_models(tx: &Transactions, history: &History, as_of: i32) -> LightModels {
    let mut steps = Vec::new();
    let t = Instant::now();
    let cells = value_matrix::value_matrix(tx, Some(as_of), None)
        .map(|(_, v)| v.into_iter().map(|p| (p.customer, p.cell)).collect())
        .unwrap_or_default();
    steps.push(("value matrix", t.elapsed()));
    let t = Instant::now();
    let abc = pareto::abc(tx, None, 0.8, 0.95)
        .map(|(_, g)| g.into_iter().map(|g| (g.customer, g.class)).collect())
        .unwrap_or_default();
    steps.push(("abc", t.elapsed()));
    let t = Instant::now();
    let act = activity::activity_of(history, as_of, activity::ActivityRules::default())
        .map(|v| v.into_iter().map(|a| (a.customer, a)).collect())
        .unwrap_or_default();
    steps.push(("activity", t.elapsed()));
    (cells, abc, act, steps)
}

/// BG/NBD + Gamma-Gamma CLV per customer, in weeks, with the time of each stage.
fn lifetime_values(
    history: &History,
    as_of: i32,
    st: ScorecardSettings,
    steps: &mut Vec<(&'static str, Duration)>,
) -> Result<IdMap<clv::CustomerValue>, crate::AnalyticsError> {
    let t = Instant::now();
    clv::check_horizon(st.clv_horizon_weeks, 7)?;
    let s = clv::rft_summary_of(history, as_of, 7)?;
    let x: Vec<f64> = s.iter().map(|c| c.frequency).collect();
    let r: Vec<f64> = s.iter().map(|c| c.recency).collect();
    let tt: Vec<f64> = s.iter().map(|c| c.t).collect();
    let m: Vec<f64> = s.iter().map(|c| c.monetary).collect();
    steps.push(("clv summary", t.elapsed()));
    let t = Instant::now();
    let bg = clv::BgNbd::fit(&x, &r, &tt)?;
    steps.push(("bg/nbd fit", t.elapsed()));
    let t = Instant::now();
    let gg = clv::GammaGamma::fit(&x, &m)?;
    steps.push(("gamma-gamma fit", t.elapsed()));
    let t = Instant::now();
    let values = clv::lifetime_values(
        &bg,
        &gg,
        &s,
        st.clv_horizon_weeks,
        st.weekly_discount,
        st.margin,
    )?
    .into_iter()
    .map(|c| (c.customer, c))
    .collect();
    steps.push(("clv values", t.elapsed()));
    Ok(values)
}
