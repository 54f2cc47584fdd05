//! The import wizard's use cases (issue #18): upload a file (CSV in any of the encodings
//! Chinese offices use, xlsx, xls, ods), pick the sheet, map its columns (suggested by header
//! and by content), preview the rows as they will be stored with every problem and every
//! duplicate, choose per duplicate whether to skip, update (overwrite, or fill empty fields
//! only) or create, run it in the background with a progress bar, download the problems as a
//! workbook, and undo the whole import within 7 days.
//!
//! Imports belong to `ImportData` (managers, admins). An importer sees and undoes their own
//! imports; an admin (`ManageUsers`) sees everyone's. Duplicates are looked for only among the
//! customers the importer may see, so an import cannot probe another team's book. The run is a
//! job ([`RUN_JOB`]) on the one durable queue: the write is one transaction, so a crash leaves
//! all of it or none, and a retried job finds the committed rows instead of writing twice.

mod buyers;
mod interactions;
mod opportunities;
mod orders;
mod plan;
pub mod read;
mod records;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::Utc;
use guanxi_domain::custom_field::{FieldDefinition, FieldEntity};
use guanxi_domain::import::columns::header_key;
use guanxi_domain::import::{
    suggest_fields, DuplicateChoice, RowError, UpdateMode, UpdateRule, FIELDS,
};
use guanxi_domain::role::{Actor, Permission, Role};
use guanxi_domain::segment::CUSTOM_PREFIX;
use guanxi_domain::vocabulary::{InteractionChannel, OrderChannel, SourceChannel};
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::import::{
    ImportBatch, ImportOutcome, ImportPolicy, ImportWrite, NewImport, Recording, UndoCounts,
};
use guanxi_store::{Store, StoreError};
use guanxi_text::i18n::Locale;
use guanxi_text::text::t;
use serde::{Deserialize, Serialize};
use serde_json::json;

use interactions::Interactions;
use opportunities::Opportunities;
use orders::Orders;
pub use plan::{check_rows, plan_rows, split_checked, Columns, DuplicateMatch, Plan};
pub use read::{read_file, Table, Workbook};

use crate::export::Download;
use crate::{require, AppError};

/// The job that runs an import.
pub const RUN_JOB: &str = "imports.run";

/// Days after its run in which an import can be undone.
pub const UNDO_DAYS: i64 = 7;

/// Largest file the wizard takes.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// What an import can hold: customers, orders with their lines (one row per line), or
/// interactions (one row per contact), or sales opportunities (one row per deal).
pub const ENTITIES: [&str; 4] = ["customers", "orders", "interactions", "opportunities"];

/// Rows the preview shows as they will be stored.
pub const SAMPLE_ROWS: usize = 10;

/// Problems and duplicates the preview lists (the report has them all).
pub const LISTED: usize = 200;

/// What the importer chose: the sheet's columns mapped to fields, and what to do with
/// duplicates and invalid rows. Kept with the import as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSettings {
    /// Per column of the sheet, the field it fills (none: ignored).
    #[serde(default)]
    pub mapping: Vec<Option<String>>,
    /// What to do with a duplicate whose line has no choice of its own.
    #[serde(default = "skip")]
    pub on_duplicate: DuplicateChoice,
    /// How an updating row treats stored values.
    #[serde(default)]
    pub update_mode: UpdateMode,
    /// Fields an update treats the other way from `update_mode` (field by field).
    #[serde(default)]
    pub update_except: Vec<String>,
    /// Per file line, the choice for that duplicate.
    #[serde(default)]
    pub choices: BTreeMap<u64, DuplicateChoice>,
    /// Write the valid rows even when others are invalid (else all or nothing).
    #[serde(default)]
    pub skip_invalid: bool,
    /// Source channel of rows without a `source_channel` column.
    #[serde(default = "import_source")]
    pub source: String,
    /// Owner of the new customers (none: the importer).
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Orders: the channel of rows without a `channel` column.
    #[serde(default = "store_channel")]
    pub channel: String,
    /// Opportunities: the pipeline of rows without one (none: the first active pipeline).
    #[serde(default)]
    pub pipeline_id: Option<i64>,
    /// Interactions: the channel of rows without one.
    #[serde(default = "phone_channel")]
    pub interaction_channel: String,
    /// Orders: the business's zone (hours east of UTC) that times without one are read in.
    #[serde(default = "china_offset")]
    pub utc_offset_hours: i64,
}

fn store_channel() -> String {
    OrderChannel::Store.as_str().to_string()
}

fn phone_channel() -> String {
    InteractionChannel::Phone.as_str().to_string()
}

fn china_offset() -> i64 {
    8
}

fn skip() -> DuplicateChoice {
    DuplicateChoice::Skip
}

fn import_source() -> String {
    SourceChannel::Import.as_str().to_string()
}

impl ImportSettings {
    fn parse(s: &str) -> Result<Self, AppError> {
        serde_json::from_str(s)
            .map_err(|e| AppError::Store(StoreError::Corrupt(format!("import settings: {e}"))))
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The choice for one line.
    pub fn choice(&self, line: u64) -> DuplicateChoice {
        self.choices
            .get(&line)
            .copied()
            .unwrap_or(self.on_duplicate)
    }

    /// Fields mapped to (column, header); problems as field errors on `mapping[i]`. A custom
    /// field (`cf.<code>`) must be one of `custom`, the fields the importer may write.
    fn columns(
        &self,
        entity: &str,
        headers: &[String],
        custom: &[FieldDefinition],
    ) -> Result<Columns, ValidationErrors> {
        let mut columns = Columns::new();
        let mut errs = Vec::new();
        for (i, f) in self.mapping.iter().enumerate() {
            let Some(f) = f.as_deref().filter(|f| !f.is_empty()) else {
                continue;
            };
            let field = format!("mapping[{i}]");
            if !is_target(entity, f, custom) || i >= headers.len() {
                errs.push(ValidationError::new(field, "unknown_value"));
            } else if columns
                .insert(f.to_string(), (i, headers[i].clone()))
                .is_some()
            {
                errs.push(ValidationError::new(field, "mapped_twice"));
            }
        }
        if let Some(kind) = record_kind(entity) {
            errs.extend(kind.unmapped(&columns));
        } else if !columns.contains_key("name") {
            errs.push(ValidationError::new("mapping", "name_not_mapped"));
        }
        if errs.is_empty() {
            Ok(columns)
        } else {
            Err(ValidationErrors(errs))
        }
    }
}

/// How far a running import is, kept in memory by the process that runs it (the write holds
/// the database's writer, so progress cannot be written there meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunProgress {
    /// `checking`, `duplicates` or `writing`.
    pub phase: &'static str,
    /// Rows done in this phase.
    pub done: u64,
    /// Rows this phase has.
    pub total: u64,
}

/// The running imports' progress, by import id (one process runs an import at a time).
static RUNNING: LazyLock<Mutex<HashMap<i64, RunProgress>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn set_progress(id: i64, p: Option<RunProgress>) {
    if let Ok(mut m) = RUNNING.lock() {
        match p {
            Some(p) => {
                m.insert(id, p);
            }
            None => {
                m.remove(&id);
            }
        }
    }
}

fn progress_of(id: i64) -> Option<RunProgress> {
    RUNNING.lock().ok().and_then(|m| m.get(&id).copied())
}

/// Whether the actor may import: managers and admins (`ImportData`), and sales reps when the
/// admin lets them import into their own book ([`ImportPolicy`]).
pub async fn may_import(store: &Store, actor: &Actor) -> Result<bool, AppError> {
    if actor.can(Permission::ImportData) {
        return Ok(true);
    }
    Ok(actor.role == Role::Sales
        && actor.can(Permission::WriteCustomers)
        && store.import_policy().await?.sales_may_import)
}

async fn require_import(store: &Store, actor: &Actor) -> Result<(), AppError> {
    if may_import(store, actor).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The import policy (any signed-in user may read it).
pub async fn policy(store: &Store) -> Result<ImportPolicy, AppError> {
    Ok(store.import_policy().await?)
}

/// Lets sales reps import into their own book, or not (admins), audited.
pub async fn set_policy(
    store: &Store,
    actor: &Actor,
    sales_may_import: bool,
    version: i64,
) -> Result<ImportPolicy, AppError> {
    require(actor, Permission::ManageUsers)?;
    Ok(store
        .set_import_policy(actor, sales_may_import, version)
        .await?)
}

/// An import the actor may see: their own, or anyone's for an admin.
async fn visible(store: &Store, actor: &Actor, id: i64) -> Result<ImportBatch, AppError> {
    require_import(store, actor).await?;
    let b = store.import_batch(id).await?;
    if b.created_by != actor.user_id() && !actor.can(Permission::ManageUsers) {
        return Err(StoreError::NotFound.into());
    }
    Ok(b)
}

/// Keeps an uploaded file as a new import with suggested mapping: refused when it is too
/// large, unreadable or empty (field `file`).
pub async fn upload(
    store: &Store,
    actor: &Actor,
    file: (&str, &[u8]),
    entity: &str,
    utc_offset_hours: i64,
) -> Result<ImportBatch, AppError> {
    let (file_name, bytes) = file;
    require_import(store, actor).await?;
    if !ENTITIES.contains(&entity) {
        return Err(ValidationErrors::single("entity", "unknown_value").into());
    }
    match entity {
        "orders" => require(actor, Permission::WriteOrders)?,
        "interactions" => require(actor, Permission::WriteCustomers)?,
        "opportunities" => require(actor, Permission::WorkOpportunities)?,
        _ => {}
    }
    // Files past the undo window go: each holds people's data nothing needs any more.
    let window = Utc::now().timestamp_millis() - (UNDO_DAYS + 1) * 86_400_000;
    store.purge_import_files(window).await?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ValidationErrors::single("file", "too_large").into());
    }
    let book = read_file(bytes)?;
    let (sheet, table) = book
        .sheet(None)
        .ok_or_else(|| ValidationErrors::single("file", "empty_file"))?;
    let custom = import_fields(store, actor, entity).await?;
    let settings = ImportSettings {
        mapping: suggested(entity, table, &custom),
        on_duplicate: DuplicateChoice::Skip,
        update_mode: UpdateMode::Overwrite,
        update_except: Vec::new(),
        choices: BTreeMap::new(),
        skip_invalid: false,
        source: import_source(),
        owner_id: None,
        channel: store_channel(),
        interaction_channel: phone_channel(),
        pipeline_id: None,
        utc_offset_hours,
    };
    let name: String = file_name.chars().take(200).collect();
    let name = if name.trim().is_empty() {
        "import".to_string()
    } else {
        name
    };
    Ok(store
        .create_import(
            actor,
            NewImport {
                entity,
                file_name: &name,
                data: bytes,
                sheet: (!sheet.is_empty()).then_some(sheet),
                settings: &settings.to_json(),
                total_rows: table.rows.len() as i64,
            },
        )
        .await?)
}

/// The suggested mapping: the built-in fields by header and content, then the custom fields
/// by their code or either label.
fn suggested(entity: &str, table: &Table, custom: &[FieldDefinition]) -> Vec<Option<String>> {
    let sample: Vec<Vec<String>> = table.rows.iter().take(50).cloned().collect();
    let built_in = match record_kind(entity) {
        Some(kind) => (kind.suggest)(&table.headers, &sample),
        None => suggest_fields(&table.headers, &sample),
    };
    let mut out: Vec<Option<String>> = built_in
        .into_iter()
        .map(|f| f.map(str::to_string))
        .collect();
    for (i, h) in table.headers.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let key = header_key(h);
        out[i] = custom
            .iter()
            .map(|d| (d, crate::custom_field::form_name(d)))
            .find(|(d, name)| {
                !out.contains(&Some(name.clone()))
                    && [&d.code, &d.label_zh, &d.label_en]
                        .iter()
                        .any(|l| header_key(l) == key)
            })
            .map(|(_, name)| name);
    }
    out
}

/// The mapping step's view of a customer-record kind (none for customers).
fn record_kind(entity: &str) -> Option<records::KindTable> {
    match entity {
        "orders" => Some(records::KindTable::of::<Orders>()),
        "interactions" => Some(records::KindTable::of::<Interactions>()),
        "opportunities" => Some(records::KindTable::of::<Opportunities>()),
        _ => None,
    }
}

/// Whether a mapping target is a built-in field or one of the writable custom fields.
fn is_target(entity: &str, f: &str, custom: &[FieldDefinition]) -> bool {
    let built_in = match record_kind(entity) {
        Some(kind) => kind.fields,
        None => FIELDS,
    };
    built_in.contains(&f)
        || f.strip_prefix(CUSTOM_PREFIX)
            .is_some_and(|code| custom.iter().any(|d| d.code == code))
}

/// The custom fields an import of `entity` may fill for `actor` (those it may write): the
/// customers' for a file of customers, the deals' for a file of opportunities, none for
/// orders and interactions, which have no fields of their own.
pub async fn import_fields(
    store: &Store,
    actor: &Actor,
    entity: &str,
) -> Result<Vec<FieldDefinition>, AppError> {
    let entity = match entity {
        "customers" => FieldEntity::Customer,
        "opportunities" => FieldEntity::Opportunity,
        _ => return Ok(Vec::new()),
    };
    let cat = crate::custom_field::catalogue(store, entity).await?;
    Ok(cat
        .visible(actor)
        .filter(|d| d.readable_by(actor))
        .cloned()
        .collect())
}

/// The imports the actor sees, newest first.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<ImportBatch>, AppError> {
    require_import(store, actor).await?;
    let mine = (!actor.can(Permission::ManageUsers)).then(|| actor.user_id().unwrap_or(0));
    Ok(store.list_imports(mine, 50).await?)
}

/// One import, with its settings read.
pub async fn get(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(ImportBatch, ImportSettings), AppError> {
    let b = visible(store, actor, id).await?;
    let s = ImportSettings::parse(&b.settings)?;
    Ok((b, s))
}

/// The sheet as the mapping step shows it: the workbook's sheets, the one read, its header
/// and first rows as in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Sheet names (empty for CSV).
    pub sheets: Vec<String>,
    /// The sheet read.
    pub sheet: String,
    /// Its header row.
    pub headers: Vec<String>,
    /// Its first data rows.
    pub rows: Vec<Vec<String>>,
}

/// A workbook down to the sheet an import reads (the named one, else the first): its layout
/// and its data rows, moved out of the workbook rather than copied (a file may hold 200,000).
fn open_sheet(
    mut book: Workbook,
    wanted: Option<&str>,
) -> Result<(Layout, Vec<Vec<String>>), AppError> {
    let i = wanted
        .and_then(|n| book.sheets.iter().position(|(s, _)| s == n))
        .unwrap_or(0);
    if i >= book.sheets.len() {
        return Err(ValidationErrors::single("file", "empty_file").into());
    }
    let sheets = book
        .sheets
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !n.is_empty())
        .collect();
    let (sheet, Table { headers, rows }) = book.sheets.swap_remove(i);
    let layout = Layout {
        sheets,
        sheet,
        headers,
        rows: rows.iter().take(SAMPLE_ROWS).cloned().collect(),
    };
    Ok((layout, rows))
}

/// The file's layout for the mapping step.
pub async fn layout(store: &Store, actor: &Actor, id: i64) -> Result<Layout, AppError> {
    let (b, _) = get(store, actor, id).await?;
    let book = read_file(&store.import_file(id).await?)?;
    Ok(open_sheet(book, b.sheet.as_deref())?.0)
}

/// Takes a failed import back to the mapping step, to be fixed and run again.
pub async fn reopen(store: &Store, actor: &Actor, id: i64) -> Result<ImportBatch, AppError> {
    let (b, _) = get(store, actor, id).await?;
    if !store.move_import(b.id, "failed", "uploaded").await? {
        return Err(ValidationErrors::single("status", "not_failed").into());
    }
    Ok(store.import_batch(id).await?)
}

/// What the importer sends from the mapping step, at the version last read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The sheet to read (workbooks).
    #[serde(default)]
    pub sheet: Option<String>,
    /// Per column, the field it fills (none or "": ignored); empty keeps the mapping saved.
    /// With another sheet the mapping restarts from that sheet's suggestions.
    #[serde(default)]
    pub mapping: Vec<Option<String>>,
    /// Default duplicate choice: `skip`, `update`, `create` or `fail`.
    #[serde(default)]
    pub on_duplicate: Option<String>,
    /// `overwrite` or `fill_empty`.
    #[serde(default)]
    pub update_mode: Option<String>,
    /// Fields an update treats the other way from `update_mode` (e.g. fill empty only, but
    /// overwrite `address`).
    #[serde(default)]
    pub update_except: Vec<String>,
    /// Per file line (`"12"`), a choice other than the default.
    #[serde(default)]
    pub choices: BTreeMap<String, String>,
    /// Write valid rows when others are invalid.
    #[serde(default)]
    pub skip_invalid: bool,
    /// Source channel code for rows without one.
    #[serde(default)]
    pub source: Option<String>,
    /// Owner of new customers.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Orders: channel code for rows without one (`store`, `online`, `phone`, `wechat`,
    /// `partner`).
    #[serde(default)]
    pub channel: Option<String>,
    /// Interactions: channel code for rows without one (`face_to_face`, `phone`, `sms`,
    /// `email`, `wechat`, `web_chat`, `letter`, `note`).
    #[serde(default)]
    pub interaction_channel: Option<String>,
    /// Opportunities: the pipeline of rows without a `pipeline` column.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub pipeline_id: Option<i64>,
}

/// Saves the sheet, mapping and choices of an import not yet run, at its version; every
/// problem is a field error (`mapping[3]`, `choices[12]`, `source` …).
pub async fn save_settings(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &SettingsInput,
) -> Result<ImportBatch, AppError> {
    let version = input.version;
    let (b, old) = get(store, actor, id).await?;
    let book = read_file(&store.import_file(id).await?)?;
    let wanted = input.sheet.as_deref().or(b.sheet.as_deref());
    if let Some(w) = input.sheet.as_deref() {
        if !book.sheets.iter().any(|(n, _)| n == w) {
            return Err(ValidationErrors::single("sheet", "unknown_value").into());
        }
    }
    let (sheet, table) = book
        .sheet(wanted)
        .ok_or_else(|| ValidationErrors::single("file", "empty_file"))?;
    let sheet_changed = b.sheet.as_deref().unwrap_or("") != sheet;
    let mut errs = Vec::new();
    let parse = |errs: &mut Vec<ValidationError>,
                 field: String,
                 v: Option<&str>,
                 default: DuplicateChoice| match v {
        None | Some("") => default,
        Some(v) => DuplicateChoice::parse(v).unwrap_or_else(|c| {
            errs.push(ValidationError::new(field, c));
            default
        }),
    };
    let on_duplicate = parse(
        &mut errs,
        "on_duplicate".into(),
        input.on_duplicate.as_deref(),
        old.on_duplicate,
    );
    let records = b.entity != "customers";
    // A record on file (an order, an interaction) is never changed or made twice by an
    // import: it is skipped or reported.
    let order_choice = |errs: &mut Vec<ValidationError>, field: String, c: DuplicateChoice| {
        if records && !matches!(c, DuplicateChoice::Skip | DuplicateChoice::Fail) {
            errs.push(ValidationError::new(field, "unknown_value"));
        }
    };
    order_choice(&mut errs, "on_duplicate".into(), on_duplicate);
    let mut choices = BTreeMap::new();
    for (l, c) in &input.choices {
        let field = format!("choices[{l}]");
        match l.parse::<u64>() {
            Ok(line) if line >= 2 => {
                let c = parse(&mut errs, field.clone(), Some(c), on_duplicate);
                order_choice(&mut errs, field, c);
                choices.insert(line, c);
            }
            _ => errs.push(ValidationError::new(field, "invalid_type")),
        }
    }
    let update_mode = match input.update_mode.as_deref() {
        None | Some("") => old.update_mode,
        Some(v) => UpdateMode::parse(v).unwrap_or_else(|c| {
            errs.push(ValidationError::new("update_mode", c));
            old.update_mode
        }),
    };
    let custom = import_fields(store, actor, &b.entity).await?;
    for (i, f) in input.update_except.iter().enumerate() {
        if !is_target(&b.entity, f, &custom) {
            errs.push(ValidationError::new(
                format!("update_except[{i}]"),
                "unknown_value",
            ));
        }
    }
    let source = input.source.clone().unwrap_or(old.source);
    if SourceChannel::parse(&source).is_err() {
        errs.push(ValidationError::new("source", "unknown_value"));
    }
    let channel = input.channel.clone().unwrap_or(old.channel);
    if OrderChannel::parse(&channel).is_err() {
        errs.push(ValidationError::new("channel", "unknown_value"));
    }
    // A rep imports into their own book: the new customers are theirs.
    if !actor.can(Permission::ImportData)
        && input.owner_id.is_some_and(|o| Some(o) != actor.user_id())
    {
        errs.push(ValidationError::new("owner_id", "forbidden_owner"));
    }
    if let Some(pid) = input.pipeline_id {
        if !store
            .list_pipelines()
            .await?
            .iter()
            .any(|p| p.id == pid && p.active)
        {
            errs.push(ValidationError::new("pipeline_id", "invalid_reference"));
        }
    }
    let interaction_channel = input
        .interaction_channel
        .clone()
        .unwrap_or(old.interaction_channel);
    if InteractionChannel::parse(&interaction_channel).is_err() {
        errs.push(ValidationError::new("interaction_channel", "unknown_value"));
    }
    // Another sheet has other columns: its mapping starts from the suggestions.
    let mapping = if sheet_changed {
        suggested(&b.entity, table, &custom)
    } else if input.mapping.is_empty() {
        old.mapping
    } else {
        input.mapping.clone()
    };
    let settings = ImportSettings {
        mapping,
        on_duplicate,
        update_mode,
        update_except: input.update_except.clone(),
        choices,
        skip_invalid: input.skip_invalid,
        source,
        owner_id: input.owner_id,
        channel,
        interaction_channel,
        pipeline_id: input.pipeline_id.or(old.pipeline_id),
        utc_offset_hours: old.utc_offset_hours,
    };
    if let Err(e) = settings.columns(&b.entity, &table.headers, &custom) {
        errs.extend(e.0);
    }
    if !errs.is_empty() {
        return Err(ValidationErrors(errs).into());
    }
    let sheet = (!sheet.is_empty()).then_some(sheet);
    Ok(store
        .update_import_settings(
            id,
            version,
            sheet,
            &settings.to_json(),
            table.rows.len() as i64,
        )
        .await?)
}

/// A mapped field's value as it will be stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldValue {
    /// The field.
    pub field: String,
    /// Its stored value (normalised phone, trimmed text, codes).
    pub value: String,
}

/// One row of the preview: the cells as they will be stored, or its problems.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SampleRow {
    /// File line.
    pub line: u64,
    /// The mapped fields the row fills.
    pub values: Vec<FieldValue>,
    /// Its problems.
    pub problems: Vec<RowError>,
}

/// A dry run: what the import would do, written nowhere.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// The workbook's sheets (empty for CSV).
    pub sheets: Vec<String>,
    /// The sheet read.
    pub sheet: String,
    /// Its header row.
    pub headers: Vec<String>,
    /// Its first data rows as in the file.
    pub raw: Vec<Vec<String>>,
    /// The first rows as they will be stored.
    pub samples: Vec<SampleRow>,
    /// Data rows.
    pub total: usize,
    /// Rows with problems.
    pub invalid: usize,
    /// The first problems (all are in the report).
    pub problems: Vec<RowError>,
    /// Rows that match a customer or an earlier row.
    pub duplicate_count: usize,
    /// The first of them, each with its current choice.
    pub duplicates: Vec<DuplicateMatch>,
    /// Customers it would create.
    pub inserts: usize,
    /// Customers it would update.
    pub updates: usize,
    /// Rows it would skip as duplicates (orders: orders already on file).
    pub skips: usize,
    /// Orders: the lines of the orders it would create.
    pub order_lines: usize,
}

/// Everything a run or a preview works out from the file and the settings.
struct Worked {
    /// The sheet read, as the mapping step shows it.
    layout: Layout,
    /// Its data rows.
    total: usize,
    /// Fields mapped to columns.
    columns: Columns,
    /// The custom fields the importer may write.
    custom: Vec<FieldDefinition>,
    /// Valid rows with their plan.
    planned: Vec<(u64, guanxi_domain::customer::ValidCustomer, Plan)>,
    problems: Vec<RowError>,
    invalid_lines: BTreeSet<u64>,
    matches: Vec<DuplicateMatch>,
}

async fn work_out(
    store: &Store,
    actor: &Actor,
    batch: &ImportBatch,
    settings: &ImportSettings,
    id: Option<i64>,
) -> Result<Worked, AppError> {
    let book = read_file(&store.import_file(batch.id).await?)?;
    let (layout, rows) = open_sheet(book, batch.sheet.as_deref())?;
    let custom = import_fields(store, actor, &batch.entity).await?;
    let columns = settings.columns(&batch.entity, &layout.headers, &custom)?;
    let total = rows.len();
    let source = SourceChannel::parse(&settings.source)
        .map_err(|c| ValidationErrors::single("source", c))?;
    let report = |phase: &'static str, done: u64| {
        if let Some(id) = id {
            set_progress(
                id,
                Some(RunProgress {
                    phase,
                    done,
                    total: total as u64,
                }),
            );
        }
    };
    report("checking", 0);
    let rows: Vec<(u64, Vec<String>)> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r))
        .collect();
    let owner = settings.owner_id.or(actor.user_id());
    let (cols, who, defs) = (columns.clone(), actor.clone(), custom.clone());
    let checked = tokio::task::spawn_blocking(move || {
        check_rows(&rows, &cols, source, &who, owner, Utc::now(), &defs)
    })
    .await
    .map_err(|e| AppError::Store(StoreError::Task(e.to_string())))?;
    let (valid, mut problems) = split_checked(checked);
    report("duplicates", 0);
    let choice = |l: u64| settings.choice(l);
    let (plans, dup_problems, matches) = plan_rows(store, actor, &valid, &choice, &columns).await?;
    problems.extend(dup_problems);
    problems.sort_by_key(|p| p.line);
    let invalid_lines: BTreeSet<u64> = problems.iter().map(|p| p.line).collect();
    let planned = valid
        .into_iter()
        .zip(plans)
        .filter(|((l, _), _)| !invalid_lines.contains(l))
        .map(|((l, v), p)| (l, v, p))
        .collect();
    Ok(Worked {
        layout,
        total,
        columns,
        custom,
        planned,
        problems,
        invalid_lines,
        matches,
    })
}

/// The dry run for the wizard's preview step.
pub async fn preview(store: &Store, actor: &Actor, id: i64) -> Result<Preview, AppError> {
    let (b, settings) = get(store, actor, id).await?;
    match b.entity.as_str() {
        "orders" => return records::preview::<Orders>(store, actor, &b, &settings).await,
        "interactions" => {
            return records::preview::<Interactions>(store, actor, &b, &settings).await
        }
        "opportunities" => {
            return records::preview::<Opportunities>(store, actor, &b, &settings).await
        }
        _ => {}
    }
    let w = work_out(store, actor, &b, &settings, None).await?;
    let count = |want: fn(&Plan) -> bool| w.planned.iter().filter(|(_, _, p)| want(p)).count();
    let counts = PlanCounts {
        inserts: count(|p| *p == Plan::Insert),
        updates: count(|p| matches!(p, Plan::Update(_))),
        skips: count(|p| *p == Plan::Skip),
        order_lines: 0,
    };
    let values = |line: u64| {
        w.planned
            .iter()
            .find(|(l, _, _)| *l == line)
            .map(|(_, v, _)| stored_values(v, &w.columns, &w.custom))
            .unwrap_or_default()
    };
    Ok(preview_of(
        w.layout,
        w.total,
        &w.problems,
        &w.matches,
        values,
        counts,
    ))
}

/// What a preview says an import would write.
struct PlanCounts {
    inserts: usize,
    updates: usize,
    skips: usize,
    order_lines: usize,
}

/// The preview of a worked-out import: the sheet, its first lines as they will be stored
/// (`values` of a line; none for a line with problems) with their problems, the first
/// problems and duplicates, and the counts.
fn preview_of(
    layout: Layout,
    total: usize,
    problems: &[RowError],
    matches: &[DuplicateMatch],
    values: impl Fn(u64) -> Vec<FieldValue>,
    counts: PlanCounts,
) -> Preview {
    let samples = (0..layout.rows.len())
        .map(|i| {
            let line = i as u64 + 2;
            let problems: Vec<RowError> = problems
                .iter()
                .filter(|p| p.line == line)
                .cloned()
                .collect();
            let values = if problems.is_empty() {
                values(line)
            } else {
                Vec::new()
            };
            SampleRow {
                line,
                values,
                problems,
            }
        })
        .collect();
    let invalid = problems
        .iter()
        .map(|p| p.line)
        .collect::<BTreeSet<_>>()
        .len();
    Preview {
        sheets: layout.sheets,
        sheet: layout.sheet,
        headers: layout.headers,
        raw: layout.rows,
        samples,
        total,
        invalid,
        problems: problems.iter().take(LISTED).cloned().collect(),
        duplicate_count: matches.len(),
        duplicates: matches.iter().take(LISTED).cloned().collect(),
        inserts: counts.inserts,
        updates: counts.updates,
        skips: counts.skips,
        order_lines: counts.order_lines,
    }
}

/// A valid row's mapped fields as they will be stored (normalised phone, trimmed text, codes).
fn stored_values(
    v: &guanxi_domain::customer::ValidCustomer,
    columns: &Columns,
    custom: &[FieldDefinition],
) -> Vec<FieldValue> {
    let f = &v.fields;
    let contact = |kind: &str| {
        v.contact_points
            .iter()
            .find(|c| c.kind.as_str() == kind)
            .map(|c| c.value.normalized.clone())
    };
    FIELDS
        .iter()
        .filter(|field| columns.contains_key(**field))
        .filter_map(|field| {
            let value = match *field {
                "name" => Some(v.name.as_str().to_string()),
                "kind" => Some(f.kind.as_str().to_string()),
                "gender" => f.gender.map(|g| g.as_str().to_string()),
                "birthday" => f.birthday.map(|b| b.to_storage()),
                "birthday_lunar" => f.birthday.map(|b| b.lunar.to_string()),
                "id_number" => f.id_number.clone(),
                "province" => f.province.clone(),
                "city" => f.city.clone(),
                "address" => f.address.clone(),
                "time_zone" => f.time_zone.clone(),
                "employer" => f.employer.clone(),
                "job_title" => f.job_title.clone(),
                "industry" => f.industry.clone(),
                "lifecycle_stage" => f.lifecycle_stage.map(|s| s.as_str().to_string()),
                "tags" => Some(f.tags.join("; ")).filter(|t| !t.is_empty()),
                "source_channel" => f.source.as_ref().map(|s| s.channel.as_str().to_string()),
                "consent_marketing" => v
                    .contact_points
                    .first()
                    .map(|c| c.consent_marketing.to_string()),
                kind => contact(kind),
            };
            value.map(|value| FieldValue {
                field: field.to_string(),
                value,
            })
        })
        .chain(v.custom.iter().filter_map(|(id, cells)| {
            let d = custom.iter().find(|d| d.id == *id)?;
            Some(FieldValue {
                field: crate::custom_field::form_name(d),
                value: cells
                    .iter()
                    .map(|c| d.choice_label(&c.text, "zh").to_string())
                    .collect::<Vec<_>>()
                    .join("、"),
            })
        }))
        .collect()
}

/// Starts the run: the import is queued for the worker once (a second click is refused).
pub async fn start(store: &Store, actor: &Actor, id: i64) -> Result<ImportBatch, AppError> {
    let (b, _) = get(store, actor, id).await?;
    if !store.move_import(b.id, "uploaded", "queued").await? {
        return Err(ValidationErrors::single("status", "already_started").into());
    }
    crate::jobs::queue_system_job(
        store,
        RUN_JOB,
        Some(&format!("import:{id}")),
        json!({"import_id": id}),
    )
    .await?;
    Ok(store.import_batch(id).await?)
}

/// The worker's handler: runs one queued import as its uploader. A retried job (the process
/// died mid-run) finds either the committed rows, and records the run as done, or nothing,
/// and runs again.
pub async fn run(store: &Store, id: i64) -> Result<serde_json::Value, AppError> {
    let b = store.import_batch(id).await?;
    match b.status.as_str() {
        "queued" => {
            store.move_import(id, "queued", "running").await?;
        }
        "running" => {}
        _ => return Ok(json!({"status": b.status})),
    }
    let user = store
        .get_user(b.created_by.unwrap_or(0))
        .await
        .map_err(|_| ValidationErrors::single("created_by", "invalid_reference"))?;
    let actor = Actor::for_user(&user);
    let already = if b.entity != "customers" {
        (store.import_records_written(id).await?, 0)
    } else {
        store.import_rows_written(id).await?
    };
    let outcome = if already.0 + already.1 > 0 {
        ImportOutcome {
            status: "done",
            inserted: already.0,
            updated: already.1,
            ..Default::default()
        }
    } else {
        let r = write_run(store, &actor, &b).await;
        set_progress(id, None);
        match r {
            Ok(o) => o,
            Err(AppError::Invalid(e)) => ImportOutcome {
                status: "failed",
                error: Some(
                    e.0.first()
                        .map(|x| x.message_key.to_string())
                        .unwrap_or_default(),
                ),
                ..Default::default()
            },
            Err(AppError::Store(StoreError::Conflict { .. })) => ImportOutcome {
                status: "failed",
                error: Some("changed_meanwhile".into()),
                ..Default::default()
            },
            Err(e) => {
                // Nothing was written (one transaction); the import says so, and can be
                // reopened and run again, rather than showing "running" for ever. The job
                // records the cause.
                let failed = ImportOutcome {
                    status: "failed",
                    error: Some("write_failed".into()),
                    ..Default::default()
                };
                store.finish_import(&actor, id, &failed).await?;
                return Err(e);
            }
        }
    };
    store.finish_import(&actor, id, &outcome).await?;
    Ok(json!({"status": outcome.status, "inserted": outcome.inserted, "updated": outcome.updated}))
}

async fn write_run(
    store: &Store,
    actor: &Actor,
    b: &ImportBatch,
) -> Result<ImportOutcome, AppError> {
    let settings = ImportSettings::parse(&b.settings)?;
    match b.entity.as_str() {
        "orders" => return records::write_run::<Orders>(store, actor, b, &settings).await,
        "interactions" => {
            return records::write_run::<Interactions>(store, actor, b, &settings).await
        }
        "opportunities" => {
            return records::write_run::<Opportunities>(store, actor, b, &settings).await
        }
        _ => {}
    }
    let w = work_out(store, actor, b, &settings, Some(b.id)).await?;
    let problems = serde_json::to_string(&w.problems).ok();
    let invalid = w.invalid_lines.len() as i64;
    let skipped = w
        .planned
        .iter()
        .filter(|(_, _, p)| *p == Plan::Skip)
        .count() as i64;
    if invalid > 0 && !settings.skip_invalid {
        return Ok(ImportOutcome {
            status: "failed",
            invalid,
            skipped,
            problems,
            error: Some("rows_invalid".into()),
            ..Default::default()
        });
    }
    let mut lines = Vec::new();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut update_lines = Vec::new();
    for (line, v, plan) in w.planned {
        match plan {
            Plan::Insert => {
                lines.push(line);
                inserts.push(ImportWrite::Insert(v));
            }
            Plan::Update(c) => {
                update_lines.push(line);
                let rule = UpdateRule {
                    mode: settings.update_mode,
                    except: settings.update_except.clone(),
                };
                // Custom fields the importer left out of the update keep their values.
                let mut v = v;
                v.custom.retain(|(id, _)| {
                    !w.custom.iter().any(|d| {
                        d.id == *id
                            && settings
                                .update_except
                                .contains(&crate::custom_field::form_name(d))
                    })
                });
                updates.push(ImportWrite::Update(c, v, rule));
            }
            Plan::Skip => {}
        }
    }
    lines.extend(update_lines);
    inserts.extend(updates);
    let total = inserts.len() as u64;
    let id = b.id;
    set_progress(
        id,
        Some(RunProgress {
            phase: "writing",
            done: 0,
            total,
        }),
    );
    let progress = Arc::new(move |n: u64| {
        set_progress(
            id,
            Some(RunProgress {
                phase: "writing",
                done: n,
                total,
            }),
        );
    });
    let counts = store
        .import_customers(
            actor,
            inserts,
            progress,
            Some(Recording {
                import_id: id,
                lines,
            }),
        )
        .await?;
    Ok(ImportOutcome {
        status: "done",
        inserted: counts.inserted as i64,
        updated: counts.updated as i64,
        skipped,
        invalid,
        problems,
        error: None,
    })
}

/// An import as its page polls it: the stored outcome and, while it runs, how far it is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportStatus {
    /// The import.
    pub import: ImportBatch,
    /// Progress of a run in this process.
    pub progress: Option<RunProgress>,
    /// Until when it can be undone (epoch ms), when it can.
    pub undo_until: Option<i64>,
}

/// The status the wizard's progress bar polls.
pub async fn status(store: &Store, actor: &Actor, id: i64) -> Result<ImportStatus, AppError> {
    let (b, _) = get(store, actor, id).await?;
    let undo_until = undo_deadline(&b).filter(|d| *d > Utc::now().timestamp_millis());
    Ok(ImportStatus {
        progress: progress_of(id).filter(|_| b.status == "running" || b.status == "queued"),
        undo_until,
        import: b,
    })
}

fn undo_deadline(b: &ImportBatch) -> Option<i64> {
    (b.status == "done")
        .then_some(b.finished_at)
        .flatten()
        .map(|f| f + UNDO_DAYS * 86_400_000)
}

/// Takes a finished import back (within [`UNDO_DAYS`]), audited.
pub async fn undo(store: &Store, actor: &Actor, id: i64) -> Result<UndoCounts, AppError> {
    let (b, _) = get(store, actor, id).await?;
    match undo_deadline(&b) {
        Some(d) if d > Utc::now().timestamp_millis() => {}
        _ => return Err(ValidationErrors::single("status", "not_undoable").into()),
    }
    if b.entity != "customers" {
        return Ok(store.undo_record_import(actor, id).await?);
    }
    Ok(store.undo_import(actor, id).await?)
}

/// The problems of a checked import as a workbook: line, column, problem in the reader's
/// language, then the row as it was in the file. Audited with its row count; written by the
/// one export writer (formula-safe cells).
pub async fn problem_report(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    id: i64,
) -> Result<Download, AppError> {
    let (b, settings) = get(store, actor, id).await?;
    let problems: Vec<RowError> = match &b.problems {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| AppError::Store(StoreError::Corrupt(format!("import problems: {e}"))))?,
        None if b.entity == "orders" => {
            records::work_out::<Orders>(store, actor, &b, &settings, None)
                .await?
                .problems
        }
        None if b.entity == "interactions" => {
            records::work_out::<Interactions>(store, actor, &b, &settings, None)
                .await?
                .problems
        }
        None if b.entity == "opportunities" => {
            records::work_out::<Opportunities>(store, actor, &b, &settings, None)
                .await?
                .problems
        }
        None => work_out(store, actor, &b, &settings, None).await?.problems,
    };
    // The file itself may be gone (past the undo window, or erased): the problems stay.
    let (headers, file_rows) = read_file(&store.import_file(id).await?)
        .ok()
        .and_then(|book| open_sheet(book, b.sheet.as_deref()).ok())
        .map(|(layout, rows)| (layout.headers, rows))
        .unwrap_or_default();
    let mut header = vec![
        t(locale, "import.report_line").to_string(),
        t(locale, "import.report_column").to_string(),
        t(locale, "import.report_problem").to_string(),
    ];
    header.extend(headers);
    let rows: Vec<Vec<String>> = problems
        .iter()
        .map(|p| {
            let mut r = vec![
                p.line.to_string(),
                p.column.clone(),
                guanxi_text::i18n::message(locale, &p.code).to_string(),
            ];
            let idx = (p.line as usize).checked_sub(2);
            if let Some(cells) = idx.and_then(|i| file_rows.get(i)) {
                r.extend(cells.iter().cloned());
            }
            r
        })
        .collect();
    crate::export::table_workbook(
        store,
        actor,
        "import",
        id,
        t(locale, "import.report_sheet"),
        &header,
        &rows,
        format!("import-{id}-problems.xlsx"),
    )
    .await
}
