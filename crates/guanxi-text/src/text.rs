//! Texts by key, looked up in the Fluent catalogue ([`crate::catalog`], files under
//! `locales/`). Keys are `area.name`; field-level validation codes (no dot) fall through to
//! the messages of [`crate::i18n`], so a field error reads the same in a page, a JSON response
//! and the CLI. Vocabulary codes get their labels from [`label`].

use crate::catalog;
use crate::i18n::{message, Locale};

/// Looks a key up in both languages; `None` unless both have it without placeholders (tests
/// assert every key used with [`t`] is such a text).
pub fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    let id = catalog::id(key);
    Some((
        catalog::plain(Locale::ZhCn, &id)?,
        catalog::plain(Locale::En, &id)?,
    ))
}

/// A page text in a language. Keys without a dot are validation / error codes.
pub fn t(locale: Locale, key: &str) -> &'static str {
    match catalog::plain(locale, &catalog::id(key)) {
        Some(text) => text,
        None if !key.contains('.') => message(locale, key),
        None => untranslated(locale),
    }
}

fn untranslated(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn => "（未翻译）",
        Locale::En => "(untranslated)",
    }
}

/// Named arguments of a text: `("n", &42)`, `("name", &customer.name)`.
pub type Args<'a> = [(&'a str, &'a (dyn std::fmt::Display + Sync))];

/// A text with named placeholders filled (`{ $name }` in the catalogue).
pub fn tf(locale: Locale, key: &str, args: &Args<'_>) -> String {
    with_args(locale, key, None, args)
}

/// A text about `n` things: `{ $n }` is the number with thousands separated, and `$count`
/// picks the plural form by the language's CLDR rules (English "1 customer", "2 customers").
pub fn count(locale: Locale, key: &str, n: i64) -> String {
    with_args(locale, key, Some(n), &[])
}

/// [`count`] with more named placeholders.
pub fn count_with(locale: Locale, key: &str, n: i64, args: &Args<'_>) -> String {
    with_args(locale, key, Some(n), args)
}

fn with_args(locale: Locale, key: &str, n: Option<i64>, args: &Args<'_>) -> String {
    let shown: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let thousands = n.map(crate::format::thousands);
    let mut fa: Vec<(&str, catalog::Arg<'_>)> = shown
        .iter()
        .map(|(k, v)| (*k, catalog::Arg::Text(v)))
        .collect();
    if let (Some(n), Some(t)) = (n, &thousands) {
        fa.push(("n", catalog::Arg::Text(t)));
        fa.push(("count", catalog::Arg::Number(n)));
    }
    catalog::format(locale, &catalog::id(key), &fa)
        .unwrap_or_else(|| untranslated(locale).to_string())
}

/// The Fluent id of a vocabulary label.
fn label_id(vocabulary: &str, code: &str) -> String {
    format!("label-{vocabulary}-{}", catalog::id(code))
}

/// Looks a vocabulary label up in both languages.
pub fn lookup_label(vocabulary: &str, code: &str) -> Option<(&'static str, &'static str)> {
    let id = label_id(vocabulary, code);
    Some((
        catalog::plain(Locale::ZhCn, &id)?,
        catalog::plain(Locale::En, &id)?,
    ))
}

/// The label of a vocabulary code; an unknown code shows as itself (data from a newer
/// version stays readable).
pub fn label(locale: Locale, vocabulary: &str, code: &str) -> String {
    catalog::plain(locale, &label_id(vocabulary, code))
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One customer is "1 customer" in English; other counts and Chinese are unchanged.
    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(Locale::En, "segment.size_now", 1), "1 customer now");
        assert_eq!(count(Locale::En, "segment.size_now", 0), "0 customers now");
        assert_eq!(
            count(Locale::En, "segment.size_now", 12_345),
            "12,345 customers now"
        );
        assert_eq!(count(Locale::ZhCn, "segment.size_now", 1), "当前 1 位客户");
        // A key without a singular variant keeps its one form.
        assert_eq!(
            count(Locale::En, "bulk.failed", 1),
            "1 could not be updated (no permission or changed by someone else)."
        );
        // Named placeholders are filled by name, in any order.
        assert_eq!(
            tf(
                Locale::En,
                "explain.orders",
                &[("m", &"¥3,400"), ("f", &12)]
            ),
            "12 orders, ¥3,400 in total"
        );
        assert_eq!(
            count_with(
                Locale::En,
                "scores.last_run",
                1,
                &[("at", &"2026-12-04 09:00")]
            ),
            "Last computed 2026-12-04 09:00 for 1 customer."
        );
    }
}
