//! Key accounts (大客户): the few customers a shop cannot afford to lose, each with a named
//! relationship manager (关系代理人) and a deputy, a plan (goals, the people on their side and
//! how they stand, risks, actions with dates) and a visit cadence. A customer becomes one by
//! hand or by the shop's rule — ABC class A, or the top few percent by lifetime value — which
//! the store applies on request. IO-free: what is valid, and what the rule picks.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::customer::trimmed;
use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary;

/// Shortest and longest visit cadence, in days.
pub const CADENCE_DAYS: std::ops::RangeInclusive<i64> = 7..=365;
/// Most people on a plan's contact map, and most actions.
pub const MAX_PLAN_ROWS: usize = 30;

vocabulary!(
    /// How someone on the customer's side stands towards us.
    Attitude {
        Supporter => "supporter",
        Neutral => "neutral",
        Opponent => "opponent",
        Unknown => "unknown",
    }
);

vocabulary!(
    /// Which customers the shop's rule makes key accounts.
    KeyAccountRule {
        /// Only those flagged by hand.
        None => "none",
        /// ABC class A (the customers behind the first 80 % of revenue).
        AbcA => "abc_a",
        /// The top percent by predicted lifetime value (CLV).
        ClvTop => "clv_top",
    }
);

/// Making a customer a key account, or changing who looks after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAccountInput {
    /// The relationship manager (关系代理人); the customer's owner when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub manager_id: Option<i64>,
    /// The deputy who stands in.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub deputy_id: Option<i64>,
    /// Visit at least every this many days (7–365; default 30).
    #[serde(default = "default_cadence")]
    #[schema(minimum = 7, maximum = 365)]
    pub cadence_days: i64,
    /// What the customer spends a year on what we sell, everywhere (minor units): the share
    /// of wallet is our revenue over it.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub wallet_minor: Option<i64>,
    /// The version last read (required to change an existing one).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

fn default_cadence() -> i64 {
    30
}

/// One person on the customer's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanContact {
    /// Their name.
    pub name: String,
    /// Their part in buying (决策人, 使用者, 财务 …).
    #[serde(default)]
    pub role: Option<String>,
    /// How they stand.
    pub attitude: Attitude,
    /// Their own record in the customer file, if they have one.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub customer_id: Option<i64>,
}

/// One action of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanAction {
    /// What is to be done.
    pub what: String,
    /// By when.
    #[serde(default)]
    pub due: Option<NaiveDate>,
    /// Done.
    #[serde(default)]
    pub done: bool,
}

/// An account plan, saved whole at the version last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// What we want with this customer this year.
    #[serde(default)]
    pub goals: Option<String>,
    /// What could lose them.
    #[serde(default)]
    pub risks: Option<String>,
    /// The people on their side.
    #[serde(default)]
    pub contacts: Vec<PlanContact>,
    /// What we will do, by when.
    #[serde(default)]
    pub actions: Vec<PlanAction>,
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// The shop's key-account rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Which customers.
    pub rule: KeyAccountRule,
    /// For `clv_top`: the top this many percent (1–50).
    #[serde(default = "default_percent")]
    #[schema(minimum = 1, maximum = 50)]
    pub clv_top_percent: i64,
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

fn default_percent() -> i64 {
    5
}

impl KeyAccountInput {
    /// Checks the cadence, the wallet and the references.
    pub fn validate(&self) -> Result<KeyAccountInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !CADENCE_DAYS.contains(&self.cadence_days) {
            e.push("cadence_days", "out_of_range");
        }
        if self.wallet_minor.is_some_and(|w| w < 0) {
            e.push("wallet_minor", "out_of_range");
        }
        for (field, id) in [
            ("manager_id", self.manager_id),
            ("deputy_id", self.deputy_id),
            ("version", self.version),
        ] {
            if id.is_some_and(|i| i < 1) {
                e.push(field, "invalid_reference");
            }
        }
        if self.deputy_id.is_some() && self.deputy_id == self.manager_id {
            e.push("deputy_id", "same_as_manager");
        }
        if e.is_empty() {
            Ok(self.clone())
        } else {
            Err(e)
        }
    }
}

impl PlanInput {
    /// Checks and trims the plan: texts within their lengths, every person named, every
    /// action said.
    pub fn validate(&self) -> Result<PlanInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut p = self.clone();
        p.goals = trimmed(&p.goals);
        p.risks = trimmed(&p.risks);
        check_text(&mut e, "goals", p.goals.as_deref(), 2000);
        check_text(&mut e, "risks", p.risks.as_deref(), 2000);
        if p.contacts.len() > MAX_PLAN_ROWS {
            e.push("contacts", "too_many");
        }
        if p.actions.len() > MAX_PLAN_ROWS {
            e.push("actions", "too_many");
        }
        for (i, c) in p.contacts.iter_mut().enumerate() {
            c.name = c.name.trim().to_string();
            if c.name.is_empty() {
                e.push(format!("contacts[{i}].name"), "required");
            }
            check_text(&mut e, &format!("contacts[{i}].name"), Some(&c.name), 60);
            c.role = trimmed(&c.role);
            check_text(
                &mut e,
                &format!("contacts[{i}].role"),
                c.role.as_deref(),
                60,
            );
        }
        for (i, a) in p.actions.iter_mut().enumerate() {
            a.what = a.what.trim().to_string();
            if a.what.is_empty() {
                e.push(format!("actions[{i}].what"), "required");
            }
            check_text(&mut e, &format!("actions[{i}].what"), Some(&a.what), 200);
        }
        if p.version < 1 {
            e.push("version", "out_of_range");
        }
        if e.is_empty() {
            Ok(p)
        } else {
            Err(e)
        }
    }
}

impl RuleInput {
    /// Checks the percent.
    pub fn validate(&self) -> Result<RuleInput, ValidationErrors> {
        if (1..=50).contains(&self.clv_top_percent) {
            Ok(self.clone())
        } else {
            Err(ValidationErrors::single("clv_top_percent", "out_of_range"))
        }
    }
}

/// How many customers the top `percent` of `scored` customers is: rounded up, so a small
/// book still has one.
pub fn top_count(scored: i64, percent: i64) -> i64 {
    if scored <= 0 {
        return 0;
    }
    (scored * percent.clamp(0, 100) + 99) / 100
}

/// Our share of what the customer spends: revenue ÷ wallet, when a wallet was entered.
pub fn share_of_wallet(revenue_minor: i64, wallet_minor: Option<i64>) -> Option<f64> {
    wallet_minor
        .filter(|w| *w > 0)
        .map(|w| revenue_minor as f64 / w as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_percent_rounds_up() {
        assert_eq!(top_count(0, 5), 0);
        assert_eq!(top_count(10, 5), 1);
        assert_eq!(top_count(1000, 5), 50);
        assert_eq!(top_count(1001, 5), 51);
    }

    #[test]
    fn share_of_wallet_needs_a_wallet() {
        assert_eq!(share_of_wallet(50, None), None);
        assert_eq!(share_of_wallet(50, Some(0)), None);
        assert_eq!(share_of_wallet(50, Some(200)), Some(0.25));
    }

    #[test]
    fn a_plan_names_its_people_and_actions() {
        let p: PlanInput = serde_json::from_value(serde_json::json!({
            "goals": " 年采购额翻倍 ", "version": 1,
            "contacts": [{"name": " ", "attitude": "supporter"}],
            "actions": [{"what": "季度拜访", "due": "2027-01-15"}]
        }))
        .unwrap();
        let e = p.validate().unwrap_err();
        assert_eq!(e.0[0].field, "contacts[0].name");
        let k = KeyAccountInput {
            manager_id: Some(3),
            deputy_id: Some(3),
            cadence_days: 3,
            wallet_minor: None,
            version: None,
        };
        let fields: Vec<String> = k
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|x| x.field)
            .collect();
        assert_eq!(fields, ["cadence_days", "deputy_id"]);
    }
}
