//! Exports as pages: the form behind the customer list's "Export" (columns, format, reason),
//! the file or the request it becomes, the requests with the approvers' decisions, the
//! approved download and the admin's threshold.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::export::approval::{self as uc, CustomerExport, ExportAsk};
use guanxi_app::export::{ExportFormat, EXPORT_COLUMNS};
use guanxi_domain::role::Permission;
use guanxi_store::export::ExportRequest;
use guanxi_text::format;

use crate::extract::PathId;
use crate::features::customers::list::{filter_of_query, user_names};
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

#[derive(Template)]
#[template(path = "export/form.html")]
struct FormTpl {
    ctx: Ctx,
    query: String,
    columns: Vec<(String, String, bool)>,
    format: String,
    reason: String,
    matching: String,
    threshold: i64,
    over: bool,
    errors: Vec<String>,
}

/// What the export form holds, as typed (shown again with the problems).
struct Typed<'a> {
    query: &'a str,
    chosen: &'a [String],
    format: &'a str,
    reason: &'a str,
}

async fn form_page(
    st: &AppState,
    user: &UiUser,
    typed: Typed<'_>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let Typed {
        query,
        chosen,
        format,
        reason,
    } = typed;
    let l = user.locale;
    let policy = uc::policy(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let filter = filter_of_query(st, user, query).await?;
    let (count, capped) = guanxi_app::customers::count_customers(
        &st.store,
        &user.actor,
        &filter,
        policy.approval_threshold + 1,
    )
    .await
    .map_err(page_err(l))?;
    let ctx = user.ctx("export.title");
    let matching = if capped {
        ctx.count("export.matching_over", policy.approval_threshold)
    } else {
        ctx.count("export.matching", count)
    };
    let custom = guanxi_app::export::export_fields(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let tpl = FormTpl {
        columns: EXPORT_COLUMNS
            .iter()
            .map(|(code, key)| {
                (
                    code.to_string(),
                    ctx.t(key).to_string(),
                    chosen.is_empty() || chosen.iter().any(|c| c == code),
                )
            })
            .chain(custom.iter().map(|d| {
                let code = guanxi_app::custom_field::form_name(d);
                let on = chosen.contains(&code);
                (code, d.label(l.code()).to_string(), on)
            }))
            .collect(),
        ctx,
        query: query.to_string(),
        format: format.to_string(),
        reason: reason.to_string(),
        matching,
        threshold: policy.approval_threshold,
        over: capped || count > policy.approval_threshold,
        errors,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The list's query string without paging.
fn list_query(q: &FormData) -> String {
    q.pairs()
        .iter()
        .filter(|(k, _)| k != "cursor" && k != "col")
        .map(|(k, v)| format!("{k}={}", crate::ui::session::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The export form for the list's current filter.
pub async fn form(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::Export)?;
    let query = list_query(&q);
    let typed = Typed {
        query: &query,
        chosen: &[],
        format: "csv",
        reason: "",
    };
    form_page(&st, &user, typed, Vec::new(), StatusCode::OK).await
}

/// Writes the file, or — above the threshold — files the request and shows it.
pub async fn export(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::Export)?;
    let l = user.locale;
    let query = form.raw("query").unwrap_or("").to_string();
    let chosen: Vec<String> = form.all("col").into_iter().map(str::to_string).collect();
    let format_code = form.get("format").unwrap_or("csv").to_string();
    let reason = form.raw("reason").unwrap_or("").to_string();
    let filter = filter_of_query(&st, &user, &query).await?;
    let result = match ExportFormat::parse(Some(&format_code)) {
        Ok(format) => {
            let ask = ExportAsk {
                filter: &filter,
                query: &query,
                columns: chosen.clone(),
                format,
                reason: Some(&reason),
            };
            uc::export_customers(&st.store, &user.actor, l, ask).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(CustomerExport::File(d)) => Ok(crate::download::file(d)),
        Ok(CustomerExport::Requested(r)) => {
            Ok(Redirect::to(&format!("/exports?requested={}", r.id)).into_response())
        }
        Err(e) => {
            let (status, errs) = form_refusal(l, e)?;
            let errors = field_messages(l, &errs);
            let typed = Typed {
                query: &query,
                chosen: &chosen,
                format: &format_code,
                reason: &reason,
            };
            form_page(&st, &user, typed, errors, status).await
        }
    }
}

/// A request as the list shows it.
struct RequestView {
    r: ExportRequest,
    who: String,
    at: String,
    status: String,
    decided_by: String,
    mine: bool,
    list_url: String,
}

#[derive(Template)]
#[template(path = "export/list.html")]
struct ListTpl {
    ctx: Ctx,
    requests: Vec<RequestView>,
    can_decide: bool,
    policy: Option<(i64, i64)>,
    requested: Option<i64>,
    errors: Vec<String>,
}

async fn list_page(
    st: &AppState,
    user: &UiUser,
    requested: Option<i64>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let ctx = user.ctx("export.requests");
    let names: std::collections::HashMap<i64, String> =
        user_names(st, user).await?.into_iter().collect();
    let tz = format::zone(st.utc_offset_hours);
    let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned()).unwrap_or_default();
    let requests = uc::requests(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?
        .into_iter()
        .map(|r| RequestView {
            who: name(Some(r.requested_by)),
            at: format::datetime(
                chrono::DateTime::from_timestamp_millis(r.created_at).unwrap_or_default(),
                tz,
            ),
            status: ctx.label("export_status", &r.status),
            decided_by: name(r.decided_by),
            mine: r.requested_by == user.actor.id,
            list_url: format!("/customers?{}", r.query),
            r,
        })
        .collect();
    let policy = if user.actor.can(Permission::ManageUsers) {
        let p = uc::policy(&st.store, &user.actor)
            .await
            .map_err(page_err(l))?;
        Some((p.approval_threshold, p.version))
    } else {
        None
    };
    let tpl = ListTpl {
        can_decide: user.actor.can(Permission::ApproveExports),
        ctx,
        requests,
        policy,
        requested,
        errors,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The requests (one's own; an approver's: everyone's) and, for admins, the threshold.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::Export)?;
    let requested = q.get("requested").and_then(|v| v.parse().ok());
    list_page(&st, &user, requested, Vec::new(), StatusCode::OK).await
}

/// An approver's decision on a request.
pub async fn decide(
    State(st): State<AppState>,
    PathId(id): PathId,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let approve = form.get("decision") == Some("approve");
    let r = uc::decide(&st.store, &user.actor, id, approve, form.get("note")).await;
    after(&st, &user, r.map(|_| ())).await
}

/// The admin's threshold.
pub async fn set_policy(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let l = user.locale;
    let version = form.version(l)?;
    let mut errs = Vec::new();
    let threshold = form.int("approval_threshold", "approval_threshold", &mut errs);
    let r = match threshold {
        Some(t) if errs.is_empty() => uc::set_policy(&st.store, &user.actor, t, version)
            .await
            .map(|_| ()),
        _ if !errs.is_empty() => Err(guanxi_domain::ValidationErrors(errs).into()),
        _ => Err(guanxi_domain::ValidationErrors::single("approval_threshold", "required").into()),
    };
    after(&st, &user, r).await
}

async fn after(
    st: &AppState,
    user: &UiUser,
    r: Result<(), guanxi_app::AppError>,
) -> Result<Response, UiError> {
    match r {
        Ok(()) => Ok(Redirect::to("/exports").into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            list_page(st, user, None, field_messages(user.locale, &errs), status).await
        }
    }
}

/// The approved export, once, watermarked.
pub async fn file(
    State(st): State<AppState>,
    user: UiUser,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    let l = user.locale;
    let r = uc::request(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    if r.query.starts_with(guanxi_app::export::API_QUERY) {
        let errs = guanxi_domain::ValidationErrors::single("id", "made_over_api");
        let (status, errs) = form_refusal(l, errs.into())?;
        return list_page(&st, &user, None, field_messages(l, &errs), status).await;
    }
    let filter = filter_of_query(&st, &user, &r.query).await?;
    match uc::download_approved(&st.store, &user.actor, l, id, &filter).await {
        Ok(d) => Ok(crate::download::file(d)),
        Err(e) => {
            let (status, errs) = form_refusal(l, e)?;
            list_page(&st, &user, None, field_messages(l, &errs), status).await
        }
    }
}
