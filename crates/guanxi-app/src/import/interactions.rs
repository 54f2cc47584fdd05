//! Imports of interactions (a call log, visit reports, the history kept in the previous
//! system), through the record-import pipeline ([`super::records`]): one row per contact, the
//! customer named as an order's buyer is. The same contact (customer, time, channel, subject)
//! already on file is a duplicate, skipped or reported, so a file imported twice is not
//! doubled.

use chrono::{DateTime, Utc};
use guanxi_domain::import::buyer::{BuyerKey, BUYER_FIELDS};
use guanxi_domain::import::interactions::{interaction_row, InteractionRow, INTERACTION_FIELDS};
use guanxi_domain::import::orders::LineProblems;
use guanxi_domain::import::RowError;
use guanxi_domain::interaction::ValidInteraction;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_domain::ValidationError;
use guanxi_store::import::Progress;
use guanxi_store::Store;

use super::orders::zone;
use super::records::{OnFile, RecordKind, Unit, Written};
use super::{Columns, FieldValue, ImportSettings};
use crate::AppError;

/// What a mapping of an interactions file lacks, as errors on `mapping`.
pub(super) fn unmapped(columns: &Columns) -> Vec<ValidationError> {
    let mut errs = Vec::new();
    if !BUYER_FIELDS.iter().any(|f| columns.contains_key(*f)) {
        errs.push(ValidationError::new("mapping", "buyer_not_mapped"));
    }
    if !columns.contains_key("occurred_at") {
        errs.push(ValidationError::new("mapping", "occurred_at_not_mapped"));
    }
    if !columns.contains_key("subject") {
        errs.push(ValidationError::new("mapping", "subject_not_mapped"));
    }
    errs
}

/// Interactions on the customers' timelines.
pub(super) struct Interactions;

impl RecordKind for Interactions {
    const ENTITY: &'static str = "interactions";
    const MATCHED_ON: &'static str = "same_interaction";
    const KEY_FIELD: &'static str = "subject";
    const ON_FILE_PROBLEM: &'static str = "interaction_on_file";
    type Row = InteractionRow;
    type Record = ValidInteraction;

    fn check_row(
        line: u64,
        get: &dyn Fn(&str) -> Option<(String, String)>,
        settings: &ImportSettings,
        now: DateTime<Utc>,
    ) -> Result<InteractionRow, LineProblems> {
        let channel = InteractionChannel::parse(&settings.interaction_channel)
            .unwrap_or(InteractionChannel::Phone);
        interaction_row(line, get, settings.utc_offset_hours, channel, now)
    }

    fn line(row: &InteractionRow) -> u64 {
        row.line
    }

    fn group_key(_: &dyn Fn(&str) -> Option<(String, String)>) -> Option<String> {
        None
    }

    fn group(
        checked: Vec<(u64, Option<String>, Result<InteractionRow, LineProblems>)>,
    ) -> (Vec<Unit<ValidInteraction>>, Vec<RowError>) {
        let mut units = Vec::new();
        let mut problems = Vec::new();
        for (line, _, row) in checked {
            match row {
                Ok(r) => units.push(Unit {
                    lines: vec![line],
                    customer: r.customer,
                    record: r.interaction,
                }),
                Err(es) => problems.extend(es.into_iter().map(|(column, code)| RowError {
                    line,
                    column,
                    code: code.to_string(),
                })),
            }
        }
        (units, problems)
    }

    fn stored_values(
        r: &InteractionRow,
        columns: &Columns,
        settings: &ImportSettings,
    ) -> Vec<FieldValue> {
        let i = &r.interaction;
        let customer = match &r.customer.0 {
            BuyerKey::Id(id) => ("customer_id", id.to_string()),
            BuyerKey::Contact(what, value) => (*what, value.clone()),
        };
        INTERACTION_FIELDS
            .iter()
            .filter(|f| columns.contains_key(**f))
            .filter_map(|f| {
                let value = match *f {
                    "occurred_at" => Some(
                        i.occurred_at
                            .with_timezone(&zone(settings.utc_offset_hours))
                            .format("%Y-%m-%d %H:%M")
                            .to_string(),
                    ),
                    "interaction_channel" => Some(i.channel.as_str().to_string()),
                    "direction" => Some(i.direction.as_str().to_string()),
                    "purpose" => i.purpose.map(|p| p.as_str().to_string()),
                    "subject" => Some(i.subject.clone()),
                    "body" => i.body.clone(),
                    other if other == customer.0 => Some(customer.1.clone()),
                    _ => None,
                };
                value.map(|value| FieldValue {
                    field: f.to_string(),
                    value,
                })
            })
            .collect()
    }

    async fn on_file<'a>(
        store: &'a Store,
        actor: &'a Actor,
        records: &'a [(i64, &'a ValidInteraction)],
    ) -> Result<Vec<Option<OnFile>>, AppError> {
        let keys: Vec<(i64, i64, &str, &str)> = records
            .iter()
            .map(|(c, i)| {
                (
                    *c,
                    i.occurred_at.timestamp_millis(),
                    i.channel.as_str(),
                    i.subject.as_str(),
                )
            })
            .collect();
        let stored = store.interactions_on_file(&keys).await?;
        let customers: Vec<i64> = records
            .iter()
            .zip(&stored)
            .filter(|(_, on_file)| **on_file)
            .map(|((c, _), _)| *c)
            .collect();
        let names = store.visible_customer_names(actor, &customers).await?;
        Ok(records
            .iter()
            .zip(stored)
            .map(|((c, i), on_file)| {
                on_file.then(|| OnFile {
                    row_name: i.subject.clone(),
                    customer_id: Some(*c),
                    customer_name: names.get(c).cloned(),
                })
            })
            .collect())
    }

    async fn write<'a>(
        store: &'a Store,
        actor: &'a Actor,
        import_id: i64,
        records: Vec<(u64, i64, ValidInteraction)>,
        progress: Progress,
    ) -> Result<Written, AppError> {
        let records = store
            .import_interactions(actor, import_id, records, progress)
            .await?;
        Ok(Written { records })
    }
}
