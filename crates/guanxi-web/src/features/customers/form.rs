//! Create and edit forms for individual and company customers. One field list drives the
//! rendering, the mapping of the submitted form onto the domain's input (so the domain's rules
//! are the only rules), the mapping of its errors back onto the inputs, and the comparison shown
//! when someone else saved the record first.

use crate::ui::session::Submitted;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use guanxi_domain::customer::{CustomerFields, CustomerPatch, NewContactPoint};
use guanxi_domain::money::parse_money;
use guanxi_domain::profile::{
    Anniversary, CareerEntry, CompanyProfile, EducationEntry, IndividualProfile,
};
use guanxi_domain::provenance::Provenance;
use guanxi_domain::records::Customer;
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::{
    BusinessStatus, CompanySize, ContactKind, CreditStatus, CustomerKind, Gender, LifecycleStage,
    SourceChannel,
};
use guanxi_domain::{ValidationError, ValidationErrors};
use guanxi_store::duplicates::DuplicateCandidate;

use crate::features::custom_field::CustomInput;
use crate::features::customers::list::user_names;
use crate::state::AppState;
use crate::ui::format;
use crate::ui::render;
use crate::ui::session::{optional_field, page_err, Ctx, FormData, UiError, UiUser};
use guanxi_app::AppError;
use guanxi_domain::custom_field::FieldDefinition;

/// One input of a form.
pub struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    options: Vec<(String, String)>,
    error: &'static str,
    hint: &'static str,
}

/// What someone else changed, shown on a 409.
pub struct Conflict {
    by: String,
    at: String,
    diffs: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "customers/form.html")]
struct FormTpl {
    ctx: Ctx,
    heading: &'static str,
    subject: String,
    action: String,
    cancel_url: String,
    hidden: Vec<(&'static str, String)>,
    fields: Vec<Field>,
    has_errors: bool,
    conflict: Option<Conflict>,
    /// (customer id, name, text key of what they share).
    duplicates: Vec<(i64, String, &'static str)>,
    /// The custom fields' inputs.
    custom: Vec<CustomInput>,
}

/// The text key saying what a duplicate candidate shares.
pub(crate) fn shared_key(matched_on: &str) -> &'static str {
    match matched_on {
        "email" => "duplicates.email",
        "wechat" => "duplicates.wechat",
        "id_number" => "duplicates.id_number",
        "name_company" => "duplicates.name_company",
        _ => "duplicates.mobile",
    }
}

/// What a form page warns about above its fields, besides field errors.
#[derive(Default)]
struct Notice {
    /// Someone saved the record meanwhile (409 on edit).
    conflict: Option<Conflict>,
    /// Customers you can see that already have this mobile, email, WeChat or ID number (409 on
    /// create): open one, or create anyway.
    duplicates: Vec<DuplicateCandidate>,
}

/// Create or edit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Edit,
}

/// (name, label, input type, hint) of every field, by kind and mode. Headings have type
/// `heading`. Field names double as keys of the values map.
fn layout(
    kind: CustomerKind,
    mode: Mode,
    ctx: &Ctx,
) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut f = vec![
        ("", "section.basics", "heading", ""),
        ("name", "field.name", "text", ""),
    ];
    match kind {
        CustomerKind::Individual => {
            f.push(("gender", "field.gender", "select", ""));
            f.push(("birthday", "field.birthday", "text", "hint.anniversary"));
            f.push(("birthday_lunar", "field.birthday_lunar", "checkbox", ""));
            if mode == Mode::Create || ctx.can_sensitive {
                f.push(("id_number", "field.id_number", "text", ""));
            }
            f.push(("employer", "field.employer", "text", ""));
            f.push(("job_title", "field.job_title", "text", ""));
            f.push(("industry", "field.industry", "text", ""));
        }
        CustomerKind::Company => f.push(("industry", "field.industry", "text", "")),
    }
    f.extend([
        ("province", "field.province", "text", ""),
        ("city", "field.city", "text", ""),
        ("address", "field.address", "text", ""),
        ("time_zone", "field.time_zone", "select", "hint.time_zone"),
        ("lifecycle_stage", "field.lifecycle_stage", "select", ""),
    ]);
    if ctx.can_reassign {
        f.push(("owner_id", "field.owner", "select", ""));
    }
    f.push(("tags", "field.tags", "text", "hint.list"));
    if mode == Mode::Create {
        f.push(("source_channel", "field.source_channel", "select", ""));
        f.push(("source_indirect", "field.source_indirect", "checkbox", ""));
        f.push(("", "section.contacts", "heading", ""));
        match kind {
            CustomerKind::Individual => {
                f.push(("mobile", "contact_kind.mobile", "tel", ""));
                f.push(("email", "contact_kind.email", "email", ""));
                f.push(("wechat", "contact_kind.wechat", "text", ""));
            }
            CustomerKind::Company => {
                f.push(("phone", "contact_kind.phone", "tel", ""));
                f.push(("email", "contact_kind.email", "email", ""));
            }
        }
        f.push(("consent", "contact.consent", "checkbox", ""));
    }
    match kind {
        CustomerKind::Individual => f.extend([
            ("", "section.education", "heading", ""),
            (
                "education",
                "section.education",
                "textarea",
                "hint.education",
            ),
            ("", "section.career", "heading", ""),
            ("career", "section.career", "textarea", "hint.career"),
            ("", "section.family", "heading", ""),
            ("marital_status", "profile.marital_status", "text", ""),
            ("spouse_name", "profile.spouse_name", "text", ""),
            (
                "spouse_birthday",
                "profile.spouse_birthday",
                "text",
                "hint.anniversary",
            ),
            (
                "wedding_anniversary",
                "profile.wedding_anniversary",
                "text",
                "hint.anniversary",
            ),
            ("", "section.lifestyle", "heading", ""),
            ("food", "profile.food", "text", "hint.list"),
            ("drinks", "profile.drinks", "text", "hint.list"),
            ("hobbies", "profile.hobbies", "text", "hint.list"),
            ("favourite_colour", "profile.favourite_colour", "text", ""),
            ("room_preference", "profile.room_preference", "text", ""),
            (
                "temperature_preference",
                "profile.temperature_preference",
                "text",
                "",
            ),
            ("lifestyle_notes", "profile.notes", "textarea", ""),
            ("", "section.personality", "heading", ""),
            ("traits", "profile.traits", "text", "hint.list"),
            (
                "communication_style",
                "profile.communication_style",
                "text",
                "",
            ),
            ("personality_notes", "profile.notes", "textarea", ""),
        ]),
        CustomerKind::Company => f.extend([
            ("", "section.company", "heading", ""),
            ("founded", "company.founded", "date", ""),
            ("legal_form", "company.legal_form", "text", ""),
            ("size", "company.size", "select", ""),
            ("employees", "company.employees", "number", ""),
            ("assets_yuan", "company.assets_yuan", "number", ""),
            ("service_area", "company.service_area", "text", ""),
            ("website", "company.website", "text", ""),
            ("company_traits", "company.traits", "text", "hint.list"),
            ("", "section.credit", "heading", ""),
            ("business_status", "company.business_status", "select", ""),
            ("credit_status", "company.credit_status", "select", ""),
            ("payment_terms_days", "company.payment_terms", "number", ""),
        ]),
    }
    f
}

fn options(ctx: &Ctx, name: &str, owners: &[(i64, String)]) -> Vec<(String, String)> {
    let vocab = |v: &str, codes: Vec<&'static str>, blank: bool| {
        let mut o: Vec<(String, String)> = if blank {
            vec![(String::new(), "—".into())]
        } else {
            vec![]
        };
        o.extend(codes.into_iter().map(|c| (c.to_string(), ctx.label(v, c))));
        o
    };
    match name {
        "gender" => vocab(
            "gender",
            Gender::ALL.iter().map(|g| g.as_str()).collect(),
            true,
        ),
        "lifecycle_stage" => vocab(
            "lifecycle_stage",
            LifecycleStage::ALL.iter().map(|g| g.as_str()).collect(),
            false,
        ),
        "source_channel" => vocab(
            "source_channel",
            SourceChannel::ALL.iter().map(|g| g.as_str()).collect(),
            false,
        ),
        "size" => vocab(
            "company_size",
            CompanySize::ALL.iter().map(|g| g.as_str()).collect(),
            true,
        ),
        "business_status" => vocab(
            "business_status",
            BusinessStatus::ALL.iter().map(|g| g.as_str()).collect(),
            true,
        ),
        "credit_status" => vocab(
            "credit_status",
            CreditStatus::ALL.iter().map(|g| g.as_str()).collect(),
            true,
        ),
        "time_zone" => std::iter::once((String::new(), "—".to_string()))
            .chain(
                guanxi_domain::time_zone::menu()
                    .into_iter()
                    .map(|z| (z.to_string(), z.to_string())),
            )
            .collect(),
        "owner_id" => owners
            .iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn anniversary_value(a: &guanxi_domain::profile::Anniversary) -> String {
    match a.year {
        Some(y) => format!("{y:04}-{:02}-{:02}", a.month, a.day),
        None => format!("{:02}-{:02}", a.month, a.day),
    }
}

/// `YYYY-MM-DD` or `MM-DD` (also with `/` or `.`) into an anniversary.
fn parse_anniversary(s: &str, lunar: bool) -> Option<Anniversary> {
    let parts: Vec<&str> = s.split(['-', '/', '.']).map(str::trim).collect();
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] => (
            Some(y.parse::<i32>().ok()?),
            m.parse::<u32>().ok()?,
            d.parse::<u32>().ok()?,
        ),
        [m, d] => (None, m.parse::<u32>().ok()?, d.parse::<u32>().ok()?),
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(Anniversary {
        year,
        month,
        day,
        lunar,
    })
}

fn list_value(v: &[String]) -> String {
    v.join(", ")
}

fn split_list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .split([',', '，', '、', ';', '；'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// The form values of a stored customer (edit, and the "theirs" side of a conflict).
fn record_values(c: &Customer) -> HashMap<String, String> {
    let mut v = HashMap::new();
    let mut set = |k: &str, s: Option<String>| {
        v.insert(k.to_string(), s.unwrap_or_default());
    };
    set("name", Some(c.name.clone()));
    set("gender", c.gender.map(|g| g.as_str().into()));
    set("birthday", c.birthday.as_ref().map(anniversary_value));
    set(
        "birthday_lunar",
        c.birthday.filter(|b| b.lunar).map(|_| "1".into()),
    );
    set("id_number", c.id_number.clone());
    for (k, x) in [
        ("province", &c.province),
        ("city", &c.city),
        ("address", &c.address),
        ("time_zone", &c.time_zone),
        ("employer", &c.employer),
        ("job_title", &c.job_title),
        ("industry", &c.industry),
    ] {
        set(k, x.clone());
    }
    set("lifecycle_stage", Some(c.lifecycle_stage.as_str().into()));
    set("owner_id", c.owner_id.map(|o| o.to_string()));
    set("tags", Some(list_value(&c.tags)));
    if let Some(p) = &c.profile {
        set(
            "education",
            Some(
                p.education
                    .iter()
                    .map(|e| {
                        format!(
                            "{} | {} | {} | {}",
                            e.school,
                            e.degree.clone().unwrap_or_default(),
                            e.major.clone().unwrap_or_default(),
                            years_value(e.from_year, e.to_year)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        );
        set(
            "career",
            Some(
                p.career
                    .iter()
                    .map(|e| {
                        format!(
                            "{} | {} | {}",
                            e.employer,
                            e.title.clone().unwrap_or_default(),
                            years_value(e.from_year, e.to_year)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        );
        if let Some(f) = &p.family {
            set("marital_status", f.marital_status.clone());
            set("spouse_name", f.spouse_name.clone());
            set(
                "spouse_birthday",
                f.spouse_birthday.as_ref().map(anniversary_value),
            );
            set(
                "wedding_anniversary",
                f.wedding_anniversary.as_ref().map(anniversary_value),
            );
        }
        if let Some(l) = &p.lifestyle {
            set("food", Some(list_value(&l.food)));
            set("drinks", Some(list_value(&l.drinks)));
            set("hobbies", Some(list_value(&l.hobbies)));
            set("favourite_colour", l.favourite_colour.clone());
            set("room_preference", l.room_preference.clone());
            set("temperature_preference", l.temperature_preference.clone());
            set("lifestyle_notes", l.notes.clone());
        }
        if let Some(x) = &p.personality {
            set("traits", Some(list_value(&x.traits)));
            set("communication_style", x.communication_style.clone());
            set("personality_notes", x.notes.clone());
        }
    }
    if let Some(p) = &c.company {
        set("founded", p.founded.map(|d| d.to_string()));
        set("legal_form", p.legal_form.clone());
        set("size", p.size.map(|s| s.as_str().into()));
        set("employees", p.employees.map(|e| e.to_string()));
        set(
            "assets_yuan",
            p.assets_minor
                .map(|a| format!("{}.{:02}", a / 100, (a % 100).abs())),
        );
        set("service_area", p.service_area.clone());
        set("website", p.website.clone());
        set("company_traits", Some(list_value(&p.traits)));
        set(
            "business_status",
            p.business_status.map(|s| s.as_str().into()),
        );
        set("credit_status", p.credit_status.map(|s| s.as_str().into()));
        set(
            "payment_terms_days",
            p.payment_terms_days.map(|d| d.to_string()),
        );
    }
    set(
        "mobile",
        Some(c.first_contact_value(&[ContactKind::Mobile])),
    );
    v
}

fn years_value(from: Option<i32>, to: Option<i32>) -> String {
    match (from, to) {
        (None, None) => String::new(),
        (f, t) => format!(
            "{}-{}",
            f.map(|y| y.to_string()).unwrap_or_default(),
            t.map(|y| y.to_string()).unwrap_or_default()
        ),
    }
}

fn parse_years(s: &str) -> (Option<i32>, Option<i32>) {
    let mut it = s
        .split(['-', '–', '~'])
        .map(|p| p.trim().parse::<i32>().ok());
    (it.next().flatten(), it.next().flatten())
}

/// Maps a domain error path onto a form field name.
fn field_for(path: &str, contact_fields: &[&'static str]) -> Option<&'static str> {
    if let Some(rest) = path.strip_prefix("contact_points[") {
        let i: usize = rest.split(']').next()?.parse().ok()?;
        return contact_fields.get(i).copied();
    }
    let leaf = path.split('.').collect::<Vec<_>>();
    let first = |s: &str| s.split('[').next().unwrap_or(s).to_string();
    let key = match leaf.as_slice() {
        ["profile", "lifestyle", "notes", ..] => "lifestyle_notes".to_string(),
        ["profile", "personality", "notes", ..] => "personality_notes".to_string(),
        ["profile", "education", ..] => "education".to_string(),
        ["profile", "career", ..] => "career".to_string(),
        ["profile", s, ..] if s.starts_with("education") => "education".to_string(),
        ["profile", s, ..] if s.starts_with("career") => "career".to_string(),
        ["profile", _, f, ..] => first(f),
        ["company", "assets_minor", ..] => "assets_yuan".to_string(),
        ["company", "traits", ..] => "company_traits".to_string(),
        ["company", f, ..] => first(f),
        ["birthday", ..] => "birthday".to_string(),
        ["source", ..] => "source_channel".to_string(),
        [f, ..] => first(f),
        [] => return None,
    };
    ALL_FIELD_NAMES.iter().copied().find(|n| *n == key)
}

/// Every named field of both forms (for error mapping).
const ALL_FIELD_NAMES: &[&str] = &[
    "name",
    "gender",
    "birthday",
    "birthday_lunar",
    "id_number",
    "employer",
    "job_title",
    "industry",
    "province",
    "city",
    "address",
    "lifecycle_stage",
    "owner_id",
    "tags",
    "source_channel",
    "source_indirect",
    "mobile",
    "email",
    "wechat",
    "phone",
    "consent",
    "education",
    "career",
    "marital_status",
    "spouse_name",
    "spouse_birthday",
    "wedding_anniversary",
    "food",
    "drinks",
    "hobbies",
    "favourite_colour",
    "room_preference",
    "temperature_preference",
    "lifestyle_notes",
    "traits",
    "communication_style",
    "personality_notes",
    "founded",
    "legal_form",
    "size",
    "employees",
    "assets_yuan",
    "service_area",
    "website",
    "company_traits",
    "business_status",
    "credit_status",
    "payment_terms_days",
];

/// The customer form parsed into the domain's own input types: what create turns into
/// [`CustomerFields`] and edit into a [`CustomerPatch`]. Every value is typed on the way in
/// (enums by their parsers, dates, whole numbers, money through the exact parser); a value
/// that does not parse is a problem named by its form field, and the rest of the form is still
/// read so the page can show every problem at once.
struct Mapped {
    errors: Vec<ValidationError>,
    contact_fields: Vec<&'static str>,
    kind: CustomerKind,
    name: String,
    province: Option<String>,
    city: Option<String>,
    address: Option<String>,
    time_zone: Option<String>,
    industry: Option<String>,
    lifecycle_stage: Option<LifecycleStage>,
    owner_id: Option<i64>,
    tags: Vec<String>,
    source: Option<Provenance>,
    contact_points: Vec<NewContactPoint>,
    /// Individuals: gender, birthday, employer, job title, the ID number (outer `None` when the
    /// form does not carry it) and the profile, laid over the stored one.
    person: Option<PersonPart>,
    /// Companies: the company profile, laid over the stored one.
    company: Option<CompanyProfile>,
}

struct PersonPart {
    gender: Option<Gender>,
    birthday: Option<Anniversary>,
    employer: Option<String>,
    job_title: Option<String>,
    id_number: Option<Option<String>>,
    profile: IndividualProfile,
}

impl Mapped {
    /// The whole customer, for a create (and for checking a form as a whole).
    fn fields(&self) -> CustomerFields {
        let person = self.person.as_ref();
        CustomerFields {
            kind: self.kind,
            name: self.name.clone(),
            gender: person.and_then(|p| p.gender),
            birthday: person.and_then(|p| p.birthday),
            id_number: person.and_then(|p| p.id_number.clone().flatten()),
            province: self.province.clone(),
            city: self.city.clone(),
            address: self.address.clone(),
            time_zone: self.time_zone.clone(),
            employer: person.and_then(|p| p.employer.clone()),
            job_title: person.and_then(|p| p.job_title.clone()),
            industry: self.industry.clone(),
            lifecycle_stage: self.lifecycle_stage,
            owner_id: self.owner_id,
            tags: self.tags.clone(),
            source: self.source.clone(),
            profile: person.map(|p| p.profile.clone()),
            company: self.company.clone(),
            contact_points: self.contact_points.clone(),
            allow_duplicate: false,
            custom: Default::default(),
        }
    }

    /// The change an edit makes: every field the form carries is set (an empty one cleared).
    fn patch(&self, version: i64) -> CustomerPatch {
        let person = self.person.as_ref();
        CustomerPatch {
            version,
            name: Some(self.name.clone()),
            gender: person.map(|p| p.gender),
            birthday: person.map(|p| p.birthday),
            id_number: person.and_then(|p| p.id_number.clone()),
            province: Some(self.province.clone()),
            city: Some(self.city.clone()),
            address: Some(self.address.clone()),
            time_zone: Some(self.time_zone.clone()),
            employer: person.map(|p| p.employer.clone()),
            job_title: person.map(|p| p.job_title.clone()),
            industry: Some(self.industry.clone()),
            lifecycle_stage: self.lifecycle_stage,
            owner_id: self.owner_id,
            tags: Some(self.tags.clone()),
            profile: person.map(|p| Some(p.profile.clone())),
            company: self.company.clone().map(Some),
            custom: None,
        }
    }
}

/// A text field: trimmed, `None` when empty.
fn text(form: &FormData, k: &str) -> Option<String> {
    form.get(k).map(str::to_string)
}

fn map_form(
    kind: CustomerKind,
    mode: Mode,
    form: &FormData,
    existing: Option<&Customer>,
    ctx: &Ctx,
) -> Mapped {
    let mut errors = ValidationErrors::new();
    let owner_id = if ctx.can_reassign {
        optional_field(form, &mut errors, "owner_id", |o| {
            o.parse::<i64>().map_err(|_| "invalid_reference")
        })
    } else {
        None
    };
    let lifecycle_stage =
        optional_field(form, &mut errors, "lifecycle_stage", LifecycleStage::parse);
    let mut contact_fields = Vec::new();
    let mut contact_points = Vec::new();
    let mut source = None;
    if mode == Mode::Create {
        let channel = form.get("source_channel").unwrap_or("manual");
        source = match SourceChannel::parse(channel) {
            Ok(channel) => Some(Provenance {
                channel,
                direct: !form.checked("source_indirect"),
                collected_by: None,
                collected_at: None,
            }),
            Err(code) => {
                errors.push("source_channel", code);
                None
            }
        };
        let consent = form.checked("consent");
        for (field, kind) in [
            ("mobile", ContactKind::Mobile),
            ("phone", ContactKind::Phone),
            ("email", ContactKind::Email),
            ("wechat", ContactKind::Wechat),
        ] {
            if let Some(v) = form.get(field) {
                contact_points.push(NewContactPoint {
                    kind,
                    value: v.to_string(),
                    label: None,
                    is_primary: true,
                    consent_marketing: consent,
                    source: None,
                });
                contact_fields.push(field);
            }
        }
    }
    let anniversary = |field: &str, lunar: bool, errors: &mut ValidationErrors| {
        optional_field(form, errors, field, |s| {
            parse_anniversary(s, lunar).ok_or("invalid_date")
        })
    };
    let mut person = None;
    let mut company = None;
    match kind {
        CustomerKind::Individual => {
            let gender = optional_field(form, &mut errors, "gender", Gender::parse);
            let birthday = anniversary("birthday", form.checked("birthday_lunar"), &mut errors);
            let id_number =
                (mode == Mode::Create || ctx.can_sensitive).then(|| text(form, "id_number"));
            let mut profile = existing.and_then(|c| c.profile.clone()).unwrap_or_default();
            profile.education = lines(form, "education")
                .map(|parts| {
                    let (from_year, to_year) = parse_years(part(&parts, 3).unwrap_or(""));
                    EducationEntry {
                        school: part(&parts, 0).unwrap_or("").to_string(),
                        degree: part(&parts, 1).map(str::to_string),
                        major: part(&parts, 2).map(str::to_string),
                        from_year,
                        to_year,
                    }
                })
                .collect();
            profile.career = lines(form, "career")
                .map(|parts| {
                    let (from_year, to_year) = parse_years(part(&parts, 2).unwrap_or(""));
                    CareerEntry {
                        employer: part(&parts, 0).unwrap_or("").to_string(),
                        title: part(&parts, 1).map(str::to_string),
                        from_year,
                        to_year,
                    }
                })
                .collect();
            let mut family = profile.family.take().unwrap_or_default();
            family.marital_status = text(form, "marital_status");
            family.spouse_name = text(form, "spouse_name");
            family.spouse_birthday = anniversary("spouse_birthday", false, &mut errors);
            family.wedding_anniversary = anniversary("wedding_anniversary", false, &mut errors);
            profile.family = Some(family);
            let mut life = profile.lifestyle.take().unwrap_or_default();
            life.food = split_list(form.get("food"));
            life.drinks = split_list(form.get("drinks"));
            life.hobbies = split_list(form.get("hobbies"));
            life.favourite_colour = text(form, "favourite_colour");
            life.room_preference = text(form, "room_preference");
            life.temperature_preference = text(form, "temperature_preference");
            life.notes = text(form, "lifestyle_notes");
            profile.lifestyle = Some(life);
            let mut pers = profile.personality.take().unwrap_or_default();
            pers.traits = split_list(form.get("traits"));
            pers.communication_style = text(form, "communication_style");
            pers.notes = text(form, "personality_notes");
            profile.personality = Some(pers);
            person = Some(PersonPart {
                gender,
                birthday,
                employer: text(form, "employer"),
                job_title: text(form, "job_title"),
                id_number,
                profile,
            });
        }
        CustomerKind::Company => {
            let mut p = existing.and_then(|c| c.company.clone()).unwrap_or_default();
            p.founded = optional_field(form, &mut errors, "founded", |d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| "invalid_date")
            });
            p.legal_form = text(form, "legal_form");
            p.size = optional_field(form, &mut errors, "size", CompanySize::parse);
            p.service_area = text(form, "service_area");
            p.website = text(form, "website");
            p.business_status =
                optional_field(form, &mut errors, "business_status", BusinessStatus::parse);
            p.credit_status =
                optional_field(form, &mut errors, "credit_status", CreditStatus::parse);
            p.traits = split_list(form.get("company_traits"));
            let whole = |v: &str| v.parse::<i64>().map_err(|_| "invalid_type");
            p.employees = optional_field(form, &mut errors, "employees", whole);
            p.payment_terms_days = optional_field(form, &mut errors, "payment_terms_days", whole);
            // Exactly, in fen: a float loses cents on large sums.
            p.assets_minor = optional_field(form, &mut errors, "assets_yuan", parse_money);
            if form.get("assets_yuan").is_some() && p.currency.is_none() {
                p.currency = Some("CNY".into());
            }
            company = Some(p);
        }
    }
    Mapped {
        errors: errors.0,
        contact_fields,
        kind,
        name: form.get("name").unwrap_or("").to_string(),
        province: text(form, "province"),
        city: text(form, "city"),
        address: text(form, "address"),
        time_zone: text(form, "time_zone").filter(|z| !z.trim().is_empty()),
        industry: text(form, "industry"),
        lifecycle_stage,
        owner_id,
        tags: split_list(form.get("tags")),
        source,
        contact_points,
        person,
        company,
    }
}

/// The non-empty lines of a multi-line field, each split on `|` into trimmed parts.
fn lines<'a>(form: &'a FormData, k: &str) -> impl Iterator<Item = Vec<&'a str>> {
    form.get(k)
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('|').map(str::trim).collect())
}

/// The `i`th part of a line, `None` when missing or empty.
fn part<'a>(parts: &[&'a str], i: usize) -> Option<&'a str> {
    parts.get(i).copied().filter(|s| !s.is_empty())
}

/// Validates the mapped form as a whole customer, so that a form with a date typo also shows
/// its other problems (an empty name, a bad phone) in the same round trip.
fn dry_run(m: &Mapped, actor: i64) -> Vec<ValidationError> {
    m.fields()
        .validate(actor, Utc::now())
        .err()
        .map(|e| e.0)
        .unwrap_or_default()
}

/// Builds the field list with values and errors.
fn build_fields(
    ctx: &Ctx,
    kind: CustomerKind,
    mode: Mode,
    values: &HashMap<String, String>,
    errors: &[ValidationError],
    contact_fields: &[&'static str],
    owners: &[(i64, String)],
) -> (Vec<Field>, bool) {
    let mut by_field: HashMap<&'static str, &'static str> = HashMap::new();
    let mut unplaced = false;
    for e in errors {
        match field_for(&e.field, contact_fields) {
            Some(f) => {
                by_field.entry(f).or_insert(e.message_key);
            }
            None => unplaced = true,
        }
    }
    let fields = layout(kind, mode, ctx)
        .into_iter()
        .map(|(name, label, input, hint)| Field {
            name,
            label,
            kind: input,
            value: values.get(name).cloned().unwrap_or_default(),
            options: options(ctx, name, owners),
            error: by_field.get(name).copied().unwrap_or(""),
            hint,
        })
        .collect();
    (fields, unplaced || !errors.is_empty())
}

fn kind_param(form: &FormData) -> CustomerKind {
    match form.get("kind") {
        Some("company") => CustomerKind::Company,
        _ => CustomerKind::Individual,
    }
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    user: &UiUser,
    kind: CustomerKind,
    mode: Mode,
    values: &HashMap<String, String>,
    errors: &[ValidationError],
    contact_fields: &[&'static str],
    owners: &[(i64, String)],
    target: Option<(&Customer, i64)>,
    notice: Notice,
    custom: Vec<CustomInput>,
    status: StatusCode,
) -> Response {
    let heading = match (mode, kind) {
        (Mode::Create, CustomerKind::Individual) => "form.new_individual",
        (Mode::Create, CustomerKind::Company) => "form.new_company",
        (Mode::Edit, _) => "form.edit",
    };
    let ctx = user.ctx(heading);
    let (fields, has_errors) =
        build_fields(&ctx, kind, mode, values, errors, contact_fields, owners);
    let (action, cancel, hidden, subject) = match target {
        Some((c, version)) => (
            format!("/customers/{}/edit", c.id),
            format!("/customers/{}", c.id),
            vec![("version", version.to_string())],
            c.name.clone(),
        ),
        None => (
            format!("/customers/new?kind={}", kind.as_str()),
            "/customers".into(),
            vec![("kind", kind.as_str().to_string())],
            String::new(),
        ),
    };
    let tpl = FormTpl {
        ctx,
        heading,
        subject,
        action,
        cancel_url: cancel,
        hidden,
        fields,
        has_errors,
        conflict: notice.conflict,
        duplicates: crate::features::merge::pages::candidate_views(notice.duplicates),
        custom,
    };
    (status, render(user.locale, &tpl)).into_response()
}

/// GET the create form (`?kind=company` for a company).
pub async fn new_form(
    State(st): State<AppState>,
    user: UiUser,
    q: FormData,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let owners = user_names(&st, &user).await?;
    let mut values = HashMap::new();
    values.insert("owner_id".to_string(), user.user.id.to_string());
    values.insert("source_channel".to_string(), "manual".to_string());
    values.insert("lifecycle_stage".to_string(), "prospect".to_string());
    // Prefilled from a link, e.g. the unknown caller's number from the search box.
    for field in ["name", "mobile", "phone", "email", "wechat"] {
        if let Some(v) = q.get(field) {
            values.insert(field.to_string(), v.chars().take(200).collect());
        }
    }
    let kind = kind_param(&q);
    let (defs, _) = custom_defs(&st, &user, kind, None).await?;
    let custom = custom_inputs(&user, &defs, &owners, &|_| Vec::new(), &[]);
    Ok(form_page(
        &user,
        kind,
        Mode::Create,
        &values,
        &[],
        &[],
        &owners,
        None,
        Notice::default(),
        custom,
        StatusCode::OK,
    ))
}

/// POST the create form.
pub async fn create(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let kind = kind_param(&form);
    let owners = user_names(&st, &user).await?;
    let ctx = user.ctx("form.new_individual");
    let mapped = map_form(kind, Mode::Create, &form, None, &ctx);
    let (defs, _) = custom_defs(&st, &user, kind, None).await?;
    let typed = |d: &FieldDefinition| {
        form.all(&guanxi_app::custom_field::form_name(d))
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let retry_with = |errors: &[ValidationError], duplicates: Vec<DuplicateCandidate>, status| {
        form_page(
            &user,
            kind,
            Mode::Create,
            &form.values(),
            errors,
            &mapped.contact_fields,
            &owners,
            None,
            Notice {
                duplicates,
                ..Notice::default()
            },
            custom_inputs(&user, &defs, &owners, &typed, errors),
            status,
        )
    };
    let retry = |errors: &[ValidationError], status| retry_with(errors, Vec::new(), status);
    if !mapped.errors.is_empty() {
        let mut all = mapped.errors.clone();
        all.extend(dry_run(&mapped, user.actor.id));
        return Ok(retry(&all, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let mut fields = mapped.fields();
    fields.custom = guanxi_app::custom_field::form_values(
        &user.actor,
        &guanxi_domain::custom_field::Catalogue {
            fields: defs.clone(),
        },
        Some(kind),
        &|name| form.all(name).into_iter().map(str::to_string).collect(),
    );
    // "Create and merge": the new record is created, then compared with the one it duplicates.
    let merge_into = form
        .get("merge_into")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|_| crate::features::merge::pages::can_merge(&user));
    let allow_duplicate = form.get("allow_duplicate") == Some("1") || merge_into.is_some();
    match guanxi_app::customers::create_customer(&st.store, &user.actor, fields, allow_duplicate)
        .await
    {
        Ok(c) => Ok(Redirect::to(&match merge_into {
            Some(into) => format!("/customers/{into}/merge?other={}", c.id),
            None => format!("/customers/{}?saved=created", c.id),
        })
        .into_response()),
        Err(AppError::PossibleDuplicate(candidates)) => {
            let marks: Vec<ValidationError> = candidates
                .iter()
                .map(|d| ValidationError::new(d.field.clone(), "possible_duplicate"))
                .collect();
            Ok(retry_with(&marks, candidates, StatusCode::CONFLICT))
        }
        Err(AppError::Invalid(e) | AppError::Store(guanxi_store::StoreError::Invalid(e))) => {
            Ok(retry(&e.0, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(AppError::Store(guanxi_store::StoreError::Duplicate { field })) => Ok(retry(
            &[ValidationError::new(field, "duplicate")],
            StatusCode::CONFLICT,
        )),
        Err(e) => Err(page_err(l)(e)),
    }
}

/// The custom fields the form shows for a customer of `kind` (and `customer`'s values).
async fn custom_defs(
    st: &AppState,
    user: &UiUser,
    kind: CustomerKind,
    customer: Option<&Customer>,
) -> Result<
    (
        Vec<FieldDefinition>,
        guanxi_store::custom_field::RecordValues,
    ),
    UiError,
> {
    guanxi_app::custom_field::customer_form_fields(&st.store, &user.actor, kind, customer)
        .await
        .map_err(page_err(user.locale))
}

fn custom_inputs(
    user: &UiUser,
    defs: &[FieldDefinition],
    owners: &[(i64, String)],
    values_of: &dyn Fn(&FieldDefinition) -> Vec<String>,
    errors: &[ValidationError],
) -> Vec<CustomInput> {
    crate::features::custom_field::inputs(
        user.locale.code(),
        defs.iter(),
        owners,
        values_of,
        errors,
    )
}

async fn load_for_edit(st: &AppState, user: &UiUser, id: i64) -> Result<Customer, UiError> {
    let mut c = guanxi_app::customers::load_for_change(&st.store, &user.actor, id)
        .await
        .map_err(|e| UiError::from_api(user.locale, e.into()))?;
    if !user.actor.can(Permission::ViewSensitive) {
        c.id_number = None;
    }
    Ok(c)
}

/// GET the edit form.
pub async fn edit_form(
    State(st): State<AppState>,
    user: UiUser,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let c = load_for_edit(&st, &user, id).await?;
    let owners = user_names(&st, &user).await?;
    let values = record_values(&c);
    let (defs, stored) = custom_defs(&st, &user, c.kind, Some(&c)).await?;
    let custom = custom_inputs(
        &user,
        &defs,
        &owners,
        &|d| crate::features::custom_field::input_values(stored.get(&d.id)),
        &[],
    );
    Ok(form_page(
        &user,
        c.kind,
        Mode::Edit,
        &values,
        &[],
        &[],
        &owners,
        Some((&c, c.meta.version)),
        Notice::default(),
        custom,
        StatusCode::OK,
    ))
}

/// POST the edit form. A stale version shows who changed the record and how their values
/// differ from what was typed; nothing is overwritten unless the user confirms.
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let l = user.locale;
    let current = load_for_edit(&st, &user, id).await?;
    let owners = user_names(&st, &user).await?;
    let version: i64 = form.version(l)?;
    let ctx = user.ctx("form.edit");
    let mapped = map_form(current.kind, Mode::Edit, &form, Some(&current), &ctx);
    let values = form.values();
    let (defs, _) = custom_defs(&st, &user, current.kind, None).await?;
    let typed = |d: &FieldDefinition| {
        form.all(&guanxi_app::custom_field::form_name(d))
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let retry = |errors: &[ValidationError], conflict: Option<Conflict>, version: i64, status| {
        form_page(
            &user,
            current.kind,
            Mode::Edit,
            &values,
            errors,
            &[],
            &owners,
            Some((&current, version)),
            Notice {
                conflict,
                ..Notice::default()
            },
            custom_inputs(&user, &defs, &owners, &typed, errors),
            status,
        )
    };
    if !mapped.errors.is_empty() {
        let mut all = mapped.errors.clone();
        all.extend(dry_run(&mapped, user.actor.id));
        return Ok(retry(&all, None, version, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let mut patch = mapped.patch(version);
    // Naming the current owner again is no move.
    if patch.owner_id == current.owner_id {
        patch.owner_id = None;
    }
    patch.custom = Some(guanxi_app::custom_field::form_values(
        &user.actor,
        &guanxi_domain::custom_field::Catalogue {
            fields: defs.clone(),
        },
        Some(current.kind),
        &|name| form.all(name).into_iter().map(str::to_string).collect(),
    ));
    match guanxi_app::customers::update_customer(&st.store, &user.actor, id, patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?saved=customer")).into_response()),
        Err(AppError::Invalid(e) | AppError::Store(guanxi_store::StoreError::Invalid(e))) => {
            Ok(retry(&e.0, None, version, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(AppError::Store(guanxi_store::StoreError::Conflict {
            current: now_version,
            updated_by,
        })) => {
            let names: HashMap<i64, String> = owners.iter().cloned().collect();
            let theirs = record_values(&current);
            let labels: HashMap<&str, &str> = layout(current.kind, Mode::Edit, &ctx)
                .into_iter()
                .map(|(n, lab, ..)| (n, lab))
                .collect();
            let mut diffs: Vec<(&'static str, String, String)> = Vec::new();
            for (name, label, kind, _) in layout(current.kind, Mode::Edit, &ctx) {
                if kind == "heading" {
                    continue;
                }
                let mine = values
                    .get(name)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                let stored = theirs.get(name).cloned().unwrap_or_default();
                let normalise = |s: &str| {
                    s.split([',', '，', '、'])
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                if normalise(&mine) != normalise(&stored) {
                    diffs.push((labels.get(name).copied().unwrap_or(label), stored, mine));
                }
            }
            let conflict = Conflict {
                by: updated_by
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_else(|| ctx.t("conflict.someone").into()),
                at: format::datetime(current.meta.updated_at, format::zone(st.utc_offset_hours)),
                diffs,
            };
            Ok(retry(
                &[],
                Some(conflict),
                now_version,
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(page_err(l)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anniversaries_parse() {
        let day = |year, month, day, lunar| Anniversary {
            year,
            month,
            day,
            lunar,
        };
        assert_eq!(
            parse_anniversary("1985-03-08", false),
            Some(day(Some(1985), 3, 8, false))
        );
        assert_eq!(
            parse_anniversary("08/15", true),
            Some(day(None, 8, 15, true))
        );
        assert_eq!(parse_anniversary("13-01", false), None);
        assert_eq!(parse_anniversary("soon", false), None);
    }

    #[test]
    fn error_paths_find_their_inputs() {
        let contacts = ["mobile", "email"];
        assert_eq!(
            field_for("contact_points[1].value", &contacts),
            Some("email")
        );
        assert_eq!(
            field_for("contact_points[0].value", &contacts),
            Some("mobile")
        );
        assert_eq!(
            field_for("profile.lifestyle.food[2]", &contacts),
            Some("food")
        );
        assert_eq!(
            field_for("profile.lifestyle.notes", &contacts),
            Some("lifestyle_notes")
        );
        assert_eq!(
            field_for("profile.education[0].school", &contacts),
            Some("education")
        );
        assert_eq!(
            field_for("company.assets_minor", &contacts),
            Some("assets_yuan")
        );
        assert_eq!(field_for("birthday", &contacts), Some("birthday"));
        assert_eq!(field_for("name", &contacts), Some("name"));
        assert_eq!(field_for("mystery", &contacts), None);
    }

    #[test]
    fn a_date_typo_does_not_hide_other_errors() {
        let form = FormData::from_pairs(vec![
            ("name".into(), "".into()),
            ("birthday".into(), "13-45".into()),
            ("lifecycle_stage".into(), "active".into()),
        ]);
        let ctx = Ctx::anonymous(crate::i18n::Locale::En, "form.edit");
        let m = map_form(CustomerKind::Individual, Mode::Edit, &form, None, &ctx);
        assert_eq!(m.errors[0].field, "birthday");
        let more = dry_run(&m, 1);
        assert!(more.iter().any(|e| e.field == "name"), "{more:?}");
    }

    #[test]
    fn lists_split_on_chinese_and_western_commas() {
        assert_eq!(
            split_list(Some("茶，咖啡、 juice, ")),
            vec!["茶", "咖啡", "juice"]
        );
    }
}
