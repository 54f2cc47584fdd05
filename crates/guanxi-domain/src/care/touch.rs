//! What was given on an occasion — a greeting, a gift, a coupon — recorded by the owner from
//! the care list, so next year's list can say what was sent last year and nobody greets the
//! same customer twice for the same day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::occasion::Occasion;
use crate::error::ValidationErrors;
use crate::profile::{check_text, MAX_TEXT};
use crate::vocabulary::InteractionChannel;

crate::vocabulary! {
    /// What was given.
    TouchKind {
        /// A greeting (card, message, call).
        Greeting => "greeting",
        /// A gift.
        Gift => "gift",
        /// A coupon or voucher.
        Coupon => "coupon",
    }
}

/// A touch as the owner records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TouchInput {
    /// The customer.
    #[schema(minimum = 1)]
    pub customer_id: i64,
    /// Occasion code (see care plans), or `festival.<code>`.
    pub occasion: String,
    /// The day of the occasion this touch is for (its occurrence, not when it was recorded).
    pub occasion_on: NaiveDate,
    /// Greeting, gift or coupon.
    pub kind: TouchKind,
    /// How it reached the customer, when it matters (WeChat, a visit …).
    #[serde(default)]
    pub channel: Option<InteractionChannel>,
    /// What it was ("鲜花一束", the coupon's code).
    #[serde(default)]
    pub note: Option<String>,
}

/// A checked touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    /// The customer.
    pub customer_id: i64,
    /// The occasion.
    pub occasion: Occasion,
    /// Its day.
    pub occasion_on: NaiveDate,
    /// What was given.
    pub kind: TouchKind,
    /// Channel.
    pub channel: Option<InteractionChannel>,
    /// Note, trimmed; none when blank.
    pub note: Option<String>,
}

impl TouchInput {
    /// Checks the occasion, the note, and that the day is within a year of `today` either way
    /// (a greeting recorded late, or a gift bought early; not a typo's year).
    pub fn validate(&self, today: NaiveDate) -> Result<Touch, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.customer_id < 1 {
            e.push("customer_id", "out_of_range");
        }
        let occasion = e.field("occasion", Occasion::parse(&self.occasion));
        if (self.occasion_on - today).num_days().abs() > 366 {
            e.push("occasion_on", "out_of_range");
        }
        let note = self
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        check_text(&mut e, "note", note.as_deref(), MAX_TEXT);
        match occasion {
            Some(occasion) if e.is_empty() => Ok(Touch {
                customer_id: self.customer_id,
                occasion,
                occasion_on: self.occasion_on,
                kind: self.kind,
                channel: self.channel,
                note,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_touch_is_for_a_known_occasion_near_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let input = TouchInput {
            customer_id: 7,
            occasion: "birthday".into(),
            occasion_on: NaiveDate::from_ymd_opt(2026, 12, 9).unwrap(),
            kind: TouchKind::Gift,
            channel: Some(InteractionChannel::FaceToFace),
            note: Some("  鲜花一束 ".into()),
        };
        assert_eq!(
            input.validate(today).unwrap().note.as_deref(),
            Some("鲜花一束")
        );
        let bad = TouchInput {
            occasion: "nameday".into(),
            occasion_on: NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
            ..input
        }
        .validate(today)
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["occasion", "occasion_on"]);
    }
}
