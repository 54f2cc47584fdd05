//! The lifecycle stage rule: once a customer has bought, the stage follows the purchases, so
//! "active" never sits beside an activity of "lost". Applied at every score refresh.
//!
//! * No orders: the stage is kept as set (a prospect stays a prospect; there are no purchases
//!   to contradict a hand-set stage).
//! * Orders, and the activity (from the customer's own rhythm) is active or potential: **new**
//!   when the one and only order is at most [`NEW_WITHIN_DAYS`] old, else **active**.
//! * Activity dormant: **dormant**. Activity lost: **lost**.
//!
//! A stage set by hand on a customer with orders is therefore replaced at the next refresh;
//! the rule is shown on the 360 page beside the stage.

use crate::vocabulary::LifecycleStage;

/// A first and only purchase at most this many days ago makes a customer "new".
pub const NEW_WITHIN_DAYS: i64 = 90;

/// The stage each activity code leads to (before the "new" test).
pub const STAGE_OF_ACTIVITY: [(&str, LifecycleStage); 4] = [
    ("active", LifecycleStage::Active),
    ("potential", LifecycleStage::Active),
    ("dormant", LifecycleStage::Dormant),
    ("lost", LifecycleStage::Lost),
];

/// The stage of a customer with orders: `frequency` orders, the last `recency_days` ago, and
/// the activity code of the score refresh. `None` for an activity code it does not know.
pub fn stage_from_purchases(
    frequency: i64,
    recency_days: i64,
    activity: &str,
) -> Option<LifecycleStage> {
    let (_, stage) = STAGE_OF_ACTIVITY.iter().find(|(a, _)| *a == activity)?;
    Some(
        if *stage == LifecycleStage::Active && frequency == 1 && recency_days <= NEW_WITHIN_DAYS {
            LifecycleStage::New
        } else {
            *stage
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_follows_the_purchases() {
        use LifecycleStage::*;
        assert_eq!(stage_from_purchases(1, 10, "active"), Some(New));
        assert_eq!(stage_from_purchases(1, 91, "potential"), Some(Active));
        assert_eq!(stage_from_purchases(5, 10, "active"), Some(Active));
        assert_eq!(stage_from_purchases(5, 10, "potential"), Some(Active));
        assert_eq!(stage_from_purchases(1, 30, "dormant"), Some(Dormant));
        assert_eq!(stage_from_purchases(9, 400, "lost"), Some(Lost));
        assert_eq!(stage_from_purchases(9, 400, "asleep"), None);
    }
}
