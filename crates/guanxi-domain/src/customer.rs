//! The customer file's core record and the rules for creating and changing it. Input arrives as
//! [`CustomerFields`] (what a client may send) and leaves as [`ValidCustomer`] (what may be
//! stored). Updates are patches merged onto the stored fields and then validated as a whole, so a
//! patch can never produce a record that a create would have refused.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::contact::ContactValue;
use crate::error::ValidationErrors;
use crate::name::CustomerName;
use crate::profile::{check_text, Anniversary, CompanyProfile, IndividualProfile};
use crate::provenance::Provenance;
use crate::vocabulary::{ContactKind, CustomerKind, Gender, LifecycleStage};

/// Most tags on one customer.
pub const MAX_TAGS: usize = 50;

/// The mutable fields of a customer as a client sends them (create) or as stored (before a patch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerFields {
    /// Person or company.
    pub kind: CustomerKind,
    /// Name as written (Chinese, English, or both).
    pub name: String,
    /// Gender (individuals).
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Birthday, solar or lunar (individuals).
    #[serde(default)]
    pub birthday: Option<Anniversary>,
    /// National ID / passport number. Sensitive: masked for roles without permission.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Province / state.
    #[serde(default)]
    pub province: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// The customer's own time zone (IANA name, e.g. `America/New_York`) when it is not the
    /// shop's: marketing respects quiet hours where they are.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Current employer (individuals).
    #[serde(default)]
    pub employer: Option<String>,
    /// Current job title (individuals).
    #[serde(default)]
    pub job_title: Option<String>,
    /// Industry (companies; the employer's industry for individuals).
    #[serde(default)]
    pub industry: Option<String>,
    /// Lifecycle stage; defaults to `prospect`.
    #[serde(default)]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Owning user id; defaults to the creator.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where this customer came from.
    #[serde(default)]
    pub source: Option<Provenance>,
    /// Extended individual profile.
    #[serde(default, deserialize_with = "object_or_null")]
    pub profile: Option<IndividualProfile>,
    /// Extended company profile.
    #[serde(default, deserialize_with = "object_or_null")]
    pub company: Option<CompanyProfile>,
    /// Contact points to create with the customer (create only; stored records carry theirs
    /// separately, so this is empty when read back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_points: Vec<NewContactPoint>,
    /// Create even though a customer you can see already has this mobile, email, WeChat or ID
    /// number (create only; without it such a create answers 409 with the candidates).
    #[serde(default, skip_serializing)]
    pub allow_duplicate: bool,
    /// Custom-field values by field code (create only): text, numbers, `"1234.50"` for money,
    /// `"2026-05-01"` for dates, a code for a choice, an array of codes for a multi-choice,
    /// `true`/`false`, a user id. `GET /api/v1/custom-fields?entity=customer` lists the fields.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A customer that passed validation, with derived name renderings.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCustomer {
    /// The fields, trimmed and normalised.
    pub fields: CustomerFields,
    /// Parsed name with pinyin.
    pub name: CustomerName,
    /// Normalised ID number (upper-case, no spaces).
    pub id_number: Option<String>,
    /// Lifecycle stage with its default applied.
    pub lifecycle_stage: LifecycleStage,
    /// Provenance with collector and time filled in.
    pub source: Provenance,
    /// Validated contact points to create with it.
    pub contact_points: Vec<ValidContactPoint>,
    /// Custom-field values an import checked for it, as stored, by field id (empty unless an
    /// import set them: other writers pass their values beside the customer).
    pub custom: Vec<(i64, Vec<crate::custom_field::StoredCell>)>,
}

impl ValidCustomer {
    /// The values that identify a person whoever types them: (what, input field, normalised
    /// value) for the ID number and each mobile or phone (compared as one kind: a number is a
    /// number), email and WeChat id. Duplicate warnings compare these and nothing else.
    pub fn identity_keys(&self) -> Vec<(&'static str, String, String)> {
        let mut keys = Vec::new();
        if let Some(id) = &self.id_number {
            keys.push(("id_number", "id_number".to_string(), id.clone()));
        }
        for (i, cp) in self.contact_points.iter().enumerate() {
            let what = match cp.kind {
                ContactKind::Mobile | ContactKind::Phone => "mobile",
                ContactKind::Email => "email",
                ContactKind::Wechat => "wechat",
                ContactKind::Qq | ContactKind::Address => continue,
            };
            keys.push((
                what,
                format!("contact_points[{i}].value"),
                cp.value.normalized.clone(),
            ));
        }
        if let Some(k) = name_company_key(
            self.fields.kind,
            self.name.as_str(),
            self.fields.employer.as_deref(),
        ) {
            keys.push(("name_company", "name".to_string(), k));
        }
        keys
    }
}

/// The key under which two records are the same person or firm by name: a company by its
/// name, a person by their name together with their employer ("name + company" — 王伟 alone is
/// far too common). Surrounding spaces do not count, nor does the case of the employer; the
/// name is compared as written (it is looked up by its index). `None` for a person without an
/// employer.
pub fn name_company_key(kind: CustomerKind, name: &str, employer: Option<&str>) -> Option<String> {
    let name = name.trim();
    match kind {
        CustomerKind::Company => Some(format!("company|{name}")),
        CustomerKind::Individual => employer
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .map(|e| format!("individual|{name}|{e}")),
    }
}

/// Trims a text field and turns an empty one into `None`.
pub(crate) fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Checks a Chinese resident ID (18 characters, ISO 7064 MOD 11-2 check digit); other documents
/// (passports, HK/Macau/Taiwan permits) are accepted as 5–32 letters and digits.
pub fn check_id_number(raw: &str) -> Result<String, &'static str> {
    let v: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let b = v.as_bytes();
    let prc_shape = b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X');
    if prc_shape {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: &[u8; 11] = b"10X98765432";
        let sum: u32 = b[..17]
            .iter()
            .zip(W)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        return if CHECK[(sum % 11) as usize] == b[17] {
            Ok(v)
        } else {
            Err("invalid_id_number")
        };
    }
    if (5..=32).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(v)
    } else {
        Err("invalid_id_number")
    }
}

/// Normalises tags: trimmed, 1–50 characters, deduplicated, order kept.
pub fn normalize_tags(errs: &mut ValidationErrors, tags: &[String]) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errs.push("tags", "too_many");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 50 || t.chars().any(char::is_control) {
            errs.push(format!("tags[{i}]"), "invalid_tag");
        } else if !out.iter().any(|x| x == t) {
            out.push(t.to_string());
        }
    }
    out
}

impl CustomerFields {
    /// These fields with an imported row's values laid over them: what the row has overwrites,
    /// what it leaves empty is kept, tags are added to, and the kind, owner and provenance of
    /// the existing record stay (an import does not silently move a customer to another owner).
    /// It is what `guanxi import --on-duplicate update` writes.
    pub fn overlaid_with(self, row: &CustomerFields) -> CustomerFields {
        self.laid_with(row, &|_| true)
    }

    /// The row's values only where this record has none: an import that must not replace
    /// what a colleague already entered ("fill empty only"). Tags are added, never removed.
    pub fn filled_with(self, row: &CustomerFields) -> CustomerFields {
        self.laid_with(row, &|_| false)
    }

    /// One field list for both ways an import lays a row over a record, field by field: where
    /// `overwrite(field)` holds, every value the row has; elsewhere only what the record lacks.
    pub fn laid_with(
        mut self,
        row: &CustomerFields,
        overwrite: &dyn Fn(&str) -> bool,
    ) -> CustomerFields {
        let name = if overwrite("name") {
            !row.name.trim().is_empty()
        } else {
            self.name.trim().is_empty()
        };
        if name {
            self.name = row.name.clone();
        }
        macro_rules! lay {
            ($($field:ident),*) => { $(
                let over = overwrite(stringify!($field));
                if (over && row.$field.is_some()) || (!over && self.$field.is_none()) {
                    self.$field = row.$field.clone();
                }
            )* };
        }
        lay!(
            gender,
            birthday,
            id_number,
            province,
            city,
            address,
            time_zone,
            employer,
            job_title,
            industry,
            lifecycle_stage,
            profile,
            company
        );
        for t in &row.tags {
            if !self.tags.contains(t) {
                self.tags.push(t.clone());
            }
        }
        self
    }

    /// Validates everything, collecting all problems. `actor` and `now` fill provenance defaults.
    pub fn validate(
        mut self,
        actor: i64,
        now: DateTime<Utc>,
    ) -> Result<ValidCustomer, ValidationErrors> {
        let today: NaiveDate = now.date_naive();
        let mut e = ValidationErrors::new();
        let name = e.field("name", CustomerName::parse(&self.name));
        let id_number = match trimmed(&self.id_number) {
            Some(v) => e.field("id_number", check_id_number(&v)),
            None => None,
        };
        for (field, v, max) in [
            ("province", &self.province, 100),
            ("city", &self.city, 100),
            ("address", &self.address, 500),
            ("employer", &self.employer, 200),
            ("job_title", &self.job_title, 200),
            ("industry", &self.industry, 100),
        ] {
            check_text(&mut e, field, v.as_deref(), max);
        }
        if let Some(b) = &self.birthday {
            e.field("birthday", b.validate(today));
        }
        self.time_zone = match trimmed(&self.time_zone) {
            Some(z) => e.field("time_zone", crate::time_zone::check(&z)),
            None => None,
        };
        if self.owner_id.is_some_and(|o| o <= 0) {
            e.push("owner_id", "invalid_reference");
        }
        self.tags = normalize_tags(&mut e, &self.tags);
        match self.kind {
            CustomerKind::Individual => {
                if self.company.is_some() {
                    e.push("company", "not_for_individual");
                }
                if let Some(p) = &self.profile {
                    e.take("profile", p.validate(today));
                }
            }
            CustomerKind::Company => {
                if self.profile.is_some() {
                    e.push("profile", "not_for_company");
                }
                for (field, set) in [
                    ("gender", self.gender.is_some()),
                    ("birthday", self.birthday.is_some()),
                ] {
                    if set {
                        e.push(field, "not_for_company");
                    }
                }
                if let Some(c) = &self.company {
                    e.take("company", c.validate(today));
                }
            }
        }
        let source = match self.source.clone() {
            Some(p) => e.field("source.collected_at", p.completed(actor, now)),
            None => Some(Provenance::manual(actor, now)),
        };
        for f in [
            &mut self.province,
            &mut self.city,
            &mut self.address,
            &mut self.employer,
            &mut self.job_title,
            &mut self.industry,
        ] {
            *f = trimmed(f);
        }
        let lifecycle_stage = self.lifecycle_stage.unwrap_or(LifecycleStage::Prospect);
        let mut contact_points = Vec::new();
        for (i, cp) in std::mem::take(&mut self.contact_points)
            .into_iter()
            .enumerate()
        {
            if let Some(v) = e.take(&format!("contact_points[{i}]"), cp.validate(actor, now)) {
                contact_points.push(v);
            }
        }
        if contact_points.len() > MAX_TAGS {
            e.push("contact_points", "too_many");
        }
        match (name, source, e.is_empty()) {
            (Some(name), Some(source), true) => {
                self.name = name.as_str().to_string();
                self.id_number = id_number.clone();
                self.lifecycle_stage = Some(lifecycle_stage);
                self.source = Some(source.clone());
                Ok(ValidCustomer {
                    fields: self,
                    name,
                    id_number,
                    lifecycle_stage,
                    source,
                    contact_points,
                    custom: Vec::new(),
                })
            }
            _ => Err(e),
        }
    }
}

/// Deserialises a field that may be absent (leave unchanged), null (clear) or a value (set).
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON object or `null`, and nothing else: serde's derived struct decoding also takes an
/// array of the fields in order (`[null, null]`), which the API's schema does not allow and no
/// client means. Used for the profile blocks, where such an array would silently clear data.
pub fn object_or_null<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: serde::de::DeserializeOwned,
    D: Deserializer<'de>,
{
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v)
            .map(Some)
            .map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected an object or null")),
    }
}

/// [`object_or_null`] for a patch field, where absent and `null` differ.
pub fn patch_object<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::de::DeserializeOwned,
    D: Deserializer<'de>,
{
    object_or_null(d).map(Some)
}

/// A partial update. Absent fields stay as they are; `null` clears a clearable field.
/// `version` is required: it is the optimistic lock that turns a lost update into a 409.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    /// The version the client last read.
    pub version: i64,
    /// Custom-field values to set, by code (`null` clears one; absent ones stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// Gender (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    /// Birthday (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Anniversary>)]
    pub birthday: Option<Option<Anniversary>>,
    /// ID number (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    /// Province (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<String>>,
    /// City (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    /// Address (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// Time zone, IANA name (null: the shop's).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    /// Employer (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub employer: Option<Option<String>>,
    /// Job title (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub job_title: Option<Option<String>>,
    /// Industry (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    /// Lifecycle stage.
    #[serde(default)]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// New owner.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Replaces all tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Replaces the extended individual profile (null clears).
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<IndividualProfile>)]
    pub profile: Option<Option<IndividualProfile>>,
    /// Replaces the extended company profile (null clears).
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<CompanyProfile>)]
    pub company: Option<Option<CompanyProfile>>,
}

impl CustomerPatch {
    /// Applies the patch to the stored fields; the caller validates the result as a whole.
    pub fn apply(self, mut f: CustomerFields) -> CustomerFields {
        if let Some(v) = self.name {
            f.name = v;
        }
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { f.$field = v; })* };
        }
        set!(
            gender, birthday, id_number, province, city, address, time_zone, employer, job_title,
            industry, profile, company
        );
        if let Some(v) = self.lifecycle_stage {
            f.lifecycle_stage = Some(v);
        }
        if let Some(v) = self.owner_id {
            f.owner_id = Some(v);
        }
        if let Some(v) = self.tags {
            f.tags = v;
        }
        f
    }

    /// True when the patch changes who owns the record (needs the reassign permission).
    pub fn changes_owner(&self) -> bool {
        self.owner_id.is_some()
    }
}

/// A contact point as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactPoint {
    /// Kind of contact point.
    pub kind: ContactKind,
    /// The value as the customer gave it.
    pub value: String,
    /// Label ("work", "home").
    #[serde(default)]
    pub label: Option<String>,
    /// Primary point of its kind.
    #[serde(default)]
    pub is_primary: bool,
    /// Consent to marketing through this point (default: no consent).
    #[serde(default)]
    pub consent_marketing: bool,
    /// Where the point came from.
    #[serde(default)]
    pub source: Option<Provenance>,
}

/// A validated contact point.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidContactPoint {
    /// Kind.
    pub kind: ContactKind,
    /// Raw and normalised value.
    pub value: ContactValue,
    /// Label.
    pub label: Option<String>,
    /// Primary flag.
    pub is_primary: bool,
    /// Consent flag.
    pub consent_marketing: bool,
    /// Provenance with defaults applied.
    pub source: Provenance,
}

impl NewContactPoint {
    /// Validates and normalises the value.
    pub fn validate(
        self,
        actor: i64,
        now: DateTime<Utc>,
    ) -> Result<ValidContactPoint, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let value = e.field("value", crate::contact::normalize(self.kind, &self.value));
        check_text(&mut e, "label", self.label.as_deref(), 50);
        let source = match self.source {
            Some(p) => e.field("source.collected_at", p.completed(actor, now)),
            None => Some(Provenance::manual(actor, now)),
        };
        match (value, source) {
            (Some(value), Some(source)) if e.is_empty() => Ok(ValidContactPoint {
                kind: self.kind,
                value,
                label: trimmed(&self.label),
                is_primary: self.is_primary,
                consent_marketing: self.consent_marketing,
                source,
            }),
            _ => Err(e),
        }
    }
}

/// A change to a contact point: consent switches most often.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPointPatch {
    /// The version the client last read.
    pub version: i64,
    /// New value.
    #[serde(default)]
    pub value: Option<String>,
    /// Label (null clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
    /// Primary flag.
    #[serde(default)]
    pub is_primary: Option<bool>,
    /// Marketing consent.
    #[serde(default)]
    pub consent_marketing: Option<bool>,
}

impl ContactPointPatch {
    /// Checks what the patch changes against the stored point: the new value normalised for
    /// the point's kind (a mobile stays a mobile), the label's length. Returns the new value
    /// when there is one. One rule for the API and the pages.
    pub fn revalidate(
        &self,
        current: &crate::records::ContactPoint,
    ) -> Result<Option<ContactValue>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let value = match &self.value {
            Some(v) => e.field("value", crate::contact::normalize(current.kind, v)),
            None => None,
        };
        if let Some(Some(l)) = &self.label {
            check_text(&mut e, "label", Some(l), 50);
        }
        e.finish(|| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse().unwrap()
    }

    fn person(name: &str) -> CustomerFields {
        serde_json::from_value(serde_json::json!({"kind": "individual", "name": name})).unwrap()
    }

    /// Found by schemathesis: `"company": [null, null]` decoded as an empty profile and
    /// cleared the stored one.
    #[test]
    fn profile_blocks_are_objects_or_null_only() {
        let patch = |company: serde_json::Value| {
            serde_json::from_value::<CustomerPatch>(
                serde_json::json!({"version": 1, "company": company}),
            )
        };
        assert!(patch(serde_json::json!([null, null])).is_err());
        assert!(patch(serde_json::json!("x")).is_err());
        assert_eq!(patch(serde_json::Value::Null).unwrap().company, Some(None));
        assert!(patch(serde_json::json!({}))
            .unwrap()
            .company
            .unwrap()
            .is_some());
        let create = serde_json::from_value::<CustomerFields>(
            serde_json::json!({"kind": "individual", "name": "张三", "profile": [[]]}),
        );
        assert!(create.is_err());
        assert!(
            serde_json::from_value::<CustomerPatch>(serde_json::json!({"version": 1}))
                .unwrap()
                .company
                .is_none()
        );
    }

    #[test]
    fn an_imported_row_overwrites_what_it_has_and_keeps_the_rest() {
        let mut stored = person("张三");
        stored.city = Some("上海".into());
        stored.employer = Some("老东家".into());
        stored.tags = vec!["vip".into()];
        stored.owner_id = Some(7);
        let mut row = person("张三");
        row.employer = Some("新东家".into());
        row.tags = vec!["展会".into(), "vip".into()];
        row.owner_id = Some(9);
        let merged = stored.overlaid_with(&row);
        assert_eq!(
            merged.city.as_deref(),
            Some("上海"),
            "kept: the row has none"
        );
        assert_eq!(merged.employer.as_deref(), Some("新东家"), "overwritten");
        assert_eq!(merged.tags, ["vip", "展会"]);
        assert_eq!(merged.owner_id, Some(7), "owner is not moved by an import");
    }

    #[test]
    fn prc_id_checksum() {
        assert_eq!(
            check_id_number("11010519491231002X"),
            Ok("11010519491231002X".into())
        );
        assert_eq!(
            check_id_number("110105194912310021"),
            Err("invalid_id_number")
        );
        assert_eq!(check_id_number("E12345678"), Ok("E12345678".into()));
        assert_eq!(check_id_number("一二三"), Err("invalid_id_number"));
    }

    #[test]
    fn defaults_are_applied() {
        let v = person(" 李四 ").validate(7, now()).unwrap();
        assert_eq!(v.name.as_str(), "李四");
        assert_eq!(v.lifecycle_stage, LifecycleStage::Prospect);
        assert_eq!(v.source.collected_by, Some(7));
    }

    #[test]
    fn company_refuses_personal_fields_and_collects_all_errors() {
        let mut f = person("");
        f.kind = CustomerKind::Company;
        f.gender = Some(Gender::Male);
        f.id_number = Some("bad id!".into());
        let errs = f.validate(1, now()).unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"name") && fields.contains(&"gender") && fields.contains(&"id_number"),
            "{fields:?}"
        );
    }

    #[test]
    fn patch_null_clears_absent_keeps() {
        let mut f = person("王五");
        f.city = Some("上海".into());
        f.employer = Some("ACME".into());
        let p: CustomerPatch =
            serde_json::from_value(serde_json::json!({"version": 1, "city": null})).unwrap();
        let g = p.apply(f);
        assert_eq!(g.city, None);
        assert_eq!(g.employer.as_deref(), Some("ACME"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r: Result<CustomerFields, _> = serde_json::from_value(
            serde_json::json!({"kind": "individual", "name": "x", "nmae": 1}),
        );
        assert!(r.is_err());
    }
}
