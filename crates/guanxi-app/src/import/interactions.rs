//! Imports of interactions (a call log, visit reports, the history kept in the previous
//! system), through the record-import pipeline ([`super::records`]): one row per contact, the
//! customer named as an order's buyer is. The same contact (customer, time, channel, subject)
//! already on file is a duplicate, skipped or reported, so a file imported twice is not
//! doubled.

use chrono::{DateTime, Utc};
use guanxi_domain::import::interactions::{
    interaction_row, suggest_interaction_fields, InteractionRow, INTERACTION_FIELDS,
};
use guanxi_domain::import::orders::LineProblems;
use guanxi_domain::import::RowError;
use guanxi_domain::interaction::ValidInteraction;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_store::import::Progress;
use guanxi_store::Store;

use super::records::{
    mapped_values, on_file_of_customers, one_per_row, Checked, OnFile, RecordKind, Unit, Written,
};
use super::{Columns, FieldValue, ImportSettings};
use crate::AppError;
use guanxi_text::format;

/// Interactions on the customers' timelines.
pub(super) struct Interactions;

impl RecordKind for Interactions {
    const ENTITY: &'static str = "interactions";
    const MATCHED_ON: &'static str = "same_interaction";
    const KEY_FIELD: &'static str = "subject";
    const ON_FILE_PROBLEM: &'static str = "interaction_on_file";
    const FIELDS: &'static [&'static str] = INTERACTION_FIELDS;
    const REQUIRED: &'static [(&'static [&'static str], &'static str)] = &[
        (&["occurred_at"], "occurred_at_not_mapped"),
        (&["subject"], "subject_not_mapped"),
    ];

    fn suggest(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>> {
        suggest_interaction_fields(headers, rows)
    }
    type Row = InteractionRow;
    type Context = ();
    type Record = ValidInteraction;

    async fn context(_: &Store) -> Result<(), AppError> {
        Ok(())
    }

    fn check_row(
        line: u64,
        get: &dyn Fn(&str) -> Option<(String, String)>,
        settings: &ImportSettings,
        _: &(),
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
        checked: Vec<Checked<InteractionRow>>,
    ) -> (Vec<Unit<ValidInteraction>>, Vec<RowError>) {
        one_per_row(checked, |r| (r.customer, r.interaction))
    }

    fn stored_values(
        r: &InteractionRow,
        columns: &Columns,
        settings: &ImportSettings,
    ) -> Vec<FieldValue> {
        let i = &r.interaction;
        mapped_values(INTERACTION_FIELDS, columns, &r.customer.0, |f| match f {
            "occurred_at" => Some(format::datetime(
                i.occurred_at,
                format::zone(settings.utc_offset_hours),
            )),
            "interaction_channel" => Some(i.channel.as_str().to_string()),
            "direction" => Some(i.direction.as_str().to_string()),
            "purpose" => i.purpose.map(|p| p.as_str().to_string()),
            "subject" => Some(i.subject.clone()),
            "body" => i.body.clone(),
            _ => None,
        })
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
        on_file_of_customers(store, actor, records, stored, |i| i.subject.clone()).await
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
