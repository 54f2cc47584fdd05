//! Merging duplicate customers: the side-by-side preview, the merge itself (fields chosen from
//! either record, everything else moved), the merges that can still be undone, and the undo.
//! Merging takes both `WriteCustomers` and `DeleteCustomers` (managers, admins).

use guanxi_domain::records::Customer;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::merge::{MergePreview, MergeRecord, Merged};
use guanxi_store::Store;

use crate::{require, AppError};

/// Whether the actor may merge (pages use it to offer the action at all).
pub fn can_merge(actor: &Actor) -> bool {
    actor.can(Permission::WriteCustomers) && actor.can(Permission::DeleteCustomers)
}

/// Fails with [`AppError::Forbidden`] unless the actor may merge ([`can_merge`]); adapters call
/// it to refuse before reading a request's details.
pub fn require_merge(actor: &Actor) -> Result<(), AppError> {
    require(actor, Permission::WriteCustomers)?;
    require(actor, Permission::DeleteCustomers)
}

/// What merging `loser` into `winner` would keep, take and move.
pub async fn preview(
    store: &Store,
    actor: &Actor,
    winner: i64,
    loser: i64,
) -> Result<MergePreview, AppError> {
    require_merge(actor)?;
    Ok(store.merge_preview(actor, winner, loser).await?)
}

/// Merges `loser` into `winner` (both guarded by the versions last read), taking the named
/// fields from the loser; audited and undoable for 30 days.
pub async fn merge(
    store: &Store,
    actor: &Actor,
    winner: i64,
    winner_version: i64,
    loser: i64,
    loser_version: i64,
    take_from_loser: &[String],
) -> Result<Merged, AppError> {
    require_merge(actor)?;
    Ok(store
        .merge_customers(
            actor,
            winner,
            winner_version,
            loser,
            loser_version,
            take_from_loser,
        )
        .await?)
}

/// The merges into `winner` that can still be undone.
pub async fn undoable(
    store: &Store,
    actor: &Actor,
    winner: i64,
) -> Result<Vec<MergeRecord>, AppError> {
    require_merge(actor)?;
    Ok(store.undoable_merges(actor, winner).await?)
}

/// Undoes a merge: the merged-away record comes back with exactly the rows the merge moved.
pub async fn undo(store: &Store, actor: &Actor, merge_id: i64) -> Result<Customer, AppError> {
    require_merge(actor)?;
    Ok(store.undo_merge(actor, merge_id).await?)
}

/// Customers the actor can see that share a phone, email, WeChat id or ID number with `id`.
pub async fn duplicates_of(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<Vec<DuplicateCandidate>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.duplicates_of(actor, id).await?)
}
