//! Care plans: "three days before a key customer's birthday, a task for the owner"; "on 中秋, a
//! task to greet everyone in segment X". The store fires each plan at most once per customer
//! and occasion day, whatever restarts or retries happen (a unique firing key, as the research
//! notes ask after Odoo's and Twenty's double and missed runs).

use serde::{Deserialize, Serialize};

use super::occasion::Occasion;
use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Furthest ahead a plan may act: two months covers a gift that must be ordered.
pub const MAX_DAYS_BEFORE: i64 = 60;
/// Longest plan name.
pub const MAX_NAME: usize = 60;
/// Longest task title a plan writes.
pub const MAX_TITLE: usize = 120;

/// A care plan as its manager enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarePlanInput {
    /// Name, unique among plans.
    pub name: String,
    /// The occasion code: `birthday`, `spouse_birthday`, `wedding`, `child_birthday`,
    /// `customer_since`, or `festival.<code>` (`festival.mid_autumn` …).
    pub occasion: String,
    /// How many days before the occasion the task is created (0: on the day).
    #[schema(minimum = 0, maximum = 60)]
    pub days_before: i64,
    /// Only customers in this saved segment; required for a festival (every customer on the
    /// book would otherwise get a task).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub segment_id: Option<i64>,
    /// The task's title (the customer and the date are on the task itself).
    pub task_title: String,
    /// Fired by the schedule; a paused plan keeps its history.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarePlan {
    /// Name, trimmed.
    pub name: String,
    /// The occasion.
    pub occasion: Occasion,
    /// Days ahead.
    pub days_before: i64,
    /// Segment, if any.
    pub segment_id: Option<i64>,
    /// Task title, trimmed.
    pub task_title: String,
    /// Switched on.
    pub active: bool,
}

impl CarePlanInput {
    /// Checks every field; the segment's existence is the store's to check.
    pub fn validate(&self) -> Result<CarePlan, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&name), MAX_NAME);
        let title = self.task_title.trim().to_string();
        if title.is_empty() {
            e.push("task_title", "required");
        }
        check_text(&mut e, "task_title", Some(&title), MAX_TITLE);
        let occasion = e.field("occasion", Occasion::parse(&self.occasion));
        if !(0..=MAX_DAYS_BEFORE).contains(&self.days_before) {
            e.push("days_before", "out_of_range");
        }
        if matches!(occasion, Some(Occasion::Festival(_))) && self.segment_id.is_none() {
            e.push("segment_id", "required");
        }
        if self.segment_id.is_some_and(|s| s < 1) {
            e.push("segment_id", "out_of_range");
        }
        match occasion {
            Some(occasion) if e.is_empty() => Ok(CarePlan {
                name,
                occasion,
                days_before: self.days_before,
                segment_id: self.segment_id,
                task_title: title,
                active: self.active,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::care::{Festival, OccasionKind};

    fn input() -> CarePlanInput {
        CarePlanInput {
            name: " 生日关怀 ".into(),
            occasion: "birthday".into(),
            days_before: 3,
            segment_id: None,
            task_title: "准备生日贺卡".into(),
            active: true,
        }
    }

    #[test]
    fn a_plan_names_its_occasion_and_days() {
        let p = input().validate().unwrap();
        assert_eq!(p.name, "生日关怀");
        assert_eq!(p.occasion, Occasion::Customer(OccasionKind::Birthday));
        let bad = CarePlanInput {
            name: String::new(),
            occasion: "halloween".into(),
            days_before: 61,
            task_title: " ".into(),
            ..input()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "task_title", "occasion", "days_before"]);
    }

    #[test]
    fn a_festival_plan_needs_a_segment() {
        let festival = CarePlanInput {
            occasion: "festival.mid_autumn".into(),
            ..input()
        };
        let e = festival.validate().unwrap_err();
        assert_eq!(e.0[0].field, "segment_id");
        let p = CarePlanInput {
            segment_id: Some(4),
            ..festival
        }
        .validate()
        .unwrap();
        assert_eq!(p.occasion, Occasion::Festival(Festival::MidAutumn));
    }
}
