//! The sales pipeline (issue #17): pipelines of stages an opportunity moves through
//! (潜在客户 → 目标 → 识别需求 → 计划 → 成交, or lost), opportunities with their products,
//! amount, probability and needs, and the pure figures over them — weighted forecast, win rate,
//! cycle length and stage-to-stage conversion. IO-free: the store keeps and reads them.
//!
//! Peers' lessons (shared/research): the probability follows the stage unless the rep
//! overrides it, and an override is kept as an override (Frappe's stays stale when the stage
//! moves; Odoo's sticks at 100 % after a reopen); a lost deal needs a reason; every stage
//! change is history, so time in stage and conversion are counted, not guessed.

pub mod figures;
pub mod opportunity;
pub mod stage;

pub use opportunity::{LineInput, MoveInput, OpportunityInput, OpportunityStatus};
pub use stage::{PipelineInput, StageInput, StageKind, MAX_STAGES};

/// The weighted amount: `amount × probability / 100`, rounded half up, in minor units.
pub fn weighted_minor(amount_minor: i64, probability: i64) -> i64 {
    let p = probability.clamp(0, 100);
    (i128::from(amount_minor) * i128::from(p) + 50)
        .div_euclid(100)
        .try_into()
        .unwrap_or(i64::MAX)
}

/// The probability an opportunity carries: the rep's own when they set one, else its stage's.
pub fn effective_probability(stage_probability: i64, own: Option<i64>) -> i64 {
    own.unwrap_or(stage_probability).clamp(0, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_amounts_round_half_up_in_fen() {
        assert_eq!(weighted_minor(100_000, 40), 40_000);
        assert_eq!(weighted_minor(333, 50), 167);
        assert_eq!(weighted_minor(1, 49), 0);
        assert_eq!(weighted_minor(1, 50), 1);
        assert_eq!(weighted_minor(i64::MAX, 100), i64::MAX);
    }

    #[test]
    fn an_own_probability_wins_over_the_stage() {
        assert_eq!(effective_probability(20, None), 20);
        assert_eq!(effective_probability(20, Some(65)), 65);
        assert_eq!(effective_probability(20, Some(0)), 0);
    }
}
