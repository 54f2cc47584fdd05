//! Errors of the analytics layer: the inputs an algorithm cannot work with.

/// Why an analysis could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyticsError {
    /// No rows to analyse.
    #[error("no data to analyse")]
    Empty,
    /// Columns of different lengths.
    #[error("column lengths differ: {0}")]
    Ragged(String),
    /// A value that makes the model meaningless (negative amount, NaN …).
    #[error("invalid value in {column} at row {row}: {why}")]
    InvalidValue {
        /// Column name.
        column: &'static str,
        /// 0-based row.
        row: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A parameter out of its range.
    #[error("invalid parameter {0}")]
    Parameter(&'static str),
    /// Too little variation or too few rows for the model to be identified.
    #[error("not enough data: {0}")]
    NotEnoughData(&'static str),
    /// The input would need more work or memory than the budget allows: say how to ask less.
    #[error("too much work: more than {budget} itemsets; {advice}")]
    TooMuchWork {
        /// What is allowed.
        budget: u64,
        /// What to change.
        advice: &'static str,
    },
    /// The fit did not converge.
    #[error("the fit did not converge: {0}")]
    NoConvergence(&'static str),
}
