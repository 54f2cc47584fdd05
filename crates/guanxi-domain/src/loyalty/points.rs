//! The arithmetic of points: how many an order earns, which lots a debit takes, and how many a
//! partial refund reverses.

use chrono::{DateTime, Utc};

/// An open lot: what remains of an accrual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    /// The accrual entry.
    pub id: i64,
    /// Points left in it (positive).
    pub remaining: i64,
    /// When it expires; `None` never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Takes `points` from `lots`, soonest expiry first, never-expiring last, then oldest: the
/// (lot, points) taken and the shortfall when the lots hold less.
pub fn allocate(lots: &[Lot], points: i64) -> (Vec<(i64, i64)>, i64) {
    let mut order: Vec<&Lot> = lots.iter().filter(|l| l.remaining > 0).collect();
    order.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.id));
    let mut left = points.max(0);
    let mut taken = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        taken.push((lot.id, take));
        left -= take;
    }
    (taken, left)
}

/// Points an order of `amount_minor` (fen) earns at `per_yuan` points per yuan times
/// `multiplier_percent` (100 = ×1, 200 = double points): whole points, rounded down.
pub fn accrual_points(amount_minor: i64, per_yuan: i64, multiplier_percent: i64) -> i64 {
    let p = i128::from(amount_minor.max(0))
        * i128::from(per_yuan.max(0))
        * i128::from(multiplier_percent.max(0))
        / (100 * 100);
    i64::try_from(p).unwrap_or(i64::MAX)
}

/// Points to reverse for a refund, pro rata: with `earned` points on an order of
/// `total_minor`, of which `refunded_before` were refunded earlier (reversing
/// `reversed_before` points) and `refunded_now` now, the reversal brings the total reversed to
/// `earned × refunded / total` rounded down — so refunds in parts reverse exactly what one
/// refund of the whole would.
pub fn reversal_points(
    earned: i64,
    total_minor: i64,
    refunded_before: i64,
    reversed_before: i64,
    refunded_now: i64,
) -> i64 {
    if total_minor <= 0 {
        return 0;
    }
    let refunded = (refunded_before + refunded_now).clamp(0, total_minor);
    let target = i128::from(earned) * i128::from(refunded) / i128::from(total_minor);
    (i64::try_from(target).unwrap_or(earned) - reversed_before).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2027, 1, day, 0, 0, 0).unwrap())
    }

    #[test]
    fn debits_take_the_soonest_expiring_lot_first() {
        let lots = [
            Lot {
                id: 1,
                remaining: 50,
                expires_at: None,
            },
            Lot {
                id: 2,
                remaining: 30,
                expires_at: at(20),
            },
            Lot {
                id: 3,
                remaining: 40,
                expires_at: at(10),
            },
        ];
        assert_eq!(allocate(&lots, 60), (vec![(3, 40), (2, 20)], 0));
        assert_eq!(allocate(&lots, 130), (vec![(3, 40), (2, 30), (1, 50)], 10));
        assert_eq!(allocate(&[], 5), (vec![], 5));
    }

    #[test]
    fn partial_refunds_reverse_what_a_whole_refund_would() {
        // 10 points on ¥30.00 refunded in three ¥10.00 parts: 3, 3, then 4 — 10 in all.
        let mut reversed = 0;
        let mut refunded = 0;
        for _ in 0..3 {
            let r = reversal_points(10, 3000, refunded, reversed, 1000);
            reversed += r;
            refunded += 1000;
        }
        assert_eq!(reversed, 10);
        assert_eq!(reversal_points(10, 3000, 0, 0, 3000), 10);
        assert_eq!(
            reversal_points(10, 3000, 0, 0, 9999),
            10,
            "never more than earned"
        );
        assert_eq!(accrual_points(12_345, 1, 100), 123);
        assert_eq!(accrual_points(12_345, 2, 150), 370);
    }
}
