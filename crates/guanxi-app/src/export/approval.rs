//! The guard against mass export (the seeds' 专人管理: no mass leaks). An export of more
//! customers than the shop's threshold (admin-set, [`set_policy`]) is not written at once: it
//! becomes a request with a reason, the approvers (managers and admins other than the
//! requester) and the admins are told, and one of them approves or rejects it. An approved
//! request gives its requester one download, watermarked with their name, the request and
//! the time on every row, and the admins are told again when it is taken.

use guanxi_domain::role::{Actor, Permission, Role};
use guanxi_domain::ValidationErrors;
use guanxi_store::customers::CustomerFilter;
use guanxi_store::export::{Alert, ExportPolicy, ExportRequest, NewExportRequest};
use guanxi_store::Store;
use guanxi_text::i18n::Locale;
use guanxi_text::text::{tf, Args};

use super::{customers_file, Download, ExportFormat, Exported};
use crate::{require, AppError};

/// Most characters of a request's reason or a decision's note.
pub const MAX_REASON: usize = 500;

/// Largest threshold an admin may set.
pub const MAX_THRESHOLD: i64 = 10_000_000;

/// What an export asked for turned into.
pub enum CustomerExport {
    /// Within the threshold: the file.
    File(Download),
    /// Above it: the request awaiting approval.
    Requested(ExportRequest),
}

/// An export of the customer list as asked: the filter (and its query string, kept with a
/// request), the columns, the format and, above the threshold, the reason.
pub struct ExportAsk<'a> {
    /// The list's filter.
    pub filter: &'a CustomerFilter,
    /// The same filter as the list's query string.
    pub query: &'a str,
    /// Column codes ([`super::EXPORT_COLUMNS`]); empty: all.
    pub columns: Vec<String>,
    /// The format.
    pub format: ExportFormat,
    /// Why (needed above the threshold).
    pub reason: Option<&'a str>,
}

/// The shop's policy (everyone who exports may read it, to know when approval is needed).
pub async fn policy(store: &Store, actor: &Actor) -> Result<ExportPolicy, AppError> {
    require(actor, Permission::Export)?;
    Ok(store.export_policy().await?)
}

/// Sets the threshold (admins), audited.
pub async fn set_policy(
    store: &Store,
    actor: &Actor,
    threshold: i64,
    version: i64,
) -> Result<ExportPolicy, AppError> {
    require(actor, Permission::ManageUsers)?;
    if !(0..=MAX_THRESHOLD).contains(&threshold) {
        return Err(ValidationErrors::single("approval_threshold", "out_of_range").into());
    }
    Ok(store.set_export_policy(actor, threshold, version).await?)
}

/// Exports the customers a list selects: the file when they are within the threshold, else a
/// request for approval (the reason is then required; field `reason`).
pub async fn export_customers(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    ask: ExportAsk<'_>,
) -> Result<CustomerExport, AppError> {
    require(actor, Permission::Export)?;
    let custom = super::export_fields(store, actor).await?;
    let columns = super::check_columns(&ask.columns, &custom)?;
    let policy = store.export_policy().await?;
    let (count, capped) = store
        .count_customers(actor, ask.filter, policy.approval_threshold + 1)
        .await?;
    if !capped && count <= policy.approval_threshold {
        let what = Exported {
            entity: "customer_list",
            entity_id: None,
            watermark: None,
        };
        let d =
            customers_file(store, actor, locale, ask.filter, &columns, ask.format, what).await?;
        return Ok(CustomerExport::File(d));
    }
    let reason = ask.reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(ValidationErrors::single("reason", "required").into());
    }
    if reason.chars().count() > MAX_REASON {
        return Err(ValidationErrors::single("reason", "too_long").into());
    }
    let (rows, _) = store
        .count_customers(actor, ask.filter, MAX_THRESHOLD)
        .await?;
    // The approvers; the admins among them are told whoever decides.
    let alerts = alerts(
        store,
        actor,
        |u| u.role.can(Permission::ApproveExports),
        "export.alert_requested",
        &[("who", &actor.name), ("n", &rows)],
    )
    .await?;
    let cols = columns.join(",");
    let r = store
        .create_export_request(
            actor,
            NewExportRequest {
                what: "customers",
                query: ask.query,
                columns: &cols,
                format: ask.format.code(),
                row_count: rows,
                reason,
            },
            &alerts,
        )
        .await?;
    Ok(CustomerExport::Requested(r))
}

/// One message for each active user other than the actor that `pick` chooses, each in the
/// user's own language.
async fn alerts(
    store: &Store,
    actor: &Actor,
    pick: impl Fn(&guanxi_domain::records::User) -> bool,
    key: &str,
    args: &Args<'_>,
) -> Result<Vec<Alert>, AppError> {
    Ok(store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.id != actor.id && pick(u))
        .map(|u| {
            let l = Locale::from_code(&u.locale).unwrap_or(Locale::ZhCn);
            Alert {
                user_id: u.id,
                message: tf(l, key, args),
            }
        })
        .collect())
}

/// The requests the actor sees: their own, and for approvers everyone's.
pub async fn requests(store: &Store, actor: &Actor) -> Result<Vec<ExportRequest>, AppError> {
    require(actor, Permission::Export)?;
    let mine = (!actor.can(Permission::ApproveExports)).then_some(actor.id);
    Ok(store.export_requests(mine, 100).await?)
}

/// One request the actor may see.
pub async fn request(store: &Store, actor: &Actor, id: i64) -> Result<ExportRequest, AppError> {
    require(actor, Permission::Export)?;
    let r = store.export_request(id).await?;
    if r.requested_by != actor.id && !actor.can(Permission::ApproveExports) {
        return Err(guanxi_store::StoreError::NotFound.into());
    }
    Ok(r)
}

/// Approves or rejects a pending request; nobody decides their own.
pub async fn decide(
    store: &Store,
    actor: &Actor,
    id: i64,
    approve: bool,
    note: Option<&str>,
) -> Result<ExportRequest, AppError> {
    require(actor, Permission::ApproveExports)?;
    let r = store.export_request(id).await?;
    if r.requested_by == actor.id {
        return Err(ValidationErrors::single("decision", "own_request").into());
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_REASON) {
        return Err(ValidationErrors::single("note", "too_long").into());
    }
    let key = if approve {
        "export.alert_approved"
    } else {
        "export.alert_rejected"
    };
    let alerts = alerts(
        store,
        actor,
        |u| u.id == r.requested_by,
        key,
        &[("who", &actor.name), ("id", &r.id)],
    )
    .await?;
    Ok(store
        .decide_export(actor, id, approve, note, &alerts)
        .await?)
}

/// The one download an approved request allows its requester: the filter it was asked with
/// (read again now), watermarked on every row; the admins are told.
pub async fn download_approved(
    store: &Store,
    actor: &Actor,
    locale: Locale,
    id: i64,
    filter: &CustomerFilter,
) -> Result<Download, AppError> {
    require(actor, Permission::Export)?;
    let r = request(store, actor, id).await?;
    if r.requested_by != actor.id || r.status != "approved" {
        return Err(ValidationErrors::single("status", "not_approved").into());
    }
    let alerts = alerts(
        store,
        actor,
        |u| u.role == Role::Admin,
        "export.alert_downloaded",
        &[("who", &actor.name), ("id", &r.id), ("n", &r.row_count)],
    )
    .await?;
    if !store.take_approved_export(actor, id, &alerts).await? {
        return Err(ValidationErrors::single("status", "not_approved").into());
    }
    let columns: Vec<String> = r.columns.split(',').map(str::to_string).collect();
    let format = ExportFormat::parse(Some(&r.format))?;
    let stamp = format!(
        "{} · #{} · {}",
        actor.name,
        r.id,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let what = Exported {
        entity: "export_request",
        entity_id: Some(id),
        watermark: Some(stamp),
    };
    customers_file(store, actor, locale, filter, &columns, format, what).await
}
