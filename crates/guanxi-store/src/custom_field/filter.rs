//! Custom-field conditions in SQL: every value is bound, and the field is found by its code
//! within its entity's fields by a subquery SQLite and PostgreSQL both evaluate once.

use guanxi_domain::segment::CustomTest;

use crate::sql::{like_pattern, Arg, SqlBuilder};

/// The condition on one `custom_values v` row: the live field `code` of `entity` holds a
/// value that passes `test`. The lists' membership filters and [`push_custom_test`] share it.
pub(crate) fn push_value_condition(
    q: &mut SqlBuilder,
    entity: &str,
    code: &str,
    test: &CustomTest,
) {
    q.push("v.field_id = (SELECT cf.id FROM custom_fields cf WHERE cf.entity = ")
        .text(entity)
        .push(" AND cf.code = ")
        .text(code)
        .push(" AND cf.archived_at IS NULL)");
    match test {
        CustomTest::Equals { texts, numbers } => {
            q.push(" AND (v.value_text IN ").text_list(texts);
            if !numbers.is_empty() {
                q.push(" OR v.value_number IN (");
                for (i, n) in numbers.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.arg(Arg::Float(*n));
                }
                q.push(")");
            }
            q.push(")");
        }
        CustomTest::Contains(needle) => {
            q.push(" AND LOWER(v.value_text) LIKE ")
                .text(like_pattern(needle))
                .push(" ESCAPE '\\'");
        }
        CustomTest::Present => {}
        CustomTest::NumberCmp(cmp, n) => {
            q.push(&format!(" AND v.value_number {} ", cmp.sql()))
                .arg(Arg::Float(*n));
        }
        CustomTest::DateCmp(cmp, d) => {
            q.push(&format!(" AND v.value_text {} ", cmp.sql()))
                .text(d.clone());
        }
    }
}

/// A segment condition on customer `c`: its id is among the records whose value passes.
pub(crate) fn push_custom_test(q: &mut SqlBuilder, code: &str, test: &CustomTest) {
    push_member(q, "c.id", "customer", code, test);
}

/// `<key> IN (…)`: the records of `entity` whose field `code` passes `test`.
fn push_member(q: &mut SqlBuilder, key: &str, entity: &str, code: &str, test: &CustomTest) {
    q.push(&format!(
        "{key} IN (SELECT v.record_id FROM custom_values v WHERE "
    ));
    push_value_condition(q, entity, code, test);
    q.push(")");
}

/// ` AND <key> IN (…)` per filter: the records of `entity` (`key`: the list's id column, such
/// as `o.id`) whose field passes its test — a deal or ticket list's custom-field filters.
pub(crate) fn push_record_filters(
    q: &mut SqlBuilder,
    key: &str,
    entity: &str,
    filters: &[(String, CustomTest)],
) {
    for (code, test) in filters {
        q.push(" AND ");
        push_member(q, key, entity, code, test);
    }
}
