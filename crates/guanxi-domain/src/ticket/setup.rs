//! What the desk's admin edits: the category tree, SLA policies, business calendars (hours and
//! dated holidays and make-up days) and desk-wide settings. Each input is checked here, before
//! the store sees it; references (a parent, a calendar) are the store's to check.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::ticket::attachment::CEILING_KB;
use crate::ticket::calendar::{DayRule, Period};
use crate::ticket::sla::SlaConditions;

/// Longest category or policy name.
pub const MAX_NAME: usize = 60;
/// Longest category code.
pub const MAX_CODE: usize = 40;
/// Longest target: a year of working minutes is already more than any desk promises.
pub const MAX_TARGET_MINUTES: i64 = 365 * 24 * 60;
/// Longest reopen window in days.
pub const MAX_REOPEN_DAYS: i64 = 90;

/// Desk-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// Days after closing in which a customer's reply reopens the ticket (after that it opens
    /// a new one linked to it); 0 never reopens a closed ticket.
    #[schema(minimum = 0, maximum = 90)]
    pub reopen_days: i64,
    /// Largest file accepted on a ticket, in KB.
    #[schema(minimum = 1, maximum = 20480)]
    pub attachment_max_kb: i64,
}

impl ServiceSettings {
    /// Checks the ranges.
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !(0..=MAX_REOPEN_DAYS).contains(&self.reopen_days) {
            e.push("reopen_days", "out_of_range");
        }
        if !(1..=CEILING_KB).contains(&self.attachment_max_kb) {
            e.push("attachment_max_kb", "out_of_range");
        }
        e.finish(|| self)
    }
}

/// A category as the admin enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Parent category; none for a top-level one.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    /// Stable code for reports and the API (`a-z`, digits, `_`).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Order among its siblings.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub position: i64,
    /// Offered for new tickets (an old category is retired, never deleted: tickets keep it).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn check_name(e: &mut ValidationErrors, field: &str, v: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        e.push(field, "required");
    }
    check_text(e, field, Some(v), MAX_NAME);
    v.to_string()
}

impl CategoryInput {
    /// Checks the code's shape, the names and the position.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let code = self.code.trim().to_string();
        if code.is_empty() {
            e.push("code", "required");
        } else if code.len() > MAX_CODE
            || !code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            e.push("code", "invalid_code");
        }
        self.code = code;
        self.name_zh = check_name(&mut e, "name_zh", &self.name_zh);
        self.name_en = check_name(&mut e, "name_en", &self.name_en);
        if !(0..=10_000).contains(&self.position) {
            e.push("position", "out_of_range");
        }
        if self.parent_id.is_some_and(|p| p < 1) {
            e.push("parent_id", "invalid_reference");
        }
        e.finish(|| self)
    }
}

/// An SLA policy as the admin enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyInput {
    /// Name shown on tickets.
    pub name: String,
    /// Order of evaluation: the first active policy whose conditions match applies.
    #[schema(minimum = 0)]
    pub position: i64,
    /// When it applies.
    #[serde(default)]
    pub conditions: SlaConditions,
    /// First response target in working minutes (none: no target).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub first_response_minutes: Option<i64>,
    /// Next response target in working minutes.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub next_response_minutes: Option<i64>,
    /// Resolution target in working minutes.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub resolution_minutes: Option<i64>,
    /// The business calendar the minutes are counted on.
    #[schema(minimum = 1)]
    pub calendar_id: i64,
    /// In use.
    #[serde(default = "yes")]
    pub active: bool,
}

/// Value tiers a policy may name (the scores' ABC classes).
pub const TIERS: [&str; 3] = ["A", "B", "C"];

impl SlaPolicyInput {
    /// Checks the name, the targets' ranges and the tier.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.name = check_name(&mut e, "name", &self.name);
        if !(0..=10_000).contains(&self.position) {
            e.push("position", "out_of_range");
        }
        for (field, v) in [
            ("first_response_minutes", self.first_response_minutes),
            ("next_response_minutes", self.next_response_minutes),
            ("resolution_minutes", self.resolution_minutes),
        ] {
            if v.is_some_and(|m| !(1..=MAX_TARGET_MINUTES).contains(&m)) {
                e.push(field, "out_of_range");
            }
        }
        if self.first_response_minutes.is_none()
            && self.next_response_minutes.is_none()
            && self.resolution_minutes.is_none()
        {
            e.push("resolution_minutes", "no_target");
        }
        if let Some(tier) = &self.conditions.tier {
            if !TIERS.contains(&tier.as_str()) {
                e.push("conditions.tier", "unknown_value");
            }
        }
        if self.conditions.category_id.is_some_and(|c| c < 1) {
            e.push("conditions.category_id", "invalid_reference");
        }
        if self.calendar_id < 1 {
            e.push("calendar_id", "invalid_reference");
        }
        e.finish(|| self)
    }
}

/// A calendar's name and weekly hours as the admin enters them (its dated days are edited one
/// by one with [`CalendarDayInput`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// Name.
    pub name: String,
    /// Offset of local time from UTC in minutes (China: 480).
    #[schema(minimum = -840, maximum = 840)]
    pub utc_offset_minutes: i32,
    /// Working periods per weekday, Monday first.
    pub week: [Vec<Period>; 7],
    /// The hours of a make-up working day.
    pub workday_hours: Vec<Period>,
}

impl CalendarInput {
    /// Checks the name and the hours (ordered, within a day, some working time somewhere).
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.name = check_name(&mut e, "name", &self.name);
        let cal = crate::ticket::calendar::BusinessCalendar {
            utc_offset_minutes: self.utc_offset_minutes,
            week: self.week.clone(),
            workday_hours: self.workday_hours.clone(),
            days: Default::default(),
        };
        if let Err(problems) = cal.validate() {
            e.0.extend(problems.0);
        }
        e.finish(|| self)
    }
}

/// One dated exception: a public holiday or a make-up working day (调休).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayInput {
    /// The local date.
    pub day: NaiveDate,
    /// Holiday or make-up working day.
    pub rule: DayRule,
    /// The festival it belongs to (`spring_festival`, `national_day` …), free text.
    #[serde(default)]
    pub festival: Option<String>,
}

impl CalendarDayInput {
    /// Checks the date's range and the festival's length.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let year = chrono::Datelike::year(&self.day);
        if !(2000..=2100).contains(&year) {
            e.push("day", "out_of_range");
        }
        self.festival = self
            .festival
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty());
        check_text(&mut e, "festival", self.festival.as_deref(), MAX_NAME);
        e.finish(|| self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: ValidationErrors) -> Vec<(String, String)> {
        e.0.into_iter().map(|x| (x.field, x.code)).collect()
    }

    #[test]
    fn a_category_needs_a_code_of_lowercase_letters_and_both_names() {
        let bad = CategoryInput {
            parent_id: Some(0),
            code: "Bad Code".into(),
            name_zh: " ".into(),
            name_en: "Warranty".into(),
            position: 1,
            active: true,
        };
        let e = codes(bad.validate().expect_err("refused"));
        assert!(e.contains(&("code".into(), "invalid_code".into())));
        assert!(e.contains(&("name_zh".into(), "required".into())));
        assert!(e.contains(&("parent_id".into(), "invalid_reference".into())));
    }

    #[test]
    fn a_policy_needs_a_target_in_range_and_a_known_tier() {
        let p = SlaPolicyInput {
            name: "VIP".into(),
            position: 1,
            conditions: SlaConditions {
                tier: Some("Z".into()),
                ..Default::default()
            },
            first_response_minutes: Some(0),
            next_response_minutes: None,
            resolution_minutes: None,
            calendar_id: 1,
            active: true,
        };
        let e = codes(p.validate().expect_err("refused"));
        assert!(e.contains(&("first_response_minutes".into(), "out_of_range".into())));
        assert!(e.contains(&("conditions.tier".into(), "unknown_value".into())));
    }

    #[test]
    fn settings_stay_in_range() {
        let s = ServiceSettings {
            reopen_days: 91,
            attachment_max_kb: 0,
        };
        assert_eq!(codes(s.validate().expect_err("refused")).len(), 2);
    }

    #[test]
    fn a_calendar_with_no_working_time_is_refused() {
        let c = CalendarInput {
            name: "空".into(),
            utc_offset_minutes: 480,
            week: Default::default(),
            workday_hours: Vec::new(),
        };
        assert_eq!(
            codes(c.validate().expect_err("refused")),
            vec![("week".to_string(), "no_working_time".to_string())]
        );
    }
}
