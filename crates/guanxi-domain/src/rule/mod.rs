//! Rules (规则): "when this happens to a customer, do that" — the seeds' "cumulative spend ≥ X
//! → offer" and the bank's unusual-transaction alert. A rule has one trigger, an optional
//! audience (a saved segment), and one to five actions. The store fires a rule at most once
//! per customer and cause (the cause names what happened: the day a customer entered a set,
//! the order, the ticket, the threshold), so no restart, retry or overlap acts twice.

pub mod action;
pub mod trigger;

use serde::{Deserialize, Serialize};

pub use action::Action;
pub use trigger::{Trigger, TriggerClass};

use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Most actions one rule takes.
pub const MAX_ACTIONS: usize = 5;

/// A rule as its manager enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Name, unique among rules.
    pub name: String,
    /// What makes it fire.
    pub trigger: Trigger,
    /// Only customers in this saved segment (everyone when absent).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub segment_id: Option<i64>,
    /// What it does, in order.
    pub actions: Vec<Action>,
    /// Evaluated by the schedule; a paused rule keeps its log.
    #[serde(default)]
    pub active: bool,
}

impl RuleInput {
    /// Checks every field and returns the rule trimmed; the segments' existence is the
    /// store's to check.
    pub fn validate(&self) -> Result<RuleInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut r = self.clone();
        r.name = r.name.trim().to_string();
        if r.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&r.name), 60);
        if let Err(x) = r.trigger.validate() {
            e.0.extend(x.0.into_iter().map(|v| v.under("trigger")));
        }
        if r.segment_id.is_some_and(|s| s < 1) {
            e.push("segment_id", "out_of_range");
        }
        if r.actions.is_empty() {
            e.push("actions", "required");
        }
        if r.actions.len() > MAX_ACTIONS {
            e.push("actions", "too_many");
        }
        for (i, a) in r.actions.iter_mut().enumerate() {
            match a.validate() {
                Ok(v) => *a = v,
                Err(x) => {
                    e.0.extend(x.0.into_iter().map(|v| v.under(&format!("actions[{i}]"))))
                }
            }
        }
        if e.is_empty() {
            Ok(r)
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_checked_field_by_field() {
        let r = RuleInput {
            name: " ".into(),
            trigger: Trigger::SpendReached { amount_minor: 0 },
            segment_id: Some(0),
            actions: vec![
                Action::Task {
                    title: "".into(),
                    due_days: 400,
                },
                Action::AddTag { tag: "ok".into() },
            ],
            active: true,
        };
        let e = r.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "trigger.amount_minor",
                "segment_id",
                "actions[0].title",
                "actions[0].due_days"
            ]
        );
        let ok = RuleInput {
            name: " 大客户礼遇 ".into(),
            trigger: Trigger::SpendReached {
                amount_minor: 1_000_000,
            },
            segment_id: None,
            actions: vec![Action::AwardPoints {
                points: 500,
                expiry_months: 12,
            }],
            active: true,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "大客户礼遇");
    }

    #[test]
    fn rules_read_and_write_as_tagged_json() {
        let r: RuleInput = serde_json::from_value(serde_json::json!({
            "name": "流失预警",
            "trigger": {"kind": "churn_risk", "percent": 70},
            "actions": [{"kind": "task", "title": "回访", "due_days": 2},
                        {"kind": "add_tag", "tag": "流失风险"}],
            "active": true
        }))
        .unwrap();
        assert_eq!(r.trigger, Trigger::ChurnRisk { percent: 70 });
        assert_eq!(r.trigger.class(), TriggerClass::Set);
        assert!(r.validate().is_ok());
    }
}
