//! Custom fields: the admin's definitions (and the seeds' presets), and what every other use
//! case needs of them — parsing the values a form, the API or an import sends against the
//! fields the actor may write, checking required ones, and presenting the values a reader may
//! see (sensitive ones masked for readers without the permission).

use std::collections::BTreeMap;

use guanxi_domain::custom_field::presets::preset_inputs;
use guanxi_domain::custom_field::{
    Catalogue, CustomValue, FieldDefinition, FieldEntity, FieldInput,
};
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::vocabulary::CustomerKind;
use guanxi_domain::ValidationErrors;
use guanxi_store::custom_field::{CustomChange, RecordValues};
use guanxi_store::Store;
use serde_json::Value as Json;

use crate::{require, AppError};

/// What a reader without the permission sees of a sensitive value.
pub const MASK: &str = "******";

/// Every field of an entity (archived ones included), for the admin's page.
pub async fn list_fields(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    Ok(store.custom_fields(entity).await?)
}

/// One field, for its edit form.
pub async fn get_field(store: &Store, actor: &Actor, id: i64) -> Result<FieldDefinition, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    Ok(store.custom_field(id).await?)
}

/// Defines a field.
pub async fn create_field(
    store: &Store,
    actor: &Actor,
    input: &FieldInput,
) -> Result<FieldDefinition, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    let valid = input.validate()?;
    Ok(store.create_custom_field(actor, &valid, None).await?)
}

/// Changes a field's labels, choices, required flag, visibility, sensitivity or place.
pub async fn update_field(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    input: &FieldInput,
) -> Result<FieldDefinition, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    let valid = input.validate()?;
    Ok(store
        .update_custom_field(actor, id, version, &valid)
        .await?)
}

/// Archives a field or brings it back.
pub async fn archive_field(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
    archived: bool,
) -> Result<FieldDefinition, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    Ok(store
        .archive_custom_field(actor, id, version, archived)
        .await?)
}

/// Switches on the seeds' preset fields that are not defined yet (by code); returns how many
/// were added.
pub async fn add_presets(store: &Store, actor: &Actor) -> Result<usize, AppError> {
    require(actor, Permission::ManageCustomFields)?;
    let have = store.custom_fields(FieldEntity::Customer).await?;
    let mut added = 0;
    for p in preset_inputs() {
        if have.iter().any(|f| f.code == p.code) {
            continue;
        }
        let valid = p.validate()?;
        store
            .create_custom_field(actor, &valid, Some(p.code.as_str()))
            .await?;
        added += 1;
    }
    Ok(added)
}

/// The entity's fields as loaded for one request (no permission of its own: each use case
/// that consults it checks its own, and the catalogue filters by the actor).
pub async fn catalogue(store: &Store, entity: FieldEntity) -> Result<Catalogue, AppError> {
    Ok(Catalogue {
        fields: store.custom_fields(entity).await?,
    })
}

/// What reading (or, `write`, changing) a record of `entity` needs: its values go with it.
fn entity_permission(entity: FieldEntity, write: bool) -> Permission {
    match (entity, write) {
        (FieldEntity::Customer, false) => Permission::ReadCustomers,
        (FieldEntity::Customer, true) => Permission::WriteCustomers,
        (FieldEntity::Opportunity, false) => Permission::ReadOpportunities,
        (FieldEntity::Opportunity, true) => Permission::WorkOpportunities,
        (FieldEntity::Ticket, false) => Permission::ReadTickets,
        (FieldEntity::Ticket, true) => Permission::WorkTickets,
    }
}

/// The live fields `actor` sees on an entity, for forms, columns, filters and the API's
/// discovery: definitions are not secret, but a field hidden from a role is not shown to it.
pub async fn visible_fields(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, AppError> {
    require(actor, entity_permission(entity, false))?;
    let cat = catalogue(store, entity).await?;
    Ok(cat.visible(actor).cloned().collect())
}

/// Whether the field belongs on this record (a customer field on a company or a person).
fn applies(def: &FieldDefinition, kind: Option<CustomerKind>) -> bool {
    kind.is_none_or(|k| def.applies_to_kind(k))
}

/// The custom-field changes a create or an update sends (the API's `custom` object, a form's
/// [`form_values`]), parsed and checked against the required fields (`current`: the record's
/// values before, `None` on a create). One check for customers, opportunities and tickets.
pub fn checked_changes(
    actor: &Actor,
    cat: &Catalogue,
    kind: Option<CustomerKind>,
    values: &BTreeMap<String, Json>,
    current: Option<&RecordValues>,
) -> Result<Vec<CustomChange>, ValidationErrors> {
    let changes = changes_from_json(actor, cat, kind, values)?;
    check_required(actor, cat, kind, current, &changes)?;
    Ok(changes)
}

/// Parses the API's `custom` object against the fields `actor` may write on a record of
/// `kind`: an unknown or hidden code, or a sensitive field without the permission, is an error
/// under `custom.<code>`, as is a value the field cannot hold.
fn changes_from_json(
    actor: &Actor,
    cat: &Catalogue,
    kind: Option<CustomerKind>,
    values: &BTreeMap<String, Json>,
) -> Result<Vec<CustomChange>, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let mut out = Vec::new();
    for (code, v) in values {
        let path = format!("custom.{code}");
        let Some(def) = cat
            .by_code(code)
            .filter(|d| d.visible_to(actor) && applies(d, kind))
        else {
            e.push(path, "unknown_field");
            continue;
        };
        if !def.readable_by(actor) {
            e.push(path, "sensitive_not_allowed");
            continue;
        }
        if let Some(value) = e.field(&path, CustomValue::parse_json(def, v)) {
            out.push(CustomChange {
                field: def.clone(),
                value,
            });
        }
    }
    e.finish(|| out)
}

/// The `custom` object a form sends: every field `actor` may write on a record of `kind`
/// (the form shows them all, so an empty one clears it), read from its inputs `cf.<code>` (a
/// multi-choice as repeated values). Sensitive fields the actor may not read are not on the
/// form and stay as they are.
pub fn form_values(
    actor: &Actor,
    cat: &Catalogue,
    kind: Option<CustomerKind>,
    get: &dyn Fn(&str) -> Vec<String>,
) -> BTreeMap<String, Json> {
    cat.visible(actor)
        .filter(|d| d.readable_by(actor) && applies(d, kind))
        .map(|def| {
            let values = get(&form_name(def));
            let v = if def.kind == guanxi_domain::custom_field::FieldKind::MultiChoice {
                Json::Array(
                    values
                        .into_iter()
                        .filter(|v| !v.trim().is_empty())
                        .map(Json::String)
                        .collect(),
                )
            } else {
                Json::String(values.into_iter().next().unwrap_or_default())
            };
            (def.code.clone(), v)
        })
        .collect()
}

/// The form input's name of a field.
pub fn form_name(def: &FieldDefinition) -> String {
    format!("cf.{}", def.code)
}

/// Checks required fields after `changes`: on a new record (`current` is `None`) every
/// required field the actor writes must get a value; on an existing one a required field may
/// not be cleared (a form sends every field, so an empty required one is such a clearing).
fn check_required(
    actor: &Actor,
    cat: &Catalogue,
    kind: Option<CustomerKind>,
    current: Option<&RecordValues>,
    changes: &[CustomChange],
) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::new();
    for def in cat
        .visible(actor)
        .filter(|d| d.required && d.readable_by(actor) && applies(d, kind))
    {
        let missing = match changes.iter().find(|c| c.field.id == def.id) {
            Some(c) => c.value.is_none(),
            None => current.is_none(),
        };
        if missing {
            e.push(format!("custom.{}", def.code), "required");
        }
    }
    e.finish(|| ())
}

/// The values a reader sees, by code: hidden fields left out, sensitive ones masked unless the
/// reader may read them (`in_list` masks them always: bulk reads go through audited exports).
/// Also returns the codes of the sensitive values shown unmasked, for the read's audit.
pub fn present(
    actor: &Actor,
    cat: &Catalogue,
    values: &RecordValues,
    in_list: bool,
) -> (BTreeMap<String, Json>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut shown = Vec::new();
    for def in cat.visible(actor) {
        let Some(v) = values.get(&def.id) else {
            continue;
        };
        if def.sensitive && (in_list || !def.readable_by(actor)) {
            out.insert(def.code.clone(), Json::String(MASK.into()));
            continue;
        }
        if def.sensitive {
            shown.push(format!("custom.{}", def.code));
        }
        out.insert(def.code.clone(), v.to_json(def.kind));
    }
    (out, shown)
}

/// The values of many records, as [`present`] shows them in a list.
pub async fn present_many(
    store: &Store,
    actor: &Actor,
    cat: &Catalogue,
    records: &[i64],
) -> Result<BTreeMap<i64, BTreeMap<String, Json>>, AppError> {
    let fields: Vec<FieldDefinition> = cat.visible(actor).cloned().collect();
    let values = store.custom_values(&fields, records).await?;
    Ok(values
        .into_iter()
        .map(|(id, v)| (id, present(actor, cat, &v, true).0))
        .collect())
}

/// Fills the `custom` of a page of deals or tickets with the values `actor` sees (sensitive
/// ones masked, as in every list): `set` puts one record's values on it.
pub async fn fill_list<T>(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    rows: &mut [T],
    id_of: impl Fn(&T) -> i64,
    set: impl Fn(&mut T, BTreeMap<String, Json>),
) -> Result<(), AppError> {
    let cat = catalogue(store, entity).await?;
    if rows.is_empty() || cat.visible(actor).next().is_none() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(&id_of).collect();
    let mut values = present_many(store, actor, &cat, &ids).await?;
    for r in rows {
        if let Some(v) = values.remove(&id_of(r)) {
            set(r, v);
        }
    }
    Ok(())
}

/// A list's custom-field filters from its query (`cf.<code>=<value>`; customers, deals or
/// tickets by `entity`): each field must be one `actor` may read, and the value one it can
/// hold (a choice's code or label, a date as typed); a multi-choice matches the records that
/// chose that option. Problems are query problems naming `cf.<code>`.
pub async fn list_filters(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    pairs: &[(String, String)],
) -> Result<Vec<(String, guanxi_domain::segment::CustomTest)>, AppError> {
    let pairs: Vec<&(String, String)> =
        pairs.iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let cat = catalogue(store, entity).await?;
    let mut e = ValidationErrors::new();
    let mut out = Vec::new();
    for (code, raw) in pairs {
        let path = format!("cf.{code}");
        let Some(def) = cat.by_code(code).filter(|d| d.readable_by(actor)) else {
            e.push(path, "unknown_field");
            continue;
        };
        let Some(Some(v)) = e.field(&path, CustomValue::parse_text(def, raw)) else {
            continue;
        };
        let cells = v.cells();
        out.push((
            def.code.clone(),
            guanxi_domain::segment::CustomTest::Equals {
                texts: cells.iter().map(|c| c.text.clone()).collect(),
                numbers: cells.iter().filter_map(|c| c.number).collect(),
            },
        ));
    }
    if e.is_empty() {
        Ok(out)
    } else {
        Err(AppError::InvalidQuery(e))
    }
}

/// The customer fields a form shows `actor` for a customer of `kind`, with the customer's
/// stored values when it edits one (`customer`, read within the actor's scope): the fields
/// the actor may write, in order.
pub async fn customer_form_fields(
    store: &Store,
    actor: &Actor,
    kind: CustomerKind,
    customer: Option<&guanxi_domain::records::Customer>,
) -> Result<(Vec<FieldDefinition>, RecordValues), AppError> {
    require(actor, Permission::WriteCustomers)?;
    let cat = catalogue(store, FieldEntity::Customer).await?;
    let defs: Vec<FieldDefinition> = cat
        .visible(actor)
        .filter(|d| d.readable_by(actor) && d.applies_to_kind(kind))
        .cloned()
        .collect();
    let values = match customer {
        Some(c) => store.record_custom_values(&defs, c.id).await?,
        None => RecordValues::new(),
    };
    Ok((defs, values))
}

/// The fields a new opportunity's or ticket's form shows `actor` (those they may write, in
/// order), so that a required field is given when the record is opened.
pub async fn new_record_fields(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, AppError> {
    require(actor, entity_permission(entity, true))?;
    let cat = catalogue(store, entity).await?;
    Ok(cat
        .visible(actor)
        .filter(|d| d.readable_by(actor))
        .cloned()
        .collect())
}

/// Checks that `actor` may read (or, `write`, change) the opportunity or ticket `id` in
/// their scope: its own use case reads it.
async fn check_record(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    id: i64,
    write: bool,
) -> Result<(), AppError> {
    match entity {
        FieldEntity::Opportunity => {
            crate::pipeline::get(store, actor, id).await?;
        }
        FieldEntity::Ticket => {
            crate::ticket::read_ticket(store, actor, id).await?;
        }
        // A customer's values go with the customer's own reads and changes.
        FieldEntity::Customer => return Err(AppError::Forbidden),
    }
    if write {
        require(actor, entity_permission(entity, true))?;
    }
    Ok(())
}

/// An opportunity's or a ticket's values as `actor` sees them (sensitive ones masked without
/// the permission, an unmasked read of one audited), with the fields they see.
pub async fn record_values(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    id: i64,
) -> Result<(Vec<FieldDefinition>, BTreeMap<String, Json>), AppError> {
    check_record(store, actor, entity, id, false).await?;
    let cat = catalogue(store, entity).await?;
    let defs: Vec<FieldDefinition> = cat.visible(actor).cloned().collect();
    let values = store.record_custom_values(&defs, id).await?;
    let (shown, sensitive) = present(actor, &cat, &values, false);
    if !sensitive.is_empty() {
        store
            .audit(
                actor,
                guanxi_store::audit::AuditEvent {
                    action: "read_sensitive",
                    entity: entity.as_str(),
                    entity_id: Some(id),
                    detail: serde_json::json!({"fields": sensitive}),
                },
            )
            .await?;
    }
    Ok((defs, shown))
}

/// Sets an opportunity's or a ticket's values (absent ones stay, `null` clears), checked
/// against the fields `actor` may write and the required ones; returns them as shown.
pub async fn set_record_values(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    id: i64,
    values: &BTreeMap<String, Json>,
) -> Result<BTreeMap<String, Json>, AppError> {
    check_record(store, actor, entity, id, true).await?;
    let cat = catalogue(store, entity).await?;
    let before = store.record_custom_values(&cat.fields, id).await?;
    let changes = checked_changes(actor, &cat, None, values, Some(&before))?;
    store
        .set_custom_values(actor, entity.as_str(), id, &changes)
        .await?;
    Ok(record_values(store, actor, entity, id).await?.1)
}

/// The inputs' values of an opportunity's or a ticket's fields for its edit form, by field.
pub async fn record_form_values(
    store: &Store,
    actor: &Actor,
    entity: FieldEntity,
    id: i64,
) -> Result<(Vec<FieldDefinition>, RecordValues), AppError> {
    check_record(store, actor, entity, id, true).await?;
    let cat = catalogue(store, entity).await?;
    let defs: Vec<FieldDefinition> = cat
        .visible(actor)
        .filter(|d| d.readable_by(actor))
        .cloned()
        .collect();
    let values = store.record_custom_values(&defs, id).await?;
    Ok((defs, values))
}
