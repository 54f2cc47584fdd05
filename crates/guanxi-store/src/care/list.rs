//! The care list: whose dates fall in the next days, for one owner or for everyone the reader
//! sees, with what was given on the same occasion this time and the time before; and the
//! touches (greeting, gift, coupon) recorded from it, projected onto the customer's timeline.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_domain::care::{OccasionKind, Touch, TouchKind};
use guanxi_domain::profile::Anniversary;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::InteractionChannel;

use crate::audit::entry;
use crate::customers::{load_row, push_scope};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::sql::SqlBuilder;

/// Touches on the timeline, at the time they were recorded, coded by what was given.
pub(crate) const TOUCH_EVENTS: EventSource = EventSource {
    kind: "care",
    select: "SELECT customer_id, at, 'care' AS kind, id AS ref_id, kind AS code, \
             occasion AS title, note AS detail, CAST(NULL AS BIGINT) AS amount_minor, \
             CAST(NULL AS TEXT) AS currency, user_id, version, CAST(NULL AS BIGINT) AS link_id \
             FROM care_touches",
};

/// Most entries one care list shows (the rest are counted).
pub const MAX_ENTRIES: i64 = 500;

/// A greeting, gift or coupon given on an occasion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CareTouch {
    /// Id.
    pub id: i64,
    /// The customer.
    pub customer_id: i64,
    /// Occasion code (`birthday`, `festival.mid_autumn`).
    pub occasion: String,
    /// The occasion's day.
    pub occasion_on: NaiveDate,
    /// What was given.
    pub kind: TouchKind,
    /// How.
    pub channel: Option<InteractionChannel>,
    /// What it was.
    pub note: Option<String>,
    /// Who recorded it.
    pub user_id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One date on a care list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CareEntry {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub customer_name: String,
    /// Their owner.
    pub owner_id: Option<i64>,
    /// What the date celebrates.
    pub kind: OccasionKind,
    /// Whose date, when not the customer's own (a child's or the spouse's name).
    pub label: Option<String>,
    /// The date as recorded, solar or lunar.
    pub date: Anniversary,
    /// The solar day it falls on next.
    pub on: NaiveDate,
    /// What was given for this occurrence, if anything yet.
    pub given: Option<CareTouch>,
    /// What was given on the same occasion the time before.
    pub before: Option<CareTouch>,
}

/// A care list: the entries shown and how many matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CareList {
    /// Entries by day, then name.
    pub entries: Vec<CareEntry>,
    /// Matches in all, counted up to [`MAX_COUNTED`] (may exceed the entries shown).
    pub total: i64,
    /// More matched than [`MAX_COUNTED`]: `total` is a floor.
    pub more: bool,
}

/// Most matches a care list counts: a manager's list of everyone's dates at a million
/// customers holds some 20,000 a week, and counting them all joined to the customers took
/// 73 ms on SQLite and 111 ms on PostgreSQL; "more than 2,000" says as much.
pub const MAX_COUNTED: i64 = 2_000;

/// A care list with the festivals of the same days.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CareView {
    /// First day shown (today).
    pub from: NaiveDate,
    /// Last day shown.
    pub to: NaiveDate,
    /// Whose customers (`None`: everyone the reader sees).
    pub owner_id: Option<i64>,
    /// The customers' dates.
    #[serde(flatten)]
    pub list: CareList,
    /// Festivals in the same days.
    pub festivals: Vec<FestivalDay>,
}

/// A festival on a care list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FestivalDay {
    /// Which.
    pub festival: guanxi_domain::care::Festival,
    /// When.
    pub on: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    customer_id: i64,
    name: String,
    owner_id: Option<i64>,
    kind: String,
    label: Option<String>,
    month: i64,
    day: i64,
    year: Option<i64>,
    lunar: crate::rows::Flag,
    next_on: String,
}

#[derive(sqlx::FromRow)]
struct TouchRow {
    id: i64,
    customer_id: i64,
    occasion: String,
    occasion_on: String,
    kind: String,
    channel: Option<String>,
    note: Option<String>,
    user_id: Option<i64>,
    at: i64,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("care: {what}"))
}

fn date(s: &str) -> Result<NaiveDate> {
    s.parse().map_err(|_| corrupt(s))
}

impl TouchRow {
    fn into_touch(self) -> Result<CareTouch> {
        Ok(CareTouch {
            id: self.id,
            customer_id: self.customer_id,
            occasion_on: date(&self.occasion_on)?,
            occasion: self.occasion,
            kind: TouchKind::parse(&self.kind).map_err(|_| corrupt("touch kind"))?,
            channel: self
                .channel
                .as_deref()
                .map(InteractionChannel::parse)
                .transpose()
                .map_err(|_| corrupt("touch channel"))?,
            note: self.note,
            user_id: self.user_id,
            at: from_ms(self.at),
        })
    }
}

const TOUCH_COLUMNS: &str =
    "id, customer_id, occasion, occasion_on, kind, channel, note, user_id, at";

impl Store {
    /// The dates from `from` to `to` (both included) of `owner`'s customers, or of every
    /// customer the reader sees when `owner` is `None`, by day then name; at most
    /// [`MAX_ENTRIES`], with the full count.
    pub async fn care_list(
        &self,
        actor: &Actor,
        owner: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<CareList> {
        let mut conn = self.read.acquire().await?;
        let cond = |q: &mut SqlBuilder| {
            q.push(
                " FROM care_dates d JOIN customers c ON c.id = d.customer_id \
                 WHERE d.next_on >= ",
            )
            .text(from.to_string())
            .push(" AND d.next_on <= ")
            .text(to.to_string())
            .push(" AND c.deleted_at IS NULL");
            if let Some(o) = owner {
                // The owner when the dates were derived must still be the owner.
                q.push(" AND d.owner_id = ")
                    .int(o)
                    .push(" AND c.owner_id = ")
                    .int(o);
            }
            push_scope(q, actor);
        };
        let mut count = SqlBuilder::new("SELECT COUNT(*) FROM (SELECT 1");
        cond(&mut count);
        count.push(" LIMIT ").int(MAX_COUNTED + 1).push(") n");
        let (counted,): (i64,) = count.query_as().fetch_one(&mut *conn).await?;
        let (total, more) = (counted.min(MAX_COUNTED), counted > MAX_COUNTED);
        let mut q = SqlBuilder::new(
            "SELECT d.customer_id, c.name, c.owner_id, d.kind, d.label, d.month, d.day, \
             d.year, d.lunar, d.next_on",
        );
        cond(&mut q);
        q.push(" ORDER BY d.next_on, c.name_sort, d.customer_id, d.occasion LIMIT ")
            .int(MAX_ENTRIES);
        let rows: Vec<EntryRow> = q.query_as().fetch_all(&mut *conn).await?;
        // Every touch of the listed customers within the last two years: this time's and the
        // time before's are picked per entry below.
        let mut touches: HashMap<i64, Vec<CareTouch>> = HashMap::new();
        let ids: Vec<i64> = rows.iter().map(|r| r.customer_id).collect();
        for chunk in ids.chunks(500) {
            let mut t = SqlBuilder::new(&format!(
                "SELECT {TOUCH_COLUMNS} FROM care_touches WHERE customer_id IN "
            ));
            t.int_list(chunk)
                .push(" AND occasion_on >= ")
                .text((from - chrono::Duration::days(800)).to_string())
                .push(" ORDER BY occasion_on DESC, id DESC");
            for r in t.query_as::<TouchRow>().fetch_all(&mut *conn).await? {
                let touch = r.into_touch()?;
                touches.entry(touch.customer_id).or_default().push(touch);
            }
        }
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = OccasionKind::parse(&r.kind).map_err(|_| corrupt("date kind"))?;
            let on = date(&r.next_on)?;
            let same: Vec<&CareTouch> = touches
                .get(&r.customer_id)
                .map(|v| v.iter().filter(|t| t.occasion == kind.as_str()).collect())
                .unwrap_or_default();
            entries.push(CareEntry {
                customer_id: r.customer_id,
                customer_name: r.name,
                owner_id: r.owner_id,
                kind,
                label: r.label,
                date: Anniversary {
                    year: r.year.map(|y| y as i32),
                    month: r.month as u32,
                    day: r.day as u32,
                    lunar: r.lunar.0,
                },
                on,
                given: same
                    .iter()
                    .find(|t| t.occasion_on == on)
                    .map(|t| (*t).clone()),
                before: same
                    .iter()
                    .find(|t| t.occasion_on < on)
                    .map(|t| (*t).clone()),
            });
        }
        Ok(CareList {
            entries,
            total,
            more,
        })
    }

    /// Records a greeting, gift or coupon given to a customer the actor sees, on the customer's
    /// timeline, audited.
    pub async fn record_care_touch(
        &self,
        actor: &Actor,
        touch: &Touch,
        now: DateTime<Utc>,
    ) -> Result<CareTouch> {
        let mut tx = self.begin_write().await?;
        load_row(&mut tx, actor, touch.customer_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO care_touches (customer_id, occasion, occasion_on, kind, channel, note, \
             user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(touch.customer_id)
        .bind(touch.occasion.code())
        .bind(touch.occasion_on.to_string())
        .bind(touch.kind.as_str())
        .bind(touch.channel.map(|c| c.as_str()))
        .bind(touch.note.as_deref())
        .bind(actor.user_id())
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await?;
        project(&mut tx, &TOUCH_EVENTS, Rows::Id(id)).await?;
        entry(
            &mut tx,
            actor,
            "record_care_touch",
            "customer",
            Some(touch.customer_id),
            serde_json::json!({
                "touch": id,
                "occasion": touch.occasion.code(),
                "occasion_on": touch.occasion_on,
                "kind": touch.kind.as_str(),
            }),
        )
        .await?;
        let row: TouchRow = sqlx::query_as(&format!(
            "SELECT {TOUCH_COLUMNS} FROM care_touches WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        row.into_touch()
    }

    /// A customer's touches, newest occasion first (the 360 page's care section).
    pub async fn customer_care_touches(
        &self,
        actor: &Actor,
        customer: i64,
    ) -> Result<Vec<CareTouch>> {
        let mut conn = self.read.acquire().await?;
        load_row(&mut conn, actor, customer).await?;
        let rows: Vec<TouchRow> = sqlx::query_as(&format!(
            "SELECT {TOUCH_COLUMNS} FROM care_touches WHERE customer_id = $1 \
             ORDER BY occasion_on DESC, id DESC LIMIT 100"
        ))
        .bind(customer)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(TouchRow::into_touch).collect()
    }
}
