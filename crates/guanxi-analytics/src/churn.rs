//! Churn warning. A logistic regression (fitted by iteratively reweighted least squares, i.e.
//! Newton's method on the exact likelihood, no penalty) predicts "no purchase in the next N
//! days" from features of the purchase history: recency, frequency and spend and their trends,
//! and the customer's inter-purchase rhythm. Quality is reported on a time-split hold-out: the
//! model is trained on what was knowable at one cut-off and tested on the next, so it is judged
//! the way it will be used.
//!
//! Past responses to marketing (a message opened, clicked or answered in the 90 days before
//! a cut-off) are one more feature when the book has any ([`Responses`]): a customer who
//! still reads the shop's messages is less likely gone than their orders alone say. A book
//! without campaigns has the feature constant, and the scaler leaves it out.

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{median_gap, History, IdMap, Transactions};

/// Days before a cut-off whose responses count.
pub const RESPONSE_WINDOW_DAYS: i32 = 90;

/// The days on which each customer responded to a marketing message — one per message (its
/// first open, click or reply) — for the churn model's "past responses" feature.
#[derive(Debug, Clone, Default)]
pub struct Responses {
    by_customer: IdMap<Vec<i32>>,
}

impl Responses {
    /// Groups `(customer, day)` rows.
    pub fn new(rows: &[(i64, i32)]) -> Responses {
        let mut by_customer: IdMap<Vec<i32>> = IdMap::default();
        for &(c, d) in rows {
            by_customer.entry(c).or_default().push(d);
        }
        for days in by_customer.values_mut() {
            days.sort_unstable();
        }
        Responses { by_customer }
    }

    /// Responses of `customer` in `(cutoff − RESPONSE_WINDOW_DAYS, cutoff]`.
    fn recent(&self, customer: i64, cutoff: i32) -> f64 {
        self.by_customer.get(&customer).map_or(0.0, |days| {
            let from = days.partition_point(|&d| d <= cutoff - RESPONSE_WINDOW_DAYS);
            let to = days.partition_point(|&d| d <= cutoff);
            (to - from) as f64
        })
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logistic {
    /// Intercept.
    pub intercept: f64,
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// Newton iterations used.
    pub iterations: usize,
}

/// Solves `a x = b` for a symmetric positive-definite `a` (Cholesky); `None` if singular.
#[allow(clippy::needless_range_loop)] // matrix algebra reads best with indices
fn solve_spd(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 1e-300 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    Some(x)
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Logistic {
    /// Fits `P(y = 1 | x)` by IRLS, unpenalised (the maximum-likelihood estimate that
    /// scikit-learn's `C=inf` also finds). `rows` are feature vectors of equal length; `y` is 0/1.
    pub fn fit(rows: &[Vec<f64>], y: &[f64]) -> Result<Logistic, AnalyticsError> {
        Self::fit_ridge(rows, y, 0.0)
    }

    /// Fits with an L2 penalty `lambda/2 · |β|²` on the coefficients (not the intercept), as
    /// scikit-learn's default (`C = 1/lambda`). With few customers the classes can be separable
    /// and the unpenalised optimum lies at infinity; the penalty keeps it finite.
    #[allow(clippy::needless_range_loop)] // matrix algebra reads best with indices
    pub fn fit_ridge(
        rows: &[Vec<f64>],
        y: &[f64],
        lambda: f64,
    ) -> Result<Logistic, AnalyticsError> {
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(AnalyticsError::Parameter("lambda must be >= 0"));
        }
        if rows.len() != y.len() {
            return Err(AnalyticsError::Ragged("features, labels".into()));
        }
        if rows.is_empty() {
            return Err(AnalyticsError::Empty);
        }
        let p = rows[0].len();
        if rows.iter().any(|r| r.len() != p) {
            return Err(AnalyticsError::Ragged("feature rows".into()));
        }
        if let Some(i) = rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
            return Err(AnalyticsError::InvalidValue {
                column: "features",
                row: i,
                why: "not a finite number",
            });
        }
        if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
            return Err(AnalyticsError::InvalidValue {
                column: "label",
                row: i,
                why: "must be 0 or 1",
            });
        }
        let positives = y.iter().filter(|&&v| v == 1.0).count();
        if positives == 0 || positives == y.len() {
            return Err(AnalyticsError::NotEnoughData("both outcomes must occur"));
        }
        let k = p + 1;
        let mut beta = vec![0.0; k];
        let x = |r: &Vec<f64>, j: usize| if j == 0 { 1.0 } else { r[j - 1] };
        let mut last_ll = f64::NEG_INFINITY;
        for it in 1..=100 {
            let mut h = vec![vec![0.0; k]; k];
            let mut g = vec![0.0; k];
            let mut ll = 0.0;
            for (r, &yi) in rows.iter().zip(y) {
                let z: f64 = (0..k).map(|j| beta[j] * x(r, j)).sum();
                let mu = sigmoid(z);
                ll += if yi == 1.0 {
                    mu.max(1e-300).ln()
                } else {
                    (1.0 - mu).max(1e-300).ln()
                };
                let w = mu * (1.0 - mu);
                for a in 0..k {
                    let xa = x(r, a);
                    g[a] += (yi - mu) * xa;
                    for b in 0..=a {
                        h[a][b] += w * xa * x(r, b);
                    }
                }
            }
            for a in 0..k {
                for b in 0..a {
                    h[b][a] = h[a][b];
                }
            }
            for j in 1..k {
                h[j][j] += lambda;
                g[j] -= lambda * beta[j];
                ll -= 0.5 * lambda * beta[j] * beta[j];
            }
            let step = solve_spd(&h, &g).ok_or(AnalyticsError::NotEnoughData(
                "features are collinear or the classes are separable",
            ))?;
            for j in 0..k {
                beta[j] += step[j];
            }
            let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            if beta.iter().any(|b| !b.is_finite() || b.abs() > 1e6) {
                return Err(AnalyticsError::NoConvergence(
                    "coefficients diverge (perfect separation?)",
                ));
            }
            if max_step < 1e-12 * (1.0 + beta.iter().fold(0.0f64, |m, b| m.max(b.abs())))
                || (ll - last_ll).abs() < 1e-14 * ll.abs()
            {
                return Ok(Logistic {
                    intercept: beta[0],
                    coefficients: beta[1..].to_vec(),
                    iterations: it,
                });
            }
            last_ll = ll;
        }
        Err(AnalyticsError::NoConvergence("100 Newton steps"))
    }

    /// The linear predictor's per-feature contributions for one row.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.coefficients
            .iter()
            .zip(row)
            .map(|(c, v)| c * v)
            .collect()
    }

    /// Predicted probability for one row.
    pub fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(self.intercept + self.contributions(row).iter().sum::<f64>())
    }
}

/// Area under the ROC curve (Mann–Whitney U with average ranks for ties).
pub fn auc(scores: &[f64], labels: &[f64]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = avg;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l == 1.0).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let sum_pos: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l == 1.0)
        .map(|(r, _)| r)
        .sum();
    Some((sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Ridge penalty of the churn-warning model on standardised features (scikit-learn's default
/// strength, C = 1).
pub const RIDGE: f64 = 1.0;

/// Names of the history features, in column order.
pub const FEATURES: [&str; 8] = [
    "recency_days",
    "orders_365d",
    "log_spend_365d",
    "orders_trend",
    "typical_interval_days",
    "overdue_ratio",
    "tenure_days",
    "campaign_responses_90d",
];

/// Reason codes per feature (same order as [`FEATURES`]): `[above the book's average, below
/// it]` (the average at the model's latest labelled cut-off, [`Scaler::mean`]). A customer's
/// main reason is the feature whose term raises their risk most, and which side of the average
/// they are on says what it means: in one book few orders raise the risk, in another a long
/// tenure does, and "tenure" alone would not tell a reader which.
pub const REASONS: [[&str; 2]; 8] = [
    ["recency_days_high", "recency_days_low"],
    ["orders_365d_high", "orders_365d_low"],
    ["log_spend_365d_high", "log_spend_365d_low"],
    ["orders_trend_high", "orders_trend_low"],
    ["typical_interval_days_high", "typical_interval_days_low"],
    ["overdue_ratio_high", "overdue_ratio_low"],
    ["tenure_days_high", "tenure_days_low"],
    ["campaign_responses_90d_high", "campaign_responses_90d_low"],
];

/// Features and labels at several cut-offs in one walk over the customers (each customer's
/// orders are read while they are in cache). Per cut-off: the features of every customer with
/// a purchase on or before it and, with a horizon, their labels — 1 when the customer made no
/// purchase in `(cutoff, cutoff + horizon]`.
type Snapshot = (Vec<(i64, Vec<f64>)>, Vec<f64>);

fn snapshots<const N: usize>(
    history: &History,
    responses: &Responses,
    cutoffs: [(i32, Option<i32>); N],
) -> [Snapshot; N] {
    let mut out: [Snapshot; N] = std::array::from_fn(|_| (Vec::new(), Vec::new()));
    let (mut days, mut scratch) = (Vec::new(), Vec::new());
    for k in 0..history.customers.len() {
        for (n, &(cutoff, horizon)) in cutoffs.iter().enumerate() {
            history.purchase_days_into(k, Some(cutoff), &mut days);
            let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
                continue;
            };
            let typical = median_gap(&days, &mut scratch).unwrap_or(365.0).max(1.0);
            let (mut n365, mut s365, mut n90, mut bought_after) = (0.0, 0.0, 0.0, false);
            for &(d, amount) in history.orders(k) {
                if d > cutoff {
                    bought_after = horizon.is_some_and(|h| d <= cutoff + h);
                    break;
                }
                if d > cutoff - 365 {
                    n365 += 1.0;
                    s365 += amount;
                    if d > cutoff - 90 {
                        n90 += 1.0;
                    }
                }
            }
            let recency = f64::from(cutoff - last);
            // Orders in the last 90 days against the rate of the 365: >0 rising, <0 falling.
            let trend = n90 - n365 * 90.0 / 365.0;
            let (rows, labels) = &mut out[n];
            rows.push((
                history.customers[k],
                vec![
                    recency,
                    n365,
                    (1.0 + s365).ln(),
                    trend,
                    typical,
                    recency / typical,
                    f64::from(cutoff - first),
                    responses.recent(history.customers[k], cutoff),
                ],
            ));
            if horizon.is_some() {
                labels.push(if bought_after { 0.0 } else { 1.0 });
            }
        }
    }
    out
}

/// Feature standardisation learnt on the training set. Features that do not vary there carry
/// no information and would make the Hessian singular (every customer joined the same day, say),
/// so they are left out; `keep` lists the ones used, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scaler {
    /// Means.
    pub mean: Vec<f64>,
    /// Standard deviations.
    pub std: Vec<f64>,
    /// Indices (into [`FEATURES`]) of the features the model uses.
    pub keep: Vec<usize>,
}

impl Scaler {
    fn fit(rows: &[(i64, Vec<f64>)]) -> Scaler {
        let p = rows.first().map_or(0, |r| r.1.len());
        let n = rows.len() as f64;
        let mean: Vec<f64> = (0..p)
            .map(|j| rows.iter().map(|r| r.1[j]).sum::<f64>() / n)
            .collect();
        let std: Vec<f64> = (0..p)
            .map(|j| (rows.iter().map(|r| (r.1[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
            .collect();
        let keep = (0..p)
            .filter(|&j| std[j] > 1e-9 * (1.0 + mean[j].abs()))
            .collect();
        Scaler { mean, std, keep }
    }

    /// Standardises one row, keeping only the features in `keep`.
    pub fn apply(&self, r: &[f64]) -> Vec<f64> {
        self.keep
            .iter()
            .map(|&j| (r[j] - self.mean[j]) / self.std[j])
            .collect()
    }
}

/// One decile of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Customers in the bin.
    pub count: usize,
    /// Mean predicted churn probability.
    pub predicted: f64,
    /// Observed churn rate.
    pub observed: f64,
}

/// A customer's churn risk now, with the feature that pushes it up most.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnRisk {
    /// Customer.
    pub customer: i64,
    /// Probability of no purchase in the horizon.
    pub probability: f64,
    /// Why the risk is above an average customer's: the feature raising it most and the side
    /// of the book's average the customer is on (a code of [`REASONS`]); none when the risk is
    /// at or below an average customer's.
    pub main_reason: Option<&'static str>,
    /// Raw feature values (see [`FEATURES`]).
    pub features: Vec<f64>,
}

/// The trained warning model, its hold-out quality and today's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnReport {
    /// Days ahead predicted.
    pub horizon_days: i32,
    /// Model on standardised features.
    pub model: Logistic,
    /// Standardisation.
    pub scaler: Scaler,
    /// Training rows.
    pub train_rows: usize,
    /// Hold-out rows.
    pub test_rows: usize,
    /// Hold-out AUC.
    pub auc: f64,
    /// Hold-out Brier score.
    pub brier: f64,
    /// Hold-out calibration by predicted decile.
    pub calibration: Vec<CalibrationBin>,
    /// Scores at `as_of`, highest risk first.
    pub scores: Vec<ChurnRisk>,
}

/// Trains on the cut-off `as_of − 2·horizon` (labels from the next `horizon` days), tests on
/// `as_of − horizon`, then refits on the test window and scores everyone at `as_of`.
pub fn churn_warning(
    tx: &Transactions,
    as_of: i32,
    horizon_days: i32,
) -> Result<ChurnReport, AnalyticsError> {
    tx.validate()?;
    churn_warning_of(
        &History::new(tx),
        &Responses::default(),
        as_of,
        horizon_days,
    )
}

/// [`churn_warning`] over a book already grouped by customer, with its customers' past
/// responses to marketing.
pub fn churn_warning_of(
    history: &History,
    responses: &Responses,
    as_of: i32,
    horizon_days: i32,
) -> Result<ChurnReport, AnalyticsError> {
    if horizon_days <= 0 {
        return Err(AnalyticsError::Parameter("horizon_days must be positive"));
    }
    let [(train, y_train), (test, y_test), (now, _)] = snapshots(
        history,
        responses,
        [
            (as_of - 2 * horizon_days, Some(horizon_days)),
            (as_of - horizon_days, Some(horizon_days)),
            (as_of, None),
        ],
    );
    if train.len() < 20 || test.len() < 20 {
        return Err(AnalyticsError::NotEnoughData(
            "need at least 20 customers with history at both cut-offs",
        ));
    }
    let scaler = Scaler::fit(&train);
    if scaler.keep.is_empty() {
        return Err(AnalyticsError::NotEnoughData(
            "no history feature varies between customers",
        ));
    }
    let xs: Vec<Vec<f64>> = train.iter().map(|r| scaler.apply(&r.1)).collect();
    let model = Logistic::fit_ridge(&xs, &y_train, RIDGE)?;
    let p_test: Vec<f64> = test
        .iter()
        .map(|r| model.predict(&scaler.apply(&r.1)))
        .collect();
    let auc = auc(&p_test, &y_test).ok_or(AnalyticsError::NotEnoughData(
        "the hold-out has only one outcome",
    ))?;
    let brier = p_test
        .iter()
        .zip(&y_test)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / p_test.len() as f64;
    let mut order: Vec<usize> = (0..p_test.len()).collect();
    order.sort_by(|&a, &b| p_test[a].total_cmp(&p_test[b]));
    let calibration = order
        .chunks(order.len().div_ceil(10))
        .map(|c| CalibrationBin {
            count: c.len(),
            predicted: c.iter().map(|&i| p_test[i]).sum::<f64>() / c.len() as f64,
            observed: c.iter().map(|&i| y_test[i]).sum::<f64>() / c.len() as f64,
        })
        .collect();
    // Refit on the most recent labelled window for today's scores.
    let scaler_now = Scaler::fit(&test);
    if scaler_now.keep.is_empty() {
        return Err(AnalyticsError::NotEnoughData(
            "no history feature varies between customers",
        ));
    }
    let xs_now: Vec<Vec<f64>> = test.iter().map(|r| scaler_now.apply(&r.1)).collect();
    let model_now = Logistic::fit_ridge(&xs_now, &y_test, RIDGE)?;
    let mut scores: Vec<ChurnRisk> = now
        .into_iter()
        .map(|(c, f)| {
            let z = scaler_now.apply(&f);
            let contrib = model_now.contributions(&z);
            // A reason says why the risk is above an average customer's; below it, none.
            let above_average = contrib.iter().sum::<f64>() > 0.0;
            let main_reason = contrib
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .filter(|_| above_average)
                .map(|(i, _)| REASONS[scaler_now.keep[i]][usize::from(z[i] < 0.0)]);
            ChurnRisk {
                customer: c,
                probability: model_now.predict(&z),
                main_reason,
                features: f,
            }
        })
        .collect();
    scores.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.customer.cmp(&b.customer))
    });
    Ok(ChurnReport {
        horizon_days,
        model: model_now,
        scaler: scaler_now,
        train_rows: train.len(),
        test_rows: test.len(),
        auc,
        brier,
        calibration,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A book where only marketing responses tell who comes back: every customer bought the
    /// same way (tenure varies, unrelated); eight in ten of those who read the shop's messages
    /// before a cut-off buy in the horizon after it, two in ten of the others.
    fn book(as_of: i32, h: i32) -> (Transactions, Vec<(i64, i32)>) {
        let mut tx = Transactions::default();
        let mut resp = vec![];
        for id in 1..=400i64 {
            let first = as_of - 400 - ((id * 2_654_435_761) % 97) as i32;
            for d in [first, first + 30] {
                tx.customer.push(id);
                tx.day.push(d);
                tx.amount.push(100.0);
            }
            for (n, cutoff) in [as_of - 2 * h, as_of - h].into_iter().enumerate() {
                // Who reads the messages changes from one horizon to the next, so an earlier
                // purchase does not give away a later one.
                let roll = |salt: i64| ((id * 2_654_435_761 + salt) >> 7) % 1000;
                let responder = roll(n as i64 * 40_503) < 500;
                let buys = roll(n as i64 * 40_503 + 7) < if responder { 800 } else { 200 };
                if responder {
                    resp.push((id, cutoff - 10));
                }
                if buys {
                    tx.customer.push(id);
                    tx.day.push(cutoff + 20);
                    tx.amount.push(100.0);
                }
            }
        }
        (tx, resp)
    }

    #[test]
    fn past_responses_are_a_churn_feature() {
        let (as_of, h) = (20_000, 90);
        let (tx, mut resp) = book(as_of, h);
        // A third read last week's message.
        resp.extend((1..=400).filter(|id| id % 3 == 0).map(|id| (id, as_of - 7)));
        let history = History::new(&tx);
        let with = churn_warning_of(&history, &Responses::new(&resp), as_of, h).unwrap();
        let without = churn_warning_of(&history, &Responses::default(), as_of, h).unwrap();
        let j = with
            .scaler
            .keep
            .iter()
            .position(|&f| f == 7)
            .expect("feature used");
        assert!(
            with.model.coefficients[j] < 0.0,
            "responding lowers the risk: {:?}",
            with.model
        );
        assert!(
            !without.scaler.keep.contains(&7),
            "constant without campaigns"
        );
        assert!(
            with.auc > 0.75 && with.auc > without.auc + 0.15,
            "with {} without {}",
            with.auc,
            without.auc
        );
        // Today, those who responded in the last 90 days are scored at lower risk.
        let recent: std::collections::HashSet<i64> = resp
            .iter()
            .filter(|r| r.1 > as_of - RESPONSE_WINDOW_DAYS)
            .map(|r| r.0)
            .collect();
        let mean = |responded: bool| {
            let p: Vec<f64> = with
                .scores
                .iter()
                .filter(|s| recent.contains(&s.customer) == responded)
                .map(|s| s.probability)
                .collect();
            p.iter().sum::<f64>() / p.len() as f64
        };
        assert!(mean(true) < mean(false), "{} {}", mean(true), mean(false));
    }

    #[test]
    fn auc_known() {
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]),
            Some(0.75)
        );
        assert_eq!(auc(&[0.5, 0.5], &[0.0, 1.0]), Some(0.5));
    }

    #[test]
    fn separable_data_is_an_error_not_a_panic() {
        let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![f64::from(i)]).collect();
        let y: Vec<f64> = (0..10).map(|i| if i < 5 { 0.0 } else { 1.0 }).collect();
        assert!(Logistic::fit(&rows, &y).is_err());
        // The penalised fit stays finite and still ranks the classes correctly.
        let m = Logistic::fit_ridge(&rows, &y, 1.0).unwrap();
        assert!(m.predict(&[9.0]) > 0.5 && m.predict(&[0.0]) < 0.5, "{m:?}");
    }
}
