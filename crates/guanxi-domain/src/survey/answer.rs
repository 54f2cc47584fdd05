//! A respondent's answers, checked against the survey's questions: every required question
//! answered, ratings in range, a choice among the options, text within length. A question
//! left out is "skipped" and counts in no figure (an unanswered NPS is not a zero).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::definition::{QuestionKind, SurveyDefinition};
use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Longest text answer.
pub const MAX_ANSWER_TEXT: usize = 2000;

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Answer {
    /// A rating.
    Rating(u8),
    /// A choice or free text (which one the question says).
    Text(String),
}

/// Answers by question key, checked.
pub type Answers = BTreeMap<String, Answer>;

impl SurveyDefinition {
    /// Checks `raw` (key → answer as typed) and keeps the answers given; blank texts are
    /// skipped, unknown keys refused.
    pub fn check_answers(
        &self,
        raw: &BTreeMap<String, String>,
    ) -> Result<Answers, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut out = Answers::new();
        for key in raw.keys() {
            if !self.questions.iter().any(|q| &q.key == key) {
                e.push(format!("answers.{key}"), "unknown_field");
            }
        }
        for q in &self.questions {
            let field = format!("answers.{}", q.key);
            let given = raw.get(&q.key).map(|v| v.trim()).filter(|v| !v.is_empty());
            let Some(v) = given else {
                if q.required {
                    e.push(field, "required");
                }
                continue;
            };
            match &q.kind {
                QuestionKind::Rating { min, max, .. } => match v.parse::<u8>() {
                    Ok(n) if (*min..=*max).contains(&n) => {
                        out.insert(q.key.clone(), Answer::Rating(n));
                    }
                    _ => e.push(field, "out_of_range"),
                },
                QuestionKind::Choice { options } => {
                    if options.iter().any(|o| o == v) {
                        out.insert(q.key.clone(), Answer::Text(v.to_string()));
                    } else {
                        e.push(field, "unknown_value");
                    }
                }
                QuestionKind::Text => {
                    let before = e.0.len();
                    check_text(&mut e, &field, Some(v), MAX_ANSWER_TEXT);
                    if e.0.len() == before {
                        out.insert(q.key.clone(), Answer::Text(v.to_string()));
                    }
                }
            }
        }
        e.finish(|| out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::SurveyKind;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn answers_are_checked_against_the_questions() {
        let nps = SurveyDefinition::standard(SurveyKind::Nps);
        let a = nps
            .check_answers(&raw(&[("nps", "9"), ("comment", " ")]))
            .unwrap();
        assert_eq!(a.get("nps"), Some(&Answer::Rating(9)));
        assert!(!a.contains_key("comment"), "a blank comment is skipped");
        let e = nps
            .check_answers(&raw(&[("nps", "11"), ("colour", "red")]))
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["answers.colour", "answers.nps"]);
        let e = nps.check_answers(&raw(&[])).unwrap_err();
        assert_eq!(e.0[0].code, "required");
    }
}
