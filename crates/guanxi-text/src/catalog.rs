//! The text catalogue: Fluent files `locales/<language>/<feature>.ftl`, embedded at build time
//! (see `build.rs`), one bundle per language. Named placeholders (`{ $n }`), CLDR plural rules
//! (`{ $count -> [one] … *[other] … }`) and a third language by adding a folder.
//!
//! Ids: a page key `area.name` in code is the Fluent id `area-name` (Fluent ids have no dots);
//! a vocabulary label is `label-<vocabulary>-<code>`; an error or validation code is
//! `code-<code>`. Texts without placeholders are formatted once at start-up and handed out as
//! `&'static str`; texts with placeholders are formatted per call with their arguments.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::i18n::Locale;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/locales.rs"));
}

/// Every locale file: (language, feature, Fluent source).
pub fn files() -> &'static [(&'static str, &'static str, &'static str)] {
    embedded::FILES
}

struct Language {
    bundle: FluentBundle<FluentResource>,
    /// Texts without placeholders, formatted once.
    plain: HashMap<String, &'static str>,
}

struct Catalog {
    zh: Language,
    en: Language,
}

fn language(code: &str) -> Language {
    let tag: unic_langid::LanguageIdentifier = code.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // Our strings go into HTML and JSON, not bidirectional text: no isolation marks.
    bundle.set_use_isolating(false);
    let mut ids: Vec<String> = Vec::new();
    for (lang, feature, source) in files() {
        if *lang != code {
            continue;
        }
        let resource = match FluentResource::try_new(source.to_string()) {
            Ok(r) => r,
            Err((r, errors)) => {
                tracing::error!(%lang, %feature, ?errors, "locale file has syntax errors");
                r
            }
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                ids.push(m.id.name.to_string());
            }
        }
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(%lang, %feature, ?errors, "locale file redefines a text");
        }
    }
    let mut plain = HashMap::new();
    for id in ids {
        let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
            continue;
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        if errors.is_empty() {
            // Formatted once for the life of the process: a bounded, one-time allocation.
            plain.insert(id, &*Box::leak(text.into_owned().into_boxed_str()));
        }
    }
    Language { bundle, plain }
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    zh: language("zh-CN"),
    en: language("en"),
});

fn lang(locale: Locale) -> &'static Language {
    match locale {
        Locale::ZhCn => &CATALOG.zh,
        Locale::En => &CATALOG.en,
    }
}

/// The Fluent id of a code key (`area.name` → `area-name`).
pub fn id(key: &str) -> String {
    key.replace('.', "-")
}

/// A text without placeholders; `None` when the language lacks it (or it needs arguments).
pub fn plain(locale: Locale, id: &str) -> Option<&'static str> {
    lang(locale).plain.get(id).copied()
}

/// Whether the language has the text at all (with or without placeholders).
pub fn has(locale: Locale, id: &str) -> bool {
    lang(locale).bundle.has_message(id)
}

/// An argument of a text: shown as given, or a number (which also picks the plural form).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// Shown as is.
    Text(&'a str),
    /// A count: selects `[one]`/`*[other]` by the language's plural rules.
    Number(i64),
}

/// A text with its placeholders filled; `None` when the language lacks it. A missing
/// argument shows as `{$name}` (and a test keeps code and catalogue in step).
pub fn format(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
    let bundle = &lang(locale).bundle;
    let pattern = bundle.get_message(id)?.value()?;
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        match v {
            Arg::Text(t) => fa.set(*k, FluentValue::from(*t)),
            Arg::Number(n) => fa.set(*k, FluentValue::from(*n)),
        }
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fa), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(%id, ?errors, "text formatted with errors");
    }
    Some(text.into_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// The variables a pattern uses (`$name`), through select expressions and their variants.
    fn variables(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let ast::PatternElement::Placeable { expression } = el {
                expression_vars(expression, out);
            }
        }
    }

    fn expression_vars(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
            ast::Expression::Inline(i) => inline_vars(i, out),
        }
    }

    fn inline_vars(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_string());
            }
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, out),
            _ => {}
        }
    }

    /// id → variables, per language, from the embedded files (syntax errors fail here).
    fn catalogue() -> BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>> {
        let mut langs: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (lang, feature, source) in files() {
            let res = fluent_syntax::parser::parse(*source)
                .unwrap_or_else(|(_, e)| panic!("{lang}/{feature}.ftl: {e:?}"));
            let ids = langs.entry(lang).or_default();
            for entry in res.body {
                if let ast::Entry::Message(m) = entry {
                    let mut vars = BTreeSet::new();
                    if let Some(v) = &m.value {
                        variables(v, &mut vars);
                    }
                    let dup = ids.insert(m.id.name.to_string(), vars);
                    assert!(dup.is_none(), "{lang}: {} defined twice", m.id.name);
                }
            }
        }
        langs
    }

    /// Every text exists in every language, with the same placeholders.
    #[test]
    fn every_language_has_every_text_with_the_same_placeholders() {
        let langs = catalogue();
        assert_eq!(
            langs.keys().copied().collect::<Vec<_>>(),
            ["en", "zh-CN"],
            "languages"
        );
        let en = &langs["en"];
        let zh = &langs["zh-CN"];
        assert!(en.len() > 600, "only {} texts", en.len());
        let mut problems = Vec::new();
        for (id, vars) in en {
            match zh.get(id) {
                None => problems.push(format!("zh-CN lacks {id}")),
                // `$count` only picks the English plural form; Chinese has one form.
                Some(z)
                    if z.iter()
                        .filter(|v| *v != "count")
                        .ne(vars.iter().filter(|v| *v != "count")) =>
                {
                    problems.push(format!("{id}: en {vars:?}, zh-CN {z:?}"))
                }
                _ => {}
            }
        }
        for id in zh.keys().filter(|id| !en.contains_key(*id)) {
            problems.push(format!("en lacks {id}"));
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// Every text formats without errors given its placeholders (no reference to a missing
    /// text, no leftover `{n}` of the old catalogue, which Fluent reads as a reference).
    #[test]
    fn every_text_formats_cleanly() {
        for (lang, ids) in catalogue() {
            let l = if lang == "en" {
                Locale::En
            } else {
                Locale::ZhCn
            };
            for (id, vars) in ids {
                let args: Vec<(&str, Arg<'_>)> = vars
                    .iter()
                    .map(|v| {
                        (
                            v.as_str(),
                            if v == "count" {
                                Arg::Number(2)
                            } else {
                                Arg::Text("x")
                            },
                        )
                    })
                    .collect();
                let bundle = &super::lang(l).bundle;
                let pattern = bundle
                    .get_message(&id)
                    .and_then(|m| m.value())
                    .expect("value");
                let mut fa = FluentArgs::new();
                for (k, v) in &args {
                    match v {
                        Arg::Text(t) => fa.set(*k, FluentValue::from(*t)),
                        Arg::Number(n) => fa.set(*k, FluentValue::from(*n)),
                    }
                }
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fa), &mut errors);
                assert!(errors.is_empty(), "{lang} {id}: {errors:?}");
                assert!(!text.contains('{'), "{lang} {id}: {text}");
            }
        }
    }

    /// English plurals follow CLDR; Chinese has one form.
    #[test]
    fn plurals_follow_the_language() {
        let n = |l, c: i64, shown: &str| {
            format(
                l,
                "merge-moves_orders",
                &[("n", Arg::Text(shown)), ("count", Arg::Number(c))],
            )
            .expect("text")
        };
        assert_eq!(n(Locale::En, 1, "1"), "1 order");
        assert_eq!(n(Locale::En, 0, "0"), "0 orders");
        assert_eq!(n(Locale::En, 1200, "1,200"), "1,200 orders");
        assert_eq!(n(Locale::ZhCn, 1, "1"), "1 笔订单");
    }
}
