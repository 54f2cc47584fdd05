//! Merging duplicate customers, previewing what a merge moves, and undoing one within
//! [`UNDO_DAYS`](guanxi_domain::merge::UNDO_DAYS).
//!
//! A merge moves the merged-away record's ("loser") live contact points, orders,
//! interactions, tasks and relations to the kept record ("winner"), writes the fields the user
//! chose onto it (tags united), and soft-deletes the loser with `merged_into` set. Every moved
//! row's id and the winner's fields before and after go into `customer_merges`, so an undo
//! moves exactly those rows back (not rows added to the winner since) and reverts only the
//! fields nobody has changed since. A relation that would duplicate one the winner already has,
//! or that links the two records, stays on the loser: hidden while it is merged, back on undo.

use chrono::Utc;
use guanxi_domain::customer::CustomerFields;
use guanxi_domain::merge::{self, UNDO_DAYS};
use guanxi_domain::records::Customer;
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationErrors;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{record, AuditEvent};
use crate::campaign::MESSAGE_EVENTS;
use crate::care::list::TOUCH_EVENTS;
use crate::customers::{hydrate, load_row, rebuild_search_keys, write_update};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events;
use crate::orders::ORDER_EVENTS;
use crate::pipeline::deals::OPPORTUNITY_EVENTS;
use crate::rows::CustomerRow;
use crate::sql::SqlBuilder;
use crate::survey::links::SURVEY_EVENTS;
use crate::ticket::TICKET_EVENTS;
use crate::timeline::{INTERACTION_EVENTS, TASK_EVENTS};

/// The rows a merge moves, by id: what an undo moves back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MovedIds {
    contact_points: Vec<i64>,
    orders: Vec<i64>,
    interactions: Vec<i64>,
    tasks: Vec<i64>,
    /// Relations whose `from` end was the loser.
    relations_from: Vec<i64>,
    /// Relations whose `to` end was the loser.
    relations_to: Vec<i64>,
    /// Service tickets (absent in merges recorded before the service desk).
    #[serde(default)]
    tickets: Vec<i64>,
    /// Their history rows, which carry the customer for the timeline.
    #[serde(default)]
    ticket_events: Vec<i64>,
    /// Greetings, gifts and coupons given (absent in merges recorded before customer care).
    #[serde(default)]
    care_touches: Vec<i64>,
    /// Survey invitations and responses (absent in merges recorded before surveys).
    #[serde(default)]
    survey_invitations: Vec<i64>,
    #[serde(default)]
    survey_responses: Vec<i64>,
    /// Points ledger entries (the balance follows them; absent before the ledger).
    #[serde(default)]
    loyalty_entries: Vec<i64>,
    /// Coupons (absent in merges recorded before coupons).
    #[serde(default)]
    coupons: Vec<i64>,
    /// Messages sent or queued to the loser (absent in merges recorded before campaigns):
    /// the kept record's frequency cap and timeline count them. A campaign's message to the
    /// loser stays behind when the kept record has its own of that campaign (one per
    /// customer and campaign).
    #[serde(default)]
    outbox: Vec<i64>,
    /// Responses to those messages.
    #[serde(default)]
    outbox_events: Vec<i64>,
    /// Notifications in the app about the loser (absent in merges recorded before them), so
    /// their link opens the kept record.
    #[serde(default)]
    notifications: Vec<i64>,
    /// Sales opportunities and their stage changes (absent before the pipeline).
    #[serde(default)]
    opportunities: Vec<i64>,
    #[serde(default)]
    opportunity_changes: Vec<i64>,
    /// Leads converted into the loser (absent before leads).
    #[serde(default)]
    leads: Vec<i64>,
    /// The loser's key account moves to the kept record when that has none (absent before
    /// key accounts: nothing moved).
    #[serde(default)]
    key_account: bool,
}

/// How many rows of each kind a merge moves (or moved) to the kept record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MergeCounts {
    /// Live contact points.
    pub contact_points: usize,
    /// Orders (they keep their dates and amounts).
    pub orders: usize,
    /// Interactions.
    pub interactions: usize,
    /// Follow-up tasks.
    pub tasks: usize,
    /// Relations to other customers (duplicates of the kept record's own stay behind).
    pub relations: usize,
    /// Tags the kept record gains.
    pub tags: usize,
    /// Service tickets.
    pub tickets: usize,
}

impl MovedIds {
    fn counts(&self, tags: usize) -> MergeCounts {
        MergeCounts {
            contact_points: self.contact_points.len(),
            orders: self.orders.len(),
            interactions: self.interactions.len(),
            tasks: self.tasks.len(),
            relations: self.relations_from.len() + self.relations_to.len(),
            tags,
            tickets: self.tickets.len(),
        }
    }
}

/// What merging `loser` into `winner` would do, for the side-by-side page and the API.
#[derive(Debug, Clone)]
pub struct MergePreview {
    /// The kept record, as the actor may see it.
    pub winner: Customer,
    /// The record merged away.
    pub loser: Customer,
    /// The fields whose values differ (the only choices to make).
    pub differing: Vec<&'static str>,
    /// The fields to take from the loser by default (empty on the winner, filled on the loser).
    pub suggested: Vec<&'static str>,
    /// What moves.
    pub moves: MergeCounts,
    /// The kept record's tags after the merge (both records' tags).
    pub tags_after: Vec<String>,
}

/// A merge that happened, for the kept record's page (and its undo button).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergeRecord {
    /// Id of the merge (what an undo names).
    pub id: i64,
    /// The kept record.
    pub winner_id: i64,
    /// The merged-away record.
    pub loser_id: i64,
    /// The merged-away record's name.
    pub loser_name: String,
    /// When.
    pub merged_at: chrono::DateTime<Utc>,
    /// By whom.
    pub merged_by: Option<i64>,
    /// Until when it can be undone.
    pub undo_until: chrono::DateTime<Utc>,
    /// What moved.
    pub moved: MergeCounts,
}

/// The result of a merge.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The kept record after the merge.
    pub customer: Customer,
    /// The merge's id, for an undo.
    pub merge_id: i64,
}

const UNDO_MS: i64 = UNDO_DAYS * 86_400_000;

async fn ids(conn: &mut AnyConnection, sql: &str, binds: &[i64]) -> Result<Vec<i64>> {
    let mut q = sqlx::query_scalar(sql);
    for b in binds {
        q = q.bind(*b);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The loser's messages that can move: those outside campaigns and those of campaigns that
/// did not also reach the winner.
const OUTBOX_MOVABLE: &str = "SELECT o.id FROM outbox o WHERE o.customer_id = $1 AND (o.campaign_id IS NULL \
    OR NOT EXISTS (SELECT 1 FROM outbox w WHERE w.campaign_id = o.campaign_id AND w.customer_id = $2)) ORDER BY o.id";

/// The ids a merge of `loser` into `winner` moves, read inside the merge's transaction.
async fn movable(conn: &mut AnyConnection, winner: i64, loser: i64) -> Result<MovedIds> {
    let of_loser = |table: &str, live: &str| {
        format!("SELECT id FROM {table} WHERE customer_id = $1{live} ORDER BY id")
    };
    Ok(MovedIds {
        contact_points: ids(conn, &of_loser("contact_points", " AND deleted_at IS NULL"), &[loser]).await?,
        orders: ids(conn, &of_loser("orders", ""), &[loser]).await?,
        interactions: ids(conn, &of_loser("interactions", ""), &[loser]).await?,
        tasks: ids(conn, &of_loser("tasks", ""), &[loser]).await?,
        tickets: ids(conn, &of_loser("tickets", ""), &[loser]).await?,
        ticket_events: ids(conn, &of_loser("ticket_events", ""), &[loser]).await?,
        care_touches: ids(conn, &of_loser("care_touches", ""), &[loser]).await?,
        survey_invitations: ids(conn, &of_loser("survey_invitations", ""), &[loser]).await?,
        survey_responses: ids(conn, &of_loser("survey_responses", ""), &[loser]).await?,
        loyalty_entries: ids(conn, &of_loser("loyalty_entries", ""), &[loser]).await?,
        coupons: ids(conn, &of_loser("coupons", ""), &[loser]).await?,
        notifications: ids(conn, &of_loser("notifications", ""), &[loser]).await?,
        opportunities: ids(conn, &of_loser("opportunities", ""), &[loser]).await?,
        opportunity_changes: ids(conn, &of_loser("opportunity_stage_changes", ""), &[loser]).await?,
        leads: ids(conn, &of_loser("leads", ""), &[loser]).await?,
        key_account: !ids(conn, "SELECT customer_id FROM key_accounts WHERE customer_id = $1", &[loser]).await?.is_empty()
            && ids(conn, "SELECT customer_id FROM key_accounts WHERE customer_id = $1", &[winner]).await?.is_empty(),
        outbox: ids(conn, OUTBOX_MOVABLE, &[loser, winner]).await?,
        outbox_events: ids(conn, &format!("SELECT id FROM outbox_events WHERE customer_id = $1 AND outbox_id IN ({OUTBOX_MOVABLE}) ORDER BY id"), &[loser, winner]).await?,
        relations_from: ids(conn, "SELECT r.id FROM customer_relations r WHERE r.from_customer_id = $1 AND r.to_customer_id <> $2 \
            AND NOT EXISTS (SELECT 1 FROM customer_relations x WHERE x.from_customer_id = $2 AND x.to_customer_id = r.to_customer_id AND x.kind = r.kind) ORDER BY r.id", &[loser, winner]).await?,
        relations_to: ids(conn, "SELECT r.id FROM customer_relations r WHERE r.to_customer_id = $1 AND r.from_customer_id <> $2 \
            AND NOT EXISTS (SELECT 1 FROM customer_relations x WHERE x.to_customer_id = $2 AND x.from_customer_id = r.from_customer_id AND x.kind = r.kind) ORDER BY r.id", &[loser, winner]).await?,
    })
}

/// Points the rows with these ids from one customer to another through `column`, in chunks
/// so a customer with thousands of orders stays a few statements. Only rows still on `from`
/// move. `touch` bumps the rows' version and change time (for tables that carry them).
#[allow(clippy::too_many_arguments)]
async fn repoint(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    touch: Option<i64>,
    ids: &[i64],
    from: i64,
    to: i64,
) -> Result<()> {
    for chunk in ids.chunks(500) {
        let mut q = SqlBuilder::new(&format!("UPDATE {table} SET {column} = "));
        q.int(to);
        if let Some(now) = touch {
            q.push(", version = version + 1, updated_at = ").int(now);
        }
        q.push(&format!(" WHERE {column} = "))
            .int(from)
            .push(" AND id IN ")
            .int_list(chunk);
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves every row in `m` from one customer to the other.
async fn move_all(
    conn: &mut AnyConnection,
    m: &MovedIds,
    from: i64,
    to: i64,
    now: i64,
) -> Result<()> {
    let t = Some(now);
    repoint(
        conn,
        "contact_points",
        "customer_id",
        t,
        &m.contact_points,
        from,
        to,
    )
    .await?;
    repoint(conn, "orders", "customer_id", None, &m.orders, from, to).await?;
    events::repoint(conn, ORDER_EVENTS.kind, &m.orders, from, to).await?;
    repoint(
        conn,
        "interactions",
        "customer_id",
        None,
        &m.interactions,
        from,
        to,
    )
    .await?;
    events::repoint(conn, INTERACTION_EVENTS.kind, &m.interactions, from, to).await?;
    repoint(conn, "tasks", "customer_id", None, &m.tasks, from, to).await?;
    events::repoint(conn, TASK_EVENTS.kind, &m.tasks, from, to).await?;
    repoint(conn, "tickets", "customer_id", t, &m.tickets, from, to).await?;
    repoint(
        conn,
        "ticket_events",
        "customer_id",
        None,
        &m.ticket_events,
        from,
        to,
    )
    .await?;
    events::repoint(conn, TICKET_EVENTS.kind, &m.ticket_events, from, to).await?;
    repoint(
        conn,
        "care_touches",
        "customer_id",
        None,
        &m.care_touches,
        from,
        to,
    )
    .await?;
    events::repoint(conn, TOUCH_EVENTS.kind, &m.care_touches, from, to).await?;
    for (table, rows) in [
        ("survey_invitations", &m.survey_invitations),
        ("survey_responses", &m.survey_responses),
        ("loyalty_entries", &m.loyalty_entries),
        ("coupons", &m.coupons),
        ("outbox", &m.outbox),
        ("outbox_events", &m.outbox_events),
        ("notifications", &m.notifications),
        ("opportunities", &m.opportunities),
        ("opportunity_stage_changes", &m.opportunity_changes),
        ("leads", &m.leads),
    ] {
        repoint(conn, table, "customer_id", None, rows, from, to).await?;
    }
    events::repoint(
        conn,
        OPPORTUNITY_EVENTS.kind,
        &m.opportunity_changes,
        from,
        to,
    )
    .await?;
    events::repoint(conn, SURVEY_EVENTS.kind, &m.survey_responses, from, to).await?;
    events::repoint(conn, MESSAGE_EVENTS.kind, &m.outbox, from, to).await?;
    repoint(
        conn,
        "customer_relations",
        "from_customer_id",
        t,
        &m.relations_from,
        from,
        to,
    )
    .await?;
    repoint(
        conn,
        "customer_relations",
        "to_customer_id",
        t,
        &m.relations_to,
        from,
        to,
    )
    .await?;
    if m.key_account {
        sqlx::query("UPDATE key_accounts SET customer_id = $1 WHERE customer_id = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The tags `other` has that `kept` lacks: what a merge adds to the kept record.
fn new_tags(kept: &CustomerFields, other: &CustomerFields) -> usize {
    other.tags.iter().filter(|t| !kept.tags.contains(t)).count()
}

/// Both records of a merge, as the actor may see them, checked as the preview and the merge
/// both need: two different records, at the `versions` the client read (when it says), of
/// the same kind.
async fn load_pair(
    conn: &mut AnyConnection,
    actor: &Actor,
    winner: i64,
    loser: i64,
    versions: Option<(i64, i64)>,
) -> Result<(CustomerRow, CustomerRow)> {
    if winner == loser {
        return Err(ValidationErrors::single("loser_id", "self_merge").into());
    }
    let w = load_row(conn, actor, winner).await?;
    let l = load_row(conn, actor, loser).await?;
    if let Some((wv, lv)) = versions {
        for (row, v) in [(&w, wv), (&l, lv)] {
            if row.version != v {
                return Err(StoreError::Conflict {
                    current: row.version,
                    updated_by: row.updated_by,
                });
            }
        }
    }
    if w.kind != l.kind {
        return Err(ValidationErrors::single("loser_id", "kind_mismatch").into());
    }
    Ok((w, l))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    crate::rows::to_json("merge record", v)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("merge record: {e}")))
}

#[derive(sqlx::FromRow)]
struct MergeRow {
    id: i64,
    winner_id: i64,
    loser_id: i64,
    winner_before: String,
    winner_after: String,
    moved: String,
    merged_at: i64,
    merged_by: Option<i64>,
    undone_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct MergeListRow {
    #[sqlx(flatten)]
    m: MergeRow,
    loser_name: String,
}

const MERGE_COLUMNS: &str = "m.id, m.winner_id, m.loser_id, m.winner_before, m.winner_after, m.moved, m.merged_at, m.merged_by, m.undone_at";

impl Store {
    /// What merging `loser` into `winner` would do: both records side by side, the fields that
    /// differ with a default choice, and how many rows of each kind move. Both must be visible
    /// to the actor and of the same kind.
    pub async fn merge_preview(
        &self,
        actor: &Actor,
        winner: i64,
        loser: i64,
    ) -> Result<MergePreview> {
        let mut conn = self.read.acquire().await?;
        let (w, l) = load_pair(&mut conn, actor, winner, loser, None).await?;
        let (wf, lf) = (w.fields()?, l.fields()?);
        let moved = movable(&mut conn, winner, loser).await?;
        // The rows already read become the two records shown, contact points added.
        let mut both = hydrate(&mut conn, vec![w, l]).await?.into_iter();
        let (Some(winner), Some(loser)) = (both.next(), both.next()) else {
            return Err(StoreError::NotFound);
        };
        Ok(MergePreview {
            differing: merge::differing(&wf, &lf),
            suggested: merge::suggested(&wf, &lf),
            moves: moved.counts(new_tags(&wf, &lf)),
            tags_after: merge::merged_tags(&wf, &lf),
            winner,
            loser,
        })
    }

    /// Merges `loser` into `winner`, taking the fields named in `take_from_loser` from the
    /// loser (see [`guanxi_domain::merge::MERGE_FIELDS`]) and everything else from the winner.
    /// Both must be visible and of the same kind; the versions guard against merging a record
    /// someone just changed. Audited as an update of the winner plus a `merge`.
    pub async fn merge_customers(
        &self,
        actor: &Actor,
        winner: i64,
        winner_version: i64,
        loser: i64,
        loser_version: i64,
        take_from_loser: &[String],
    ) -> Result<Merged> {
        let mut tx = self.begin_write().await?;
        let (w, l) = load_pair(
            &mut tx,
            actor,
            winner,
            loser,
            Some((winner_version, loser_version)),
        )
        .await?;
        let (wf, lf) = (w.fields()?, l.fields()?);
        let combined = merge::combine(&wf, &lf, take_from_loser)?;
        let now = Utc::now();
        let now_ms = to_ms(now);
        let moved = movable(&mut tx, winner, loser).await?;
        move_all(&mut tx, &moved, loser, winner, now_ms).await?;
        crate::custom_field::move_values_in(&mut tx, loser, winner).await?;
        // The loser leaves first, so its ID number (if taken) is on one live record only.
        sqlx::query("UPDATE customers SET deleted_at = $1, deleted_by = $2, merged_into = $3, version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $4")
            .bind(now_ms).bind(actor.user_id()).bind(winner).bind(loser).execute(&mut *tx).await?;
        let tags_gained = new_tags(&wf, &lf);
        let name = w.name.clone();
        write_update(&mut tx, actor, w, wf.clone(), combined, winner_version, now).await?;
        let after = load_row(&mut tx, &Actor::system(), winner)
            .await?
            .fields()?;
        sqlx::query("DELETE FROM customer_search_keys WHERE customer_id = $1")
            .bind(loser)
            .execute(&mut *tx)
            .await?;
        rebuild_search_keys(&mut tx, winner).await?;
        let merge_id: i64 = sqlx::query_scalar(
            "INSERT INTO customer_merges (winner_id, loser_id, winner_before, winner_after, moved, merged_at, merged_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(winner)
        .bind(loser)
        .bind(to_json(&wf)?)
        .bind(to_json(&after)?)
        .bind(to_json(&moved)?)
        .bind(now_ms)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        let c = moved.counts(tags_gained);
        record(&mut tx, actor, AuditEvent {
            action: "merge", entity: "customer", entity_id: Some(winner),
            detail: json!({"merge_id": merge_id, "winner": winner, "winner_name": name, "loser": loser, "loser_name": l.name,
                "taken_from_loser": take_from_loser, "moved_contact_points": c.contact_points, "moved_orders": c.orders,
                "moved_interactions": c.interactions, "moved_tasks": c.tasks, "moved_relations": c.relations}),
        }).await?;
        tx.commit().await?;
        Ok(Merged {
            customer: self.get_customer(actor, winner).await?,
            merge_id,
        })
    }

    /// The merges into `winner` that can still be undone, newest first.
    pub async fn undoable_merges(&self, actor: &Actor, winner: i64) -> Result<Vec<MergeRecord>> {
        let mut conn = self.read.acquire().await?;
        load_row(&mut conn, actor, winner).await?;
        let since = to_ms(Utc::now()) - UNDO_MS;
        let rows: Vec<MergeListRow> = sqlx::query_as(&format!(
            "SELECT {MERGE_COLUMNS}, l.name AS loser_name FROM customer_merges m JOIN customers l ON l.id = m.loser_id \
             WHERE m.winner_id = $1 AND m.undone_at IS NULL AND m.merged_at >= $2 ORDER BY m.merged_at DESC, m.id DESC"
        ))
        .bind(winner)
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|MergeListRow { m, loser_name }| {
                let before: CustomerFields = from_json(&m.winner_before)?;
                let after: CustomerFields = from_json(&m.winner_after)?;
                let moved: MovedIds = from_json(&m.moved)?;
                let tags = new_tags(&before, &after);
                Ok(MergeRecord {
                    id: m.id,
                    winner_id: m.winner_id,
                    loser_id: m.loser_id,
                    loser_name,
                    merged_at: from_ms(m.merged_at),
                    merged_by: m.merged_by,
                    undo_until: from_ms(m.merged_at + UNDO_MS),
                    moved: moved.counts(tags),
                })
            })
            .collect()
    }

    /// Undoes a merge within [`UNDO_DAYS`] days: the loser comes back as it was, the rows the
    /// merge moved go back to it (rows added to the winner since stay), and each of the
    /// winner's fields the merge changed goes back unless it was edited since. Refused when
    /// already undone, too old, or when either record has left since (merged on, erased).
    /// Returns the restored record.
    pub async fn undo_merge(&self, actor: &Actor, merge_id: i64) -> Result<Customer> {
        let mut tx = self.begin_write().await?;
        let m: MergeRow = sqlx::query_as(&format!(
            "SELECT {MERGE_COLUMNS} FROM customer_merges m WHERE m.id = $1"
        ))
        .bind(merge_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let w = load_row(&mut tx, actor, m.winner_id).await?;
        let now = Utc::now();
        let now_ms = to_ms(now);
        if m.undone_at.is_some() {
            return Err(ValidationErrors::single("merge_id", "already_undone").into());
        }
        if now_ms - m.merged_at > UNDO_MS {
            return Err(ValidationErrors::single("merge_id", "undo_expired").into());
        }
        let loser_state: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT merged_into, erased_at FROM customers WHERE id = $1 AND deleted_at IS NOT NULL",
        )
        .bind(m.loser_id)
        .fetch_optional(&mut *tx)
        .await?;
        if loser_state != Some((Some(m.winner_id), None)) {
            return Err(ValidationErrors::single("merge_id", "loser_changed").into());
        }
        let before: CustomerFields = from_json(&m.winner_before)?;
        let after: CustomerFields = from_json(&m.winner_after)?;
        let moved: MovedIds = from_json(&m.moved)?;
        move_all(&mut tx, &moved, m.winner_id, m.loser_id, now_ms).await?;
        let current = w.fields()?;
        let reverted = merge::revert(&before, &after, &current)?;
        let version = w.version;
        write_update(&mut tx, actor, w, current, reverted, version, now).await?;
        sqlx::query("UPDATE customers SET deleted_at = NULL, deleted_by = NULL, merged_into = NULL, version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $3")
            .bind(now_ms).bind(actor.user_id()).bind(m.loser_id).execute(&mut *tx).await?;
        rebuild_search_keys(&mut tx, m.winner_id).await?;
        rebuild_search_keys(&mut tx, m.loser_id).await?;
        sqlx::query("UPDATE customer_merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
            .bind(now_ms)
            .bind(actor.user_id())
            .bind(merge_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "unmerge",
                entity: "customer",
                entity_id: Some(m.loser_id),
                detail: json!({"merge_id": merge_id, "winner": m.winner_id, "loser": m.loser_id}),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_customer(actor, m.loser_id).await
    }
}
