//! Responses: opens (a pixel), clicks (a redirect), unsubscribes (the one-click page and the
//! List-Unsubscribe POST), bounces and replies reported back; and the campaign's figures —
//! delivery by state, responses, conversions (orders within the attribution window after
//! the message) and revenue per variant, and the lift over the control group.

use chrono::Utc;
use guanxi_domain::campaign::bounce::Bounce;
use serde::{Deserialize, Serialize};

use super::outbox::MESSAGE_EVENTS;
use super::policy::suppress_in;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, Rows};

/// A response a recipient gives through a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The open pixel was loaded.
    Opened,
    /// A tracked link was followed (its target).
    Clicked(String),
    /// They asked for no more marketing on this channel.
    Unsubscribed,
    /// The provider reported a bounce or a complaint.
    Bounced(Bounce),
    /// They replied (an SMS reply, an e-mail answer), with what they said.
    Replied(String),
}

impl Response {
    fn kind(&self) -> &'static str {
        match self {
            Response::Opened => "opened",
            Response::Clicked(_) => "clicked",
            Response::Unsubscribed => "unsubscribed",
            Response::Bounced(_) => "bounced",
            Response::Replied(_) => "replied",
        }
    }
}

/// Whose message a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenOwner {
    /// Outbox id.
    pub outbox_id: i64,
    /// The campaign.
    pub campaign_id: Option<i64>,
    /// The recipient.
    pub customer_id: i64,
    /// The channel's code.
    pub channel: String,
    /// The address (masked by the page that shows it).
    pub address: Option<String>,
    /// The language it was written in.
    pub lang: String,
    /// Whether the address is already unsubscribed.
    pub unsubscribed: bool,
}

/// Counts of one variant (or the control group).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VariantFigures {
    /// `a`, `b` or `control`.
    pub variant: String,
    /// Messages sent (for the control group: customers held out).
    pub recipients: i64,
    /// Opened at least once.
    pub opened: i64,
    /// Clicked at least once.
    pub clicked: i64,
    /// Customers who ordered within the attribution window.
    pub converted: i64,
    /// Their orders.
    pub orders: i64,
    /// Those orders' value, minor units.
    pub revenue_minor: i64,
}

/// A campaign's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignFigures {
    /// Outbox rows per state (`queued`, `held`, `sending`, `sent`, `failed`, `skipped`,
    /// `control`, `cancelled`).
    pub states: Vec<(String, i64)>,
    /// Skipped rows per reason.
    pub skipped: Vec<(String, i64)>,
    /// Queued rows waiting for a reason (`cap`, `quiet`).
    pub deferred: Vec<(String, i64)>,
    /// Responses per kind (`opened`, `clicked`, `unsubscribed`, `bounced`, `replied`), each
    /// message counted once.
    pub responses: Vec<(String, i64)>,
    /// Per variant, and the control group.
    pub variants: Vec<VariantFigures>,
    /// Conversion rate of the sent minus that of the control group, in percentage points
    /// (none without a control group).
    pub lift_points: Option<f64>,
    /// Coupons of the campaign's offer issued to and redeemed by its recipients.
    pub coupons_redeemed: i64,
    /// Messages sent per day (local date, count), for the chart.
    pub sent_by_day: Vec<(String, i64)>,
    /// Messages responded to per day and kind (local date, `opened`/`clicked`/`replied`/…,
    /// count), for the chart.
    #[serde(default)]
    pub responses_by_day: Vec<(String, String, i64)>,
    /// When these figures were computed, for a large campaign's figures kept from the last
    /// background computation; none when they were computed for this answer.
    #[serde(default)]
    pub computed_at: Option<chrono::DateTime<Utc>>,
}

impl Store {
    /// Whose message `token` is (`NotFound` for an unknown one).
    pub async fn outbox_token(&self, token: &str) -> Result<TokenOwner> {
        type Row = (i64, Option<i64>, i64, String, Option<String>, String, i64);
        let row: Option<Row> = sqlx::query_as(
            "SELECT o.id, o.campaign_id, o.customer_id, o.channel, o.address, o.lang, \
                 CASE WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = o.channel \
                 AND s.address = o.address AND s.reason = 'unsubscribed') THEN 1 ELSE 0 END \
                 FROM outbox o WHERE o.token = $1",
        )
        .bind(token)
        .fetch_optional(&self.read)
        .await?;
        let r = row.ok_or(StoreError::NotFound)?;
        Ok(TokenOwner {
            outbox_id: r.0,
            campaign_id: r.1,
            customer_id: r.2,
            channel: r.3,
            address: r.4,
            lang: r.5,
            unsubscribed: r.6 == 1,
        })
    }

    /// The token of the message a provider knows by `key` (its answer to the send: a
    /// Message-ID, a BizId, a SerialNo); `NotFound` when no message has it.
    pub async fn outbox_token_of_key(&self, key: &str) -> Result<String> {
        sqlx::query_scalar("SELECT token FROM outbox WHERE message_key = $1 ORDER BY id LIMIT 1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Records a response to the message of `token`: the event, the first time on the
    /// message, the timeline; an unsubscribe or a bounce also blocks the address and
    /// withdraws its consent. Repeated opens and clicks are kept as events but counted once.
    pub async fn record_response(&self, token: &str, r: &Response) -> Result<TokenOwner> {
        let owner = self.outbox_token(token).await?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let detail = match r {
            Response::Clicked(url) => Some(url.chars().take(500).collect::<String>()),
            Response::Bounced(b) => Some(b.as_str().to_string()),
            Response::Replied(t) => Some(t.chars().take(500).collect::<String>()),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO outbox_events (outbox_id, campaign_id, customer_id, kind, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(owner.outbox_id)
        .bind(owner.campaign_id)
        .bind(owner.customer_id)
        .bind(r.kind())
        .bind(detail.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // A click means the message was opened too (images may be blocked).
        let column = match r {
            Response::Opened => Some("opened_at = COALESCE(opened_at, $1)"),
            Response::Clicked(_) => {
                Some("clicked_at = COALESCE(clicked_at, $1), opened_at = COALESCE(opened_at, $1)")
            }
            Response::Unsubscribed => Some("unsubscribed_at = COALESCE(unsubscribed_at, $1)"),
            Response::Bounced(_) => Some("bounced_at = COALESCE(bounced_at, $1)"),
            Response::Replied(_) => None,
        };
        if let Some(set) = column {
            sqlx::query(&format!("UPDATE outbox SET {set} WHERE id = $2"))
                .bind(now)
                .bind(owner.outbox_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(addr) = &owner.address {
            match r {
                Response::Unsubscribed => {
                    suppress_in(&mut tx, &owner.channel, addr, None, Some("link"), now).await?
                }
                Response::Bounced(b) => {
                    suppress_in(&mut tx, &owner.channel, addr, Some(*b), Some("report"), now)
                        .await?
                }
                _ => {}
            }
        }
        project(&mut tx, &MESSAGE_EVENTS, Rows::Id(owner.outbox_id)).await?;
        tx.commit().await?;
        Ok(owner)
    }

    /// The campaign's figures as of now, in the server's zone for the days.
    pub async fn campaign_figures(
        &self,
        id: i64,
        utc_offset_hours: i64,
    ) -> Result<CampaignFigures> {
        let k = self.get_campaign(id).await?;
        let pairs = |sql: &'static str| {
            let store = self.clone();
            async move {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as(sql).bind(id).fetch_all(&store.read).await?;
                Ok::<_, StoreError>(rows)
            }
        };
        let mut f = CampaignFigures {
            states: pairs(
                "SELECT state, COUNT(*) FROM outbox WHERE campaign_id = $1 GROUP BY state ORDER BY state",
            )
            .await?,
            skipped: pairs(
                "SELECT skip_reason, COUNT(*) FROM outbox WHERE campaign_id = $1 \
                 AND state = 'skipped' GROUP BY skip_reason ORDER BY skip_reason",
            )
            .await?,
            deferred: pairs(
                "SELECT deferred, COUNT(*) FROM outbox WHERE campaign_id = $1 \
                 AND state = 'queued' AND deferred IS NOT NULL GROUP BY deferred ORDER BY deferred",
            )
            .await?,
            responses: pairs(
                "SELECT kind, COUNT(DISTINCT outbox_id) FROM outbox_events WHERE campaign_id = $1 \
                 GROUP BY kind ORDER BY kind",
            )
            .await?,
            ..Default::default()
        };
        let window = k.campaign.attribution_days * 86_400_000;
        let start = k.send_at.map(to_ms).unwrap_or(0);
        // Each recipient (or held-out customer) with their orders in the window after the
        // message (after the start, for the control group).
        type V = (String, String, i64, i64, i64, i64, i64, Option<i64>);
        let rows: Vec<V> = sqlx::query_as(
            "SELECT x.state, x.variant, COUNT(*), COUNT(x.opened_at), COUNT(x.clicked_at), \
             COUNT(CASE WHEN x.n > 0 THEN 1 END), CAST(SUM(x.n) AS BIGINT), \
             CAST(SUM(x.revenue) AS BIGINT) FROM (SELECT o.state, o.variant, o.opened_at, \
             o.clicked_at, (SELECT COUNT(*) FROM orders r WHERE r.customer_id = o.customer_id \
             AND r.ordered_at >= COALESCE(o.sent_at, $2) AND r.ordered_at < COALESCE(o.sent_at, $2) + $3) AS n, \
             (SELECT SUM(r.total_minor) FROM orders r WHERE r.customer_id = o.customer_id \
             AND r.ordered_at >= COALESCE(o.sent_at, $2) AND r.ordered_at < COALESCE(o.sent_at, $2) + $3) AS revenue \
             FROM outbox o WHERE o.campaign_id = $1 AND o.state IN ('sent', 'control')) x \
             GROUP BY x.state, x.variant ORDER BY x.state DESC, x.variant",
        )
        .bind(id)
        .bind(start)
        .bind(window)
        .fetch_all(&self.read)
        .await?;
        for (state, variant, n, opened, clicked, converted, orders, revenue) in rows {
            f.variants.push(VariantFigures {
                variant: if state == "control" {
                    "control".into()
                } else {
                    variant
                },
                recipients: n,
                opened,
                clicked,
                converted,
                orders,
                revenue_minor: revenue.unwrap_or(0),
            });
        }
        let rate = |v: &VariantFigures| {
            if v.recipients == 0 {
                0.0
            } else {
                v.converted as f64 / v.recipients as f64
            }
        };
        let (sent, control): (Vec<&VariantFigures>, Vec<&VariantFigures>) =
            f.variants.iter().partition(|v| v.variant != "control");
        if let Some(c) = control.first() {
            let n: i64 = sent.iter().map(|v| v.recipients).sum();
            let conv: i64 = sent.iter().map(|v| v.converted).sum();
            if n > 0 && c.recipients > 0 {
                f.lift_points = Some(((conv as f64 / n as f64) - rate(c)) * 100.0);
            }
        }
        if let Some(offer) = k.campaign.offer_id {
            f.coupons_redeemed = sqlx::query_scalar(
                "SELECT COUNT(*) FROM coupons WHERE source = 'campaign' AND source_id = $1 \
                 AND offer_id = $2 AND status = 'redeemed'",
            )
            .bind(id)
            .bind(offer)
            .fetch_one(&self.read)
            .await?;
        }
        let shift = utc_offset_hours * 3_600_000;
        let days: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (sent_at + $2) / 86400000, COUNT(*) FROM outbox WHERE campaign_id = $1 \
             AND state = 'sent' GROUP BY (sent_at + $2) / 86400000 ORDER BY 1",
        )
        .bind(id)
        .bind(shift)
        .fetch_all(&self.read)
        .await?;
        let date = |d: i64| {
            chrono::DateTime::from_timestamp(d * 86_400, 0)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_default()
        };
        f.sent_by_day = days.into_iter().map(|(d, n)| (date(d), n)).collect();
        let responded: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT (at + $2) / 86400000, kind, COUNT(DISTINCT outbox_id) FROM outbox_events \
             WHERE campaign_id = $1 GROUP BY (at + $2) / 86400000, kind ORDER BY 1, 2",
        )
        .bind(id)
        .bind(shift)
        .fetch_all(&self.read)
        .await?;
        f.responses_by_day = responded
            .into_iter()
            .map(|(d, k, n)| (date(d), k, n))
            .collect();
        Ok(f)
    }
}

/// One letter of a direct-mail campaign's mailing list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Letter {
    /// The recipient.
    pub customer_id: i64,
    /// Their name.
    pub name: String,
    /// The postal address it goes to.
    pub address: String,
    /// The letter's heading.
    pub subject: String,
    /// The letter, written for them (salutation, coupon code).
    pub body: String,
}

impl Store {
    /// A campaign's figures as last computed in the background, if ever.
    pub async fn stored_figures(&self, id: i64) -> Result<Option<CampaignFigures>> {
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT figures, figures_at FROM campaigns WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        let Some((Some(json), Some(at))) = row else {
            return Ok(None);
        };
        let mut f: CampaignFigures = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("campaigns.figures: {e}")))?;
        f.computed_at = Some(crate::db::from_ms(at));
        Ok(Some(f))
    }

    /// Computes a campaign's figures (on the read pool, however long it takes) and keeps them
    /// for its page.
    pub async fn refresh_figures(&self, id: i64, utc_offset_hours: i64) -> Result<CampaignFigures> {
        let mut f = self.campaign_figures(id, utc_offset_hours).await?;
        let now = Utc::now();
        f.computed_at = Some(now);
        let json = serde_json::to_string(&f)
            .map_err(|e| StoreError::Corrupt(format!("campaigns.figures: {e}")))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE campaigns SET figures = $1, figures_at = $2 WHERE id = $3")
            .bind(json)
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// Launched campaigns of at least `min_audience` recipients whose kept figures are missing
    /// or older than `stale_before` (ms), with when they were computed.
    pub async fn campaigns_with_stale_figures(
        &self,
        min_audience: i64,
        stale_before: i64,
    ) -> Result<Vec<(i64, Option<i64>)>> {
        Ok(sqlx::query_as(
            "SELECT id, figures_at FROM campaigns WHERE audience_total >= $1 \
             AND state IN ('sending', 'paused', 'finished', 'cancelled') \
             AND (figures_at IS NULL OR figures_at < $2) \
             AND (finished_at IS NULL OR figures_at IS NULL OR figures_at < finished_at + $3) \
             ORDER BY id",
        )
        .bind(min_audience)
        .bind(stale_before)
        // The longest attribution window and a day: past it nothing changes any more.
        .bind((guanxi_domain::campaign::MAX_ATTRIBUTION_DAYS + 1) * 86_400_000)
        .fetch_all(&self.read)
        .await?)
    }

    /// The letters of a direct-mail campaign written so far, by address (what the printer
    /// sorts by).
    pub async fn mailing_list(&self, campaign: i64) -> Result<Vec<Letter>> {
        Ok(sqlx::query_as(
            "SELECT o.customer_id, c.name, COALESCE(o.address, '') AS address, \
             COALESCE(o.subject, '') AS subject, COALESCE(o.body, '') AS body \
             FROM outbox o JOIN customers c ON c.id = o.customer_id \
             WHERE o.campaign_id = $1 AND o.channel = 'mail' AND o.state = 'sent' \
             ORDER BY o.address, o.id",
        )
        .bind(campaign)
        .fetch_all(&self.read)
        .await?)
    }
}
