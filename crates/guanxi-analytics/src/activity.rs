//! Activity status from each customer's own rhythm: a customer who buys every week is worrying
//! after a month of silence; one who buys twice a year is not. The gap since the last purchase
//! is compared with the customer's typical inter-purchase interval (median gap), falling back to
//! the population's median interval for one-time buyers. Also flags "orders falling": markedly
//! fewer orders in the recent period than in the one before.

use serde::Serialize;

use crate::error::AnalyticsError;
use crate::summary::{median, median_gap, History, Transactions};

/// Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Activity {
    /// Buying at their usual rhythm.
    Active,
    /// Overdue: quieter than usual, still reachable (潜在流失).
    Potential,
    /// Silent for several of their usual intervals (沉睡).
    Dormant,
    /// Silent far beyond their rhythm or beyond the hard limit (流失).
    Lost,
}

impl Activity {
    /// The stored code ("active", "potential", "dormant", "lost").
    pub fn code(self) -> &'static str {
        match self {
            Activity::Active => "active",
            Activity::Potential => "potential",
            Activity::Dormant => "dormant",
            Activity::Lost => "lost",
        }
    }
}

/// Thresholds in multiples of the customer's typical interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActivityRules {
    /// Up to this many intervals of silence: active.
    pub active_within: f64,
    /// Up to this many: potential (overdue).
    pub potential_within: f64,
    /// Up to this many: dormant; beyond: lost.
    pub dormant_within: f64,
    /// Silence longer than this many days is lost regardless of rhythm.
    pub lost_after_days: i32,
    /// Length of the two periods compared for "orders falling".
    pub trend_period_days: i32,
}

impl Default for ActivityRules {
    fn default() -> Self {
        Self {
            active_within: 1.5,
            potential_within: 3.0,
            dormant_within: 6.0,
            lost_after_days: 365,
            trend_period_days: 180,
        }
    }
}

/// One customer's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityStatus {
    /// Customer.
    pub customer: i64,
    /// Days since the last purchase.
    pub days_since_last: i32,
    /// Typical interval used (days).
    pub typical_interval: f64,
    /// Whether it is the customer's own (false: population median for one-time buyers).
    pub own_interval: bool,
    /// Silence in multiples of the typical interval.
    pub overdue_ratio: f64,
    /// Status.
    pub status: Activity,
    /// Orders in the recent period.
    pub recent_orders: u32,
    /// Orders in the period before.
    pub previous_orders: u32,
    /// Recent orders below half of the previous period's (with at least 3 before).
    pub orders_falling: bool,
}

/// Classifies every customer with purchases up to `as_of`.
pub fn activity(
    tx: &Transactions,
    as_of: i32,
    rules: ActivityRules,
) -> Result<Vec<ActivityStatus>, AnalyticsError> {
    tx.validate()?;
    activity_of(&History::new(tx), as_of, rules)
}

/// [`activity`] over a book already grouped by customer.
pub fn activity_of(
    history: &History,
    as_of: i32,
    rules: ActivityRules,
) -> Result<Vec<ActivityStatus>, AnalyticsError> {
    if !(rules.active_within > 0.0
        && rules.active_within < rules.potential_within
        && rules.potential_within < rules.dormant_within)
    {
        return Err(AnalyticsError::Parameter(
            "0 < active_within < potential_within < dormant_within",
        ));
    }
    // Order counts per period use every order row, not distinct days.
    let recent_from = as_of - rules.trend_period_days + 1;
    let previous_from = recent_from - rules.trend_period_days;
    // Per customer with a purchase up to as_of: (index, last day, own median gap, counts).
    let mut rows: Vec<(usize, i32, Option<f64>, u32, u32)> = Vec::new();
    let (mut days, mut scratch) = (Vec::new(), Vec::new());
    for k in 0..history.customers.len() {
        history.purchase_days_into(k, Some(as_of), &mut days);
        let Some(&last) = days.last() else {
            continue;
        };
        let (mut recent, mut previous) = (0, 0);
        for &(d, _) in history.orders(k) {
            if d > as_of {
                break;
            }
            if d >= recent_from {
                recent += 1;
            } else if d >= previous_from {
                previous += 1;
            }
        }
        rows.push((k, last, median_gap(&days, &mut scratch), recent, previous));
    }
    if rows.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    let all_gaps: Vec<f64> = rows.iter().filter_map(|r| r.2).collect();
    let population = median(&all_gaps)
        .unwrap_or(f64::from(rules.lost_after_days) / rules.dormant_within)
        .max(1.0);
    Ok(rows
        .into_iter()
        .map(|(k, last, own, recent, previous)| {
            let since = as_of - last;
            let typical = own.unwrap_or(population).max(1.0);
            let ratio = f64::from(since) / typical;
            let status = if since > rules.lost_after_days || ratio > rules.dormant_within {
                Activity::Lost
            } else if ratio > rules.potential_within {
                Activity::Dormant
            } else if ratio > rules.active_within {
                Activity::Potential
            } else {
                Activity::Active
            };
            ActivityStatus {
                customer: history.customers[k],
                days_since_last: since,
                typical_interval: typical,
                own_interval: own.is_some(),
                overdue_ratio: ratio,
                status,
                recent_orders: recent,
                previous_orders: previous,
                orders_falling: previous >= 3 && f64::from(recent) < 0.5 * f64::from(previous),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhythm_matters() {
        // Weekly buyer silent 30 days vs. half-yearly buyer silent 30 days.
        let mut tx = Transactions::default();
        for d in (0..100).step_by(7) {
            tx.customer.push(1);
            tx.day.push(d);
            tx.amount.push(10.0);
        }
        for d in [0, 180, 360] {
            tx.customer.push(2);
            tx.day.push(d - 300);
            tx.amount.push(10.0);
        }
        let as_of = 98 + 30;
        let s = activity(&tx, as_of, ActivityRules::default()).unwrap();
        // 30 days is 4.3 weekly intervals: dormant for the weekly buyer …
        assert_eq!(s[0].status, Activity::Dormant, "{:?}", s[0]);
        // … while 30 days is nothing for someone who buys every 180 days.
        assert_eq!(s[1].status, Activity::Active, "{:?}", s[1]);
    }
}
