//! The one export writer. Customer exports as CSV or xlsx (the customer list with its filter
//! and chosen columns, a saved segment), a customer's own data for a data-subject request, an
//! import's problem report and a campaign's mailing list. Exports of more customers than the
//! shop allows at once need a manager's approval ([`approval`]). One writer serves every adapter,
//! so an export reads the same whichever way it was asked for: headers in the reader's
//! language, codes as labels, money as plain yuan, ID numbers masked unless the reader may see
//! them, a UTF-8 byte-order mark so Excel opens Chinese text correctly, and every cell
//! formula-safe (`guanxi_domain::spreadsheet`: a name starting with `=` stays text). The store audits
//! every export with its row count before a byte leaves.

use std::collections::HashMap;

use guanxi_domain::custom_field::{CustomValue, FieldDefinition, FieldEntity};
use guanxi_domain::masking::mask_id_number;
use guanxi_domain::records::Customer;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::spreadsheet::formula_safe;
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::customers::CustomerFilter;
use serde_json::json;

use guanxi_store::Store;
use guanxi_text::format::plain_money;
use guanxi_text::i18n::Locale;
use guanxi_text::text::{label, t};

use crate::{require, AppError};

pub mod approval;

/// The columns a customer export can hold: (code, catalogue key of its header), in file order.
pub const EXPORT_COLUMNS: &[(&str, &str)] = &[
    ("id", "field.id"),
    ("name", "field.name"),
    ("kind", "field.kind"),
    ("gender", "field.gender"),
    ("birthday", "field.birthday"),
    ("city", "field.city"),
    ("province", "field.province"),
    ("phone", "field.phone"),
    ("email", "field.email"),
    ("consent_marketing", "field.consent_marketing"),
    ("lifecycle_stage", "field.lifecycle_stage"),
    ("owner", "field.owner"),
    ("tags", "field.tags"),
    ("rfm_segment", "field.rfm_segment"),
    ("tier", "field.tier"),
    ("clv", "field.clv"),
    ("id_number", "field.id_number"),
];

/// The prefix of an export request's stored query when it was asked over the API (the list
/// API's query string follows); the pages' own query strings have other parameter names, so
/// each side downloads its own requests.
pub const API_QUERY: &str = "api:";

/// The file format of a customer export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV, UTF-8 with a byte-order mark (Excel reads Chinese correctly).
    Csv,
    /// A workbook.
    Xlsx,
}

impl ExportFormat {
    /// Parses the `format` a request names (`csv` when none); anything else is a problem with
    /// the field `format`.
    pub fn parse(f: Option<&str>) -> Result<Self, guanxi_domain::ValidationErrors> {
        match f {
            None | Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(_) => Err(guanxi_domain::ValidationErrors::single(
                "format",
                "unknown_value",
            )),
        }
    }

    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// The chosen column codes, in file order (the built-in columns, then the custom fields the
/// actor sees, `cf.<code>`); none chosen means every built-in one. An unknown code is a
/// problem with `columns[i]`.
pub(crate) fn check_columns(
    chosen: &[String],
    custom: &[FieldDefinition],
) -> Result<Vec<String>, AppError> {
    let mut errs = guanxi_domain::ValidationErrors::new();
    let is_custom = |c: &str| {
        c.strip_prefix("cf.")
            .is_some_and(|code| custom.iter().any(|d| d.code == code))
    };
    for (i, c) in chosen.iter().enumerate() {
        if !EXPORT_COLUMNS.iter().any(|(code, _)| code == c) && !is_custom(c) {
            errs.push(format!("columns[{i}]"), "unknown_value");
        }
    }
    if !errs.is_empty() {
        return Err(errs.into());
    }
    Ok(EXPORT_COLUMNS
        .iter()
        .filter(|(code, _)| chosen.is_empty() || chosen.iter().any(|c| c == code))
        .map(|(code, _)| code.to_string())
        .chain(
            custom
                .iter()
                .map(crate::custom_field::form_name)
                .filter(|n| chosen.contains(n)),
        )
        .collect())
}

/// The customer fields `actor` may export as columns (the ones they see).
pub async fn export_fields(store: &Store, actor: &Actor) -> Result<Vec<FieldDefinition>, AppError> {
    let cat = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
    Ok(cat.visible(actor).cloned().collect())
}

/// Exports the customers a filter selects (within the actor's scope) as CSV bytes, every
/// column. `entity` and `entity_id` name what was exported for the audit log (e.g. `segment`,
/// its id).
pub async fn customers_csv(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    filter: &CustomerFilter,
    entity: &str,
    entity_id: Option<i64>,
) -> Result<Vec<u8>, AppError> {
    let all = check_columns(&[], &[])?;
    let what = Exported {
        entity,
        entity_id,
        watermark: None,
    };
    Ok(
        customers_file(store, actor, locale, filter, &all, ExportFormat::Csv, what)
            .await?
            .bytes,
    )
}

/// What an export file is of, for its audit entry, and the watermark its rows carry (an
/// approved mass export: who took it, the request, when).
pub(crate) struct Exported<'a> {
    /// The audited entity (`segment`, `customer_list`, `export_request`).
    pub entity: &'a str,
    /// Its id.
    pub entity_id: Option<i64>,
    /// Written in a last column of every row.
    pub watermark: Option<String>,
}

/// The customers a filter selects as a file with the chosen columns: headers in the reader's
/// language, codes as labels, ID numbers masked unless the reader may see them, every cell
/// formula-safe; audited with its row count before a byte is written.
pub(crate) async fn customers_file(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    filter: &CustomerFilter,
    columns: &[String],
    format: ExportFormat,
    what: Exported<'_>,
) -> Result<Download, AppError> {
    require(actor, Permission::Export)?;
    let unmasked = actor.can(Permission::ViewSensitive);
    let customers = store
        .export_customers(
            actor,
            filter,
            what.entity,
            what.entity_id,
            json!({"format": format.code(), "columns": columns,
                   "id_numbers": if unmasked { "unmasked" } else { "masked" },
                   "watermark": what.watermark}),
        )
        .await?;
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let scores = store.scores_of(&ids).await?;
    let owners: HashMap<i64, String> = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let picked: Vec<usize> = EXPORT_COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, (code, _))| columns.iter().any(|c| c == code))
        .map(|(i, _)| i)
        .collect();
    let mut header: Vec<String> = picked
        .iter()
        .map(|i| t(locale, EXPORT_COLUMNS[*i].1).to_string())
        .collect();
    // Custom columns: a sensitive field's values unmasked only for readers who may see
    // them (the export is audited like a read of each).
    let fields = export_fields(store, actor).await?;
    let custom: Vec<&FieldDefinition> = fields
        .iter()
        .filter(|d| columns.contains(&crate::custom_field::form_name(d)))
        .collect();
    let owned: Vec<FieldDefinition> = custom.iter().map(|d| (*d).clone()).collect();
    let values = if custom.is_empty() {
        HashMap::new()
    } else {
        store.custom_values(&owned, &ids).await?
    };
    header.extend(custom.iter().map(|d| d.label(locale.code()).to_string()));
    if what.watermark.is_some() {
        header.push(t(locale, "export.watermark").to_string());
    }
    let rows = customers.iter().map(|c| {
        let all = row(c, locale, unmasked, &scores, &owners);
        let mut cells: Vec<String> = picked.iter().map(|i| all[*i].clone()).collect();
        for d in &custom {
            let v = values.get(&c.id).and_then(|v| v.get(&d.id));
            cells.push(match v {
                None => String::new(),
                Some(_) if d.sensitive && !unmasked => crate::custom_field::MASK.to_string(),
                Some(CustomValue::Choices(codes)) => codes
                    .iter()
                    .map(|code| d.choice_label(code, locale.code()).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(CustomValue::Boolean(b)) => {
                    t(locale, if *b { "common.yes" } else { "common.no" }).to_string()
                }
                Some(other) => other.to_input(),
            });
        }
        if let Some(w) = &what.watermark {
            cells.push(w.clone());
        }
        cells
    });
    let date = chrono::Utc::now().format("%Y%m%d");
    let file = |e: String| AppError::File(e);
    Ok(match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::from(*b"\xEF\xBB\xBF"));
            w.write_record(&header).map_err(|e| file(e.to_string()))?;
            for cells in rows {
                w.write_record(cells.iter().map(|cell| formula_safe(cell).into_owned()))
                    .map_err(|e| file(e.to_string()))?;
            }
            Download {
                bytes: w.into_inner().map_err(|e| file(e.to_string()))?,
                content_type: "text/csv; charset=utf-8",
                filename: format!("customers-{date}.csv"),
            }
        }
        ExportFormat::Xlsx => {
            let rows: Vec<Vec<String>> = rows.collect();
            Download {
                bytes: plain_workbook(t(locale, "export.sheet"), &header, &rows)
                    .map_err(|e| file(e.to_string()))?,
                content_type: XLSX,
                filename: format!("customers-{date}.xlsx"),
            }
        }
    })
}

/// The media type of a workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A header and rows of text as a one-sheet workbook, every cell formula-safe.
fn plain_workbook(
    sheet_name: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (r, row) in std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .enumerate()
    {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, formula_safe(cell).as_ref())?;
        }
    }
    book.save_to_buffer()
}

fn row(
    c: &Customer,
    locale: Locale,
    unmasked: bool,
    scores: &HashMap<i64, guanxi_store::scores::ScoreRow>,
    owners: &HashMap<i64, String>,
) -> Vec<String> {
    let s = scores.get(&c.id);
    let consent = c.contact_points.iter().any(|p| p.consent_marketing);
    vec![
        c.id.to_string(),
        c.name.clone(),
        label(locale, "customer_kind", c.kind.as_str()),
        c.gender
            .map(|g| label(locale, "gender", g.as_str()))
            .unwrap_or_default(),
        c.birthday
            .as_ref()
            .map(|b| {
                if b.lunar {
                    format!("{} {}", t(locale, "field.birthday_lunar"), b.to_storage())
                } else {
                    b.to_storage()
                }
            })
            .unwrap_or_default(),
        c.city.clone().unwrap_or_default(),
        c.province.clone().unwrap_or_default(),
        c.first_contact_value(&[ContactKind::Mobile, ContactKind::Phone]),
        c.first_contact_value(&[ContactKind::Email]),
        t(locale, if consent { "common.yes" } else { "common.no" }).to_string(),
        label(locale, "lifecycle_stage", c.lifecycle_stage.as_str()),
        c.owner_id
            .and_then(|o| owners.get(&o).cloned())
            .unwrap_or_default(),
        c.tags.join(", "),
        s.map(|s| label(locale, "rfm_segment", &s.rfm_segment))
            .unwrap_or_default(),
        s.map(|s| s.abc_class.clone()).unwrap_or_default(),
        s.and_then(|s| s.clv_minor)
            .map(plain_money)
            .unwrap_or_default(),
        c.id_number
            .as_deref()
            .map(|v| {
                if unmasked {
                    v.to_string()
                } else {
                    mask_id_number(v)
                }
            })
            .unwrap_or_default(),
    ]
}

/// The file format of a customer's own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DossierFormat {
    /// One JSON document (machine-readable, complete).
    Json,
    /// A workbook with one sheet per section (for the customer to read).
    Xlsx,
}

impl DossierFormat {
    /// Parses the `format` a request names (`json` when none); anything else is a problem with
    /// the field `format`.
    pub fn parse(f: Option<&str>) -> Result<Self, guanxi_domain::ValidationErrors> {
        match f {
            None | Some("json") => Ok(Self::Json),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(_) => Err(guanxi_domain::ValidationErrors::single(
                "format",
                "unknown_value",
            )),
        }
    }
}

/// A file to send: bytes, media type and download name.
pub struct Download {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub content_type: &'static str,
    /// The name a browser saves it under.
    pub filename: String,
}

/// Everything held about one customer as a file, for a data-subject access request (admins).
/// Audited before it is written; unmasked, because it is the customer's own data.
pub async fn customer_dossier(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    id: i64,
    format: DossierFormat,
) -> Result<Download, AppError> {
    require(actor, Permission::DataSubjectRights)?;
    let mut d = store.dossier(actor, id).await?;
    // Their custom-field values too, every field (archived and sensitive ones included,
    // unmasked): it is everything held about them.
    let every = crate::custom_field::catalogue(store, FieldEntity::Customer).await?;
    let values = store.record_custom_values(&every.fields, id).await?;
    d.customer.custom = every
        .fields
        .iter()
        .filter_map(|f| Some((f.code.clone(), values.get(&f.id)?.to_json(f.kind))))
        .collect();
    let format_code = match format {
        DossierFormat::Json => "json",
        DossierFormat::Xlsx => "xlsx",
    };
    store
        .audit(
            actor,
            guanxi_store::audit::AuditEvent {
                action: "export",
                entity: "customer",
                entity_id: Some(id),
                detail: json!({"what": "everything_held", "format": format_code,
                    "orders": d.orders.len(), "interactions": d.interactions.len(),
                    "tasks": d.tasks.len(), "audit_entries": d.audit.len()}),
            },
        )
        .await?;
    let value = serde_json::to_value(&d).map_err(|e| AppError::File(e.to_string()))?;
    Ok(match format {
        DossierFormat::Json => Download {
            bytes: serde_json::to_vec_pretty(&value).map_err(|e| AppError::File(e.to_string()))?,
            content_type: "application/json",
            filename: format!("customer-{id}.json"),
        },
        DossierFormat::Xlsx => Download {
            bytes: dossier_workbook(&value, locale).map_err(|e| AppError::File(e.to_string()))?,
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename: format!("customer-{id}.xlsx"),
        },
    })
}

/// The dossier's sections as rows of JSON objects, in sheet order: (catalogue key of the
/// sheet name, rows).
fn dossier_sections(d: &serde_json::Value) -> Vec<(&'static str, Vec<serde_json::Value>)> {
    let list = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    let mut customer = d["customer"].clone();
    let contacts = customer
        .as_object_mut()
        .and_then(|o| o.remove("contact_points"))
        .unwrap_or_default();
    // The customer as field/value pairs: one record reads better down than across.
    let fields = customer
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| json!({"field": k, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    let mut lines = Vec::new();
    let orders: Vec<serde_json::Value> = list(&d["orders"])
        .into_iter()
        .map(|mut o| {
            let order_id = o["id"].clone();
            if let Some(ls) = o.as_object_mut().and_then(|m| m.remove("lines")) {
                for mut l in list(&ls) {
                    if let Some(m) = l.as_object_mut() {
                        m.insert("order_id".into(), order_id.clone());
                    }
                    lines.push(l);
                }
            }
            o
        })
        .collect();
    vec![
        ("dossier.customer", fields),
        ("dossier.contact_points", list(&contacts)),
        ("dossier.relations", list(&d["relations"])),
        ("dossier.orders", orders),
        ("dossier.order_lines", lines),
        ("dossier.interactions", list(&d["interactions"])),
        ("dossier.tasks", list(&d["tasks"])),
        (
            "dossier.scores",
            if d["scores"].is_null() {
                Vec::new()
            } else {
                vec![d["scores"].clone()]
            },
        ),
        ("dossier.audit", list(&d["audit"])),
    ]
}

/// Writes the sections as a workbook: a sheet each, a header row of the JSON keys (the same
/// names as the JSON file), numbers as numbers, nested values as JSON text, text formula-safe.
fn dossier_workbook(
    d: &serde_json::Value,
    locale: Locale,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (key, rows) in dossier_sections(d) {
        let sheet = book.add_worksheet();
        sheet.set_name(t(locale, key))?;
        let mut columns: Vec<String> = Vec::new();
        for r in &rows {
            for k in r
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if !columns.contains(&k) {
                    columns.push(k);
                }
            }
        }
        for (c, name) in columns.iter().enumerate() {
            sheet.write_string(0, c as u16, name)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, name) in columns.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match &row[name] {
                    serde_json::Value::Null => {}
                    serde_json::Value::Number(n) => {
                        sheet.write_number(r, c, n.as_f64().unwrap_or_default())?;
                    }
                    serde_json::Value::Bool(b) => {
                        sheet.write_boolean(r, c, *b)?;
                    }
                    serde_json::Value::String(s) => {
                        sheet.write_string(r, c, formula_safe(s).as_ref())?;
                    }
                    other => {
                        sheet.write_string(r, c, formula_safe(&other.to_string()).as_ref())?;
                    }
                }
            }
        }
    }
    book.save_to_buffer()
}

/// A plain table as a one-sheet workbook (an import's problem report): every cell text,
/// formula-safe; audited as an export of `entity` `id` with its row count before a byte is
/// written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn table_workbook(
    store: &Store,
    actor: &Actor,
    entity: &str,
    id: i64,
    sheet_name: &str,
    header: &[String],
    rows: &[Vec<String>],
    filename: String,
) -> Result<Download, AppError> {
    store
        .audit(
            actor,
            guanxi_store::audit::AuditEvent {
                action: "export",
                entity,
                entity_id: Some(id),
                detail: json!({"what": "problem_report", "format": "xlsx", "rows": rows.len()}),
            },
        )
        .await?;
    Ok(Download {
        bytes: plain_workbook(sheet_name, header, rows)
            .map_err(|e| AppError::File(e.to_string()))?,
        content_type: XLSX,
        filename,
    })
}

/// Columns of a mailing list (catalogue keys).
const LETTER_COLUMNS: &[&str] = &[
    "campaign.mailing_customer",
    "campaign.mailing_name",
    "campaign.mailing_address",
    "campaign.mailing_subject",
    "campaign.mailing_letter",
];

/// A direct-mail campaign's mailing list as CSV for the printer: each recipient's postal
/// address and their letter as written (salutation, coupon code). Addresses are not masked —
/// the list exists to post letters — so it needs both the export and the campaign permission,
/// and is audited with its row count before a byte leaves.
pub async fn mailing_list(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    campaign: i64,
) -> Result<Download, AppError> {
    require(actor, Permission::Export)?;
    require(actor, Permission::ManageCampaigns)?;
    let k = store.get_campaign(campaign).await?;
    if k.campaign.channel != guanxi_domain::campaign::Channel::Mail {
        return Err(guanxi_domain::ValidationErrors::single("channel", "not_allowed").into());
    }
    let letters = store.mailing_list(campaign).await?;
    store
        .audit(
            actor,
            guanxi_store::audit::AuditEvent {
                action: "export",
                entity: "campaign",
                entity_id: Some(campaign),
                detail: json!({"what": "mailing_list", "format": "csv", "rows": letters.len()}),
            },
        )
        .await?;
    let mut w = csv::Writer::from_writer(Vec::from(*b"\xEF\xBB\xBF"));
    let io = |e: csv::Error| AppError::File(e.to_string());
    w.write_record(LETTER_COLUMNS.iter().map(|k| t(locale, k)))
        .map_err(io)?;
    for l in &letters {
        let cells = [
            l.customer_id.to_string(),
            l.name.clone(),
            l.address.clone(),
            l.subject.clone(),
            l.body.clone(),
        ];
        w.write_record(cells.iter().map(|c| formula_safe(c).into_owned()))
            .map_err(io)?;
    }
    Ok(Download {
        bytes: w.into_inner().map_err(|e| AppError::File(e.to_string()))?,
        content_type: "text/csv; charset=utf-8",
        filename: format!("campaign-{campaign}-mailing-list.csv"),
    })
}
