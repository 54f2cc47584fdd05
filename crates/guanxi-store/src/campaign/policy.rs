//! The contact policies per channel and the suppression list. Unsubscribing and bouncing
//! write to both the suppression list (by address, so a re-added contact point stays blocked)
//! and the contact point's marketing consent, with the time.

use chrono::Utc;
use guanxi_domain::campaign::bounce::Bounce;
use guanxi_domain::campaign::{Channel, ContactPolicy};
use guanxi_domain::role::Actor;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Suppression {
    /// Channel.
    pub channel: String,
    /// The address (normalised e-mail or E.164 phone).
    pub address: String,
    /// `unsubscribed`, `hard_bounce`, `complaint` or `soft_bounce`.
    pub reason: String,
    /// Soft bounces counted.
    pub soft_count: i64,
    /// When it was last written.
    pub at: chrono::DateTime<Utc>,
}

impl Store {
    /// The policy of a channel.
    pub async fn contact_policy(&self, channel: Channel) -> Result<ContactPolicy> {
        type R = (i64, i64, i64, i64, i64, i64, i64, i64);
        let r: Option<R> = sqlx::query_as(
            "SELECT cap_count, cap_days, quiet_start, quiet_end, complaint_pause_days, \
             soft_bounce_limit, max_errors, per_second FROM contact_policies WHERE channel = $1",
        )
        .bind(channel.as_str())
        .fetch_optional(&self.read)
        .await?;
        let r = r.ok_or_else(|| {
            StoreError::Corrupt(format!("contact_policies: {}", channel.as_str()))
        })?;
        Ok(ContactPolicy {
            cap_count: r.0,
            cap_days: r.1,
            quiet_start: r.2,
            quiet_end: r.3,
            complaint_pause_days: r.4,
            soft_bounce_limit: r.5,
            max_errors: r.6,
            per_second: r.7,
        })
    }

    /// Saves a channel's policy (checked by the caller), audited.
    pub async fn save_contact_policy(
        &self,
        actor: &Actor,
        channel: Channel,
        p: &ContactPolicy,
    ) -> Result<ContactPolicy> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE contact_policies SET cap_count = $1, cap_days = $2, quiet_start = $3, \
             quiet_end = $4, complaint_pause_days = $5, soft_bounce_limit = $6, max_errors = $7, \
             per_second = $8, updated_at = $9, updated_by = $10 WHERE channel = $11",
        )
        .bind(p.cap_count)
        .bind(p.cap_days)
        .bind(p.quiet_start)
        .bind(p.quiet_end)
        .bind(p.complaint_pause_days)
        .bind(p.soft_bounce_limit)
        .bind(p.max_errors)
        .bind(p.per_second)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "save_contact_policy",
            "contact_policy",
            None,
            serde_json::json!({"channel": channel, "policy": p}),
        )
        .await?;
        tx.commit().await?;
        self.contact_policy(channel).await
    }

    /// A customer's own cap on a channel (they asked for fewer messages); `None` removes it.
    pub async fn set_customer_cap(
        &self,
        actor: &Actor,
        customer: i64,
        channel: Channel,
        cap: Option<(i64, i64)>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM customer_contact_caps WHERE customer_id = $1 AND channel = $2")
            .bind(customer)
            .bind(channel.as_str())
            .execute(&mut *tx)
            .await?;
        if let Some((count, days)) = cap {
            sqlx::query(
                "INSERT INTO customer_contact_caps (customer_id, channel, cap_count, cap_days, \
                 updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(customer)
            .bind(channel.as_str())
            .bind(count)
            .bind(days)
            .bind(to_ms(Utc::now()))
            .execute(&mut *tx)
            .await?;
        }
        entry(
            &mut tx,
            actor,
            "set_contact_cap",
            "customer",
            Some(customer),
            serde_json::json!({"channel": channel, "cap": cap}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A customer's own caps, per channel in menu order.
    pub async fn customer_caps(&self, customer: i64) -> Result<Vec<(Channel, i64, i64)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT channel, cap_count, cap_days FROM customer_contact_caps WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_all(&self.read)
        .await?;
        let mut caps: Vec<(Channel, i64, i64)> = rows
            .into_iter()
            .filter_map(|(c, n, d)| Channel::parse(&c).map(|c| (c, n, d)))
            .collect();
        caps.sort_by_key(|c| Channel::ALL.iter().position(|x| *x == c.0));
        Ok(caps)
    }

    /// The suppression list, newest first.
    pub async fn list_suppressions(&self, limit: i64) -> Result<Vec<Suppression>> {
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT channel, address, reason, soft_count, at FROM suppressions \
             ORDER BY at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Suppression {
                channel: r.0,
                address: r.1,
                reason: r.2,
                soft_count: r.3,
                at: crate::db::from_ms(r.4),
            })
            .collect())
    }
}

/// Blocks `address` on `channel` for `reason` (or counts a soft bounce), and withdraws the
/// marketing consent of the contact points with that address when it is blocked for good.
/// An unsubscribe is never overwritten by a bounce.
pub(crate) async fn suppress_in(
    conn: &mut sqlx::AnyConnection,
    channel: &str,
    address: &str,
    reason: Option<Bounce>,
    detail: Option<&str>,
    now: i64,
) -> Result<()> {
    let code = reason.map(Bounce::as_str).unwrap_or("unsubscribed");
    let soft = i64::from(reason == Some(Bounce::Soft));
    sqlx::query(
        "INSERT INTO suppressions (channel, address, reason, soft_count, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, address) DO UPDATE SET \
         reason = CASE WHEN suppressions.reason = 'unsubscribed' THEN suppressions.reason \
         WHEN excluded.reason = 'soft_bounce' AND suppressions.reason <> 'soft_bounce' \
         THEN suppressions.reason ELSE excluded.reason END, \
         soft_count = suppressions.soft_count + excluded.soft_count, \
         detail = excluded.detail, at = excluded.at",
    )
    .bind(channel)
    .bind(address)
    .bind(code)
    .bind(soft)
    .bind(detail)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if reason != Some(Bounce::Soft) {
        let kinds = match channel {
            "email" => "('email')",
            "mail" => "('address')",
            _ => "('mobile', 'phone')",
        };
        sqlx::query(&format!(
            "UPDATE contact_points SET consent_marketing = FALSE, consent_updated_at = $1, \
             version = version + 1, updated_at = $1 \
             WHERE value_normalized = $2 AND kind IN {kinds} AND consent_marketing = TRUE"
        ))
        .bind(now)
        .bind(address)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
