//! Reading the audit log (who did what, when, to which record): `ReadAudit`, which admins
//! hold. Entries are written by the store in each change's transaction, never here.

use guanxi_domain::records::AuditEntry;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::audit::AuditFilter;
use guanxi_store::{Page, Store};

use crate::{require, AppError};

/// A page of audit entries by a filter (a bad filter value is the store's validation error).
pub async fn list_audit(
    store: &Store,
    actor: &Actor,
    f: &AuditFilter,
) -> Result<Page<AuditEntry>, AppError> {
    require(actor, Permission::ReadAudit)?;
    Ok(store.list_audit(f).await?)
}
