//! Imports of sales opportunities (the deals kept in a spreadsheet or another CRM), through
//! the record-import pipeline ([`super::records`]): one row per deal, its pipeline, stage and
//! owner found by name among those on file, each deal created as the pipeline creates one
//! (as of its opening date when the file gives one). A deal of the same name for the same
//! customer already on file is a duplicate, skipped or reported.

use chrono::{DateTime, Utc};
use guanxi_domain::custom_field::{CustomValue, FieldDefinition, FieldEntity};
use guanxi_domain::import::opportunities::{
    opportunity_row, suggest_opportunity_fields, OpportunityRow, OPPORTUNITY_FIELDS,
};
use guanxi_domain::import::orders::LineProblems;
use guanxi_domain::import::RowError;
use guanxi_domain::money::plain_money;
use guanxi_domain::pipeline::opportunity::OpportunityInput;
use guanxi_domain::pipeline::stage::StageKind;
use guanxi_domain::records::User;
use guanxi_domain::role::Actor;
use guanxi_store::custom_field::CustomChange;
use guanxi_store::import::Progress;
use guanxi_store::pipeline::Pipeline;
use guanxi_store::Store;

use super::records::{
    mapped_values, on_file_of_customers, one_per_row, Checked, OnFile, RecordKind, Unit, Written,
};
use super::{Columns, FieldValue, ImportSettings};
use crate::AppError;
use guanxi_text::format;

/// The pipelines and users a deal's names are found among, and the deals' custom fields a
/// column may fill (the mapping step checked which ones the importer may write).
pub(super) struct Book {
    pipelines: Vec<Pipeline>,
    users: Vec<User>,
    custom: Vec<FieldDefinition>,
}

/// A read row with what was found for it: the deal ready to create (its customer still to
/// be found), when it was opened, and the names shown in the preview.
#[derive(Debug, Clone)]
pub(super) struct DealRow {
    row: OpportunityRow,
    pipeline: String,
    stage: String,
    owner: String,
    /// The custom values its mapped `cf.<code>` columns hold.
    custom: Vec<CustomChange>,
}

/// A row's deal, checked as one entered in the pipeline (its custom values apart).
fn check_deal(
    line: u64,
    get: &dyn Fn(&str) -> Option<(String, String)>,
    settings: &ImportSettings,
    book: &Book,
    now: DateTime<Utc>,
) -> Result<DealRow, LineProblems> {
    let mut row = opportunity_row(line, get, settings.utc_offset_hours, now)?;
    let Found {
        pipeline_id,
        stage_id,
        owner_id,
        names: [pipeline, stage, owner],
    } = resolve(&row, settings, book)?;
    // The deal is checked as one entered in the pipeline, its customer standing in until
    // found (any id passes the check; the write checks the real one).
    let input = OpportunityInput {
        customer_id: 1,
        pipeline_id,
        stage_id,
        owner_id,
        ..row.input.clone()
    };
    match input.validate() {
        Ok(mut valid) => {
            valid.customer_id = 0;
            row.input = valid;
            Ok(DealRow {
                row,
                pipeline,
                stage,
                owner,
                custom: Vec::new(),
            })
        }
        Err(e) => Err(e
            .0
            .into_iter()
            .map(|x| (column_of(&row, get, &x.field), x.message_key))
            .collect()),
    }
}

/// The custom values of a row's mapped `cf.<code>` columns, each cell read as a form reads
/// it; a cell the field cannot hold is a problem in its column. An empty cell sets nothing.
fn custom_values(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    fields: &[FieldDefinition],
) -> Result<Vec<CustomChange>, LineProblems> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for def in fields {
        let Some((header, cell)) = get(&crate::custom_field::form_name(def)) else {
            continue;
        };
        match CustomValue::parse_text(def, &cell) {
            Ok(Some(v)) => out.push(CustomChange {
                field: def.clone(),
                value: Some(v),
            }),
            Ok(None) => {}
            Err(code) => errs.push((header, code)),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// The file's column of a field the deal's check names.
fn column_of(
    row: &OpportunityRow,
    get: &dyn Fn(&str) -> Option<(String, String)>,
    field: &str,
) -> String {
    let import_field = match field {
        "name" => "deal_name",
        "amount_minor" => "amount",
        "pipeline_id" => "pipeline",
        "stage_id" => "stage",
        "owner_id" => "owner",
        f if f.starts_with("competitors") => "competitors",
        "customer_id" => return row.customer.1.clone(),
        f => f,
    };
    get(import_field).map_or_else(|| import_field.to_string(), |(h, _)| h)
}

/// What a deal's names were found to be: ids, and the names the preview shows (pipeline,
/// stage, owner).
struct Found {
    pipeline_id: i64,
    stage_id: Option<i64>,
    owner_id: Option<i64>,
    names: [String; 3],
}

/// Finds the deal's pipeline (the named one, else the import's, else the first active one),
/// stage (the named one; else the pipeline's first open stage) and owner (by login or
/// display name); a lost stage is refused, as a new deal cannot start lost.
fn resolve(
    r: &OpportunityRow,
    settings: &ImportSettings,
    book: &Book,
) -> Result<Found, LineProblems> {
    let mut errs: LineProblems = Vec::new();
    let pipeline = match &r.pipeline {
        Some((col, name)) => book
            .pipelines
            .iter()
            .find(|p| p.active && p.name.trim() == name.trim())
            .ok_or((col.clone(), "unknown_pipeline")),
        None => book
            .pipelines
            .iter()
            .filter(|p| p.active)
            .find(|p| settings.pipeline_id.is_none_or(|id| id == p.id))
            .ok_or(("pipeline".to_string(), "no_pipeline")),
    };
    let pipeline = match pipeline {
        Ok(p) => p,
        Err(e) => return Err(vec![e]),
    };
    let stage = match &r.stage {
        None => None,
        Some((col, name)) => {
            let found = pipeline.stages.iter().find(|s| {
                !s.retired && (s.name == name.trim() || s.name_en.as_deref() == Some(name.trim()))
            });
            match found {
                Some(s) if s.kind() == StageKind::Lost => {
                    errs.push((col.clone(), "lost_needs_a_move"));
                    None
                }
                Some(s) => Some(s),
                None => {
                    errs.push((col.clone(), "unknown_stage"));
                    None
                }
            }
        }
    };
    let owner = match &r.owner {
        None => None,
        Some((col, name)) => {
            let name = name.trim();
            let found = book
                .users
                .iter()
                .find(|u| u.active && (u.username == name || u.display_name == name));
            if found.is_none() {
                errs.push((col.clone(), "unknown_user"));
            }
            found
        }
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let stage_name = stage
        .or(pipeline.first_open())
        .map(|s| s.name.clone())
        .unwrap_or_default();
    Ok(Found {
        pipeline_id: pipeline.id,
        stage_id: stage.map(|s| s.id),
        owner_id: owner.map(|u| u.id),
        names: [
            pipeline.name.clone(),
            stage_name,
            owner.map(|u| u.display_name.clone()).unwrap_or_default(),
        ],
    })
}

/// Sales opportunities.
pub(super) struct Opportunities;

impl RecordKind for Opportunities {
    const ENTITY: &'static str = "opportunities";
    const MATCHED_ON: &'static str = "same_deal";
    const KEY_FIELD: &'static str = "deal_name";
    const ON_FILE_PROBLEM: &'static str = "deal_on_file";
    const FIELDS: &'static [&'static str] = OPPORTUNITY_FIELDS;
    const REQUIRED: &'static [(&'static [&'static str], &'static str)] =
        &[(&["deal_name"], "deal_name_not_mapped")];

    fn suggest(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>> {
        suggest_opportunity_fields(headers, rows)
    }
    type Row = DealRow;
    type Context = Book;
    type Record = (OpportunityInput, Option<DateTime<Utc>>, Vec<CustomChange>);

    async fn context(store: &Store) -> Result<Book, AppError> {
        Ok(Book {
            pipelines: store.list_pipelines().await?,
            users: store.list_users().await?,
            custom: crate::custom_field::catalogue(store, FieldEntity::Opportunity)
                .await?
                .fields,
        })
    }

    fn check_row(
        line: u64,
        get: &dyn Fn(&str) -> Option<(String, String)>,
        settings: &ImportSettings,
        book: &Book,
        now: DateTime<Utc>,
    ) -> Result<DealRow, LineProblems> {
        // Every problem of the row at once: the deal's and its custom fields'.
        match (
            check_deal(line, get, settings, book, now),
            custom_values(get, &book.custom),
        ) {
            (Ok(mut deal), Ok(custom)) => {
                deal.custom = custom;
                Ok(deal)
            }
            (deal, custom) => Err(deal
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(custom.err().unwrap_or_default())
                .collect()),
        }
    }

    fn line(row: &DealRow) -> u64 {
        row.row.line
    }

    fn group_key(_: &dyn Fn(&str) -> Option<(String, String)>) -> Option<String> {
        None
    }

    fn group(checked: Vec<Checked<DealRow>>) -> (Vec<Unit<Self::Record>>, Vec<RowError>) {
        one_per_row(checked, |d| {
            (d.row.customer, (d.row.input, d.row.created_at, d.custom))
        })
    }

    fn stored_values(d: &DealRow, columns: &Columns, settings: &ImportSettings) -> Vec<FieldValue> {
        let i = &d.row.input;
        let zone = format::zone(settings.utc_offset_hours);
        let mut values = mapped_values(
            OPPORTUNITY_FIELDS,
            columns,
            &d.row.customer.0,
            |f| match f {
                "deal_name" => Some(i.name.clone()),
                "pipeline" => Some(d.pipeline.clone()),
                "stage" => Some(d.stage.clone()),
                "owner" => Some(d.owner.clone()).filter(|o| !o.is_empty()),
                "amount" => Some(plain_money(i.amount_minor)),
                "currency" => Some(i.currency.clone()),
                "probability" => i.probability.map(|p| p.to_string()),
                "expected_close" => i.expected_close.map(|d| d.to_string()),
                "next_step" => i.next_step.clone(),
                "source" => i.source.clone(),
                "competitors" => Some(i.competitors.join("、")).filter(|c| !c.is_empty()),
                "stated_needs" => i.stated_needs.clone(),
                "created_at" => d.row.created_at.map(|t| format::datetime(t, zone)),
                _ => None,
            },
        );
        values.extend(d.custom.iter().filter_map(|c| {
            let v = c.value.as_ref()?;
            Some(FieldValue {
                field: crate::custom_field::form_name(&c.field),
                value: v.to_input(),
            })
        }));
        values
    }

    async fn on_file<'a>(
        store: &'a Store,
        actor: &'a Actor,
        records: &'a [(i64, &'a Self::Record)],
    ) -> Result<Vec<Option<OnFile>>, AppError> {
        let keys: Vec<(i64, &str)> = records
            .iter()
            .map(|(c, (i, _, _))| (*c, i.name.as_str()))
            .collect();
        let stored = store.opportunities_on_file(&keys).await?;
        on_file_of_customers(store, actor, records, stored, |(i, _, _)| i.name.clone()).await
    }

    async fn write<'a>(
        store: &'a Store,
        actor: &'a Actor,
        import_id: i64,
        records: Vec<(u64, i64, Self::Record)>,
        progress: Progress,
    ) -> Result<Written, AppError> {
        let deals = records
            .into_iter()
            .map(|(line, customer, (mut deal, at, custom))| {
                deal.customer_id = customer;
                (line, deal, at, custom)
            })
            .collect();
        let records = store
            .import_opportunities(actor, import_id, deals, progress)
            .await?;
        Ok(Written { records })
    }
}
