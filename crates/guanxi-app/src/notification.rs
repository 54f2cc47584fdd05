//! Notifications in the app: every signed-in user reads and clears their own (the bell in the
//! header, the /notifications page, the API). Nobody reads another's, so no role is needed
//! beyond being a user; the customer a notification names is shown within the reader's
//! record scope only (the store decides).

use chrono::Utc;
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationErrors;
use guanxi_store::notification::NotificationPage;
use guanxi_store::Store;

use crate::AppError;

/// Most notifications one page lists.
pub const MAX_LIMIT: i64 = 100;

/// Which notifications a page lists.
#[derive(Debug, Clone, Copy)]
pub struct NotificationQuery {
    /// Only the unread.
    pub unread_only: bool,
    /// Older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// How many (1–100).
    pub limit: i64,
}

/// A user's notifications are theirs: the system actor (CLI, jobs) has none.
fn user_of(actor: &Actor) -> Result<(), AppError> {
    if actor.id > 0 {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The actor's notifications, newest first, with the unread count.
pub async fn my_notifications(
    store: &Store,
    actor: &Actor,
    q: NotificationQuery,
) -> Result<NotificationPage, AppError> {
    user_of(actor)?;
    let mut e = ValidationErrors::new();
    if !(1..=MAX_LIMIT).contains(&q.limit) {
        e.push("limit", "out_of_range");
    }
    if q.before.is_some_and(|b| b < 1) {
        e.push("before", "out_of_range");
    }
    if !e.is_empty() {
        return Err(AppError::InvalidQuery(e));
    }
    Ok(store
        .notifications(actor, q.unread_only, q.before, q.limit)
        .await?)
}

/// How many of the actor's notifications are unread (the bell's figure).
pub async fn unread_count(store: &Store, actor: &Actor) -> Result<i64, AppError> {
    user_of(actor)?;
    Ok(store.unread_notifications(actor.id).await?)
}

/// Marks one of the actor's notifications read; another's is not found.
pub async fn mark_read(store: &Store, actor: &Actor, id: i64) -> Result<(), AppError> {
    user_of(actor)?;
    Ok(store.mark_notification_read(actor, id, Utc::now()).await?)
}

/// Marks all the actor's notifications read; returns how many were unread.
pub async fn mark_all_read(store: &Store, actor: &Actor) -> Result<u64, AppError> {
    user_of(actor)?;
    Ok(store.mark_all_notifications_read(actor, Utc::now()).await?)
}
