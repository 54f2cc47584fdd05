//! A membership programme (会员计划): its tiers (普通/银卡/金卡/钻石) with the thresholds that
//! move a member up and keep them there over a rolling window, and how many points an order
//! earns — a base rate per yuan, times the member's tier rate, the product category's rate and
//! any promotion running on the order's day. One programme is active at a time; the store keeps
//! the checked programme as one JSON document so a change of tiers is one versioned write.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::points::accrual_points;
use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Most tiers a programme may have.
pub const MAX_TIERS: usize = 8;
/// Most category rates and promotions, each.
pub const MAX_RATES: usize = 20;
/// Highest rate in percent (×10).
pub const MAX_PERCENT: i64 = 1000;
/// Longest a lot may live, in months.
pub const MAX_EXPIRY_MONTHS: i64 = 60;
/// Most points per yuan the base rate may give.
pub const MAX_PER_YUAN: i64 = 100;

/// What moves a member between tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    /// Money spent (minor units) in the window.
    Spend,
    /// Points earned in the window (redeeming does not lower it).
    Points,
}

impl TierBasis {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            TierBasis::Spend => "spend",
            TierBasis::Points => "points",
        }
    }
}

/// One tier as the manager enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Stable code (`silver`), kept on each member: lowercase letters, digits, `_`.
    pub code: String,
    /// The name members see (`银卡`).
    pub name: String,
    /// What the window's spend (fen) or points must reach to be moved up to this tier.
    #[schema(minimum = 0)]
    pub qualify: i64,
    /// What keeps a member in this tier once in it (at most `qualify`): a member who falls
    /// below `qualify` but stays above `keep` is not downgraded.
    #[schema(minimum = 0)]
    pub keep: i64,
    /// Earning rate of this tier in percent of the base (100 = ×1, 150 = ×1.5).
    #[schema(minimum = 0, maximum = 1000)]
    pub accrual_percent: i64,
}

/// Points for one product category at a rate other than ×1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRate {
    /// The product category, as on the products.
    pub category: String,
    /// Percent of the base (0 = earns nothing, 200 = double).
    #[schema(minimum = 0, maximum = 1000)]
    pub percent: i64,
}

/// A promotion: orders on the days `from..=to` (in the business's time zone) earn `percent`
/// of the usual points, on every product or one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// What it is called (`双十一双倍积分`).
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Percent of the usual points (200 = double).
    #[schema(minimum = 0, maximum = 1000)]
    pub percent: i64,
    /// Only this product category; every product when absent.
    #[serde(default)]
    pub category: Option<String>,
}

/// A programme as its manager enters it (and as the store keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramInput {
    /// Name, unique among programmes.
    pub name: String,
    /// What the tiers are measured on.
    pub basis: TierBasis,
    /// The rolling window of the tier measure, in days: 90, 180 or 365.
    pub window_days: i64,
    /// Base points per yuan spent.
    #[schema(minimum = 0, maximum = 100)]
    pub points_per_yuan: i64,
    /// Months after which an order's points expire unspent; 0 never.
    #[schema(minimum = 0, maximum = 60)]
    pub expiry_months: i64,
    /// Orders from this day on earn points.
    pub starts_on: NaiveDate,
    /// The active programme earns points and moves tiers; switching one on pauses the other.
    #[serde(default)]
    pub active: bool,
    /// The tiers, lowest first; the first is where every member starts (qualify 0).
    pub tiers: Vec<Tier>,
    /// Category rates.
    #[serde(default)]
    pub category_rates: Vec<CategoryRate>,
    /// Promotions.
    #[serde(default)]
    pub promotions: Vec<Promotion>,
}

/// The windows the store keeps each customer's spend for (see `segment::PurchaseWindow`).
pub const WINDOWS: [i64; 3] = [90, 180, 365];

fn code_ok(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= 20
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

impl ProgramInput {
    /// Checks every field and returns the programme trimmed; the name's uniqueness is the
    /// store's to check.
    pub fn validate(&self) -> Result<ProgramInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut p = self.clone();
        p.name = p.name.trim().to_string();
        if p.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&p.name), 60);
        if !WINDOWS.contains(&p.window_days) {
            e.push("window_days", "out_of_range");
        }
        if !(0..=MAX_PER_YUAN).contains(&p.points_per_yuan) {
            e.push("points_per_yuan", "out_of_range");
        }
        if !(0..=MAX_EXPIRY_MONTHS).contains(&p.expiry_months) {
            e.push("expiry_months", "out_of_range");
        }
        if p.tiers.is_empty() {
            e.push("tiers", "required");
        }
        if p.tiers.len() > MAX_TIERS {
            e.push("tiers", "too_many");
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, t) in p.tiers.iter_mut().enumerate() {
            let f = |name: &str| format!("tiers[{i}].{name}");
            t.code = t.code.trim().to_string();
            t.name = t.name.trim().to_string();
            if !code_ok(&t.code) {
                e.push(f("code"), "invalid_characters");
            } else if seen.contains(&t.code) {
                e.push(f("code"), "duplicate");
            }
            seen.push(t.code.clone());
            if t.name.is_empty() {
                e.push(f("name"), "required");
            }
            check_text(&mut e, &f("name"), Some(&t.name), 30);
            if t.qualify < 0 || (i == 0 && t.qualify != 0) {
                e.push(f("qualify"), "out_of_range");
            }
            if t.keep < 0 || t.keep > t.qualify {
                e.push(f("keep"), "out_of_range");
            }
            if !(0..=MAX_PERCENT).contains(&t.accrual_percent) {
                e.push(f("accrual_percent"), "out_of_range");
            }
        }
        for i in 1..p.tiers.len() {
            if p.tiers[i].qualify <= p.tiers[i - 1].qualify {
                e.push(format!("tiers[{i}].qualify"), "not_ascending");
            }
        }
        if p.category_rates.len() > MAX_RATES {
            e.push("category_rates", "too_many");
        }
        for (i, r) in p.category_rates.iter_mut().enumerate() {
            r.category = r.category.trim().to_string();
            if r.category.is_empty() {
                e.push(format!("category_rates[{i}].category"), "required");
            }
            check_text(
                &mut e,
                &format!("category_rates[{i}].category"),
                Some(&r.category),
                60,
            );
            if !(0..=MAX_PERCENT).contains(&r.percent) {
                e.push(format!("category_rates[{i}].percent"), "out_of_range");
            }
        }
        if p.promotions.len() > MAX_RATES {
            e.push("promotions", "too_many");
        }
        for (i, m) in p.promotions.iter_mut().enumerate() {
            let f = |name: &str| format!("promotions[{i}].{name}");
            m.name = m.name.trim().to_string();
            if m.name.is_empty() {
                e.push(f("name"), "required");
            }
            check_text(&mut e, &f("name"), Some(&m.name), 60);
            if m.to < m.from {
                e.push(f("to"), "before_start");
            }
            if !(0..=MAX_PERCENT).contains(&m.percent) {
                e.push(f("percent"), "out_of_range");
            }
            m.category = m
                .category
                .take()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty());
        }
        if e.is_empty() {
            Ok(p)
        } else {
            Err(e)
        }
    }

    /// The tier with this code.
    pub fn tier(&self, code: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.code == code)
    }

    /// The tier a member belongs in with `metric` over the window, coming from `current`:
    /// the highest tier whose `qualify` the metric reaches, unless the member's own tier (or a
    /// tier between) still holds by its `keep` — so a member just below the line is not
    /// bounced down and up again.
    pub fn tier_for(&self, current: Option<&str>, metric: i64) -> Option<&Tier> {
        let reached = self.tiers.iter().rposition(|t| metric >= t.qualify)?;
        let kept = current
            .and_then(|c| self.tiers.iter().position(|t| t.code == c))
            .and_then(|cur| (0..=cur).rev().find(|&i| metric >= self.tiers[i].keep));
        self.tiers.get(kept.map_or(reached, |k| k.max(reached)))
    }

    /// Percent of the base rate a line of `category` earns on `day` for a member of `tier`:
    /// tier × category × every promotion covering the day (each in percent).
    pub fn line_percent(&self, tier: Option<&str>, category: Option<&str>, day: NaiveDate) -> i64 {
        let mut pct: i128 = i128::from(
            tier.and_then(|c| self.tier(c))
                .or(self.tiers.first())
                .map_or(100, |t| t.accrual_percent),
        );
        if let Some(r) = category.and_then(|c| self.category_rates.iter().find(|r| r.category == c))
        {
            pct = pct * i128::from(r.percent) / 100;
        }
        for m in &self.promotions {
            let applies = m.from <= day
                && day <= m.to
                && m.category.as_deref().is_none_or(|c| Some(c) == category);
            if applies {
                pct = pct * i128::from(m.percent) / 100;
            }
        }
        i64::try_from(pct).unwrap_or(i64::MAX)
    }

    /// Points an order earns: each line (category, amount in fen) at its percent, rounded down
    /// once over the whole order; an order without lines earns on its total.
    pub fn order_points(
        &self,
        tier: Option<&str>,
        lines: &[(Option<String>, i64)],
        total_minor: i64,
        day: NaiveDate,
    ) -> i64 {
        if lines.is_empty() {
            return accrual_points(
                total_minor,
                self.points_per_yuan,
                self.line_percent(tier, None, day),
            );
        }
        // Sum fen × percent first, so many small lines are not each rounded down to nothing.
        let weighted: i128 = lines
            .iter()
            .map(|(c, a)| {
                i128::from((*a).max(0)) * i128::from(self.line_percent(tier, c.as_deref(), day))
            })
            .sum();
        let p = weighted * i128::from(self.points_per_yuan.max(0)) / (100 * 100);
        i64::try_from(p).unwrap_or(i64::MAX)
    }

    /// When points earned at `at` expire; `None` when they never do.
    pub fn expiry(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.expiry_months == 0 {
            return None;
        }
        u32::try_from(self.expiry_months)
            .ok()
            .and_then(|m| at.checked_add_months(Months::new(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(code: &str, qualify: i64, keep: i64, pct: i64) -> Tier {
        Tier {
            code: code.into(),
            name: code.to_uppercase(),
            qualify,
            keep,
            accrual_percent: pct,
        }
    }

    pub(crate) fn program() -> ProgramInput {
        ProgramInput {
            name: "会员".into(),
            basis: TierBasis::Spend,
            window_days: 365,
            points_per_yuan: 1,
            expiry_months: 12,
            starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            active: true,
            tiers: vec![
                tier("basic", 0, 0, 100),
                tier("silver", 100_000, 80_000, 120),
                tier("gold", 500_000, 400_000, 150),
                tier("diamond", 2_000_000, 1_500_000, 200),
            ],
            category_rates: vec![CategoryRate {
                category: "tea".into(),
                percent: 200,
            }],
            promotions: vec![Promotion {
                name: "双十一".into(),
                from: NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
                percent: 300,
                category: None,
            }],
        }
    }

    #[test]
    fn members_move_up_on_qualify_and_down_below_keep() {
        let p = program();
        let code = |cur: Option<&str>, m: i64| p.tier_for(cur, m).map(|t| t.code.clone());
        assert_eq!(code(None, 0).as_deref(), Some("basic"));
        assert_eq!(code(None, 500_000).as_deref(), Some("gold"));
        assert_eq!(code(Some("basic"), 499_999).as_deref(), Some("silver"));
        // Gold at 450,000 (under gold's qualify, over its keep) stays gold.
        assert_eq!(code(Some("gold"), 450_000).as_deref(), Some("gold"));
        // Gold at 390,000 keeps silver, not basic.
        assert_eq!(code(Some("gold"), 390_000).as_deref(), Some("silver"));
        assert_eq!(code(Some("gold"), 10).as_deref(), Some("basic"));
        // An unknown current tier (a programme changed) is placed afresh.
        assert_eq!(code(Some("platinum"), 100_000).as_deref(), Some("silver"));
        assert_eq!(code(Some("diamond"), 2_100_000).as_deref(), Some("diamond"));
    }

    #[test]
    fn an_order_earns_by_tier_category_and_promotion() {
        let p = program();
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let lines = vec![(Some("tea".to_string()), 10_050), (None, 5_000)];
        // basic: 100.50 × 2 + 50 = 251; gold: ×1.5 = 376.5 → 376.
        assert_eq!(p.order_points(Some("basic"), &lines, 15_050, day), 251);
        assert_eq!(p.order_points(Some("gold"), &lines, 15_050, day), 376);
        let promo = NaiveDate::from_ymd_opt(2026, 11, 11).unwrap();
        assert_eq!(p.order_points(None, &lines, 15_050, promo), 753);
        assert_eq!(p.order_points(None, &[], 15_050, day), 150);
        let at = DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            p.expiry(at).unwrap().to_rfc3339(),
            "2027-01-31T10:00:00+00:00"
        );
    }

    #[test]
    fn a_programme_is_checked_field_by_field() {
        let mut p = program();
        p.window_days = 30;
        p.tiers[0].qualify = 5;
        p.tiers[1].keep = 200_000;
        p.tiers[2].code = "silver".into();
        p.tiers[3].qualify = 10;
        p.promotions[0].to = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let e = p.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "window_days",
                "tiers[0].qualify",
                "tiers[1].keep",
                "tiers[2].code",
                "tiers[3].keep",
                "tiers[3].qualify",
                "promotions[0].to"
            ]
        );
        assert!(program().validate().is_ok());
    }
}
