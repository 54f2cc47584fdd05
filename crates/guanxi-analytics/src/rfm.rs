//! RFM analysis (Bob Stone; Hughes, "Strategic Database Marketing", 1994): recency, frequency
//! and monetary value per customer, scored 1–5 by quintile, and mapped to named segments.
//!
//! **Scoring** follows the convention of the pandas recipe most analysts use, so the numbers
//! agree with what they would compute themselves (checked against such a script in the tests):
//! each metric is ranked with ties sharing the lowest rank of their group (pandas'
//! `rank(method="min")`), and the rank is placed among the quintile edges of the ranks
//! `1..n` (`np.quantile(np.arange(1, n + 1), np.linspace(0, 1, 6))`): the score is the number
//! of edges strictly below the rank, kept within 1–5 — what `pd.qcut(rank, 5)` does for
//! distinct ranks. Recency is ranked descending so that the most recent buyers score 5.
//! Identical customers therefore always get identical scores (every one-time buyer has the
//! same F), and all-ties data is well defined (everyone scores 1) instead of failing as a
//! plain `qcut` would.
//!
//! **Segments** use the widely published R × F map (R score, F score):
//!
//! | segment | R | F |
//! |---|---|---|
//! | Champions | 5 | 4–5 |
//! | Loyal Customers | 3–4 | 4–5 |
//! | Potential Loyalists | 4–5 | 2–3 |
//! | New Customers | 5 | 1 |
//! | Promising | 4 | 1 |
//! | Need Attention | 3 | 3 |
//! | About to Sleep | 3 | 1–2 |
//! | Can't Lose Them | 1–2 | 5 |
//! | At Risk | 1–2 | 3–4 |
//! | Hibernating | 1–2 | 1–2, except 1/1 |
//! | Lost | 1 | 1 |

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{summarize, Transactions};

/// Named RFM segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum Segment {
    /// Bought recently, buy often.
    Champions,
    /// Buy often, fairly recently.
    LoyalCustomers,
    /// Recent, moderately frequent.
    PotentialLoyalists,
    /// Bought very recently for the first times.
    NewCustomers,
    /// Recent, not yet frequent.
    Promising,
    /// Middling on both.
    NeedAttention,
    /// Middling recency, infrequent.
    AboutToSleep,
    /// Used to buy very often, not lately.
    CantLoseThem,
    /// Used to buy often, not lately.
    AtRisk,
    /// Long ago, infrequent.
    Hibernating,
    /// Longest ago, least frequent.
    Lost,
}

impl Segment {
    /// Every segment, in the table's order.
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::LoyalCustomers,
        Segment::PotentialLoyalists,
        Segment::NewCustomers,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::CantLoseThem,
        Segment::AtRisk,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// English name as analysts write it.
    pub fn name(self) -> &'static str {
        match self {
            Segment::Champions => "Champions",
            Segment::LoyalCustomers => "Loyal Customers",
            Segment::PotentialLoyalists => "Potential Loyalists",
            Segment::NewCustomers => "New Customers",
            Segment::Promising => "Promising",
            Segment::NeedAttention => "Need Attention",
            Segment::AboutToSleep => "About to Sleep",
            Segment::CantLoseThem => "Can't Lose Them",
            Segment::AtRisk => "At Risk",
            Segment::Hibernating => "Hibernating",
            Segment::Lost => "Lost",
        }
    }

    /// Stable snake_case code (storage, API, i18n keys).
    pub fn code(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::LoyalCustomers => "loyal_customers",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::NewCustomers => "new_customers",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::CantLoseThem => "cant_lose_them",
            Segment::AtRisk => "at_risk",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// The segment for an R and F score (1–5 each).
    pub fn of(r: u8, f: u8) -> Segment {
        match (r, f) {
            (1, 1) => Segment::Lost,
            (1..=2, 1..=2) => Segment::Hibernating,
            (1..=2, 3..=4) => Segment::AtRisk,
            (1..=2, _) => Segment::CantLoseThem,
            (3, 1..=2) => Segment::AboutToSleep,
            (3, 3) => Segment::NeedAttention,
            (3..=4, 4..=5) => Segment::LoyalCustomers,
            (4, 1) => Segment::Promising,
            (5, 1) => Segment::NewCustomers,
            (4..=5, 2..=3) => Segment::PotentialLoyalists,
            _ => Segment::Champions,
        }
    }
}

/// One customer's RFM result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RfmScore {
    /// Customer id.
    pub customer: i64,
    /// Days from the last purchase to the as-of day.
    pub recency_days: i32,
    /// Number of transactions in the window.
    pub frequency: u32,
    /// Total spend in the window.
    pub monetary: f64,
    /// Recency score 1–5 (5 = most recent).
    pub r: u8,
    /// Frequency score 1–5.
    pub f: u8,
    /// Monetary score 1–5.
    pub m: u8,
    /// Segment from R and F.
    pub segment: Segment,
}

/// Quintile scores 1–5 of `values` by rank, ties sharing their group's lowest rank (see the
/// module notes for the pandas recipe).
pub fn quintile_scores(values: &[f64], descending: bool) -> Vec<u8> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..n).collect();
    if descending {
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    } else {
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    }
    // Bin edges: numpy's linear quantiles of the ranks 1..n at linspace(0, 1, 6).
    let step = 1.0 / 5.0;
    let edges: Vec<f64> = (0..=5)
        .map(|k| {
            let q = if k == 5 { 1.0 } else { k as f64 * step };
            let vi = q * (n as f64 - 1.0);
            let lo = vi.floor();
            let t = vi - lo;
            let (a, b) = (lo + 1.0, (lo + 2.0).min(n as f64));
            let diff = b - a;
            if t >= 0.5 {
                b - diff * (1.0 - t)
            } else {
                a + diff * t
            }
        })
        .collect();
    let mut scores = vec![0u8; n];
    let mut rank = 1.0;
    for (pos, &i) in order.iter().enumerate() {
        if pos > 0 && values[i].total_cmp(&values[order[pos - 1]]).is_ne() {
            rank = (pos + 1) as f64;
        }
        let below = edges.iter().filter(|&&e| e < rank).count();
        scores[i] = below.clamp(1, 5) as u8;
    }
    scores
}

/// RFM scores for every customer who bought within `window_days` before `as_of` (inclusive;
/// all history when `None`). Customers are returned in id order.
pub fn rfm(
    tx: &Transactions,
    as_of: i32,
    window_days: Option<i32>,
) -> Result<Vec<RfmScore>, AnalyticsError> {
    tx.validate()?;
    if window_days.is_some_and(|w| w <= 0) {
        return Err(AnalyticsError::Parameter("window_days must be positive"));
    }
    let from = window_days.map(|w| as_of - w + 1);
    let s = summarize(tx, from, Some(as_of));
    if s.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    let recency: Vec<f64> = s.iter().map(|c| f64::from(as_of - c.last_day)).collect();
    let frequency: Vec<f64> = s.iter().map(|c| f64::from(c.transactions)).collect();
    let monetary: Vec<f64> = s.iter().map(|c| c.total).collect();
    let r = quintile_scores(&recency, true);
    let f = quintile_scores(&frequency, false);
    let m = quintile_scores(&monetary, false);
    Ok(s.iter()
        .enumerate()
        .map(|(i, c)| RfmScore {
            customer: c.customer,
            recency_days: as_of - c.last_day,
            frequency: c.transactions,
            monetary: c.total,
            r: r[i],
            f: f[i],
            m: m[i],
            segment: Segment::of(r[i], f[i]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_of_ten() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintile_scores(&v, false), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(quintile_scores(&v, true), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn ties_share_a_score_and_one_customer_is_defined() {
        assert_eq!(quintile_scores(&[7.0; 5], false), [1, 1, 1, 1, 1]);
        assert_eq!(quintile_scores(&[7.0], false), [1]);
        // Customers alike get the same score, whatever their order (values from pandas:
        // bench/reference/pandas_rfm.py `score`).
        let v = [1.0, 3.0, 2.0, 3.0, 5.0, 4.0, 3.0, 1.0, 6.0, 7.0];
        assert_eq!(quintile_scores(&v, false), [1, 2, 2, 2, 4, 4, 2, 1, 5, 5]);
        assert_eq!(quintile_scores(&v, true), [5, 3, 4, 3, 2, 2, 3, 5, 1, 1]);
    }

    #[test]
    fn every_score_pair_has_a_segment() {
        for r in 1..=5 {
            for f in 1..=5 {
                let _ = Segment::of(r, f);
            }
        }
        assert_eq!(Segment::of(5, 5), Segment::Champions);
        assert_eq!(Segment::of(1, 1), Segment::Lost);
        assert_eq!(Segment::of(2, 5), Segment::CantLoseThem);
    }

    #[test]
    fn bad_input() {
        let tx = Transactions {
            customer: vec![1],
            day: vec![1],
            amount: vec![-1.0],
        };
        assert!(matches!(
            rfm(&tx, 10, None),
            Err(AnalyticsError::InvalidValue { .. })
        ));
        assert_eq!(
            rfm(&Transactions::default(), 10, None),
            Err(AnalyticsError::Empty)
        );
    }
}
