//! Orders: recording a purchase (lines, totals computed exactly) and reading them in the
//! reader's record scope. Writing needs `WriteOrders`, reading `ReadCustomers`.

use guanxi_domain::order::NewOrder;
use guanxi_domain::records::Order;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::orders::OrderFilter;
use guanxi_store::{Page, Store};

use crate::{require, AppError};

/// Records an order for a customer the actor may see (the store validates and totals it).
pub async fn create_order(store: &Store, actor: &Actor, o: NewOrder) -> Result<Order, AppError> {
    require(actor, Permission::WriteOrders)?;
    let order = store.create_order(actor, o).await?;
    crate::loyalty::program::order_placed(store).await;
    Ok(order)
}

/// One order with its lines.
pub async fn get_order(store: &Store, actor: &Actor, id: i64) -> Result<Order, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.get_order(actor, id).await?)
}

/// A page of orders by a filter.
pub async fn list_orders(
    store: &Store,
    actor: &Actor,
    f: &OrderFilter,
) -> Result<Page<Order>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    Ok(store.list_orders(actor, f).await?)
}
