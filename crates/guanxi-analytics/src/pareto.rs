//! Pareto / ABC grading: customers ranked by revenue, the cumulative share curve, A/B/C classes
//! (default: A up to 80 % of revenue, B up to 95 %, C the rest) and the "top 20 % of customers
//! bring X % of revenue" figure. With cost data, a profitability grade (good / ordinary / bad).

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{IdMap, Transactions};

/// ABC class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AbcClass {
    /// The few who bring most revenue.
    A,
    /// The middle.
    B,
    /// The long tail.
    C,
}

impl AbcClass {
    /// The stored code ("A", "B", "C").
    pub fn code(self) -> &'static str {
        match self {
            AbcClass::A => "A",
            AbcClass::B => "B",
            AbcClass::C => "C",
        }
    }
}

/// Profitability grade from margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Profitability {
    /// Margin in the top fifth of customers (and positive).
    Good,
    /// Positive margin, not in the top fifth.
    Ordinary,
    /// Costs more than it brings.
    Bad,
}

/// One customer's grading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    /// Customer.
    pub customer: i64,
    /// Revenue.
    pub revenue: f64,
    /// 1 = highest revenue.
    pub rank: usize,
    /// Cumulative share of revenue up to and including this customer.
    pub cumulative_share: f64,
    /// Class.
    pub class: AbcClass,
    /// Grade from margin, when costs were given.
    pub profitability: Option<Profitability>,
}

/// The summary figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParetoSummary {
    /// Customers graded.
    pub customers: usize,
    /// Total revenue.
    pub revenue: f64,
    /// Share of revenue from the top 20 % of customers.
    pub top20_share: f64,
    /// Share of customers needed for 80 % of revenue.
    pub customers_for_80: f64,
    /// Count per class (A, B, C).
    pub class_counts: [usize; 3],
}

/// Grades customers by revenue. `a_share` and `b_share` are cumulative revenue cut-offs
/// (0.8 and 0.95 by default); the customer whose revenue takes the total past a cut-off still
/// belongs to the class being filled (A includes the one who crosses 80 %). `cost` (same rows
/// as `tx`) enables the profitability grade.
pub fn abc(
    tx: &Transactions,
    cost: Option<&[f64]>,
    a_share: f64,
    b_share: f64,
) -> Result<(ParetoSummary, Vec<Grade>), AnalyticsError> {
    tx.validate()?;
    if !(0.0 < a_share && a_share < b_share && b_share <= 1.0) {
        return Err(AnalyticsError::Parameter("0 < a_share < b_share <= 1"));
    }
    if cost.is_some_and(|c| c.len() != tx.len()) {
        return Err(AnalyticsError::Ragged("cost".into()));
    }
    let mut by: IdMap<(f64, f64)> =
        IdMap::with_capacity_and_hasher(tx.len() / 8, Default::default());
    for i in 0..tx.len() {
        let e = by.entry(tx.customer[i]).or_default();
        e.0 += tx.amount[i];
        e.1 += cost.map_or(0.0, |c| c[i]);
    }
    let mut rows: Vec<(i64, f64, f64)> = by.into_iter().map(|(c, (r, k))| (c, r, r - k)).collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    if total <= 0.0 {
        // Shares of nothing are not a grade: say so rather than call everyone class A.
        return Err(AnalyticsError::NotEnoughData(
            "every amount is zero: there is no revenue to grade",
        ));
    }
    let n = rows.len();
    let margin_cut = cost.map(|_| {
        let mut m: Vec<f64> = rows.iter().map(|r| r.2).collect();
        m.sort_by(|a, b| b.total_cmp(a));
        m[((n as f64 * 0.2).ceil() as usize)
            .saturating_sub(1)
            .min(n - 1)]
    });
    let mut cum = 0.0;
    let mut grades = Vec::with_capacity(n);
    let mut counts = [0usize; 3];
    let mut customers_for_80 = None;
    for (i, (c, r, margin)) in rows.iter().enumerate() {
        let before = cum / total;
        cum += r;
        let share = cum / total;
        let class = if before < a_share {
            AbcClass::A
        } else if before < b_share {
            AbcClass::B
        } else {
            AbcClass::C
        };
        counts[class as usize] += 1;
        if customers_for_80.is_none() && share >= 0.8 - 1e-12 {
            customers_for_80 = Some((i + 1) as f64 / n as f64);
        }
        let profitability = margin_cut.map(|cut| {
            if *margin < 0.0 {
                Profitability::Bad
            } else if *margin >= cut && *margin > 0.0 {
                Profitability::Good
            } else {
                Profitability::Ordinary
            }
        });
        grades.push(Grade {
            customer: *c,
            revenue: *r,
            rank: i + 1,
            cumulative_share: share,
            class,
            profitability,
        });
    }
    let top = ((n as f64) * 0.2).ceil() as usize;
    let top20: f64 = rows.iter().take(top).map(|r| r.1).sum();
    Ok((
        ParetoSummary {
            customers: n,
            revenue: total,
            top20_share: top20 / total,
            customers_for_80: customers_for_80.unwrap_or(1.0),
            class_counts: counts,
        },
        grades,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_twenty() {
        // Customer 1 brings 80 of 100; four others 5 each.
        let tx = Transactions {
            customer: vec![1, 2, 3, 4, 5],
            day: vec![0; 5],
            amount: vec![80.0, 5.0, 5.0, 5.0, 5.0],
        };
        let (s, g) = abc(&tx, None, 0.8, 0.95).unwrap();
        assert!((s.top20_share - 0.8).abs() < 1e-12);
        assert!((s.customers_for_80 - 0.2).abs() < 1e-12);
        let classes: Vec<AbcClass> = g.iter().map(|x| x.class).collect();
        assert_eq!(
            classes,
            [
                AbcClass::A,
                AbcClass::B,
                AbcClass::B,
                AbcClass::B,
                AbcClass::C
            ]
        );
    }

    #[test]
    fn profitability() {
        let tx = Transactions {
            customer: vec![1, 2, 3, 4, 5],
            day: vec![0; 5],
            amount: vec![100.0, 50.0, 40.0, 30.0, 20.0],
        };
        let cost = [20.0, 45.0, 10.0, 10.0, 30.0];
        let (_, g) = abc(&tx, Some(&cost), 0.8, 0.95).unwrap();
        let p: Vec<_> = g.iter().map(|x| x.profitability.unwrap()).collect();
        assert_eq!(
            p,
            [
                Profitability::Good,
                Profitability::Ordinary,
                Profitability::Ordinary,
                Profitability::Ordinary,
                Profitability::Bad
            ]
        );
    }

    #[test]
    fn all_zero_amounts_are_reported_not_graded() {
        let tx = Transactions {
            customer: vec![1, 2, 2],
            day: vec![1, 2, 3],
            amount: vec![0.0, 0.0, 0.0],
        };
        assert!(matches!(
            abc(&tx, None, 0.8, 0.95),
            Err(AnalyticsError::NotEnoughData(_))
        ));
    }
}
