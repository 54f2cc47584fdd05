//! A custom field's value: parsed from what people type (a form, an import cell) or from the
//! API's JSON, shown back, and laid out for the store. The store keeps every kind in two
//! columns, so one index serves every field: `value_text` (the canonical text — a choice's
//! code, `2026-05-01`, `true`) for equality, text ranges and dates, and `value_number` for
//! numbers, money (in yuan) and user ids, for ranges. A multi-choice value is one row per code.

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::{FieldDefinition, FieldKind};
use crate::money::{parse_money, plain_money};

/// Longest text value: every value is in an index, and PostgreSQL refuses index entries over
/// 2,704 bytes (500 CJK characters are 1,500).
pub const MAX_TEXT: usize = 500;

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomValue {
    /// Free text (also a link's URL).
    Text(String),
    /// A number.
    Number(f64),
    /// Money in minor units (分).
    Money(i64),
    /// A calendar date.
    Date(NaiveDate),
    /// The codes of the chosen options (one for a choice field).
    Choices(Vec<String>),
    /// Yes or no.
    Boolean(bool),
    /// A user's id.
    User(i64),
}

/// One stored row of a value.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCell {
    /// The canonical text.
    pub text: String,
    /// The number, for kinds compared as numbers.
    pub number: Option<f64>,
}

impl CustomValue {
    /// Parses typed text for `def` (a form field, an import cell). Empty text is no value.
    /// Choice fields take a code or a label in either language; a multi-choice cell lists
    /// them separated by commas or 、; booleans take 是/否, yes/no, true/false, 1/0, Y/N.
    pub fn parse_text(def: &FieldDefinition, raw: &str) -> Result<Option<Self>, &'static str> {
        let v = raw.trim();
        if v.is_empty() {
            return Ok(None);
        }
        Ok(Some(match def.kind {
            FieldKind::Text => {
                if v.chars().count() > MAX_TEXT {
                    return Err("too_long");
                }
                CustomValue::Text(v.to_string())
            }
            FieldKind::Link => CustomValue::Text(check_link(v)?),
            FieldKind::Number => CustomValue::Number(parse_number(v)?),
            FieldKind::Money => CustomValue::Money(parse_money(v)?),
            FieldKind::Date => CustomValue::Date(parse_date(v)?),
            FieldKind::Choice => CustomValue::Choices(vec![choice_code(def, v)?]),
            FieldKind::MultiChoice => {
                let mut codes = Vec::new();
                for part in v.split([',', '，', '、', ';', '；']) {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    let code = choice_code(def, part)?;
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                if codes.is_empty() {
                    return Ok(None);
                }
                CustomValue::Choices(in_choice_order(def, codes))
            }
            FieldKind::Boolean => CustomValue::Boolean(parse_bool(v)?),
            FieldKind::User => CustomValue::User(
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("not_a_number")?,
            ),
        }))
    }

    /// Parses the API's JSON for `def`: `null` (or empty text) is no value; numbers may come
    /// as numbers or text, money as `"1234.50"` or a number of yuan, multi-choice as an array
    /// of codes (or text as [`CustomValue::parse_text`] reads it), booleans as `true`/`false`
    /// (or text).
    pub fn parse_json(def: &FieldDefinition, v: &Json) -> Result<Option<Self>, &'static str> {
        match (def.kind, v) {
            (_, Json::Null) => Ok(None),
            (FieldKind::MultiChoice, Json::Array(items)) => {
                let mut codes = Vec::new();
                for i in items {
                    let Json::String(s) = i else {
                        return Err("unknown_value");
                    };
                    let code = choice_code(def, s)?;
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                Ok((!codes.is_empty()).then(|| CustomValue::Choices(in_choice_order(def, codes))))
            }
            (FieldKind::Boolean, Json::Bool(b)) => Ok(Some(CustomValue::Boolean(*b))),
            (FieldKind::Number | FieldKind::Money | FieldKind::User, Json::Number(n)) => {
                Self::parse_text(def, &n.to_string())
            }
            (_, Json::String(s)) => Self::parse_text(def, s),
            _ => Err("invalid_type"),
        }
    }

    /// The API's JSON for the value (see [`CustomValue::parse_json`]).
    pub fn to_json(&self, kind: FieldKind) -> Json {
        match self {
            CustomValue::Text(s) => Json::String(s.clone()),
            CustomValue::Number(n) => serde_json::Number::from_f64(*n)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            CustomValue::Money(m) => Json::String(plain_money(*m)),
            CustomValue::Date(d) => Json::String(d.to_string()),
            CustomValue::Choices(c) if kind == FieldKind::Choice => {
                Json::String(c.first().cloned().unwrap_or_default())
            }
            CustomValue::Choices(c) => Json::Array(c.iter().cloned().map(Json::String).collect()),
            CustomValue::Boolean(b) => Json::Bool(*b),
            CustomValue::User(id) => Json::Number((*id).into()),
        }
    }

    /// The value as a form field shows it for editing (and an export cell in plain text):
    /// choices by code, joined by commas.
    pub fn to_input(&self) -> String {
        match self {
            CustomValue::Text(s) => s.clone(),
            CustomValue::Number(n) => format_number(*n),
            CustomValue::Money(m) => plain_money(*m),
            CustomValue::Date(d) => d.to_string(),
            CustomValue::Choices(c) => c.join(","),
            CustomValue::Boolean(b) => b.to_string(),
            CustomValue::User(id) => id.to_string(),
        }
    }

    /// The rows the store keeps (one per chosen option for a multi-choice field).
    pub fn cells(&self) -> Vec<StoredCell> {
        let one = |text: String, number: Option<f64>| vec![StoredCell { text, number }];
        match self {
            CustomValue::Number(n) => one(format_number(*n), Some(*n)),
            CustomValue::Money(m) => one(plain_money(*m), Some(*m as f64 / 100.0)),
            CustomValue::User(id) => one(id.to_string(), Some(*id as f64)),
            CustomValue::Choices(c) => c
                .iter()
                .map(|code| StoredCell {
                    text: code.clone(),
                    number: None,
                })
                .collect(),
            other => one(other.to_input(), None),
        }
    }

    /// Rebuilds a value from its stored rows (the inverse of [`CustomValue::cells`]). Rows
    /// that no longer parse (a kind's rules tightened) read as text rather than vanish.
    pub fn from_cells(kind: FieldKind, cells: &[StoredCell]) -> Option<Self> {
        let first = cells.first()?;
        Some(match kind {
            FieldKind::Choice | FieldKind::MultiChoice => {
                CustomValue::Choices(cells.iter().map(|c| c.text.clone()).collect())
            }
            FieldKind::Number => first
                .number
                .map(CustomValue::Number)
                .unwrap_or_else(|| CustomValue::Text(first.text.clone())),
            FieldKind::Money => parse_money(&first.text)
                .map(CustomValue::Money)
                .unwrap_or_else(|_| CustomValue::Text(first.text.clone())),
            FieldKind::Date => parse_date(&first.text)
                .map(CustomValue::Date)
                .unwrap_or_else(|_| CustomValue::Text(first.text.clone())),
            FieldKind::Boolean => CustomValue::Boolean(first.text == "true"),
            FieldKind::User => first
                .number
                .map(|n| CustomValue::User(n as i64))
                .unwrap_or_else(|| CustomValue::Text(first.text.clone())),
            FieldKind::Text | FieldKind::Link => CustomValue::Text(first.text.clone()),
        })
    }
}

/// A number as stored and shown: no trailing zeros, no exponent for everyday magnitudes.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Parses a number as typed: `1,234.5`, `1234`, `-3`; finite only.
pub fn parse_number(v: &str) -> Result<f64, &'static str> {
    let s: String = v
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.abs() < 1e15)
        .ok_or("not_a_number")
}

/// Parses a date: `2026-05-01`, `2026/5/1`, `2026.5.1`, `2026年5月1日`.
pub fn parse_date(v: &str) -> Result<NaiveDate, &'static str> {
    let v = v.trim().replace(['年', '月'], "-").replace('日', "");
    let v = v.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = v.split(['-', '/', '.']).filter(|p| !p.is_empty()).collect();
    let [y, m, d] = parts.as_slice() else {
        return Err("invalid_date");
    };
    let n = |s: &str| s.parse::<u32>().map_err(|_| "invalid_date");
    let y: i32 = y.parse().map_err(|_| "invalid_date")?;
    if !(1000..=9999).contains(&y) {
        return Err("invalid_date");
    }
    NaiveDate::from_ymd_opt(y, n(m)?, n(d)?).ok_or("invalid_date")
}

fn parse_bool(v: &str) -> Result<bool, &'static str> {
    match v.to_lowercase().as_str() {
        "是" | "有" | "yes" | "y" | "true" | "1" | "on" => Ok(true),
        "否" | "无" | "没有" | "no" | "n" | "false" | "0" | "off" => Ok(false),
        _ => Err("not_a_boolean"),
    }
}

/// An http(s) URL without spaces, up to [`MAX_TEXT`] characters (it is shown as a link, so no
/// `javascript:`).
fn check_link(v: &str) -> Result<String, &'static str> {
    let lower = v.to_ascii_lowercase();
    let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
        && v.len() > "https://".len()
        && !v.chars().any(char::is_whitespace)
        && v.chars().count() <= MAX_TEXT;
    if ok {
        Ok(v.to_string())
    } else {
        Err("invalid_link")
    }
}

/// Chosen codes in the order the field lists its choices, so a value reads back the same
/// whichever order it was typed in (and on either backend).
pub fn in_choice_order(def: &FieldDefinition, mut codes: Vec<String>) -> Vec<String> {
    codes.sort_by_key(|c| {
        def.choices
            .iter()
            .position(|x| &x.code == c)
            .unwrap_or(usize::MAX)
    });
    codes
}

/// A choice's code from its code or one of its labels.
fn choice_code(def: &FieldDefinition, v: &str) -> Result<String, &'static str> {
    let v = v.trim();
    def.choices
        .iter()
        .find(|c| c.code == v || c.label_zh == v || c.label_en.eq_ignore_ascii_case(v))
        .map(|c| c.code.clone())
        .ok_or("unknown_value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom_field::{AppliesTo, FieldChoice, FieldEntity};

    fn def(kind: FieldKind) -> FieldDefinition {
        FieldDefinition {
            id: 1,
            entity: FieldEntity::Customer,
            applies_to: AppliesTo::All,
            code: "f".into(),
            kind,
            label_zh: "字段".into(),
            label_en: "Field".into(),
            choices: ["gold:金卡:Gold", "silver:银卡:Silver"]
                .iter()
                .map(|s| {
                    let p: Vec<&str> = s.split(':').collect();
                    FieldChoice {
                        code: p[0].into(),
                        label_zh: p[1].into(),
                        label_en: p[2].into(),
                    }
                })
                .collect(),
            required: false,
            visible_to: vec![],
            sensitive: false,
            position: 0,
            preset: None,
            archived: false,
            version: 1,
        }
    }

    #[test]
    fn parses_what_people_type() {
        let p = |k, v| CustomValue::parse_text(&def(k), v);
        assert_eq!(p(FieldKind::Text, "  "), Ok(None));
        assert_eq!(
            p(FieldKind::Number, "1,234.5"),
            Ok(Some(CustomValue::Number(1234.5)))
        );
        assert_eq!(p(FieldKind::Number, "abc"), Err("not_a_number"));
        assert_eq!(
            p(FieldKind::Money, "¥1,000.5"),
            Ok(Some(CustomValue::Money(100_050)))
        );
        assert_eq!(
            p(FieldKind::Date, "2026年5月1日"),
            Ok(Some(CustomValue::Date(
                NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()
            )))
        );
        assert_eq!(p(FieldKind::Date, "2026-02-30"), Err("invalid_date"));
        assert_eq!(
            p(FieldKind::Choice, "金卡"),
            Ok(Some(CustomValue::Choices(vec!["gold".into()])))
        );
        assert_eq!(p(FieldKind::Choice, "bronze"), Err("unknown_value"));
        assert_eq!(
            p(FieldKind::MultiChoice, "Silver、gold, 金卡"),
            Ok(Some(CustomValue::Choices(vec![
                "gold".into(),
                "silver".into()
            ])))
        );
        assert_eq!(
            p(FieldKind::Boolean, "是"),
            Ok(Some(CustomValue::Boolean(true)))
        );
        assert_eq!(p(FieldKind::Boolean, "maybe"), Err("not_a_boolean"));
        assert_eq!(
            p(FieldKind::Link, "javascript:alert(1)"),
            Err("invalid_link")
        );
        assert_eq!(
            p(FieldKind::Link, "https://example.cn/a"),
            Ok(Some(CustomValue::Text("https://example.cn/a".into())))
        );
        assert_eq!(p(FieldKind::User, "0"), Err("not_a_number"));
    }

    #[test]
    fn json_round_trips_and_cells_rebuild_the_value() {
        let cases = [
            (FieldKind::Number, serde_json::json!(12.5)),
            (FieldKind::Money, serde_json::json!("1234.50")),
            (FieldKind::Date, serde_json::json!("2026-05-01")),
            (FieldKind::Choice, serde_json::json!("gold")),
            (
                FieldKind::MultiChoice,
                serde_json::json!(["gold", "silver"]),
            ),
            (FieldKind::Boolean, serde_json::json!(false)),
            (FieldKind::User, serde_json::json!(7)),
            (FieldKind::Text, serde_json::json!("VIP 客户")),
        ];
        for (kind, json) in cases {
            let v = CustomValue::parse_json(&def(kind), &json).unwrap().unwrap();
            assert_eq!(v.to_json(kind), json, "{kind:?}");
            assert_eq!(
                CustomValue::from_cells(kind, &v.cells()),
                Some(v),
                "{kind:?}"
            );
        }
        assert_eq!(
            CustomValue::parse_json(&def(FieldKind::Boolean), &serde_json::json!([1])),
            Err("invalid_type")
        );
        let money = CustomValue::Money(100_050).cells();
        assert_eq!(money[0].number, Some(1000.5));
        assert_eq!(plain_money(-5), "-0.05");
        assert_eq!(format_number(100.0), "100");
    }
}
