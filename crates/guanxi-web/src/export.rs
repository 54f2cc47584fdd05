//! Customer exports as CSV (a saved segment from its page or the API). One writer serves both,
//! so an export reads the same whichever way it was asked for: headers in the reader's
//! language, codes as labels, money as plain yuan, ID numbers masked unless the reader may see
//! them, a UTF-8 byte-order mark so Excel opens Chinese text correctly, and every cell
//! formula-safe (`guanxi_domain::spreadsheet`: a name starting with `=` stays text). The store audits
//! every export with its row count before a byte leaves.

use std::collections::HashMap;

use guanxi_domain::masking::mask_id_number;
use guanxi_domain::records::Customer;
use guanxi_domain::role::{Actor, Permission};
use guanxi_domain::spreadsheet::formula_safe;
use guanxi_domain::vocabulary::ContactKind;
use guanxi_store::customers::CustomerFilter;
use serde_json::json;

use crate::error::ApiError;
use crate::i18n::Locale;
use crate::state::AppState;
use crate::ui::customers::first_contact;
use crate::ui::format::plain_money;
use crate::ui::text::{label, t};

/// Column keys (catalogue `field.*`) in file order.
const COLUMNS: &[&str] = &[
    "field.id",
    "field.name",
    "field.kind",
    "field.gender",
    "field.birthday",
    "field.city",
    "field.province",
    "field.phone",
    "field.email",
    "field.consent_marketing",
    "field.lifecycle_stage",
    "field.owner",
    "field.tags",
    "field.rfm_segment",
    "field.tier",
    "field.clv",
    "field.id_number",
];

/// Exports the customers a filter selects (within the actor's scope) as CSV bytes. `entity`
/// and `entity_id` name what was exported for the audit log (e.g. `segment`, its id).
pub async fn customers_csv(
    st: &AppState,
    actor: &Actor,
    locale: Locale,
    filter: &CustomerFilter,
    entity: &str,
    entity_id: Option<i64>,
) -> Result<Vec<u8>, ApiError> {
    if !actor.can(Permission::Export) {
        return Err(ApiError::Forbidden);
    }
    let unmasked = actor.can(Permission::ViewSensitive);
    let customers = st
        .store
        .export_customers(
            actor,
            filter,
            entity,
            entity_id,
            json!({"format": "csv", "id_numbers": if unmasked { "unmasked" } else { "masked" }}),
        )
        .await?;
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let scores = st.store.scores_of(&ids).await?;
    let owners: HashMap<i64, String> = st
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::from(*b"\xEF\xBB\xBF"));
    let io = |e: csv::Error| ApiError::Internal(e.to_string());
    w.write_record(COLUMNS.iter().map(|k| t(locale, k)))
        .map_err(io)?;
    for c in &customers {
        let cells = row(c, locale, unmasked, &scores, &owners);
        w.write_record(cells.iter().map(|cell| formula_safe(cell).into_owned()))
            .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))
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
        first_contact(c, &[ContactKind::Mobile, ContactKind::Phone]),
        first_contact(c, &[ContactKind::Email]),
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
