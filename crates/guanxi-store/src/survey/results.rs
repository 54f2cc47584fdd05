//! A survey's figures over a period: invitations sent and answered (the response rate), CSAT,
//! NPS or SERVQUAL, overall and per agent, team, product or month. Counted from the
//! invitations of the period and their responses (surveys run to thousands, not millions).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use guanxi_domain::survey::{
    csat, nps, servqual, Answer, Answers, Csat, Dimension, Nps, QuestionKind, Servqual, Side,
};

use super::setup::SurveyRecord;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// How a survey's figures are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// By the agent who served.
    Agent,
    /// By their team.
    Team,
    /// By the product concerned.
    Product,
    /// By the month the invitation was sent (`YYYY-MM`, local time).
    Month,
    /// By saved segment (the key is the segment's id): each segment's figures over the
    /// invited customers who are in it today; a customer in two segments counts in both.
    Segment,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct GroupFigures {
    /// The group: an agent's or team's id, a SKU, a month; empty for "none".
    pub key: String,
    /// Invitations sent.
    pub invited: i64,
    /// Of them answered.
    pub responded: i64,
    /// CSAT, for a CSAT survey.
    pub csat: Option<Csat>,
    /// NPS, for an NPS survey.
    pub nps: Option<Nps>,
    /// The overall SERVQUAL gap, for a SERVQUAL survey.
    pub servqual_gap: Option<f64>,
}

/// A survey's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SurveyResults {
    /// The survey.
    pub survey: SurveyRecord,
    /// The period's figures.
    #[serde(flatten)]
    pub all: GroupFigures,
    /// Answered / invited, as a percentage.
    pub response_rate: Option<f64>,
    /// SERVQUAL per dimension, for a SERVQUAL survey.
    pub servqual: Option<Servqual>,
    /// The breakdown asked for, by key.
    pub groups: Vec<GroupFigures>,
}

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: i64,
    created_at: i64,
    agent_id: Option<i64>,
    team_id: Option<i64>,
    product: Option<String>,
    score: Option<i64>,
    answers: Option<String>,
}

/// The SERVQUAL ratings of one response's answers.
fn servqual_ratings(survey: &SurveyRecord, answers: &Answers) -> Vec<(Dimension, Side, u8)> {
    survey
        .definition
        .questions
        .iter()
        .filter_map(|q| match (&q.kind, answers.get(&q.key)) {
            (
                QuestionKind::Rating {
                    servqual: Some((d, s)),
                    ..
                },
                Some(Answer::Rating(r)),
            ) => Some((*d, *s, *r)),
            _ => None,
        })
        .collect()
}

fn figures(survey: &SurveyRecord, key: String, rows: &[&Row]) -> Result<(GroupFigures, Servqual)> {
    let scores: Vec<u8> = rows
        .iter()
        .filter_map(|r| r.score)
        .filter_map(|s| u8::try_from(s).ok())
        .collect();
    let mut ratings = Vec::new();
    if survey.definition.kind == guanxi_domain::survey::SurveyKind::Servqual {
        for r in rows {
            if let Some(a) = &r.answers {
                let answers: Answers = serde_json::from_str(a)
                    .map_err(|_| StoreError::Corrupt("survey_responses.answers".into()))?;
                ratings.extend(servqual_ratings(survey, &answers));
            }
        }
    }
    let sq = servqual(&ratings);
    let kind = survey.definition.kind;
    Ok((
        GroupFigures {
            key,
            invited: rows.len() as i64,
            responded: rows.iter().filter(|r| r.answers.is_some()).count() as i64,
            csat: (kind == guanxi_domain::survey::SurveyKind::Csat)
                .then(|| csat(&scores))
                .flatten(),
            nps: (kind == guanxi_domain::survey::SurveyKind::Nps)
                .then(|| nps(&scores))
                .flatten(),
            servqual_gap: sq.overall_gap,
        },
        sq,
    ))
}

impl Store {
    /// One group per saved segment with invited customers in it today.
    async fn survey_segment_groups(
        &self,
        survey: &SurveyRecord,
        rows: &[Row],
        utc_offset_hours: i64,
    ) -> Result<Vec<GroupFigures>> {
        let mut invited: Vec<i64> = rows.iter().map(|r| r.customer_id).collect();
        invited.sort_unstable();
        invited.dedup();
        if invited.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let as_of = guanxi_domain::segment::AsOf {
            now,
            today: (now + Duration::hours(utc_offset_hours)).date_naive(),
            utc_offset_hours,
        };
        let mut conn = self.read.acquire().await?;
        let mut groups = Vec::new();
        for seg in self.list_segments().await? {
            let Ok(f) = seg.rule.resolve(as_of) else {
                continue;
            };
            let kept = crate::segments::plan_kept(&mut conn, self.backend(), &f).await?;
            let mut members = std::collections::HashSet::new();
            for chunk in invited.chunks(500) {
                let mut q =
                    crate::sql::SqlBuilder::new("SELECT c.id FROM customers c WHERE c.id IN ");
                q.int_list(chunk).push(" AND c.deleted_at IS NULL AND ");
                crate::segments::push_segment(&mut q, &f, &kept);
                let ids: Vec<i64> = q.query_scalar().fetch_all(&mut *conn).await?;
                members.extend(ids);
            }
            let in_segment: Vec<&Row> = rows
                .iter()
                .filter(|r| members.contains(&r.customer_id))
                .collect();
            if !in_segment.is_empty() {
                groups.push((seg.id, figures(survey, seg.id.to_string(), &in_segment)?.0));
            }
        }
        groups.sort_by_key(|(id, _)| *id);
        Ok(groups.into_iter().map(|(_, g)| g).collect())
    }

    /// The figures of `survey_id` for invitations sent from `from` to before `to`, broken down
    /// `by` (local months at `utc_offset_hours`).
    pub async fn survey_results(
        &self,
        survey_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        by: Option<Breakdown>,
        utc_offset_hours: i64,
    ) -> Result<SurveyResults> {
        let survey = self.get_survey(survey_id).await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT i.customer_id, i.created_at, i.agent_id, i.team_id, i.product, r.score, r.answers \
             FROM survey_invitations i LEFT JOIN survey_responses r ON r.invitation_id = i.id \
             WHERE i.survey_id = $1 AND i.created_at >= $2 AND i.created_at < $3",
        )
        .bind(survey_id)
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.read)
        .await?;
        let all_rows: Vec<&Row> = rows.iter().collect();
        let (all, sq) = figures(&survey, String::new(), &all_rows)?;
        let mut groups = Vec::new();
        if by == Some(Breakdown::Segment) {
            groups = self
                .survey_segment_groups(&survey, &rows, utc_offset_hours)
                .await?;
        } else if let Some(by) = by {
            let mut keyed: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
            for r in &rows {
                let key = match by {
                    Breakdown::Agent => r.agent_id.map(|a| a.to_string()),
                    Breakdown::Team => r.team_id.map(|t| t.to_string()),
                    Breakdown::Product => r.product.clone(),
                    Breakdown::Month => Some(
                        (from_ms(r.created_at) + Duration::hours(utc_offset_hours))
                            .format("%Y-%m")
                            .to_string(),
                    ),
                    Breakdown::Segment => None,
                };
                keyed.entry(key.unwrap_or_default()).or_default().push(r);
            }
            for (key, rows) in keyed {
                groups.push(figures(&survey, key, &rows)?.0);
            }
        }
        Ok(SurveyResults {
            response_rate: (all.invited > 0)
                .then(|| 100.0 * all.responded as f64 / all.invited as f64),
            servqual: (survey.definition.kind == guanxi_domain::survey::SurveyKind::Servqual)
                .then_some(sq),
            survey,
            all,
            groups,
        })
    }
}
