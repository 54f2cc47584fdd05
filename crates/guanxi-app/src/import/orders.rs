//! Imports of orders with their lines, through the record-import pipeline ([`super::records`]):
//! rows sharing an order number are one order (see `guanxi_domain::import::orders`); an order
//! number already on file is a duplicate, skipped or reported (an order is never changed or
//! made twice by an import).

use chrono::{DateTime, Utc};
use guanxi_domain::import::orders::{
    group_orders, order_line_row, suggest_order_fields, LineProblems, OrderLineRow, ORDER_FIELDS,
};
use guanxi_domain::import::RowError;
use guanxi_domain::money::plain_money;
use guanxi_domain::order::NewOrder;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::OrderChannel;
use guanxi_store::import::Progress;
use guanxi_store::Store;
use guanxi_text::format;

use super::records::{mapped_values, OnFile, RecordKind, Unit, Written};
use super::{Columns, FieldValue, ImportSettings};
use crate::AppError;

/// Orders with their lines.
pub(super) struct Orders;

impl RecordKind for Orders {
    const ENTITY: &'static str = "orders";
    const MATCHED_ON: &'static str = "order_ref";
    const KEY_FIELD: &'static str = "order_ref";
    const ON_FILE_PROBLEM: &'static str = "order_on_file";
    const FIELDS: &'static [&'static str] = ORDER_FIELDS;
    const REQUIRED: &'static [(&'static [&'static str], &'static str)] = &[
        (&["ordered_at"], "ordered_at_not_mapped"),
        (&["sku"], "sku_not_mapped"),
        (&["unit_price", "line_amount"], "price_not_mapped"),
    ];

    fn suggest(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>> {
        suggest_order_fields(headers, rows)
    }
    type Row = OrderLineRow;
    type Context = ();
    type Record = NewOrder;

    async fn context(_: &Store) -> Result<(), AppError> {
        Ok(())
    }

    fn check_row(
        line: u64,
        get: &dyn Fn(&str) -> Option<(String, String)>,
        settings: &ImportSettings,
        _: &(),
        now: DateTime<Utc>,
    ) -> Result<OrderLineRow, LineProblems> {
        let channel = OrderChannel::parse(&settings.channel).unwrap_or(OrderChannel::Store);
        order_line_row(line, get, settings.utc_offset_hours, channel, now)
    }

    fn line(row: &OrderLineRow) -> u64 {
        row.line
    }

    fn group_key(get: &dyn Fn(&str) -> Option<(String, String)>) -> Option<String> {
        get("order_ref").map(|(_, v)| v.trim().to_string())
    }

    fn group(
        checked: Vec<(u64, Option<String>, Result<OrderLineRow, LineProblems>)>,
    ) -> (Vec<Unit<NewOrder>>, Vec<RowError>) {
        let (orders, problems) = group_orders(checked);
        let units = orders
            .into_iter()
            .map(|o| Unit {
                lines: o.lines,
                customer: o.buyer,
                record: o.order,
            })
            .collect();
        (units, problems)
    }

    fn stored_values(
        r: &OrderLineRow,
        columns: &Columns,
        settings: &ImportSettings,
    ) -> Vec<FieldValue> {
        let zone = format::zone(settings.utc_offset_hours);
        mapped_values(ORDER_FIELDS, columns, &r.buyer.0, |f| match f {
            "order_ref" => r.order_ref.clone(),
            "ordered_at" => Some(format::datetime(r.ordered_at, zone)),
            "channel" => Some(r.channel.as_str().to_string()),
            "store" => r.store.clone(),
            "currency" => Some(r.currency.clone()),
            "sku" => Some(r.item.sku.clone()),
            "product_name" => r.item.product_name.clone(),
            "category" => r.item.category.clone(),
            "quantity" => Some(r.item.quantity.to_string()),
            "unit_price" => Some(plain_money(r.item.unit_price_minor)),
            "line_amount" => Some(plain_money(r.item.quantity * r.item.unit_price_minor)),
            _ => None,
        })
    }

    async fn on_file<'a>(
        store: &'a Store,
        actor: &'a Actor,
        records: &'a [(i64, &'a NewOrder)],
    ) -> Result<Vec<Option<OnFile>>, AppError> {
        // Order numbers are unique across the book: one taken by a customer the importer
        // cannot see is still taken, and shown without its customer.
        let refs: Vec<&str> = records
            .iter()
            .filter_map(|(_, o)| o.external_ref.as_deref())
            .collect();
        let on_file = store.orders_by_ref(&refs).await?;
        let owners: Vec<i64> = on_file.values().map(|(_, c)| *c).collect();
        let names = store.visible_customer_names(actor, &owners).await?;
        Ok(records
            .iter()
            .map(|(_, o)| {
                let r = o.external_ref.as_ref()?;
                let (_, customer) = on_file.get(r)?;
                let name = names.get(customer);
                Some(OnFile {
                    row_name: r.clone(),
                    customer_id: name.map(|_| *customer),
                    customer_name: name.cloned(),
                })
            })
            .collect())
    }

    async fn write<'a>(
        store: &'a Store,
        actor: &'a Actor,
        import_id: i64,
        records: Vec<(u64, i64, NewOrder)>,
        progress: Progress,
    ) -> Result<Written, AppError> {
        let orders = records
            .into_iter()
            .map(|(line, customer, mut o)| {
                o.customer_id = customer;
                (line, o)
            })
            .collect();
        let counts = store
            .import_orders(actor, import_id, orders, progress)
            .await?;
        // Points for the orders placed since the programme began, as for a typed order.
        crate::loyalty::program::order_placed(store).await;
        Ok(Written {
            records: counts.orders,
        })
    }
}
