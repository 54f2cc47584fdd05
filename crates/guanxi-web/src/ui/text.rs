//! The page texts: [`guanxi_text::text`] (the Fluent catalogue under `locales/`) plus what only
//! pages need, and the tests that every key the templates and page code use exists.

pub use guanxi_text::text::*;

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
    use crate::catalog;
    use crate::i18n::Locale;
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
            crate::features::admin::pages::AUDIT_ACTIONS.to_vec(),
            &mut m,
        );
        check(
            "audit_entity",
            crate::features::admin::pages::AUDIT_ENTITIES.to_vec(),
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
