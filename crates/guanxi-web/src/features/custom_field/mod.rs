//! Custom fields (issue #18): the admin's page of definitions and presets, the API, and what
//! every record's form and page use to show them — [`inputs`] for a form, [`shown`] for a page
//! or a list cell. Use cases: `guanxi_app::custom_field`.

pub mod api;
pub mod list;
pub mod pages;

use axum::routing::{get, post};
use guanxi_domain::custom_field::{CustomValue, FieldDefinition, FieldKind};
use guanxi_domain::ValidationError;
use serde_json::Value as Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::presets))
        .routes(routes!(api::get, api::update))
        .routes(routes!(api::archive))
        .routes(routes!(
            api::opportunity_values,
            api::set_opportunity_values
        ))
        .routes(routes!(api::ticket_values, api::set_ticket_values))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/custom-fields", get(pages::list).post(pages::create))
        .route("/admin/custom-fields/presets", post(pages::presets))
        .route(
            "/admin/custom-fields/{id}",
            get(pages::edit).post(pages::update),
        )
        .route("/admin/custom-fields/{id}/archive", post(pages::archive))
        .route(
            "/opportunities/{id}/fields",
            get(pages::opportunity_fields).post(pages::save_opportunity_fields),
        )
        .route(
            "/tickets/{id}/fields",
            get(pages::ticket_fields).post(pages::save_ticket_fields),
        )
}

/// One custom field's input on a record's form.
pub struct CustomInput {
    /// The input's name, `cf.<code>`.
    pub name: String,
    /// The element id, `f-cf-<code>`.
    pub id: String,
    /// The label in the reader's language.
    pub label: String,
    /// `text`, `number`, `date`, `url`, `select` or `multi`.
    pub kind: &'static str,
    /// The value as typed or stored.
    pub value: String,
    /// A multi-choice's chosen codes.
    pub chosen: Vec<String>,
    /// (value, label) of a select or a multi-choice.
    pub options: Vec<(String, String)>,
    /// Required.
    pub required: bool,
    /// Sensitive (the form says so beside the label).
    pub sensitive: bool,
    /// The error's message key, or empty.
    pub error: &'static str,
}

/// How a field is typed in: the input's kind (`text`, `number`, `date`, `url`, `select` or
/// `multi`) and, for a select or a multi-choice, its (value, label) options — a select's
/// first is the blank "—". The forms, the list's filters and the segment editor share it.
pub fn input_of(
    d: &FieldDefinition,
    lang: &str,
    users: &[(i64, String)],
) -> (&'static str, Vec<(String, String)>) {
    let blank = || (String::new(), "—".to_string());
    let choices = || {
        d.choices
            .iter()
            .map(|c| (c.code.clone(), d.choice_label(&c.code, lang).to_string()))
    };
    let yes_no = if lang.starts_with("zh") {
        [("true", "是"), ("false", "否")]
    } else {
        [("true", "Yes"), ("false", "No")]
    };
    match d.kind {
        FieldKind::Text => ("text", vec![]),
        FieldKind::Number | FieldKind::Money => ("number", vec![]),
        FieldKind::Date => ("date", vec![]),
        FieldKind::Link => ("url", vec![]),
        FieldKind::Choice => (
            "select",
            std::iter::once(blank()).chain(choices()).collect(),
        ),
        FieldKind::MultiChoice => ("multi", choices().collect()),
        FieldKind::Boolean => (
            "select",
            std::iter::once(blank())
                .chain(yes_no.iter().map(|(v, l)| (v.to_string(), l.to_string())))
                .collect(),
        ),
        FieldKind::User => (
            "select",
            std::iter::once(blank())
                .chain(users.iter().map(|(id, n)| (id.to_string(), n.clone())))
                .collect(),
        ),
    }
}

/// The inputs of `defs` with their values (`values_of`: the stored or typed values of one
/// field) and the errors under `custom.<code>`. `users` are the choices of a user field.
pub fn inputs<'a>(
    lang: &str,
    defs: impl Iterator<Item = &'a FieldDefinition>,
    users: &[(i64, String)],
    values_of: &dyn Fn(&FieldDefinition) -> Vec<String>,
    errors: &[ValidationError],
) -> Vec<CustomInput> {
    defs.map(|d| {
        let values = values_of(d);
        let (kind, options) = input_of(d, lang, users);
        let path = format!("custom.{}", d.code);
        CustomInput {
            name: guanxi_app::custom_field::form_name(d),
            id: format!("f-cf-{}", d.code),
            label: d.label(lang).to_string(),
            kind,
            value: values.first().cloned().unwrap_or_default(),
            chosen: values,
            options,
            required: d.required,
            sensitive: d.sensitive,
            error: errors
                .iter()
                .find(|e| e.field == path)
                .map(|e| e.message_key)
                .unwrap_or(""),
        }
    })
    .collect()
}

/// A new opportunity's or ticket's custom fields on its form: the fields the user may write,
/// their inputs (empty, or as typed with their problems under `custom.<code>`), and what the
/// form sent as the use case's `custom` object.
pub struct NewRecordFields {
    defs: Vec<FieldDefinition>,
}

impl NewRecordFields {
    /// The fields of `entity` the user may write.
    pub async fn of(
        st: &AppState,
        user: &crate::ui::session::UiUser,
        entity: guanxi_domain::custom_field::FieldEntity,
    ) -> Result<Self, crate::ui::session::UiError> {
        let defs = guanxi_app::custom_field::new_record_fields(&st.store, &user.actor, entity)
            .await
            .map_err(crate::ui::session::page_err(user.locale))?;
        Ok(Self { defs })
    }

    /// The form's values as the use case reads them (every field, so an empty required one
    /// is named).
    pub fn sent(
        &self,
        user: &crate::ui::session::UiUser,
        form: &crate::ui::session::FormData,
    ) -> std::collections::BTreeMap<String, Json> {
        guanxi_app::custom_field::form_values(
            &user.actor,
            &guanxi_domain::custom_field::Catalogue {
                fields: self.defs.clone(),
            },
            None,
            &|name| form.all(name).into_iter().map(str::to_string).collect(),
        )
    }

    /// The inputs: empty, or as `typed` with `errors`.
    pub async fn inputs(
        &self,
        st: &AppState,
        user: &crate::ui::session::UiUser,
        typed: Option<&crate::ui::session::FormData>,
        errors: &[ValidationError],
    ) -> Result<Vec<CustomInput>, crate::ui::session::UiError> {
        if self.defs.is_empty() {
            return Ok(Vec::new());
        }
        let users = crate::features::customers::list::user_names(st, user).await?;
        let values_of = |d: &FieldDefinition| match typed {
            Some(form) => form
                .all(&guanxi_app::custom_field::form_name(d))
                .into_iter()
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        Ok(inputs(
            user.locale.code(),
            self.defs.iter(),
            &users,
            &values_of,
            errors,
        ))
    }
}

/// A stored value as a form shows it (a multi-choice as its codes).
pub fn input_values(v: Option<&CustomValue>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(CustomValue::Choices(c)) => c.clone(),
        Some(other) => vec![other.to_input()],
    }
}

/// A value as a page or a list cell shows it: a choice by its label, yes/no, a user by name,
/// money with its sign; a masked value as it came.
pub fn shown(def: &FieldDefinition, v: &Json, lang: &str, users: &[(i64, String)]) -> String {
    let zh = lang.starts_with("zh");
    match (def.kind, v) {
        (_, Json::String(s)) if s == guanxi_app::custom_field::MASK => s.clone(),
        (FieldKind::Choice, Json::String(s)) => def.choice_label(s, lang).to_string(),
        (FieldKind::MultiChoice, Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(|c| def.choice_label(c, lang))
            .collect::<Vec<_>>()
            .join(if zh { "、" } else { ", " }),
        (FieldKind::Boolean, Json::Bool(b)) => match (b, zh) {
            (true, true) => "是".into(),
            (false, true) => "否".into(),
            (true, false) => "Yes".into(),
            (false, false) => "No".into(),
        },
        (FieldKind::User, Json::Number(n)) => {
            let id = n.as_i64().unwrap_or_default();
            users
                .iter()
                .find(|(u, _)| *u == id)
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| format!("#{id}"))
        }
        (FieldKind::Money, Json::String(s)) => guanxi_domain::money::parse_money(s)
            .map(|m| guanxi_text::format::money(m, "CNY"))
            .unwrap_or_else(|_| s.clone()),
        (_, Json::String(s)) => s.clone(),
        (_, Json::Number(n)) => n.to_string(),
        (_, other) => other.to_string(),
    }
}

/// One custom field's row on a record's page.
pub struct ShownField {
    /// The label.
    pub label: String,
    /// The value as shown.
    pub value: String,
    /// A link field's URL (shown as a link).
    pub link: Option<String>,
    /// Masked for this reader.
    pub masked: bool,
}

/// The rows a record's page shows: every field the reader sees that has a value, in order.
pub fn shown_fields<'a>(
    defs: impl Iterator<Item = &'a FieldDefinition>,
    values: &std::collections::BTreeMap<String, Json>,
    lang: &str,
    users: &[(i64, String)],
) -> Vec<ShownField> {
    defs.filter_map(|d| {
        let v = values.get(&d.code)?;
        let masked = v.as_str() == Some(guanxi_app::custom_field::MASK);
        Some(ShownField {
            label: d.label(lang).to_string(),
            value: shown(d, v, lang, users),
            link: (d.kind == FieldKind::Link && !masked)
                .then(|| v.as_str().map(str::to_string))
                .flatten(),
            masked,
        })
    })
    .collect()
}
