//! The points ledger. Every posting is one transaction that first locks the member's account
//! row, so two postings for one customer never interleave on either backend, and carries a
//! key that makes it idempotent (a retried job or a double click posts once). Entries are
//! never changed: a debit's allocations to lots are rows of their own, and a lot's remainder
//! is its points less what was allocated from it. A debit that finds too little leaves a
//! debt; the next lot settles debts first. The balance is the sum of the ledger.

use chrono::{DateTime, Utc};
use guanxi_domain::loyalty::{allocate, reversal_points, Lot};
use guanxi_domain::role::Actor;
use sqlx::AnyConnection;

use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// How far back the expiry pass looks: a nightly job missed for up to this many days still
/// expires what fell due meanwhile.
pub const EXPIRY_GRACE_DAYS: i64 = 30;

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Points earned on an order.
    Accrue,
    /// Points spent.
    Redeem,
    /// Points that reached their expiry unspent.
    Expire,
    /// Points taken back for a refund.
    Reverse,
    /// A manual correction with a reason.
    Adjust,
    /// Points a rule awarded (its name is the reason).
    Award,
}

impl EntryKind {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Accrue => "accrue",
            EntryKind::Redeem => "redeem",
            EntryKind::Expire => "expire",
            EntryKind::Reverse => "reverse",
            EntryKind::Adjust => "adjust",
            EntryKind::Award => "award",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "accrue" => EntryKind::Accrue,
            "redeem" => EntryKind::Redeem,
            "expire" => EntryKind::Expire,
            "reverse" => EntryKind::Reverse,
            "adjust" => EntryKind::Adjust,
            "award" => EntryKind::Award,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "loyalty_entries.kind: {other}"
                )))
            }
        })
    }
}

/// What a posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// A new entry.
    New(i64),
    /// The key was posted before: that entry, unchanged.
    Repeat(i64),
    /// Nothing to post (a refund of an order that earned no points).
    Nothing,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// Id.
    pub id: i64,
    /// What it records.
    pub kind: EntryKind,
    /// Points, + earned, − spent.
    pub points: i64,
    /// For a lot: when its points expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// For a lot: points left in it.
    pub remaining: Option<i64>,
    /// The order it concerns.
    pub order_id: Option<i64>,
    /// Why (an adjustment's reason).
    pub reason: Option<String>,
    /// Who posted it (none: the system).
    pub user_id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A member's points.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Balance {
    /// The sum of the ledger (negative while a debt is unsettled).
    pub points: i64,
    /// Open lots, soonest expiry first: (expires, points left).
    pub lots: Vec<(Option<DateTime<Utc>>, i64)>,
    /// Points owed from debits the lots could not cover (settled by the next accruals).
    pub debt: i64,
}

/// Locks the member's account (creating it), so postings for one customer run one at a time.
pub(crate) async fn lock_account(conn: &mut AnyConnection, customer: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO loyalty_accounts (customer_id, created_at) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE loyalty_accounts SET version = version + 1 WHERE customer_id = $1")
        .bind(customer)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The entry already posted under `key`, if any.
pub(crate) async fn posted(conn: &mut AnyConnection, key: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM loyalty_entries WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The member's open lots (remaining > 0).
async fn open_lots(conn: &mut AnyConnection, customer: i64) -> Result<Vec<Lot>> {
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT e.id, e.points - CAST(COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a \
         WHERE a.lot_id = e.id), 0) AS BIGINT) AS remaining, e.expires_at FROM loyalty_entries e \
         WHERE e.customer_id = $1 AND e.points > 0",
    )
    .bind(customer)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, r, _)| *r > 0)
        .map(|(id, remaining, exp)| Lot {
            id,
            remaining,
            expires_at: exp.map(from_ms),
        })
        .collect())
}

/// The member's unsettled debits, oldest first: (debit, points still owed).
async fn debts(conn: &mut AnyConnection, customer: i64) -> Result<Vec<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT e.id, -e.points - CAST(COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a \
         WHERE a.debit_id = e.id), 0) AS BIGINT) AS owed FROM loyalty_entries e \
         WHERE e.customer_id = $1 AND e.points < 0 ORDER BY e.id",
    )
    .bind(customer)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().filter(|(_, o)| *o > 0).collect())
}

async fn allocate_row(conn: &mut AnyConnection, debit: i64, lot: i64, points: i64) -> Result<()> {
    sqlx::query("INSERT INTO loyalty_allocations (debit_id, lot_id, points) VALUES ($1, $2, $3)")
        .bind(debit)
        .bind(lot)
        .bind(points)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A new entry's columns.
pub(crate) struct NewEntry<'a> {
    pub(crate) customer: i64,
    pub(crate) kind: EntryKind,
    pub(crate) points: i64,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) order_id: Option<i64>,
    pub(crate) amount_minor: Option<i64>,
    pub(crate) reason: Option<&'a str>,
    pub(crate) user_id: Option<i64>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) key: &'a str,
}

async fn insert_entry(conn: &mut AnyConnection, e: &NewEntry<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO loyalty_entries (customer_id, kind, points, expires_at, order_id, \
         amount_minor, reason, user_id, at, key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING id",
    )
    .bind(e.customer)
    .bind(e.kind.as_str())
    .bind(e.points)
    .bind(e.expires_at.map(to_ms))
    .bind(e.order_id)
    .bind(e.amount_minor)
    .bind(e.reason)
    .bind(e.user_id)
    .bind(to_ms(e.at))
    .bind(e.key)
    .fetch_one(&mut *conn)
    .await?)
}

/// Posts a lot and settles the member's debts from it, oldest first.
pub(crate) async fn post_lot(conn: &mut AnyConnection, e: &NewEntry<'_>) -> Result<i64> {
    let lot = insert_entry(conn, e).await?;
    let mut left = e.points;
    for (debit, owed) in debts(conn, e.customer).await? {
        if left == 0 {
            break;
        }
        let take = owed.min(left);
        allocate_row(conn, debit, lot, take).await?;
        left -= take;
    }
    Ok(lot)
}

/// Posts a debit of `-e.points` allocated to the open lots; what they cannot cover stays owed
/// when `allow_debt`, else the posting is refused as `insufficient_points`.
async fn post_debit(conn: &mut AnyConnection, e: &NewEntry<'_>, allow_debt: bool) -> Result<i64> {
    let lots = open_lots(conn, e.customer).await?;
    let (taken, short) = allocate(&lots, -e.points);
    if short > 0 && !allow_debt {
        return Err(StoreError::invalid("points", "insufficient_points"));
    }
    let debit = insert_entry(conn, e).await?;
    for (lot, points) in taken {
        allocate_row(conn, debit, lot, points).await?;
    }
    Ok(debit)
}

impl Store {
    async fn posting<F>(&self, customer: i64, key: &str, now: DateTime<Utc>, f: F) -> Result<Posted>
    where
        F: for<'c> FnOnce(
            &'c mut AnyConnection,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Option<i64>>> + Send + 'c>,
        >,
    {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, customer, to_ms(now)).await?;
        if let Some(id) = posted(&mut tx, key).await? {
            return Ok(Posted::Repeat(id));
        }
        let r = f(&mut tx).await?;
        tx.commit().await?;
        Ok(r.map_or(Posted::Nothing, Posted::New))
    }

    /// Posts `points` earned (on `order`, when given) expiring at `expires_at`, under `key`.
    #[allow(clippy::too_many_arguments)]
    pub async fn loyalty_accrue(
        &self,
        customer: i64,
        points: i64,
        order: Option<(i64, i64)>,
        expires_at: Option<DateTime<Utc>>,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Posted> {
        if points <= 0 {
            return Err(StoreError::invalid("points", "out_of_range"));
        }
        let key = key.to_string();
        self.posting(customer, &key.clone(), at, move |conn| {
            Box::pin(async move {
                let e = NewEntry {
                    customer,
                    kind: EntryKind::Accrue,
                    points,
                    expires_at,
                    order_id: order.map(|o| o.0),
                    amount_minor: order.map(|o| o.1),
                    reason: None,
                    user_id: None,
                    at,
                    key: &key,
                };
                Ok(Some(post_lot(conn, &e).await?))
            })
        })
        .await
    }

    /// Spends `points` (refused when the balance is short), under `key`, audited.
    pub async fn loyalty_redeem(
        &self,
        actor: &Actor,
        customer: i64,
        points: i64,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Posted> {
        if points <= 0 {
            return Err(StoreError::invalid("points", "out_of_range"));
        }
        let key = key.to_string();
        let user = actor.user_id();
        let actor = actor.clone();
        self.posting(customer, &key.clone(), at, move |conn| {
            Box::pin(async move {
                let e = NewEntry {
                    customer,
                    kind: EntryKind::Redeem,
                    points: -points,
                    expires_at: None,
                    order_id: None,
                    amount_minor: None,
                    reason: None,
                    user_id: user,
                    at,
                    key: &key,
                };
                let id = post_debit(conn, &e, false).await?;
                crate::audit::entry(
                    conn,
                    &actor,
                    "redeem_points",
                    "customer",
                    Some(customer),
                    serde_json::json!({"points": points, "entry": id}),
                )
                .await?;
                Ok(Some(id))
            })
        })
        .await
    }

    /// Takes back, pro rata, the points an order earned for `refunded_minor` more of it
    /// refunded; points already spent become a debt. Under `key`.
    pub async fn loyalty_reverse_order(
        &self,
        order: i64,
        refunded_minor: i64,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Posted> {
        let earned: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT customer_id, points, COALESCE(amount_minor, 0) FROM loyalty_entries \
             WHERE order_id = $1 AND kind = 'accrue'",
        )
        .bind(order)
        .fetch_optional(&self.read)
        .await?;
        let Some((customer, earned, total)) = earned else {
            return Ok(Posted::Nothing);
        };
        if refunded_minor <= 0 {
            return Err(StoreError::invalid("refunded_minor", "out_of_range"));
        }
        let key = key.to_string();
        self.posting(customer, &key.clone(), at, move |conn| {
            Box::pin(async move {
                let (refunded, reversed): (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(-points), 0) AS BIGINT) \
                     FROM loyalty_entries WHERE order_id = $1 AND kind = 'reverse'",
                )
                .bind(order)
                .fetch_one(&mut *conn)
                .await?;
                // A refund too small to take a whole point back is still recorded: the next
                // part counts from the total refunded.
                let points = reversal_points(earned, total, refunded, reversed, refunded_minor);
                let e = NewEntry {
                    customer,
                    kind: EntryKind::Reverse,
                    points: -points,
                    expires_at: None,
                    order_id: Some(order),
                    amount_minor: Some(refunded_minor),
                    reason: None,
                    user_id: None,
                    at,
                    key: &key,
                };
                Ok(Some(post_debit(conn, &e, true).await?))
            })
        })
        .await
    }

    /// A manual correction of `points` (±) with its reason; a negative one may not exceed the
    /// balance. Under `key`.
    #[allow(clippy::too_many_arguments)]
    pub async fn loyalty_adjust(
        &self,
        actor: &Actor,
        customer: i64,
        points: i64,
        reason: &str,
        expires_at: Option<DateTime<Utc>>,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Posted> {
        if points == 0 {
            return Err(StoreError::invalid("points", "out_of_range"));
        }
        let key = key.to_string();
        let reason = reason.to_string();
        let user = actor.user_id();
        let actor = actor.clone();
        self.posting(customer, &key.clone(), at, move |conn| {
            Box::pin(async move {
                let e = NewEntry {
                    customer,
                    kind: EntryKind::Adjust,
                    points,
                    expires_at: if points > 0 { expires_at } else { None },
                    order_id: None,
                    amount_minor: None,
                    reason: Some(&reason),
                    user_id: user,
                    at,
                    key: &key,
                };
                let id = if points > 0 {
                    post_lot(conn, &e).await?
                } else {
                    post_debit(conn, &e, false).await?
                };
                crate::audit::entry(
                    conn,
                    &actor,
                    "adjust_points",
                    "customer",
                    Some(customer),
                    serde_json::json!({"points": points, "reason": reason, "entry": id}),
                )
                .await?;
                Ok(Some(id))
            })
        })
        .await
    }

    /// Expires what is left of every lot whose expiry is at or before `now` (and within
    /// [`EXPIRY_GRACE_DAYS`] of it, so the nightly pass reads only recent expiries, not every
    /// lot that ever expired), one posting per lot (key `expire:<lot>`); returns how many.
    pub async fn loyalty_expire(&self, now: DateTime<Utc>) -> Result<usize> {
        let due: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT e.id, e.customer_id FROM loyalty_entries e WHERE e.expires_at <= $1 \
             AND e.expires_at > $2 AND e.points > CAST(COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a \
             WHERE a.lot_id = e.id), 0) AS BIGINT) ORDER BY e.id",
        )
        .bind(to_ms(now))
        .bind(to_ms(now - chrono::Duration::days(EXPIRY_GRACE_DAYS)))
        .fetch_all(&self.read)
        .await?;
        let mut n = 0;
        for (lot, customer) in due {
            let key = format!("expire:{lot}");
            let posted = self
                .posting(customer, &key.clone(), now, move |conn| {
                    Box::pin(async move {
                        let Some(l) = open_lots(conn, customer)
                            .await?
                            .into_iter()
                            .find(|l| l.id == lot)
                        else {
                            return Ok(None);
                        };
                        let e = NewEntry {
                            customer,
                            kind: EntryKind::Expire,
                            points: -l.remaining,
                            expires_at: None,
                            order_id: None,
                            amount_minor: None,
                            reason: None,
                            user_id: None,
                            at: now,
                            key: &key,
                        };
                        let debit = insert_entry(conn, &e).await?;
                        allocate_row(conn, debit, lot, l.remaining).await?;
                        Ok(Some(debit))
                    })
                })
                .await?;
            if matches!(posted, Posted::New(_)) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// A member's balance: the sum of the ledger, the open lots and any debt.
    pub async fn loyalty_balance(&self, customer: i64) -> Result<Balance> {
        let mut conn = self.read.acquire().await?;
        let (points,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM loyalty_entries \
             WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?;
        let mut lots = open_lots(&mut conn, customer).await?;
        lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.id));
        let debt = debts(&mut conn, customer).await?.iter().map(|d| d.1).sum();
        Ok(Balance {
            points,
            lots: lots.iter().map(|l| (l.expires_at, l.remaining)).collect(),
            debt,
        })
    }

    /// A member's ledger, newest first, with each lot's remainder.
    pub async fn loyalty_ledger(&self, customer: i64, limit: i64) -> Result<Vec<LedgerEntry>> {
        type Row = (
            i64,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
            i64,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.id, e.kind, e.points, e.expires_at, e.order_id, e.reason, e.user_id, e.at, \
             e.points - CAST(COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a \
             WHERE a.lot_id = e.id), 0) AS BIGINT) FROM loyalty_entries e WHERE e.customer_id = $1 \
             ORDER BY e.at DESC, e.id DESC LIMIT $2",
        )
        .bind(customer)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(
                |(id, kind, points, exp, order_id, reason, user_id, at, remaining)| {
                    Ok(LedgerEntry {
                        id,
                        kind: EntryKind::parse(&kind)?,
                        points,
                        expires_at: exp.map(from_ms),
                        remaining: (points > 0).then_some(remaining),
                        order_id,
                        reason,
                        user_id,
                        at: from_ms(at),
                    })
                },
            )
            .collect()
    }
}
