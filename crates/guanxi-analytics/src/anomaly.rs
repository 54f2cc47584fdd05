//! Anomaly alerts: purchases far outside a customer's own history. Uses the modified z-score
//! of Iglewicz and Hoaglin (1993), 0.6745·(x − median)/MAD, which a single huge order cannot
//! mask the way it inflates a standard deviation; |z| > 3.5 is their recommended cut-off.

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{median, Transactions};

/// Why a transaction was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reason {
    /// Amount far above the customer's usual.
    AmountHigh,
    /// Amount far below the customer's usual.
    AmountLow,
}

/// One flagged transaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// Customer.
    pub customer: i64,
    /// Row in the input.
    pub row: usize,
    /// Day.
    pub day: i32,
    /// Amount.
    pub amount: f64,
    /// The customer's median amount.
    pub median: f64,
    /// Modified z-score.
    pub z: f64,
    /// Why.
    pub reason: Reason,
}

/// Flags transactions whose modified z-score within their customer exceeds `threshold`.
/// Customers with fewer than `min_history` transactions, or with no spread (MAD = 0), are
/// skipped: there is no "usual" to deviate from.
pub fn anomalies(
    tx: &Transactions,
    threshold: f64,
    min_history: usize,
) -> Result<Vec<Anomaly>, AnalyticsError> {
    tx.validate()?;
    if threshold <= 0.0 {
        return Err(AnalyticsError::Parameter("threshold must be positive"));
    }
    let mut rows: std::collections::HashMap<i64, Vec<usize>> = std::collections::HashMap::new();
    for i in 0..tx.len() {
        rows.entry(tx.customer[i]).or_default().push(i);
    }
    let mut out = Vec::new();
    for (c, idx) in rows {
        if idx.len() < min_history.max(3) {
            continue;
        }
        let amounts: Vec<f64> = idx.iter().map(|&i| tx.amount[i]).collect();
        let Some(med) = median(&amounts) else {
            continue;
        };
        let dev: Vec<f64> = amounts.iter().map(|a| (a - med).abs()).collect();
        let Some(mad) = median(&dev) else { continue };
        if mad <= 0.0 {
            continue;
        }
        for &i in &idx {
            let z = 0.6745 * (tx.amount[i] - med) / mad;
            if z.abs() > threshold {
                out.push(Anomaly {
                    customer: c,
                    row: i,
                    day: tx.day[i],
                    amount: tx.amount[i],
                    median: med,
                    z,
                    reason: if z > 0.0 {
                        Reason::AmountHigh
                    } else {
                        Reason::AmountLow
                    },
                });
            }
        }
    }
    out.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()).then(a.row.cmp(&b.row)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_huge_order_is_flagged() {
        let amounts = [100.0, 110.0, 95.0, 105.0, 98.0, 102.0, 5000.0];
        let tx = Transactions {
            customer: vec![1; 7],
            day: (0..7).collect(),
            amount: amounts.to_vec(),
        };
        let a = anomalies(&tx, 3.5, 5).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].row, a[0].reason), (6, Reason::AmountHigh));
    }
}
