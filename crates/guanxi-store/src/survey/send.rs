//! Sending surveys: who a trigger invites next (tickets resolved and orders placed since the
//! survey's cursor, a segment's customers through a send), an invitation together with the
//! transactional message that carries its link (one transaction: no invitation without its
//! message, no message without its invitation), and the one reminder of an unanswered link.
//!
//! The message goes to the customer's e-mail, else (when the caller allows it) their mobile,
//! skipping addresses that unsubscribed, bounced hard or complained: a survey link is
//! transactional (not capped, no marketing consent needed) but honours an explicit opt-out.
//! The link's token rides in the outbox row's `secret` until it is delivered, then is wiped;
//! the invitation keeps only its hash.

use chrono::{DateTime, Duration, Utc};
use guanxi_domain::segment::AsOf;
use guanxi_domain::survey::invite::{invite_text, language_of};

use super::links::{invite_in, Invited, Snapshot};
use super::setup::SurveyRecord;
use crate::campaign::random_token_sql;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::segments::{push_segment, Unusable};
use crate::sql::SqlBuilder;

/// What inviting and sending did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Invited; the message is in the outbox.
    Queued(i64),
    /// Not invited: surveyed inside the fatigue window, or this cause was already invited.
    NotInvited(Invited),
    /// Not invited: no address the message may go to.
    NoAddress,
}

/// A resolved ticket or an order a trigger invites for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `ticket:12`, `order:7`, `segment:3:41`.
    pub key: String,
    /// The customer.
    pub customer_id: i64,
    /// What the invitation copies.
    pub snapshot: Snapshot,
    /// Where the survey's cursor moves once this one is done.
    pub cursor: i64,
}

/// A new personal link and where its message may go.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    /// The link's token (it rides in the outbox until delivered).
    pub token: &'a str,
    /// Its SHA-256, which the invitation keeps.
    pub token_hash: &'a str,
    /// Contact-point kinds the message may go to, best first by the store's order.
    pub kinds: &'a [&'a str],
}

/// An invitation due its reminder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueReminder {
    /// The invitation.
    pub invitation_id: i64,
    /// Its survey.
    pub survey_id: i64,
    /// The customer.
    pub customer_id: i64,
}

/// An open send of a survey to a segment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SegmentSend {
    /// Id.
    pub id: i64,
    /// The survey.
    pub survey_id: i64,
    /// The segment.
    pub segment_id: i64,
    /// The last customer id read.
    pub cursor: i64,
}

/// The transactional message of an invitation or a reminder, queued in `conn`'s transaction:
/// `None` when the customer has no address it may go to.
#[allow(clippy::too_many_arguments)]
async fn queue_message(
    conn: &mut sqlx::AnyConnection,
    backend: crate::db::Backend,
    survey: &SurveyRecord,
    customer: i64,
    (name, gender): &(String, Option<String>),
    link: NewLink<'_>,
    reminder: bool,
    now: i64,
) -> Result<Option<i64>> {
    let kinds: Vec<String> = link.kinds.iter().map(|k| k.to_string()).collect();
    let mut q = SqlBuilder::new(
        "SELECT cp.id, cp.kind, cp.value_normalized FROM contact_points cp WHERE cp.customer_id = ",
    );
    q.int(customer)
        .push(" AND cp.deleted_at IS NULL AND cp.kind IN ")
        .text_list(&kinds)
        .push(
            " AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.address = cp.value_normalized \
             AND s.channel = CASE WHEN cp.kind = 'email' THEN 'email' ELSE 'sms' END \
             AND s.reason IN ('unsubscribed', 'hard_bounce', 'complaint')) \
             ORDER BY CASE WHEN cp.kind = 'email' THEN 0 ELSE 1 END, cp.is_primary DESC, cp.id LIMIT 1",
        );
    let point: Option<(i64, String, String)> = q.query_as().fetch_optional(&mut *conn).await?;
    let Some((cp, kind, address)) = point else {
        return Ok(None);
    };
    let text = invite_text(
        &survey.name,
        name,
        gender.as_deref(),
        survey.expires_days,
        reminder,
    );
    let id: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO outbox (campaign_id, customer_id, purpose, channel, variant, \
         contact_point_id, address, lang, subject, body, secret, state, due_at, token, created_at) \
         VALUES (NULL, $1, 'transactional', $2, '', $3, $4, $5, $6, $7, $8, 'queued', $9, {}, $9) \
         RETURNING id",
        random_token_sql(backend)
    ))
    .bind(customer)
    .bind(if kind == "email" { "email" } else { "sms" })
    .bind(cp)
    .bind(address)
    .bind(text.lang)
    .bind(text.subject)
    .bind(text.body)
    .bind(link.token)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(id))
}

/// A live customer's name and gender (for the language and the form of address).
async fn person(
    conn: &mut sqlx::AnyConnection,
    customer: i64,
) -> Result<Option<(String, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT name, gender FROM customers WHERE id = $1 AND deleted_at IS NULL")
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Asks the survey sender to send `survey` to `customer` for `cause` (a rule's firing),
/// inside the caller's transaction; asking twice for one cause asks once.
pub(crate) async fn request_survey(
    conn: &mut sqlx::AnyConnection,
    survey: i64,
    customer: i64,
    cause: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO survey_requests (survey_id, customer_id, cause, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (survey_id, cause) DO NOTHING",
    )
    .bind(survey)
    .bind(customer)
    .bind(cause)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A survey a rule asked to send to a customer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SurveyRequest {
    /// Id.
    pub id: i64,
    /// The survey.
    pub survey_id: i64,
    /// The customer.
    pub customer_id: i64,
    /// Its cause (`rule:<firing>`).
    pub cause: String,
}

impl Store {
    /// The oldest survey requests not yet carried out.
    pub async fn pending_survey_requests(&self, limit: i64) -> Result<Vec<SurveyRequest>> {
        Ok(sqlx::query_as(
            "SELECT id, survey_id, customer_id, cause FROM survey_requests \
             WHERE outcome IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Records what became of a survey request (`sent`, `fatigued`, `no_address`, `inactive`).
    pub async fn finish_survey_request(&self, id: i64, outcome: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE survey_requests SET outcome = $1, done_at = $2 WHERE id = $3")
            .bind(outcome)
            .bind(to_ms(Utc::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Invites `customer` to `survey` for `cause` (see [`Store::invite_to_survey`]) and queues
    /// the message carrying the link `token` (whose hash the invitation keeps) to an address
    /// of `kinds`, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn invite_and_send(
        &self,
        survey: &SurveyRecord,
        customer: i64,
        cause: &str,
        snapshot: &Snapshot,
        link: NewLink<'_>,
        now: DateTime<Utc>,
    ) -> Result<Sent> {
        let fatigue = self.survey_fatigue_days().await?;
        let mut tx = self.begin_write().await?;
        let Some(who) = person(&mut tx, customer).await? else {
            return Ok(Sent::NoAddress);
        };
        let locale = language_of(&who.0);
        match invite_in(
            &mut tx,
            survey,
            customer,
            cause,
            snapshot,
            link.token_hash,
            locale,
            now,
            fatigue,
        )
        .await?
        {
            Invited::Created(id) => {
                match queue_message(
                    &mut tx,
                    self.backend(),
                    survey,
                    customer,
                    &who,
                    link,
                    false,
                    to_ms(now),
                )
                .await?
                {
                    Some(_) => {
                        tx.commit().await?;
                        Ok(Sent::Queued(id))
                    }
                    // Rolled back: no invitation that nobody can receive.
                    None => Ok(Sent::NoAddress),
                }
            }
            other => Ok(Sent::NotInvited(other)),
        }
    }

    /// Tickets resolved at or after `since` (ms) and the survey's cursor, oldest first: a
    /// ticket-resolved survey's next causes (cursor: the resolution time).
    pub async fn resolved_tickets_for(
        &self,
        survey: &SurveyRecord,
        cursor: i64,
        limit: i64,
    ) -> Result<Vec<Cause>> {
        let since = cursor.max(to_ms(survey.created_at));
        type Row = (i64, i64, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, customer_id, resolved_at, assignee_id, team_id FROM tickets \
             WHERE resolved_at >= $1 AND customer_id IS NOT NULL ORDER BY resolved_at, id LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, customer_id, at, agent, team)| Cause {
                key: format!("ticket:{id}"),
                customer_id,
                snapshot: Snapshot {
                    ticket_id: Some(id),
                    agent_id: agent,
                    team_id: team,
                    ..Default::default()
                },
                cursor: at,
            })
            .collect())
    }

    /// Orders after the survey's cursor (an order id) placed since the survey began and within
    /// the last week (an order imported from years ago asks nobody), by id, each with its
    /// first line's product.
    pub async fn orders_for(
        &self,
        survey: &SurveyRecord,
        cursor: i64,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Cause>> {
        let since = to_ms(survey.created_at).max(to_ms(now - Duration::days(7)));
        let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT o.id, o.customer_id, (SELECT p.sku FROM order_lines l JOIN products p \
             ON p.id = l.product_id WHERE l.order_id = o.id ORDER BY l.line_no LIMIT 1) \
             FROM orders o WHERE o.id > $1 AND o.ordered_at >= $2 ORDER BY o.id LIMIT $3",
        )
        .bind(cursor)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, customer_id, product)| Cause {
                key: format!("order:{id}"),
                customer_id,
                snapshot: Snapshot {
                    order_id: Some(id),
                    product,
                    ..Default::default()
                },
                cursor: id,
            })
            .collect())
    }

    /// Moves a survey's trigger cursor on.
    pub async fn move_survey_cursor(&self, survey: i64, cursor: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE surveys SET cursor = $1 WHERE id = $2 AND cursor < $1")
            .bind(cursor)
            .bind(survey)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A survey's trigger cursor.
    pub async fn survey_cursor(&self, survey: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT cursor FROM surveys WHERE id = $1")
                .bind(survey)
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Starts sending `survey` to the customers of `segment` (read in chunks by the sender),
    /// audited.
    pub async fn start_segment_send(
        &self,
        actor: &guanxi_domain::role::Actor,
        survey: i64,
        segment: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO survey_sends (survey_id, segment_id, created_at, created_by) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(survey)
        .bind(segment)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::entry(
            &mut tx,
            actor,
            "send_survey",
            "survey",
            Some(survey),
            serde_json::json!({"segment_id": segment, "send_id": id}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The sends still reading their segment, oldest first.
    pub async fn open_segment_sends(&self) -> Result<Vec<SegmentSend>> {
        Ok(sqlx::query_as(
            "SELECT id, survey_id, segment_id, cursor FROM survey_sends WHERE done = FALSE ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// The next `limit` customers of a send's segment after its cursor; `None` when the
    /// segment is gone or no longer valid (the send ends).
    pub async fn segment_send_chunk(
        &self,
        send: &SegmentSend,
        as_of: AsOf,
        limit: i64,
    ) -> Result<Option<Vec<i64>>> {
        let mut conn = self.read.acquire().await?;
        let (f, k) = match self
            .resolve_saved_segment(&mut conn, send.segment_id, as_of)
            .await?
        {
            Ok(r) => r,
            Err(Unusable::Gone | Unusable::Invalid) => return Ok(None),
        };
        let mut q = SqlBuilder::new("SELECT c.id FROM customers c WHERE c.deleted_at IS NULL AND ");
        push_segment(&mut q, &f, &k);
        q.push(" AND c.id > ")
            .int(send.cursor)
            .push(" ORDER BY c.id LIMIT ")
            .int(limit);
        Ok(Some(q.query_scalar().fetch_all(&mut *conn).await?))
    }

    /// Records a send's progress (and, with `done`, its end).
    pub async fn advance_segment_send(
        &self,
        id: i64,
        cursor: i64,
        invited: i64,
        skipped: i64,
        done: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE survey_sends SET cursor = $1, invited = invited + $2, skipped = skipped + $3, \
             done = $4 WHERE id = $5",
        )
        .bind(cursor)
        .bind(invited)
        .bind(skipped)
        .bind(done)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unanswered, unexpired invitations made more than `after_days` ago without a reminder
    /// yet (and at least a day left on the link), oldest first.
    pub async fn reminders_due(
        &self,
        after_days: i64,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueReminder>> {
        Ok(sqlx::query_as(
            "SELECT id AS invitation_id, survey_id, customer_id FROM survey_invitations \
             WHERE responded_at IS NULL \
             AND reminders = 0 AND created_at < $1 AND created_at >= $2 AND expires_at > $3 \
             ORDER BY created_at, id LIMIT $4",
        )
        .bind(to_ms(now - Duration::days(after_days)))
        // Invitations older than the longest link life are expired anyway: bounded scan.
        .bind(to_ms(
            now - Duration::days(guanxi_domain::survey::definition::MAX_EXPIRES_DAYS + 1),
        ))
        .bind(to_ms(now + Duration::days(1)))
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Sends an invitation's reminder with a second link (`token`, hashing to `token_hash`)
    /// that opens the same invitation; `false` when it was already reminded, answered, or the
    /// customer has no address any more (then it is marked reminded, so it is not retried).
    pub async fn send_reminder(
        &self,
        survey: &SurveyRecord,
        due: &DueReminder,
        link: NewLink<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE survey_invitations SET reminders = 1, reminded_at = $1, reminder_token_hash = $2 \
             WHERE id = $3 AND reminders = 0 AND responded_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(link.token_hash)
        .bind(due.invitation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(false);
        }
        let queued = match person(&mut tx, due.customer_id).await? {
            Some(who) => {
                queue_message(
                    &mut tx,
                    self.backend(),
                    survey,
                    due.customer_id,
                    &who,
                    link,
                    true,
                    to_ms(now),
                )
                .await?
            }
            None => None,
        };
        if queued.is_none() {
            // Nowhere to send it: reminded without a link, so the sweep moves on.
            sqlx::query("UPDATE survey_invitations SET reminder_token_hash = NULL WHERE id = $1")
                .bind(due.invitation_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(queued.is_some())
    }

    /// Days after which an unanswered invitation is reminded once (0: never).
    pub async fn survey_remind_after_days(&self) -> Result<i64> {
        let d: Option<i64> =
            sqlx::query_scalar("SELECT remind_after_days FROM survey_settings WHERE id = 1")
                .fetch_optional(&self.read)
                .await?;
        Ok(d.unwrap_or(DEFAULT_REMIND_AFTER_DAYS))
    }
}

/// Days before the one reminder when none was set.
pub const DEFAULT_REMIND_AFTER_DAYS: i64 = 3;
