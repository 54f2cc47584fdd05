//! Merging two customer records into one, field by field, and taking it back.
//!
//! The person merging picks, for each field where the two records differ, which value the
//! kept record ("winner") ends with; tags are the union of both. Undo is a three-way revert:
//! a field goes back to its value before the merge only where it still holds the value the
//! merge gave it, so an edit made after the merge is never thrown away by an undo.
//!
//! Fields are compared and copied through their JSON form, so a field added to
//! [`CustomerFields`] only needs its name in [`MERGE_FIELDS`] to become mergeable.

use serde_json::{Map, Value};

use crate::customer::CustomerFields;
use crate::error::ValidationErrors;

/// The fields a merge lets the user choose between, in the order a form shows them. The
/// extended profiles are chosen as a whole (one person's education and family, not a mix);
/// the kept record's own provenance stays, as it does on every edit.
pub const MERGE_FIELDS: [&str; 15] = [
    "name",
    "gender",
    "birthday",
    "id_number",
    "province",
    "city",
    "address",
    "time_zone",
    "employer",
    "job_title",
    "industry",
    "lifecycle_stage",
    "owner_id",
    "profile",
    "company",
];

/// How long a merge can be undone.
pub const UNDO_DAYS: i64 = 30;

fn as_map(f: &CustomerFields) -> Map<String, Value> {
    match serde_json::to_value(f) {
        Ok(Value::Object(m)) => m,
        // A struct always serialises to an object; an empty map only makes every field "empty".
        _ => Map::new(),
    }
}

fn from_map(m: Map<String, Value>) -> Result<CustomerFields, ValidationErrors> {
    serde_json::from_value(Value::Object(m))
        .map_err(|_| ValidationErrors::single("fields", "invalid_merge"))
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.values().all(|v| is_blank(Some(v))),
        _ => false,
    }
}

/// The mergeable fields whose values differ between the two records: the only ones a merge
/// form needs to ask about.
pub fn differing(winner: &CustomerFields, loser: &CustomerFields) -> Vec<&'static str> {
    let (w, l) = (as_map(winner), as_map(loser));
    MERGE_FIELDS
        .into_iter()
        .filter(|f| w.get(*f) != l.get(*f) && !(is_blank(w.get(*f)) && is_blank(l.get(*f))))
        .collect()
}

/// The fields worth taking from the merged-away record by default: empty on the kept one and
/// filled on the other, so a default merge loses nothing.
pub fn suggested(winner: &CustomerFields, loser: &CustomerFields) -> Vec<&'static str> {
    let (w, l) = (as_map(winner), as_map(loser));
    MERGE_FIELDS
        .into_iter()
        .filter(|f| is_blank(w.get(*f)) && !is_blank(l.get(*f)))
        .collect()
}

/// The kept record's tags after a merge: its own, then the other record's it lacks.
pub fn merged_tags(winner: &CustomerFields, loser: &CustomerFields) -> Vec<String> {
    let mut tags = winner.tags.clone();
    for t in &loser.tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags
}

/// The kept record's fields after the merge: its own values, the loser's for each field in
/// `take_from_loser`, and the union of both records' tags. An unknown field name is a
/// validation error on `take` (a form or API client naming something that cannot merge).
pub fn combine(
    winner: &CustomerFields,
    loser: &CustomerFields,
    take_from_loser: &[String],
) -> Result<CustomerFields, ValidationErrors> {
    let mut out = as_map(winner);
    let l = as_map(loser);
    let mut errors = ValidationErrors::new();
    for (i, f) in take_from_loser.iter().enumerate() {
        if !MERGE_FIELDS.contains(&f.as_str()) {
            errors.push(format!("take[{i}]"), "unknown_field");
            continue;
        }
        match l.get(f) {
            Some(v) => out.insert(f.clone(), v.clone()),
            None => out.remove(f),
        };
    }
    errors.finish(|| ())?;
    let mut merged = from_map(out)?;
    merged.tags = merged_tags(winner, loser);
    merged.contact_points.clear();
    merged.allow_duplicate = false;
    Ok(merged)
}

/// The kept record's fields after undoing a merge: each field that still holds the value the
/// merge gave it (`after`) goes back to its value before (`before`); a field changed since
/// (`current` differs from `after`) keeps today's value. Tags lose exactly those the merge
/// added and keep any added since.
pub fn revert(
    before: &CustomerFields,
    after: &CustomerFields,
    current: &CustomerFields,
) -> Result<CustomerFields, ValidationErrors> {
    let (b, a) = (as_map(before), as_map(after));
    let mut out = as_map(current);
    for f in MERGE_FIELDS {
        if out.get(f) == a.get(f) {
            match b.get(f) {
                Some(v) => out.insert(f.to_string(), v.clone()),
                None => out.remove(f),
            };
        }
    }
    let mut reverted = from_map(out)?;
    reverted
        .tags
        .retain(|t| before.tags.contains(t) || !after.tags.contains(t));
    Ok(reverted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::CustomerKind;

    fn person(name: &str) -> CustomerFields {
        serde_json::from_value(serde_json::json!({"kind": "individual", "name": name}))
            .expect("fields")
    }

    #[test]
    fn default_takes_fill_only_what_the_kept_record_lacks() {
        let mut w = person("王伟");
        w.city = Some("上海".into());
        let mut l = person("王伟");
        l.city = Some("北京".into());
        l.employer = Some("华为".into());
        assert_eq!(suggested(&w, &l), vec!["employer"]);
        assert_eq!(differing(&w, &l), vec!["city", "employer"]);
    }

    #[test]
    fn combine_takes_chosen_fields_and_unions_tags() {
        let mut w = person("王伟");
        w.city = Some("上海".into());
        w.tags = vec!["vip".into()];
        let mut l = person("Wang Wei");
        l.city = Some("北京".into());
        l.tags = vec!["vip".into(), "b2b".into()];
        let m = combine(&w, &l, &["city".into()]).expect("merge");
        assert_eq!(m.name, "王伟");
        assert_eq!(m.city.as_deref(), Some("北京"));
        assert_eq!(m.tags, vec!["vip".to_string(), "b2b".to_string()]);
        assert_eq!(m.kind, CustomerKind::Individual);
        let err = combine(&w, &l, &["kind".into()]).expect_err("kind is not mergeable");
        assert_eq!(err.0[0].field, "take[0]");
        assert_eq!(err.0[0].code, "unknown_field");
    }

    #[test]
    fn revert_keeps_edits_made_after_the_merge() {
        let mut before = person("王伟");
        before.tags = vec!["vip".into()];
        let mut loser = person("王伟");
        loser.city = Some("北京".into());
        loser.employer = Some("华为".into());
        loser.tags = vec!["b2b".into()];
        let after = combine(&before, &loser, &["city".into(), "employer".into()]).expect("merge");
        let mut current = after.clone();
        current.employer = Some("腾讯".into());
        current.tags.push("new".into());
        let r = revert(&before, &after, &current).expect("revert");
        assert_eq!(r.city, None, "the merged city goes back");
        assert_eq!(r.employer.as_deref(), Some("腾讯"), "a later edit stays");
        assert_eq!(r.tags, vec!["vip".to_string(), "new".to_string()]);
    }
}
