//! Orders (transactions) with line items. Money is integer minor units (分) plus an ISO 4217
//! currency code: floats would make an analyst's totals disagree with the till.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary::OrderChannel;

/// Most lines on one order.
pub const MAX_LINES: usize = 500;

/// Checks an ISO 4217 currency code's shape (three upper-case letters).
pub fn check_currency(c: &str) -> Result<(), &'static str> {
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("invalid_currency")
    }
}

/// One order line as a client sends it. Products are named by SKU; unknown SKUs are created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    /// Product SKU.
    pub sku: String,
    /// Product name (used when the SKU is new).
    #[serde(default)]
    pub product_name: Option<String>,
    /// Product category (used when the SKU is new).
    #[serde(default)]
    pub category: Option<String>,
    /// Quantity, ≥ 1.
    pub quantity: i64,
    /// Unit price in minor units, ≥ 0.
    pub unit_price_minor: i64,
}

/// An order as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Buying customer.
    pub customer_id: i64,
    /// When the order was placed (UTC).
    pub ordered_at: DateTime<Utc>,
    /// ISO 4217 currency, e.g. CNY.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Sales channel.
    pub channel: OrderChannel,
    /// Store or outlet name.
    #[serde(default)]
    pub store: Option<String>,
    /// The client's own reference (till receipt number); unique when given.
    #[serde(default)]
    pub external_ref: Option<String>,
    /// Lines; at least one.
    pub lines: Vec<NewOrderLine>,
}

fn default_currency() -> String {
    "CNY".into()
}

impl NewOrder {
    /// Validates and returns the order total in minor units (overflow is an error, not a wrap).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<i64, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.customer_id <= 0 {
            e.push("customer_id", "invalid_reference");
        }
        if self.ordered_at > now + chrono::Duration::minutes(5) {
            e.push("ordered_at", "in_future");
        }
        e.field("currency", check_currency(&self.currency));
        check_text(&mut e, "store", self.store.as_deref(), 100);
        check_text(&mut e, "external_ref", self.external_ref.as_deref(), 100);
        if self.lines.is_empty() {
            e.push("lines", "required");
        }
        if self.lines.len() > MAX_LINES {
            e.push("lines", "too_many");
        }
        let mut total: Option<i64> = Some(0);
        for (i, l) in self.lines.iter().enumerate() {
            let f = format!("lines[{i}]");
            if l.sku.trim().is_empty() {
                e.push(format!("{f}.sku"), "required");
            }
            check_text(&mut e, &format!("{f}.sku"), Some(&l.sku), 64);
            check_text(
                &mut e,
                &format!("{f}.product_name"),
                l.product_name.as_deref(),
                200,
            );
            check_text(&mut e, &format!("{f}.category"), l.category.as_deref(), 100);
            if l.quantity < 1 || l.quantity > 1_000_000 {
                e.push(format!("{f}.quantity"), "out_of_range");
            }
            if l.unit_price_minor < 0 {
                e.push(format!("{f}.unit_price_minor"), "negative");
            }
            total = total
                .zip(l.quantity.checked_mul(l.unit_price_minor))
                .and_then(|(t, a)| t.checked_add(a));
        }
        match total {
            Some(t) if e.is_empty() => Ok(t),
            None => {
                e.push("lines", "amount_overflow");
                Err(e)
            }
            _ => Err(e),
        }
    }
}
