//! The customer value matrix (Marcus, "Customer value matrix", 1998): purchase frequency ×
//! average spend per purchase, split at the medians (or given thresholds) into four cells, each
//! with the action the literature recommends.

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{median, summarize, Transactions};

/// A cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Cell {
    /// Frequent and high spend per purchase.
    Best,
    /// Infrequent but high spend per purchase.
    Spenders,
    /// Frequent but low spend per purchase.
    Frequent,
    /// Infrequent and low spend.
    Uncertain,
}

impl Cell {
    /// Every cell, best first.
    pub const ALL: [Cell; 4] = [Cell::Best, Cell::Spenders, Cell::Frequent, Cell::Uncertain];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Cell::Best => "best",
            Cell::Spenders => "spenders",
            Cell::Frequent => "frequent",
            Cell::Uncertain => "uncertain",
        }
    }

    /// What to do with customers in this cell.
    pub fn action(self) -> &'static str {
        match self {
            Cell::Best => "Retain and reward: loyalty benefits, early access, personal contact; protect from competitors.",
            Cell::Spenders => "Raise frequency: reminders, subscriptions, reasons to come back more often.",
            Cell::Frequent => "Raise spend per visit: cross-sell, bundles, premium lines.",
            Cell::Uncertain => "Low-cost nurturing; find the ones who can grow, spend little on the rest.",
        }
    }
}

/// One customer's position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixPosition {
    /// Customer.
    pub customer: i64,
    /// Number of purchases.
    pub frequency: u32,
    /// Average spend per purchase.
    pub average_spend: f64,
    /// Cell.
    pub cell: Cell,
}

/// The split points used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Frequency at or above which a customer counts as frequent.
    pub frequency: f64,
    /// Average spend at or above which a customer counts as a high spender.
    pub average_spend: f64,
}

/// Places every customer with purchases up to `as_of` in the matrix. Without explicit
/// thresholds both axes split at their medians; "at or above the split" counts as high.
pub fn value_matrix(
    tx: &Transactions,
    as_of: Option<i32>,
    thresholds: Option<Thresholds>,
) -> Result<(Thresholds, Vec<MatrixPosition>), AnalyticsError> {
    tx.validate()?;
    let s = summarize(tx, None, as_of);
    if s.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    let freq: Vec<f64> = s.iter().map(|c| f64::from(c.transactions)).collect();
    let avg: Vec<f64> = s
        .iter()
        .map(|c| c.total / f64::from(c.transactions))
        .collect();
    let t = match thresholds {
        Some(t) => t,
        None => Thresholds {
            frequency: median(&freq).unwrap_or(0.0),
            average_spend: median(&avg).unwrap_or(0.0),
        },
    };
    let rows = s
        .iter()
        .zip(freq.iter().zip(&avg))
        .map(|(c, (&f, &a))| {
            let cell = match (f >= t.frequency, a >= t.average_spend) {
                (true, true) => Cell::Best,
                (false, true) => Cell::Spenders,
                (true, false) => Cell::Frequent,
                (false, false) => Cell::Uncertain,
            };
            MatrixPosition {
                customer: c.customer,
                frequency: c.transactions,
                average_spend: a,
                cell,
            }
        })
        .collect();
    Ok((t, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_customers_four_cells() {
        // c1: 4 × 100, c2: 1 × 500, c3: 4 × 10, c4: 1 × 10
        let mut tx = Transactions::default();
        for (c, n, a) in [(1, 4, 100.0), (2, 1, 500.0), (3, 4, 10.0), (4, 1, 10.0)] {
            for d in 0..n {
                tx.customer.push(c);
                tx.day.push(d);
                tx.amount.push(a);
            }
        }
        let (_, rows) = value_matrix(&tx, None, None).unwrap();
        let cells: Vec<Cell> = rows.iter().map(|r| r.cell).collect();
        assert_eq!(
            cells,
            [Cell::Best, Cell::Spenders, Cell::Frequent, Cell::Uncertain]
        );
    }
}
