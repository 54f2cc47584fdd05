//! Campaigns and the outbox (issue #16): saving campaigns, reading their audience into the
//! outbox, claiming and recording deliveries exactly as far as a provider allows, responses,
//! the contact policies and the suppression list, and each campaign's figures.

pub mod audience;
pub mod enrol;
pub mod outbox;
pub mod policy;
pub mod responses;
pub mod run;
pub mod setup;

pub use audience::{AudiencePreview, PrepareReport};
pub use enrol::Enrolment;
pub(crate) use outbox::{random_token_sql, MESSAGE_EVENTS};
pub use outbox::{OutboxMessage, Outcome};
pub use policy::Suppression;
pub use responses::{CampaignFigures, Letter, Response, TokenOwner, VariantFigures};
pub use setup::CampaignRecord;

/// Fails with `campaign_id: invalid_reference` unless the campaign exists: what a deal, a lead
/// or a capture form names as its campaign.
pub(crate) async fn check_campaign(
    conn: &mut sqlx::AnyConnection,
    id: Option<i64>,
) -> crate::error::Result<()> {
    if let Some(k) = id {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE id = $1")
            .bind(k)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(crate::error::StoreError::invalid(
                "campaign_id",
                "invalid_reference",
            ));
        }
    }
    Ok(())
}
