//! An opportunity (销售机会) as the rep enters it: whose it is, what is sold (lines with
//! quantities and prices, whose total is the amount), when it should close, what the
//! customer said they need (显性需求) and what the rep sees they need (隐性需求), who else
//! is bidding, and the next step. Moving it between stages is a separate input, checked
//! against the stage it goes to.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::customer::trimmed;
use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary;

/// Most product lines on an opportunity.
pub const MAX_LINES: usize = 50;
/// Most competitors named.
pub const MAX_COMPETITORS: usize = 10;
/// Largest amount accepted, in minor units (one billion yuan): sums of weighted amounts over
/// a million deals stay inside 64 bits.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000;

vocabulary!(
    /// Where a deal stands, from the kind of its stage.
    OpportunityStatus { Open => "open", Won => "won", Lost => "lost" }
);

/// One product line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The product's SKU.
    pub sku: String,
    /// Its name as quoted (optional).
    #[serde(default)]
    pub name: Option<String>,
    /// 1–1,000,000.
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: i64,
    /// Unit price in minor units (分), 0 or more.
    #[schema(minimum = 0)]
    pub unit_price_minor: i64,
}

/// An opportunity as entered (create and full update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityInput {
    /// The customer.
    #[schema(minimum = 1)]
    pub customer_id: i64,
    /// Name (1–120 characters): what is being sold to whom.
    pub name: String,
    /// The pipeline.
    #[schema(minimum = 1)]
    pub pipeline_id: i64,
    /// The stage (of that pipeline); its first open stage when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub stage_id: Option<i64>,
    /// The rep who owns it; the customer's owner (or the creator) when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
    /// The amount in minor units when there are no lines (with lines, their total).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub amount_minor: i64,
    /// ISO currency (default CNY).
    #[serde(default = "cny")]
    pub currency: String,
    /// The rep's own probability, 0–100; the stage's when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub probability: Option<i64>,
    /// When it is expected to close.
    #[serde(default)]
    pub expected_close: Option<NaiveDate>,
    /// The next step (up to 200 characters).
    #[serde(default)]
    pub next_step: Option<String>,
    /// Who else is bidding.
    #[serde(default)]
    pub competitors: Vec<String>,
    /// 显性需求: what the customer said they need.
    #[serde(default)]
    pub stated_needs: Option<String>,
    /// 隐性需求: what the rep sees they need.
    #[serde(default)]
    pub latent_needs: Option<String>,
    /// Where it came from (a lead source code or free text, up to 40 characters).
    #[serde(default)]
    pub source: Option<String>,
    /// The campaign it came from.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub campaign_id: Option<i64>,
    /// Products with quantities and prices.
    #[serde(default)]
    pub lines: Vec<LineInput>,
    /// The version last read: required to update (a stale one is a 409), ignored on create.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub version: Option<i64>,
    /// Custom-field values by field code, as for a customer (`"1234.50"` for money,
    /// `"2026-05-01"` for dates, a choice's code, an array of codes, `true`/`false`, a user
    /// id); on an update the codes sent change, the rest stay and `null` clears.
    /// `GET /api/v1/custom-fields?entity=opportunity` lists the fields.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
}

fn cny() -> String {
    "CNY".into()
}

/// A move to another stage (the kanban's drag, the API's move), at the version last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The stage to go to (of the same pipeline).
    #[schema(minimum = 1)]
    pub stage_id: i64,
    /// The version the client read (optimistic locking: a stale one is a 409).
    #[schema(minimum = 1)]
    pub version: i64,
    /// Why it was lost (required when the stage is a lost one).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub lost_reason_id: Option<i64>,
    /// Notes on the loss (required when the reason asks for them).
    #[serde(default)]
    pub lost_note: Option<String>,
}

impl OpportunityInput {
    /// The amount: the lines' total when there are lines, else the amount entered.
    pub fn total_minor(&self) -> Option<i64> {
        if self.lines.is_empty() {
            return Some(self.amount_minor);
        }
        self.lines.iter().try_fold(0i64, |sum, l| {
            l.quantity
                .checked_mul(l.unit_price_minor)
                .and_then(|x| sum.checked_add(x))
        })
    }

    /// Checks every field and returns the opportunity trimmed, its amount set from its lines.
    pub fn validate(&self) -> Result<OpportunityInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut o = self.clone();
        o.name = o.name.trim().to_string();
        if o.name.is_empty() {
            e.push("name", "required");
        }
        check_text(&mut e, "name", Some(&o.name), 120);
        for (field, id) in [
            ("customer_id", Some(o.customer_id)),
            ("pipeline_id", Some(o.pipeline_id)),
            ("stage_id", o.stage_id),
            ("owner_id", o.owner_id),
            ("campaign_id", o.campaign_id),
        ] {
            if id.is_some_and(|i| i < 1) {
                e.push(field, "invalid_reference");
            }
        }
        o.currency = o.currency.trim().to_ascii_uppercase();
        if o.currency.len() != 3 || !o.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            e.push("currency", "invalid_currency");
        }
        if o.version.is_some_and(|v| v < 1) {
            e.push("version", "out_of_range");
        }
        if o.probability.is_some_and(|p| !(0..=100).contains(&p)) {
            e.push("probability", "out_of_range");
        }
        o.next_step = trimmed(&o.next_step);
        check_text(&mut e, "next_step", o.next_step.as_deref(), 200);
        o.stated_needs = trimmed(&o.stated_needs);
        check_text(&mut e, "stated_needs", o.stated_needs.as_deref(), 2000);
        o.latent_needs = trimmed(&o.latent_needs);
        check_text(&mut e, "latent_needs", o.latent_needs.as_deref(), 2000);
        o.source = trimmed(&o.source);
        check_text(&mut e, "source", o.source.as_deref(), 40);
        o.competitors = o
            .competitors
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        o.competitors.dedup();
        if o.competitors.len() > MAX_COMPETITORS {
            e.push("competitors", "too_many");
        }
        for (i, c) in o.competitors.iter().enumerate() {
            check_text(&mut e, &format!("competitors[{i}]"), Some(c), 60);
        }
        if o.lines.len() > MAX_LINES {
            e.push("lines", "too_many");
        }
        for (i, l) in o.lines.iter_mut().enumerate() {
            let field = |f: &str| format!("lines[{i}].{f}");
            l.sku = l.sku.trim().to_string();
            if l.sku.is_empty() {
                e.push(field("sku"), "required");
            }
            check_text(&mut e, &field("sku"), Some(&l.sku), 64);
            l.name = trimmed(&l.name);
            check_text(&mut e, &field("name"), l.name.as_deref(), 120);
            if !(1..=1_000_000).contains(&l.quantity) {
                e.push(field("quantity"), "out_of_range");
            }
            if l.unit_price_minor < 0 {
                e.push(field("unit_price_minor"), "out_of_range");
            }
        }
        match o.total_minor() {
            Some(t) if (0..=MAX_AMOUNT_MINOR).contains(&t) => o.amount_minor = t,
            _ => e.push(
                if o.lines.is_empty() {
                    "amount_minor"
                } else {
                    "lines"
                },
                "out_of_range",
            ),
        }
        if e.is_empty() {
            Ok(o)
        } else {
            Err(e)
        }
    }
}

impl MoveInput {
    /// Checks the move's own fields (the stage's kind is the store's to check against).
    pub fn validate(&self) -> Result<MoveInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut m = self.clone();
        if m.stage_id < 1 {
            e.push("stage_id", "invalid_reference");
        }
        if m.version < 1 {
            e.push("version", "out_of_range");
        }
        if m.lost_reason_id.is_some_and(|r| r < 1) {
            e.push("lost_reason_id", "invalid_reference");
        }
        m.lost_note = trimmed(&m.lost_note);
        check_text(&mut e, "lost_note", m.lost_note.as_deref(), 1000);
        if e.is_empty() {
            Ok(m)
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OpportunityInput {
        serde_json::from_value(serde_json::json!({
            "customer_id": 1, "name": " 年度茶礼 ", "pipeline_id": 1,
            "lines": [
                {"sku": "TEA-01", "quantity": 120, "unit_price_minor": 8800},
                {"sku": "BOX", "quantity": 120, "unit_price_minor": 1200}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn the_amount_is_the_lines_total() {
        let o = input().validate().unwrap();
        assert_eq!(o.name, "年度茶礼");
        assert_eq!(o.amount_minor, 120 * 8800 + 120 * 1200);
        assert_eq!(o.currency, "CNY");
    }

    #[test]
    fn bad_lines_and_fields_are_named() {
        let mut o = input();
        o.lines[0].quantity = 0;
        o.lines[1].sku = " ".into();
        o.probability = Some(101);
        o.currency = "yuan".into();
        let e = o.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "currency",
                "probability",
                "lines[0].quantity",
                "lines[1].sku"
            ]
        );
    }

    #[test]
    fn an_overflowing_total_is_refused_not_wrapped() {
        let mut o = input();
        o.lines[0].unit_price_minor = i64::MAX;
        assert_eq!(o.validate().unwrap_err().0[0].field, "lines");
    }
}
