//! Reading customers: what a reader may see of a record, and the audit of sensitive reads.

use guanxi_domain::masking::mask_id_number;
use guanxi_domain::records::Customer;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::audit::AuditEvent;
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// Most customers a list counts before it says "more than" (API `X-Total-Count`, list page).
pub const LIST_COUNT_CAP: i64 = 10_000;

/// Masks the ID number.
fn mask(c: &mut Customer) {
    if let Some(v) = c.id_number.as_deref() {
        c.id_number = Some(mask_id_number(v));
        c.id_number_masked = true;
    }
}

/// Masks what the reader may not see. Returns whether an unmasked sensitive value remains
/// (the caller audits that read; [`read_customer`] does).
pub fn present(actor: &Actor, mut c: Customer) -> (Customer, bool) {
    let sensitive_shown = if actor.can(Permission::ViewSensitive) {
        c.id_number.is_some()
    } else {
        mask(&mut c);
        false
    };
    (c, sensitive_shown)
}

/// In lists the ID number is always masked: bulk reads of sensitive data go through exports,
/// which are audited with their row counts.
pub fn present_in_list(mut c: Customer) -> Customer {
    mask(&mut c);
    c
}

/// One customer as `actor` may see it, for the API and the 360 page alike: masked for readers
/// without the permission, and an unmasked ID number is audited as a sensitive read (`via`
/// names the channel in the audit detail when it is not the API).
pub async fn read_customer(
    store: &Store,
    actor: &Actor,
    id: i64,
    via: Option<&str>,
) -> Result<Customer, AppError> {
    require(actor, Permission::ReadCustomers)?;
    let (c, sensitive) = present(actor, store.get_customer(actor, id).await?);
    if sensitive {
        let mut detail = json!({"fields": ["id_number"]});
        if let Some(v) = via {
            detail["via"] = json!(v);
        }
        store
            .audit(
                actor,
                AuditEvent {
                    action: "read_sensitive",
                    entity: "customer",
                    entity_id: Some(id),
                    detail,
                },
            )
            .await?;
    }
    Ok(c)
}
