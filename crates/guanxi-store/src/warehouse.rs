//! Extracts for the star-schema warehouse export (`guanxi export warehouse`): the order lines
//! (the fact), read in keyset batches so a ten-million-line book never sits in memory at once,
//! and the small dimensions (customers with their latest scores, products). Every line and
//! every customer is exported, deleted and merged ones included (flagged), so the warehouse's
//! totals equal the database's and no fact points at a missing dimension row.

use crate::db::Store;
use crate::error::Result;

/// One customer for the customer dimension.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarehouseCustomer {
    /// Customer id (the dimension key).
    pub id: i64,
    /// individual / company.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Gender code.
    pub gender: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Lifecycle stage code.
    pub lifecycle_stage: String,
    /// Source channel code.
    pub source_channel: String,
    /// Owner (user id).
    pub owner_id: Option<i64>,
    /// Owner's display name.
    pub owner_name: Option<String>,
    /// Owner's team.
    pub team_name: Option<String>,
    /// Created, ms since the epoch.
    pub created_at: i64,
    /// Soft-deleted, ms since the epoch.
    pub deleted_at: Option<i64>,
    /// Merged into this customer.
    pub merged_into: Option<i64>,
    /// RFM segment code (latest refresh).
    pub rfm_segment: Option<String>,
    /// Value-matrix cell.
    pub value_cell: Option<String>,
    /// ABC class.
    pub abc_class: Option<String>,
    /// Activity status.
    pub activity: Option<String>,
    /// CLV in minor units.
    pub clv_minor: Option<i64>,
    /// Churn probability.
    pub churn_probability: Option<f64>,
}

/// One product for the product dimension.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarehouseProduct {
    /// Product id (the dimension key).
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: Option<String>,
}

/// One order line with its order's attributes (the fact grain).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarehouseLine {
    /// Order line id.
    pub id: i64,
    /// Order id.
    pub order_id: i64,
    /// Line number within the order.
    pub line_no: i64,
    /// Customer.
    pub customer_id: i64,
    /// Product.
    pub product_id: i64,
    /// Order time, ms since the epoch (UTC).
    pub ordered_at: i64,
    /// Sales channel code.
    pub channel: String,
    /// Store name, if any.
    pub store: Option<String>,
    /// ISO currency.
    pub currency: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit price, minor units.
    pub unit_price_minor: i64,
    /// Line amount, minor units.
    pub amount_minor: i64,
}

/// Totals the export must reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct WarehouseTotals {
    /// Order lines.
    pub lines: i64,
    /// Orders with at least one line.
    pub orders: i64,
    /// Sum of line amounts, minor units.
    pub amount_minor: i64,
    /// Sum of quantities.
    pub quantity: i64,
}

/// One custom-field value of a customer, for the warehouse.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WarehouseCustomValue {
    /// Customer id.
    pub customer_id: i64,
    /// Field code.
    pub code: String,
    /// Its English label.
    pub label_en: String,
    /// Its Chinese label.
    pub label_zh: String,
    /// Kind of value.
    pub kind: String,
    /// The canonical text (a choice's code, `2026-05-01`, `true`).
    pub value_text: String,
    /// The number, for numbers, money (yuan) and users.
    pub value_number: Option<f64>,
}

impl Store {
    /// The customer fields' values for the warehouse: live fields only, and never a sensitive
    /// one (the warehouse is for analysis; like contact data and ID numbers, health or
    /// religion stays out of it). One row per value (a multi-choice: one per option).
    pub async fn warehouse_custom_values(&self) -> Result<Vec<WarehouseCustomValue>> {
        Ok(sqlx::query_as(
            "SELECT v.record_id AS customer_id, f.code, f.label_en, f.label_zh, f.kind, \
             v.value_text, v.value_number FROM custom_values v \
             JOIN custom_fields f ON f.id = v.field_id \
             WHERE f.entity = 'customer' AND f.archived_at IS NULL AND f.sensitive = 0 \
             ORDER BY v.record_id, f.position, f.id, v.value_text",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Every customer (deleted and merged ones flagged) with the latest scores.
    pub async fn warehouse_customers(&self) -> Result<Vec<WarehouseCustomer>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.kind, c.name, c.gender, c.city, c.province, c.industry, \
             c.lifecycle_stage, c.source_channel, c.owner_id, u.display_name AS owner_name, \
             t.name AS team_name, c.created_at, c.deleted_at, c.merged_into, s.rfm_segment, \
             s.value_cell, s.abc_class, s.activity, s.clv_minor, s.churn_probability \
             FROM customers c LEFT JOIN users u ON u.id = c.owner_id \
             LEFT JOIN teams t ON t.id = u.team_id \
             LEFT JOIN customer_scores s ON s.customer_id = c.id ORDER BY c.id",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Every product.
    pub async fn warehouse_products(&self) -> Result<Vec<WarehouseProduct>> {
        Ok(
            sqlx::query_as("SELECT id, sku, name, category FROM products ORDER BY id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The next `limit` order lines after line id `after` (keyset: constant cost per batch).
    pub async fn warehouse_lines(&self, after: i64, limit: i64) -> Result<Vec<WarehouseLine>> {
        Ok(sqlx::query_as(
            "SELECT l.id, l.order_id, l.line_no, o.customer_id, l.product_id, o.ordered_at, \
             o.channel, o.store, o.currency, l.quantity, l.unit_price_minor, l.amount_minor \
             FROM order_lines l JOIN orders o ON o.id = l.order_id \
             WHERE l.id > $1 ORDER BY l.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Line count, order count, amount and quantity as the database has them.
    pub async fn warehouse_totals(&self) -> Result<WarehouseTotals> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS lines, COUNT(DISTINCT order_id) AS orders, \
             CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS amount_minor, \
             CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS quantity FROM order_lines",
        )
        .fetch_one(&self.read)
        .await?)
    }
}
