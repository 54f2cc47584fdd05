//! Key accounts (issue #17): who looks after each and its plan ([`accounts`]), the figures of
//! the key-account dashboard, the shop's rule that picks them and the visit cadence that gives
//! their managers tasks ([`rule`]).

pub mod accounts;
pub mod rule;

pub use accounts::{KeyAccount, KeyAccountRow};
pub use rule::{RuleReport, RuleSettings, VisitReport};
