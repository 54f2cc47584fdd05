//! Identification at a touchpoint: one query string (phone in any format, email, name, pinyin,
//! initials, or the start of a phone number) to a ranked list of customers. Every branch is an
//! index lookup: phones and emails by their normalised value, everything else as a prefix range
//! over `customer_search_keys`, which holds names, name suffixes, pinyin, initials and contacts.

use std::collections::HashMap;

use guanxi_domain::contact::{classify_query, QueryShape};
use guanxi_domain::records::IdentifyHit;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::CustomerKind;

use crate::customers::push_scope;
use crate::db::Store;
use crate::error::Result;
use crate::rows::code;
use crate::sql::SqlBuilder;

/// Most candidate keys read for one text query before ranking.
const MAX_CANDIDATES: i64 = 400;

/// Score of an exact (or prefix) match on a key of the given kind.
fn score(kind: &str, exact: bool) -> i64 {
    let (e, p) = match kind {
        "phone_exact" | "email_exact" => (100, 100),
        "name" => (95, 75),
        "phone" | "email" | "im" => (90, 60),
        "pinyin" => (85, 65),
        "initials" => (70, 50),
        "name_part" => (60, 45),
        "pinyin_part" => (55, 40),
        _ => (30, 20),
    };
    if exact {
        e
    } else {
        p
    }
}

#[derive(sqlx::FromRow)]
struct Candidate {
    customer_id: i64,
    name: String,
    kind: String,
    city: Option<String>,
    matched_kind: String,
    matched_value: String,
}

impl Store {
    /// Finds customers for a touchpoint query, best first, within the actor's scope.
    pub async fn identify(&self, actor: &Actor, raw: &str, limit: i64) -> Result<Vec<IdentifyHit>> {
        let limit = limit.clamp(1, 50);
        let shape = classify_query(raw);
        let mut q;
        match &shape {
            QueryShape::Phone(v) | QueryShape::Email(v) => {
                let kinds = if matches!(shape, QueryShape::Phone(_)) {
                    "('phone', 'mobile', 'wechat')"
                } else {
                    "('email')"
                };
                let tag = if matches!(shape, QueryShape::Phone(_)) {
                    "phone_exact"
                } else {
                    "email_exact"
                };
                q = SqlBuilder::new(&format!(
                    "SELECT c.id AS customer_id, c.name, c.kind, c.city, '{tag}' AS matched_kind, p.value_raw AS matched_value \
                     FROM contact_points p JOIN customers c ON c.id = p.customer_id \
                     WHERE p.deleted_at IS NULL AND c.deleted_at IS NULL AND p.kind IN {kinds} AND p.value_normalized = "
                ));
                q.text(v.clone());
            }
            QueryShape::Text(v) => {
                if v.is_empty() {
                    return Ok(Vec::new());
                }
                q = SqlBuilder::new(
                    "SELECT c.id AS customer_id, c.name, c.kind, c.city, k.kind AS matched_kind, k.search_key AS matched_value \
                     FROM customer_search_keys k JOIN customers c ON c.id = k.customer_id \
                     WHERE c.deleted_at IS NULL AND k.search_key >= ",
                );
                q.text(v.clone())
                    .push(" AND k.search_key < ")
                    .text(format!("{v}\u{10FFFF}"));
            }
        }
        push_scope(&mut q, actor);
        q.push(" LIMIT ").int(MAX_CANDIDATES);
        let rows: Vec<Candidate> = q.query_as().fetch_all(&self.read).await?;
        let needle = match &shape {
            QueryShape::Phone(v) | QueryShape::Email(v) | QueryShape::Text(v) => v.clone(),
        };
        let mut best: HashMap<i64, IdentifyHit> = HashMap::new();
        for r in rows {
            let exact = r.matched_kind.ends_with("_exact") || r.matched_value == needle;
            let s = score(&r.matched_kind, exact);
            let hit = IdentifyHit {
                customer_id: r.customer_id,
                kind: code(CustomerKind::parse, &r.kind, "kind")?,
                name: r.name,
                city: r.city,
                matched_on: r.matched_kind.trim_end_matches("_exact").to_string(),
                matched_value: r.matched_value,
                score: s,
            };
            match best.get(&hit.customer_id) {
                Some(b) if b.score >= s => {}
                _ => {
                    best.insert(hit.customer_id, hit);
                }
            }
        }
        let mut hits: Vec<IdentifyHit> = best.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.customer_id.cmp(&b.customer_id))
        });
        hits.truncate(limit as usize);
        Ok(hits)
    }
}
