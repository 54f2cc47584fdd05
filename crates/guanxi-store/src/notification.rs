//! Notifications in the app: short messages for one user, mostly about one customer, written
//! by the rules engine (its action `notify`) inside the firing's transaction and read from the
//! bell in the page header. A dedupe key makes each write happen once, however often the
//! writer is repeated. Reading one's own notifications needs no permission beyond signing in;
//! the customer a notification names is shown only when the reader's record scope holds them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::customers::scope_owners;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::sql::SqlBuilder;
use guanxi_domain::role::Actor;
use guanxi_domain::rule::action::MAX_MESSAGE;

/// A notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// Whom it is for.
    pub user_id: i64,
    /// The customer it is about.
    pub customer_id: Option<i64>,
    /// What wrote it (`rule`).
    pub source: &'a str,
    /// The writer's own id (the rule's).
    pub source_id: Option<i64>,
    /// The text.
    pub message: &'a str,
    /// Unique per write: a second write with the same key is dropped.
    pub dedupe_key: &'a str,
    /// When.
    pub at: DateTime<Utc>,
}

/// A notification as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Id.
    pub id: i64,
    /// The customer it is about, when the reader may see them.
    pub customer_id: Option<i64>,
    /// That customer's name (same condition).
    pub customer_name: Option<String>,
    /// What wrote it (`rule`).
    pub source: String,
    /// The writer's id (the rule's).
    pub source_id: Option<i64>,
    /// The text.
    pub message: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the reader marked it read.
    pub read_at: Option<DateTime<Utc>>,
}

/// One page of a reader's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<Notification>,
    /// Unread ones in all.
    pub unread: i64,
    /// The id to pass as `before` for the next page, when there is one.
    pub next_before: Option<i64>,
}

/// Writes a notification in the caller's transaction; `false` when its key was written before.
pub(crate) async fn notify_in(conn: &mut AnyConnection, n: &NewNotification<'_>) -> Result<bool> {
    let message: String = n.message.chars().take(MAX_MESSAGE).collect();
    let done = sqlx::query(
        "INSERT INTO notifications (user_id, customer_id, source, source_id, message, dedupe_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(n.user_id)
    .bind(n.customer_id)
    .bind(n.source)
    .bind(n.source_id)
    .bind(message)
    .bind(n.dedupe_key)
    .bind(to_ms(n.at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A stored row: id, customer, its owner, its name, source, source id, message, created,
/// read.
type Row = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    String,
    i64,
    Option<i64>,
);

impl Store {
    /// The actor's own notifications, newest first: `limit` of them before the id `before`,
    /// only the unread when asked.
    pub async fn notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        before: Option<i64>,
        limit: i64,
    ) -> Result<NotificationPage> {
        let mut conn = self.read.acquire().await?;
        let mut q = SqlBuilder::new(
            "SELECT n.id, n.customer_id, c.owner_id, c.name, n.source, n.source_id, n.message, \
             n.created_at, n.read_at FROM notifications n \
             LEFT JOIN customers c ON c.id = n.customer_id AND c.deleted_at IS NULL \
             WHERE n.user_id = ",
        );
        q.int(actor.id);
        if unread_only {
            q.push(" AND n.read_at IS NULL");
        }
        if let Some(b) = before {
            q.push(" AND n.id < ").int(b);
        }
        q.push(" ORDER BY n.id DESC LIMIT ").int(limit + 1);
        let mut rows: Vec<Row> = q.query_as().fetch_all(&mut *conn).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let owners = scope_owners(&mut conn, actor).await?;
        let unread = self.unread_notifications_in(&mut conn, actor.id).await?;
        let items: Vec<Notification> = rows
            .into_iter()
            .map(
                |(id, customer, owner, name, source, source_id, message, created, read)| {
                    let visible = name.is_some()
                        && owners
                            .as_ref()
                            .is_none_or(|o| owner.is_some_and(|x| o.contains(&x)));
                    Notification {
                        id,
                        customer_id: customer.filter(|_| visible),
                        customer_name: name.filter(|_| visible),
                        source,
                        source_id,
                        message,
                        created_at: from_ms(created),
                        read_at: read.map(from_ms),
                    }
                },
            )
            .collect();
        let next_before = if more {
            items.last().map(|n| n.id)
        } else {
            None
        };
        Ok(NotificationPage {
            items,
            unread,
            next_before,
        })
    }

    /// How many of the user's notifications are unread (the bell's figure), by the partial
    /// index of unread ones.
    pub async fn unread_notifications(&self, user: i64) -> Result<i64> {
        let mut conn = self.read.acquire().await?;
        self.unread_notifications_in(&mut conn, user).await
    }

    async fn unread_notifications_in(&self, conn: &mut AnyConnection, user: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user)
        .fetch_one(&mut *conn)
        .await?)
    }

    /// Marks one of the actor's notifications read (again is fine), audited; not found when
    /// it is not theirs.
    pub async fn mark_notification_read(
        &self,
        actor: &Actor,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let user = actor.id;
        let mut tx = self.begin_write().await?;
        let found: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT read_at FROM notifications WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        match found {
            None => return Err(StoreError::NotFound),
            Some((Some(_),)) => {}
            Some((None,)) => {
                sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2")
                    .bind(to_ms(at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                entry(
                    &mut tx,
                    actor,
                    "read_notification",
                    "notification",
                    Some(id),
                    serde_json::json!({}),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks every unread notification of the actor read, audited; returns how many.
    pub async fn mark_all_notifications_read(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let user = actor.id;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
        )
        .bind(to_ms(at))
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            entry(
                &mut tx,
                actor,
                "read_notifications",
                "notification",
                None,
                serde_json::json!({ "count": n }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}
