//! Coupons (折价券): an offer (¥20 off, or 10 % off, over a minimum spend, valid between two
//! days, at most N per customer) and the coupons issued from it — each with its own single-use
//! code, or, for an offer with a shared code (`SPRING26`), created when a customer redeems it.
//! A coupon is redeemed against one order; the discount is worked out here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Letters and digits a code is made of: no 0/O, 1/I/L, so a code read out on the phone or
/// copied from paper is typed right.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of a generated code.
pub const CODE_LEN: usize = 10;

/// What a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CouponValue {
    /// A sum off, in fen (at most the order's total).
    Amount {
        /// Fen.
        #[schema(minimum = 1)]
        minor: i64,
    },
    /// A share off, in percent, rounded down to the fen.
    Percent {
        /// 1–100.
        #[schema(minimum = 1, maximum = 100)]
        percent: i64,
    },
}

impl CouponValue {
    /// The discount on an order of `total_minor`.
    pub fn discount(self, total_minor: i64) -> i64 {
        match self {
            CouponValue::Amount { minor } => minor.min(total_minor).max(0),
            CouponValue::Percent { percent } => {
                let d = i128::from(total_minor.max(0)) * i128::from(percent) / 100;
                i64::try_from(d).unwrap_or(0)
            }
        }
    }
}

/// An offer as its manager enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    /// Name, unique among offers (`生日券 ¥20`).
    pub name: String,
    /// What it takes off.
    pub value: CouponValue,
    /// The order total it needs, in fen (0: none).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_spend_minor: i64,
    /// First day it can be redeemed.
    pub valid_from: NaiveDate,
    /// Last day it can be redeemed.
    pub valid_to: NaiveDate,
    /// An issued coupon lapses this many days after issue (within the offer's days); none:
    /// at the offer's end.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub valid_days: Option<i64>,
    /// Most coupons of this offer one customer may hold or have used.
    #[schema(minimum = 1, maximum = 100)]
    pub per_customer_limit: i64,
    /// One code for everyone (letters and digits, 4–20), redeemed by any customer up to the
    /// limit; without it each coupon gets its own code when issued.
    #[serde(default)]
    pub shared_code: Option<String>,
    /// Coupons can be issued and redeemed.
    #[serde(default)]
    pub active: bool,
}

/// A code as typed: upper case, without spaces or dashes.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A code from random bytes (one letter per byte).
pub fn code_from(bytes: &[u8; CODE_LEN]) -> String {
    bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect()
}

impl OfferInput {
    /// Checks every field and returns the offer trimmed (the shared code normalised).
    pub fn validate(&self) -> Result<OfferInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut o = self.clone();
        o.name = o.name.trim().to_string();
        if o.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&o.name), 60);
        match o.value {
            CouponValue::Amount { minor } if !(1..=100_000_000).contains(&minor) => {
                e.push("value.minor", "out_of_range")
            }
            CouponValue::Percent { percent } if !(1..=100).contains(&percent) => {
                e.push("value.percent", "out_of_range")
            }
            _ => {}
        }
        if !(0..=100_000_000).contains(&o.min_spend_minor) {
            e.push("min_spend_minor", "out_of_range");
        }
        if o.valid_to < o.valid_from {
            e.push("valid_to", "before_start");
        }
        if o.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            e.push("valid_days", "out_of_range");
        }
        if !(1..=100).contains(&o.per_customer_limit) {
            e.push("per_customer_limit", "out_of_range");
        }
        o.shared_code = o
            .shared_code
            .as_deref()
            .map(normalize_code)
            .filter(|c| !c.is_empty());
        if let Some(c) = &o.shared_code {
            if !(4..=20).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                e.push("shared_code", "invalid_coupon_code");
            }
        }
        if e.is_empty() {
            Ok(o)
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounts_are_capped_and_rounded_down() {
        assert_eq!(CouponValue::Amount { minor: 2000 }.discount(15_000), 2000);
        assert_eq!(CouponValue::Amount { minor: 2000 }.discount(1500), 1500);
        assert_eq!(CouponValue::Percent { percent: 15 }.discount(9_999), 1499);
        assert_eq!(CouponValue::Percent { percent: 100 }.discount(100), 100);
    }

    #[test]
    fn codes_are_typed_as_read() {
        assert_eq!(normalize_code(" spr-ing 26 "), "SPRING26");
        let c = code_from(&[0, 1, 2, 30, 31, 255, 7, 8, 9, 10]);
        assert_eq!(c.len(), CODE_LEN);
        assert!(c.chars().all(|ch| CODE_ALPHABET.contains(&(ch as u8))));
        assert!(!c.contains('0') && !c.contains('O') && !c.contains('I'));
    }

    #[test]
    fn an_offer_is_checked_field_by_field() {
        let o = OfferInput {
            name: " ".into(),
            value: CouponValue::Percent { percent: 120 },
            min_spend_minor: -1,
            valid_from: NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
            valid_to: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            valid_days: Some(0),
            per_customer_limit: 0,
            shared_code: Some("a!".into()),
            active: true,
        };
        let e = o.validate().unwrap_err();
        let f: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            f,
            [
                "name",
                "value.percent",
                "min_spend_minor",
                "valid_to",
                "valid_days",
                "per_customer_limit",
                "shared_code"
            ]
        );
    }
}
