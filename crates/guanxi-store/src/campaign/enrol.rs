//! Enrolment by a rule (its action `enrol_campaign`): customers join a launched campaign one
//! firing at a time, outside its segments, and get its message like its audience — the same
//! consent and suppression checks, exclusions, control group and A/B split, one row per
//! customer and campaign. A campaign keeps accepting them while it is scheduled, sending or
//! paused; with `enrol_until` it keeps sending until that day, so a standing "welcome" or
//! "win-back" campaign can be fed by rules for weeks.

use std::collections::HashMap;

use guanxi_domain::campaign::CampaignState;
use guanxi_domain::segment::AsOf;
use sqlx::AnyConnection;

use super::audience::{push_exclusions, OutboxRows};
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::sql::SqlBuilder;

/// What became of one customer's enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// Queued (or held for an A/B test) for the campaign's message.
    Enrolled,
    /// Enrolled, but in the control group: counted, never sent to.
    Control,
    /// Enrolled but gets nothing, for this reason (`no_address`, `unsubscribed`, …).
    Skipped(String),
    /// Was in the campaign already.
    Already,
    /// Left out by one of the campaign's exclusions.
    Excluded,
    /// The campaign no longer takes anyone (a draft, finished or cancelled).
    Closed,
}

impl Enrolment {
    /// How the rule's log says it.
    pub fn code(&self) -> String {
        match self {
            Enrolment::Enrolled => "enrolled".into(),
            Enrolment::Control => "control".into(),
            Enrolment::Skipped(why) => format!("skipped: {why}"),
            Enrolment::Already => "already".into(),
            Enrolment::Excluded => "excluded".into(),
            Enrolment::Closed => "closed".into(),
        }
    }
}

impl Store {
    /// Enrols `customers` in campaign `id` in the caller's transaction; what became of each.
    pub(crate) async fn enrol_in(
        &self,
        conn: &mut AnyConnection,
        id: i64,
        customers: &[i64],
        as_of: AsOf,
    ) -> Result<HashMap<i64, Enrolment>> {
        let mut out: HashMap<i64, Enrolment> = HashMap::new();
        let rec = self.get_campaign(id).await?;
        let open = matches!(
            rec.state,
            CampaignState::Scheduled | CampaignState::Sending | CampaignState::Paused
        );
        if !open || customers.is_empty() {
            for c in customers {
                out.insert(*c, Enrolment::Closed);
            }
            return Ok(out);
        }
        let mut q = SqlBuilder::new("SELECT customer_id FROM outbox WHERE campaign_id = ");
        q.int(id).push(" AND customer_id IN ").int_list(customers);
        let already: Vec<i64> = q.query_scalar().fetch_all(&mut *conn).await?;
        let aud = self.resolve_audience(conn, &rec.campaign, as_of).await?;
        let mut q =
            SqlBuilder::new("SELECT c.id FROM customers c WHERE c.deleted_at IS NULL AND c.id IN ");
        q.int_list(customers);
        push_exclusions(&mut q, &aud);
        let kept: Vec<i64> = q.query_scalar().fetch_all(&mut *conn).await?;
        let new: Vec<i64> = kept
            .iter()
            .copied()
            .filter(|c| !already.contains(c))
            .collect();
        if !new.is_empty() {
            let policy = self.contact_policy(rec.campaign.channel).await?;
            let now = to_ms(as_of.now);
            let rows = OutboxRows {
                rec: &rec,
                start: rec.send_at.map(to_ms).unwrap_or(now).max(now),
                spread: 0,
                now,
            };
            let mut q = SqlBuilder::new("");
            rows.push_insert(&mut q, self.backend(), &aud, &policy, &new);
            q.query().execute(&mut *conn).await?;
            sqlx::query("UPDATE campaigns SET audience_total = audience_total + $1 WHERE id = $2")
                .bind(i64::try_from(new.len()).unwrap_or(0))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let mut q = SqlBuilder::new(
                "SELECT customer_id, state, skip_reason FROM outbox WHERE campaign_id = ",
            );
            q.int(id).push(" AND customer_id IN ").int_list(&new);
            let written: Vec<(i64, String, Option<String>)> =
                q.query_as().fetch_all(&mut *conn).await?;
            for (c, state, why) in written {
                let e = match (state.as_str(), why) {
                    ("control", _) => Enrolment::Control,
                    ("skipped", why) => Enrolment::Skipped(why.unwrap_or_default()),
                    _ => Enrolment::Enrolled,
                };
                out.insert(c, e);
            }
        }
        for c in customers {
            let e = if already.contains(c) {
                Enrolment::Already
            } else if !kept.contains(c) {
                Enrolment::Excluded
            } else {
                continue;
            };
            out.insert(*c, e);
        }
        Ok(out)
    }
}
