//! A customer's contact points (phones, emails, WeChat … with marketing consent) and relations
//! to other customers. Reads need `ReadCustomers`, changes `WriteCustomers`; the store applies
//! the record scope and writes the audit entry in the change's transaction.

use chrono::Utc;
use guanxi_domain::customer::{ContactPointPatch, NewContactPoint};
use guanxi_domain::records::{ContactPoint, Relation};
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::Store;

use crate::{require, AppError};

/// The contact points of a customer the actor may see.
pub async fn list_contact_points(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
) -> Result<Vec<ContactPoint>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.list_contact_points(actor, customer_id).await?)
}

/// Adds a contact point, normalised for its kind (a mobile in any format, an email lowercased).
pub async fn add_contact_point(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    cp: NewContactPoint,
) -> Result<ContactPoint, AppError> {
    require(actor, Permission::WriteCustomers)?;
    let valid = cp.validate(actor.id, Utc::now())?;
    Ok(store.add_contact_point(actor, customer_id, valid).await?)
}

/// Changes a contact point (value, label, primary, consent) guarded by its version; the new
/// value is checked against the stored point's kind ([`ContactPointPatch::revalidate`]).
pub async fn update_contact_point(
    store: &Store,
    actor: &Actor,
    id: i64,
    patch: ContactPointPatch,
) -> Result<ContactPoint, AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.update_contact_point(actor, id, patch).await?)
}

/// One contact point as stored now (to show after a conflicting change).
pub async fn get_contact_point(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<ContactPoint, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.get_contact_point(actor, id).await?)
}

/// Removes a contact point guarded by its version.
pub async fn delete_contact_point(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i64,
) -> Result<(), AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.delete_contact_point(actor, id, version).await?)
}

/// A customer's relations in both directions.
pub async fn list_relations(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
) -> Result<Vec<Relation>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.list_relations(actor, customer_id).await?)
}

/// Relates two customers (both must be in the actor's scope).
pub async fn add_relation(
    store: &Store,
    actor: &Actor,
    customer_id: i64,
    r: NewRelation,
) -> Result<Relation, AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.add_relation(actor, customer_id, r).await?)
}

/// Removes a relation.
pub async fn delete_relation(store: &Store, actor: &Actor, id: i64) -> Result<(), AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store.delete_relation(actor, id).await?)
}
