//! Provenance: where a fact in the customer file came from. The CRM literature insists on it
//! because a purchased list is worth less than what the customer told us at the counter, and
//! because consent and erasure requests need to know who collected what, when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::vocabulary::SourceChannel;

/// Provenance as given by a client; who collected it and when default to the acting user and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The channel the fact arrived through.
    pub channel: SourceChannel,
    /// True when the customer gave it to us directly; false for lists, partners, public records.
    #[serde(default = "default_direct")]
    pub direct: bool,
    /// User id of the collector; the server fills in the acting user when absent.
    #[serde(default)]
    pub collected_by: Option<i64>,
    /// When it was collected; the server fills in "now" when absent.
    #[serde(default)]
    pub collected_at: Option<DateTime<Utc>>,
}

fn default_direct() -> bool {
    true
}

impl Provenance {
    /// A manual entry by `user` right now: the default when a client says nothing.
    pub fn manual(user: i64, now: DateTime<Utc>) -> Self {
        Self {
            channel: SourceChannel::Manual,
            direct: true,
            collected_by: Some(user),
            collected_at: Some(now),
        }
    }

    /// Fills the collector and time from the acting user; refuses collection dates in the future.
    pub fn completed(mut self, user: i64, now: DateTime<Utc>) -> Result<Self, &'static str> {
        if self
            .collected_at
            .is_some_and(|t| t > now + chrono::Duration::minutes(5))
        {
            return Err("in_future");
        }
        self.collected_by.get_or_insert(user);
        self.collected_at.get_or_insert(now);
        Ok(self)
    }
}
