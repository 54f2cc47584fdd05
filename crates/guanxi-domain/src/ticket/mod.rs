//! The service desk: tickets and complaints, their life cycle, SLA clocks on business
//! calendars, and routing to agents. Everything here is pure; the store keeps the tickets and
//! the app layer decides who may do what.

pub mod attachment;
pub mod calendar;
pub mod holidays;
pub mod records;
pub mod routing;
pub mod setup;
pub mod sla;
pub mod status;

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::vocabulary;
use crate::vocabulary::InteractionChannel;

pub use status::{ComplaintStep, TicketStatus};

/// Longest ticket subject.
pub const MAX_SUBJECT: usize = 200;
/// Longest message, note or resolution text.
pub const MAX_BODY: usize = 20_000;
/// Longest free-text name of an unidentified contact or a product SKU.
pub const MAX_SHORT: usize = 100;

vocabulary!(
    /// What the customer came for.
    TicketKind {
        /// 咨询: a question.
        Enquiry => "enquiry",
        /// 投诉: something went wrong and the customer says so.
        Complaint => "complaint",
        /// A request for work: repair, installation, return.
        ServiceRequest => "service_request",
        /// 建议: an idea for us.
        Suggestion => "suggestion",
    }
);

vocabulary!(
    /// How urgent a ticket is; the queue serves higher first.
    Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);

vocabulary!(
    /// The remedy proposed for a complaint (recorded, so the archive shows what was given).
    RemedyKind {
        Refund => "refund",
        Replacement => "replacement",
        Repair => "repair",
        Compensation => "compensation",
        Apology => "apology",
        Other => "other",
    }
);

vocabulary!(
    /// How a ticket ended, for reports.
    ResolutionCode {
        Answered => "answered",
        Fixed => "fixed",
        Replaced => "replaced",
        Refunded => "refunded",
        Compensated => "compensated",
        Explained => "explained",
        Duplicate => "duplicate",
        NoResponse => "no_response",
        NotOurFault => "not_our_fault",
        Other => "other",
    }
);

vocabulary!(
    /// Who wrote a message on a ticket's thread, and who may read it.
    MessageKind {
        /// From the customer.
        Customer => "customer",
        /// An agent's answer to the customer (counts as a response for the SLA).
        Reply => "reply",
        /// Internal note, never shown to the customer.
        Note => "note",
    }
);

impl Priority {
    /// Rank for ordering (urgent first when sorted descending).
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 1,
            Priority::Normal => 2,
            Priority::High => 3,
            Priority::Urgent => 4,
        }
    }
}

/// A ticket as an agent, the API or the phone system opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// The customer, when known.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// An unidentified contact's name (linked to a customer later).
    #[serde(default)]
    pub contact_name: Option<String>,
    /// An unidentified contact's phone or e-mail, as given.
    #[serde(default)]
    pub contact_address: Option<String>,
    /// Kind.
    pub kind: TicketKind,
    /// Category (required for complaints: the complaint rate is reported per category).
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Priority; normal when absent.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Channel it came in on.
    pub channel: InteractionChannel,
    /// One line.
    pub subject: String,
    /// The customer's words (the thread's first message).
    #[serde(default)]
    pub body: Option<String>,
    /// The queue it waits in; the default queue when absent.
    #[serde(default)]
    pub queue_id: Option<i64>,
    /// The order it is about.
    #[serde(default)]
    pub order_id: Option<i64>,
    /// The product it is about.
    #[serde(default)]
    pub product_sku: Option<String>,
    /// A severe complaint escalates at once.
    #[serde(default)]
    pub severe: bool,
    /// Custom-field values by field code, as for a customer.
    /// `GET /api/v1/custom-fields?entity=ticket` lists the fields.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A ticket that passed validation, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTicket {
    /// Customer.
    pub customer_id: Option<i64>,
    /// Unidentified contact's name.
    pub contact_name: Option<String>,
    /// Unidentified contact's address.
    pub contact_address: Option<String>,
    /// Kind.
    pub kind: TicketKind,
    /// Category.
    pub category_id: Option<i64>,
    /// Priority.
    pub priority: Priority,
    /// Channel.
    pub channel: InteractionChannel,
    /// Subject.
    pub subject: String,
    /// First message.
    pub body: Option<String>,
    /// Queue.
    pub queue_id: Option<i64>,
    /// Order.
    pub order_id: Option<i64>,
    /// Product.
    pub product_sku: Option<String>,
    /// Severe.
    pub severe: bool,
}

/// Trims and turns an empty string into `None`.
fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl NewTicket {
    /// Validates: a subject, someone to answer (a customer or a contact), a category for a
    /// complaint, a channel a customer can use (not an internal note).
    pub fn validate(self) -> Result<ValidTicket, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let subject = self.subject.trim().to_string();
        if subject.is_empty() {
            e.push("subject", "required");
        }
        check_text(&mut e, "subject", Some(&subject), MAX_SUBJECT);
        check_text(&mut e, "body", self.body.as_deref(), MAX_BODY);
        check_text(
            &mut e,
            "contact_name",
            self.contact_name.as_deref(),
            MAX_SHORT,
        );
        check_text(
            &mut e,
            "contact_address",
            self.contact_address.as_deref(),
            MAX_SHORT,
        );
        check_text(
            &mut e,
            "product_sku",
            self.product_sku.as_deref(),
            MAX_SHORT,
        );
        let contact_name = non_empty(self.contact_name);
        let contact_address = non_empty(self.contact_address);
        if self.customer_id.is_none() && contact_name.is_none() && contact_address.is_none() {
            e.push("customer_id", "required");
        }
        if self.kind == TicketKind::Complaint && self.category_id.is_none() {
            e.push("category_id", "required");
        }
        if self.channel == InteractionChannel::Note {
            e.push("channel", "unknown_value");
        }
        for (field, id) in [
            ("customer_id", self.customer_id),
            ("category_id", self.category_id),
            ("queue_id", self.queue_id),
            ("order_id", self.order_id),
        ] {
            if id.is_some_and(|v| v < 1) {
                e.push(field, "invalid_reference");
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ValidTicket {
            customer_id: self.customer_id,
            contact_name,
            contact_address,
            kind: self.kind,
            category_id: self.category_id,
            priority: self.priority.unwrap_or(Priority::Normal),
            channel: self.channel,
            subject,
            body: non_empty(self.body),
            queue_id: self.queue_id,
            order_id: self.order_id,
            product_sku: non_empty(self.product_sku),
            severe: self.severe,
        })
    }
}

/// A change to a ticket, sent with the version the agent read (a stale one is a conflict).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// The version the change is based on.
    pub version: i64,
    /// New status.
    #[serde(default)]
    pub status: Option<TicketStatus>,
    /// New priority.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// New category.
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Mark or unmark as severe.
    #[serde(default)]
    pub severe: Option<bool>,
    /// Next complaint step.
    #[serde(default)]
    pub complaint_step: Option<ComplaintStep>,
    /// Remedy proposed.
    #[serde(default)]
    pub remedy_kind: Option<RemedyKind>,
    /// Remedy details.
    #[serde(default)]
    pub remedy_detail: Option<String>,
    /// Remedy value in minor units.
    #[serde(default)]
    pub remedy_amount_minor: Option<i64>,
    /// How it ended.
    #[serde(default)]
    pub resolution_code: Option<ResolutionCode>,
    /// Resolution text.
    #[serde(default)]
    pub resolution_text: Option<String>,
}

impl TicketPatch {
    /// Checks what can be checked without the stored ticket: texts, amounts, references.
    pub fn validate(mut self) -> Result<TicketPatch, ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_text(
            &mut e,
            "remedy_detail",
            self.remedy_detail.as_deref(),
            MAX_BODY,
        );
        check_text(
            &mut e,
            "resolution_text",
            self.resolution_text.as_deref(),
            MAX_BODY,
        );
        if self.remedy_amount_minor.is_some_and(|a| a < 0) {
            e.push("remedy_amount_minor", "out_of_range");
        }
        if self.category_id.is_some_and(|c| c < 1) {
            e.push("category_id", "invalid_reference");
        }
        if self.version < 1 {
            e.push("version", "out_of_range");
        }
        self.remedy_detail = non_empty(self.remedy_detail);
        self.resolution_text = non_empty(self.resolution_text);
        if e.is_empty() {
            Ok(self)
        } else {
            Err(e)
        }
    }
}

/// A call as the phone system (CTI) reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// The calling (or called) number, as the phone system has it.
    pub caller: String,
    /// The agent whose phone rings; the caller of the API when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub agent_id: Option<i64>,
    /// The phone system's call id: reporting the same call twice opens it once.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Inbound (default) or outbound.
    #[serde(default)]
    pub direction: Option<crate::vocabulary::InteractionDirection>,
}

impl NewCall {
    /// Checks the number (digits, `+`, spaces, dashes, brackets; 3–32 characters) and the id.
    pub fn validate(mut self) -> Result<NewCall, ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.caller = self.caller.trim().to_string();
        let ok = |c: char| c.is_ascii_digit() || "+-() ".contains(c);
        let digits = self.caller.chars().filter(char::is_ascii_digit).count();
        if self.caller.is_empty() {
            e.push("caller", "required");
        } else if !self.caller.chars().all(ok) || digits < 3 || self.caller.chars().count() > 32 {
            e.push("caller", "invalid_phone");
        }
        check_text(
            &mut e,
            "external_id",
            self.external_id.as_deref(),
            MAX_SHORT,
        );
        if self.agent_id.is_some_and(|a| a < 1) {
            e.push("agent_id", "invalid_reference");
        }
        if self.direction == Some(crate::vocabulary::InteractionDirection::Internal) {
            e.push("direction", "unknown_value");
        }
        self.external_id = non_empty(self.external_id);
        if e.is_empty() {
            Ok(self)
        } else {
            Err(e)
        }
    }
}

/// Checks a message body: required, within the length limit.
pub fn check_message(body: &str) -> Result<String, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let body = body.trim();
    if body.is_empty() {
        e.push("body", "required");
    }
    check_text(&mut e, "body", Some(body), MAX_BODY);
    if e.is_empty() {
        Ok(body.to_string())
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> NewTicket {
        NewTicket {
            customer_id: Some(1),
            contact_name: None,
            contact_address: None,
            kind: TicketKind::Complaint,
            category_id: Some(3),
            priority: None,
            channel: InteractionChannel::Phone,
            subject: "  杯子有裂纹 ".into(),
            body: Some(" ".into()),
            queue_id: None,
            order_id: None,
            product_sku: None,
            severe: false,
            custom: Default::default(),
        }
    }

    #[test]
    fn defaults_and_trimming() {
        let t = ticket().validate().unwrap();
        assert_eq!(t.subject, "杯子有裂纹");
        assert_eq!(t.priority, Priority::Normal);
        assert_eq!(t.body, None);
    }

    #[test]
    fn field_level_errors() {
        let mut t = ticket();
        t.customer_id = None;
        t.category_id = None;
        t.subject = " ".into();
        t.channel = InteractionChannel::Note;
        let fields: Vec<String> = t
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["subject", "customer_id", "category_id", "channel"]);
        let mut anon = ticket();
        anon.customer_id = None;
        anon.contact_address = Some("13800138000".into());
        assert!(anon.validate().is_ok());
        assert_eq!(check_message("  ").unwrap_err().0[0].code, "required");
    }
}
