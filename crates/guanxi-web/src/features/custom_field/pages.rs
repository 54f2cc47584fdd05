//! The admin's custom-field pages: the fields of customers, opportunities and tickets with
//! the form to define one, the seeds' presets, and a field's edit form with archive/restore.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_app::custom_field as uc;
use guanxi_domain::custom_field::{
    AppliesTo, FieldChoice, FieldDefinition, FieldEntity, FieldInput, FieldKind,
};
use guanxi_domain::role::{Permission, Role};
use guanxi_domain::ValidationError;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser};

/// One row of the fields table.
struct Row {
    id: i64,
    code: String,
    label: String,
    kind: &'static str,
    applies_to: &'static str,
    required: bool,
    sensitive: bool,
    roles: String,
    archived: bool,
    preset: bool,
}

/// The definition form's values (as typed, or as stored).
struct FormValues {
    entity: &'static str,
    applies_to: &'static str,
    code: String,
    kind: &'static str,
    label_zh: String,
    label_en: String,
    choices: String,
    required: bool,
    sensitive: bool,
    roles: Vec<&'static str>,
    position: String,
}

#[derive(Template)]
#[template(path = "custom_field/list.html")]
struct ListTpl {
    ctx: Ctx,
    entity: &'static str,
    entities: &'static [&'static str],
    rows: Vec<Row>,
    form: FormValues,
    kinds: &'static [&'static str],
    applies: &'static [&'static str],
    roles: &'static [&'static str],
    errors: Vec<(String, &'static str)>,
    flash: String,
}

#[derive(Template)]
#[template(path = "custom_field/edit.html")]
struct EditTpl {
    ctx: Ctx,
    field: FieldDefinition,
    form: FormValues,
    applies: &'static [&'static str],
    roles: &'static [&'static str],
    errors: Vec<(String, &'static str)>,
}

fn entity_of(q: &FormData, l: guanxi_text::i18n::Locale) -> Result<FieldEntity, UiError> {
    match q.get("entity") {
        None => Ok(FieldEntity::Customer),
        Some(e) => FieldEntity::parse(e).map_err(|_| UiError::BadForm(l)),
    }
}

fn blank_form(entity: FieldEntity) -> FormValues {
    FormValues {
        entity: entity.as_str(),
        applies_to: "all",
        code: String::new(),
        kind: "text",
        label_zh: String::new(),
        label_en: String::new(),
        choices: String::new(),
        required: false,
        sensitive: false,
        roles: Vec::new(),
        position: "0".into(),
    }
}

/// Choices as the textarea shows them: `code | 中文 | English`, one per line.
fn choices_text(c: &[FieldChoice]) -> String {
    c.iter()
        .map(|c| format!("{} | {} | {}", c.code, c.label_zh, c.label_en))
        .collect::<Vec<_>>()
        .join("\n")
}

fn stored_form(f: &FieldDefinition) -> FormValues {
    FormValues {
        entity: f.entity.as_str(),
        applies_to: f.applies_to.as_str(),
        code: f.code.clone(),
        kind: f.kind.as_str(),
        label_zh: f.label_zh.clone(),
        label_en: f.label_en.clone(),
        choices: choices_text(&f.choices),
        required: f.required,
        sensitive: f.sensitive,
        roles: f.visible_to.iter().map(|r| r.as_str()).collect(),
        position: f.position.to_string(),
    }
}

/// Reads the definition form. A line of choices is `code | 中文 | English` (a missing English
/// label repeats the Chinese one). Unparseable selects or numbers are field errors.
fn parse_form(
    form: &FormData,
    fixed: Option<&FieldDefinition>,
) -> (FieldInput, Vec<ValidationError>) {
    let mut errors = Vec::new();
    let mut pick = |name: &str, parse: &dyn Fn(&str) -> bool| {
        let v = form.get(name).unwrap_or("");
        if !parse(v) {
            errors.push(ValidationError::new(name, "unknown_value"));
        }
    };
    pick("applies_to", &|v| AppliesTo::parse(v).is_ok());
    if fixed.is_none() {
        pick("entity", &|v| FieldEntity::parse(v).is_ok());
        pick("kind", &|v| FieldKind::parse(v).is_ok());
    }
    let position = match form.get("position") {
        None => 0,
        Some(p) => p.parse::<i64>().unwrap_or_else(|_| {
            errors.push(ValidationError::new("position", "not_a_number"));
            0
        }),
    };
    let choices = form
        .raw("choices")
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split(['|', '｜']).map(str::trim).collect();
            let zh = parts.get(1).copied().unwrap_or("");
            FieldChoice {
                code: parts[0].to_string(),
                label_zh: zh.to_string(),
                label_en: parts
                    .get(2)
                    .copied()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(zh)
                    .to_string(),
            }
        })
        .collect();
    let input = FieldInput {
        entity: fixed.map(|f| f.entity).unwrap_or_else(|| {
            FieldEntity::parse(form.get("entity").unwrap_or("")).unwrap_or(FieldEntity::Customer)
        }),
        applies_to: AppliesTo::parse(form.get("applies_to").unwrap_or("all"))
            .unwrap_or(AppliesTo::All),
        code: fixed
            .map(|f| f.code.clone())
            .unwrap_or_else(|| form.get("code").unwrap_or("").to_string()),
        kind: fixed.map(|f| f.kind).unwrap_or_else(|| {
            FieldKind::parse(form.get("kind").unwrap_or("")).unwrap_or(FieldKind::Text)
        }),
        label_zh: form.get("label_zh").unwrap_or("").to_string(),
        label_en: form.get("label_en").unwrap_or("").to_string(),
        choices,
        required: form.get("required").is_some(),
        visible_to: form
            .all("roles")
            .into_iter()
            .filter_map(|r| Role::parse(r).ok())
            .collect(),
        sensitive: form.get("sensitive").is_some(),
        position,
    };
    (input, errors)
}

fn typed_form(form: &FormData, input: &FieldInput) -> FormValues {
    FormValues {
        entity: input.entity.as_str(),
        applies_to: input.applies_to.as_str(),
        code: input.code.clone(),
        kind: input.kind.as_str(),
        label_zh: input.label_zh.clone(),
        label_en: input.label_en.clone(),
        choices: form.raw("choices").unwrap_or("").to_string(),
        required: input.required,
        sensitive: input.sensitive,
        roles: input.visible_to.iter().map(|r| r.as_str()).collect(),
        position: form.get("position").unwrap_or("0").to_string(),
    }
}

fn error_rows(errors: Vec<ValidationError>) -> Vec<(String, &'static str)> {
    errors
        .into_iter()
        .map(|e| (e.field, e.message_key))
        .collect()
}

async fn list_page(
    st: &AppState,
    user: &UiUser,
    entity: FieldEntity,
    form: FormValues,
    errors: Vec<ValidationError>,
    flash: String,
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let fields = uc::list_fields(&st.store, &user.actor, entity)
        .await
        .map_err(page_err(l))?;
    let lang = l.code();
    let tpl = ListTpl {
        ctx: user.ctx("custom_field.title"),
        entity: entity.as_str(),
        entities: FieldEntity::CODES,
        rows: fields
            .iter()
            .map(|f| Row {
                id: f.id,
                code: f.code.clone(),
                label: f.label(lang).to_string(),
                kind: f.kind.as_str(),
                applies_to: f.applies_to.as_str(),
                required: f.required,
                sensitive: f.sensitive,
                roles: f
                    .visible_to
                    .iter()
                    .map(|r| guanxi_text::text::label(l, "role", r.as_str()))
                    .collect::<Vec<_>>()
                    .join("、"),
                archived: f.archived,
                preset: f.preset.is_some(),
            })
            .collect(),
        form,
        kinds: FieldKind::CODES,
        applies: AppliesTo::CODES,
        roles: Role::CODES,
        errors: error_rows(errors),
        flash,
    };
    Ok((status, render(l, &tpl)).into_response())
}

/// The fields of one entity (`?entity=`), with the form to define one.
pub async fn list(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let l = user.locale;
    let entity = entity_of(&q, l)?;
    let flash = match q.get("saved") {
        Some("created") => guanxi_text::text::t(l, "custom_field.created").to_string(),
        Some("presets") => guanxi_text::text::count(
            l,
            "custom_field.presets_added",
            q.get("n").and_then(|n| n.parse().ok()).unwrap_or(0),
        ),
        _ => String::new(),
    };
    list_page(
        &st,
        &user,
        entity,
        blank_form(entity),
        Vec::new(),
        flash,
        StatusCode::OK,
    )
    .await
}

/// Defines a field; a bad definition re-renders the form with its problems.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let l = user.locale;
    let (input, mut errors) = parse_form(&form, None);
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        match uc::create_field(&st.store, &user.actor, &input).await {
            Ok(f) => {
                return Ok(Redirect::to(&format!(
                    "/admin/custom-fields?entity={}&saved=created",
                    f.entity.as_str()
                ))
                .into_response())
            }
            Err(e) => (status, errors) = form_refusal(l, e)?,
        }
    }
    let typed = typed_form(&form, &input);
    list_page(
        &st,
        &user,
        input.entity,
        typed,
        errors,
        String::new(),
        status,
    )
    .await
}

/// Switches on the seeds' presets not yet defined.
pub async fn presets(
    State(st): State<AppState>,
    Submitted { user, form: _ }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let n = uc::add_presets(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    Ok(Redirect::to(&format!(
        "/admin/custom-fields?entity=customer&saved=presets&n={n}"
    ))
    .into_response())
}

fn edit_page(
    user: &UiUser,
    field: FieldDefinition,
    form: FormValues,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Response {
    let tpl = EditTpl {
        ctx: user.ctx("custom_field.edit"),
        field,
        form,
        applies: AppliesTo::CODES,
        roles: Role::CODES,
        errors: error_rows(errors),
    };
    (status, render(user.locale, &tpl)).into_response()
}

/// A field's edit form.
pub async fn edit(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let f = uc::get_field(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let form = stored_form(&f);
    Ok(edit_page(&user, f, form, Vec::new(), StatusCode::OK))
}

/// Saves a field's edit form at the version read.
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let l = user.locale;
    let version = form.version(l)?;
    let f = uc::get_field(&st.store, &user.actor, id)
        .await
        .map_err(page_err(l))?;
    let (input, mut errors) = parse_form(&form, Some(&f));
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        match uc::update_field(&st.store, &user.actor, id, version, &input).await {
            Ok(f) => {
                return Ok(Redirect::to(&format!(
                    "/admin/custom-fields?entity={}",
                    f.entity.as_str()
                ))
                .into_response())
            }
            Err(e) => (status, errors) = form_refusal(l, e)?,
        }
    }
    let typed = typed_form(&form, &input);
    Ok(edit_page(&user, f, typed, errors, status))
}

/// Archives a field or restores it (`archived=1` / `0`) at the version read.
pub async fn archive(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageCustomFields)?;
    let l = user.locale;
    let version = form.version(l)?;
    let archived = form.get("archived") == Some("1");
    let f = uc::archive_field(&st.store, &user.actor, id, version, archived)
        .await
        .map_err(page_err(l))?;
    Ok(Redirect::to(&format!(
        "/admin/custom-fields?entity={}",
        f.entity.as_str()
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "custom_field/record.html")]
struct RecordTpl {
    ctx: Ctx,
    /// Where the record's own page is.
    back: String,
    /// Where the form posts.
    action: String,
    custom: Vec<super::CustomInput>,
    has_errors: bool,
}

fn record_paths(entity: FieldEntity, id: i64) -> (String, String) {
    let base = match entity {
        FieldEntity::Opportunity => format!("/opportunities/{id}"),
        _ => format!("/tickets/{id}"),
    };
    let action = format!("{base}/fields");
    (base, action)
}

async fn record_page(
    st: &AppState,
    user: &UiUser,
    entity: FieldEntity,
    id: i64,
    typed: Option<&FormData>,
    errors: &[ValidationError],
    status: StatusCode,
) -> Result<Response, UiError> {
    let l = user.locale;
    let (defs, stored) = uc::record_form_values(&st.store, &user.actor, entity, id)
        .await
        .map_err(page_err(l))?;
    let users = crate::features::customers::list::user_names(st, user).await?;
    let values_of = |d: &FieldDefinition| match typed {
        Some(form) => form
            .all(&uc::form_name(d))
            .into_iter()
            .map(str::to_string)
            .collect(),
        None => super::input_values(stored.get(&d.id)),
    };
    let (back, action) = record_paths(entity, id);
    let tpl = RecordTpl {
        ctx: user.ctx("custom_field.section"),
        back,
        action,
        custom: super::inputs(l.code(), defs.iter(), &users, &values_of, errors),
        has_errors: !errors.is_empty(),
    };
    Ok((status, render(l, &tpl)).into_response())
}

/// An opportunity's custom fields to edit.
pub async fn opportunity_fields(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    record_page(
        &st,
        &user,
        FieldEntity::Opportunity,
        id,
        None,
        &[],
        StatusCode::OK,
    )
    .await
}

/// A ticket's custom fields to edit.
pub async fn ticket_fields(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    record_page(
        &st,
        &user,
        FieldEntity::Ticket,
        id,
        None,
        &[],
        StatusCode::OK,
    )
    .await
}

async fn save_record(
    st: &AppState,
    user: UiUser,
    form: FormData,
    entity: FieldEntity,
    id: i64,
) -> Result<Response, UiError> {
    let l = user.locale;
    let (defs, _) = uc::record_form_values(&st.store, &user.actor, entity, id)
        .await
        .map_err(page_err(l))?;
    let values = uc::form_values(
        &user.actor,
        &guanxi_domain::custom_field::Catalogue { fields: defs },
        None,
        &|name| form.all(name).into_iter().map(str::to_string).collect(),
    );
    match uc::set_record_values(&st.store, &user.actor, entity, id, &values).await {
        Ok(_) => Ok(Redirect::to(&record_paths(entity, id).0).into_response()),
        Err(e) => {
            let (status, errors) = form_refusal(l, e)?;
            record_page(st, &user, entity, id, Some(&form), &errors, status).await
        }
    }
}

/// Saves an opportunity's custom fields.
pub async fn save_opportunity_fields(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    save_record(&st, user, form, FieldEntity::Opportunity, id).await
}

/// Saves a ticket's custom fields.
pub async fn save_ticket_fields(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    save_record(&st, user, form, FieldEntity::Ticket, id).await
}

/// The custom fields an opportunity's or a ticket's page shows (label and value), for the
/// reader, and whether the entity has any field the reader sees (else the page shows no
/// section).
pub async fn shown_on_record(
    st: &AppState,
    user: &UiUser,
    entity: FieldEntity,
    id: i64,
) -> Result<(Vec<super::ShownField>, bool), UiError> {
    let l = user.locale;
    let (defs, values) = uc::record_values(&st.store, &user.actor, entity, id)
        .await
        .map_err(page_err(l))?;
    let users = crate::features::customers::list::user_names(st, user).await?;
    Ok((
        super::shown_fields(defs.iter(), &values, l.code(), &users),
        !defs.is_empty(),
    ))
}
