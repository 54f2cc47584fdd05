//! The contact policy of a channel (避免过度营销): how many marketing messages a customer gets
//! in how many days across every campaign, the quiet hours no message is sent in, the pause
//! after a complaint, and when a failing address or campaign stops. A customer over the cap
//! is not dropped: their message waits for the next allowed slot.

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Milliseconds in a minute.
const MINUTE_MS: i64 = 60_000;

/// One channel's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPolicy {
    /// At most this many marketing messages …
    #[schema(minimum = 1, maximum = 100)]
    pub cap_count: i64,
    /// … in this many days (a rolling window).
    #[schema(minimum = 1, maximum = 365)]
    pub cap_days: i64,
    /// Quiet hours start, minutes after local midnight (21:00 = 1260).
    #[schema(minimum = 0, maximum = 1439)]
    pub quiet_start: i64,
    /// Quiet hours end, minutes after local midnight; equal to the start: no quiet hours.
    #[schema(minimum = 0, maximum = 1439)]
    pub quiet_end: i64,
    /// No marketing for this many days after a customer's complaint (0: no pause).
    #[schema(minimum = 0, maximum = 365)]
    pub complaint_pause_days: i64,
    /// Soft bounces before an address is blocked.
    #[schema(minimum = 1, maximum = 20)]
    pub soft_bounce_limit: i64,
    /// Failed sends in a row after which a campaign pauses itself.
    #[schema(minimum = 1, maximum = 100000)]
    pub max_errors: i64,
    /// Messages a second at most (the provider's rate limit).
    #[schema(minimum = 1, maximum = 10000)]
    pub per_second: i64,
}

impl ContactPolicy {
    /// Checks every field.
    pub fn validate(&self) -> Result<ContactPolicy, ValidationErrors> {
        let mut e = ValidationErrors::new();
        for (field, v, lo, hi) in [
            ("cap_count", self.cap_count, 1, 100),
            ("cap_days", self.cap_days, 1, 365),
            ("quiet_start", self.quiet_start, 0, 1439),
            ("quiet_end", self.quiet_end, 0, 1439),
            ("complaint_pause_days", self.complaint_pause_days, 0, 365),
            ("soft_bounce_limit", self.soft_bounce_limit, 1, 20),
            ("max_errors", self.max_errors, 1, 100_000),
            ("per_second", self.per_second, 1, 10_000),
        ] {
            if !(lo..=hi).contains(&v) {
                e.push(field, "out_of_range");
            }
        }
        e.finish(|| *self)
    }

    /// Checks a customer's own cap (`cap_count` messages in `cap_days` days): the same ranges
    /// as a channel's, so a customer's cap can only be read as "fewer", never "none" (that is
    /// an unsubscribe).
    pub fn check_customer_cap(count: i64, days: i64) -> Result<(i64, i64), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !(1..=100).contains(&count) {
            e.push("cap_count", "out_of_range");
        }
        if !(1..=365).contains(&days) {
            e.push("cap_days", "out_of_range");
        }
        e.finish(|| (count, days))
    }

    /// When a customer who was sent marketing messages at `sent` (ms, any order) may get the
    /// next one under a cap of `cap_count` in `cap_days`: `now` if allowed now, else the moment
    /// the oldest message that keeps them at the cap leaves the window.
    pub fn next_slot(cap_count: i64, cap_days: i64, sent: &[i64], now: i64) -> i64 {
        let window = cap_days * DAY_MS;
        let mut recent: Vec<i64> = sent.iter().copied().filter(|t| *t > now - window).collect();
        if (recent.len() as i64) < cap_count {
            return now;
        }
        recent.sort_unstable();
        // With n in the window and room for c, the (n − c + 1)-th oldest must leave it.
        let k = recent.len() - cap_count as usize;
        recent[k] + window
    }

    /// Whether `now` (ms, UTC) is inside the quiet hours at `utc_offset_minutes`; if so, the
    /// moment they end.
    pub fn quiet_until(&self, now: i64, utc_offset_minutes: i64) -> Option<i64> {
        if self.quiet_start == self.quiet_end {
            return None;
        }
        let local = now + utc_offset_minutes * MINUTE_MS;
        let minute = local.rem_euclid(DAY_MS) / MINUTE_MS;
        let day_start = local - local.rem_euclid(DAY_MS);
        let (s, e) = (self.quiet_start, self.quiet_end);
        let end_local = if s < e {
            // Quiet within one day (e.g. 12:00–14:00).
            (minute >= s && minute < e).then(|| day_start + e * MINUTE_MS)
        } else if minute >= s {
            // Over midnight (21:00–08:00), evening part: ends tomorrow.
            Some(day_start + DAY_MS + e * MINUTE_MS)
        } else if minute < e {
            // Morning part: ends today.
            Some(day_start + e * MINUTE_MS)
        } else {
            None
        };
        end_local.map(|t| t - utc_offset_minutes * MINUTE_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn sms() -> ContactPolicy {
        ContactPolicy {
            cap_count: 2,
            cap_days: 7,
            quiet_start: 21 * 60,
            quiet_end: 8 * 60,
            complaint_pause_days: 30,
            soft_bounce_limit: 3,
            max_errors: 100,
            per_second: 50,
        }
    }

    #[test]
    fn the_cap_waits_for_the_oldest_message_to_leave_the_window() {
        let now = 100 * DAY_MS;
        assert_eq!(ContactPolicy::next_slot(2, 7, &[], now), now);
        assert_eq!(ContactPolicy::next_slot(2, 7, &[now - DAY_MS], now), now);
        // Two in the week: the older (5 days ago) leaves it in 2 days.
        assert_eq!(
            ContactPolicy::next_slot(2, 7, &[now - DAY_MS, now - 5 * DAY_MS], now),
            now + 2 * DAY_MS
        );
        // Three in the week (a cap lowered later): two must leave.
        assert_eq!(
            ContactPolicy::next_slot(
                2,
                7,
                &[now - 6 * DAY_MS, now - DAY_MS, now - 3 * DAY_MS],
                now
            ),
            now + 4 * DAY_MS
        );
        // One eight days ago does not count.
        assert_eq!(
            ContactPolicy::next_slot(1, 7, &[now - 8 * DAY_MS], now),
            now
        );
    }

    #[test]
    fn quiet_hours_over_midnight_in_china() {
        let p = sms();
        let beijing = 8 * 60;
        // 2026-09-25 00:00 UTC = 08:00 in Beijing: allowed.
        let day = 20_721 * DAY_MS;
        assert_eq!(p.quiet_until(day, beijing), None);
        // 13:30 UTC = 21:30 Beijing: quiet until 08:00 next day = 00:00 UTC next day.
        assert_eq!(
            p.quiet_until(day + 13 * H + H / 2, beijing),
            Some(day + 24 * H)
        );
        // 23:00 UTC = 07:00 Beijing next day: quiet until 08:00 = 00:00 UTC.
        assert_eq!(p.quiet_until(day + 23 * H, beijing), Some(day + 24 * H));
        // Same start and end: none.
        let none = ContactPolicy {
            quiet_end: 1260,
            ..p
        };
        assert_eq!(none.quiet_until(day + 13 * H + H / 2, beijing), None);
        // Within a day: 12:00–14:00 local.
        let lunch = ContactPolicy {
            quiet_start: 720,
            quiet_end: 840,
            ..p
        };
        assert_eq!(
            lunch.quiet_until(day + 4 * H + H / 2, beijing),
            Some(day + 6 * H)
        );
    }
}
