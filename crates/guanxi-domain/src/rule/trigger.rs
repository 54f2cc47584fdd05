//! What makes a rule fire. Three classes, by how the store finds who it fires for:
//! - a **set** ("entered segment X", "churn risk ≥ 70 %", "turned dormant", "orders falling"):
//!   the customers in the set now against those the rule saw last time; the cause is the day
//!   they entered (or left), so leaving and coming back is a new cause;
//! - a **threshold** ("spent ≥ ¥10,000 in all", "3 complaints in 90 days", "3 days before the
//!   birthday"): the customers over it now; the cause is the threshold itself (once ever), the
//!   first complaint of the run of them, or the occasion's day;
//! - an **event** ("an order of ¥5,000 or more", "an order far outside the customer's usual",
//!   "a complaint opened", "a ticket resolved"): rows written since the rule last looked; the
//!   cause is the row.

use serde::{Deserialize, Serialize};

use crate::care::Occasion;
use crate::error::ValidationErrors;
use crate::ticket::TicketKind;

/// Largest amount a trigger may name (¥100 million, in fen).
pub const MAX_AMOUNT: i64 = 10_000_000_000;

/// A rule's trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// The customer came into a saved segment.
    SegmentEntered {
        /// The segment.
        #[schema(minimum = 1)]
        segment_id: i64,
    },
    /// The customer left a saved segment.
    SegmentLeft {
        /// The segment.
        #[schema(minimum = 1)]
        segment_id: i64,
    },
    /// The churn model's probability (at the last score refresh) reached `percent` %.
    ChurnRisk {
        /// 1–99.
        #[schema(minimum = 1, maximum = 99)]
        percent: i64,
    },
    /// The customer's activity turned dormant (last score refresh).
    TurnedDormant,
    /// The customer's orders are falling against their own rhythm (last score refresh).
    OrdersFalling,
    /// Everything the customer has spent reached the amount.
    SpendReached {
        /// Fen.
        #[schema(minimum = 1)]
        amount_minor: i64,
    },
    /// `count` complaints opened within `days` days.
    ComplaintsReached {
        /// Complaints.
        #[schema(minimum = 1, maximum = 100)]
        count: i64,
        /// Days.
        #[schema(minimum = 1, maximum = 365)]
        days: i64,
    },
    /// An order of at least the amount was placed.
    OrderPlaced {
        /// Fen (0: every order).
        #[schema(minimum = 0)]
        min_amount_minor: i64,
    },
    /// An order far outside the customer's own history (the modified z-score the score
    /// refresh's anomaly alerts use, |z| > 3.5, over at least five earlier orders).
    OrderAnomaly,
    /// A ticket was opened (of this kind, or any).
    TicketOpened {
        /// `enquiry`, `complaint`, `service_request`, `suggestion`.
        #[serde(default)]
        ticket_kind: Option<String>,
    },
    /// A ticket was resolved (of this kind, or any).
    TicketResolved {
        /// As for `ticket_opened`.
        #[serde(default)]
        ticket_kind: Option<String>,
    },
    /// A customer's date (birthday, anniversary …) comes within `days_before` days.
    Occasion {
        /// `birthday`, `spouse_birthday`, `wedding`, `child_birthday`, `customer_since`.
        occasion: String,
        /// 0–60.
        #[schema(minimum = 0, maximum = 60)]
        days_before: i64,
    },
}

/// How the store finds whom a trigger fires for (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerClass {
    /// Customers entering or leaving a set.
    Set,
    /// Customers over a threshold.
    Threshold,
    /// Rows written since the last look.
    Event,
}

impl Trigger {
    /// The stored code.
    pub fn code(&self) -> &'static str {
        match self {
            Trigger::SegmentEntered { .. } => "segment_entered",
            Trigger::SegmentLeft { .. } => "segment_left",
            Trigger::ChurnRisk { .. } => "churn_risk",
            Trigger::TurnedDormant => "turned_dormant",
            Trigger::OrdersFalling => "orders_falling",
            Trigger::SpendReached { .. } => "spend_reached",
            Trigger::ComplaintsReached { .. } => "complaints_reached",
            Trigger::OrderPlaced { .. } => "order_placed",
            Trigger::OrderAnomaly => "order_anomaly",
            Trigger::TicketOpened { .. } => "ticket_opened",
            Trigger::TicketResolved { .. } => "ticket_resolved",
            Trigger::Occasion { .. } => "occasion",
        }
    }

    /// Every trigger code, for pickers.
    pub const CODES: [&'static str; 12] = [
        "segment_entered",
        "segment_left",
        "churn_risk",
        "turned_dormant",
        "orders_falling",
        "spend_reached",
        "complaints_reached",
        "order_placed",
        "order_anomaly",
        "ticket_opened",
        "ticket_resolved",
        "occasion",
    ];

    /// Its class.
    pub fn class(&self) -> TriggerClass {
        match self {
            Trigger::SegmentEntered { .. }
            | Trigger::SegmentLeft { .. }
            | Trigger::ChurnRisk { .. }
            | Trigger::TurnedDormant
            | Trigger::OrdersFalling => TriggerClass::Set,
            Trigger::SpendReached { .. }
            | Trigger::ComplaintsReached { .. }
            | Trigger::Occasion { .. } => TriggerClass::Threshold,
            Trigger::OrderPlaced { .. }
            | Trigger::OrderAnomaly
            | Trigger::TicketOpened { .. }
            | Trigger::TicketResolved { .. } => TriggerClass::Event,
        }
    }

    /// The segment the trigger watches, if it watches one.
    pub fn segment(&self) -> Option<i64> {
        match self {
            Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
                Some(*segment_id)
            }
            _ => None,
        }
    }

    /// Checks the trigger's parameters.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        match self {
            Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
                if *segment_id < 1 {
                    e.push("segment_id", "out_of_range");
                }
            }
            Trigger::ChurnRisk { percent } => {
                if !(1..=99).contains(percent) {
                    e.push("percent", "out_of_range");
                }
            }
            Trigger::SpendReached { amount_minor } => {
                if !(1..=MAX_AMOUNT).contains(amount_minor) {
                    e.push("amount_minor", "out_of_range");
                }
            }
            Trigger::ComplaintsReached { count, days } => {
                if !(1..=100).contains(count) {
                    e.push("count", "out_of_range");
                }
                if !(1..=365).contains(days) {
                    e.push("days", "out_of_range");
                }
            }
            Trigger::OrderPlaced { min_amount_minor } => {
                if !(0..=MAX_AMOUNT).contains(min_amount_minor) {
                    e.push("min_amount_minor", "out_of_range");
                }
            }
            Trigger::TicketOpened { ticket_kind } | Trigger::TicketResolved { ticket_kind } => {
                if ticket_kind
                    .as_deref()
                    .is_some_and(|k| TicketKind::parse(k).is_err())
                {
                    e.push("ticket_kind", "unknown_value");
                }
            }
            Trigger::Occasion {
                occasion,
                days_before,
            } => {
                if !matches!(Occasion::parse(occasion), Ok(Occasion::Customer(_))) {
                    e.push("occasion", "unknown_value");
                }
                if !(0..=60).contains(days_before) {
                    e.push("days_before", "out_of_range");
                }
            }
            Trigger::TurnedDormant | Trigger::OrdersFalling | Trigger::OrderAnomaly => {}
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(e)
        }
    }
}
