//! Identification at a touchpoint: one query string (phone in any format, email, name, pinyin,
//! initials, or the start of a phone number) to a ranked list of customers. Every branch is an
//! index lookup: phones and emails by their normalised value, everything else as a prefix range
//! over `customer_search_keys`, which holds names, name suffixes, pinyin, initials and contacts.

use std::collections::HashMap;

use guanxi_domain::contact::{classify_query, phone_digits, QueryShape};
use guanxi_domain::name::query_forms;
use guanxi_domain::records::IdentifyHit;
use guanxi_domain::role::{Actor, RecordScope};
use guanxi_domain::vocabulary::CustomerKind;

use crate::customers::push_scope;
use crate::db::Store;
use crate::error::Result;
use crate::rows::code;
use crate::sql::SqlBuilder;

/// Most keys of one kind read for a query that is narrowed by further words ("王 1391"): its
/// hits bound the words after it, so it reads more than a page of them.
const MAX_CANDIDATES: i64 = 400;

/// Candidates of a several-word query narrowed by its other words at a time.
const NARROW_CHUNK: usize = 100;

/// Each customer's best-scoring key among `keys` matched by `needle`.
fn best_per_customer(needle: &str, keys: Vec<KeyMatch>) -> HashMap<i64, WordMatch> {
    let mut found: HashMap<i64, WordMatch> = HashMap::new();
    for k in keys {
        let s = score(&k.matched_kind, k.matched_value == needle);
        match found.get(&k.customer_id) {
            Some(b) if b.score >= s => {}
            _ => {
                found.insert(
                    k.customer_id,
                    WordMatch {
                        score: s,
                        on: k.matched_kind,
                        value: k.matched_value,
                    },
                );
            }
        }
    }
    found
}

/// Every kind of search key, best-scoring first. The key index leads with the kind, so a
/// lookup by key alone names them all (`kind IN`) and identification reads each kind's best
/// few as one short index range.
pub(crate) const KEY_KINDS: [&str; 8] = [
    "name",
    "pinyin",
    "phone",
    "email",
    "im",
    "initials",
    "name_part",
    "pinyin_part",
];

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

/// A search key one word of a query matched.
#[derive(sqlx::FromRow)]
struct KeyMatch {
    customer_id: i64,
    matched_kind: String,
    matched_value: String,
}

/// A customer's best match for the words read so far.
struct WordMatch {
    score: i64,
    on: String,
    value: String,
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

/// One index lookup of identification.
enum Lookup {
    /// Contact points whose normalised value is exactly this (phone or email).
    Exact {
        kinds: &'static str,
        tag: &'static str,
        value: String,
    },
    /// Search keys starting with this.
    Prefix(String),
}

impl Store {
    /// Finds customers for a touchpoint query, best first, within the actor's scope.
    ///
    /// What people type is forgiven: a partial phone with separators (`137 3672`, `(137)3672`)
    /// is looked up by its digits, spaced pinyin (`zhang qiang`) also run together, and a query
    /// of several words that matches nothing as a whole (`王 1391`, `zhang 138`) finds the
    /// customers every word matches.
    pub async fn identify(&self, actor: &Actor, raw: &str, limit: i64) -> Result<Vec<IdentifyHit>> {
        let limit = limit.clamp(1, 50);
        let shape = classify_query(raw);
        let mut hits = match &shape {
            QueryShape::Phone(v) | QueryShape::Email(v) => {
                let phone = matches!(shape, QueryShape::Phone(_));
                let exact = Lookup::Exact {
                    kinds: if phone {
                        "('phone', 'mobile', 'wechat')"
                    } else {
                        "('email')"
                    },
                    tag: if phone { "phone_exact" } else { "email_exact" },
                    value: v.clone(),
                };
                let mut found = self.rank(actor, &[exact], v, limit).await?;
                if found.is_empty() && phone {
                    // A number that parses but is not on file whole may be the start of one.
                    if let Some(d) = phone_digits(raw) {
                        found = self
                            .rank(actor, &[Lookup::Prefix(d.clone())], &d, limit)
                            .await?;
                    }
                }
                found
            }
            QueryShape::Text(v) if v.is_empty() => return Ok(Vec::new()),
            QueryShape::Text(v) => match phone_digits(raw) {
                Some(d) => {
                    self.rank(actor, &[Lookup::Prefix(d.clone())], &d, limit)
                        .await?
                }
                None => {
                    let forms: Vec<Lookup> =
                        query_forms(v).into_iter().map(Lookup::Prefix).collect();
                    let found = self.rank(actor, &forms, v, limit).await?;
                    if found.is_empty() && v.contains(' ') {
                        self.every_word(actor, v, limit).await?
                    } else {
                        found
                    }
                }
            },
        };
        hits.truncate(limit as usize);
        Ok(hits)
    }

    /// Customers matched by every word of a query, each scored by its weakest word (the
    /// match is only as sure as its least sure part). Words are at most four.
    ///
    /// The most telling word's matches (at most [`MAX_CANDIDATES`] keys of each kind, best
    /// first) are narrowed by the other words a chunk at a time, on search keys alone, and the
    /// search stops once a page of customers matches every word: two common words ("王 1391")
    /// cost a chunk or two of key reads, not every candidate's keys.
    async fn every_word(&self, actor: &Actor, q: &str, limit: i64) -> Result<Vec<IdentifyHit>> {
        let mut words: Vec<&str> = q.split(' ').filter(|w| !w.is_empty()).take(4).collect();
        // The most telling word first (digits, then the longest): its hits bound the rest.
        words.sort_by_key(|w| {
            (
                phone_digits(w).is_none(),
                std::cmp::Reverse(w.chars().count()),
            )
        });
        let needles: Vec<String> = words
            .iter()
            .map(|w| phone_digits(w).unwrap_or_else(|| w.to_string()))
            .collect();
        let Some((first, rest)) = needles.split_first() else {
            return Ok(Vec::new());
        };
        let mut candidates: Vec<(i64, WordMatch)> =
            best_per_customer(first, self.word_keys(actor, first, None).await?)
                .into_iter()
                .collect();
        candidates.sort_by(|a, b| b.1.score.cmp(&a.1.score).then(a.0.cmp(&b.0)));
        let mut hits = Vec::new();
        let mut candidates = candidates.into_iter().peekable();
        while candidates.peek().is_some() && hits.len() < limit as usize {
            let mut common: HashMap<i64, WordMatch> =
                candidates.by_ref().take(NARROW_CHUNK).collect();
            for needle in rest {
                if common.is_empty() {
                    break;
                }
                let ids: Vec<i64> = common.keys().copied().collect();
                let mut found =
                    best_per_customer(needle, self.word_keys(actor, needle, Some(&ids)).await?);
                common.retain(|id, _| found.contains_key(id));
                for (id, h) in common.iter_mut() {
                    if let Some(f) = found.remove(id) {
                        h.score = h.score.min(f.score);
                        // Say what identified them: a contact beats a name fragment.
                        if f.on != "name" && f.on != "name_part" {
                            h.on = f.on;
                            h.value = f.value;
                        }
                    }
                }
            }
            hits.extend(self.live_hits(actor, common).await?);
        }
        Ok(sorted(hits))
    }

    /// The customers of `matches` that are live and visible to the actor, as hits.
    async fn live_hits(
        &self,
        actor: &Actor,
        matches: HashMap<i64, WordMatch>,
    ) -> Result<Vec<IdentifyHit>> {
        if matches.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = matches.keys().copied().collect();
        // `+` keeps SQLite on the primary key: without statistics it would otherwise read
        // every live customer by the `deleted_at` index (100 ms at 1 M) to keep these few.
        let mut q =
            SqlBuilder::new("SELECT c.id, c.name, c.kind, c.city FROM customers c WHERE c.id IN ");
        q.int_list(&ids).push(" AND +c.deleted_at IS NULL");
        push_scope(&mut q, actor);
        let rows: Vec<(i64, String, String, Option<String>)> =
            q.query_as().fetch_all(&self.read).await?;
        let mut hits = Vec::with_capacity(rows.len());
        for (id, name, kind, city) in rows {
            if let Some(m) = matches.get(&id) {
                hits.push(IdentifyHit {
                    customer_id: id,
                    kind: code(CustomerKind::parse, &kind, "kind")?,
                    name,
                    city,
                    matched_on: m.on.clone(),
                    matched_value: m.value.clone(),
                    score: m.score,
                });
            }
        }
        Ok(hits)
    }

    /// The search keys starting with `needle`: of the given customers only (read by the
    /// customer index), or else at most [`MAX_CANDIDATES`] of each kind. A reader who sees the
    /// whole book reads keys alone; a rep's keys are joined to their customers inside each
    /// range, so other reps' customers do not use up the budget.
    async fn word_keys(
        &self,
        actor: &Actor,
        needle: &str,
        within: Option<&[i64]>,
    ) -> Result<Vec<KeyMatch>> {
        let upper = format!("{needle}\u{10FFFF}");
        let mut q;
        if let Some(ids) = within {
            q = SqlBuilder::new(
                "SELECT k.customer_id, k.kind AS matched_kind, k.search_key AS matched_value \
                 FROM customer_search_keys k WHERE k.customer_id IN ",
            );
            q.int_list(ids)
                .push(" AND k.search_key >= ")
                .text(needle.to_string())
                .push(" AND k.search_key < ")
                .text(upper);
        } else {
            let scoped = actor.scope != RecordScope::All;
            q = SqlBuilder::new("");
            for (i, kind) in KEY_KINDS.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                q.push(&format!(
                    "SELECT * FROM (SELECT k.customer_id, k.kind AS matched_kind, k.search_key AS matched_value \
                     FROM customer_search_keys k{} WHERE k.kind = '{kind}' AND k.search_key >= ",
                    if scoped { " CROSS JOIN customers c" } else { "" }
                ))
                .text(needle.to_string())
                .push(" AND k.search_key < ")
                .text(upper.clone());
                if scoped {
                    q.push(" AND c.id = k.customer_id AND c.deleted_at IS NULL");
                    push_scope(&mut q, actor);
                }
                q.push(" ORDER BY k.search_key, k.customer_id LIMIT ")
                    .int(MAX_CANDIDATES)
                    .push(&format!(") AS k{i}"));
            }
        }
        Ok(q.query_as().fetch_all(&self.read).await?)
    }

    /// Runs lookups and keeps each customer's best-scoring match, best first; enough of them
    /// for a page of `limit`.
    ///
    /// A key's kind fixes its score (and an exact match, the first entry of its range, beats
    /// a longer key), so the best hits of each kind are the first entries of its range in the
    /// key index: each kind is read as a short range that stops after twice the page of keys
    /// (one customer may hold several keys of a kind in the range, "wei" and "weiguo"),
    /// however many customers share a common name. `CROSS JOIN` keeps SQLite's join order
    /// (keys, then their customers): without statistics it would otherwise walk every live
    /// customer by the `deleted_at` index (PostgreSQL plans it as the inner join it is).
    async fn rank(
        &self,
        actor: &Actor,
        lookups: &[Lookup],
        needle: &str,
        limit: i64,
    ) -> Result<Vec<IdentifyHit>> {
        let per_kind = 2 * limit;
        let mut best: HashMap<i64, IdentifyHit> = HashMap::new();
        for lookup in lookups {
            let mut q;
            match lookup {
                Lookup::Exact { kinds, tag, value } => {
                    q = SqlBuilder::new(&format!(
                        "SELECT c.id AS customer_id, c.name, c.kind, c.city, '{tag}' AS matched_kind, p.value_raw AS matched_value \
                         FROM contact_points p JOIN customers c ON c.id = p.customer_id \
                         WHERE p.deleted_at IS NULL AND c.deleted_at IS NULL AND p.kind IN {kinds} AND p.value_normalized = "
                    ));
                    q.text(value.clone());
                }
                Lookup::Prefix(v) => {
                    q = SqlBuilder::new("");
                    for (i, kind) in KEY_KINDS.iter().enumerate() {
                        if i > 0 {
                            q.push(" UNION ALL ");
                        }
                        q.push(&format!(
                            "SELECT * FROM (SELECT c.id AS customer_id, c.name, c.kind, c.city, k.kind AS matched_kind, k.search_key AS matched_value \
                             FROM customer_search_keys k CROSS JOIN customers c \
                             WHERE c.id = k.customer_id AND k.kind = '{kind}' AND k.search_key >= "
                        ))
                        .text(v.clone())
                        .push(" AND k.search_key < ")
                        .text(format!("{v}\u{10FFFF}"))
                        .push(" AND c.deleted_at IS NULL");
                        push_scope(&mut q, actor);
                        q.push(" ORDER BY k.search_key, k.customer_id LIMIT ")
                            .int(per_kind)
                            .push(&format!(") AS k{i}"));
                    }
                }
            }
            if let Lookup::Exact { .. } = lookup {
                push_scope(&mut q, actor);
                q.push(" LIMIT ").int(MAX_CANDIDATES);
            }
            let rows: Vec<Candidate> = q.query_as().fetch_all(&self.read).await?;
            let forms = match lookup {
                Lookup::Prefix(v) => vec![v.as_str(), needle],
                Lookup::Exact { .. } => vec![needle],
            };
            for r in rows {
                let exact =
                    r.matched_kind.ends_with("_exact") || forms.contains(&r.matched_value.as_str());
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
        }
        Ok(sorted(best.into_values().collect()))
    }
}

/// Best score first, then by name and id so equal scores come in a stable order.
fn sorted(mut hits: Vec<IdentifyHit>) -> Vec<IdentifyHit> {
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.name.cmp(&b.name))
            .then(a.customer_id.cmp(&b.customer_id))
    });
    hits
}
