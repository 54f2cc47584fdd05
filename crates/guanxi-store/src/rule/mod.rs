//! Rules that act on customers by themselves: the rules and their firing log ([`setup`]),
//! whom a trigger fires for ([`candidates`]), and the run that fires them and carries out
//! their actions ([`fire`]).

pub mod candidates;
pub mod fire;
pub mod setup;

pub use fire::{RulePreview, RuleRunReport};
pub use setup::{FiringRecord, RuleRecord};
