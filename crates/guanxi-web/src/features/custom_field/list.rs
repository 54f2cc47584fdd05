//! Custom fields on a list page (customers, deals, tickets): the filters its query asks for
//! (`cf.<code>=<value>`; the API's `cf` object is read by `api::list_filters`), the filter
//! inputs, and a column per field.

use std::collections::BTreeMap;

use guanxi_domain::custom_field::{FieldDefinition, FieldEntity};
use guanxi_domain::segment::CustomTest;
use serde_json::Value as Json;

use crate::state::AppState;
use crate::ui::session::{page_err, Ctx, FormData, UiError, UiUser};

/// A custom field's filter on a list (`cf.<code>`).
pub struct CustomFilterView {
    /// The input's name, `cf.<code>`.
    pub name: String,
    /// The field's label in the reader's language.
    pub label: String,
    /// (value, label) for a select, "any" first; empty for a text input.
    pub options: Vec<(String, String)>,
    /// The value the query holds.
    pub value: String,
}

/// The `cf.<code>=<value>` pairs of a page's query, as `(code, value)`.
pub fn page_pairs(q: &FormData) -> Vec<(String, String)> {
    q.pairs()
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("cf.")?.to_string(), v.clone())))
        .collect()
}

/// A list page's custom fields: those the reader sees on one entity, and the users a user
/// field names (the page's own directory, read once for the page).
pub struct ListFields {
    entity: FieldEntity,
    /// The fields, in order.
    pub defs: Vec<FieldDefinition>,
    users: Vec<(i64, String)>,
}

impl ListFields {
    /// The fields of `entity` the user sees; `users`: the active users as (id, name).
    pub async fn of(
        st: &AppState,
        user: &UiUser,
        entity: FieldEntity,
        users: &[(i64, String)],
    ) -> Result<Self, UiError> {
        let defs = guanxi_app::custom_field::visible_fields(&st.store, &user.actor, entity)
            .await
            .map_err(page_err(user.locale))?;
        Ok(Self {
            entity,
            defs,
            users: users.to_vec(),
        })
    }

    /// The filters the page's query asks for (a bad one: the page answers 400 naming it).
    pub async fn filters(
        &self,
        st: &AppState,
        user: &UiUser,
        q: &FormData,
    ) -> Result<Vec<(String, CustomTest)>, UiError> {
        guanxi_app::custom_field::list_filters(&st.store, &user.actor, self.entity, &page_pairs(q))
            .await
            .map_err(page_err(user.locale))
    }

    /// A filter input per field the user may filter on (sensitive ones only with the
    /// permission), holding the query's value.
    pub fn inputs(&self, user: &UiUser, ctx: &Ctx, q: &FormData) -> Vec<CustomFilterView> {
        let lang = user.locale.code();
        self.defs
            .iter()
            .filter(|d| d.readable_by(&user.actor))
            .map(|d| {
                let name = guanxi_app::custom_field::form_name(d);
                let (_, mut options) = super::input_of(d, lang, &self.users);
                if !options.is_empty() {
                    options.retain(|o| !o.0.is_empty());
                    options.insert(0, (String::new(), ctx.t("filter.any").to_string()));
                }
                CustomFilterView {
                    label: d.label(lang).to_string(),
                    value: q.get(&name).unwrap_or("").to_string(),
                    name,
                    options,
                }
            })
            .collect()
    }

    /// The column headings, one per field.
    pub fn headings(&self, user: &UiUser) -> Vec<String> {
        let lang = user.locale.code();
        self.defs
            .iter()
            .map(|d| d.label(lang).to_string())
            .collect()
    }

    /// One record's cells, one per field (empty where it holds no value).
    pub fn cells(&self, user: &UiUser, values: &BTreeMap<String, Json>) -> Vec<String> {
        self.defs
            .iter()
            .map(|d| self.cell(user, d, values))
            .collect()
    }

    /// One field's cell of a record.
    pub fn cell(
        &self,
        user: &UiUser,
        d: &FieldDefinition,
        values: &BTreeMap<String, Json>,
    ) -> String {
        values
            .get(&d.code)
            .map(|v| super::shown(d, v, user.locale.code(), &self.users))
            .unwrap_or_default()
    }
}
