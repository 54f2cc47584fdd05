//! The campaign's life after launch, step by step for the one job queue: scheduled campaigns
//! start, an A/B test's winner is chosen when its time comes, and a campaign with nothing
//! left to send finishes.

use chrono::{NaiveDate, Utc};
use guanxi_domain::campaign::{AbMetric, CampaignState};

use super::setup::CampaignRecord;
use crate::db::{to_ms, Store};
use crate::error::Result;

impl Store {
    /// Starts the scheduled campaigns whose time has come; returns the campaigns now sending.
    pub async fn sending_campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let now = to_ms(Utc::now());
        sqlx::query(
            "UPDATE campaigns SET state = 'sending', started_at = COALESCE(started_at, $1) \
             WHERE state = 'scheduled' AND send_at <= $1",
        )
        .bind(now)
        .execute(&self.write)
        .await?;
        self.campaigns_in(CampaignState::Sending).await
    }

    /// Chooses an A/B test's winner once its time has come, by the test's metric over the
    /// sample (ties go to `a`), and releases the rest to it. `Some(winner)` when it decided.
    pub async fn decide_ab(&self, k: &CampaignRecord) -> Result<Option<String>> {
        let (Some(ab), Some(start), None) = (k.campaign.ab, k.send_at, &k.winner) else {
            return Ok(None);
        };
        let now = to_ms(Utc::now());
        if now < to_ms(start) + ab.decide_after_hours * 3_600_000 {
            return Ok(None);
        }
        let window = k.campaign.attribution_days * 86_400_000;
        let sql = match ab.metric {
            AbMetric::Opens => "SELECT variant, COUNT(*), \
                 COUNT(opened_at) FROM outbox WHERE campaign_id = $1 AND state = 'sent' \
                 AND variant IN ('a', 'b') AND $2 >= 0 GROUP BY variant"
                .to_string(),
            AbMetric::Clicks => "SELECT variant, COUNT(*), \
                 COUNT(clicked_at) FROM outbox WHERE campaign_id = $1 AND state = 'sent' \
                 AND variant IN ('a', 'b') AND $2 >= 0 GROUP BY variant"
                .to_string(),
            AbMetric::Conversions => "SELECT o.variant, COUNT(*), \
                 COUNT(CASE WHEN EXISTS (SELECT 1 FROM orders r WHERE r.customer_id = \
                 o.customer_id AND r.ordered_at >= o.sent_at AND r.ordered_at < o.sent_at + $2) \
                 THEN 1 END) FROM outbox o WHERE o.campaign_id = $1 AND o.state = 'sent' \
                 AND o.variant IN ('a', 'b') GROUP BY o.variant"
                .to_string(),
        };
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&sql)
            .bind(k.id)
            .bind(window)
            .fetch_all(&self.read)
            .await?;
        let rate = |v: &str| {
            rows.iter()
                .find(|r| r.0 == v)
                .map(|r| {
                    if r.1 == 0 {
                        0.0
                    } else {
                        r.2 as f64 / r.1 as f64
                    }
                })
                .unwrap_or(0.0)
        };
        let winner = if rate("b") > rate("a") { "b" } else { "a" };
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE campaigns SET winner = $1, decided_at = $2 WHERE id = $3 AND winner IS NULL",
        )
        .bind(winner)
        .bind(now)
        .bind(k.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            sqlx::query(
                "UPDATE outbox SET variant = $1, state = 'queued', \
                 due_at = CASE WHEN due_at < $2 THEN $2 ELSE due_at END \
                 WHERE campaign_id = $3 AND state = 'held'",
            )
            .bind(winner)
            .bind(now)
            .bind(k.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(winner.to_string()))
    }

    /// Finishes a prepared campaign with nothing queued, held or in flight, unless rules may
    /// still enrol customers in it (`enrol_until` not past `today`). `true` when it finished.
    pub async fn finish_campaign_if_done(
        &self,
        k: &CampaignRecord,
        today: NaiveDate,
    ) -> Result<bool> {
        if k.campaign.enrol_until.is_some_and(|u| u >= today) {
            return Ok(false);
        }
        let id = k.id;
        let now = to_ms(Utc::now());
        let n = sqlx::query(
            "UPDATE campaigns SET state = 'finished', finished_at = $1 WHERE id = $2 \
             AND state = 'sending' AND prepared = 1 AND NOT EXISTS (SELECT 1 FROM outbox o \
             WHERE o.campaign_id = $2 AND o.state IN ('queued', 'held', 'sending'))",
        )
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The campaign's state now (the sender checks it between batches: a pause by hand or by
    /// errors stops it).
    pub async fn campaign_state(&self, id: i64) -> Result<CampaignState> {
        Ok(self.get_campaign(id).await?.state)
    }

    /// The coupon code a campaign's recipient is given: issued once per campaign and
    /// customer (a resend after a crash finds the one issued before).
    pub async fn campaign_coupon(
        &self,
        campaign: i64,
        offer: i64,
        customer: i64,
        utc_offset_hours: i64,
    ) -> Result<String> {
        let found: Option<Option<String>> = sqlx::query_scalar(
            "SELECT code FROM coupons WHERE source = 'campaign' AND source_id = $1 \
             AND customer_id = $2 ORDER BY id LIMIT 1",
        )
        .bind(campaign)
        .bind(customer)
        .fetch_optional(&self.read)
        .await?;
        if let Some(code) = found.flatten() {
            return Ok(code);
        }
        let mut tx = self.begin_write().await?;
        let (_, code) = crate::loyalty::coupon::issue_in(
            &mut tx,
            offer,
            customer,
            "campaign",
            Some(campaign),
            None,
            Utc::now(),
            utc_offset_hours,
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }
}
