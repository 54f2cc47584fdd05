//! Guanxi customer analytics: pure, IO-free algorithms over columnar slices (RFM, value matrix,
//! ABC/Pareto, activity, CLV, churn, association rules, anomalies). The store extracts columns
//! and writes scores back; nothing here touches a database or HTTP.
//!
//! The algorithms arrive with issue #3; this crate exists now so the workspace has its final
//! shape and the binary's `analyze` command has a home.
