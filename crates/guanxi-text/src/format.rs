//! How numbers, money and times look on pages. Times are shown in the shop's time zone (the
//! server's configured UTC offset), money from integer minor units without ever going through a
//! float, so a page and an export always agree to the fen.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// The shop's time zone from an offset in hours (clamped to a valid range).
pub fn zone(utc_offset_hours: i64) -> FixedOffset {
    FixedOffset::east_opt((utc_offset_hours.clamp(-14, 14) * 3600) as i32)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"))
}

/// `2024-02-01 04:00` in the shop's zone.
pub fn datetime(t: DateTime<Utc>, tz: FixedOffset) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// `2024-02-01` in the shop's zone.
pub fn date(t: DateTime<Utc>, tz: FixedOffset) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

/// Today in the shop's zone.
pub fn today(tz: FixedOffset) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// Groups thousands: 1234567 → "1,234,567".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Money from minor units: `¥1,234.50` for CNY, `1,234.50 USD` for others.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = thousands((abs / 100) as i64);
    let cents = abs % 100;
    match currency {
        "CNY" => format!("{sign}¥{major}.{cents:02}"),
        other => format!("{sign}{major}.{cents:02} {other}"),
    }
}

/// Money from minor units as plain decimal text, `1234.50` / `-0.05`: the domain's one
/// formatter (custom-field values are stored in it too).
pub use guanxi_domain::money::plain_money;

/// Money rounded to whole units, for dashboard tiles: `¥1,234,567`.
pub fn money_whole(minor: i64) -> String {
    format!("¥{}", thousands((minor + 50).div_euclid(100)))
}

/// A share as a percentage with one decimal.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(money(123450, "CNY"), "¥1,234.50");
        assert_eq!(money(-5, "USD"), "-0.05 USD");
        assert_eq!(money_whole(123_456_789), "¥1,234,568");
        assert_eq!(percent(0.8123), "81.2%");
        assert_eq!(plain_money(123_450), "1234.50");
        assert_eq!(plain_money(7), "0.07");
        assert_eq!(plain_money(-250), "-2.50");
    }

    #[test]
    fn times_in_the_shop_zone() {
        let t = DateTime::parse_from_rfc3339("2024-01-31T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(datetime(t, zone(8)), "2024-02-01 04:00");
        assert_eq!(date(t, zone(0)), "2024-01-31");
    }
}
