//! Membership programmes: saved as one checked JSON document each, one of them active. Saving
//! an active programme pauses the one active before, in the same transaction, so two
//! programmes never earn on the same order. A programme remembers how far the accrual sweep
//! has read the orders (`accrued_through`): a new programme starts just before the first order
//! on or after its start day, so orders already placed in its period earn too.

use chrono::{DateTime, Utc};
use guanxi_domain::loyalty::ProgramInput;
use guanxi_domain::role::Actor;
use guanxi_domain::segment::local_midnight_ms;

use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// A stored programme.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProgramRecord {
    /// Id.
    pub id: i64,
    /// The programme (its name, tiers, rates and promotions).
    pub program: ProgramInput,
    /// The last order id the accrual sweep has looked at.
    pub accrued_through: i64,
    /// When tiers were last evaluated.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Members enrolled.
    pub members: i64,
    /// Version, for updates.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

type Row = (i64, String, i64, i64, Option<i64>, i64, i64, i64, i64);

const SELECT: &str = "SELECT p.id, p.config, p.active, p.accrued_through, p.evaluated_at, \
     (SELECT COUNT(*) FROM loyalty_accounts a WHERE a.program_id = p.id), p.version, \
     p.created_at, p.updated_at FROM loyalty_programs p";

fn record(r: Row) -> Result<ProgramRecord> {
    let (
        id,
        config,
        active,
        accrued_through,
        evaluated_at,
        members,
        version,
        created_at,
        updated_at,
    ) = r;
    let mut program: ProgramInput = serde_json::from_str(&config)
        .map_err(|e| StoreError::Corrupt(format!("loyalty_programs.config: {e}")))?;
    // The column is what counts: saving another active programme pauses this one.
    program.active = active != 0;
    Ok(ProgramRecord {
        id,
        program,
        accrued_through,
        evaluated_at: evaluated_at.map(from_ms),
        members,
        version,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
    })
}

impl Store {
    /// Every programme, the active one first.
    pub async fn list_loyalty_programs(&self) -> Result<Vec<ProgramRecord>> {
        let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY p.active DESC, p.id"))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// One programme.
    pub async fn get_loyalty_program(&self, id: i64) -> Result<ProgramRecord> {
        let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        record(row.ok_or(StoreError::NotFound)?)
    }

    /// The active programme, if any (without its member count, which the sweep needs not).
    pub async fn active_loyalty_program(&self) -> Result<Option<(i64, ProgramInput, i64)>> {
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, config, accrued_through FROM loyalty_programs WHERE active = 1 \
             ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        row.map(|(id, config, through)| {
            serde_json::from_str::<ProgramInput>(&config)
                .map(|mut p| {
                    p.active = true;
                    (id, p, through)
                })
                .map_err(|e| StoreError::Corrupt(format!("loyalty_programs.config: {e}")))
        })
        .transpose()
    }

    /// The last order id placed before `p`'s start day (its start in the business's zone).
    async fn accrual_start(
        conn: &mut sqlx::AnyConnection,
        p: &ProgramInput,
        utc_offset_hours: i64,
    ) -> Result<i64> {
        let start = local_midnight_ms(p.starts_on, utc_offset_hours);
        let first: Option<i64> =
            sqlx::query_scalar("SELECT MIN(id) FROM orders WHERE ordered_at >= $1")
                .bind(start)
                .fetch_one(&mut *conn)
                .await?;
        Ok(match first {
            Some(f) => f - 1,
            None => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM orders")
                .fetch_one(&mut *conn)
                .await?
                .unwrap_or(0),
        })
    }

    /// Saves a new programme (checked by the caller), audited; a taken name is
    /// `Duplicate { field: "name" }`. An active one pauses the programme active before.
    pub async fn create_loyalty_program(
        &self,
        actor: &Actor,
        p: &ProgramInput,
        utc_offset_hours: i64,
    ) -> Result<ProgramRecord> {
        let now = to_ms(Utc::now());
        let config = serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        if p.active {
            sqlx::query(
                "UPDATE loyalty_programs SET active = 0, version = version + 1 WHERE active = 1",
            )
            .execute(&mut *tx)
            .await?;
        }
        let through = Self::accrual_start(&mut tx, p, utc_offset_hours).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO loyalty_programs (name, config, active, accrued_through, version, \
             created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, 1, $5, $5, $6, $6) RETURNING id",
        )
        .bind(p.name.as_str())
        .bind(config.as_str())
        .bind(i64::from(p.active))
        .bind(through)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_loyalty_program",
            "loyalty_program",
            Some(id),
            serde_json::json!({"name": p.name, "active": p.active, "tiers": p.tiers.len()}),
        )
        .await?;
        tx.commit().await?;
        self.get_loyalty_program(id).await
    }

    /// Changes a programme at `version`, audited. Members keep their tier codes; a tier that
    /// no longer exists is re-placed at the next evaluation. A start moved earlier lets the
    /// sweep read the orders of the added days (accrual is keyed per order, so none earns twice).
    pub async fn update_loyalty_program(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        p: &ProgramInput,
        utc_offset_hours: i64,
    ) -> Result<ProgramRecord> {
        let before = self.get_loyalty_program(id).await?;
        let config = serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        if p.active {
            sqlx::query(
                "UPDATE loyalty_programs SET active = 0, version = version + 1 \
                 WHERE active = 1 AND id <> $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let through = Self::accrual_start(&mut tx, p, utc_offset_hours)
            .await?
            .min(before.accrued_through);
        let n = sqlx::query(
            "UPDATE loyalty_programs SET name = $1, config = $2, active = $3, \
             accrued_through = $4, version = version + 1, updated_at = $5, updated_by = $6 \
             WHERE id = $7 AND version = $8",
        )
        .bind(p.name.as_str())
        .bind(config.as_str())
        .bind(i64::from(p.active))
        .bind(through)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            "update_loyalty_program",
            "loyalty_program",
            Some(id),
            serde_json::json!({"name": p.name, "active": p.active,
                "was_active": before.program.active, "tiers": p.tiers.len()}),
        )
        .await?;
        tx.commit().await?;
        self.get_loyalty_program(id).await
    }
}
