//! The figures. CSAT is the share of satisfied answers (4 or 5 of 5) with the mean; NPS is the
//! percentage of promoters (9–10) minus that of detractors (0–6) among those who *answered*
//! (Reichheld 2003; a skipped question is not counted, unlike Formbricks, which counts
//! dismissals and pulls the score toward 0); SERVQUAL's gap is perception minus expectation,
//! per dimension and overall as the unweighted mean of the five (Parasuraman et al. 1988).

use serde::Serialize;

use super::definition::{Dimension, Side};

/// CSAT over a set of ratings 1–5.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Csat {
    /// Ratings counted.
    pub n: usize,
    /// Ratings of 4 or 5.
    pub satisfied: usize,
    /// `satisfied / n` as a percentage.
    pub percent: f64,
    /// Mean rating.
    pub mean: f64,
}

/// CSAT of `ratings` (1–5); `None` when there are none.
pub fn csat(ratings: &[u8]) -> Option<Csat> {
    if ratings.is_empty() {
        return None;
    }
    let n = ratings.len();
    let satisfied = ratings.iter().filter(|r| **r >= 4).count();
    Some(Csat {
        n,
        satisfied,
        percent: 100.0 * satisfied as f64 / n as f64,
        mean: ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / n as f64,
    })
}

/// NPS over a set of scores 0–10.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Nps {
    /// Scores counted (answered).
    pub answered: usize,
    /// 9 or 10.
    pub promoters: usize,
    /// 7 or 8.
    pub passives: usize,
    /// 0 to 6.
    pub detractors: usize,
    /// %promoters − %detractors, from −100 to 100.
    pub score: f64,
}

/// NPS of `scores` (0–10, answered only); `None` when there are none.
pub fn nps(scores: &[u8]) -> Option<Nps> {
    if scores.is_empty() {
        return None;
    }
    let answered = scores.len();
    let promoters = scores.iter().filter(|s| **s >= 9).count();
    let detractors = scores.iter().filter(|s| **s <= 6).count();
    Some(Nps {
        answered,
        promoters,
        passives: answered - promoters - detractors,
        detractors,
        score: 100.0 * (promoters as f64 - detractors as f64) / answered as f64,
    })
}

/// SERVQUAL figures for one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServqualDimension {
    /// Which.
    pub dimension: Dimension,
    /// Mean expectation rating.
    pub expectation: f64,
    /// Mean perception rating.
    pub perception: f64,
    /// Perception − expectation: below zero, the service falls short of what is expected.
    pub gap: f64,
    /// Ratings counted (both sides).
    pub n: usize,
}

/// SERVQUAL over many responses' ratings.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Servqual {
    /// The dimensions with ratings on both sides, in the standard order.
    pub dimensions: Vec<ServqualDimension>,
    /// The unweighted mean of the dimensions' gaps; `None` when no dimension has both sides.
    pub overall_gap: Option<f64>,
}

/// SERVQUAL of `ratings`, each (dimension, side, 1–7).
pub fn servqual(ratings: &[(Dimension, Side, u8)]) -> Servqual {
    let mut dimensions = Vec::new();
    for dim in Dimension::ALL {
        let side = |s: Side| -> Vec<f64> {
            ratings
                .iter()
                .filter(|(d, x, _)| d == dim && *x == s)
                .map(|(_, _, r)| f64::from(*r))
                .collect()
        };
        let (e, p) = (side(Side::Expectation), side(Side::Perception));
        if e.is_empty() || p.is_empty() {
            continue;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (expectation, perception) = (mean(&e), mean(&p));
        dimensions.push(ServqualDimension {
            dimension: *dim,
            expectation,
            perception,
            gap: perception - expectation,
            n: e.len() + p.len(),
        });
    }
    let overall_gap = (!dimensions.is_empty())
        .then(|| dimensions.iter().map(|d| d.gap).sum::<f64>() / dimensions.len() as f64);
    Servqual {
        dimensions,
        overall_gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn csat_is_the_share_of_fours_and_fives() {
        // Hand-computed: 5 4 3 5 2 4 1 → four satisfied of seven = 57.142857 %, mean 24/7.
        let c = csat(&[5, 4, 3, 5, 2, 4, 1]).unwrap();
        assert_eq!((c.n, c.satisfied), (7, 4));
        close(c.percent, 400.0 / 7.0);
        close(c.mean, 24.0 / 7.0);
        assert_eq!(csat(&[]), None);
    }

    #[test]
    fn nps_counts_answered_scores_only() {
        // Hand-computed: promoters 10 10 9, passives 8 7, detractor 6 → (3 − 1) / 6 = 33.3.
        let n = nps(&[10, 10, 9, 8, 7, 6]).unwrap();
        assert_eq!(
            (n.answered, n.promoters, n.passives, n.detractors),
            (6, 3, 2, 1)
        );
        close(n.score, 100.0 / 3.0);
        // Four promoters, four detractors, two passives: 0.
        close(nps(&[10, 9, 9, 8, 7, 6, 5, 0, 10, 3]).unwrap().score, 0.0);
        close(nps(&[0, 6]).unwrap().score, -100.0);
        assert_eq!(nps(&[]), None);
    }

    #[test]
    fn servqual_gaps_per_dimension_and_overall() {
        use Dimension::*;
        use Side::*;
        // Hand-computed: tangibles E (7+6)/2 = 6.5, P (5+5)/2 = 5 → −1.5; reliability E 7,
        // P 4 → −3; empathy E 5, P 6 → +1; the others unrated. Overall (−1.5 − 3 + 1)/3.
        let s = servqual(&[
            (Tangibles, Expectation, 7),
            (Tangibles, Expectation, 6),
            (Tangibles, Perception, 5),
            (Tangibles, Perception, 5),
            (Reliability, Expectation, 7),
            (Reliability, Perception, 4),
            (Empathy, Expectation, 5),
            (Empathy, Perception, 6),
            (Assurance, Expectation, 6),
        ]);
        let got: Vec<(Dimension, f64)> =
            s.dimensions.iter().map(|d| (d.dimension, d.gap)).collect();
        assert_eq!(
            got,
            vec![(Tangibles, -1.5), (Reliability, -3.0), (Empathy, 1.0)]
        );
        close(s.dimensions[0].expectation, 6.5);
        close(s.overall_gap.unwrap(), -3.5 / 3.0);
        assert_eq!(servqual(&[]).overall_gap, None);
    }
}
