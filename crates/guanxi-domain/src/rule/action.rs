//! What a rule does for each customer it fires for. Every action is safe to repeat inside the
//! firing's own transaction: the firing row is what makes it happen once.

use serde::{Deserialize, Serialize};

use crate::customer::normalize_tags;
use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Most points one firing awards.
pub const MAX_POINTS: i64 = 100_000;
/// Longest text of a notification.
pub const MAX_MESSAGE: usize = 500;

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A task for the customer's owner, due `due_days` days after the firing.
    Task {
        /// The task's title.
        title: String,
        /// 0–90.
        #[schema(minimum = 0, maximum = 90)]
        due_days: i64,
    },
    /// Tag the customer.
    AddTag {
        /// The tag.
        tag: String,
    },
    /// Take a tag off.
    RemoveTag {
        /// The tag.
        tag: String,
    },
    /// Points into the customer's ledger (keyed by the firing, so once).
    AwardPoints {
        /// 1–100,000.
        #[schema(minimum = 1, maximum = 100000)]
        points: i64,
        /// Months until they expire; 0 never.
        #[schema(minimum = 0, maximum = 60)]
        expiry_months: i64,
    },
    /// A coupon of this offer (its own code); none when the customer is at the offer's limit
    /// or the offer is over, which the log says.
    IssueCoupon {
        /// The coupon offer.
        #[schema(minimum = 1)]
        offer_id: i64,
    },
    /// Send the customer this survey (by e-mail, or SMS when configured), under the fatigue
    /// rule; once per firing.
    SendSurvey {
        /// The survey.
        #[schema(minimum = 1)]
        survey_id: i64,
    },
    /// A notification in the app for this user, or the customer's owner when none is named;
    /// once per firing.
    Notify {
        /// The text (up to 500 characters).
        message: String,
        /// Whom it is for; the customer's owner when absent.
        #[serde(default)]
        #[schema(minimum = 1)]
        user_id: Option<i64>,
    },
    /// Enrol the customer in this campaign (scheduled, sending or paused): they get its
    /// message like its audience, under its consent, exclusions and control group; once per
    /// customer and campaign.
    EnrolCampaign {
        /// The campaign.
        #[schema(minimum = 1)]
        campaign_id: i64,
    },
}

impl Action {
    /// The stored code.
    pub fn code(&self) -> &'static str {
        match self {
            Action::Task { .. } => "task",
            Action::AddTag { .. } => "add_tag",
            Action::RemoveTag { .. } => "remove_tag",
            Action::AwardPoints { .. } => "award_points",
            Action::IssueCoupon { .. } => "issue_coupon",
            Action::SendSurvey { .. } => "send_survey",
            Action::Notify { .. } => "notify",
            Action::EnrolCampaign { .. } => "enrol_campaign",
        }
    }

    /// Every action code, for pickers.
    pub const CODES: [&'static str; 8] = [
        "task",
        "add_tag",
        "remove_tag",
        "award_points",
        "issue_coupon",
        "send_survey",
        "notify",
        "enrol_campaign",
    ];

    /// Checks the action and returns it trimmed.
    pub fn validate(&self) -> Result<Action, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let out = match self {
            Action::Task { title, due_days } => {
                let title = title.trim().to_string();
                if title.is_empty() {
                    e.push("title", "required");
                }
                check_text(&mut e, "title", Some(&title), 120);
                if !(0..=90).contains(due_days) {
                    e.push("due_days", "out_of_range");
                }
                Action::Task {
                    title,
                    due_days: *due_days,
                }
            }
            Action::AddTag { tag } | Action::RemoveTag { tag } => {
                let mut t = ValidationErrors::new();
                let tags = normalize_tags(&mut t, std::slice::from_ref(tag));
                if !t.is_empty() || tags.len() != 1 {
                    e.push("tag", "invalid_tag");
                }
                let tag = tags.into_iter().next().unwrap_or_default();
                if matches!(self, Action::AddTag { .. }) {
                    Action::AddTag { tag }
                } else {
                    Action::RemoveTag { tag }
                }
            }
            Action::AwardPoints {
                points,
                expiry_months,
            } => {
                if !(1..=MAX_POINTS).contains(points) {
                    e.push("points", "out_of_range");
                }
                if !(0..=60).contains(expiry_months) {
                    e.push("expiry_months", "out_of_range");
                }
                self.clone()
            }
            Action::IssueCoupon { offer_id } => {
                if *offer_id < 1 {
                    e.push("offer_id", "out_of_range");
                }
                self.clone()
            }
            Action::SendSurvey { survey_id } => {
                if *survey_id < 1 {
                    e.push("survey_id", "out_of_range");
                }
                self.clone()
            }
            Action::Notify { message, user_id } => {
                let message = message.trim().to_string();
                if message.is_empty() {
                    e.push("message", "required");
                }
                check_text(&mut e, "message", Some(&message), MAX_MESSAGE);
                if user_id.is_some_and(|u| u < 1) {
                    e.push("user_id", "out_of_range");
                }
                Action::Notify {
                    message,
                    user_id: *user_id,
                }
            }
            Action::EnrolCampaign { campaign_id } => {
                if *campaign_id < 1 {
                    e.push("campaign_id", "out_of_range");
                }
                self.clone()
            }
        };
        if e.is_empty() {
            Ok(out)
        } else {
            Err(e)
        }
    }
}
