//! The page texts, looked up in the Fluent catalogue ([`crate::catalog`], files under
//! `locales/`). Keys are `area.name`; field-level validation codes (no dot) fall through to
//! the API's messages in [`crate::i18n`], so a field error reads the same in a page and in a
//! JSON response. Vocabulary codes get their labels from [`label`].

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
    let thousands = n.map(super::format::thousands);
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

/// The catalogue key saying what an identification hit matched on.
pub fn match_key(matched_on: &str) -> &'static str {
    match matched_on {
        "phone" => "match.phone",
        "email" => "match.email",
        "name" => "match.name",
        "name_part" => "match.name_part",
        "pinyin" => "match.pinyin",
        "pinyin_part" => "match.pinyin_part",
        "initials" => "match.initials",
        _ => "match.other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanxi_domain::vocabulary::*;

    /// Every `t("…")` key in a template or a page module exists in both languages.
    #[test]
    fn every_used_key_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        let mut seen = 0;
        let mut files = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = ["templates", "src/ui", "src/features"]
            .iter()
            .map(|s| format!("{dir}{s}").into())
            .collect();
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        {
            for path in files {
                let text = std::fs::read_to_string(&path).unwrap();
                for call in [
                    "tf(\"",
                    "count(\"",
                    "count_with(\"",
                    "t_with(\"",
                    "count_and(\"",
                ] {
                    for piece in text.split(call).skip(1) {
                        let key: String = piece.chars().take_while(|c| *c != '"').collect();
                        if key.contains('.') {
                            seen += 1;
                            let id = catalog::id(&key);
                            if !catalog::has(Locale::En, &id) || !catalog::has(Locale::ZhCn, &id) {
                                missing.push(format!("{}: {key}", path.display()));
                            }
                        }
                    }
                }
                // `t("…")` itself, not the tail of `count("…")` or `format("…")`.
                let plain_calls = text.match_indices("t(\"").filter(|(i, _)| {
                    !text[..*i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                for (i, _) in plain_calls {
                    let piece = &text[i + 3..];
                    let key: String = piece.chars().take_while(|c| *c != '"').collect();
                    if key.contains('.')
                        && key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                    {
                        seen += 1;
                        match lookup(&key) {
                            Some((zh, en)) if !zh.is_empty() && !en.is_empty() && zh != en => {}
                            _ => missing.push(format!("{}: {key}", path.display())),
                        }
                    }
                }
            }
        }
        assert!(seen > 150, "scanned only {seen} keys");
        assert!(missing.is_empty(), "untranslated: {missing:#?}");
    }

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

    /// Every member of every vocabulary shown on a page has a label in both languages.
    #[test]
    fn every_vocabulary_code_has_labels() {
        fn check(v: &str, codes: Vec<&str>, missing: &mut Vec<String>) {
            for c in codes {
                match lookup_label(v, c) {
                    Some((zh, en)) if !zh.is_empty() && !en.is_empty() => {}
                    _ => missing.push(format!("{v}.{c}")),
                }
            }
        }
        let mut m = Vec::new();
        check(
            "lifecycle_stage",
            LifecycleStage::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "customer_kind",
            CustomerKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "gender",
            Gender::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "source_channel",
            SourceChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "contact_kind",
            ContactKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "relation_kind",
            RelationKind::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "principal_role",
            PrincipalRole::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "order_channel",
            OrderChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "interaction_channel",
            InteractionChannel::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "interaction_direction",
            InteractionDirection::ALL
                .iter()
                .map(|x| x.as_str())
                .collect(),
            &mut m,
        );
        check(
            "business_status",
            BusinessStatus::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "credit_status",
            CreditStatus::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "company_size",
            CompanySize::ALL.iter().map(|x| x.as_str()).collect(),
            &mut m,
        );
        check(
            "role",
            guanxi_domain::role::Role::ALL
                .iter()
                .map(|x| x.as_str())
                .collect(),
            &mut m,
        );
        check(
            "churn_reason",
            guanxi_analytics::churn::REASONS.concat(),
            &mut m,
        );
        check(
            "audit_action",
            crate::ui::admin::AUDIT_ACTIONS.to_vec(),
            &mut m,
        );
        check(
            "audit_entity",
            crate::ui::admin::AUDIT_ENTITIES.to_vec(),
            &mut m,
        );
        check("task_status", vec!["open", "done"], &mut m);
        check("tier", guanxi_domain::segment::TIERS.to_vec(), &mut m);
        check(
            "value_cell",
            guanxi_domain::segment::VALUE_CELLS.to_vec(),
            &mut m,
        );
        check(
            "value_action",
            guanxi_domain::segment::VALUE_CELLS.to_vec(),
            &mut m,
        );
        check(
            "activity",
            guanxi_domain::segment::ACTIVITIES.to_vec(),
            &mut m,
        );
        check(
            "rfm_segment",
            guanxi_domain::segment::RFM_SEGMENTS.to_vec(),
            &mut m,
        );
        assert!(m.is_empty(), "no label: {m:?}");
    }
}
