//! What a mail system or SMS provider reports back about a message after it left: a bounce
//! that came later as a delivery-status notification, a spam complaint (a feedback loop), a
//! failed SMS delivery receipt, or the recipient's reply. The report names the message by
//! whatever the provider kept of it — the e-mail's Message-ID, the SMS provider's own id
//! (Aliyun's BizId, Tencent's SerialNo) or our id it carried (OutId, SessionContext).

use serde::{Deserialize, Serialize};

use super::bounce::Bounce;
use crate::error::ValidationErrors;

/// Longest reply text kept.
pub const MAX_REPLY_CHARS: usize = 500;

/// What happened to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The address does not exist: blocked at once.
    HardBounce,
    /// Temporarily undeliverable: blocked after the policy's count.
    SoftBounce,
    /// Marked as spam: blocked at once.
    Complaint,
    /// The recipient answered (`text`).
    Reply,
}

/// A provider's report on one message (`POST /api/v1/campaigns/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderReport {
    /// The message: its Message-ID (`<…@…>`), the provider's id for it, or the id it carried.
    #[schema(min_length = 1, max_length = 200)]
    pub message_id: String,
    /// What happened.
    pub kind: ReportKind,
    /// The reply's text (required for `reply`).
    #[serde(default)]
    pub text: Option<String>,
}

/// How a validated report names its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRef {
    /// Our token (from a Message-ID we wrote, or the id we gave the provider).
    Token(String),
    /// The provider's own id, as it answered the send.
    ProviderKey(String),
}

/// What a validated report records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportEffect {
    /// A bounce or a complaint.
    Bounce(Bounce),
    /// A reply and its text.
    Reply(String),
}

/// Whether `s` is one of our message tokens (32 lower-case hex digits).
pub fn is_token(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ProviderReport {
    /// Checks the report: which message it names and what it records.
    pub fn validate(&self) -> Result<(MessageRef, ReportEffect), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let id = self.message_id.trim();
        let local = id
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .and_then(|s| s.split_once('@'))
            .map(|(local, _)| local);
        let target = match local {
            Some(t) if is_token(t) => Some(MessageRef::Token(t.to_string())),
            Some(_) => None,
            None if is_token(id) => Some(MessageRef::Token(id.to_string())),
            None if !id.is_empty() && id.chars().count() <= 200 && !id.contains('<') => {
                Some(MessageRef::ProviderKey(id.to_string()))
            }
            None => None,
        };
        if target.is_none() {
            errs.push("message_id", "unknown_message");
        }
        let effect = match self.kind {
            ReportKind::HardBounce => Some(ReportEffect::Bounce(Bounce::Hard)),
            ReportKind::SoftBounce => Some(ReportEffect::Bounce(Bounce::Soft)),
            ReportKind::Complaint => Some(ReportEffect::Bounce(Bounce::Complaint)),
            ReportKind::Reply => match self.text.as_deref().map(str::trim) {
                Some(t) if !t.is_empty() => Some(ReportEffect::Reply(
                    t.chars().take(MAX_REPLY_CHARS).collect(),
                )),
                _ => {
                    errs.push("text", "required");
                    None
                }
            },
        };
        match (target, effect) {
            (Some(t), Some(e)) if errs.is_empty() => Ok((t, e)),
            _ => Err(errs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, kind: ReportKind, text: Option<&str>) -> ProviderReport {
        ProviderReport {
            message_id: id.into(),
            kind,
            text: text.map(Into::into),
        }
    }

    fn fields(e: &ValidationErrors) -> Vec<&str> {
        e.0.iter().map(|x| x.field.as_str()).collect()
    }

    #[test]
    fn names_the_message_by_message_id_token_or_provider_id() {
        let t = "0123456789abcdef0123456789abcdef";
        let (r, e) = report(&format!("<{t}@shop.example>"), ReportKind::HardBounce, None)
            .validate()
            .unwrap();
        assert_eq!(r, MessageRef::Token(t.into()));
        assert_eq!(e, ReportEffect::Bounce(Bounce::Hard));
        assert_eq!(
            report(t, ReportKind::Complaint, None).validate().unwrap().0,
            MessageRef::Token(t.into())
        );
        assert_eq!(
            report("123456789^0", ReportKind::SoftBounce, None)
                .validate()
                .unwrap()
                .0,
            MessageRef::ProviderKey("123456789^0".into())
        );
    }

    #[test]
    fn refuses_what_names_nothing_and_replies_without_text() {
        let e = report("<someone-else@x>", ReportKind::HardBounce, None)
            .validate()
            .unwrap_err();
        assert!(fields(&e) == ["message_id"], "{e:?}");
        let e = report("", ReportKind::Reply, Some("  "))
            .validate()
            .unwrap_err();
        assert_eq!(fields(&e), ["message_id", "text"]);
        let (_, eff) = report("biz-1", ReportKind::Reply, Some(" 好的 "))
            .validate()
            .unwrap();
        assert_eq!(eff, ReportEffect::Reply("好的".into()));
    }
}
