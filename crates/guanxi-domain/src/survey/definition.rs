//! What a survey asks. The three standard kinds come with their questions (in Chinese and
//! English); a custom survey lists its own.

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;

crate::vocabulary! {
    /// The kind of survey, which decides its figures.
    SurveyKind {
        /// Customer satisfaction: one rating 1–5, the share of 4s and 5s.
        Csat => "csat",
        /// Net Promoter Score: "how likely are you to recommend us", 0–10.
        Nps => "nps",
        /// SERVQUAL: expectation and perception per service dimension, 1–7; the gap.
        Servqual => "servqual",
        /// Questions of the manager's own.
        Custom => "custom",
    }
}

crate::vocabulary! {
    /// When a survey is sent.
    SurveyTrigger {
        /// By hand, to chosen customers or a segment.
        Manual => "manual",
        /// When a service ticket is resolved (to its customer, about its agent).
        TicketResolved => "ticket_resolved",
        /// After an order (to its customer, about its products).
        Order => "order",
    }
}

crate::vocabulary! {
    /// SERVQUAL's five dimensions of service quality (Parasuraman, Zeithaml & Berry, 1988).
    Dimension {
        /// 有形性: facilities, equipment, staff appearance.
        Tangibles => "tangibles",
        /// 可靠性: doing what was promised, dependably and accurately.
        Reliability => "reliability",
        /// 响应性: willingness to help, prompt service.
        Responsiveness => "responsiveness",
        /// 保证性: knowledge and courtesy that inspire trust.
        Assurance => "assurance",
        /// 同理心: caring, individual attention.
        Empathy => "empathy",
    }
}

crate::vocabulary! {
    /// Which half of a SERVQUAL pair a rating is.
    Side {
        /// What an excellent company in the field would do.
        Expectation => "expectation",
        /// What this company did.
        Perception => "perception",
    }
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum QuestionKind {
    /// A whole number from `min` to `max`.
    Rating {
        /// Lowest.
        min: u8,
        /// Highest.
        max: u8,
        /// The SERVQUAL item this rates, if any.
        #[serde(default)]
        servqual: Option<(Dimension, Side)>,
    },
    /// One of the options.
    Choice {
        /// The options offered (1–10).
        options: Vec<String>,
    },
    /// Free text.
    Text,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable key within the survey (`nps`, `comment`, `reliability_1_e`).
    pub key: String,
    /// The question in Chinese.
    pub text_zh: String,
    /// The question in English.
    pub text_en: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// Must be answered to send the response.
    #[serde(default)]
    pub required: bool,
}

/// Most questions in one survey.
pub const MAX_QUESTIONS: usize = 50;
/// Longest question text.
pub const MAX_QUESTION_TEXT: usize = 300;

/// A survey's questions, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyDefinition {
    /// Its kind.
    pub kind: SurveyKind,
    /// Its questions in order.
    pub questions: Vec<Question>,
}

fn rating(key: &str, zh: &str, en: &str, min: u8, max: u8, required: bool) -> Question {
    Question {
        key: key.into(),
        text_zh: zh.into(),
        text_en: en.into(),
        kind: QuestionKind::Rating {
            min,
            max,
            servqual: None,
        },
        required,
    }
}

fn comment(zh: &str, en: &str) -> Question {
    Question {
        key: "comment".into(),
        text_zh: zh.into(),
        text_en: en.into(),
        kind: QuestionKind::Text,
        required: false,
    }
}

/// The SERVQUAL items: two per dimension, each asked as an expectation and a perception.
const SERVQUAL_ITEMS: [(Dimension, &str, &str); 10] = [
    (
        Dimension::Tangibles,
        "门店与设备现代、整洁",
        "Modern, clean premises and equipment",
    ),
    (
        Dimension::Tangibles,
        "员工仪表整洁、专业",
        "Neat, professional-looking staff",
    ),
    (
        Dimension::Reliability,
        "承诺的事情按时做到",
        "Does what it promises, when it promises",
    ),
    (
        Dimension::Reliability,
        "第一次就把服务做对",
        "Gets the service right the first time",
    ),
    (
        Dimension::Responsiveness,
        "及时告知何时提供服务",
        "Says exactly when things will be done",
    ),
    (
        Dimension::Responsiveness,
        "员工总是乐于帮助顾客",
        "Staff are always willing to help",
    ),
    (
        Dimension::Assurance,
        "员工的行为让人信任",
        "Staff behaviour instils confidence",
    ),
    (
        Dimension::Assurance,
        "员工有足够的专业知识回答问题",
        "Staff know enough to answer questions",
    ),
    (
        Dimension::Empathy,
        "给予顾客个别的关注",
        "Gives customers individual attention",
    ),
    (
        Dimension::Empathy,
        "把顾客的利益放在心上",
        "Has the customer's best interests at heart",
    ),
];

impl SurveyDefinition {
    /// The standard questions of a kind; a custom survey starts empty.
    pub fn standard(kind: SurveyKind) -> Self {
        let questions = match kind {
            SurveyKind::Csat => vec![
                rating(
                    "csat",
                    "您对这次服务满意吗？",
                    "How satisfied are you with the service you received?",
                    1,
                    5,
                    true,
                ),
                comment(
                    "还有什么想告诉我们的？",
                    "Anything else you would like to tell us?",
                ),
            ],
            SurveyKind::Nps => vec![
                rating(
                    "nps",
                    "您有多大可能把我们推荐给朋友或同事？",
                    "How likely are you to recommend us to a friend or colleague?",
                    0,
                    10,
                    true,
                ),
                comment(
                    "您给出这个分数的主要原因是？",
                    "What is the main reason for your score?",
                ),
            ],
            SurveyKind::Servqual => {
                let mut q = Vec::with_capacity(21);
                for (side, zh, en) in [
                    (
                        Side::Expectation,
                        "一家优秀的同类企业应当",
                        "An excellent company of this kind would",
                    ),
                    (Side::Perception, "我们", "We"),
                ] {
                    for (n, (dim, item_zh, item_en)) in SERVQUAL_ITEMS.iter().enumerate() {
                        q.push(Question {
                            key: format!("{}_{}_{}", dim.as_str(), n % 2 + 1, &side.as_str()[..1]),
                            text_zh: format!("{zh}：{item_zh}"),
                            text_en: format!("{en}: {}", item_en.to_lowercase()),
                            kind: QuestionKind::Rating {
                                min: 1,
                                max: 7,
                                servqual: Some((*dim, side)),
                            },
                            required: true,
                        });
                    }
                }
                q.push(comment(
                    "还有什么想告诉我们的？",
                    "Anything else you would like to tell us?",
                ));
                q
            }
            SurveyKind::Custom => Vec::new(),
        };
        Self { kind, questions }
    }

    /// Checks a custom survey's questions (the standard ones are built right): unique keys,
    /// texts in both languages within length, sane ranges and options.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.questions.is_empty() {
            e.push("questions", "required");
        }
        if self.questions.len() > MAX_QUESTIONS {
            e.push("questions", "too_many");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let f = |name: &str| format!("questions[{i}].{name}");
            let key_ok = !q.key.is_empty()
                && q.key.len() <= 40
                && q.key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                e.push(f("key"), "invalid_code");
            } else if !seen.insert(q.key.as_str()) {
                e.push(f("key"), "duplicate");
            }
            for (name, text) in [("text_zh", &q.text_zh), ("text_en", &q.text_en)] {
                if text.trim().is_empty() {
                    e.push(f(name), "required");
                }
                check_text(&mut e, &f(name), Some(text), MAX_QUESTION_TEXT);
            }
            match &q.kind {
                QuestionKind::Rating { min, max, .. } => {
                    if min >= max || *max > 10 {
                        e.push(f("kind"), "out_of_range");
                    }
                }
                QuestionKind::Choice { options } => {
                    if options.is_empty() || options.len() > 10 {
                        e.push(f("kind.options"), "out_of_range");
                    }
                    for (k, o) in options.iter().enumerate() {
                        if o.trim().is_empty() {
                            e.push(format!("questions[{i}].kind.options[{k}]"), "required");
                        }
                        check_text(
                            &mut e,
                            &format!("questions[{i}].kind.options[{k}]"),
                            Some(o),
                            100,
                        );
                    }
                }
                QuestionKind::Text => {}
            }
        }
        e.finish(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_surveys_are_valid_and_servqual_pairs_every_item() {
        for kind in SurveyKind::ALL {
            let d = SurveyDefinition::standard(*kind);
            if *kind != SurveyKind::Custom {
                d.validate().unwrap();
            }
        }
        let s = SurveyDefinition::standard(SurveyKind::Servqual);
        let pairs: Vec<_> = s
            .questions
            .iter()
            .filter_map(|q| match q.kind {
                QuestionKind::Rating { servqual, .. } => servqual,
                _ => None,
            })
            .collect();
        assert_eq!(pairs.len(), 20);
        for dim in Dimension::ALL {
            for side in Side::ALL {
                assert_eq!(pairs.iter().filter(|p| **p == (*dim, *side)).count(), 2);
            }
        }
        assert_eq!(s.questions[0].key, "tangibles_1_e");
        assert_eq!(s.questions[10].key, "tangibles_1_p");
    }

    #[test]
    fn a_custom_survey_is_checked_question_by_question() {
        let q = |key: &str, kind| Question {
            key: key.into(),
            text_zh: "问题".into(),
            text_en: "Question".into(),
            kind,
            required: false,
        };
        let bad = SurveyDefinition {
            kind: SurveyKind::Custom,
            questions: vec![
                q(
                    "speed",
                    QuestionKind::Rating {
                        min: 5,
                        max: 1,
                        servqual: None,
                    },
                ),
                q("speed", QuestionKind::Text),
                q("Bad Key", QuestionKind::Choice { options: vec![] }),
            ],
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "questions[0].kind",
                "questions[1].key",
                "questions[2].key",
                "questions[2].kind.options"
            ]
        );
    }
}

/// Longest a personal link may stay open, in days.
pub const MAX_EXPIRES_DAYS: i64 = 90;

/// A survey as its manager sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// Name, unique among surveys.
    pub name: String,
    /// CSAT, NPS, SERVQUAL (standard questions) or custom.
    pub kind: SurveyKind,
    /// A custom survey's questions (ignored for the standard kinds).
    #[serde(default)]
    pub questions: Vec<Question>,
    /// When it is sent.
    pub trigger: SurveyTrigger,
    /// Days a personal link stays open (1–90).
    #[schema(minimum = 1, maximum = 90)]
    pub expires_days: i64,
    /// Sent by its trigger; a paused survey keeps its responses.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A checked survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSurvey {
    /// Name, trimmed.
    pub name: String,
    /// Questions (the standard ones for a standard kind).
    pub definition: SurveyDefinition,
    /// Trigger.
    pub trigger: SurveyTrigger,
    /// Link lifetime in days.
    pub expires_days: i64,
    /// Switched on.
    pub active: bool,
}

impl SurveyInput {
    /// Checks the name, the lifetime and a custom survey's questions.
    pub fn validate(&self) -> Result<ValidSurvey, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&name), 60);
        if !(1..=MAX_EXPIRES_DAYS).contains(&self.expires_days) {
            e.push("expires_days", "out_of_range");
        }
        let definition = match self.kind {
            SurveyKind::Custom => SurveyDefinition {
                kind: SurveyKind::Custom,
                questions: self.questions.clone(),
            },
            k => SurveyDefinition::standard(k),
        };
        if let Err(q) = definition.validate() {
            e.0.extend(q.0);
        }
        e.finish(|| ValidSurvey {
            name,
            definition,
            trigger: self.trigger,
            expires_days: self.expires_days,
            active: self.active,
        })
    }
}
