//! Leads (线索): people or companies who showed interest — through the public form, an
//! import, the API, a call from an unknown number or a rep's note — before anyone knows whether
//! they will buy. A lead is qualified by a rep, then converted into a customer (a new one, or
//! the existing customer it turned out to be) and usually an opportunity, or disqualified with
//! a reason. Until then it stays out of the customer file, so the book, its figures and its
//! campaigns are not filled with strangers who never answered.
//!
//! De-duplication uses the customer file's own rule (a shared mobile, email or WeChat id):
//! a lead becomes the customer fields it would create ([`LeadInput::customer_fields`]) and is
//! checked like any new customer, within the reader's record scope.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{trimmed, CustomerFields, NewContactPoint};
use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::provenance::Provenance;
use crate::vocabulary;
use crate::vocabulary::{ContactKind, CustomerKind, SourceChannel};

vocabulary!(
    /// Where a lead stands.
    LeadStatus {
        New => "new",
        Qualified => "qualified",
        Converted => "converted",
        Disqualified => "disqualified",
    }
);

vocabulary!(
    /// How a lead arrived.
    LeadOrigin {
        Form => "form",
        Import => "import",
        Api => "api",
        Call => "call",
        Manual => "manual",
    }
);

vocabulary!(
    /// Why a lead was dropped.
    DisqualifyReason {
        NotInterested => "not_interested",
        NoBudget => "no_budget",
        Unreachable => "unreachable",
        Competitor => "competitor",
        Duplicate => "duplicate",
        Spam => "spam",
        Other => "other",
    }
);

/// A lead as entered or captured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    /// The person's name (up to 80 characters); a company alone will do.
    #[serde(default)]
    pub name: Option<String>,
    /// Their company (up to 120 characters).
    #[serde(default)]
    pub company: Option<String>,
    /// Their job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Mobile or phone.
    #[serde(default)]
    pub mobile: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// WeChat id.
    #[serde(default)]
    pub wechat: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// What they asked or said (up to 2,000 characters).
    #[serde(default)]
    pub message: Option<String>,
    /// Lead source as the shop names it (展会, 官网, 老客户介绍 …; up to 40 characters).
    #[serde(default)]
    pub source: Option<String>,
    /// The campaign it answered.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub campaign_id: Option<i64>,
    /// The rep it is for; unassigned leads wait in the pool every rep sees.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
    /// They agreed to hear from us (the form's checkbox); carried to the customer's
    /// contact points on conversion.
    #[serde(default)]
    pub consent_marketing: bool,
}

/// Most characters of a lead's message.
pub const MAX_MESSAGE_CHARS: usize = 2000;

impl LeadInput {
    /// Checks and trims every field: a name or a company, and at least one way to reach them
    /// (each value valid for its kind).
    pub fn validate(&self) -> Result<LeadInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let l = LeadInput {
            name: trimmed(&self.name),
            company: trimmed(&self.company),
            job_title: trimmed(&self.job_title),
            mobile: trimmed(&self.mobile),
            email: trimmed(&self.email),
            wechat: trimmed(&self.wechat),
            city: trimmed(&self.city),
            message: trimmed(&self.message),
            source: trimmed(&self.source),
            ..self.clone()
        };
        if l.name.is_none() && l.company.is_none() {
            e.push("name", "required");
        }
        for (field, v, max) in [
            ("name", &l.name, 80),
            ("company", &l.company, 120),
            ("job_title", &l.job_title, 60),
            ("city", &l.city, 40),
            ("message", &l.message, MAX_MESSAGE_CHARS),
            ("source", &l.source, 40),
        ] {
            check_text(&mut e, field, v.as_deref(), max);
        }
        if l.mobile.is_none() && l.email.is_none() && l.wechat.is_none() {
            e.push("mobile", "contact_required");
        }
        for (field, kind, v) in l.contact_values() {
            if let Err(code) = crate::contact::normalize(kind, v) {
                e.push(field, code);
            }
        }
        for (field, id) in [("campaign_id", l.campaign_id), ("owner_id", l.owner_id)] {
            if id.is_some_and(|i| i < 1) {
                e.push(field, "invalid_reference");
            }
        }
        if e.is_empty() {
            Ok(l)
        } else {
            Err(e)
        }
    }

    /// The ways to reach them that were given: (field, kind, value).
    pub fn contact_values(&self) -> Vec<(&'static str, ContactKind, &str)> {
        [
            ("mobile", ContactKind::Mobile, &self.mobile),
            ("email", ContactKind::Email, &self.email),
            ("wechat", ContactKind::Wechat, &self.wechat),
        ]
        .into_iter()
        .filter_map(|(f, k, v)| v.as_deref().map(|v| (f, k, v)))
        .collect()
    }

    /// The customer this lead would become: a person (working at the company, when given) or,
    /// with only a company, the company; its contact points carrying the lead's consent; its
    /// provenance the channel it came through.
    pub fn customer_fields(
        &self,
        origin: LeadOrigin,
        owner: Option<i64>,
        collected_by: i64,
        at: DateTime<Utc>,
    ) -> CustomerFields {
        let source = Provenance {
            channel: match origin {
                LeadOrigin::Form => SourceChannel::Website,
                LeadOrigin::Call => SourceChannel::CallCentre,
                LeadOrigin::Import => SourceChannel::Import,
                LeadOrigin::Api | LeadOrigin::Manual => SourceChannel::Manual,
            },
            direct: true,
            collected_by: Some(collected_by),
            collected_at: Some(at),
        };
        let (kind, name, employer) = match (&self.name, &self.company) {
            (Some(n), c) => (CustomerKind::Individual, n.clone(), c.clone()),
            (None, Some(c)) => (CustomerKind::Company, c.clone(), None),
            (None, None) => (CustomerKind::Individual, String::new(), None),
        };
        CustomerFields {
            kind,
            name,
            gender: None,
            birthday: None,
            id_number: None,
            province: None,
            city: self.city.clone(),
            address: None,
            time_zone: None,
            employer,
            industry: None,
            lifecycle_stage: None,
            tags: Vec::new(),
            profile: None,
            company: None,
            allow_duplicate: false,
            custom: Default::default(),
            job_title: self
                .job_title
                .clone()
                .filter(|_| kind == CustomerKind::Individual),
            owner_id: owner,
            source: Some(source.clone()),
            contact_points: self
                .contact_values()
                .into_iter()
                .map(|(_, kind, value)| NewContactPoint {
                    kind,
                    value: value.to_string(),
                    label: None,
                    is_primary: true,
                    consent_marketing: self.consent_marketing,
                    source: Some(source.clone()),
                })
                .collect(),
        }
    }
}

/// Dropping a lead, at the version last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisqualifyInput {
    /// Why.
    pub reason: DisqualifyReason,
    /// Notes (required for "other"; up to 500 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

impl DisqualifyInput {
    /// Checks the note ("other" needs one).
    pub fn validate(&self) -> Result<DisqualifyInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let d = DisqualifyInput {
            note: trimmed(&self.note),
            ..self.clone()
        };
        check_text(&mut e, "note", d.note.as_deref(), 500);
        if d.reason == DisqualifyReason::Other && d.note.is_none() {
            e.push("note", "required");
        }
        if e.is_empty() {
            Ok(d)
        } else {
            Err(e)
        }
    }
}

/// The deal a conversion opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertDeal {
    /// Its name (the lead's company or name when empty).
    #[serde(default)]
    pub name: Option<String>,
    /// The pipeline.
    #[schema(minimum = 1)]
    pub pipeline_id: i64,
    /// Amount in minor units.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub amount_minor: i64,
    /// When it is expected to close.
    #[serde(default)]
    pub expected_close: Option<NaiveDate>,
}

/// Converting a lead, at the version last read: into the existing customer named (one the
/// rep sees — the duplicate check's match, typically) or a new one; with a deal or without.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertInput {
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
    /// An existing customer it turned out to be; a new customer when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub customer_id: Option<i64>,
    /// Create the new customer even though one the rep sees shares a mobile, email or WeChat
    /// id (without it, such a conversion answers 409 with the candidates).
    #[serde(default)]
    pub allow_duplicate: bool,
    /// The deal to open, if any.
    #[serde(default)]
    pub opportunity: Option<ConvertDeal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(v: serde_json::Value) -> LeadInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_lead_needs_a_name_and_a_way_to_reach_them() {
        let e = lead(serde_json::json!({"message": "报价?"}))
            .validate()
            .unwrap_err();
        let got: Vec<(&str, &str)> =
            e.0.iter()
                .map(|x| (x.field.as_str(), x.code.as_str()))
                .collect();
        assert_eq!(got, [("name", "required"), ("mobile", "contact_required")]);
        let e = lead(serde_json::json!({"name": "李雷", "mobile": "12"}))
            .validate()
            .unwrap_err();
        assert_eq!(e.0[0].field, "mobile");
        assert!(
            lead(serde_json::json!({"company": " 华南商贸 ", "email": "a@b.cn"}))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn a_person_at_a_company_becomes_a_person_with_an_employer() {
        let l = lead(serde_json::json!({"name": "韩梅梅", "company": "华南商贸",
            "job_title": "采购", "mobile": "13800138000", "consent_marketing": true}))
        .validate()
        .unwrap();
        let at = Utc::now();
        let c = l.customer_fields(LeadOrigin::Form, Some(7), 7, at);
        assert_eq!(c.kind, CustomerKind::Individual);
        assert_eq!(c.employer.as_deref(), Some("华南商贸"));
        assert_eq!(c.source.as_ref().unwrap().channel, SourceChannel::Website);
        assert!(c.contact_points[0].consent_marketing);
        let only_company = LeadInput { name: None, ..l };
        let c = only_company.customer_fields(LeadOrigin::Call, None, 7, at);
        assert_eq!(
            (c.kind, c.name.as_str()),
            (CustomerKind::Company, "华南商贸")
        );
        assert_eq!(c.job_title, None);
    }

    #[test]
    fn other_needs_a_note() {
        let d = DisqualifyInput {
            reason: DisqualifyReason::Other,
            note: Some("  ".into()),
            version: 1,
        };
        assert_eq!(d.validate().unwrap_err().0[0].field, "note");
    }
}
