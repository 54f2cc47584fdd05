//! The pipeline settings page (managers): each pipeline as a form — its name, whether new deals
//! may use it, its stages in order with their kind and default probability (a row emptied
//! retires its stage; a blank row adds one) — a form for a new pipeline, and the lost reasons.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::pipeline as uc;
use guanxi_domain::pipeline::{PipelineInput, StageInput, StageKind, MAX_STAGES};
use guanxi_domain::role::Permission;
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::pipeline::{LostReason, Pipeline};

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{page_err, page_refusal, Ctx, FormData, Submitted, UiError, UiUser};

/// Blank stage rows under a pipeline's stages.
const SPARE: usize = 2;

/// A stage row of a form.
struct StageRow {
    id: String,
    name: String,
    name_en: String,
    kind: String,
    probability: i64,
}

struct PipelineForm {
    id: i64,
    name: String,
    active: bool,
    version: i64,
    rows: Vec<StageRow>,
}

fn blank() -> StageRow {
    StageRow {
        id: String::new(),
        name: String::new(),
        name_en: String::new(),
        kind: "open".into(),
        probability: 50,
    }
}

fn form_of(p: &Pipeline) -> PipelineForm {
    PipelineForm {
        id: p.id,
        name: p.name.clone(),
        active: p.active,
        version: p.version,
        rows: p
            .stages
            .iter()
            .filter(|s| !s.retired)
            .map(|s| StageRow {
                id: s.id.to_string(),
                name: s.name.clone(),
                name_en: s.name_en.clone().unwrap_or_default(),
                kind: s.kind.clone(),
                probability: s.probability,
            })
            .chain((0..SPARE).map(|_| blank()))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "pipeline/settings.html")]
struct SettingsTpl {
    ctx: Ctx,
    pipelines: Vec<PipelineForm>,
    new_rows: Vec<StageRow>,
    kinds: Vec<(String, String)>,
    reasons: Vec<(LostReason, String)>,
    errors: Vec<String>,
    conflict: bool,
}

async fn settings_page(
    st: &AppState,
    user: &UiUser,
    errors: Vec<String>,
    conflict: bool,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let pipelines = uc::pipelines(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let reasons = uc::all_lost_reasons(&st.store, &user.actor)
        .await
        .map_err(page_err(l))?;
    let ctx = user.ctx("pipeline.settings");
    let tpl = SettingsTpl {
        pipelines: pipelines.iter().map(form_of).collect(),
        new_rows: [("open", 20), ("open", 60), ("won", 100), ("lost", 0)]
            .into_iter()
            .map(|(kind, probability)| StageRow {
                kind: kind.into(),
                probability,
                ..blank()
            })
            .collect(),
        kinds: StageKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), ctx.label("stage_kind", k.as_str())))
            .collect(),
        reasons: reasons
            .into_iter()
            .map(|r| {
                let en = r.name_en.clone().unwrap_or_default();
                (r, en)
            })
            .collect(),
        errors,
        conflict,
        ctx,
    };
    let mut r = render(l, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The settings page.
pub async fn page(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.require(Permission::ManagePipelines)?;
    settings_page(&st, &user, Vec::new(), false, StatusCode::OK).await
}

/// A pipeline form as input: rows without a name are left out (a stored one retires).
fn input_of(form: &FormData) -> Result<PipelineInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let mut stages = Vec::new();
    for i in 0..MAX_STAGES + SPARE {
        let Some(name) = form.get(&format!("stage_name_{i}")) else {
            continue;
        };
        let k = stages.len();
        let id = form.int(
            &format!("stage_id_{i}"),
            format!("stages[{k}].id"),
            &mut errs,
        );
        let probability = form
            .int(
                &format!("stage_probability_{i}"),
                format!("stages[{k}].probability"),
                &mut errs,
            )
            .unwrap_or(0);
        let kind = match StageKind::parse(form.get(&format!("stage_kind_{i}")).unwrap_or("")) {
            Ok(kind) => kind,
            Err(_) => {
                errs.push(ValidationError::new(
                    format!("stages[{k}].kind"),
                    "invalid_choice",
                ));
                StageKind::Open
            }
        };
        stages.push(StageInput {
            id,
            name: name.to_string(),
            name_en: form.get(&format!("stage_name_en_{i}")).map(str::to_string),
            kind,
            probability,
        });
    }
    let version = form.int("version", "version", &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(PipelineInput {
        name: form.get("name").unwrap_or("").to_string(),
        team_id: None,
        stages,
        active: form.get("active").is_some() || version.is_none(),
        version,
    })
}

/// After a change: the page again, or with the refusal.
async fn after<T>(
    st: &AppState,
    user: &UiUser,
    r: Result<T, guanxi_app::AppError>,
) -> Result<Response, UiError> {
    match r {
        Ok(_) => Ok(Redirect::to("/pipeline/settings").into_response()),
        Err(e) => {
            let (status, conflict, msgs) = page_refusal(user.locale, e)?;
            settings_page(st, user, msgs, conflict, status).await
        }
    }
}

/// Adds a pipeline.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match input_of(&form) {
        Ok(p) => uc::create_pipeline(&st.store, &user.actor, &p).await,
        Err(e) => Err(ValidationErrors(e).into()),
    };
    after(&st, &user, r).await
}

/// Changes a pipeline.
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = match input_of(&form) {
        Ok(p) => uc::update_pipeline(&st.store, &user.actor, id, &p).await,
        Err(e) => Err(ValidationErrors(e).into()),
    };
    after(&st, &user, r).await
}

/// Adds a lost reason.
pub async fn add_reason(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = uc::create_lost_reason(
        &st.store,
        &user.actor,
        form.get("name").unwrap_or(""),
        form.get("name_en"),
        form.get("needs_note").is_some(),
    )
    .await;
    after(&st, &user, r).await
}

/// Offers a lost reason again or stops offering it (`active=1|0`).
pub async fn toggle_reason(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    let r = uc::set_lost_reason_active(&st.store, &user.actor, id, form.get("active") == Some("1"))
        .await;
    after(&st, &user, r).await
}
