//! The outbox's sending side. A sender claims due rows of one campaign (or the transactional
//! ones) as `sending` with a lease, delivers each, and records each outcome in its own short
//! transaction right after the provider answered — so a crash leaves at most the messages in
//! flight unrecorded. Those are claimed again once their lease runs out and sent again with
//! the same `message_key`, the idempotency key receivers de-duplicate by (Message-ID, the SMS
//! provider's out-id): nothing is lost, and nothing but an in-flight message can repeat.

use chrono::Utc;
use guanxi_domain::campaign::bounce::Bounce;
use guanxi_domain::campaign::{Channel, ContactPolicy, MergeData};

use super::policy::suppress_in;
use crate::db::{to_ms, Backend, Store};
use crate::error::Result;
use crate::events::{project, EventSource, Rows};
use crate::sql::SqlBuilder;

/// Messages on the timeline, at the time they were sent, coded by the furthest response
/// (sent, opened, clicked; unsubscribed and bounced over those), titled by the campaign.
pub(crate) const MESSAGE_EVENTS: EventSource = EventSource {
    kind: "message",
    select: "SELECT customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, \
             user_id, version, link_id FROM (SELECT o.id, o.customer_id, o.sent_at AS at, \
             'message' AS kind, o.id AS ref_id, CASE \
             WHEN o.unsubscribed_at IS NOT NULL THEN 'unsubscribed' \
             WHEN o.bounced_at IS NOT NULL THEN 'bounced' \
             WHEN o.clicked_at IS NOT NULL THEN 'clicked' \
             WHEN o.opened_at IS NOT NULL THEN 'opened' ELSE 'sent' END AS code, \
             COALESCE(k.name, o.subject) AS title, o.channel AS detail, \
             CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency, \
             CAST(NULL AS BIGINT) AS user_id, CAST(NULL AS BIGINT) AS version, \
             o.campaign_id AS link_id FROM outbox o LEFT JOIN campaigns k ON k.id = o.campaign_id \
             WHERE o.sent_at IS NOT NULL) ob",
};

/// One claimed message with what its content is filled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Outbox id.
    pub id: i64,
    /// The campaign (none: a transactional message with its own subject and body).
    pub campaign_id: Option<i64>,
    /// The recipient.
    pub customer_id: i64,
    /// `marketing` or `transactional`.
    pub purpose: String,
    /// The channel's code.
    pub channel: String,
    /// The A/B variant (`a`, `b`).
    pub variant: String,
    /// Where it goes.
    pub address: Option<String>,
    /// The subject of a transactional message.
    pub subject: Option<String>,
    /// The body of a transactional message.
    pub body: Option<String>,
    /// A survey link's token, kept only until the message is delivered or given up.
    pub secret: Option<String>,
    /// The language it is written in (`auto` for a campaign's until it is sent).
    pub lang: String,
    /// The token of its unsubscribe, open and click links.
    pub token: String,
    /// Attempts, this one included.
    pub attempts: i64,
    /// The key of an earlier attempt that may have been delivered (resend with it).
    pub message_key: Option<String>,
    /// The customer's owner (a call task's assignee).
    pub owner_id: Option<i64>,
    /// The customer's own time zone (IANA), when not the shop's: their quiet hours.
    pub time_zone: Option<String>,
    /// Merge fields.
    pub merge: MergeData,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the provider under this key (Message-ID, out-id, task id).
    Sent {
        /// The idempotency key it was sent with.
        message_key: String,
        /// The language it was written in.
        lang: String,
    },
    /// A call list's message: a task for the customer's owner, created in the same
    /// transaction that marks the message sent (exactly once, no provider in between).
    CallTask {
        /// The task's title.
        title: String,
        /// The call script.
        note: String,
        /// The language it was written in.
        lang: String,
    },
    /// A direct-mail letter, written for its recipient and put on the campaign's mailing
    /// list (what the printer gets).
    Listed {
        /// The letter's heading.
        subject: String,
        /// The letter.
        body: String,
        /// The language it was written in.
        lang: String,
    },
    /// Not now: try again at `retry_at` (ms), or give up when `None`.
    Failed {
        /// What the provider said.
        error: String,
        /// What it means for the address, if it was about the address.
        bounce: Option<Bounce>,
        /// When to try again.
        retry_at: Option<i64>,
    },
}

#[derive(sqlx::FromRow)]
struct MsgRow {
    id: i64,
    campaign_id: Option<i64>,
    customer_id: i64,
    purpose: String,
    channel: String,
    variant: String,
    address: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    secret: Option<String>,
    lang: String,
    token: String,
    attempts: i64,
    message_key: Option<String>,
    name: String,
    gender: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    time_zone: Option<String>,
    points: Option<i64>,
}

/// SQL for a fresh outbox token (32 lower-case hex digits) on `backend`.
pub(crate) fn random_token_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "lower(hex(randomblob(16)))",
        Backend::Postgres => "md5(random()::text || clock_timestamp()::text)",
    }
}

/// Marks a claimed message sent under `key` in `lang` (a direct-mail letter with its written
/// `(subject, body)`), forgetting a survey link's token; `false` when another sender took it
/// over meanwhile.
async fn mark_sent(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    key: &str,
    lang: &str,
    written: Option<(&String, &String)>,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $1, message_key = $2, lang = $3, \
         subject = COALESCE($4, subject), body = COALESCE($5, body), lease_until = NULL, \
         last_error = NULL, secret = NULL WHERE id = $6 AND state = 'sending'",
    )
    .bind(now)
    .bind(key)
    .bind(lang)
    .bind(written.map(|w| w.0.as_str()))
    .bind(written.map(|w| w.1.as_str()))
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

impl Store {
    /// Claims up to `limit` due messages of `campaign` (transactional ones when `None`) on
    /// `channel` until `lease_ms` from now: queued and due, or left `sending` by a sender whose
    /// lease ran out.
    pub async fn claim_outbox(
        &self,
        campaign: Option<i64>,
        channel: Channel,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let scope = |q: &mut SqlBuilder| {
            match campaign {
                Some(c) => q.push(" campaign_id = ").int(c),
                None => q.push(" campaign_id IS NULL"),
            };
            q.push(" AND channel = ").text(channel.as_str());
        };
        let mut q = SqlBuilder::new("SELECT id FROM outbox WHERE");
        scope(&mut q);
        q.push(" AND state = 'sending' AND lease_until < ")
            .int(now)
            .push(" ORDER BY id LIMIT ")
            .int(limit);
        let mut ids: Vec<i64> = q.query_scalar().fetch_all(&mut *tx).await?;
        let mut q = SqlBuilder::new("SELECT id FROM outbox WHERE");
        scope(&mut q);
        q.push(" AND state = 'queued' AND due_at <= ")
            .int(now)
            .push(" ORDER BY due_at, id LIMIT ")
            .int(limit - ids.len() as i64);
        if (ids.len() as i64) < limit {
            ids.extend(q.query_scalar::<i64>().fetch_all(&mut *tx).await?);
        }
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut q = SqlBuilder::new(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = ",
        );
        q.int(now + lease_ms).push(" WHERE id IN ").int_list(&ids);
        q.query().execute(&mut *tx).await?;
        let mut q = SqlBuilder::new(
            "SELECT o.id, o.campaign_id, o.customer_id, o.purpose, o.channel, o.variant, \
             o.address, o.subject, o.body, o.secret, o.lang, o.token, o.attempts, o.message_key, c.name, c.gender, \
             c.owner_id, u.display_name AS owner_name, c.time_zone, \
             (SELECT CAST(SUM(e.points) AS BIGINT) FROM loyalty_entries e \
              WHERE e.customer_id = o.customer_id) AS points \
             FROM outbox o JOIN customers c ON c.id = o.customer_id \
             LEFT JOIN users u ON u.id = c.owner_id WHERE o.id IN ",
        );
        q.int_list(&ids).push(" ORDER BY o.due_at, o.id");
        let rows: Vec<MsgRow> = q.query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxMessage {
                id: r.id,
                campaign_id: r.campaign_id,
                customer_id: r.customer_id,
                purpose: r.purpose,
                channel: r.channel,
                variant: r.variant,
                address: r.address,
                subject: r.subject,
                body: r.body,
                secret: r.secret,
                lang: r.lang,
                token: r.token,
                attempts: r.attempts,
                message_key: r.message_key,
                owner_id: r.owner_id,
                time_zone: r.time_zone,
                merge: MergeData {
                    name: r.name,
                    gender: r.gender,
                    owner: r.owner_name,
                    points: r.points,
                    coupon: None,
                },
            })
            .collect())
    }

    /// Marketing messages sent on `channel` to each of `customers` within the last
    /// `cap_days` (ms, any order), for the frequency cap, and each one's own cap if set.
    pub async fn recent_marketing(
        &self,
        channel: Channel,
        customers: &[i64],
        cap_days: i64,
    ) -> Result<(Vec<(i64, i64)>, Vec<(i64, i64, i64)>)> {
        if customers.is_empty() {
            return Ok((vec![], vec![]));
        }
        let since = to_ms(Utc::now()) - cap_days.max(365) * 86_400_000;
        let mut q = SqlBuilder::new(
            "SELECT customer_id, sent_at FROM outbox WHERE purpose = 'marketing' \
             AND state = 'sent' AND channel = ",
        );
        q.text(channel.as_str())
            .push(" AND sent_at > ")
            .int(since)
            .push(" AND customer_id IN ")
            .int_list(customers);
        let sent: Vec<(i64, i64)> = q.query_as().fetch_all(&self.read).await?;
        let mut q = SqlBuilder::new(
            "SELECT customer_id, cap_count, cap_days FROM customer_contact_caps WHERE channel = ",
        );
        q.text(channel.as_str())
            .push(" AND customer_id IN ")
            .int_list(customers);
        let caps: Vec<(i64, i64, i64)> = q.query_as().fetch_all(&self.read).await?;
        Ok((sent, caps))
    }

    /// Puts claimed messages back, due at their new times (`(id, due_at)`), for `reason`
    /// (`cap`, `quiet`, `rate`); the claim's attempt is given back.
    pub async fn defer_outbox(&self, rows: &[(i64, i64)], reason: &str) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (id, due) in rows {
            sqlx::query(
                "UPDATE outbox SET state = 'queued', due_at = $1, deferred = $2, \
                 attempts = attempts - 1, lease_until = NULL WHERE id = $3 AND state = 'sending'",
            )
            .bind(*due)
            .bind(reason)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records one delivery's outcome (its own transaction: see the module's note). A sent
    /// message goes on the timeline; a bounce suppresses the address per the policy.
    pub async fn record_delivery(
        &self,
        m: &OutboxMessage,
        outcome: &Outcome,
        policy: &ContactPolicy,
    ) -> Result<()> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        match outcome {
            Outcome::Sent { message_key, lang } => {
                if mark_sent(&mut tx, m.id, message_key, lang, None, now).await? {
                    project(&mut tx, &MESSAGE_EVENTS, Rows::Id(m.id)).await?;
                }
            }
            Outcome::Listed {
                subject,
                body,
                lang,
            } => {
                let key = format!("list:{}", m.token);
                if mark_sent(&mut tx, m.id, &key, lang, Some((subject, body)), now).await? {
                    project(&mut tx, &MESSAGE_EVENTS, Rows::Id(m.id)).await?;
                }
            }
            Outcome::CallTask { title, note, lang } => {
                let task = crate::timeline::insert_system_task(
                    &mut tx,
                    m.customer_id,
                    title,
                    Some(note.as_str()),
                    now + 86_400_000,
                    m.owner_id,
                    now,
                )
                .await?;
                if !mark_sent(&mut tx, m.id, &format!("task:{task}"), lang, None, now).await? {
                    // Taken over by another sender meanwhile: no task from this attempt.
                    return Ok(());
                }
                project(&mut tx, &MESSAGE_EVENTS, Rows::Id(m.id)).await?;
            }
            Outcome::Failed {
                error,
                bounce,
                retry_at,
            } => {
                let give_up =
                    retry_at.is_none() || matches!(bounce, Some(Bounce::Hard | Bounce::Complaint));
                let error: String = error.chars().take(500).collect();
                sqlx::query(
                    "UPDATE outbox SET state = $1, due_at = COALESCE($2, due_at), last_error = $3, \
                     lease_until = NULL, bounced_at = CASE WHEN $4 = 1 THEN $5 ELSE bounced_at END, \
                     secret = CASE WHEN $1 = 'failed' THEN NULL ELSE secret END \
                     WHERE id = $6 AND state = 'sending'",
                )
                .bind(if give_up { "failed" } else { "queued" })
                .bind(*retry_at)
                .bind(error.as_str())
                .bind(i64::from(bounce.is_some()))
                .bind(now)
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
                if let (Some(b), Some(addr)) = (bounce, &m.address) {
                    suppress_in(&mut tx, &m.channel, addr, Some(*b), Some(&error), now).await?;
                    sqlx::query(
                        "INSERT INTO outbox_events (outbox_id, campaign_id, customer_id, kind, \
                         detail, at) VALUES ($1, $2, $3, 'bounced', $4, $5)",
                    )
                    .bind(m.id)
                    .bind(m.campaign_id)
                    .bind(m.customer_id)
                    .bind(b.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(c) = m.campaign_id {
                    // Too many failures in a row: the campaign pauses itself.
                    sqlx::query(
                        "UPDATE campaigns SET errors = errors + 1, \
                         state = CASE WHEN errors + 1 >= $1 AND state = 'sending' THEN 'paused' \
                         ELSE state END, \
                         pause_reason = CASE WHEN errors + 1 >= $1 AND state = 'sending' \
                         THEN 'errors' ELSE pause_reason END WHERE id = $2",
                    )
                    .bind(policy.max_errors)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A run of successes resets a campaign's error count.
    pub async fn campaign_succeeded(&self, campaign: i64) -> Result<()> {
        sqlx::query("UPDATE campaigns SET errors = 0 WHERE id = $1 AND errors > 0")
            .bind(campaign)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
