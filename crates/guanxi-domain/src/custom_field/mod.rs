//! Custom fields (自定义字段): what an admin adds to customers, companies, opportunities and
//! tickets when the built-in file lacks something the business tracks. A [`FieldDefinition`]
//! names the field (a stable code for the API and imports, zh/en labels), its [`FieldKind`],
//! its choices, whether it is required, which roles see it and whether it is sensitive (masked
//! and its reads audited, like an ID number). [`value`] parses what people type into a
//! [`CustomValue`] and says how the store keeps it; [`presets`] ships the seeds' customer-file
//! fields ready to switch on.

pub mod presets;
pub mod value;

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::role::{Actor, Permission, Role};
use crate::vocabulary::CustomerKind;

pub use value::{CustomValue, StoredCell};

crate::vocabulary!(
    /// What a custom field is attached to. Companies are customers of kind company, so a
    /// customer field says which kinds it applies to ([`AppliesTo`]).
    FieldEntity { Customer => "customer", Opportunity => "opportunity", Ticket => "ticket" }
);

crate::vocabulary!(
    /// Which customers a customer field belongs on: every customer, people only or companies
    /// only (a company's "reputation" means nothing on a person).
    AppliesTo { All => "all", Individual => "individual", Company => "company" }
);

crate::vocabulary!(
    /// The kind of value a custom field holds; decides its input, its filters and its checks.
    FieldKind {
        Text => "text",
        Number => "number",
        Money => "money",
        Date => "date",
        Choice => "choice",
        MultiChoice => "multi_choice",
        Boolean => "boolean",
        User => "user",
        Link => "link",
    }
);

/// Most custom fields of one entity (live and archived): each is a form row and a filter.
pub const MAX_FIELDS: usize = 200;
/// Most choices of one choice field.
pub const MAX_CHOICES: usize = 100;

/// One option of a choice or multi-choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChoice {
    /// Stable code stored and sent over the API (`gold`, `a_plus`).
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// A field definition as an admin submits it (form or API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldInput {
    /// What the field is on.
    pub entity: FieldEntity,
    /// For customer fields: every customer, people or companies (`all` otherwise).
    #[serde(default = "all")]
    pub applies_to: AppliesTo,
    /// Stable code: lower-case letters, digits and `_`, starting with a letter, 2–40 long.
    /// Fixed once created (the API, imports and segment rules name the field by it).
    pub code: String,
    /// The kind of value (fixed once created).
    pub kind: FieldKind,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// The options of a choice or multi-choice field.
    #[serde(default)]
    pub choices: Vec<FieldChoice>,
    /// Whether a record must have a value when it is created or edited.
    #[serde(default)]
    pub required: bool,
    /// The roles that see and edit the field; empty: every role.
    #[serde(default)]
    pub visible_to: Vec<Role>,
    /// Masked for readers without the sensitive-data permission, who may not change it
    /// either; each unmasked read is audited.
    #[serde(default)]
    pub sensitive: bool,
    /// Place on forms and pages, smallest first (−100,000 to 100,000).
    #[serde(default)]
    #[schema(minimum = -100_000, maximum = 100_000)]
    pub position: i64,
}

fn all() -> AppliesTo {
    AppliesTo::All
}

/// A stored field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldDefinition {
    /// Id.
    pub id: i64,
    /// What the field is on.
    pub entity: FieldEntity,
    /// Which customers (customer fields).
    pub applies_to: AppliesTo,
    /// Stable code.
    pub code: String,
    /// Kind of value.
    pub kind: FieldKind,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Options of a choice field.
    pub choices: Vec<FieldChoice>,
    /// Required on create and edit.
    pub required: bool,
    /// Roles that see it; empty: everyone.
    pub visible_to: Vec<Role>,
    /// Masked and audited.
    pub sensitive: bool,
    /// Order on forms.
    pub position: i64,
    /// The shipped preset it was made from, if any.
    pub preset: Option<String>,
    /// Archived fields keep their values but leave forms, pages, filters and imports.
    pub archived: bool,
    /// Optimistic-locking version.
    pub version: i64,
}

impl FieldInput {
    /// Checks the definition: code shape, labels, choices (unique codes, only on choice
    /// kinds), `applies_to` only on customer fields. Returns the trimmed input.
    pub fn validate(&self) -> Result<FieldInput, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let code = self.code.trim().to_string();
        if let Err(c) = check_code(&code) {
            e.push("code", c);
        }
        let label_zh = self.label_zh.trim().to_string();
        let label_en = self.label_en.trim().to_string();
        for (f, v) in [("label_zh", &label_zh), ("label_en", &label_en)] {
            if v.is_empty() {
                e.push(f, "required");
            } else if v.chars().count() > 60 {
                e.push(f, "too_long");
            }
        }
        if self.entity != FieldEntity::Customer && self.applies_to != AppliesTo::All {
            e.push("applies_to", "only_for_customers");
        }
        let choices: Vec<FieldChoice> = self
            .choices
            .iter()
            .map(|c| FieldChoice {
                code: c.code.trim().to_string(),
                label_zh: c.label_zh.trim().to_string(),
                label_en: c.label_en.trim().to_string(),
            })
            .collect();
        if self.kind.has_choices() {
            if choices.is_empty() {
                e.push("choices", "required");
            } else if choices.len() > MAX_CHOICES {
                e.push("choices", "too_many_values");
            }
            for (i, c) in choices.iter().enumerate() {
                if let Err(code) = check_choice_code(&c.code) {
                    e.push(format!("choices[{i}].code"), code);
                } else if choices[..i].iter().any(|o| o.code == c.code) {
                    e.push(format!("choices[{i}].code"), "duplicate");
                }
                for (f, v) in [("label_zh", &c.label_zh), ("label_en", &c.label_en)] {
                    if v.is_empty() {
                        e.push(format!("choices[{i}].{f}"), "required");
                    } else if v.chars().count() > 60 {
                        e.push(format!("choices[{i}].{f}"), "too_long");
                    }
                }
            }
        } else if !choices.is_empty() {
            e.push("choices", "only_for_choice_fields");
        }
        if !(-100_000..=100_000).contains(&self.position) {
            e.push("position", "out_of_range");
        }
        let mut visible_to = self.visible_to.clone();
        visible_to.sort();
        visible_to.dedup();
        e.finish(|| FieldInput {
            code,
            label_zh,
            label_en,
            choices,
            visible_to,
            ..self.clone()
        })
    }
}

/// A field code: `[a-z][a-z0-9_]{1,39}`. It is the field's name in the API, in import headers
/// and in segment rules (`cf.<code>`), so it is kept plain.
pub fn check_code(code: &str) -> Result<(), &'static str> {
    let ok_shape = code.len() >= 2
        && code.len() <= 40
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok_shape {
        Ok(())
    } else {
        Err("invalid_field_code")
    }
}

/// A choice code: 1–40 of lower-case letters, digits, `_` and `-`.
fn check_choice_code(code: &str) -> Result<(), &'static str> {
    if code.is_empty() {
        return Err("required");
    }
    let ok = code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("invalid_code")
    }
}

impl FieldKind {
    /// Whether the field picks from [`FieldDefinition::choices`].
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Choice | FieldKind::MultiChoice)
    }

    /// The segment and list operators a field of this kind takes (i18n `segop.<code>`).
    pub fn ops(self) -> &'static [&'static str] {
        match self {
            FieldKind::Text | FieldKind::Link => {
                &["eq", "ne", "in", "contains", "empty", "not_empty"]
            }
            FieldKind::Number | FieldKind::Money | FieldKind::Date => {
                &["eq", "gte", "lte", "empty", "not_empty"]
            }
            FieldKind::Choice => &["eq", "ne", "in", "empty", "not_empty"],
            FieldKind::MultiChoice => &["has", "not_has", "empty", "not_empty"],
            FieldKind::Boolean => &["eq", "empty", "not_empty"],
            FieldKind::User => &["eq", "ne", "empty", "not_empty"],
        }
    }
}

impl FieldDefinition {
    /// The label in the reader's language (`zh…` → Chinese, otherwise English).
    pub fn label(&self, lang: &str) -> &str {
        if lang.starts_with("zh") {
            &self.label_zh
        } else {
            &self.label_en
        }
    }

    /// Whether `actor` sees the field at all: not archived, and their role is listed (or
    /// nobody is).
    pub fn visible_to(&self, actor: &Actor) -> bool {
        !self.archived && (self.visible_to.is_empty() || self.visible_to.contains(&actor.role))
    }

    /// Whether `actor` sees the field's values unmasked (and may change them).
    pub fn readable_by(&self, actor: &Actor) -> bool {
        self.visible_to(actor) && (!self.sensitive || actor.can(Permission::ViewSensitive))
    }

    /// Whether the field belongs on a customer of this kind.
    pub fn applies_to_kind(&self, kind: CustomerKind) -> bool {
        match self.applies_to {
            AppliesTo::All => true,
            AppliesTo::Individual => kind == CustomerKind::Individual,
            AppliesTo::Company => kind == CustomerKind::Company,
        }
    }

    /// The label of one of its choices in the reader's language (the code when unknown).
    pub fn choice_label<'a>(&'a self, code: &'a str, lang: &str) -> &'a str {
        self.choices
            .iter()
            .find(|c| c.code == code)
            .map(|c| {
                if lang.starts_with("zh") {
                    c.label_zh.as_str()
                } else {
                    c.label_en.as_str()
                }
            })
            .unwrap_or(code)
    }

    /// What an update of a definition may change: labels, choices (existing codes kept),
    /// required, visibility, sensitivity, place. The entity, code and kind are fixed: values
    /// are stored by them.
    pub fn check_update(&self, input: &FieldInput) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if input.entity != self.entity {
            e.push("entity", "immutable");
        }
        if input.code.trim() != self.code {
            e.push("code", "immutable");
        }
        if input.kind != self.kind {
            e.push("kind", "immutable");
        }
        for c in &self.choices {
            if !input.choices.iter().any(|n| n.code.trim() == c.code) {
                e.push("choices", "choice_in_use");
                break;
            }
        }
        e.finish(|| ())
    }
}

/// The custom fields of one entity, as loaded for a request: what forms, pages, filters,
/// imports and the API consult.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Every definition of the entity, archived ones included, by position.
    pub fields: Vec<FieldDefinition>,
}

impl Catalogue {
    /// The live field with this code.
    pub fn by_code(&self, code: &str) -> Option<&FieldDefinition> {
        self.fields.iter().find(|f| f.code == code && !f.archived)
    }

    /// The fields `actor` sees, in order.
    pub fn visible<'a>(&'a self, actor: &'a Actor) -> impl Iterator<Item = &'a FieldDefinition> {
        self.fields.iter().filter(move |f| f.visible_to(actor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: FieldKind) -> FieldInput {
        FieldInput {
            entity: FieldEntity::Customer,
            applies_to: AppliesTo::All,
            code: "level".into(),
            kind,
            label_zh: "等级".into(),
            label_en: "Level".into(),
            choices: vec![],
            required: false,
            visible_to: vec![],
            sensitive: false,
            position: 0,
        }
    }

    fn codes(e: ValidationErrors) -> Vec<(String, String)> {
        e.0.into_iter().map(|x| (x.field, x.code)).collect()
    }

    #[test]
    fn codes_are_plain_identifiers() {
        assert!(check_code("annual_income").is_ok());
        for bad in [
            "",
            "a",
            "1abc",
            "Level",
            "lev el",
            "lév",
            "a-b",
            &"x".repeat(41),
        ] {
            assert_eq!(check_code(bad), Err("invalid_field_code"), "{bad}");
        }
    }

    #[test]
    fn choice_fields_need_unique_labelled_choices() {
        let mut i = input(FieldKind::Choice);
        assert_eq!(
            codes(i.validate().unwrap_err()),
            [("choices".into(), "required".into())]
        );
        let c = |code: &str, zh: &str| FieldChoice {
            code: code.into(),
            label_zh: zh.into(),
            label_en: "x".into(),
        };
        i.choices = vec![
            c("gold", "金"),
            c("gold", "金2"),
            c("Bad", ""),
            c("ok", "好"),
        ];
        assert_eq!(
            codes(i.validate().unwrap_err()),
            [
                ("choices[1].code".into(), "duplicate".into()),
                ("choices[2].code".into(), "invalid_code".into()),
                ("choices[2].label_zh".into(), "required".into()),
            ]
        );
        let mut t = input(FieldKind::Text);
        t.choices = vec![c("a", "a")];
        assert_eq!(
            codes(t.validate().unwrap_err()),
            [("choices".into(), "only_for_choice_fields".into())]
        );
    }

    /// Regression (API fuzzing): the most negative position panicked on `abs()`.
    #[test]
    fn a_position_out_of_range_is_a_field_error() {
        let mut i = input(FieldKind::Text);
        for p in [i64::MIN, i64::MAX, 100_001] {
            i.position = p;
            assert_eq!(
                codes(i.validate().unwrap_err()),
                [("position".into(), "out_of_range".into())]
            );
        }
    }

    #[test]
    fn applies_to_is_for_customer_fields_only() {
        let mut i = input(FieldKind::Text);
        i.entity = FieldEntity::Ticket;
        i.applies_to = AppliesTo::Company;
        assert_eq!(
            codes(i.validate().unwrap_err()),
            [("applies_to".into(), "only_for_customers".into())]
        );
    }

    #[test]
    fn sensitive_fields_need_the_permission_and_hidden_ones_stay_hidden() {
        let mut d = FieldDefinition {
            id: 1,
            entity: FieldEntity::Customer,
            applies_to: AppliesTo::All,
            code: "health".into(),
            kind: FieldKind::Text,
            label_zh: "健康".into(),
            label_en: "Health".into(),
            choices: vec![],
            required: false,
            visible_to: vec![],
            sensitive: true,
            position: 0,
            preset: None,
            archived: false,
            version: 1,
        };
        let actor = |id, role| Actor {
            id,
            name: "u".into(),
            role,
            team_id: None,
            scope: crate::role::RecordScope::All,
        };
        let manager = actor(1, Role::Manager);
        let sales = actor(2, Role::Sales);
        assert!(d.readable_by(&manager));
        assert!(d.visible_to(&sales) && !d.readable_by(&sales));
        d.visible_to = vec![Role::Manager];
        assert!(!d.visible_to(&sales));
        d.archived = true;
        assert!(!d.visible_to(&manager));
    }
}
