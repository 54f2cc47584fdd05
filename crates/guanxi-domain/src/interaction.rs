//! Interactions (every contact with a customer, on any channel) and follow-up tasks. Together
//! with orders they make the customer timeline: the one place a rep sees what happened last.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary::{InteractionChannel, InteractionDirection, InteractionPurpose};

/// Longest subject line.
pub const MAX_SUBJECT: usize = 200;
/// Longest interaction body or task note.
pub const MAX_BODY: usize = 10_000;

/// An interaction as a client records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    /// Channel.
    pub channel: InteractionChannel,
    /// Inbound, outbound or internal; defaults to internal for notes, outbound otherwise.
    #[serde(default)]
    pub direction: Option<InteractionDirection>,
    /// One-line summary ("回访：询问新品").
    pub subject: String,
    /// What was said or agreed.
    #[serde(default)]
    pub body: Option<String>,
    /// When it happened; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Why it happened (enquiry, care, complaint, objection, sales, follow-up).
    #[serde(default)]
    pub purpose: Option<InteractionPurpose>,
}

/// An interaction that passed validation, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidInteraction {
    /// Channel.
    pub channel: InteractionChannel,
    /// Direction.
    pub direction: InteractionDirection,
    /// Trimmed subject.
    pub subject: String,
    /// Trimmed body, `None` when empty.
    pub body: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Why it happened.
    pub purpose: Option<InteractionPurpose>,
}

/// Trims and turns an empty string into `None`.
fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn check_required(e: &mut ValidationErrors, field: &str, v: &str, max: usize) {
    if v.trim().is_empty() {
        e.push(field, "required");
    } else {
        check_text(e, field, Some(v), max);
    }
}

impl NewInteraction {
    /// Validates; a time more than five minutes ahead is refused (a typo, not a plan).
    pub fn validate(self, now: DateTime<Utc>) -> Result<ValidInteraction, ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_required(&mut e, "subject", &self.subject, MAX_SUBJECT);
        check_text(&mut e, "body", self.body.as_deref(), MAX_BODY);
        let occurred_at = self.occurred_at.unwrap_or(now);
        if occurred_at > now + chrono::Duration::minutes(5) {
            e.push("occurred_at", "in_future");
        }
        let direction = self.direction.unwrap_or(match self.channel {
            InteractionChannel::Note => InteractionDirection::Internal,
            _ => InteractionDirection::Outbound,
        });
        if self.channel == InteractionChannel::Note && direction != InteractionDirection::Internal {
            e.push("direction", "unknown_value");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ValidInteraction {
            channel: self.channel,
            direction,
            subject: self.subject.trim().to_string(),
            body: non_empty(self.body.as_deref()),
            occurred_at,
            purpose: self.purpose,
        })
    }
}

/// A follow-up task as a client creates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// What to do ("回电确认报价").
    pub title: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Who does it; defaults to the creator.
    #[serde(default)]
    pub assignee_id: Option<i64>,
    /// Details.
    #[serde(default)]
    pub note: Option<String>,
}

/// A task that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTask {
    /// Trimmed title.
    pub title: String,
    /// Due time.
    pub due_at: DateTime<Utc>,
    /// Assignee (the creator when not given).
    pub assignee_id: Option<i64>,
    /// Trimmed note.
    pub note: Option<String>,
}

impl NewTask {
    /// Validates; due dates in the past are allowed (logging an overdue promise is honest).
    pub fn validate(self, creator: Option<i64>) -> Result<ValidTask, ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_required(&mut e, "title", &self.title, MAX_SUBJECT);
        check_text(&mut e, "note", self.note.as_deref(), MAX_BODY);
        if self.assignee_id.is_some_and(|a| a <= 0) {
            e.push("assignee_id", "invalid_reference");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ValidTask {
            title: self.title.trim().to_string(),
            due_at: self.due_at,
            assignee_id: self.assignee_id.or(creator),
            note: non_empty(self.note.as_deref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: ValidationErrors) -> Vec<(String, String)> {
        e.0.into_iter().map(|v| (v.field, v.code)).collect()
    }

    #[test]
    fn interaction_defaults_and_errors() {
        let now = Utc::now();
        let ok = NewInteraction {
            channel: InteractionChannel::Note,
            direction: None,
            subject: "  喜欢胡萝卜汁 ".into(),
            body: Some("   ".into()),
            occurred_at: None,
            purpose: None,
        }
        .validate(now)
        .unwrap();
        assert_eq!(ok.direction, InteractionDirection::Internal);
        assert_eq!(ok.subject, "喜欢胡萝卜汁");
        assert_eq!(ok.body, None);
        assert_eq!(ok.occurred_at, now);

        let bad = NewInteraction {
            channel: InteractionChannel::Note,
            direction: Some(InteractionDirection::Inbound),
            subject: " ".into(),
            body: None,
            occurred_at: Some(now + chrono::Duration::days(1)),
            purpose: None,
        }
        .validate(now)
        .unwrap_err();
        assert_eq!(
            codes(bad),
            vec![
                ("subject".into(), "required".into()),
                ("occurred_at".into(), "in_future".into()),
                ("direction".into(), "unknown_value".into()),
            ]
        );
    }

    #[test]
    fn task_defaults_to_creator() {
        let t = NewTask {
            title: "回电".into(),
            due_at: Utc::now(),
            assignee_id: None,
            note: None,
        }
        .validate(Some(7))
        .unwrap();
        assert_eq!(t.assignee_id, Some(7));
        let e = NewTask {
            title: "x".repeat(MAX_SUBJECT + 1),
            due_at: Utc::now(),
            assignee_id: Some(0),
            note: None,
        }
        .validate(None)
        .unwrap_err();
        assert_eq!(
            codes(e),
            vec![
                ("title".into(), "too_long".into()),
                ("assignee_id".into(), "invalid_reference".into())
            ]
        );
    }
}
