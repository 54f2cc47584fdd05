//! Languages, and the words for codes. Codes are stable identifiers (validation codes from the
//! domain, error codes from this crate); their texts are `code-<code>` in the Fluent catalogue
//! ([`crate::catalog`], `locales/*/errors.ftl`).

/// A UI / API language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English.
    En,
}

impl Locale {
    /// Picks the first supported language from an `Accept-Language` header; `None` if none is.
    pub fn from_accept_language(h: &str) -> Option<Self> {
        let mut langs: Vec<(f32, &str)> = h
            .split(',')
            .filter_map(|part| {
                let mut it = part.trim().split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse().ok()))
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        langs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        langs.into_iter().find_map(|(_, t)| Self::from_code(t))
    }

    /// Parses `zh-CN`, `zh`, `en`, `en-US` …
    pub fn from_code(code: &str) -> Option<Self> {
        let c = code.to_ascii_lowercase();
        if c.starts_with("zh") {
            Some(Self::ZhCn)
        } else if c.starts_with("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }
}

/// The localised text for a code (`code-<code>` in the catalogue); unknown codes fall back to
/// a generic message, never to an empty string.
pub fn message(locale: Locale, code: &str) -> &'static str {
    crate::catalog::plain(locale, &format!("code-{code}"))
        .or_else(|| crate::catalog::plain(locale, "code-fallback"))
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("fr;q=1, en-US;q=0.5, zh;q=0.3"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("fr"), None);
    }

    #[test]
    fn every_domain_code_has_both_languages() {
        for code in ["invalid_phone", "required", "invalid_id_number", "conflict"] {
            assert_ne!(
                message(Locale::En, code),
                message(Locale::En, "no-such-code")
            );
            assert_ne!(
                message(Locale::ZhCn, code),
                message(Locale::ZhCn, "no-such-code")
            );
        }
    }
}
