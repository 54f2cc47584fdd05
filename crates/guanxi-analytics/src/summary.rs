//! The input every analysis starts from: transactions as three parallel columns, and the
//! per-customer aggregates most models need.

use std::collections::HashMap;

use crate::error::AnalyticsError;

/// Transactions as columns: `customer[i]` bought `amount[i]` (currency units) on `day[i]`
/// (days since 1970-01-01). One row per order, not per line item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transactions {
    /// Customer id.
    pub customer: Vec<i64>,
    /// Day of purchase (days since the Unix epoch).
    pub day: Vec<i32>,
    /// Order amount in currency units.
    pub amount: Vec<f64>,
}

impl Transactions {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    /// Checks the columns line up and amounts are finite and non-negative.
    pub fn validate(&self) -> Result<(), AnalyticsError> {
        if self.customer.len() != self.day.len() || self.customer.len() != self.amount.len() {
            return Err(AnalyticsError::Ragged(format!(
                "customer {}, day {}, amount {}",
                self.customer.len(),
                self.day.len(),
                self.amount.len()
            )));
        }
        if self.is_empty() {
            return Err(AnalyticsError::Empty);
        }
        if let Some(row) = self.amount.iter().position(|a| !a.is_finite() || *a < 0.0) {
            return Err(AnalyticsError::InvalidValue {
                column: "amount",
                row,
                why: "must be a finite, non-negative number",
            });
        }
        Ok(())
    }
}

/// Per-customer aggregates over a set of transactions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerSummary {
    /// Customer id.
    pub customer: i64,
    /// First purchase day.
    pub first_day: i32,
    /// Last purchase day.
    pub last_day: i32,
    /// Number of transactions.
    pub transactions: u32,
    /// Total spend.
    pub total: f64,
}

/// Aggregates per customer in one hash pass; rows outside `[from, to]` (days, inclusive) are
/// skipped. Output is sorted by customer id, so results are deterministic.
pub fn summarize(tx: &Transactions, from: Option<i32>, to: Option<i32>) -> Vec<CustomerSummary> {
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut out: Vec<CustomerSummary> = Vec::new();
    for i in 0..tx.len() {
        let d = tx.day[i];
        if from.is_some_and(|f| d < f) || to.is_some_and(|t| d > t) {
            continue;
        }
        let c = tx.customer[i];
        let a = tx.amount[i];
        match index.get(&c) {
            Some(&k) => {
                let s = &mut out[k];
                s.first_day = s.first_day.min(d);
                s.last_day = s.last_day.max(d);
                s.transactions += 1;
                s.total += a;
            }
            None => {
                index.insert(c, out.len());
                out.push(CustomerSummary {
                    customer: c,
                    first_day: d,
                    last_day: d,
                    transactions: 1,
                    total: a,
                });
            }
        }
    }
    out.sort_by_key(|s| s.customer);
    out
}

/// Each customer's purchase days, sorted and de-duplicated (same-day orders count once), in
/// customer-id order. Used where the models count purchase occasions (CLV, activity).
pub fn purchase_days(tx: &Transactions, to: Option<i32>) -> Vec<(i64, Vec<i32>)> {
    let mut idx: Vec<usize> = (0..tx.len())
        .filter(|&i| to.is_none_or(|t| tx.day[i] <= t))
        .collect();
    idx.sort_unstable_by_key(|&i| (tx.customer[i], tx.day[i]));
    let mut out: Vec<(i64, Vec<i32>)> = Vec::new();
    for i in idx {
        let (c, d) = (tx.customer[i], tx.day[i]);
        match out.last_mut() {
            Some((lc, days)) if *lc == c => {
                if days.last() != Some(&d) {
                    days.push(d);
                }
            }
            _ => out.push((c, vec![d])),
        }
    }
    out
}

/// The median of a slice (mean of the middle two for even lengths); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}
