//! Satisfaction survey use cases: setting surveys up and reading their figures (`ManageCare`:
//! managers, marketing, admins), a personal link made for one customer, and — for whoever
//! holds a link, without signing in — opening it and answering once.
//!
//! A link's token is a 256-bit random secret shown once; only its SHA-256 is stored, so the
//! database cannot give a link away. Agents never see links: a rating one could give oneself
//! is worth nothing (Chatwoot's design note in the research).

pub mod send;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::survey::SurveyInput;
use guanxi_store::survey::{
    Breakdown, Invited, OpenInvitation, ResponseRecord, Snapshot, SurveyRecord, SurveyResults,
};
use guanxi_store::Store;

use crate::sessions::{digest, random_secret};
use crate::{require, AppError};

/// Saves a survey.
pub async fn create_survey(
    store: &Store,
    actor: &Actor,
    input: &SurveyInput,
) -> Result<SurveyRecord, AppError> {
    require(actor, Permission::ManageCare)?;
    let s = input.validate()?;
    Ok(store.create_survey(actor, &s).await?)
}

/// Every survey.
pub async fn list_surveys(store: &Store, actor: &Actor) -> Result<Vec<SurveyRecord>, AppError> {
    require(actor, Permission::ManageCare)?;
    Ok(store.list_surveys().await?)
}

/// A survey's figures for invitations sent from `from` to before `to`.
pub async fn results(
    store: &Store,
    actor: &Actor,
    id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<Breakdown>,
    utc_offset_hours: i64,
) -> Result<SurveyResults, AppError> {
    require(actor, Permission::ManageCare)?;
    Ok(store
        .survey_results(id, from, to, by, utc_offset_hours)
        .await?)
}

/// What making a personal link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The link's token (shown once; the page builds `/s/<token>`).
    Made(String),
    /// The customer was surveyed within the fatigue window: no link.
    Fatigued,
}

/// Makes a personal single-use link to `survey` for a customer the actor sees, in `locale`,
/// to send through a channel of the actor's choosing.
pub async fn make_link(
    store: &Store,
    actor: &Actor,
    survey: i64,
    customer: i64,
    locale: &str,
) -> Result<Link, AppError> {
    require(actor, Permission::ManageCare)?;
    let survey = store.get_survey(survey).await?;
    store.get_customer(actor, customer).await?;
    let token = random_secret();
    let hash = digest(&token);
    // Each hand-made link is its own cause: the first characters of its hash.
    let cause = format!("manual:{}", &hash[..16]);
    match store
        .invite_to_survey(
            &survey,
            customer,
            &cause,
            &Snapshot::default(),
            &hash,
            locale,
            Utc::now(),
        )
        .await?
    {
        Invited::Created(_) => Ok(Link::Made(token)),
        Invited::Fatigued | Invited::AlreadyInvited => Ok(Link::Fatigued),
    }
}

/// The survey a link opens, whoever holds it.
pub async fn open_link(store: &Store, token: &str) -> Result<OpenInvitation, AppError> {
    Ok(store.open_survey_link(&digest(token), Utc::now()).await?)
}

/// Answers through a link, once: the answers (question key → value as typed) are checked
/// against the survey's questions first.
pub async fn answer(
    store: &Store,
    token: &str,
    raw: &BTreeMap<String, String>,
) -> Result<ResponseRecord, AppError> {
    let link = open_link(store, token).await?;
    let answers = link.survey.definition.check_answers(raw)?;
    Ok(store
        .answer_survey(&digest(token), &answers, Utc::now())
        .await?)
}
