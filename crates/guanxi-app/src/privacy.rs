//! Data-subject rights (PIPL / GDPR): erasing a customer at their request. The other right,
//! everything held about a customer, is the export writer's `customer_dossier`.

use guanxi_domain::role::{Actor, Permission};
use guanxi_store::privacy::ErasureReport;
use guanxi_store::Store;

use crate::{require, AppError};

/// Erases a customer for good (admins: `DataSubjectRights`), audited with the reason. The
/// store anonymises the record, its contact points, free texts and the values in audit entries
/// about it, and keeps orders for the books.
pub async fn erase_customer(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<ErasureReport, AppError> {
    require(actor, Permission::DataSubjectRights)?;
    Ok(store.erase_customer(actor, id, reason).await?)
}
