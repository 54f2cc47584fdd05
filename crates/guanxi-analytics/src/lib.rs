//! Guanxi customer analytics: pure, IO-free algorithms over columnar slices. The store (or the
//! CLI's CSV reader) extracts columns; these functions compute; the caller writes scores back.
//! Nothing here touches a database, a file or the network.
//!
//! Each model cites its source and is checked in `tests/` against an outside reference: the
//! published BG/NBD and Gamma-Gamma parameters for CDNOW, mlxtend's frequent itemsets on the
//! groceries baskets, scikit-learn's logistic regression on the telco churn sample, and a
//! pandas implementation of the RFM scoring on generated data.

pub mod activity;
pub mod anomaly;
pub mod assoc;
pub mod churn;
pub mod clv;
pub mod error;
pub mod optimize;
pub mod pareto;
pub mod rfm;
pub mod scorecard;
pub mod special;
pub mod summary;
pub mod value_matrix;

pub use error::AnalyticsError;
pub use summary::{CustomerSummary, Transactions};
