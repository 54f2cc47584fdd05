//! Contact points are stored twice: as the customer gave them (raw) and normalised (E.164 phone,
//! lower-cased email), because a touchpoint sees "138 1234 5678", "+86-138-1234-5678" and
//! "008613812345678" for the same mobile and must find one customer.

use crate::vocabulary::ContactKind;

/// Region assumed for phone numbers written without a country code.
pub const DEFAULT_REGION: phonenumber::country::Id = phonenumber::country::Id::CN;

/// Longest raw contact value accepted (addresses are the long ones).
pub const MAX_VALUE_CHARS: usize = 500;

/// A validated contact value: raw as typed, plus the normalised form used for lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactValue {
    /// What the customer wrote, trimmed.
    pub raw: String,
    /// Normalised form (E.164 for phones, lower-case for emails and ids, collapsed spaces for addresses).
    pub normalized: String,
}

/// Validates and normalises a value of the given kind.
pub fn normalize(kind: ContactKind, raw: &str) -> Result<ContactValue, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("required");
    }
    if raw.chars().count() > MAX_VALUE_CHARS {
        return Err("too_long");
    }
    if raw.chars().any(char::is_control) {
        return Err("invalid_characters");
    }
    let normalized = match kind {
        ContactKind::Phone | ContactKind::Mobile => normalize_phone(raw)?,
        ContactKind::Email => normalize_email(raw)?,
        ContactKind::Wechat => normalize_wechat(raw)?,
        ContactKind::Qq => normalize_qq(raw)?,
        ContactKind::Address => raw.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    Ok(ContactValue {
        raw: raw.to_string(),
        normalized,
    })
}

/// Normalises a phone number to E.164, assuming China when no country code is given.
/// "00" international prefixes are accepted as "+".
pub fn normalize_phone(raw: &str) -> Result<String, &'static str> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
        .collect();
    let cleaned = match cleaned.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => cleaned,
    };
    if cleaned.len() < 5
        || !cleaned
            .trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return Err("invalid_phone");
    }
    let parsed = phonenumber::parse(Some(DEFAULT_REGION), &cleaned).map_err(|_| "invalid_phone")?;
    if !phonenumber::is_valid(&parsed) {
        return Err("invalid_phone");
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// How a stored (E.164) phone number is shown: a number in the default region as it is dialled
/// there ("138 0013 8000", "021 6099 1761"), any other in international form
/// ("+852 2123 4567"). Customers type the same number many ways; one shape per number makes a
/// list readable and two entries of one number recognisable. `None` if it does not parse.
pub fn display_phone(e164: &str) -> Option<String> {
    let parsed = phonenumber::parse(Some(DEFAULT_REGION), e164).ok()?;
    let mode = if parsed.country().id() == Some(DEFAULT_REGION) {
        phonenumber::Mode::National
    } else {
        phonenumber::Mode::International
    };
    Some(parsed.format().mode(mode).to_string())
}

/// Lower-cases and checks the shape of an email address (one @, a dotted domain, no spaces).
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let e = raw.trim().to_lowercase();
    let Some((local, domain)) = e.split_once('@') else {
        return Err("invalid_email");
    };
    let ok = !local.is_empty()
        && local.len() <= 64
        && e.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !e.chars().any(char::is_whitespace)
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(e)
    } else {
        Err("invalid_email")
    }
}

/// WeChat ids: 6–20 characters, letters first, then letters, digits, `_` or `-`.
/// Phone-number logins are also WeChat ids, so a pure phone number is accepted too.
fn normalize_wechat(raw: &str) -> Result<String, &'static str> {
    let v = raw.trim().to_lowercase();
    let ok_id = (6..=20).contains(&v.len())
        && v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok_id {
        Ok(v)
    } else {
        normalize_phone(&v).map_err(|_| "invalid_wechat")
    }
}

/// QQ numbers: 5–11 digits, not starting with 0.
fn normalize_qq(raw: &str) -> Result<String, &'static str> {
    let v = raw.trim();
    if (5..=11).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()) && !v.starts_with('0') {
        Ok(v.to_string())
    } else {
        Err("invalid_qq")
    }
}

/// What a free-text touchpoint query looks like, so identification asks the right index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryShape {
    /// Parses as a phone number (normalised E.164).
    Phone(String),
    /// Looks like an email (normalised).
    Email(String),
    /// Anything else: a name, pinyin or initials (normalised).
    Text(String),
}

/// Classifies a touchpoint query. Digits-only input that is not a valid phone stays text
/// (it may be a QQ number or part of a name).
pub fn classify_query(q: &str) -> QueryShape {
    let q = q.trim();
    if q.contains('@') {
        if let Ok(e) = normalize_email(q) {
            return QueryShape::Email(e);
        }
    }
    let digitish = q
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'));
    if digitish && q.chars().filter(char::is_ascii_digit).count() >= 7 {
        if let Ok(p) = normalize_phone(q) {
            return QueryShape::Phone(p);
        }
    }
    QueryShape::Text(crate::name::normalize_query(q))
}

/// The digits of a phone number typed in part ("137 3672", "137-3672", "(137)3672",
/// "+86 137", "021-6099"), as the identification keys hold them: China's +86 / 0086 country
/// code and a landline's leading trunk 0 dropped, since keys keep national numbers without
/// either. `None` unless the query is only digits and phone punctuation with at least 3 digits
/// (fewer would match half the book).
pub fn phone_digits(q: &str) -> Option<String> {
    let q = q.trim();
    if !q
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.' | '/'))
    {
        return None;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let international = q.starts_with('+') || digits.starts_with("00");
    let national = if international {
        let d = digits.trim_start_matches("00");
        d.strip_prefix("86").unwrap_or(d)
    } else {
        digits.strip_prefix('0').unwrap_or(&digits)
    };
    (national.len() >= 3).then(|| national.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_phones_keep_only_the_digits_keys_hold() {
        for typed in ["137 3672", "137-3672", "(137)3672", "137.3672", " 1373672 "] {
            assert_eq!(phone_digits(typed).as_deref(), Some("1373672"), "{typed}");
        }
        assert_eq!(phone_digits("+86 137 36").as_deref(), Some("13736"));
        assert_eq!(phone_digits("0086-137").as_deref(), Some("137"));
        assert_eq!(phone_digits("021-6099").as_deref(), Some("216099"));
        assert_eq!(phone_digits("+852 2123").as_deref(), Some("8522123"));
        assert_eq!(phone_digits("13"), None, "too short to mean anything");
        assert_eq!(phone_digits("王 137"), None);
        assert_eq!(phone_digits("zhang"), None);
    }

    #[test]
    fn phones_are_shown_one_way_whatever_was_typed() {
        for typed in [
            "138 0013 8000",
            "+86-138-0013-8000",
            "008613800138000",
            "13800138000",
        ] {
            let e164 = normalize_phone(typed).unwrap();
            assert_eq!(
                display_phone(&e164).as_deref(),
                Some("138 0013 8000"),
                "{typed}"
            );
        }
        let landline = normalize_phone("021 60991761").unwrap();
        assert_eq!(display_phone(&landline).as_deref(), Some("021 6099 1761"));
        let hong_kong = normalize_phone("+852 2123 4567").unwrap();
        assert_eq!(display_phone(&hong_kong).as_deref(), Some("+852 2123 4567"));
        assert_eq!(display_phone("not a number"), None);
    }

    #[test]
    fn the_same_mobile_in_every_format_normalises_alike() {
        for raw in [
            "+86 138-1234-5678",
            "13812345678",
            "138 1234 5678",
            "008613812345678",
            "(+86) 138.1234.5678",
        ] {
            assert_eq!(normalize_phone(raw).unwrap(), "+8613812345678", "{raw}");
        }
    }

    #[test]
    fn foreign_and_landline_numbers() {
        assert_eq!(normalize_phone("010 6552 9988").unwrap(), "+861065529988");
        assert_eq!(normalize_phone("+1 415 555 2671").unwrap(), "+14155552671");
        assert_eq!(normalize_phone("12345"), Err("invalid_phone"));
        assert_eq!(normalize_phone("abc"), Err("invalid_phone"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Li.Na@Example.COM ").unwrap(),
            "li.na@example.com"
        );
        for bad in [
            "x", "a@b", "a@@b.cn", "a b@c.cn", "@c.cn", "a@.cn", "a@c..cn",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_classification() {
        assert_eq!(
            classify_query("138 1234 5678"),
            QueryShape::Phone("+8613812345678".into())
        );
        assert_eq!(
            classify_query("LI@x.cn"),
            QueryShape::Email("li@x.cn".into())
        );
        assert_eq!(
            classify_query("ZhangSan"),
            QueryShape::Text("zhangsan".into())
        );
    }

    #[test]
    fn wechat_and_qq() {
        assert!(normalize(ContactKind::Wechat, "wxid_abc123").is_ok());
        assert!(normalize(ContactKind::Wechat, "1abc").is_err());
        assert!(normalize(ContactKind::Qq, "10001").is_ok());
        assert!(normalize(ContactKind::Qq, "0123").is_err());
    }
}
