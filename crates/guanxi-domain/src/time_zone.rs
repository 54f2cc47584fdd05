//! A customer's own time zone (an IANA name such as `America/New_York`), for what must happen
//! at a decent hour where they are — quiet hours for marketing messages above all. Customers
//! without one live in the shop's time zone. The offset is taken at the moment asked, so
//! daylight-saving time is right on both sides of a change.

use chrono::{Offset, TimeZone};

/// Longest name kept (the longest IANA name is 32 characters).
pub const MAX_LEN: usize = 64;

/// Checks a time-zone name: a known IANA zone, returned in its canonical spelling.
pub fn check(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.len() > MAX_LEN {
        return Err("too_long");
    }
    name.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| "unknown_value")
}

/// Minutes east of UTC in `name` at `at_ms` (ms since the epoch); `None` for an unknown zone.
pub fn offset_minutes(name: &str, at_ms: i64) -> Option<i64> {
    let tz: chrono_tz::Tz = name.parse().ok()?;
    let at = chrono::DateTime::from_timestamp_millis(at_ms)?;
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    Some(i64::from(offset.local_minus_utc()) / 60)
}

/// Zones offered first in the form (most customers of a Chinese shop abroad live in these).
pub const COMMON: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kuala_Lumpur",
    "Asia/Bangkok",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Toronto",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
];

/// Every zone a form offers: the common ones first, then all others by name.
pub fn menu() -> Vec<&'static str> {
    let mut rest: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| !COMMON.contains(n))
        .collect();
    rest.sort_unstable();
    COMMON.iter().copied().chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn names_are_checked_and_offsets_follow_daylight_saving() {
        assert_eq!(check(" Asia/Shanghai "), Ok("Asia/Shanghai".into()));
        assert_eq!(check("Mars/Olympus"), Err("unknown_value"));
        assert_eq!(check(""), Err("unknown_value"));
        assert_eq!(
            offset_minutes("Asia/Shanghai", ms("2026-07-01T00:00:00Z")),
            Some(480)
        );
        // New York: EST (−5) in January, EDT (−4) in July.
        assert_eq!(
            offset_minutes("America/New_York", ms("2026-01-15T12:00:00Z")),
            Some(-300)
        );
        assert_eq!(
            offset_minutes("America/New_York", ms("2026-07-15T12:00:00Z")),
            Some(-240)
        );
        assert_eq!(
            offset_minutes("Asia/Kolkata", ms("2026-07-15T12:00:00Z")),
            Some(330)
        );
        assert_eq!(offset_minutes("nowhere", 0), None);
        for z in COMMON {
            assert_eq!(check(z).as_deref(), Ok(*z));
        }
    }
}
