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
use crate::special::{digamma, hyp2f1, ln_gamma};
use crate::summary::{purchase_days, Transactions};

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
    if period_days <= 0 {
        return Err(AnalyticsError::Parameter("period_days must be positive"));
    }
    // Sum of amounts per (customer, period).
    let mut rows: Vec<(i64, i32, f64)> = (0..tx.len())
        .filter(|&i| tx.day[i] <= as_of)
        .map(|i| {
            (
                tx.customer[i],
                tx.day[i].div_euclid(period_days),
                tx.amount[i],
            )
        })
        .collect();
    if rows.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let end = f64::from(as_of.div_euclid(period_days));
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let c = rows[i].0;
        let mut periods: Vec<(i32, f64)> = Vec::new();
        while i < rows.len() && rows[i].0 == c {
            match periods.last_mut() {
                Some(last) if last.0 == rows[i].1 => last.1 += rows[i].2,
                _ => periods.push((rows[i].1, rows[i].2)),
            }
            i += 1;
        }
        let first = f64::from(periods[0].0);
        let last = f64::from(periods[periods.len() - 1].0);
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
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let z = horizon / (alpha + t + horizon);
        let lead = (a + b + x - 1.0) / (a - 1.0);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let num = 1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp;
        let den = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        lead * num / den
    }
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
    fn ll_one(p: f64, q: f64, g: f64, x: f64, m: f64) -> f64 {
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
        let nll = |v: &[f64]| -> f64 {
            let (p, q, g) = (v[0].exp(), v[1].exp(), v[2].exp());
            -data
                .iter()
                .map(|(x, m)| Self::ll_one(p, q, g, *x, *m))
                .sum::<f64>()
        };
        let best = simplex_with_restarts(nll, &[0.0, 0.0, 0.0]);
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

/// CLV over `horizon_periods`, discounting each period's expected margin at `discount_rate`
/// per period (`lifetimes.customer_lifetime_value` with its monthly steps generalised to any
/// period length): Σ_i (E[N(i)] − E[N(i−1)]) · spend · margin / (1 + d)^i.
pub fn lifetime_values(
    bg: &BgNbd,
    gg: &GammaGamma,
    customers: &[Rft],
    horizon_periods: u32,
    discount_rate: f64,
    margin: f64,
) -> Vec<CustomerValue> {
    customers
        .iter()
        .map(|c| {
            let spend = gg.expected_spend(c.frequency, c.monetary);
            let mut prev = 0.0;
            let mut clv = 0.0;
            for i in 1..=horizon_periods {
                let e = bg.expected_purchases(f64::from(i), c.frequency, c.recency, c.t);
                clv += (e - prev) * spend * margin / (1.0 + discount_rate).powi(i as i32);
                prev = e;
            }
            CustomerValue {
                customer: c.customer,
                p_alive: bg.p_alive(c.frequency, c.recency, c.t),
                expected_purchases: prev,
                expected_spend: spend,
                clv,
            }
        })
        .collect()
}

/// Convenience: repeat-purchase summary of transactions by distinct purchase days.
pub fn purchase_occasions(tx: &Transactions, as_of: i32) -> Vec<(i64, usize)> {
    purchase_days(tx, Some(as_of))
        .into_iter()
        .map(|(c, d)| (c, d.len()))
        .collect()
}
