//! Key accounts as stored and as the dashboard shows them. A key account is read within the
//! reader's record scope of its customer; the dashboard row carries what a manager checks
//! every morning — revenue this year against last, share of wallet, open deals, open
//! complaints, the last contact — each an index range of its own (orders by customer and
//! time, deals by customer, tickets by customer and kind, interactions by customer and time).

use chrono::{DateTime, Duration, Utc};
use guanxi_domain::key_account::{
    share_of_wallet, KeyAccountInput, PlanAction, PlanContact, PlanInput,
};
use guanxi_domain::role::Actor;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::customers::{load_row, push_scope};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::to_json;
use crate::sql::SqlBuilder;

/// Key accounts one dashboard page lists.
pub const PAGE: i64 = 100;

/// A key account with its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KeyAccount {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub customer_name: String,
    /// `manual` or `rule`.
    pub origin: String,
    /// The relationship manager.
    pub manager_id: Option<i64>,
    /// The deputy.
    pub deputy_id: Option<i64>,
    /// Visit at least every this many days.
    pub cadence_days: i64,
    /// Their yearly spend on what we sell, everywhere (minor units), if entered.
    pub wallet_minor: Option<i64>,
    /// Goals.
    pub goals: Option<String>,
    /// Risks.
    pub risks: Option<String>,
    /// The people on their side.
    pub contacts: Vec<PlanContact>,
    /// What we will do.
    pub actions: Vec<PlanAction>,
    /// The open visit task the cadence made, if any.
    pub visit_task_id: Option<i64>,
    /// Version.
    pub version: i64,
    /// Since (epoch ms).
    pub created_at: i64,
}

/// A key account on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KeyAccountRow {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub customer_name: String,
    /// `manual` or `rule`.
    pub origin: String,
    /// The relationship manager.
    pub manager_id: Option<i64>,
    /// The deputy.
    pub deputy_id: Option<i64>,
    /// Revenue over the last 365 days (minor units).
    pub revenue_minor: i64,
    /// Revenue over the 365 days before that.
    pub previous_revenue_minor: i64,
    /// Revenue ÷ wallet, when a wallet was entered.
    pub share_of_wallet: Option<f64>,
    /// Open deals.
    pub open_deals: i64,
    /// Their amounts.
    pub open_deals_minor: i64,
    /// Complaints not yet resolved.
    pub open_complaints: i64,
    /// The last interaction (epoch ms).
    pub last_contact_at: Option<i64>,
    /// Visit cadence in days.
    pub cadence_days: i64,
    /// No contact for longer than the cadence.
    pub overdue: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: i64,
    customer_name: String,
    origin: String,
    manager_id: Option<i64>,
    deputy_id: Option<i64>,
    cadence_days: i64,
    wallet_minor: Option<i64>,
    goals: Option<String>,
    risks: Option<String>,
    contacts: String,
    actions: String,
    visit_task_id: Option<i64>,
    version: i64,
    created_at: i64,
}

const COLUMNS: &str = "k.customer_id, c.name AS customer_name, k.origin, k.manager_id, \
    k.deputy_id, k.cadence_days, k.wallet_minor, k.goals, k.risks, k.contacts, k.actions, \
    k.visit_task_id, k.version, k.created_at";

impl Row {
    fn into_account(self) -> Result<KeyAccount> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("key account plan: {e}"));
        Ok(KeyAccount {
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            origin: self.origin,
            manager_id: self.manager_id,
            deputy_id: self.deputy_id,
            cadence_days: self.cadence_days,
            wallet_minor: self.wallet_minor,
            goals: self.goals,
            risks: self.risks,
            contacts: serde_json::from_str(&self.contacts).map_err(corrupt)?,
            actions: serde_json::from_str(&self.actions).map_err(corrupt)?,
            visit_task_id: self.visit_task_id,
            version: self.version,
            created_at: self.created_at,
        })
    }
}

/// The key account of customer `id` as the actor may see it.
async fn load(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<KeyAccount> {
    let mut q = SqlBuilder::new(&format!(
        "SELECT {COLUMNS} FROM key_accounts k JOIN customers c ON c.id = k.customer_id \
         WHERE c.deleted_at IS NULL AND k.customer_id = "
    ));
    q.int(id);
    push_scope(&mut q, actor);
    let row: Option<Row> = q.query_as().fetch_optional(&mut *conn).await?;
    row.ok_or(StoreError::NotFound)?.into_account()
}

/// The dashboard's figures, one subquery per figure on the customer's own index range.
fn figures_sql(now: DateTime<Utc>) -> String {
    let year = to_ms(now - Duration::days(365));
    let two = to_ms(now - Duration::days(730));
    format!(
        "SELECT k.customer_id, c.name, k.origin, k.manager_id, k.deputy_id, k.wallet_minor, \
         k.cadence_days, \
         CAST(COALESCE((SELECT SUM(o.total_minor) FROM orders o WHERE o.customer_id = k.customer_id \
             AND o.ordered_at >= {year}), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(o.total_minor) FROM orders o WHERE o.customer_id = k.customer_id \
             AND o.ordered_at >= {two} AND o.ordered_at < {year}), 0) AS BIGINT), \
         (SELECT COUNT(*) FROM opportunities p WHERE p.customer_id = k.customer_id \
             AND p.status = 'open' AND p.deleted_at IS NULL), \
         CAST(COALESCE((SELECT SUM(p.amount_minor) FROM opportunities p \
             WHERE p.customer_id = k.customer_id AND p.status = 'open' \
             AND p.deleted_at IS NULL), 0) AS BIGINT), \
         (SELECT COUNT(*) FROM tickets t WHERE t.customer_id = k.customer_id \
             AND t.kind = 'complaint' AND t.status NOT IN ('resolved', 'closed')), \
         (SELECT MAX(i.occurred_at) FROM interactions i WHERE i.customer_id = k.customer_id) \
         FROM key_accounts k JOIN customers c ON c.id = k.customer_id \
         WHERE c.deleted_at IS NULL"
    )
}

type FigureRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
);

fn dashboard_row(r: FigureRow, now: DateTime<Utc>) -> KeyAccountRow {
    let (
        id,
        name,
        origin,
        manager,
        deputy,
        wallet,
        cadence,
        rev,
        prev,
        deals,
        deals_minor,
        complaints,
        last,
    ) = r;
    let due = to_ms(now - Duration::days(cadence));
    KeyAccountRow {
        customer_id: id,
        customer_name: name,
        origin,
        manager_id: manager,
        deputy_id: deputy,
        revenue_minor: rev,
        previous_revenue_minor: prev,
        share_of_wallet: share_of_wallet(rev, wallet),
        open_deals: deals,
        open_deals_minor: deals_minor,
        open_complaints: complaints,
        last_contact_at: last,
        cadence_days: cadence,
        overdue: last.is_none_or(|at| at < due),
    }
}

impl Store {
    /// The key accounts the actor sees (`mine`: those they manage or stand in for), by
    /// customer name, with the dashboard's figures.
    pub async fn key_accounts(
        &self,
        actor: &Actor,
        mine: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyAccountRow>> {
        let mut q = SqlBuilder::new(&figures_sql(now));
        if mine {
            q.push(" AND (k.manager_id = ")
                .int(actor.id)
                .push(" OR k.deputy_id = ")
                .int(actor.id)
                .push(")");
        }
        push_scope(&mut q, actor);
        q.push(" ORDER BY c.name, k.customer_id LIMIT ").int(PAGE);
        let rows: Vec<FigureRow> = q.query_as().fetch_all(&self.read).await?;
        Ok(rows.into_iter().map(|r| dashboard_row(r, now)).collect())
    }

    /// One key account with its plan and its dashboard figures.
    pub async fn key_account(
        &self,
        actor: &Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(KeyAccount, KeyAccountRow)> {
        let mut conn = self.read.acquire().await?;
        let account = load(&mut conn, actor, id).await?;
        let mut q = SqlBuilder::new(&figures_sql(now));
        q.push(" AND k.customer_id = ").int(id);
        let row: FigureRow = q.query_as().fetch_one(&mut *conn).await?;
        Ok((account, dashboard_row(row, now)))
    }

    /// The customer's orders of the last `days` days as (ordered_at ms, total minor), for the
    /// account page's revenue by month.
    pub async fn key_account_orders(
        &self,
        actor: &Actor,
        id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(i64, i64)>> {
        let mut conn = self.read.acquire().await?;
        load(&mut conn, actor, id).await?;
        Ok(sqlx::query_as(
            "SELECT ordered_at, total_minor FROM orders WHERE customer_id = $1 \
             AND ordered_at >= $2 ORDER BY ordered_at",
        )
        .bind(id)
        .bind(to_ms(since))
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Makes a customer the actor sees a key account (by hand), or changes who looks after
    /// one and its cadence and wallet (at the version read), audited. The manager defaults to
    /// the customer's owner.
    pub async fn set_key_account(
        &self,
        actor: &Actor,
        id: i64,
        k: &KeyAccountInput,
    ) -> Result<KeyAccount> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let customer = match load_row(&mut tx, actor, id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                return Err(StoreError::invalid("customer_id", "invalid_reference"))
            }
            Err(e) => return Err(e),
        };
        let manager = k.manager_id.or(customer.owner_id);
        crate::users::check_active_user(&mut tx, "manager_id", manager).await?;
        crate::users::check_active_user(&mut tx, "deputy_id", k.deputy_id).await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT version FROM key_accounts WHERE customer_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            None => {
                sqlx::query(
                    "INSERT INTO key_accounts (customer_id, origin, manager_id, deputy_id, \
                     cadence_days, wallet_minor, contacts, actions, version, created_at, \
                     updated_at, created_by, updated_by) VALUES ($1, 'manual', $2, $3, $4, $5, \
                     '[]', '[]', 1, $6, $6, $7, $7)",
                )
                .bind(id)
                .bind(manager)
                .bind(k.deputy_id)
                .bind(k.cadence_days)
                .bind(k.wallet_minor)
                .bind(now)
                .bind(actor.user_id())
                .execute(&mut *tx)
                .await?;
            }
            Some(current) => {
                if k.version != Some(current) {
                    return Err(StoreError::Conflict {
                        current,
                        updated_by: None,
                    });
                }
                // A rule's pick that someone changes by hand is theirs to keep.
                sqlx::query(
                    "UPDATE key_accounts SET origin = 'manual', manager_id = $1, deputy_id = $2, \
                     cadence_days = $3, wallet_minor = $4, version = version + 1, \
                     updated_at = $5, updated_by = $6 WHERE customer_id = $7",
                )
                .bind(manager)
                .bind(k.deputy_id)
                .bind(k.cadence_days)
                .bind(k.wallet_minor)
                .bind(now)
                .bind(actor.user_id())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        entry(
            &mut tx,
            actor,
            if existing.is_some() {
                "update_key_account"
            } else {
                "create_key_account"
            },
            "key_account",
            Some(id),
            serde_json::json!({"manager_id": manager, "deputy_id": k.deputy_id,
                "cadence_days": k.cadence_days, "wallet_minor": k.wallet_minor}),
        )
        .await?;
        let out = load(&mut tx, actor, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Saves a key account's plan (checked by the caller) at the version read, audited.
    pub async fn save_key_account_plan(
        &self,
        actor: &Actor,
        id: i64,
        p: &PlanInput,
    ) -> Result<KeyAccount> {
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, actor, id).await?;
        if current.version != p.version {
            return Err(StoreError::Conflict {
                current: current.version,
                updated_by: None,
            });
        }
        sqlx::query(
            "UPDATE key_accounts SET goals = $1, risks = $2, contacts = $3, actions = $4, \
             version = version + 1, updated_at = $5, updated_by = $6 WHERE customer_id = $7",
        )
        .bind(p.goals.as_deref())
        .bind(p.risks.as_deref())
        .bind(to_json("key account plan", &p.contacts)?)
        .bind(to_json("key account plan", &p.actions)?)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "save_key_account_plan",
            "key_account",
            Some(id),
            serde_json::json!({"contacts": p.contacts.len(), "actions": p.actions.len()}),
        )
        .await?;
        let out = load(&mut tx, actor, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Ends a customer's key-account status (its plan goes with it), audited with the plan it
    /// had.
    pub async fn remove_key_account(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, actor, id).await?;
        sqlx::query("DELETE FROM key_accounts WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        entry(
            &mut tx,
            actor,
            "remove_key_account",
            "key_account",
            Some(id),
            serde_json::json!({"manager_id": current.manager_id, "goals": current.goals,
                "contacts": current.contacts, "actions": current.actions}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
