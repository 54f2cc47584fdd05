//! Membership use cases: a member's balance and ledger (for whoever may read the customer), a
//! manual correction with a reason (`AdjustPoints`, audited by the store), and the programme
//! with its tiers and the nightly pass that earns points and moves tiers ([`program`]).

pub mod coupon;
pub mod program;

use chrono::Utc;
use guanxi_domain::profile::check_text;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::ValidationErrors;
use guanxi_store::loyalty::{Balance, LedgerEntry, Posted};
use guanxi_store::Store;

use crate::{require, AppError};

/// Largest correction one adjustment may make, either way.
pub const MAX_ADJUSTMENT: i64 = 1_000_000;
/// Ledger entries the 360 page shows.
pub const LEDGER_ROWS: i64 = 20;

/// A customer's points: the balance and the latest ledger entries.
pub async fn points(
    store: &Store,
    actor: &Actor,
    customer: i64,
) -> Result<(Balance, Vec<LedgerEntry>), AppError> {
    require(actor, Permission::ReadCustomers)?;
    store.get_customer(actor, customer).await?;
    Ok((
        store.loyalty_balance(customer).await?,
        store.loyalty_ledger(customer, LEDGER_ROWS).await?,
    ))
}

/// Spends `points` of a customer's balance (a gift or a discount at the till): `WriteOrders`,
/// a customer the actor sees; `nonce` comes with the form, so a form sent twice spends once.
pub async fn redeem(
    store: &Store,
    actor: &Actor,
    customer: i64,
    points: i64,
    nonce: &str,
) -> Result<Posted, AppError> {
    require(actor, Permission::WriteOrders)?;
    let mut e = ValidationErrors::new();
    if !(1..=MAX_ADJUSTMENT).contains(&points) {
        e.push("points", "out_of_range");
    }
    check_nonce(&mut e, nonce);
    if !e.is_empty() {
        return Err(e.into());
    }
    store.get_customer(actor, customer).await?;
    Ok(store
        .loyalty_redeem(
            actor,
            customer,
            points,
            &format!("redeem:{nonce}"),
            Utc::now(),
        )
        .await?)
}

/// A form's one-time value: 16–80 hex digits.
fn check_nonce(e: &mut ValidationErrors, nonce: &str) {
    if nonce.len() < 16 || nonce.len() > 80 || !nonce.chars().all(|c| c.is_ascii_hexdigit()) {
        e.push("nonce", "invalid_characters");
    }
}

/// A member's tier: (programme name, tier name, since), when the customer is a member of a
/// programme and placed in a tier it still has.
pub async fn membership(
    store: &Store,
    actor: &Actor,
    customer: i64,
) -> Result<Option<(String, String, Option<chrono::DateTime<Utc>>)>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    store.get_customer(actor, customer).await?;
    let Some((program, Some(tier), since)) = store.loyalty_membership(customer).await? else {
        return Ok(None);
    };
    let p = store.get_loyalty_program(program).await?.program;
    Ok(p.tier(&tier)
        .map(|t| (p.name.clone(), t.name.clone(), since)))
}

/// Corrects a customer's points by `points` (±) for `reason`. `nonce` comes with the form, so
/// a form sent twice corrects once. A removal larger than the balance is refused.
pub async fn adjust(
    store: &Store,
    actor: &Actor,
    customer: i64,
    points: i64,
    reason: &str,
    nonce: &str,
) -> Result<Posted, AppError> {
    require(actor, Permission::AdjustPoints)?;
    let mut e = ValidationErrors::new();
    if points == 0 || points.abs() > MAX_ADJUSTMENT {
        e.push("points", "out_of_range");
    }
    let reason = reason.trim();
    if reason.is_empty() {
        e.push("reason", "required");
    }
    check_text(&mut e, "reason", Some(reason), 200);
    check_nonce(&mut e, nonce);
    if !e.is_empty() {
        return Err(e.into());
    }
    store.get_customer(actor, customer).await?;
    Ok(store
        .loyalty_adjust(
            actor,
            customer,
            points,
            reason,
            None,
            &format!("adjust:{nonce}"),
            Utc::now(),
        )
        .await?)
}
