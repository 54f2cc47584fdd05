//! Personal links: an invitation per customer and cause (a resolved ticket, an order, a
//! manual send), skipped inside the fatigue window; the survey as the link opens it; and the
//! one response a link takes. A second answer is refused (`already_answered`), as is one after
//! the link expired (`link_expired`). A low score (NPS 0–6, CSAT 1–2) gives the customer's
//! owner a follow-up task; every response is on the customer's timeline.

use chrono::{DateTime, Duration, Utc};
use guanxi_domain::survey::{Answer, Answers, SurveyKind};

use super::setup::{SurveyRecord, SurveyRow, SURVEY_COLUMNS};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::timeline::insert_system_task;

/// Responses on the timeline, at the time they were given, coded by the survey's kind: the
/// survey's name, then the score and the comment.
pub(crate) const SURVEY_EVENTS: EventSource = EventSource {
    kind: "survey",
    select: "SELECT customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, \
             user_id, version, link_id FROM (SELECT r.id, r.customer_id, r.answered_at AS at, \
             'survey' AS kind, r.id AS ref_id, s.kind AS code, s.name AS title, \
             CASE WHEN r.score IS NULL THEN r.comment \
             ELSE CAST(r.score AS TEXT) || COALESCE(' · ' || r.comment, '') END AS detail, \
             CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency, \
             CAST(NULL AS BIGINT) AS user_id, CAST(NULL AS BIGINT) AS version, \
             r.survey_id AS link_id FROM survey_responses r JOIN surveys s ON s.id = r.survey_id) sr",
};

/// What an invitation copies from its cause, for the figures by agent, team and product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The resolved ticket.
    pub ticket_id: Option<i64>,
    /// The order.
    pub order_id: Option<i64>,
    /// Who served (the ticket's agent).
    pub agent_id: Option<i64>,
    /// Their team.
    pub team_id: Option<i64>,
    /// The product concerned (a SKU).
    pub product: Option<String>,
}

/// What asking to invite did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    /// A new invitation.
    Created(i64),
    /// The customer was surveyed inside the fatigue window: not invited.
    Fatigued,
    /// This cause already has its invitation (a trigger that ran twice).
    AlreadyInvited,
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// It may be answered.
    Open,
    /// It was answered.
    Answered,
    /// It expired unanswered.
    Expired,
}

/// A link as it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvitation {
    /// The invitation.
    pub invitation_id: i64,
    /// The survey.
    pub survey: SurveyRecord,
    /// The customer.
    pub customer_id: i64,
    /// The language the invitation was sent in.
    pub locale: String,
    /// Open, answered or expired.
    pub state: LinkState,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ResponseRecord {
    /// Id.
    pub id: i64,
    /// Its invitation.
    pub invitation_id: i64,
    /// Its survey.
    pub survey_id: i64,
    /// The customer.
    pub customer_id: i64,
    /// When.
    pub answered_at: DateTime<Utc>,
    /// The kind's main rating (CSAT 1–5, NPS 0–10), if answered.
    pub score: Option<i64>,
    /// Every answer by question key.
    pub answers: Answers,
    /// The follow-up task a low score created for the owner.
    pub follow_up_task_id: Option<i64>,
}

/// The invitation itself, inside the caller's transaction (see [`Store::invite_to_survey`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn invite_in(
    conn: &mut sqlx::AnyConnection,
    survey: &SurveyRecord,
    customer: i64,
    cause: &str,
    snapshot: &Snapshot,
    token_hash: &str,
    locale: &str,
    now: DateTime<Utc>,
    fatigue_days: i64,
) -> Result<Invited> {
    let done: Option<i64> =
        sqlx::query_scalar("SELECT id FROM survey_invitations WHERE survey_id = $1 AND cause = $2")
            .bind(survey.id)
            .bind(cause)
            .fetch_optional(&mut *conn)
            .await?;
    if done.is_some() {
        return Ok(Invited::AlreadyInvited);
    }
    if fatigue_days > 0 {
        let recent: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM survey_invitations WHERE customer_id = $1 AND created_at > $2 LIMIT 1",
        )
        .bind(customer)
        .bind(to_ms(now - Duration::days(fatigue_days)))
        .fetch_optional(&mut *conn)
        .await?;
        if recent.is_some() {
            return Ok(Invited::Fatigued);
        }
    }
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO survey_invitations (survey_id, customer_id, token_hash, cause, ticket_id, \
         order_id, agent_id, team_id, product, locale, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (survey_id, cause) DO NOTHING RETURNING id",
    )
    .bind(survey.id)
    .bind(customer)
    .bind(token_hash)
    .bind(cause)
    .bind(snapshot.ticket_id)
    .bind(snapshot.order_id)
    .bind(snapshot.agent_id)
    .bind(snapshot.team_id)
    .bind(snapshot.product.as_deref())
    .bind(locale)
    .bind(to_ms(now))
    .bind(to_ms(now + Duration::days(survey.expires_days)))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id.map_or(Invited::AlreadyInvited, Invited::Created))
}

/// A follow-up is due for NPS detractors (0–6) and dissatisfied CSAT answers (1–2).
fn needs_follow_up(kind: SurveyKind, score: Option<i64>) -> bool {
    match (kind, score) {
        (SurveyKind::Nps, Some(s)) => s <= 6,
        (SurveyKind::Csat, Some(s)) => s <= 2,
        _ => false,
    }
}

impl Store {
    /// Invites `customer` to `survey` for `cause` with a link whose token hashes to
    /// `token_hash`, unless they were invited to any survey within the fatigue window or
    /// this cause was already invited; the link expires after the survey's days.
    #[allow(clippy::too_many_arguments)]
    pub async fn invite_to_survey(
        &self,
        survey: &SurveyRecord,
        customer: i64,
        cause: &str,
        snapshot: &Snapshot,
        token_hash: &str,
        locale: &str,
        now: DateTime<Utc>,
    ) -> Result<Invited> {
        let fatigue = self.survey_fatigue_days().await?;
        let mut tx = self.begin_write().await?;
        let invited = invite_in(
            &mut tx, survey, customer, cause, snapshot, token_hash, locale, now, fatigue,
        )
        .await?;
        tx.commit().await?;
        Ok(invited)
    }

    /// The invitation a link's token hashes to, with its survey and state; an unknown token is
    /// `NotFound`.
    pub async fn open_survey_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<OpenInvitation> {
        let row: Option<(i64, i64, i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, survey_id, customer_id, locale, expires_at, responded_at \
             FROM survey_invitations WHERE token_hash = $1 OR reminder_token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        let (id, survey_id, customer_id, locale, expires_at, responded_at) =
            row.ok_or(StoreError::NotFound)?;
        let survey: SurveyRow = sqlx::query_as(&format!(
            "SELECT {SURVEY_COLUMNS} FROM surveys WHERE id = $1"
        ))
        .bind(survey_id)
        .fetch_one(&self.read)
        .await?;
        Ok(OpenInvitation {
            invitation_id: id,
            survey: survey.into_record()?,
            customer_id,
            locale,
            state: if responded_at.is_some() {
                LinkState::Answered
            } else if expires_at <= to_ms(now) {
                LinkState::Expired
            } else {
                LinkState::Open
            },
        })
    }

    /// Records the one response a link takes (answers already checked against the survey);
    /// see the module notes for what else happens.
    pub async fn answer_survey(
        &self,
        token_hash: &str,
        answers: &Answers,
        now: DateTime<Utc>,
    ) -> Result<ResponseRecord> {
        let link = self.open_survey_link(token_hash, now).await?;
        match link.state {
            LinkState::Answered => return Err(StoreError::invalid("token", "already_answered")),
            LinkState::Expired => return Err(StoreError::invalid("token", "link_expired")),
            LinkState::Open => {}
        }
        let kind = link.survey.definition.kind;
        let score = answers.get(kind.as_str()).and_then(|a| match a {
            Answer::Rating(r) => Some(i64::from(*r)),
            Answer::Text(_) => None,
        });
        let comment = match answers.get("comment") {
            Some(Answer::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let json = serde_json::to_string(answers)
            .map_err(|e| StoreError::Corrupt(format!("survey answers: {e}")))?;
        let at = to_ms(now);
        let mut tx = self.begin_write().await?;
        // The link is taken here: of two answers racing, one updates the row and the other
        // finds it answered.
        let taken = sqlx::query(
            "UPDATE survey_invitations SET responded_at = $1 WHERE id = $2 AND responded_at IS NULL",
        )
        .bind(at)
        .bind(link.invitation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            return Err(StoreError::invalid("token", "already_answered"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO survey_responses (invitation_id, survey_id, customer_id, answered_at, \
             score, answers, comment, agent_id, team_id, product) \
             SELECT id, survey_id, customer_id, $1, $2, $3, $4, agent_id, team_id, product \
             FROM survey_invitations WHERE id = $5 RETURNING id",
        )
        .bind(at)
        .bind(score)
        .bind(json)
        .bind(comment.as_deref())
        .bind(link.invitation_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::invalid("token", "already_answered")
            }
            _ => e.into(),
        })?;
        project(&mut tx, &SURVEY_EVENTS, Rows::Id(id)).await?;
        let mut follow_up = None;
        if needs_follow_up(kind, score) {
            let owner: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT c.owner_id, u.locale FROM customers c LEFT JOIN users u ON u.id = c.owner_id \
                 WHERE c.id = $1",
            )
            .bind(link.customer_id)
            .fetch_optional(&mut *tx)
            .await?;
            let (owner, locale) = owner.unwrap_or((None, None));
            let zh = locale.as_deref().unwrap_or("zh-CN").starts_with("zh");
            let score = score.unwrap_or_default();
            let title = match (kind, zh) {
                (SurveyKind::Nps, true) => format!("NPS 评分 {score}：请回访客户"),
                (SurveyKind::Nps, false) => {
                    format!("NPS score {score}: follow up with the customer")
                }
                (_, true) => format!("满意度评分 {score}：请回访客户"),
                (_, false) => format!("Satisfaction score {score}: follow up with the customer"),
            };
            let task = insert_system_task(
                &mut tx,
                link.customer_id,
                &title,
                comment.as_deref(),
                to_ms(now + Duration::days(1)),
                owner,
                at,
            )
            .await?;
            sqlx::query("UPDATE survey_responses SET follow_up_task_id = $1 WHERE id = $2")
                .bind(task)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            follow_up = Some(task);
        }
        tx.commit().await?;
        Ok(ResponseRecord {
            id,
            invitation_id: link.invitation_id,
            survey_id: link.survey.id,
            customer_id: link.customer_id,
            answered_at: from_ms(at),
            score,
            answers: answers.clone(),
            follow_up_task_id: follow_up,
        })
    }
}
