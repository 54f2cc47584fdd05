//! Bulk customer import: every row of a file in one transaction on the native driver, so a
//! hundred thousand customers are written in seconds and a failure leaves nothing behind.
//!
//! Through the `Any` pool an imported customer cost some twenty statements, each handed across
//! sqlx's worker thread (≈ 700 rows/s). Here the rows are computed first — the same column
//! values as a single create ([`crate::customers::insert_cells`] and friends), the same search
//! keys and audit entries — and then written:
//!
//! * **SQLite**: rusqlite on a blocking thread, one `IMMEDIATE` transaction, five prepared
//!   statements stepped per row, while the store's writer connection is held so in-process
//!   writers queue behind the import as behind any write.
//! * **PostgreSQL**: one native connection and transaction; customer ids are drawn from the
//!   table's sequence up front, then customers, tags, contact points, search keys and audit
//!   entries each arrive through one `COPY … FROM STDIN`.
//!
//! Rows that update an existing customer are planned on the read pool (load, overlay, validate,
//! diff — [`crate::customers::plan_update`], as an edit does) and applied in the same
//! transaction with a version check: a customer edited meanwhile fails the whole import.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use guanxi_domain::custom_field::StoredCell;
use guanxi_domain::customer::{ValidContactPoint, ValidCustomer};
use guanxi_domain::import::{UpdateMode, UpdateRule};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::ContactKind;
use rayon::prelude::*;
use serde_json::json;
use sqlx::Connection;

use crate::cells::{placeholders, Cell, Copy};
use crate::customers::{
    check_owner, contact_cells, created_detail, editable_columns, insert_cells, insert_columns,
    load_row, plan_update, search_keys_of, update_sql, UpdatePlan, CONTACT_INSERT_COLUMNS,
    EDITABLE_COLUMN_COUNT,
};
use crate::db::{from_ms, Backend, Store};
use crate::error::{Result, StoreError};

/// What one imported row does.
#[derive(Debug, Clone)]
pub enum ImportWrite {
    /// Creates a customer.
    Insert(ValidCustomer),
    /// Lays the row over this existing customer as the mode says (overwrite: the row's values
    /// replace, empty cells keep; fill empty: only what is missing is filled); contact points
    /// the customer lacks are added (as secondary ones where it has that kind).
    Update(i64, ValidCustomer, UpdateRule),
}

/// An import from the browser records what it wrote, in the same transaction, so that it can
/// be undone: the import's id and, per write (in order), the file's line.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The import (`imports.id`).
    pub import_id: i64,
    /// The file line of each write, parallel to the writes.
    pub lines: Vec<u64>,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Customers created.
    pub inserted: u64,
    /// Customers updated.
    pub updated: u64,
}

/// Told how many rows are written so far (a progress bar).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// An update with the contact points the row adds and the search keys to rebuild.
struct PlannedUpdate {
    plan: UpdatePlan,
    /// What an undo restores: the stored fields before (and the custom-field values the
    /// import replaces), as JSON.
    before: serde_json::Value,
    /// Custom-field values to set, replacing those fields' stored values.
    custom: Vec<(i64, Vec<StoredCell>)>,
    contacts: Vec<ValidContactPoint>,
    /// All search keys after the update, when they change (name changed or contacts added).
    keys: Option<Vec<(String, &'static str)>>,
}

/// Rows written per progress report.
const PROGRESS_EVERY: usize = 2_000;

/// Rows an import writes before it refreshes the planner's statistics.
const RESTATISTICS_AFTER: u64 = 10_000;

impl Store {
    /// Writes an import in one transaction on the native driver: all of it or, on any error,
    /// none of it. New customers are owned by their row's owner or else the actor.
    pub async fn import_customers(
        &self,
        actor: &Actor,
        writes: Vec<ImportWrite>,
        progress: Progress,
        recording: Option<Recording>,
    ) -> Result<ImportCounts> {
        let now = Utc::now().timestamp_millis();
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        {
            let mut conn = self.read.acquire().await?;
            let mut owners = BTreeSet::new();
            for w in writes {
                match w {
                    ImportWrite::Insert(c) => {
                        owners.insert(c.fields.owner_id.or(actor.user_id()));
                        inserts.push((c, now));
                    }
                    ImportWrite::Update(id, c, rule) => {
                        updates
                            .push(plan_import_update(&mut conn, actor, id, &c, &rule, now).await?);
                    }
                }
            }
            for owner in owners {
                check_owner(&mut conn, owner).await?;
            }
        }
        let counts = ImportCounts {
            inserted: inserts.len() as u64,
            updated: updates.len() as u64,
        };
        self.write_import(actor, inserts, updates, now, progress, recording)
            .await?;
        // A large load changes the tables' shape; a few rows do not, and are not worth a
        // statistics pass on the user's clock.
        if counts.inserted + counts.updated >= RESTATISTICS_AFTER {
            self.refresh_statistics(&["customers", "contact_points", "customer_search_keys"])
                .await?;
        }
        Ok(counts)
    }
}

impl Store {
    /// Creates customers in one transaction on the native driver, as an import without
    /// duplicate handling or updates does, each with the time its record was made, and
    /// returns their ids in the given order: for loads that then write the customers' history
    /// (`guanxi demo`). No statistics pass: the caller refreshes once at the end of a load
    /// made of many calls.
    pub async fn insert_customers_bulk(
        &self,
        actor: &Actor,
        customers: Vec<(ValidCustomer, i64)>,
        progress: Progress,
    ) -> Result<Vec<i64>> {
        let mut conn = self.read.acquire().await?;
        let owners: BTreeSet<Option<i64>> = customers
            .iter()
            .map(|(c, _)| c.fields.owner_id.or(actor.user_id()))
            .collect();
        for owner in owners {
            check_owner(&mut conn, owner).await?;
        }
        drop(conn);
        let now = Utc::now().timestamp_millis();
        self.write_import(actor, customers, Vec::new(), now, progress, None)
            .await
    }

    /// Prepares the new customers' rows (each with its creation time) in parallel, then writes them and the updates in one
    /// transaction; returns the new customers' ids in order.
    async fn write_import(
        &self,
        actor: &Actor,
        inserts: Vec<(ValidCustomer, i64)>,
        updates: Vec<PlannedUpdate>,
        now: i64,
        progress: Progress,
        recording: Option<Recording>,
    ) -> Result<Vec<i64>> {
        let prepare_actor = actor.clone();
        let inserts = tokio::task::spawn_blocking(move || {
            inserts
                .into_par_iter()
                .map(|(c, created_at)| prepare_insert(&prepare_actor, created_at, c))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        let job = Job {
            actor: actor.clone(),
            inserts,
            updates,
            now,
            progress,
            recording,
        };
        match self.backend() {
            Backend::Sqlite => {
                let _writer = self.write.acquire().await?;
                let store = self.clone();
                tokio::task::spawn_blocking(move || job.write_sqlite(&store))
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Backend::Postgres => {
                let mut conn = self.pg().await?;
                let ids = job.write_postgres(&mut conn).await?;
                conn.close().await?;
                Ok(ids)
            }
        }
    }
}

/// Plans one row laid over a stored customer (see [`ImportWrite::Update`]).
async fn plan_import_update(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: i64,
    v: &ValidCustomer,
    rule: &UpdateRule,
    now: i64,
) -> Result<PlannedUpdate> {
    let row = load_row(conn, actor, id).await?;
    let before = row.fields()?;
    let merged = rule.apply(before.clone(), &v.fields);
    let before_json = serde_json::to_value(&before)
        .map_err(|e| StoreError::Corrupt(format!("customer {id}: {e}")))?;
    let version = row.version;
    let (plan, _) = plan_update(conn, actor, &row, before, merged, version, from_ms(now)).await?;
    let existing: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, value_normalized FROM contact_points WHERE customer_id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut contacts: Vec<ValidContactPoint> = Vec::new();
    for cp in &v.contact_points {
        let kind = cp.kind.as_str();
        if existing
            .iter()
            .any(|(k, n)| k == kind && *n == cp.value.normalized)
        {
            continue;
        }
        let mut cp = cp.clone();
        cp.is_primary = cp.is_primary && !existing.iter().any(|(k, _)| k == kind);
        contacts.push(cp);
    }
    let keys = (plan.name_changed || !contacts.is_empty()).then(|| {
        let stored = existing
            .iter()
            .filter_map(|(k, v)| ContactKind::parse(k).ok().map(|k| (k, v.as_str())));
        let added = contacts
            .iter()
            .map(|cp| (cp.kind, cp.value.normalized.as_str()));
        search_keys_of(&plan.name, stored.chain(added))
    });
    let (custom, custom_before) = plan_custom_update(conn, id, &v.custom, rule).await?;
    let before = json!({
        "fields": before_json,
        "contacts_added": contacts
            .iter()
            .map(|cp| [cp.kind.as_str(), cp.value.normalized.as_str()])
            .collect::<Vec<_>>(),
        "custom": custom_before,
    });
    Ok(PlannedUpdate {
        plan,
        before,
        custom,
        contacts,
        keys,
    })
}

/// The custom-field values a row lays over a stored customer: all of them when the rule
/// overwrites, only those of fields the customer has no value in when it fills empty ones;
/// and, for an undo, what the fields it sets held before (`[field, [[text, number], …]]`).
async fn plan_custom_update(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    row: &[(i64, Vec<StoredCell>)],
    rule: &UpdateRule,
) -> Result<(Vec<(i64, Vec<StoredCell>)>, serde_json::Value)> {
    if row.is_empty() {
        return Ok((Vec::new(), json!([])));
    }
    let ids: Vec<i64> = row.iter().map(|(f, _)| *f).collect();
    let mut q = crate::sql::SqlBuilder::new(
        "SELECT field_id, value_text, value_number FROM custom_values WHERE record_id = ",
    );
    q.int(id).push(" AND field_id IN ").int_list(&ids);
    let stored: Vec<(i64, String, Option<f64>)> = q.query_as().fetch_all(&mut *conn).await?;
    let set: Vec<(i64, Vec<StoredCell>)> = row
        .iter()
        .filter(|(f, _)| rule.mode == UpdateMode::Overwrite || !stored.iter().any(|(s, ..)| s == f))
        .cloned()
        .collect();
    let before: Vec<serde_json::Value> = set
        .iter()
        .map(|(f, _)| {
            let cells: Vec<serde_json::Value> = stored
                .iter()
                .filter(|(s, ..)| s == f)
                .map(|(_, t, n)| json!([t, n]))
                .collect();
            json!([f, cells])
        })
        .collect();
    Ok((set, serde_json::Value::Array(before)))
}

/// The `custom_values` rows of one customer's values.
fn custom_cells(id: i64, custom: &[(i64, Vec<StoredCell>)]) -> Vec<[Cell; 4]> {
    custom
        .iter()
        .flat_map(|(f, cells)| {
            cells.iter().map(move |c| {
                [
                    Cell::Int(Some(*f)),
                    Cell::text(c.text.as_str()),
                    Cell::Int(Some(id)),
                    Cell::Float(c.number),
                ]
            })
        })
        .collect()
}

/// Derives a new customer's rows but for its id (see [`PreparedInsert`]).
fn prepare_insert(actor: &Actor, now: i64, c: ValidCustomer) -> PreparedInsert {
    let owner = c.fields.owner_id.or(actor.user_id());
    let keys = search_keys_of(
        &c.name,
        c.contact_points
            .iter()
            .map(|cp| (cp.kind, cp.value.normalized.as_str())),
    );
    PreparedInsert {
        cells: insert_cells(&c, owner, actor, now),
        detail: created_detail(&c).to_string(),
        keys,
        customer: c,
    }
}

/// A new customer with what is costly to derive (cells, pinyin search keys, the audit JSON)
/// computed in parallel before the write lock is taken; only its id is left for the writer.
struct PreparedInsert {
    customer: ValidCustomer,
    cells: Vec<Cell>,
    keys: Vec<(String, &'static str)>,
    detail: String,
}

/// Everything an import writes, computed; handed to one backend's writer.
struct Job {
    actor: Actor,
    inserts: Vec<PreparedInsert>,
    updates: Vec<PlannedUpdate>,
    now: i64,
    progress: Progress,
    recording: Option<Recording>,
}

/// The rows that hang off one customer, keyed by its id.
struct Dependents {
    tags: Vec<[Cell; 2]>,
    contacts: Vec<Vec<Cell>>,
    audit: [Cell; 7],
}

impl Job {
    fn audit_cells(&self, action: &str, id: i64, detail: String) -> [Cell; 7] {
        [
            Cell::Int(Some(self.now)),
            Cell::Int(self.actor.user_id()),
            Cell::text(self.actor.name.as_str()),
            Cell::text(action),
            Cell::text("customer"),
            Cell::Int(Some(id)),
            Cell::Text(Some(detail)),
        ]
    }

    fn key_cells(id: i64, keys: &[(String, &'static str)]) -> Vec<[Cell; 3]> {
        keys.iter()
            .map(|(k, kind)| {
                [
                    Cell::text(k.as_str()),
                    Cell::Int(Some(id)),
                    Cell::text(*kind),
                ]
            })
            .collect()
    }

    fn tag_cells(id: i64, tags: &[String]) -> Vec<[Cell; 2]> {
        let mut seen = BTreeSet::new();
        tags.iter()
            .filter(|t| seen.insert(t.as_str()))
            .map(|t| [Cell::Int(Some(id)), Cell::text(t.as_str())])
            .collect()
    }

    /// A prepared customer's rows under the id it was given (its search keys are written
    /// apart, in an order that suits the backend).
    fn dependents(&self, id: i64, p: &PreparedInsert) -> Dependents {
        let c = &p.customer;
        Dependents {
            tags: Self::tag_cells(id, &c.fields.tags),
            contacts: c
                .contact_points
                .iter()
                .map(|cp| contact_cells(id, cp, &self.actor, self.now))
                .collect(),
            audit: self.audit_cells("create", id, p.detail.clone()),
        }
    }

    /// The undo record of each write (`import_rows`), when the import is recorded: inserts
    /// first, then updates, as the writes were split.
    fn recorded_rows(&self, ids: &[i64]) -> Vec<[Cell; 5]> {
        let Some(r) = &self.recording else {
            return Vec::new();
        };
        let mut lines = r.lines.iter();
        let mut out = Vec::with_capacity(ids.len() + self.updates.len());
        for id in ids {
            let line = lines.next().copied().unwrap_or(0) as i64;
            out.push([
                Cell::Int(Some(*id)),
                Cell::text("insert"),
                Cell::Int(Some(line)),
                Cell::Text(None),
                Cell::Int(Some(1)),
            ]);
        }
        for u in &self.updates {
            let line = lines.next().copied().unwrap_or(0) as i64;
            out.push([
                Cell::Int(Some(u.plan.id)),
                Cell::text("update"),
                Cell::Int(Some(line)),
                Cell::Text(Some(u.before.to_string())),
                Cell::Int(Some(u.plan.read_version + 1)),
            ]);
        }
        out
    }

    fn update_audit(&self, u: &PlannedUpdate) -> [Cell; 7] {
        let mut detail = u.plan.detail.clone();
        if !u.contacts.is_empty() {
            detail["contact_points_added"] = json!(u.contacts.len());
        }
        self.audit_cells("update", u.plan.id, detail.to_string())
    }

    fn write_sqlite(self, store: &Store) -> Result<Vec<i64>> {
        let mut conn = store.rusqlite(true)?;
        conn.pragma_update(None, "cache_size", -262_144)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(self.inserts.len());
        let rollup = RollupPause::begin(&tx, !self.inserts.is_empty())?;
        {
            let mut customer = tx.prepare(&format!(
                "INSERT INTO customers ({}) VALUES ({})",
                insert_columns(),
                placeholders(EDITABLE_COLUMN_COUNT + 9)
            ))?;
            let mut tag = tx.prepare(TAG_SQL)?;
            let mut contact = tx.prepare(&contact_sql())?;
            let mut key = tx.prepare(KEY_SQL)?;
            let mut audit = tx.prepare(AUDIT_SQL)?;
            let mut custom = tx.prepare(CUSTOM_SQL)?;
            let mut drop_custom =
                tx.prepare("DELETE FROM custom_values WHERE record_id = $1 AND field_id = $2")?;
            for (i, p) in self.inserts.iter().enumerate() {
                customer.execute(rusqlite::params_from_iter(&p.cells))?;
                let id = tx.last_insert_rowid();
                ids.push(id);
                let d = self.dependents(id, p);
                for t in &d.tags {
                    tag.execute(rusqlite::params_from_iter(t))?;
                }
                for c in &d.contacts {
                    contact.execute(rusqlite::params_from_iter(c))?;
                }
                for k in Self::key_cells(id, &p.keys) {
                    key.execute(rusqlite::params_from_iter(&k))?;
                }
                for c in custom_cells(id, &p.customer.custom) {
                    custom.execute(rusqlite::params_from_iter(&c))?;
                }
                audit.execute(rusqlite::params_from_iter(&d.audit))?;
                if i % PROGRESS_EVERY == 0 {
                    (self.progress)(i as u64);
                }
            }
            let mut update = tx.prepare(&update_sql())?;
            let mut drop_tags = tx.prepare("DELETE FROM customer_tags WHERE customer_id = $1")?;
            let mut drop_keys =
                tx.prepare("DELETE FROM customer_search_keys WHERE customer_id = $1")?;
            for (i, u) in self.updates.iter().enumerate() {
                let n =
                    update.execute(rusqlite::params_from_iter(u.plan.update_cells(&self.actor)))?;
                if n == 0 {
                    return Err(u.plan.conflict());
                }
                let id = u.plan.id;
                if let Some(tags) = &u.plan.tags {
                    drop_tags.execute([id])?;
                    for t in Self::tag_cells(id, tags) {
                        tag.execute(rusqlite::params_from_iter(&t))?;
                    }
                }
                for cp in &u.contacts {
                    contact.execute(rusqlite::params_from_iter(contact_cells(
                        id,
                        cp,
                        &self.actor,
                        self.now,
                    )))?;
                }
                if let Some(keys) = &u.keys {
                    drop_keys.execute([id])?;
                    for k in Self::key_cells(id, keys) {
                        key.execute(rusqlite::params_from_iter(&k))?;
                    }
                }
                for (f, _) in &u.custom {
                    drop_custom.execute([id, *f])?;
                }
                for c in custom_cells(id, &u.custom) {
                    custom.execute(rusqlite::params_from_iter(&c))?;
                }
                audit.execute(rusqlite::params_from_iter(&self.update_audit(u)))?;
                if i % PROGRESS_EVERY == 0 {
                    (self.progress)((self.inserts.len() + i) as u64);
                }
            }
        }
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            rollup.end(&tx, *first, *last)?;
        }
        if let Some(r) = &self.recording {
            let mut row = tx.prepare(IMPORT_ROW_SQL)?;
            for cells in self.recorded_rows(&ids) {
                let mut all = vec![Cell::Int(Some(r.import_id))];
                all.extend(cells);
                row.execute(rusqlite::params_from_iter(&all))?;
            }
        }
        tx.commit()?;
        (self.progress)((self.inserts.len() + self.updates.len()) as u64);
        Ok(ids)
    }

    async fn write_postgres(self, conn: &mut sqlx::PgConnection) -> Result<Vec<i64>> {
        let mut tx = conn.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, $1)",
        )
        .bind(self.inserts.len() as i64)
        .fetch_all(&mut *tx)
        .await?;
        if ids.len() != self.inserts.len() {
            return Err(StoreError::Corrupt("customer id sequence".into()));
        }
        let mut customers = Copy::new(&format!("customers (id, {})", insert_columns()));
        let mut tags = Copy::new("customer_tags (customer_id, tag)");
        let mut contacts = Copy::new(&format!("contact_points ({CONTACT_INSERT_COLUMNS})"));
        let mut keys = Copy::new("customer_search_keys (search_key, customer_id, kind)");
        let mut audits = Copy::new(AUDIT_COLUMNS);
        let mut custom = Copy::new(CUSTOM_COLUMNS);
        let mut new_keys = Vec::new();
        for (i, (p, id)) in self.inserts.iter().zip(&ids).enumerate() {
            let mut row = Vec::with_capacity(p.cells.len() + 1);
            row.push(Cell::Int(Some(*id)));
            row.extend(p.cells.iter().cloned());
            customers.row(&row);
            let d = self.dependents(*id, p);
            d.tags.iter().for_each(|t| tags.row(t));
            d.contacts.iter().for_each(|c| contacts.row(c));
            new_keys.extend(p.keys.iter().map(|(k, kind)| (*kind, k.as_str(), *id)));
            custom_cells(*id, &p.customer.custom)
                .iter()
                .for_each(|c| custom.row(c));
            audits.row(&d.audit);
            if i % PROGRESS_EVERY == 0 {
                (self.progress)(i as u64);
            }
        }
        // In key order, a B-tree insert lands beside the last one: a third of the time of
        // random order on PostgreSQL. (SQLite gains nothing from it: there the file's order,
        // customer by customer, keeps the customer-id index local instead.)
        new_keys.par_sort_unstable();
        for (kind, k, id) in new_keys {
            keys.row(&[Cell::text(k), Cell::Int(Some(id)), Cell::text(kind)]);
        }
        // Parents before children: the foreign keys are checked row by row.
        for table in [customers, tags, contacts, keys, custom] {
            table.send(&mut tx).await?;
        }
        self.update_postgres(&mut tx, &mut audits).await?;
        audits.send(&mut tx).await?;
        if let Some(r) = &self.recording {
            let mut rows = Copy::new(IMPORT_ROW_COLUMNS);
            for cells in self.recorded_rows(&ids) {
                let mut all = vec![Cell::Int(Some(r.import_id))];
                all.extend(cells);
                rows.row(&all);
            }
            rows.send(&mut tx).await?;
        }
        tx.commit().await?;
        (self.progress)((self.inserts.len() + self.updates.len()) as u64);
        Ok(ids)
    }
}

impl Job {
    /// The planned updates on PostgreSQL, set by set rather than row by row: the customers'
    /// new values go to a temporary table by COPY and one `UPDATE … FROM` applies them all at
    /// their expected versions (each UPDATE statement fires the rollups' statement triggers,
    /// which cost about 2 ms: 5,000 updates one by one took a minute); then the changed tags
    /// and search keys are deleted by one statement each and written by COPY with the added
    /// contact points.
    async fn update_postgres(&self, tx: &mut sqlx::PgConnection, audits: &mut Copy) -> Result<()> {
        if self.updates.is_empty() {
            return Ok(());
        }
        let cols = editable_columns();
        sqlx::query(&format!(
            "CREATE TEMP TABLE import_updates ON COMMIT DROP AS \
             SELECT id, version, updated_at, updated_by, {cols} FROM customers WITH NO DATA"
        ))
        .execute(&mut *tx)
        .await?;
        let mut rows = Copy::new(&format!(
            "import_updates (id, version, updated_at, updated_by, {cols})"
        ));
        let mut tags = Copy::new("customer_tags (customer_id, tag)");
        let mut contacts = Copy::new(&format!("contact_points ({CONTACT_INSERT_COLUMNS})"));
        let mut keys = Copy::new("customer_search_keys (search_key, customer_id, kind)");
        let mut custom = Copy::new(CUSTOM_COLUMNS);
        let (mut recustomed, mut recustomed_fields) = (Vec::new(), Vec::new());
        let (mut retagged, mut rekeyed) = (Vec::new(), Vec::new());
        for (i, u) in self.updates.iter().enumerate() {
            let id = u.plan.id;
            let mut row = vec![
                Cell::Int(Some(id)),
                Cell::Int(Some(u.plan.expected_version)),
                Cell::Int(Some(self.now)),
                Cell::Int(self.actor.user_id()),
            ];
            row.extend(u.plan.cells.iter().cloned());
            rows.row(&row);
            if let Some(t) = &u.plan.tags {
                retagged.push(id);
                Self::tag_cells(id, t).iter().for_each(|c| tags.row(c));
            }
            for cp in &u.contacts {
                contacts.row(&contact_cells(id, cp, &self.actor, self.now));
            }
            if let Some(k) = &u.keys {
                rekeyed.push(id);
                Self::key_cells(id, k).iter().for_each(|c| keys.row(c));
            }
            for (f, _) in &u.custom {
                recustomed.push(id);
                recustomed_fields.push(*f);
            }
            custom_cells(id, &u.custom)
                .iter()
                .for_each(|c| custom.row(c));
            audits.row(&self.update_audit(u));
            if i % PROGRESS_EVERY == 0 {
                (self.progress)((self.inserts.len() + i) as u64);
            }
        }
        rows.send(&mut *tx).await?;
        let set: Vec<String> = editable_columns()
            .split(", ")
            .map(|c| format!("{c} = u.{c}"))
            .collect();
        let n = sqlx::query(&format!(
            "UPDATE customers c SET {}, version = c.version + 1, updated_at = u.updated_at, \
             updated_by = u.updated_by FROM import_updates u \
             WHERE c.id = u.id AND c.version = u.version",
            set.join(", ")
        ))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n as usize != self.updates.len() {
            // Someone changed one of them since it was planned: name the first such.
            let stale: Option<i64> = sqlx::query_scalar(
                "SELECT u.id FROM import_updates u JOIN customers c ON c.id = u.id \
                 WHERE c.version <> u.version + 1 ORDER BY u.id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let plan = self
                .updates
                .iter()
                .find(|u| Some(u.plan.id) == stale)
                .unwrap_or(&self.updates[0]);
            return Err(plan.plan.conflict());
        }
        sqlx::query("DELETE FROM customer_tags WHERE customer_id = ANY($1)")
            .bind(&retagged)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM customer_search_keys WHERE customer_id = ANY($1)")
            .bind(&rekeyed)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM custom_values v USING UNNEST($1::BIGINT[], $2::BIGINT[]) AS d(r, f) \
             WHERE v.record_id = d.r AND v.field_id = d.f",
        )
        .bind(&recustomed)
        .bind(&recustomed_fields)
        .execute(&mut *tx)
        .await?;
        for table in [tags, contacts, keys, custom] {
            table.send(&mut *tx).await?;
        }
        Ok(())
    }
}

/// The dashboard's customer rollups (migration 0017) are kept by a trigger per inserted row,
/// which doubled a large import's write on SQLite. Inside the import's own transaction (DDL
/// is transactional there, and the write lock is held throughout) the insert trigger is
/// dropped, the new customers are added to the rollups with one aggregate, and the trigger
/// is created again from its stored text: other connections see before or after, never the
/// gap, and a crash rolls all of it back.
struct RollupPause {
    trigger: Option<String>,
}

impl RollupPause {
    const TRIGGER: &'static str = "customers_rollup_insert";

    fn begin(tx: &rusqlite::Transaction<'_>, inserting: bool) -> Result<Self> {
        use rusqlite::OptionalExtension;
        if !inserting {
            return Ok(Self { trigger: None });
        }
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [Self::TRIGGER],
                |r| r.get(0),
            )
            .optional()?;
        if sql.is_some() {
            tx.execute_batch(&format!("DROP TRIGGER {}", Self::TRIGGER))?;
        }
        Ok(Self { trigger: sql })
    }

    /// Adds the customers with ids `first..=last` (this import's, consecutive under the write
    /// lock) to the rollups and restores the trigger.
    fn end(self, tx: &rusqlite::Transaction<'_>, first: i64, last: i64) -> Result<()> {
        let Some(sql) = self.trigger else {
            return Ok(());
        };
        tx.execute(
            "INSERT INTO customer_rollup_delta \
             SELECT COALESCE(owner_id, 0), created_at / 3600000, lifecycle_stage, COUNT(*) \
             FROM customers WHERE id >= ?1 AND id <= ?2 AND deleted_at IS NULL \
             GROUP BY 1, 2, 3",
            [first, last],
        )?;
        tx.execute_batch(&sql)?;
        Ok(())
    }
}

const IMPORT_ROW_COLUMNS: &str =
    "import_rows (import_id, customer_id, action, line, before, version_after)";
const IMPORT_ROW_SQL: &str = "INSERT INTO import_rows (import_id, customer_id, action, line, \
     before, version_after) VALUES ($1, $2, $3, $4, $5, $6)";
const TAG_SQL: &str = "INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2)";
/// The columns of `custom_values` an import writes, in [`custom_cells`]'s order.
const CUSTOM_COLUMNS: &str = "custom_values (field_id, value_text, record_id, value_number)";
const CUSTOM_SQL: &str =
    "INSERT INTO custom_values (field_id, value_text, record_id, value_number) \
     VALUES ($1, $2, $3, $4)";
const KEY_SQL: &str =
    "INSERT INTO customer_search_keys (search_key, customer_id, kind) VALUES ($1, $2, $3) \
                       ON CONFLICT DO NOTHING";
const AUDIT_COLUMNS: &str =
    "audit_log (at, actor_id, actor_name, action, entity, entity_id, detail)";
const AUDIT_SQL: &str =
    "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, detail) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)";

fn contact_sql() -> String {
    format!(
        "INSERT INTO contact_points ({CONTACT_INSERT_COLUMNS}) VALUES ({})",
        placeholders(16)
    )
}
