//! Custom fields in the database: their definitions (`custom_fields`), their values
//! (`custom_values`, one row per value, see migration 0053 for why not a JSON column) and the
//! SQL that filters by them for segments and the customer list.

mod filter;
mod values;

pub(crate) use filter::{push_custom_test, push_record_filters, push_value_condition};
pub(crate) use values::{erase_values_in, move_values_in, write_values_in};
pub use values::{CustomChange, RecordValues};

use chrono::Utc;
use guanxi_domain::custom_field::{
    AppliesTo, FieldChoice, FieldDefinition, FieldEntity, FieldInput, FieldKind,
};
use guanxi_domain::role::{Actor, Role};
use serde_json::json;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

const COLUMNS: &str = "id, entity, applies_to, code, kind, label_zh, label_en, choices, required, \
     visible_to, sensitive, position, preset, archived_at, version FROM custom_fields";

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: i64,
    entity: String,
    applies_to: String,
    code: String,
    kind: String,
    label_zh: String,
    label_en: String,
    choices: String,
    required: i64,
    visible_to: String,
    sensitive: i64,
    position: i64,
    preset: Option<String>,
    archived_at: Option<i64>,
    version: i64,
}

impl FieldRow {
    fn into_definition(self) -> Result<FieldDefinition> {
        let corrupt = |_| StoreError::Corrupt(format!("custom_fields {}", self.id));
        let choices: Vec<FieldChoice> = serde_json::from_str(&self.choices)
            .map_err(|_| StoreError::Corrupt(format!("custom_fields {} choices", self.id)))?;
        let visible: Vec<String> = serde_json::from_str(&self.visible_to)
            .map_err(|_| StoreError::Corrupt(format!("custom_fields {} roles", self.id)))?;
        Ok(FieldDefinition {
            id: self.id,
            entity: FieldEntity::parse(&self.entity).map_err(corrupt)?,
            applies_to: AppliesTo::parse(&self.applies_to).map_err(corrupt)?,
            kind: FieldKind::parse(&self.kind).map_err(corrupt)?,
            visible_to: visible
                .iter()
                .map(|r| Role::parse(r))
                .collect::<std::result::Result<_, _>>()
                .map_err(corrupt)?,
            code: self.code,
            label_zh: self.label_zh,
            label_en: self.label_en,
            choices,
            required: self.required != 0,
            sensitive: self.sensitive != 0,
            position: self.position,
            preset: self.preset,
            archived: self.archived_at.is_some(),
            version: self.version,
        })
    }
}

fn json_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// What an audit entry says of a definition.
fn audit_view(f: &FieldInput) -> serde_json::Value {
    json!({
        "entity": f.entity, "applies_to": f.applies_to, "code": f.code, "kind": f.kind,
        "label_zh": f.label_zh, "label_en": f.label_en, "choices": f.choices,
        "required": f.required, "visible_to": f.visible_to, "sensitive": f.sensitive,
        "position": f.position,
    })
}

impl Store {
    /// Every definition of an entity's fields, archived ones included, in form order.
    pub async fn custom_fields(&self, entity: FieldEntity) -> Result<Vec<FieldDefinition>> {
        let rows: Vec<FieldRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} WHERE entity = $1 ORDER BY position, id"
        ))
        .bind(entity.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(FieldRow::into_definition).collect()
    }

    /// One definition.
    pub async fn custom_field(&self, id: i64) -> Result<FieldDefinition> {
        let row: Option<FieldRow> = sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.ok_or(StoreError::NotFound)?.into_definition()
    }

    /// Stores a checked definition (its code unique within the entity), audited. `preset`
    /// names the shipped preset it comes from.
    pub async fn create_custom_field(
        &self,
        actor: &Actor,
        f: &FieldInput,
        preset: Option<&str>,
    ) -> Result<FieldDefinition> {
        let mut tx = self.begin_write().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM custom_fields WHERE entity = $1")
            .bind(f.entity.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if count as usize >= guanxi_domain::custom_field::MAX_FIELDS {
            return Err(StoreError::invalid("code", "too_many_fields"));
        }
        let now = to_ms(Utc::now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO custom_fields (entity, applies_to, code, kind, label_zh, label_en, \
             choices, required, visible_to, sensitive, position, preset, version, created_at, \
             updated_at, created_by, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, 1, $13, $13, $14, $14) RETURNING id",
        )
        .bind(f.entity.as_str())
        .bind(f.applies_to.as_str())
        .bind(f.code.as_str())
        .bind(f.kind.as_str())
        .bind(f.label_zh.as_str())
        .bind(f.label_en.as_str())
        .bind(json_of(&f.choices))
        .bind(i64::from(f.required))
        .bind(json_of(&f.visible_to))
        .bind(i64::from(f.sensitive))
        .bind(f.position)
        .bind(preset)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::unique(e, "code") {
            StoreError::Duplicate { .. } => StoreError::invalid("code", "taken"),
            other => other,
        })?;
        entry(
            &mut tx,
            actor,
            "create",
            "custom_field",
            Some(id),
            audit_view(f),
        )
        .await?;
        tx.commit().await?;
        self.custom_field(id).await
    }

    /// Changes a definition at the version read (entity, code and kind stay), audited.
    pub async fn update_custom_field(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        f: &FieldInput,
    ) -> Result<FieldDefinition> {
        let before = self.custom_field(id).await?;
        before.check_update(f)?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE custom_fields SET applies_to = $1, label_zh = $2, label_en = $3, \
             choices = $4, required = $5, visible_to = $6, sensitive = $7, position = $8, \
             version = version + 1, updated_at = $9, updated_by = $10 \
             WHERE id = $11 AND version = $12",
        )
        .bind(f.applies_to.as_str())
        .bind(f.label_zh.as_str())
        .bind(f.label_en.as_str())
        .bind(json_of(&f.choices))
        .bind(i64::from(f.required))
        .bind(json_of(&f.visible_to))
        .bind(i64::from(f.sensitive))
        .bind(f.position)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            "update",
            "custom_field",
            Some(id),
            audit_view(f),
        )
        .await?;
        tx.commit().await?;
        self.custom_field(id).await
    }

    /// Archives a field (its values stay, it leaves forms, pages, filters and imports) or
    /// brings it back, at the version read; audited.
    pub async fn archive_custom_field(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        archived: bool,
    ) -> Result<FieldDefinition> {
        let before = self.custom_field(id).await?;
        let mut tx = self.begin_write().await?;
        let now = to_ms(Utc::now());
        let n = sqlx::query(
            "UPDATE custom_fields SET archived_at = $1, version = version + 1, updated_at = $2, \
             updated_by = $3 WHERE id = $4 AND version = $5",
        )
        .bind(archived.then_some(now))
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            if archived { "archive" } else { "restore" },
            "custom_field",
            Some(id),
            json!({"code": before.code}),
        )
        .await?;
        tx.commit().await?;
        self.custom_field(id).await
    }
}
