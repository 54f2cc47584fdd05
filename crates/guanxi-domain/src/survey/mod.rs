//! Satisfaction surveys (满意度调查): CSAT (1–5), NPS (0–10) and SERVQUAL (expectation and
//! perception on 1–7 for each of the five dimensions 有形性, 可靠性, 响应性, 保证性, 同理心),
//! and custom surveys of rating, choice and text questions. What a survey asks, what a
//! respondent may answer, and the arithmetic of the figures. Pure: invitations, single-use
//! links and responses are the store's.

pub mod answer;
pub mod definition;
pub mod invite;
pub mod score;

pub use answer::{Answer, Answers};
pub use definition::{
    Dimension, Question, QuestionKind, Side, SurveyDefinition, SurveyInput, SurveyKind,
    SurveyTrigger, ValidSurvey,
};
pub use score::{csat, nps, servqual, Csat, Nps, Servqual, ServqualDimension};
