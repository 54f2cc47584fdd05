//! Who a campaign reaches: the live customers of any of its segments and none of its
//! exclusions, each with the best contact point of the channel and, when they get nothing, why
//! (see [`guanxi_domain::campaign::SkipReason`]). One SQL expression decides the reason; the
//! preview counts it and the preparation stores it, so what the marketer saw is what happens.
//!
//! Preparation reads the audience's ids in chunks on the read pool, then writes each chunk's
//! outbox rows in one short transaction keyed `(campaign_id, customer_id)`: a crash repeats at
//! most a chunk, and the unique key keeps every customer to one row.

use chrono::Utc;
use guanxi_domain::campaign::{CampaignInput, MergeData, SkipReason};
use guanxi_domain::segment::{AsOf, SegmentFilter};
use serde::Serialize;

use super::setup::CampaignRecord;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::segments::{push_segment, KeptPlan, Unusable};
use crate::sql::SqlBuilder;

/// Customers one preparation step reads.
pub const PREPARE_CHUNK: i64 = 2000;
/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The campaign's segments resolved for a day.
pub(crate) struct Audience {
    include: Vec<(SegmentFilter, KeptPlan)>,
    exclude: Vec<(SegmentFilter, KeptPlan)>,
}

/// How many customers of the audience would be sent to, held out or skipped, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AudiencePreview {
    /// Customers in the audience.
    pub total: i64,
    /// Who would get the message now.
    pub send: i64,
    /// Held out as the control group.
    pub control: i64,
    /// Would get it, but later: over the frequency cap now.
    pub over_cap: i64,
    /// Skipped, per reason (`no_address`, `unsubscribed`, `bounced`, `no_consent`,
    /// `recent_complaint`), every reason listed.
    pub skipped: Vec<(String, i64)>,
}

/// What one preparation step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PrepareReport {
    /// Customers read.
    pub read: usize,
    /// Whether the whole audience is now in the outbox.
    pub done: bool,
}

/// Knuth's hash bucket 0..1000 of `c.id` in campaign `id`, as
/// [`guanxi_domain::campaign::bucket`] computes it (a test holds the two equal).
fn bucket_sql(id: i64) -> String {
    format!(
        "((((c.id + {}) * 2654435761) % 4294967296) * 1000 / 4294967296)",
        id * 40_503
    )
}

impl Store {
    /// The campaign's segments for `as_of`; a segment that is gone or no longer valid is
    /// refused (`segments`/`not_found`), never read as "everyone".
    pub(crate) async fn resolve_audience(
        &self,
        conn: &mut sqlx::AnyConnection,
        c: &CampaignInput,
        as_of: AsOf,
    ) -> Result<Audience> {
        let mut out = Audience {
            include: vec![],
            exclude: vec![],
        };
        for (field, ids) in [("segments", &c.segments), ("exclude", &c.exclude)] {
            for id in ids {
                let (f, k) = match self.resolve_saved_segment(conn, *id, as_of).await? {
                    Ok(resolved) => resolved,
                    Err(why) => {
                        let code = match why {
                            Unusable::Gone => "not_found",
                            Unusable::Invalid => "invalid_reference",
                        };
                        return Err(guanxi_domain::ValidationErrors::single(field, code).into());
                    }
                };
                if field == "segments" {
                    out.include.push((f, k));
                } else {
                    out.exclude.push((f, k));
                }
            }
        }
        Ok(out)
    }

    /// The preview: the audience counted by what would happen to each customer, for a start
    /// at `as_of.now`.
    pub async fn preview_campaign(
        &self,
        id: Option<i64>,
        c: &CampaignInput,
        as_of: AsOf,
    ) -> Result<AudiencePreview> {
        let mut conn = self.read.acquire().await?;
        let aud = self.resolve_audience(&mut conn, c, as_of).await?;
        let policy = self.contact_policy(c.channel).await?;
        let now = to_ms(as_of.now);
        let mut q = SqlBuilder::new("SELECT CASE WHEN x.skip IS NOT NULL THEN x.skip WHEN ");
        q.push(&bucket_sql(id.unwrap_or(0)).replace("c.id", "x.customer_id"))
            .push(" < ")
            .int(c.control_percent * 10)
            .push(
                " THEN 'control' WHEN (SELECT COUNT(*) FROM outbox o WHERE o.customer_id = \
                 x.customer_id AND o.channel = ",
            )
            .text(c.channel.as_str())
            .push(" AND o.purpose = 'marketing' AND o.state = 'sent' AND o.sent_at > ")
            .int(now - policy.cap_days * DAY_MS)
            .push(") >= ")
            .int(policy.cap_count)
            .push(" THEN 'over_cap' ELSE 'send' END AS what, COUNT(*) FROM (");
        push_candidates(
            &mut q,
            &aud,
            c,
            policy.soft_bounce_limit,
            policy.complaint_pause_days,
            now,
            None,
        );
        q.push(") x GROUP BY 1");
        let rows: Vec<(String, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let mut p = AudiencePreview {
            skipped: SkipReason::ALL
                .iter()
                .map(|r| (r.as_str().to_string(), 0))
                .collect(),
            ..Default::default()
        };
        for (what, n) in rows {
            p.total += n;
            match what.as_str() {
                "send" => p.send += n,
                "control" => p.control += n,
                "over_cap" => p.over_cap += n,
                reason => {
                    if let Some(s) = p.skipped.iter_mut().find(|(r, _)| r == reason) {
                        s.1 += n;
                    }
                }
            }
        }
        Ok(p)
    }

    /// The first `n` customers (by id) who would get the campaign now, with what fills its
    /// merge fields (the coupon excepted: it is made at sending), for the preview per
    /// recipient and the test send.
    pub async fn audience_sample(
        &self,
        c: &CampaignInput,
        as_of: AsOf,
        n: i64,
    ) -> Result<Vec<(i64, MergeData)>> {
        let mut conn = self.read.acquire().await?;
        let aud = self.resolve_audience(&mut conn, c, as_of).await?;
        let policy = self.contact_policy(c.channel).await?;
        let mut q = SqlBuilder::new(
            "SELECT x.customer_id, k.name, k.gender, u.display_name, \
             (SELECT CAST(SUM(e.points) AS BIGINT) FROM loyalty_entries e \
              WHERE e.customer_id = x.customer_id) FROM (",
        );
        push_candidates(
            &mut q,
            &aud,
            c,
            policy.soft_bounce_limit,
            policy.complaint_pause_days,
            to_ms(as_of.now),
            None,
        );
        q.push(
            ") x JOIN customers k ON k.id = x.customer_id LEFT JOIN users u ON u.id = k.owner_id \
             WHERE x.skip IS NULL ORDER BY x.customer_id LIMIT ",
        )
        .int(n);
        type Row = (i64, String, Option<String>, Option<String>, Option<i64>);
        let rows: Vec<Row> = q.query_as().fetch_all(&mut *conn).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, gender, owner, points)| {
                (
                    id,
                    MergeData {
                        name,
                        gender,
                        owner,
                        points: Some(points.unwrap_or(0)),
                        coupon: None,
                    },
                )
            })
            .collect())
    }

    /// One preparation step of a sending campaign: the next chunk of its audience into the
    /// outbox. Idempotent: a repeated chunk adds nothing.
    pub async fn prepare_campaign_step(
        &self,
        rec: &CampaignRecord,
        as_of: AsOf,
    ) -> Result<PrepareReport> {
        let c = &rec.campaign;
        let mut conn = self.read.acquire().await?;
        let aud = self.resolve_audience(&mut conn, c, as_of).await?;
        let (cursor,): (i64,) = sqlx::query_as("SELECT cursor FROM campaigns WHERE id = $1")
            .bind(rec.id)
            .fetch_one(&mut *conn)
            .await?;
        let mut q = SqlBuilder::new("SELECT c.id FROM customers c WHERE ");
        push_audience(&mut q, &aud);
        q.push(" AND c.id > ")
            .int(cursor)
            .push(" ORDER BY c.id LIMIT ")
            .int(PREPARE_CHUNK);
        let ids: Vec<i64> = q.query_scalar().fetch_all(&mut *conn).await?;
        drop(conn);
        let policy = self.contact_policy(c.channel).await?;
        let now = to_ms(Utc::now());
        let rows = OutboxRows {
            rec,
            start: rec.send_at.map(to_ms).unwrap_or(now),
            spread: c.spread_hours * 3_600_000,
            now,
        };
        let done = (ids.len() as i64) < PREPARE_CHUNK;
        let mut tx = self.begin_write().await?;
        if let Some(last) = ids.last() {
            let mut q = SqlBuilder::new("");
            rows.push_insert(&mut q, self.backend(), &aud, &policy, &ids);
            q.query().execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE campaigns SET cursor = $1, audience_total = audience_total + $2 WHERE id = $3",
            )
            .bind(*last)
            .bind(ids.len() as i64)
            .bind(rec.id)
            .execute(&mut *tx)
            .await?;
        }
        if done {
            sqlx::query("UPDATE campaigns SET prepared = 1 WHERE id = $1")
                .bind(rec.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(PrepareReport {
            read: ids.len(),
            done,
        })
    }
}

/// The outbox rows of some of a campaign's customers: what the preparation writes for each
/// chunk of the audience, and a rule's enrolment for the customers it enrols.
pub(crate) struct OutboxRows<'a> {
    /// The campaign.
    pub(crate) rec: &'a CampaignRecord,
    /// When sending starts (epoch ms).
    pub(crate) start: i64,
    /// Over how long it is spread (ms): each customer's due time is `start` plus their
    /// bucket's share of it.
    pub(crate) spread: i64,
    /// Now (epoch ms).
    pub(crate) now: i64,
}

impl OutboxRows<'_> {
    /// `INSERT INTO outbox … SELECT` the rows of `ids` (read from the audience, or enrolled):
    /// variant, control group and A/B hold-back by the customer's bucket, skip reason by
    /// [`push_candidates`]; a customer already in the campaign is left as they are.
    pub(crate) fn push_insert(
        &self,
        q: &mut SqlBuilder,
        backend: crate::db::Backend,
        aud: &Audience,
        policy: &guanxi_domain::campaign::ContactPolicy,
        ids: &[i64],
    ) {
        let (rec, c) = (self.rec, &self.rec.campaign);
        let control = c.control_percent * 10;
        // Until an A/B test's winner is chosen, its sample splits into `a` and `b` and the
        // rest is held; once chosen, everyone new gets the winner.
        let sample =
            c.ab.filter(|_| c.variants.len() == 2 && rec.winner.is_none())
                .map(|ab| (1000 - control) * ab.sample_percent / 100);
        let b = bucket_sql(rec.id).replace("c.id", "x.customer_id");
        q.push(
            "INSERT INTO outbox (campaign_id, customer_id, purpose, channel, variant, \
             contact_point_id, address, lang, state, skip_reason, due_at, token, created_at) \
             SELECT ",
        );
        q.int(rec.id)
            .push(", x.customer_id, 'marketing', ")
            .text(c.channel.as_str())
            .push(", ");
        match sample {
            Some(s) => {
                q.push(&format!(
                    "CASE WHEN {b} - {control} >= {s} THEN '' \
                     WHEN ({b} - {control}) * 2 >= {s} THEN 'b' ELSE 'a' END"
                ));
            }
            None => {
                q.text(rec.winner.clone().unwrap_or_else(|| "a".into()));
            }
        }
        q.push(", x.cp_id, x.address, 'auto', ");
        q.push(&format!(
            "CASE WHEN x.skip IS NOT NULL THEN 'skipped' WHEN {b} < {control} THEN 'control' "
        ));
        if let Some(s) = sample {
            q.push(&format!("WHEN {b} - {control} >= {s} THEN 'held' "));
        }
        q.push("ELSE 'queued' END, x.skip, ")
            .int(self.start)
            .push(&format!(" + {b} * "))
            .int(self.spread)
            .push(" / 1000, ")
            .push(super::random_token_sql(backend))
            .push(", ")
            .int(self.now)
            .push(" FROM (");
        push_candidates(
            q,
            aud,
            c,
            policy.soft_bounce_limit,
            policy.complaint_pause_days,
            self.now,
            Some(ids),
        );
        q.push(") x WHERE true ON CONFLICT (campaign_id, customer_id) DO NOTHING");
    }
}

/// `c.deleted_at IS NULL AND (any included) AND NOT (any excluded)`, on `customers c`.
fn push_audience(q: &mut SqlBuilder, aud: &Audience) {
    q.push("c.deleted_at IS NULL AND (");
    if aud.include.is_empty() {
        // A campaign only rules enrol in has no audience of its own.
        q.push("1 = 0");
    }
    for (i, (f, k)) in aud.include.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        push_segment(q, f, k);
    }
    q.push(")");
    push_exclusions(q, aud);
}

/// ` AND NOT (excluded)` for each of the campaign's exclusions, on `customers c`.
pub(crate) fn push_exclusions(q: &mut SqlBuilder, aud: &Audience) {
    for (f, k) in &aud.exclude {
        q.push(" AND NOT ");
        push_segment(q, f, k);
    }
}

/// `SELECT customer_id, cp_id, address, skip`: each customer of the audience (or of `ids`,
/// already read from it) with the best contact point of the channel — consented first, then
/// primary, then oldest — and the reason they get nothing (NULL: they get the message).
fn push_candidates(
    q: &mut SqlBuilder,
    aud: &Audience,
    c: &CampaignInput,
    soft_limit: i64,
    pause_days: i64,
    now: i64,
    ids: Option<&[i64]>,
) {
    let kinds: Vec<String> = c
        .channel
        .contact_kinds()
        .iter()
        .map(|k| k.to_string())
        .collect();
    q.push(
        "SELECT y.customer_id, y.cp_id, p.value_normalized AS address, CASE \
         WHEN y.cp_id IS NULL THEN 'no_address' \
         WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ",
    )
    .text(c.channel.as_str())
    .push(" AND s.address = p.value_normalized AND s.reason = 'unsubscribed') THEN 'unsubscribed' ")
    .push("WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ")
    .text(c.channel.as_str())
    .push(
        " AND s.address = p.value_normalized AND (s.reason IN ('hard_bounce', 'complaint') \
         OR s.soft_count >= ",
    )
    .int(soft_limit)
    .push(")) THEN 'bounced' WHEN p.consent_marketing = FALSE THEN 'no_consent' ");
    if pause_days > 0 {
        q.push(
            "WHEN EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = y.customer_id \
             AND t.kind = 'complaint' AND t.created_at >= ",
        )
        .int(now - pause_days * DAY_MS)
        .push(") THEN 'recent_complaint' ");
    }
    q.push(
        "ELSE NULL END AS skip FROM (SELECT c.id AS customer_id, (SELECT cp.id FROM \
         contact_points cp WHERE cp.customer_id = c.id AND cp.deleted_at IS NULL AND cp.kind IN ",
    )
    .text_list(&kinds)
    .push(
        " ORDER BY cp.consent_marketing DESC, cp.is_primary DESC, cp.id LIMIT 1) AS cp_id \
         FROM customers c WHERE ",
    );
    match ids {
        Some(ids) => {
            q.push("c.id IN ").int_list(ids);
        }
        None => push_audience(q, aud),
    }
    q.push(") y LEFT JOIN contact_points p ON p.id = y.cp_id");
}
