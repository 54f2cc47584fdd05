//! One row of an import turned into the customer it would store, with every problem named by
//! the file's own column; and the choices an import makes about a row that matches a customer
//! already on file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{CustomerFields, NewContactPoint, ValidCustomer};
use crate::profile::Anniversary;
use crate::provenance::Provenance;
use crate::role::Actor;
use crate::vocabulary::{ContactKind, CustomerKind, Gender, LifecycleStage, SourceChannel};
use crate::ValidationErrors;

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// Column header as in the file (or the field name).
    pub column: String,
    /// Stable message code (catalogue key).
    pub code: String,
}

/// A row turned into a customer, or its problems as (column, message key).
pub type RowCheck = Result<ValidCustomer, Vec<(String, &'static str)>>;

/// What to do with a row whose mobile/phone, email, WeChat id or ID number already belongs to
/// a customer the importer can see (or to an earlier row of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateChoice {
    /// Report it as a problem.
    Fail,
    /// Leave the row out.
    Skip,
    /// Lay the row over the existing customer.
    Update,
    /// Create a new customer anyway.
    Create,
}

impl DuplicateChoice {
    /// Parses the wire code.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        match s {
            "fail" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            "update" => Ok(Self::Update),
            "create" => Ok(Self::Create),
            _ => Err("unknown_value"),
        }
    }

    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Skip => "skip",
            Self::Update => "update",
            Self::Create => "create",
        }
    }
}

/// How an updating row treats the existing customer's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// The row's non-empty cells overwrite; empty cells keep what is stored.
    #[default]
    Overwrite,
    /// Only fields empty on file are filled; what is stored is never replaced.
    FillEmpty,
}

impl UpdateMode {
    /// Parses the wire code.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        match s {
            "overwrite" => Ok(Self::Overwrite),
            "fill_empty" => Ok(Self::FillEmpty),
            _ => Err("unknown_value"),
        }
    }

    /// Lays `row` over the stored `before` as this mode says.
    pub fn apply(self, before: CustomerFields, row: &CustomerFields) -> CustomerFields {
        UpdateRule::from(self).apply(before, row)
    }
}

/// How an updating row treats stored values, field by field: the mode for every field but the
/// listed exceptions, which are treated the other way ("fill empty only, but overwrite the
/// address").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateRule {
    /// The mode of most fields.
    pub mode: UpdateMode,
    /// Fields (import field names) treated the other way.
    pub except: Vec<String>,
}

impl From<UpdateMode> for UpdateRule {
    fn from(mode: UpdateMode) -> Self {
        Self {
            mode,
            except: Vec::new(),
        }
    }
}

impl UpdateRule {
    /// Lays `row` over the stored `before`, field by field.
    pub fn apply(&self, before: CustomerFields, row: &CustomerFields) -> CustomerFields {
        let by_default = self.mode == UpdateMode::Overwrite;
        before.laid_with(row, &|f| by_default != self.except.iter().any(|e| e == f))
    }
}

fn parse_bool(v: &str) -> Result<bool, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "" | "0" | "false" | "no" | "n" | "否" | "不同意" => Ok(false),
        "1" | "true" | "yes" | "y" | "是" | "同意" => Ok(true),
        _ => Err("invalid_type"),
    }
}

/// Gender by its code or as people write it (男, 女士, M, F …).
pub(crate) fn gender_of(v: &str) -> Option<Gender> {
    match v.trim().to_lowercase().as_str() {
        "male" | "m" | "男" | "男性" | "先生" => Some(Gender::Male),
        "female" | "f" | "女" | "女性" | "女士" => Some(Gender::Female),
        "other" | "其他" => Some(Gender::Other),
        "unspecified" | "未知" | "保密" => Some(Gender::Unspecified),
        _ => None,
    }
}

fn parse_gender(v: &str) -> Result<Gender, &'static str> {
    gender_of(v).ok_or("unknown_value")
}

fn parse_kind(v: &str) -> Result<CustomerKind, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "个人" | "person" => Ok(CustomerKind::Individual),
        "企业" | "公司" | "单位" => Ok(CustomerKind::Company),
        other => CustomerKind::parse(other),
    }
}

fn parse_lower<T>(
    parse: fn(&str) -> Result<T, &'static str>,
) -> impl Fn(&str) -> Result<T, &'static str> {
    move |v| parse(&v.trim().to_lowercase())
}

/// Parses `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYY年M月D日` or `MM-DD` (no year).
pub fn parse_birthday(v: &str, lunar: bool) -> Result<Anniversary, &'static str> {
    let v = v.trim().replace(['年', '月'], "-").replace('日', "");
    let v = v.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = v.split(['-', '/', '.']).filter(|p| !p.is_empty()).collect();
    let num = |s: &str| s.parse::<u32>().map_err(|_| "invalid_date");
    match parts.as_slice() {
        [y, m, d] => Ok(Anniversary {
            year: Some(y.parse().map_err(|_| "invalid_date")?),
            month: num(m)?,
            day: num(d)?,
            lunar,
        }),
        [m, d] => Ok(Anniversary {
            year: None,
            month: num(m)?,
            day: num(d)?,
            lunar,
        }),
        _ => Err("invalid_date"),
    }
}

/// Parses a column, recording an error against the file's column on failure.
fn parse_column<T>(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    errs: &mut Vec<(String, &'static str)>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    let (col, v) = get(field).filter(|(_, v)| !v.trim().is_empty())?;
    match parse(v.trim()) {
        Ok(x) => Some(x),
        Err(c) => {
            errs.push((col, c));
            None
        }
    }
}

/// Turns one row into a validated customer, collecting every problem with the file's column
/// name. `get(field)` gives the (header, cell) mapped to a field; `owner` owns the new
/// customer (`None`: the importer).
pub fn row_to_fields(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    default_source: SourceChannel,
    actor: &Actor,
    owner: Option<i64>,
    now: DateTime<Utc>,
) -> RowCheck {
    let mut errs: Vec<(String, &'static str)> = Vec::new();
    let take = |field: &str| -> Option<(String, String)> {
        get(field).filter(|(_, v)| !v.trim().is_empty())
    };
    let kind = parse_column(get, &mut errs, "kind", parse_kind);
    let gender = parse_column(get, &mut errs, "gender", parse_gender);
    let stage = parse_column(
        get,
        &mut errs,
        "lifecycle_stage",
        parse_lower(LifecycleStage::parse),
    );
    let channel = parse_column(
        get,
        &mut errs,
        "source_channel",
        parse_lower(SourceChannel::parse),
    );
    let lunar = parse_column(get, &mut errs, "birthday_lunar", parse_bool).unwrap_or(false);
    let birthday = parse_column(get, &mut errs, "birthday", |v| parse_birthday(v, lunar));
    let consent = parse_column(get, &mut errs, "consent_marketing", parse_bool).unwrap_or(false);
    let mut contact_points = Vec::new();
    let mut contact_columns = Vec::new();
    for (field, kind) in [
        ("mobile", ContactKind::Mobile),
        ("phone", ContactKind::Phone),
        ("email", ContactKind::Email),
        ("wechat", ContactKind::Wechat),
        ("qq", ContactKind::Qq),
    ] {
        if let Some((col, v)) = take(field) {
            contact_columns.push(col);
            contact_points.push(NewContactPoint {
                kind,
                value: v,
                label: None,
                is_primary: true,
                consent_marketing: consent,
                source: None,
            });
        }
    }
    let text = |f: &str| take(f).map(|(_, v)| v.trim().to_string());
    let source = Provenance {
        channel: channel.unwrap_or(default_source),
        direct: false,
        collected_by: actor.user_id(),
        collected_at: None,
    };
    let fields = CustomerFields {
        kind: kind.unwrap_or(CustomerKind::Individual),
        name: text("name").unwrap_or_default(),
        gender,
        birthday,
        id_number: text("id_number"),
        province: text("province"),
        city: text("city"),
        address: text("address"),
        time_zone: text("time_zone"),
        employer: text("employer"),
        job_title: text("job_title"),
        industry: text("industry"),
        lifecycle_stage: stage,
        owner_id: owner,
        tags: text("tags")
            .map(|t| {
                t.split([';', '；', '|', ',', '，'])
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        source: Some(source),
        profile: None,
        company: None,
        contact_points,
        allow_duplicate: false,
        custom: Default::default(),
    };
    // Validation paths back to the file's column names.
    let column_of = |path: &str| -> String {
        if let Some(rest) = path.strip_prefix("contact_points[") {
            let idx: usize = rest
                .split(']')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            return contact_columns
                .get(idx)
                .cloned()
                .unwrap_or_else(|| path.to_string());
        }
        let field = path.split(['.', '[']).next().unwrap_or(path);
        get(field)
            .map(|(c, _)| c)
            .unwrap_or_else(|| field.to_string())
    };
    match fields.validate(actor.id, now) {
        Ok(v) if errs.is_empty() => Ok(v),
        Ok(_) => Err(errs),
        Err(ValidationErrors(v)) => {
            errs.extend(v.into_iter().map(|e| (column_of(&e.field), e.message_key)));
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn birthdays() {
        assert_eq!(
            parse_birthday("1990/8/15", true),
            Ok(Anniversary {
                year: Some(1990),
                month: 8,
                day: 15,
                lunar: true
            })
        );
        assert_eq!(
            parse_birthday("1990年8月15日", false).map(|a| a.year),
            Ok(Some(1990))
        );
        assert_eq!(
            parse_birthday("1990-08-15 00:00:00", false).map(|a| a.day),
            Ok(15)
        );
        assert_eq!(
            parse_birthday("08-15", false),
            Ok(Anniversary {
                year: None,
                month: 8,
                day: 15,
                lunar: false
            })
        );
        assert!(parse_birthday("soon", false).is_err());
    }

    fn check(cols: &HashMap<&str, (&str, &str)>) -> RowCheck {
        let get = |f: &str| cols.get(f).map(|(h, v)| (h.to_string(), v.to_string()));
        row_to_fields(
            &get,
            SourceChannel::Import,
            &Actor::system(),
            None,
            Utc::now(),
        )
    }

    #[test]
    fn errors_name_the_file_column() {
        let cols: HashMap<&str, (&str, &str)> = [
            ("name", ("姓名", "")),
            ("mobile", ("手机", "12")),
            ("gender", ("性别", "x")),
        ]
        .into();
        let errs = check(&cols).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert!(
            cols.contains(&"姓名") && cols.contains(&"手机") && cols.contains(&"性别"),
            "{errs:?}"
        );
    }

    #[test]
    fn chinese_labels_are_read_as_codes() {
        let cols: HashMap<&str, (&str, &str)> = [
            ("name", ("姓名", "张伟")),
            ("gender", ("性别", "男")),
            ("kind", ("类型", "个人")),
            ("consent_marketing", ("同意营销", "是")),
            ("mobile", ("手机", "13800138000")),
        ]
        .into();
        let v = check(&cols).unwrap();
        assert_eq!(v.fields.gender, Some(Gender::Male));
        assert!(v.contact_points[0].consent_marketing);
    }

    #[test]
    fn fill_empty_never_replaces_a_stored_value() {
        let cols: HashMap<&str, (&str, &str)> = [
            ("name", ("姓名", "张伟")),
            ("city", ("城市", "北京")),
            ("province", ("省", "北京")),
        ]
        .into();
        let row = check(&cols).unwrap().fields;
        let mut stored = row.clone();
        stored.name = "张伟伟".into();
        stored.city = Some("上海".into());
        stored.province = None;
        let filled = UpdateMode::FillEmpty.apply(stored.clone(), &row);
        assert_eq!(filled.city.as_deref(), Some("上海"));
        assert_eq!(filled.province.as_deref(), Some("北京"));
        assert_eq!(filled.name, "张伟伟");
        let over = UpdateMode::Overwrite.apply(stored.clone(), &row);
        assert_eq!(over.city.as_deref(), Some("北京"));
        assert_eq!(over.name, "张伟");
        // Field by field: fill empty, but overwrite the city.
        let rule = UpdateRule {
            mode: UpdateMode::FillEmpty,
            except: vec!["city".into()],
        };
        let mixed = rule.apply(stored, &row);
        assert_eq!(
            (mixed.city.as_deref(), mixed.name.as_str()),
            (Some("北京"), "张伟伟")
        );
    }
}
