//! The pipeline's figures from its history, pure: the stage-to-stage funnel (how many deals
//! reached each stage, and what share of those reached the next), win rate and cycle length.
//! A deal "reached" a stage when it entered it or any later one (skipping a stage still
//! passes it); a lost deal reached the furthest stage it was in before it was lost.

use serde::Serialize;

/// One step of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    /// The stage.
    pub stage_id: i64,
    /// Deals that reached it.
    pub reached: i64,
    /// Of the deals that reached the previous step, the share that reached this one.
    pub conversion: Option<f64>,
}

/// The funnel over `stages` (id, position; open and won stages in order) from how many deals
/// got furthest to each position: `(position, deals)`.
pub fn funnel(stages: &[(i64, i64)], furthest: &[(i64, i64)]) -> Vec<FunnelStep> {
    let mut out: Vec<FunnelStep> = Vec::with_capacity(stages.len());
    for (id, position) in stages {
        let reached = furthest
            .iter()
            .filter(|(f, _)| *f >= *position)
            .map(|(_, n)| n)
            .sum();
        let conversion = out
            .last()
            .and_then(|prev| (prev.reached > 0).then(|| reached as f64 / prev.reached as f64));
        out.push(FunnelStep {
            stage_id: *id,
            reached,
            conversion,
        });
    }
    out
}

/// Of the closed deals that reached a stage, how many were won.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageWinRate {
    /// The stage.
    pub stage_id: i64,
    /// Closed deals that reached it.
    pub closed: i64,
    /// Of them, won.
    pub won: i64,
    /// Won ÷ closed.
    pub win_rate: Option<f64>,
}

/// Win rate by stage: for each of `stages` (id, position), the closed deals whose furthest
/// position reached it and the share of them won. `closed` is `(furthest position, won,
/// lost)` counts; a won deal reached every stage before the won one.
pub fn win_rate_by_stage(stages: &[(i64, i64)], closed: &[(i64, i64, i64)]) -> Vec<StageWinRate> {
    stages
        .iter()
        .map(|(id, position)| {
            let (won, lost) = closed
                .iter()
                .filter(|(f, _, _)| *f >= *position)
                .fold((0, 0), |(w, l), (_, won, lost)| (w + won, l + lost));
            StageWinRate {
                stage_id: *id,
                closed: won + lost,
                won,
                win_rate: win_rate(won, lost),
            }
        })
        .collect()
}

/// Won ÷ (won + lost); none before anything closed.
pub fn win_rate(won: i64, lost: i64) -> Option<f64> {
    (won + lost > 0).then(|| won as f64 / (won + lost) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deal_counts_for_every_stage_up_to_its_furthest() {
        // Stages at positions 1, 2, 3 and won at 6; five deals.
        let stages = [(10, 1), (11, 2), (12, 3), (15, 6)];
        let f = funnel(&stages, &[(1, 1), (2, 1), (3, 2), (6, 1)]);
        let reached: Vec<i64> = f.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [5, 4, 3, 1]);
        assert_eq!(f[0].conversion, None);
        assert_eq!(f[1].conversion, Some(0.8));
        assert_eq!(f[2].conversion, Some(0.75));
        assert!((f[3].conversion.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_later_stage_wins_more_of_what_reaches_it() {
        // Lost at stages 1, 1, 2, 3; won (furthest 6) twice.
        let r = win_rate_by_stage(
            &[(10, 1), (11, 2), (12, 3)],
            &[(1, 0, 2), (2, 0, 1), (3, 0, 1), (6, 2, 0)],
        );
        let rates: Vec<Option<f64>> = r.iter().map(|x| x.win_rate).collect();
        assert_eq!(rates, [Some(2.0 / 6.0), Some(0.5), Some(2.0 / 3.0)]);
        assert_eq!((r[1].closed, r[1].won), (4, 2));
    }

    #[test]
    fn an_empty_step_has_no_conversion_after_it() {
        let f = funnel(&[(1, 1), (2, 2), (3, 3)], &[(1, 1)]);
        assert_eq!(f[1].reached, 0);
        assert_eq!(f[2].conversion, None);
        assert_eq!(win_rate(0, 0), None);
        assert_eq!(win_rate(1, 3), Some(0.25));
    }
}
