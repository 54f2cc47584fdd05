//! The customer file: creating (with the duplicate check), changing (reassigning an owner
//! needs its own permission), deleting, listing, counting and identifying customers, and what
//! a reader may see of a record with the audit of sensitive reads.

use chrono::Utc;
use guanxi_domain::custom_field::FieldEntity;
use guanxi_domain::customer::{CustomerFields, CustomerPatch};
use guanxi_domain::masking::mask_id_number;
use guanxi_domain::records::{Customer, IdentifyHit};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::ValidationErrors;
use guanxi_store::audit::AuditEvent;
use guanxi_store::customers::CustomerFilter;
use guanxi_store::{Page, Store};
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

/// One customer as stored, for a change the actor is about to make (the edit form, a bulk
/// action, the merge comparison): needs `WriteCustomers`, within the actor's scope.
pub async fn load_for_change(store: &Store, actor: &Actor, id: i64) -> Result<Customer, AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.get_customer(actor, id).await?)
}

/// One customer as a list shows it (ID number always masked, so no sensitive-read audit): for
/// a row that names the customer beside something else, such as a task.
pub async fn read_in_list(store: &Store, actor: &Actor, id: i64) -> Result<Customer, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(present_in_list(store.get_customer(actor, id).await?))
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
    let (mut c, sensitive) = present(actor, store.get_customer(actor, id).await?);
    let mut fields: Vec<String> = Vec::new();
    if sensitive {
        fields.push("id_number".into());
    }
    fields.extend(with_custom(store, actor, &mut c, false).await?);
    if !fields.is_empty() {
        let mut detail = json!({"fields": fields});
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

/// Fills a customer's `custom` with the values `actor` may see (masked as [`crate::custom_field::present`]
/// says); returns the sensitive ones shown unmasked.
async fn with_custom(
    store: &Store,
    actor: &Actor,
    c: &mut Customer,
    in_list: bool,
) -> Result<Vec<String>, AppError> {
    let cat = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
    let fields: Vec<_> = cat.visible(actor).cloned().collect();
    let values = store.record_custom_values(&fields, c.id).await?;
    let (shown, sensitive) = crate::custom_field::present(actor, &cat, &values, in_list);
    c.custom = shown;
    Ok(sensitive)
}

/// Creates a customer. Naming an owner other than oneself needs `ReassignCustomers`. Unless
/// `allow_duplicate`, a customer the actor can see who shares a mobile or phone, email, WeChat
/// id or ID number stops the creation with the matches ([`AppError::PossibleDuplicate`]); one
/// outside the actor's scope is never named.
pub async fn create_customer(
    store: &Store,
    actor: &Actor,
    fields: CustomerFields,
    allow_duplicate: bool,
) -> Result<Customer, AppError> {
    require(actor, Permission::WriteCustomers)?;
    if fields.owner_id.is_some_and(|o| o != actor.id) {
        require(actor, Permission::ReassignCustomers)?;
    }
    let mut fields = fields;
    let custom = std::mem::take(&mut fields.custom);
    let cat = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
    // Every problem in one answer: the fields' and the custom fields'.
    let kind = fields.kind;
    let (valid, changes) = ValidationErrors::both(
        fields.validate(actor.id, Utc::now()),
        crate::custom_field::checked_changes(actor, &cat, Some(kind), &custom, None),
    )?;
    if !allow_duplicate {
        let candidates = store.duplicate_candidates(actor, &valid).await?;
        if !candidates.is_empty() {
            return Err(AppError::PossibleDuplicate(candidates));
        }
    }
    let c = store.create_customer_with(actor, valid, &changes).await?;
    crate::care::dates_changed(store).await;
    let mut c = present(actor, c).0;
    with_custom(store, actor, &mut c, false).await?;
    Ok(c)
}

/// Changes a customer guarded by the version last read (a stale one is a conflict naming who
/// saved since). Moving the customer to another owner needs `ReassignCustomers`.
pub async fn update_customer(
    store: &Store,
    actor: &Actor,
    id: i64,
    patch: CustomerPatch,
) -> Result<Customer, AppError> {
    require(actor, Permission::WriteCustomers)?;
    let mut patch = patch;
    // The stored record only when the patch needs it: a new owner, or custom values (whose
    // fields depend on the customer's kind).
    let current = if patch.owner_id.is_some() || patch.custom.is_some() {
        Some(store.get_customer(actor, id).await?)
    } else {
        None
    };
    if let (Some(new_owner), Some(current)) = (patch.owner_id, &current) {
        if current.owner_id != Some(new_owner) {
            require(actor, Permission::ReassignCustomers)?;
        }
    }
    let changes = match (patch.custom.take(), &current) {
        (Some(values), Some(current)) => {
            let cat = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
            let before = store.record_custom_values(&cat.fields, id).await?;
            crate::custom_field::checked_changes(
                actor,
                &cat,
                Some(current.kind),
                &values,
                Some(&before),
            )?
        }
        _ => Vec::new(),
    };
    let c = store
        .update_customer_with(actor, id, patch, &changes)
        .await?;
    crate::care::dates_changed(store).await;
    let mut c = present(actor, c).0;
    with_custom(store, actor, &mut c, false).await?;
    Ok(c)
}

/// Deletes a customer (soft; guarded by the version last read).
pub async fn delete_customer(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
) -> Result<(), AppError> {
    require(actor, Permission::DeleteCustomers)?;
    Ok(store.delete_customer(actor, id, version).await?)
}

/// A page of customers by a filter, as lists show them (ID numbers masked). A filter value the
/// store refuses is a query problem.
pub async fn list_customers(
    store: &Store,
    actor: &Actor,
    filter: &CustomerFilter,
) -> Result<Page<Customer>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    let page = store
        .list_customers(actor, filter)
        .await
        .map_err(in_query)?;
    let cat = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
    let ids: Vec<i64> = page.items.iter().map(|c| c.id).collect();
    let mut custom = crate::custom_field::present_many(store, actor, &cat, &ids).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|c| {
                let mut c = present_in_list(c);
                c.custom = custom.remove(&c.id).unwrap_or_default();
                c
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// How many customers match a filter, counted up to `cap` (and whether it stopped there).
pub async fn count_customers(
    store: &Store,
    actor: &Actor,
    filter: &CustomerFilter,
    cap: i64,
) -> Result<(i64, bool), AppError> {
    require(actor, Permission::ReadCustomers)?;
    store
        .count_customers(actor, filter, cap)
        .await
        .map_err(in_query)
}

/// Finds customers from what someone typed at a touchpoint: a phone in any format, an email, a
/// name, pinyin or initials, or several words at once; best first, within the actor's scope.
pub async fn identify(
    store: &Store,
    actor: &Actor,
    query: &str,
    limit: i64,
) -> Result<Vec<IdentifyHit>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.identify(actor, query, limit).await?)
}

/// A filter the store refuses is a problem with the query, not with a body.
fn in_query(e: guanxi_store::StoreError) -> AppError {
    match e {
        guanxi_store::StoreError::Invalid(v) => AppError::InvalidQuery(v),
        other => other.into(),
    }
}
