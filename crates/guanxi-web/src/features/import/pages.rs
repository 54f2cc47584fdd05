//! The import wizard as pages. `/imports` lists the imports and takes a file; an import's
//! page is the wizard itself, one step per status: while `uploaded` it shows the mapping
//! (sheet, a field per column with the suggestions chosen, sample cells), the options, and —
//! once the mapping names the customer — the dry run: the first rows as they will be stored,
//! the problems, and each duplicate with its own choice; "run" saves and starts it. While it
//! runs a progress bar polls (htmx, no script of our own); once done it shows the counts, the
//! problem report and the undo.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::import::{self as uc, ImportSettings, ImportStatus, Preview, SettingsInput};
use guanxi_domain::import::interactions::INTERACTION_FIELDS;
use guanxi_domain::import::opportunities::OPPORTUNITY_FIELDS;
use guanxi_domain::import::orders::ORDER_FIELDS;
use guanxi_domain::import::FIELDS;
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::{InteractionChannel, OrderChannel, SourceChannel};
use guanxi_store::import::ImportBatch;
use guanxi_text::format;

use crate::extract::PathId;
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

/// An import as a list row shows it.
struct Row {
    id: i64,
    file_name: String,
    entity: String,
    status: String,
    status_code: String,
    at: String,
    inserted: i64,
    updated: i64,
    skipped: i64,
    invalid: i64,
}

fn row(ctx: &Ctx, b: &ImportBatch, tz: chrono::FixedOffset) -> Row {
    Row {
        id: b.id,
        file_name: b.file_name.clone(),
        entity: ctx.label("import_entity", &b.entity),
        status: ctx.label("import_status", &b.status),
        status_code: b.status.clone(),
        at: format::datetime(at(b.created_at), tz),
        inserted: b.inserted,
        updated: b.updated,
        skipped: b.skipped,
        invalid: b.invalid,
    }
}

#[derive(Template)]
#[template(path = "import/list.html")]
struct ListTpl {
    ctx: Ctx,
    imports: Vec<Row>,
    /// Whether the user may import orders.
    orders: bool,
    /// Whether the user may import interactions.
    interactions: bool,
    /// Whether the user may import opportunities.
    opportunities: bool,
    /// The import policy, for an admin to change.
    policy: Option<guanxi_store::import::ImportPolicy>,
    errors: Vec<String>,
}

async fn list_page(
    st: &AppState,
    user: &UiUser,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let ctx = user.ctx("import.title");
    let tz = format::zone(st.utc_offset_hours);
    let policy = if user.actor.can(Permission::ManageUsers) {
        Some(uc::policy(&st.store).await.map_err(page_err(user.locale))?)
    } else {
        None
    };
    let imports = uc::list(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?
        .iter()
        .map(|b| row(&ctx, b, tz))
        .collect();
    let mut r = render(
        user.locale,
        &ListTpl {
            ctx,
            imports,
            errors,
            orders: user.actor.can(Permission::WriteOrders),
            interactions: user.actor.can(Permission::WriteCustomers),
            opportunities: user.actor.can(Permission::WorkOpportunities),
            policy,
        },
    );
    *r.status_mut() = status;
    Ok(r)
}

/// The imports and the upload form.
pub async fn list(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require_import()?;
    list_page(&st, &user, Vec::new(), StatusCode::OK).await
}

/// Takes the uploaded file and opens its wizard; an unreadable file is listed as a problem.
pub async fn upload(
    State(st): State<AppState>,
    Submitted { user, mut form }: Submitted,
) -> Result<Response, UiError> {
    user.require_import()?;
    let files = form.take_files();
    let entity = form.get("entity").unwrap_or("customers").to_string();
    let result = match files.first() {
        None => Err(guanxi_domain::ValidationErrors::single("file", "required").into()),
        Some((name, bytes)) => {
            uc::upload(
                &st.store,
                &user.actor,
                (name, bytes),
                &entity,
                st.utc_offset_hours,
            )
            .await
        }
    };
    match result {
        Ok(b) => Ok(Redirect::to(&format!("/imports/{}", b.id)).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            list_page(&st, &user, field_messages(user.locale, &errs), status).await
        }
    }
}

/// One column of the mapping step.
struct ColumnView {
    index: usize,
    header: String,
    samples: String,
    field: String,
}

/// One duplicate of the preview, with the choices offered for it.
struct DuplicateView {
    line: u64,
    row_name: String,
    customer_id: i64,
    customer_name: String,
    matched_on: String,
    earlier_line: String,
    choice: String,
    can_update: bool,
}

#[derive(Template)]
#[template(path = "import/show.html")]
struct ShowTpl {
    ctx: Ctx,
    st: ImportStatus,
    /// What the file holds: `customers`, `orders` or `interactions`.
    entity: String,
    channels: Vec<(&'static str, String)>,
    interaction_channels: Vec<(&'static str, String)>,
    /// Active pipelines (id, name), for an opportunities import.
    pipelines: Vec<(i64, String)>,
    status_label: String,
    settings: ImportSettings,
    sheets: Vec<String>,
    sheet: String,
    columns: Vec<ColumnView>,
    fields: Vec<(String, String)>,
    sources: Vec<(&'static str, String)>,
    users: Vec<(i64, String)>,
    preview: Option<Preview>,
    samples: Vec<(u64, Vec<String>, String)>,
    /// The mapped fields (code, label) in the wizard's order.
    mapped: Vec<(String, String)>,
    duplicates: Vec<DuplicateView>,
    problems: Vec<(u64, String, String)>,
    errors: Vec<String>,
    undo_until: String,
    undone: Option<(u64, u64, u64)>,
    error: String,
}

async fn show_page(
    st: &AppState,
    user: &UiUser,
    id: i64,
    errors: Vec<String>,
    status: StatusCode,
    undone: Option<(u64, u64, u64)>,
) -> Result<Response, UiError> {
    let l = user.locale;
    let ctx = user.ctx("import.title");
    let imp = uc::status(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let (_, settings) = uc::get(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let mut errors = errors;
    let (mut preview, mut sheets, mut sheet, mut columns) =
        (None, Vec::new(), String::new(), Vec::new());
    if imp.import.status == "uploaded" {
        // The dry run carries the sheet's layout; only a refused one needs it read apart.
        let layout = match uc::preview(&st.store, &user.actor, id).await {
            Ok(p) => {
                let layout = uc::Layout {
                    sheets: p.sheets.clone(),
                    sheet: p.sheet.clone(),
                    headers: p.headers.clone(),
                    rows: p.raw.clone(),
                };
                preview = Some(p);
                layout
            }
            Err(e) => {
                let (_, errs) = form_refusal(l, e)?;
                if errors.is_empty() {
                    errors = field_messages(l, &errs);
                }
                uc::layout(&st.store, &user.actor, id)
                    .await
                    .map_err(page_err(l))?
            }
        };
        sheets = layout.sheets;
        sheet = layout.sheet;
        columns = layout
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| ColumnView {
                index: i,
                header: h.clone(),
                samples: layout
                    .rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .filter(|c| !c.trim().is_empty())
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" · "),
                field: settings
                    .mapping
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_default(),
            })
            .collect();
    }
    let entity = imp.import.entity.clone();
    let custom = uc::import_fields(&st.store, &user.actor, &entity)
        .await
        .map_err(page_err(l))?;
    let ctx_fields = user.ctx("import.title");
    let targets: &[&str] = match entity.as_str() {
        "orders" => ORDER_FIELDS,
        "interactions" => INTERACTION_FIELDS,
        "opportunities" => OPPORTUNITY_FIELDS,
        _ => FIELDS,
    };
    let fields: Vec<(String, String)> = targets
        .iter()
        .map(|f| {
            (
                f.to_string(),
                ctx_fields.t(&format!("field.{f}")).to_string(),
            )
        })
        .chain(custom.iter().map(|d| {
            (
                guanxi_app::custom_field::form_name(d),
                d.label(l.code()).to_string(),
            )
        }))
        .collect();
    let mapped: Vec<(String, String)> = fields
        .iter()
        .filter(|(f, _)| {
            settings
                .mapping
                .iter()
                .any(|m| m.as_deref() == Some(f.as_str()))
        })
        .cloned()
        .collect();
    let samples = preview
        .as_ref()
        .map(|p| {
            p.samples
                .iter()
                .map(|s| {
                    let cells = mapped
                        .iter()
                        .map(|(f, _)| {
                            s.values
                                .iter()
                                .find(|v| &v.field == f)
                                .map(|v| match vocabulary_of(f) {
                                    Some(vocab) => ctx.label(vocab, &v.value),
                                    None => v.value.clone(),
                                })
                                .unwrap_or_default()
                        })
                        .collect();
                    let problems = s
                        .problems
                        .iter()
                        .map(|p| format!("{}: {}", p.column, ctx.t(&p.code)))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (s.line, cells, problems)
                })
                .collect()
        })
        .unwrap_or_default();
    let duplicates = preview
        .as_ref()
        .map(|p| {
            p.duplicates
                .iter()
                .map(|d| DuplicateView {
                    line: d.line,
                    row_name: d.row_name.clone(),
                    customer_id: d.customer_id.unwrap_or(0),
                    customer_name: d.customer_name.clone().unwrap_or_default(),
                    matched_on: ctx
                        .t(&format!("import.matched_{}", d.matched_on))
                        .to_string(),
                    earlier_line: d.earlier_line.map(|x| x.to_string()).unwrap_or_default(),
                    choice: d.choice.as_str().to_string(),
                    can_update: imp.import.entity == "customers"
                        && d.candidates == 1
                        && d.earlier_line.is_none(),
                })
                .collect()
        })
        .unwrap_or_default();
    let problems = preview
        .as_ref()
        .map(|p| {
            p.problems
                .iter()
                .map(|x| (x.line, x.column.clone(), ctx.t(&x.code).to_string()))
                .collect()
        })
        .unwrap_or_default();
    let tz = format::zone(st.utc_offset_hours);
    let undo_until = imp
        .undo_until
        .map(|u| format::datetime(at(u), tz))
        .unwrap_or_default();
    let error = imp
        .import
        .error
        .as_deref()
        .map(|c| ctx.t(c).to_string())
        .unwrap_or_default();
    let pipelines = if entity == "opportunities" && imp.import.status == "uploaded" {
        guanxi_app::pipeline::pipelines(&st.store, &user.actor)
            .await
            .map_err(page_err(l))?
            .into_iter()
            .filter(|p| p.active)
            .map(|p| (p.id, p.name))
            .collect()
    } else {
        Vec::new()
    };
    let tpl = ShowTpl {
        pipelines,
        interaction_channels: InteractionChannel::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label("interaction_channel", c.as_str())))
            .collect(),
        channels: OrderChannel::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label("order_channel", c.as_str())))
            .collect(),
        entity,
        status_label: ctx.label("import_status", &imp.import.status),
        fields,
        sources: SourceChannel::ALL
            .iter()
            .map(|s| (s.as_str(), ctx.label("source_channel", s.as_str())))
            .collect(),
        users: if imp.import.status == "uploaded"
            && imp.import.entity == "customers"
            && user.actor.can(Permission::ImportData)
        {
            user_names(st, user).await?
        } else {
            Vec::new()
        },
        ctx,
        st: imp,
        settings,
        sheets,
        sheet,
        columns,
        preview,
        samples,
        mapped,
        duplicates,
        problems,
        errors,
        undo_until,
        undone,
        error,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The wizard at the import's current step.
pub async fn show(
    State(st): State<AppState>,
    user: UiUser,
    PathId(id): PathId,
    q: FormData,
) -> Result<Response, UiError> {
    let count = |k: &str| q.get(k).and_then(|v| v.parse().ok());
    let undone = match (count("removed"), count("restored"), count("kept")) {
        (Some(a), Some(b), Some(c)) => Some((a, b, c)),
        _ => None,
    };
    show_page(&st, &user, id, Vec::new(), StatusCode::OK, undone).await
}

/// Saves the mapping and choices; "run" then starts the import, "preview" shows the dry run.
pub async fn settings(
    State(st): State<AppState>,
    PathId(id): PathId,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let l = user.locale;
    let version = form.version(l)?;
    let mut mapping = Vec::new();
    for i in 0.. {
        match form.raw(&format!("map_{i}")) {
            Some(v) => mapping.push(Some(v.trim().to_string()).filter(|v| !v.is_empty())),
            None => break,
        }
    }
    let choices = form
        .pairs()
        .iter()
        .filter_map(|(k, v)| {
            let line = k.strip_prefix("choice_")?;
            Some((line.to_string(), v.clone()))
        })
        .collect();
    let owner_id = form.get("owner_id").and_then(|v| v.parse().ok());
    let input = SettingsInput {
        version,
        sheet: form.get("sheet").map(str::to_string),
        mapping,
        on_duplicate: form.get("on_duplicate").map(str::to_string),
        update_mode: form.get("update_mode").map(str::to_string),
        update_except: form.all("except").into_iter().map(str::to_string).collect(),
        choices,
        skip_invalid: form.checked("skip_invalid"),
        source: form.get("source").map(str::to_string),
        owner_id,
        channel: form.get("channel").map(str::to_string),
        interaction_channel: form.get("interaction_channel").map(str::to_string),
        pipeline_id: form.get("pipeline_id").and_then(|v| v.parse().ok()),
    };
    let result = match uc::save_settings(&st.store, &user.actor, id, &input).await {
        Ok(_) if form.get("action") == Some("run") => uc::start(&st.store, &user.actor, id).await,
        other => other,
    };
    after(&st, &user, id, result.map(|_| format!("/imports/{id}"))).await
}

#[derive(Template)]
#[template(path = "import/progress.html")]
struct ProgressTpl {
    ctx: Ctx,
    id: i64,
    phase: String,
    done: u64,
    total: u64,
}

/// The progress bar (polled by the page while the import runs); once the import has ended it
/// asks htmx to reload the page, which then shows the outcome.
pub async fn progress(
    State(st): State<AppState>,
    user: UiUser,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    let s = uc::status(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let ctx = user.ctx("import.title");
    let (phase, done, total) = match s.progress {
        Some(p) => (
            ctx.t(&format!("import.phase_{}", p.phase)).to_string(),
            p.done,
            p.total,
        ),
        None => (
            ctx.t("import.phase_queued").to_string(),
            0,
            s.import.total_rows as u64,
        ),
    };
    let mut r = render(
        user.locale,
        &ProgressTpl {
            ctx,
            id,
            phase,
            done,
            total,
        },
    );
    if s.import.status != "queued" && s.import.status != "running" {
        r.headers_mut()
            .insert("HX-Refresh", HeaderValue::from_static("true"));
    }
    Ok(r)
}

/// The problems as a workbook (audited).
pub async fn report(
    State(st): State<AppState>,
    user: UiUser,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    let d = uc::problem_report(&st.store, &user.actor, user.locale, id)
        .await
        .map_err(page_err(user.locale))?;
    Ok(crate::download::file(d))
}

/// Undoes the import and says what it did.
pub async fn undo(
    State(st): State<AppState>,
    PathId(id): PathId,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    let done = uc::undo(&st.store, &user.actor, id).await.map(|c| {
        format!(
            "/imports/{id}?removed={}&restored={}&kept={}",
            c.removed, c.restored, c.kept
        )
    });
    after(&st, &user, id, done).await
}

/// Lets sales reps import into their own book, or not (admins), from the imports page.
pub async fn set_policy(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let l = user.locale;
    let version = form.version(l)?;
    match uc::set_policy(
        &st.store,
        &user.actor,
        form.checked("sales_may_import"),
        version,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/imports").into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(l, e)?;
            list_page(&st, &user, field_messages(l, &errs), status).await
        }
    }
}

/// Takes a failed import back to its mapping, to fix and run again.
pub async fn reopen(
    State(st): State<AppState>,
    PathId(id): PathId,
    Submitted { user, .. }: Submitted,
) -> Result<Response, UiError> {
    let done = uc::reopen(&st.store, &user.actor, id)
        .await
        .map(|_| format!("/imports/{id}"));
    after(&st, &user, id, done).await
}

/// An action's answer: on to `Ok(address)`, or the import's page with the refusal.
async fn after(
    st: &AppState,
    user: &UiUser,
    id: i64,
    done: Result<String, guanxi_app::AppError>,
) -> Result<Response, UiError> {
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            show_page(
                st,
                user,
                id,
                field_messages(user.locale, &errs),
                status,
                None,
            )
            .await
        }
    }
}

/// The vocabulary whose labels show a field's stored codes.
fn vocabulary_of(field: &str) -> Option<&'static str> {
    match field {
        "kind" => Some("customer_kind"),
        "gender" => Some("gender"),
        "lifecycle_stage" => Some("lifecycle_stage"),
        "source_channel" => Some("source_channel"),
        "channel" => Some("order_channel"),
        "interaction_channel" => Some("interaction_channel"),
        "direction" => Some("interaction_direction"),
        "purpose" => Some("interaction_purpose"),
        _ => None,
    }
}

/// A stored epoch-ms time.
fn at(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
