//! What a campaign says: per language a subject and a body with merge fields (`{{name}}`,
//! `{{salutation}}` — 王先生 / Mr Wang —, `{{owner}}`, `{{points}}`, `{{coupon}}`), and for SMS
//! the provider's approved template code with its parameters. Rendering is pure: the sender
//! hands in each recipient's [`MergeData`].

use serde::{Deserialize, Serialize};

use super::Channel;
use crate::error::ValidationErrors;
use crate::profile::check_text;

/// Merge fields a campaign's text may use.
pub const MERGE_FIELDS: [&str; 5] = ["name", "salutation", "owner", "points", "coupon"];
/// Longest subject, characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest body, characters.
pub const MAX_BODY: usize = 20_000;
/// Most SMS template parameters.
pub const MAX_SMS_PARAMS: usize = 10;

/// One SMS template parameter: the name the provider's template uses, and its value (merge
/// fields allowed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsParam {
    /// Parameter name in the template (`name`, `code`; Tencent's are positional, in order).
    pub key: String,
    /// Its value, e.g. `{{salutation}}`.
    pub value: String,
}

/// One version of the content. For a call list the subject is the task's title and the body
/// the call script; for SMS the body is the approved template's text (what the customer
/// reads, for the preview and the timeline) and `sms_template` its code at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Subject (e-mail) or task title (call list), Chinese.
    #[serde(default)]
    pub subject_zh: String,
    /// The same in English.
    #[serde(default)]
    pub subject_en: String,
    /// Body, Chinese (plain text; links are tracked).
    pub body_zh: String,
    /// Body, English (customers with a Latin-script name get it).
    #[serde(default)]
    pub body_en: String,
    /// The provider's template code (SMS only), e.g. `SMS_154950909`.
    #[serde(default)]
    pub sms_template: String,
    /// The template's parameters, in order (SMS only).
    #[serde(default)]
    pub sms_params: Vec<SmsParam>,
}

impl Variant {
    /// Checks the variant for `channel`; `has_offer` allows `{{coupon}}`.
    pub fn validate(&self, channel: Channel, has_offer: bool) -> Result<Variant, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut v = self.clone();
        for s in [
            &mut v.subject_zh,
            &mut v.subject_en,
            &mut v.body_zh,
            &mut v.body_en,
            &mut v.sms_template,
        ] {
            *s = s.trim().to_string();
        }
        if channel != Channel::Sms && v.subject_zh.is_empty() {
            e.push("subject_zh", "required");
        }
        if v.body_zh.is_empty() {
            e.push("body_zh", "required");
        }
        for (field, text, max) in [
            ("subject_zh", &v.subject_zh, MAX_SUBJECT),
            ("subject_en", &v.subject_en, MAX_SUBJECT),
            ("body_zh", &v.body_zh, MAX_BODY),
            ("body_en", &v.body_en, MAX_BODY),
        ] {
            check_text(&mut e, field, Some(text), max);
            if field.starts_with("subject") && text.contains('\n') {
                e.push(field, "invalid_characters");
            }
            check_fields(&mut e, field, text, has_offer);
        }
        if channel == Channel::Sms {
            if v.sms_template.is_empty() {
                e.push("sms_template", "required");
            } else if !v
                .sms_template
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || v.sms_template.len() > 64
            {
                e.push("sms_template", "invalid_format");
            }
            if v.sms_params.len() > MAX_SMS_PARAMS {
                e.push("sms_params", "too_many");
            }
            for (i, p) in v.sms_params.iter_mut().enumerate() {
                p.key = p.key.trim().to_string();
                if p.key.is_empty()
                    || p.key.len() > 32
                    || !p.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    e.push(format!("sms_params[{i}].key"), "invalid_format");
                }
                check_text(
                    &mut e,
                    &format!("sms_params[{i}].value"),
                    Some(&p.value),
                    100,
                );
                check_fields(
                    &mut e,
                    &format!("sms_params[{i}].value"),
                    &p.value,
                    has_offer,
                );
            }
        } else if !v.sms_template.is_empty() || !v.sms_params.is_empty() {
            e.push("sms_template", "not_allowed");
        }
        e.finish(|| v)
    }

    /// The content for one recipient in `lang` (`en` for English, else Chinese; an empty
    /// English text falls back to the Chinese one).
    pub fn render(&self, lang: &str, d: &MergeData) -> Rendered {
        let en = lang == "en";
        let pick = |zh: &str, en_text: &str| {
            if en && !en_text.is_empty() {
                en_text.to_string()
            } else {
                zh.to_string()
            }
        };
        let lang = if en && !self.body_en.is_empty() {
            "en"
        } else {
            "zh-CN"
        };
        Rendered {
            subject: merge(&pick(&self.subject_zh, &self.subject_en), lang, d),
            body: merge(&pick(&self.body_zh, &self.body_en), lang, d),
            sms_params: self
                .sms_params
                .iter()
                .map(|p| (p.key.clone(), merge(&p.value, lang, d)))
                .collect(),
        }
    }
}

/// One recipient's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject or task title.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// SMS template parameters, in order.
    pub sms_params: Vec<(String, String)>,
}

/// What a recipient's merge fields are filled from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeData {
    /// Full name.
    pub name: String,
    /// Gender code (`male`, `female`, …), for the form of address.
    pub gender: Option<String>,
    /// Their owner's display name.
    pub owner: Option<String>,
    /// Points balance.
    pub points: Option<i64>,
    /// The coupon code issued to them for this campaign.
    pub coupon: Option<String>,
}

fn check_fields(e: &mut ValidationErrors, field: &str, text: &str, has_offer: bool) {
    for name in fields_in(text) {
        if !MERGE_FIELDS.contains(&name) {
            e.push(field, "unknown_merge_field");
            return;
        }
        if name == "coupon" && !has_offer {
            e.push(field, "needs_offer");
            return;
        }
    }
}

/// The merge field names used in `text` (`{{ name }}`, spaces allowed).
pub fn fields_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.push(after[..j].trim());
        rest = &after[j + 2..];
    }
    out
}

/// Fills the merge fields of `text`; an unknown one is left as written.
pub fn merge(text: &str, lang: &str, d: &MergeData) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let value = match after[..j].trim() {
            "name" => Some(d.name.clone()),
            "salutation" => Some(salutation(&d.name, d.gender.as_deref(), lang)),
            "owner" => Some(d.owner.clone().unwrap_or_default()),
            "points" => Some(d.points.unwrap_or(0).to_string()),
            "coupon" => Some(d.coupon.clone().unwrap_or_default()),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..i + 2 + j + 2]),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Two-character surnames (复姓), the common ones; any other name's surname is its first
/// character.
const COMPOUND_SURNAMES: [&str; 30] = [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门", "申屠", "澹台", "公冶", "太史",
    "濮阳", "闻人", "万俟", "单于", "呼延", "赫连",
];

/// Whether a name is written in Chinese characters (its owner gets Chinese content).
pub fn is_chinese_name(name: &str) -> bool {
    name.chars().any(crate::name::is_han)
}

/// The surname of a name: 欧阳 of 欧阳娜娜, 王 of 王伟, Smith of "John Smith".
pub fn surname(name: &str) -> String {
    let name = name.trim();
    if is_chinese_name(name) {
        if let Some(s) = COMPOUND_SURNAMES.iter().find(|s| name.starts_with(**s)) {
            if name.chars().count() > 2 {
                return s.to_string();
            }
        }
        name.chars().next().map(String::from).unwrap_or_default()
    } else {
        name.split_whitespace().last().unwrap_or("").to_string()
    }
}

/// The polite form of address: 王先生 / 王女士 (Mr Wang / Ms Wang); the full name when the
/// gender is not known, so nobody is addressed wrongly.
pub fn salutation(name: &str, gender: Option<&str>, lang: &str) -> String {
    let s = surname(name);
    match (gender, lang == "en") {
        (Some("male"), false) if !s.is_empty() => format!("{s}先生"),
        (Some("female"), false) if !s.is_empty() => format!("{s}女士"),
        (Some("male"), true) if !s.is_empty() => format!("Mr {}", latin_surname(name, &s)),
        (Some("female"), true) if !s.is_empty() => format!("Ms {}", latin_surname(name, &s)),
        _ => name.trim().to_string(),
    }
}

/// In English, a Chinese surname is written in pinyin (王 → Wang).
fn latin_surname(name: &str, s: &str) -> String {
    if is_chinese_name(name) {
        let p = crate::name::CustomerName::parse(s)
            .map(|n| n.pinyin().to_string())
            .unwrap_or_else(|_| s.to_string());
        let mut c = p.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => p,
        }
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str, gender: Option<&str>) -> MergeData {
        MergeData {
            name: name.into(),
            gender: gender.map(str::to_string),
            owner: Some("李娜".into()),
            points: Some(1280),
            coupon: Some("MID-7Q2K".into()),
        }
    }

    #[test]
    fn forms_of_address() {
        assert_eq!(salutation("王伟", Some("male"), "zh-CN"), "王先生");
        assert_eq!(salutation("欧阳娜娜", Some("female"), "zh-CN"), "欧阳女士");
        assert_eq!(salutation("欧阳", Some("male"), "zh-CN"), "欧先生");
        assert_eq!(salutation("张三", None, "zh-CN"), "张三");
        assert_eq!(salutation("王伟", Some("male"), "en"), "Mr Wang");
        assert_eq!(salutation("Jane Smith", Some("female"), "en"), "Ms Smith");
        assert_eq!(salutation("Jane Smith", Some("other"), "en"), "Jane Smith");
    }

    #[test]
    fn merge_fields_are_filled_and_unknown_ones_kept() {
        let d = data("王伟", Some("male"));
        assert_eq!(
            merge(
                "{{salutation}}：您有 {{ points }} 积分，券码 {{coupon}}，顾问 {{owner}}。{{x}}",
                "zh-CN",
                &d
            ),
            "王先生：您有 1280 积分，券码 MID-7Q2K，顾问 李娜。{{x}}"
        );
        assert_eq!(merge("{{name", "zh-CN", &d), "{{name");
    }

    #[test]
    fn english_content_goes_to_latin_names_and_falls_back_to_chinese() {
        let v = Variant {
            subject_zh: "中秋快乐".into(),
            subject_en: "Happy Mid-Autumn".into(),
            body_zh: "{{salutation}}，您好".into(),
            body_en: "Dear {{salutation}}".into(),
            sms_template: String::new(),
            sms_params: vec![],
        };
        let r = v.render("en", &data("Jane Smith", Some("female")));
        assert_eq!(r.subject, "Happy Mid-Autumn");
        assert_eq!(r.body, "Dear Ms Smith");
        let mut zh_only = v.clone();
        zh_only.body_en.clear();
        zh_only.subject_en.clear();
        let r = zh_only.render("en", &data("Jane Smith", Some("female")));
        assert_eq!(r.subject, "中秋快乐");
        assert_eq!(r.body, "Smith女士，您好");
    }

    #[test]
    fn unknown_fields_and_a_coupon_without_an_offer_are_refused() {
        let v = Variant {
            subject_zh: "好礼".into(),
            subject_en: String::new(),
            body_zh: "{{nmae}}".into(),
            body_en: "code {{coupon}}".into(),
            sms_template: String::new(),
            sms_params: vec![],
        };
        let e = v.validate(Channel::Email, false).unwrap_err();
        let codes: Vec<(&str, &str)> =
            e.0.iter()
                .map(|x| (x.field.as_str(), x.code.as_str()))
                .collect();
        assert_eq!(
            codes,
            [
                ("body_zh", "unknown_merge_field"),
                ("body_en", "needs_offer")
            ]
        );
        let sms = Variant {
            subject_zh: String::new(),
            subject_en: String::new(),
            body_zh: "【茶舍】{{salutation}}，中秋快乐".into(),
            body_en: String::new(),
            sms_template: "SMS 1".into(),
            sms_params: vec![SmsParam {
                key: "name".into(),
                value: "{{salutation}}".into(),
            }],
        };
        let e = sms.validate(Channel::Sms, false).unwrap_err();
        assert_eq!(e.0[0].field, "sms_template");
        assert_eq!(e.0[0].code, "invalid_format");
    }
}
