//! Campaign use cases (`ManageCampaigns`): saving drafts, the audience preview (who is sent
//! to, held out, deferred and skipped, and why), launching, pausing, resuming and cancelling,
//! a test send, the figures, the contact policies and the suppression list; and the public
//! side a recipient reaches without signing in (unsubscribe, open pixel, click redirect).
//! Sending itself is the `campaigns.send` job ([`deliver`]).

pub mod deliver;
pub mod email;
pub mod sms;
pub mod smtp;

use chrono::{DateTime, Utc};
use guanxi_domain::campaign::report::{MessageRef, ProviderReport, ReportEffect};
use guanxi_domain::campaign::{
    content, CampaignInput, CampaignState, Channel, ContactPolicy, MergeData,
};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::segment::AsOf;
use guanxi_domain::ValidationErrors;
use guanxi_store::campaign::{
    AudiencePreview, CampaignFigures, CampaignRecord, Response, Suppression, TokenOwner,
};
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// The job that prepares and sends campaigns and transactional messages.
pub const SEND_JOB: &str = "campaigns.send";

/// Every campaign, newest first.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<CampaignRecord>, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    Ok(store.list_campaigns().await?)
}

/// One campaign with its figures.
pub async fn get(
    store: &Store,
    actor: &Actor,
    id: i64,
    utc_offset_hours: i64,
) -> Result<(CampaignRecord, CampaignFigures), AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let k = store.get_campaign(id).await?;
    if k.audience_total < LIVE_FIGURES_LIMIT {
        let f = store.campaign_figures(id, utc_offset_hours).await?;
        return Ok((k, f));
    }
    // A large campaign: its figures as the sender last computed them (every
    // FIGURES_EVERY while they change); the first time, a send step computes them.
    let f = match store.stored_figures(id).await? {
        Some(f) => f,
        None => {
            queue_step(store).await?;
            CampaignFigures::default()
        }
    };
    Ok((k, f))
}

/// Campaigns of at least this many recipients have their figures computed in the background
/// (grouping a million outbox rows and their orders takes seconds, not a page's milliseconds).
pub const LIVE_FIGURES_LIMIT: i64 = 20_000;

/// How old a large campaign's figures may grow while they can still change (it is sending,
/// or its attribution window is open).
pub const FIGURES_EVERY_MS: i64 = 10 * 60_000;

/// Saves a new draft, or (with `existing` = (id, version)) a change to a draft.
pub async fn save(
    store: &Store,
    actor: &Actor,
    existing: Option<(i64, i64)>,
    input: &CampaignInput,
) -> Result<CampaignRecord, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let c = input.validate()?;
    Ok(match existing {
        Some((id, version)) => store.update_campaign(actor, id, version, &c).await?,
        None => store.create_campaign(actor, &c).await?,
    })
}

/// Who the campaign would reach if it started now, and who it would skip and why.
pub async fn preview(
    store: &Store,
    actor: &Actor,
    id: Option<i64>,
    input: &CampaignInput,
    as_of: AsOf,
) -> Result<AudiencePreview, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let c = input.validate()?;
    Ok(store.preview_campaign(id, &c, as_of).await?)
}

/// Moves a campaign: `sending` launches a draft now (or resumes a paused one), `scheduled`
/// launches it at `send_at`, `paused`, `cancelled`, and `draft` takes a scheduled one back.
pub async fn move_to(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    to: CampaignState,
    send_at: Option<DateTime<Utc>>,
) -> Result<CampaignRecord, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    if to == CampaignState::Scheduled {
        match send_at {
            None => return Err(ValidationErrors::single("send_at", "required").into()),
            Some(t) if t <= Utc::now() => {
                return Err(ValidationErrors::single("send_at", "in_past").into())
            }
            _ => {}
        }
    }
    let k = store.move_campaign(actor, id, version, to, send_at).await?;
    if matches!(to, CampaignState::Sending | CampaignState::Scheduled) {
        queue_step(store).await?;
    }
    Ok(k)
}

/// Sends the campaign's content to one address now, outside the outbox and every count
/// (the marketer's own inbox or phone), filled with the first customer of its audience or,
/// when none, a sample.
pub async fn test_send(
    store: &Store,
    actor: &Actor,
    d: &deliver::Delivery,
    id: i64,
    address: &str,
) -> Result<String, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let k = store.get_campaign(id).await?;
    let address = address.trim();
    let kind = match k.campaign.channel {
        Channel::Email => guanxi_domain::vocabulary::ContactKind::Email,
        Channel::Sms => guanxi_domain::vocabulary::ContactKind::Mobile,
        Channel::Call | Channel::Mail => {
            return Err(ValidationErrors::single("address", "not_allowed").into())
        }
    };
    let normalized = guanxi_domain::contact::normalize(kind, address)
        .map_err(|code| ValidationErrors::single("address", code))?
        .normalized;
    // The first customer who would get it, else a sample in the marketer's name.
    let merge = match store
        .audience_sample(&k.campaign, crate::campaign::deliver::as_of(d), 1)
        .await
    {
        Ok(mut v) if !v.is_empty() => v.remove(0).1,
        _ => MergeData {
            name: actor.name.clone(),
            gender: None,
            owner: Some(actor.name.clone()),
            points: Some(0),
            coupon: None,
        },
    };
    let r = d.test_send(&k, &normalized, merge).await?;
    store
        .audit(
            actor,
            guanxi_store::audit::AuditEvent {
                action: "test_send_campaign",
                entity: "campaign",
                entity_id: Some(id),
                detail: json!({"address": normalized}),
            },
        )
        .await?;
    Ok(r)
}

/// How the campaign reads for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecipientPreview {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub name: String,
    /// `a` or `b`.
    pub variant: String,
    /// The language they get.
    pub lang: String,
    /// The subject (a call task's title, a letter's heading).
    pub subject: String,
    /// The text as they get it.
    pub body: String,
}

/// The campaign as its first `n` recipients would get it (every variant), merge fields
/// filled (the coupon code shows where it goes: it is made at sending).
pub async fn recipient_previews(
    store: &Store,
    actor: &Actor,
    c: &CampaignInput,
    as_of: AsOf,
    n: i64,
) -> Result<Vec<RecipientPreview>, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let c = c.validate()?;
    let mut out = vec![];
    for (id, mut merge) in store.audience_sample(&c, as_of, n.clamp(1, 20)).await? {
        let lang = if content::is_chinese_name(&merge.name) {
            "zh-CN"
        } else {
            "en"
        };
        merge.coupon = c.offer_id.map(|_| {
            if lang == "en" {
                "[coupon code]".to_string()
            } else {
                "【券码】".to_string()
            }
        });
        for (i, v) in c.variants.iter().enumerate() {
            let r = v.render(lang, &merge);
            out.push(RecipientPreview {
                customer_id: id,
                name: merge.name.clone(),
                variant: if i == 0 { "a" } else { "b" }.to_string(),
                lang: if lang == "en" && !v.body_en.is_empty() {
                    "en"
                } else {
                    "zh-CN"
                }
                .to_string(),
                subject: r.subject,
                body: if c.channel == Channel::Sms {
                    r.sms_params
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    r.body
                },
            });
        }
    }
    Ok(out)
}

/// The contact policy of every channel.
pub async fn policies(
    store: &Store,
    actor: &Actor,
) -> Result<Vec<(Channel, ContactPolicy)>, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let mut out = vec![];
    for c in Channel::ALL {
        out.push((c, store.contact_policy(c).await?));
    }
    Ok(out)
}

/// Saves a channel's policy.
pub async fn save_policy(
    store: &Store,
    actor: &Actor,
    channel: Channel,
    p: &ContactPolicy,
) -> Result<ContactPolicy, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let p = p.validate()?;
    Ok(store.save_contact_policy(actor, channel, &p).await?)
}

/// A customer's own caps per channel (they asked for fewer messages), for whoever may read
/// the customer.
pub async fn customer_caps(
    store: &Store,
    actor: &Actor,
    customer: i64,
) -> Result<Vec<(Channel, i64, i64)>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    store.get_customer(actor, customer).await?;
    Ok(store.customer_caps(customer).await?)
}

/// Sets (or with `None` removes) a customer's own cap on a channel: whoever may edit the
/// customer (the agent who took the call) or manage campaigns, within their record scope.
pub async fn set_customer_cap(
    store: &Store,
    actor: &Actor,
    customer: i64,
    channel: Channel,
    cap: Option<(i64, i64)>,
) -> Result<(), AppError> {
    if !(actor.can(Permission::WriteCustomers) || actor.can(Permission::ManageCampaigns)) {
        return Err(AppError::Forbidden);
    }
    store.get_customer(actor, customer).await?;
    let cap = match cap {
        Some((n, d)) => Some(ContactPolicy::check_customer_cap(n, d)?),
        None => None,
    };
    Ok(store
        .set_customer_cap(actor, customer, channel, cap)
        .await?)
}

/// The latest suppressed addresses.
pub async fn suppressions(store: &Store, actor: &Actor) -> Result<Vec<Suppression>, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    Ok(store.list_suppressions(500).await?)
}

/// Queues a send step now (a launch, a transactional message, the schedule's tick).
pub async fn queue_step(store: &Store) -> Result<(), AppError> {
    crate::jobs::queue_system_job(store, SEND_JOB, Some("all"), json!({})).await
}

/// The message of a link's token, for the public pages (`NotFound` for an unknown token).
pub async fn token_owner(store: &Store, token: &str) -> Result<TokenOwner, AppError> {
    if !valid_token(token) {
        return Err(guanxi_store::StoreError::NotFound.into());
    }
    Ok(store.outbox_token(token).await?)
}

/// Records a response through a link's token: a malformed token is not looked up, an
/// unknown one is `NotFound` from the store (which reads the token's message once).
async fn respond(store: &Store, token: &str, r: &Response) -> Result<TokenOwner, AppError> {
    if !valid_token(token) {
        return Err(guanxi_store::StoreError::NotFound.into());
    }
    Ok(store.record_response(token, r).await?)
}

/// A recipient unsubscribes through their link (no sign-in: the token is the proof).
pub async fn unsubscribe(store: &Store, token: &str) -> Result<TokenOwner, AppError> {
    respond(store, token, &Response::Unsubscribed).await
}

/// The open pixel was loaded.
pub async fn opened(store: &Store, token: &str) -> Result<(), AppError> {
    respond(store, token, &Response::Opened).await.map(|_| ())
}

/// A tracked link was followed: records the click and returns where to send the reader —
/// only a link that is in the message's own content (never an open redirect).
pub async fn clicked(store: &Store, token: &str, target: &str) -> Result<String, AppError> {
    let owner = token_owner(store, token).await?;
    let allowed = match owner.campaign_id {
        Some(c) => {
            let k = store.get_campaign(c).await?;
            k.campaign.variants.iter().any(|v| {
                email::links(&v.body_zh).contains(&target)
                    || email::links(&v.body_en).contains(&target)
            })
        }
        None => false,
    };
    if !allowed {
        return Err(ValidationErrors::single("u", "not_found").into());
    }
    respond(store, token, &Response::Clicked(target.to_string())).await?;
    Ok(target.to_string())
}

/// A provider's report on a message it carried (the report webhook): a late bounce, a
/// complaint, a failed delivery receipt block the address as a bounce at sending does; a
/// reply goes on the message and the customer's timeline. A report naming no message of
/// ours is refused (`message_id`/`unknown_message`), never guessed at.
pub async fn report(
    store: &Store,
    actor: &Actor,
    r: &ProviderReport,
) -> Result<TokenOwner, AppError> {
    require(actor, Permission::ManageCampaigns)?;
    let (target, effect) = r.validate()?;
    let token = match target {
        MessageRef::Token(t) => t,
        MessageRef::ProviderKey(k) => match store.outbox_token_of_key(&k).await {
            Err(guanxi_store::StoreError::NotFound) => {
                return Err(ValidationErrors::single("message_id", "unknown_message").into())
            }
            other => other?,
        },
    };
    let response = match effect {
        ReportEffect::Bounce(b) => Response::Bounced(b),
        ReportEffect::Reply(t) => Response::Replied(t),
    };
    let owner = match store.record_response(&token, &response).await {
        Err(guanxi_store::StoreError::NotFound) => {
            return Err(ValidationErrors::single("message_id", "unknown_message").into())
        }
        other => other?,
    };
    store
        .audit(
            actor,
            guanxi_store::audit::AuditEvent {
                action: "report",
                entity: "outbox",
                entity_id: Some(owner.outbox_id),
                detail: json!({"kind": r.kind, "customer_id": owner.customer_id,
                    "campaign_id": owner.campaign_id}),
            },
        )
        .await?;
    Ok(owner)
}

/// Tokens are 32 lower-case hex digits: anything else is not looked up.
fn valid_token(t: &str) -> bool {
    guanxi_domain::campaign::report::is_token(t)
}
