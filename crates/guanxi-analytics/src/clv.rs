//! Customer lifetime value with the "buy till you die" models.
//!
//! * **BG/NBD** — Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An
//!   Alternative to the Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys
//!   at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with probability
//!   p ~ Beta(a, b). Fitted by maximum likelihood (equation 6 of the paper), giving P(alive) and
//!   the expected number of purchases in the next t periods (equation 10).
//! * **Gamma-Gamma** — Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
//!   Customer Base Analysis", and Fader & Hardie's note "The Gamma-Gamma Model of Monetary
//!   Value" (2013): the expected average spend of a customer given their repeat purchases.
//! * **CLV** — the expected margin of future purchases, discounted per period, as in the
//!   `lifetimes` package's `customer_lifetime_value`.
//!
//! Inputs follow the `lifetimes` convention: `x` (frequency) is the number of *repeat*
//! purchase periods, `t_x` (recency) the age at the last purchase, `T` the age at the end of
//! observation, all in the same time unit.

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::optimize::{bfgs, simplex_with_restarts};

/// ln(b/a) beyond which the BG/NBD drop-out probability a/(a+b) (< 2·10⁻⁹ per purchase) is
/// indistinguishable from zero: the fit has reached the no-drop-out limit.
const NO_DROPOUT_LN_RATIO: f64 = 20.0;

/// ln a and ln b both beyond this (a, b > 22,000): the Beta mixing distribution of the drop-out
/// probability has collapsed to a point (its spread is below 1 % of its mean for any mean).
const DEGENERATE_BETA_LN: f64 = 10.0;
/// ln q beyond which the Gamma-Gamma customer-level spend distribution (coefficient of variation
/// 1/√q < 5 %) has collapsed to a point.
const NO_SPEND_SPREAD_LN_Q: f64 = 6.0;
use crate::special::{digamma, hyp2f1, ln_gamma};
use crate::summary::{purchase_days, History, Transactions};

/// One customer's repeat-purchase summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rft {
    /// Customer.
    pub customer: i64,
    /// Repeat purchases (distinct purchase periods minus one).
    pub frequency: f64,
    /// Age at last purchase.
    pub recency: f64,
    /// Age at end of observation.
    pub t: f64,
    /// Mean value of the repeat purchases (0 when none).
    pub monetary: f64,
}

/// Builds the summary from transactions, counting purchase occasions per `period_days`
/// (1 = days, 7 = weeks) as `lifetimes.utils.summary_data_from_transaction_data` does: the
/// first purchase is excluded from frequency and monetary value.
pub fn rft_summary(
    tx: &Transactions,
    as_of: i32,
    period_days: i32,
) -> Result<Vec<Rft>, AnalyticsError> {
    tx.validate()?;
    rft_summary_of(&History::new(tx), as_of, period_days)
}

/// [`rft_summary`] over a book already grouped by customer.
pub fn rft_summary_of(
    history: &History,
    as_of: i32,
    period_days: i32,
) -> Result<Vec<Rft>, AnalyticsError> {
    if period_days <= 0 {
        return Err(AnalyticsError::Parameter("period_days must be positive"));
    }
    let end = f64::from(as_of.div_euclid(period_days));
    let mut out = Vec::with_capacity(history.customers.len());
    // Sum of amounts per period, in day order (input order within a day).
    let mut periods: Vec<(i32, f64)> = Vec::new();
    for (k, &c) in history.customers.iter().enumerate() {
        periods.clear();
        for &(d, amount) in history.orders(k) {
            if d > as_of {
                break;
            }
            let p = d.div_euclid(period_days);
            match periods.last_mut() {
                Some(last) if last.0 == p => last.1 += amount,
                _ => periods.push((p, amount)),
            }
        }
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            continue;
        };
        let (first, last) = (f64::from(first.0), f64::from(last.0));
        let repeat = &periods[1..];
        out.push(Rft {
            customer: c,
            frequency: repeat.len() as f64,
            recency: last - first,
            t: end - first,
            monetary: if repeat.is_empty() {
                0.0
            } else {
                repeat.iter().map(|r| r.1).sum::<f64>() / repeat.len() as f64
            },
        });
    }
    if out.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    Ok(out)
}

/// Fitted BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    /// Shape of the purchase-rate Gamma.
    pub r: f64,
    /// Scale of the purchase-rate Gamma.
    pub alpha: f64,
    /// Beta parameter a of the dropout probability.
    pub a: f64,
    /// Beta parameter b of the dropout probability.
    pub b: f64,
    /// Log-likelihood at the optimum.
    pub log_likelihood: f64,
}

fn check_rft(x: &[f64], t_x: &[f64], t: &[f64]) -> Result<(), AnalyticsError> {
    if x.len() != t_x.len() || x.len() != t.len() {
        return Err(AnalyticsError::Ragged("frequency, recency, T".into()));
    }
    if x.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    for i in 0..x.len() {
        if !(x[i] >= 0.0 && t_x[i] >= 0.0 && t[i] >= t_x[i] && x[i].is_finite() && t[i].is_finite())
        {
            return Err(AnalyticsError::InvalidValue {
                column: "frequency/recency/T",
                row: i,
                why: "need 0 <= recency <= T and frequency >= 0",
            });
        }
        if x[i] > 0.0 && t_x[i] <= 0.0 {
            return Err(AnalyticsError::InvalidValue {
                column: "recency",
                row: i,
                why: "a repeat buyer needs recency > 0",
            });
        }
    }
    Ok(())
}

impl BgNbd {
    /// Log-likelihood of one customer (Fader, Hardie & Lee 2005, eq. 6).
    pub fn ll_one(r: f64, alpha: f64, a: f64, b: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
            let m = a3.max(a4);
            a1 + a2 + m + ((a3 - m).exp() + (a4 - m).exp()).ln()
        } else {
            a1 + a2 + a3
        }
    }

    /// Total log-likelihood of a data set.
    pub fn log_likelihood(&self, x: &[f64], t_x: &[f64], t: &[f64]) -> f64 {
        (0..x.len())
            .map(|i| Self::ll_one(self.r, self.alpha, self.a, self.b, x[i], t_x[i], t[i]))
            .sum()
    }

    /// Maximum-likelihood fit (Nelder–Mead over log-parameters, so they stay positive).
    pub fn fit(x: &[f64], t_x: &[f64], t: &[f64]) -> Result<BgNbd, AnalyticsError> {
        check_rft(x, t_x, t)?;
        if x.iter().all(|&v| v == 0.0) {
            return Err(AnalyticsError::NotEnoughData(
                "no customer has a repeat purchase",
            ));
        }
        // Distinct (x, t_x, T) rows with counts: real data repeats a lot.
        let mut rows: Vec<(f64, f64, f64)> = (0..x.len()).map(|i| (x[i], t_x[i], t[i])).collect();
        rows.sort_by(|p, q| {
            p.0.total_cmp(&q.0)
                .then(p.1.total_cmp(&q.1))
                .then(p.2.total_cmp(&q.2))
        });
        let mut uniq: Vec<((f64, f64, f64), f64)> = Vec::new();
        for r in rows {
            match uniq.last_mut() {
                Some((u, n)) if *u == r => *n += 1.0,
                _ => uniq.push((r, 1.0)),
            }
        }
        // Distinct frequencies: the Γ and ψ terms depend on x only, so compute them once each.
        let mut xs: Vec<f64> = uniq.iter().map(|((x, _, _), _)| *x).collect();
        xs.dedup();
        let slot: Vec<usize> = uniq
            .iter()
            .map(|((x, _, _), _)| xs.partition_point(|v| v < x))
            .collect();
        // Negative log-likelihood and its gradient in log-parameters (eq. 6 differentiated:
        // ψ terms from the Gamma functions, the rest from the two-part likelihood weighted by w).
        let nll_grad = |p: &[f64], grad: &mut [f64]| -> f64 {
            let (r, alpha, a, b) = (p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp());
            let per_x: Vec<[f64; 6]> = xs
                .iter()
                .map(|&x| {
                    let pos = x > 0.0;
                    [
                        ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x),
                        digamma(r + x),
                        digamma(b + x),
                        digamma(a + b + x),
                        if pos { (b + x - 1.0).ln() } else { 0.0 },
                        if pos { 1.0 / (b + x - 1.0) } else { 0.0 },
                    ]
                })
                .collect();
            let c0 = -ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b);
            let (psi_r, psi_ab, psi_b, ln_alpha, ln_a) =
                (digamma(r), digamma(a + b), digamma(b), alpha.ln(), a.ln());
            let (mut ll, mut gr, mut gal, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (k, ((x, tx, t), n)) in uniq.iter().enumerate() {
                let q = &per_x[slot[k]];
                let (lt, ltx) = ((alpha + t).ln(), (alpha + tx).ln());
                let a3 = -(r + x) * lt;
                // w: the likelihood share of "dropped out right after the last purchase".
                let (l, w) = if *x > 0.0 {
                    let a4 = ln_a - q[4] - (r + x) * ltx;
                    let m = a3.max(a4);
                    let (e3, e4) = ((a3 - m).exp(), (a4 - m).exp());
                    (m + (e3 + e4).ln(), e4 / (e3 + e4))
                } else {
                    (a3, 0.0)
                };
                ll += n * (c0 + q[0] + l);
                gr += n * (q[1] - psi_r + ln_alpha - (1.0 - w) * lt - w * ltx);
                gal += n
                    * (r / alpha - (1.0 - w) * (r + x) / (alpha + t) - w * (r + x) / (alpha + tx));
                ga += n * (psi_ab - q[3] + w / a);
                gb += n * (psi_ab + q[2] - psi_b - q[3] - w * q[5]);
            }
            grad[0] = -gr * r;
            grad[1] = -gal * alpha;
            grad[2] = -ga * a;
            grad[3] = -gb * b;
            -ll
        };
        let mut best = bfgs(nll_grad, &[0.0, 0.0, 0.0, 0.0], 1e-9, 500);
        // Data with (almost) no heterogeneity in drop-out put the maximum at a boundary: a/(a+b)
        // → 0 (nobody drops out), or a, b → ∞ together (everyone shares one drop-out
        // probability). BFGS then walks up a ridge where the likelihood no longer changes; that
        // point *is* the answer in the limit, and a simplex fallback would wander the flat ridge
        // for minutes on a large book, so it only runs for interior failures.
        let at_boundary = best.value.is_finite()
            && (best.x[3] - best.x[2] > NO_DROPOUT_LN_RATIO
                || best.x[2].min(best.x[3]) > DEGENERATE_BETA_LN);
        if !best.converged && !at_boundary {
            // Fall back to the derivative-free simplex from wherever BFGS got to.
            let nll = |p: &[f64]| -> f64 {
                let mut g = [0.0; 4];
                nll_grad(p, &mut g)
            };
            best = simplex_with_restarts(nll, &best.x);
        }
        if !best.value.is_finite() {
            return Err(AnalyticsError::NoConvergence(
                "BG/NBD likelihood is not finite",
            ));
        }
        let p: Vec<f64> = best.x.iter().map(|v| v.exp()).collect();
        Ok(BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
            log_likelihood: -best.value,
        })
    }

    /// Probability the customer is still alive (eq. 13 of the technical note).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let ratio = ((self.alpha + t) / (self.alpha + t_x)).powf(self.r + x);
        1.0 / (1.0 + self.a / (self.b + x - 1.0) * ratio)
    }

    /// Expected purchases in the next `horizon` periods given the history (eq. 10).
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        self.lead(x) * self.numerator(horizon, x, t) / self.denominator(x, t_x, t)
    }

    /// The factor of eq. 10 that depends on x alone.
    fn lead(&self, x: f64) -> f64 {
        (self.a + self.b + x - 1.0) / (self.a - 1.0)
    }

    /// The numerator of eq. 10: depends on the horizon, x and T, not on recency, so a book's
    /// customers share few distinct values.
    fn numerator(&self, horizon: f64, x: f64, t: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let z = horizon / (alpha + t + horizon);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp
    }

    /// The denominator of eq. 10 (1 / P(alive) for repeat buyers).
    fn denominator(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x > 0.0 {
            1.0 + self.a / (self.b + x - 1.0)
                * ((self.alpha + t) / (self.alpha + t_x)).powf(self.r + x)
        } else {
            1.0
        }
    }
}

/// Repeat buyers with the same number of repeat purchases, for the Gamma-Gamma likelihood.
struct GgGroup {
    x: f64,
    n: f64,
    sum_ln_m: f64,
    m: Vec<f64>,
}

/// Fitted Gamma-Gamma spend parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    /// Shape of the per-transaction spend.
    pub p: f64,
    /// Shape of the customer-level scale.
    pub q: f64,
    /// Scale (γ in the paper, v in lifetimes).
    pub gamma: f64,
    /// Log-likelihood at the optimum.
    pub log_likelihood: f64,
}

impl GammaGamma {
    /// One repeat buyer's log-likelihood (Fader & Hardie's note, eq. 5): the fit uses a grouped
    /// form of the same sum; this is the plain one it is checked against.
    pub fn ll_one(p: f64, q: f64, g: f64, x: f64, m: f64) -> f64 {
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
            + q * g.ln()
            + (p * x - 1.0) * m.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (g + m * x).ln()
    }

    /// Fits on repeat buyers only (`x > 0`, `m > 0`); others are ignored, as in the note.
    pub fn fit(x: &[f64], m: &[f64]) -> Result<GammaGamma, AnalyticsError> {
        if x.len() != m.len() {
            return Err(AnalyticsError::Ragged("frequency, monetary".into()));
        }
        let data: Vec<(f64, f64)> = x
            .iter()
            .zip(m)
            .filter(|(x, m)| **x > 0.0 && **m > 0.0)
            .map(|(x, m)| (*x, *m))
            .collect();
        if data.len() < 2 {
            return Err(AnalyticsError::NotEnoughData(
                "Gamma-Gamma needs repeat buyers with positive spend",
            ));
        }
        // Customers with the same x share every Gamma-function term; only ln(γ + m·x) and
        // 1/(γ + m·x) are per customer. Grouping by x and using the analytic gradient (BFGS)
        // instead of a simplex over per-customer terms turns a minute at a million customers
        // into well under a second.
        let mut data = data;
        data.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut groups: Vec<GgGroup> = Vec::new();
        for (x, m) in &data {
            match groups.last_mut() {
                Some(g) if g.x == *x => {
                    g.n += 1.0;
                    g.sum_ln_m += m.ln();
                    g.m.push(*m);
                }
                _ => groups.push(GgGroup {
                    x: *x,
                    n: 1.0,
                    sum_ln_m: m.ln(),
                    m: vec![*m],
                }),
            }
        }
        let nll_grad = |v: &[f64], grad: &mut [f64]| -> f64 {
            let (p, q, g) = (v[0].exp(), v[1].exp(), v[2].exp());
            let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), g.ln());
            let (mut ll, mut dp, mut dq, mut dg) = (0.0, 0.0, 0.0, 0.0);
            for k in &groups {
                let (x, n) = (k.x, k.n);
                let u = p * x;
                let (sum_l, sum_r) = k.m.iter().fold((0.0, 0.0), |(l, r), m| {
                    let d = g + m * x;
                    (l + d.ln(), r + 1.0 / d)
                });
                let (psi_uq, ln_x) = (digamma(u + q), x.ln());
                ll += n * (ln_gamma(u + q) - ln_gamma(u) - lg_q + q * ln_g + u * ln_x)
                    + (u - 1.0) * k.sum_ln_m
                    - (u + q) * sum_l;
                dp += x * (n * (psi_uq - digamma(u) + ln_x) + k.sum_ln_m - sum_l);
                dq += n * (psi_uq - psi_q + ln_g) - sum_l;
                dg += n * q / g - (u + q) * sum_r;
            }
            grad[0] = -dp * p;
            grad[1] = -dq * q;
            grad[2] = -dg * g;
            -ll
        };
        let mut best = bfgs(nll_grad, &[0.0, 0.0, 0.0], 1e-9, 500);
        // Mean spends that differ between customers no more than sampling noise explains put
        // the maximum at q, γ → ∞ together (every customer shares one spend rate): BFGS stalls
        // on that flat ridge, whose points all give the same expected spends. Accept it there;
        // a simplex would wander the ridge for seconds per million customers.
        let at_boundary = best.value.is_finite() && best.x[1] > NO_SPEND_SPREAD_LN_Q;
        if !best.converged && !at_boundary {
            let nll = |v: &[f64]| -> f64 {
                let mut g = [0.0; 3];
                nll_grad(v, &mut g)
            };
            best = simplex_with_restarts(nll, &best.x);
        }
        if !best.value.is_finite() {
            return Err(AnalyticsError::NoConvergence(
                "Gamma-Gamma likelihood is not finite",
            ));
        }
        Ok(GammaGamma {
            p: best.x[0].exp(),
            q: best.x[1].exp(),
            gamma: best.x[2].exp(),
            log_likelihood: -best.value,
        })
    }

    /// Expected average spend per transaction given `x` repeat purchases of mean `m`
    /// (the population mean p·γ/(q−1) for customers without repeats).
    pub fn expected_spend(&self, x: f64, m: f64) -> f64 {
        if x > 0.0 {
            self.p * (self.gamma + x * m) / (self.p * x + self.q - 1.0)
        } else {
            self.p * self.gamma / (self.q - 1.0)
        }
    }
}

/// One customer's value estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerValue {
    /// Customer.
    pub customer: i64,
    /// Probability of being alive.
    pub p_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected spend per purchase.
    pub expected_spend: f64,
    /// Discounted expected margin over the horizon.
    pub clv: f64,
}

/// Longest CLV horizon accepted (ten years): the models extrapolate a few years of history,
/// and past a decade the figure says more about the model than the customer.
pub const MAX_HORIZON_DAYS: i64 = 3_653;

/// Checks a CLV horizon of `periods` periods of `period_days` days.
pub fn check_horizon(periods: u32, period_days: i32) -> Result<(), AnalyticsError> {
    if period_days <= 0 {
        return Err(AnalyticsError::Parameter("period_days must be positive"));
    }
    if i64::from(periods) * i64::from(period_days) > MAX_HORIZON_DAYS {
        return Err(AnalyticsError::Parameter(
            "the horizon must be at most 10 years (3653 days)",
        ));
    }
    Ok(())
}

/// Checks a per-period discount rate (zero or more) and a profit margin (0–1).
pub fn check_rates(discount_rate: f64, margin: f64) -> Result<(), AnalyticsError> {
    if !(discount_rate.is_finite() && discount_rate >= 0.0) {
        return Err(AnalyticsError::Parameter(
            "the discount rate must be zero or positive",
        ));
    }
    if !(0.0..=1.0).contains(&margin) {
        return Err(AnalyticsError::Parameter(
            "the margin must be between 0 and 1",
        ));
    }
    Ok(())
}

/// CLV over `horizon_periods`, discounting each period's expected margin at `discount_rate`
/// per period (`lifetimes.customer_lifetime_value` with its monthly steps generalised to any
/// period length): Σ_i (E[N(i)] − E[N(i−1)]) · spend · margin / (1 + d)^i. A negative or
/// non-finite discount rate, or a margin outside 0–1, is refused.
pub fn lifetime_values(
    bg: &BgNbd,
    gg: &GammaGamma,
    customers: &[Rft],
    horizon_periods: u32,
    discount_rate: f64,
    margin: f64,
) -> Result<Vec<CustomerValue>, AnalyticsError> {
    check_rates(discount_rate, margin)?;
    // E[N(i)] = lead(x) · numerator(i, x, T) / denominator(x, t_x, T): only the numerator
    // changes with i, and it does not depend on t_x. The discounted sum of its increments is
    // computed once per distinct (x, T) — a few thousand in a book of a million customers,
    // whose ages and repeat counts are whole periods — instead of horizon × customers
    // hypergeometric series.
    let mut per_xt: std::collections::HashMap<(u64, u64), (f64, f64)> =
        std::collections::HashMap::new();
    Ok(customers
        .iter()
        .map(|c| {
            let (discounted, last) = *per_xt
                .entry((c.frequency.to_bits(), c.t.to_bits()))
                .or_insert_with(|| {
                    let (mut prev, mut sum) = (0.0, 0.0);
                    for i in 1..=horizon_periods {
                        let n = bg.numerator(f64::from(i), c.frequency, c.t);
                        sum += (n - prev) / (1.0 + discount_rate).powi(i as i32);
                        prev = n;
                    }
                    (sum, prev)
                });
            let scale = bg.lead(c.frequency) / bg.denominator(c.frequency, c.recency, c.t);
            let spend = gg.expected_spend(c.frequency, c.monetary);
            CustomerValue {
                customer: c.customer,
                p_alive: bg.p_alive(c.frequency, c.recency, c.t),
                expected_purchases: scale * last,
                expected_spend: spend,
                clv: scale * discounted * spend * margin,
            }
        })
        .collect())
}

/// Convenience: repeat-purchase summary of transactions by distinct purchase days.
pub fn purchase_occasions(tx: &Transactions, as_of: i32) -> Vec<(i64, usize)> {
    purchase_days(tx, Some(as_of))
        .into_iter()
        .map(|(c, d)| (c, d.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform draws in [0, 1) from a small linear congruential generator: repeatable books
    /// without a random-number crate.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The grouped Gamma-Gamma fit maximises the plain per-customer likelihood: at its optimum
    /// the plain sum equals the reported value and no small step in any parameter improves it.
    #[test]
    fn gamma_gamma_grouped_fit_is_the_plain_optimum() {
        let (mut x, mut m) = (Vec::new(), Vec::new());
        let mut next = uniform(9);
        for _ in 0..5_000 {
            // Customers differ in their mean spend (10 to 200), and each mean is of 1–12
            // repeat purchases that scatter around it.
            let mean = 10.0 * (20f64).powf(next());
            x.push((1.0 + 12.0 * next()).floor());
            m.push(mean * (0.7 + 0.6 * next()));
        }
        let fit = GammaGamma::fit(&x, &m).unwrap();
        let plain = |p: f64, q: f64, g: f64| -> f64 {
            x.iter()
                .zip(&m)
                .map(|(x, m)| GammaGamma::ll_one(p, q, g, *x, *m))
                .sum()
        };
        let best = plain(fit.p, fit.q, fit.gamma);
        assert!((best - fit.log_likelihood).abs() < 1e-6 * best.abs());
        for (dp, dq, dg) in [
            (1.01, 1.0, 1.0),
            (0.99, 1.0, 1.0),
            (1.0, 1.01, 1.0),
            (1.0, 0.99, 1.0),
            (1.0, 1.0, 1.01),
            (1.0, 1.0, 0.99),
        ] {
            assert!(plain(fit.p * dp, fit.q * dq, fit.gamma * dg) < best);
        }
    }

    /// Every customer spends around the same mean: the fit stops at the no-spread limit, where
    /// each customer's expected spend is the population's mean whatever their own few orders.
    #[test]
    fn gamma_gamma_without_spend_spread_reaches_the_limit() {
        let (mut x, mut m) = (Vec::new(), Vec::new());
        let mut next = uniform(5);
        for _ in 0..20_000 {
            // Each order is 10 to 100 whoever places it; a customer's mean is of 1–12 orders.
            let n = (1.0 + 12.0 * next()).floor();
            x.push(n);
            m.push((0..n as usize).map(|_| 10.0 + 90.0 * next()).sum::<f64>() / n);
        }
        let fit = GammaGamma::fit(&x, &m).unwrap();
        assert!(fit.q > 400.0, "{fit:?}");
        for (x, m) in [(1.0, 20.0), (12.0, 70.0)] {
            let e = fit.expected_spend(x, m);
            assert!(
                (e - 55.0).abs() < 1.0,
                "expected spend {e} for x={x}, m={m}"
            );
        }
    }
}
