//! Duplicate warnings: before a customer is created (form, API, import row), the customers the
//! creator may see that share a mobile or phone, an email, a WeChat id or an ID number, or the
//! same name with the same employer (a company: the same name). It is
//! a warning, not a constraint: families share a landline and two shops share a WeChat. A
//! customer outside the creator's scope is never named, so a warning cannot be used to probe
//! another team's book.

use std::collections::{BTreeSet, HashMap};

use guanxi_domain::customer::{name_company_key, ValidCustomer};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::CustomerKind;

use crate::customers::push_scope;
use crate::db::Store;
use crate::error::Result;
use crate::sql::SqlBuilder;

/// Most candidates one check names.
const MAX_CANDIDATES: i64 = 10;

/// Identifying values looked up per query (well under both backends' parameter limits).
const LOOKUP_CHUNK: usize = 500;

/// An existing customer that shares an identifying value with one about to be created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DuplicateCandidate {
    /// The existing customer.
    pub customer_id: i64,
    /// Its name.
    pub name: String,
    /// What they share: `mobile` (also a phone), `email`, `wechat` or `id_number`.
    pub matched_on: String,
    /// The input field that matched (`contact_points[0].value`, `id_number`).
    pub field: String,
}

/// Adds a candidate unless that customer is already named (each is named by its first match).
fn add_once(out: &mut Vec<DuplicateCandidate>, d: DuplicateCandidate) {
    if !out.iter().any(|o| o.customer_id == d.customer_id) {
        out.push(d);
    }
}

impl Store {
    /// Visible customers sharing an identifying value with `c`, each named once (by its first
    /// match), at most ten.
    pub async fn duplicate_candidates(
        &self,
        actor: &Actor,
        c: &ValidCustomer,
    ) -> Result<Vec<DuplicateCandidate>> {
        Ok(self
            .duplicate_candidates_of_many(actor, &[c])
            .await?
            .remove(0))
    }

    /// [`Store::duplicate_candidates`] for many customers at once (an import's rows): the
    /// identifying values are looked up a few hundred per query, not one query per value.
    pub async fn duplicate_candidates_of_many(
        &self,
        actor: &Actor,
        rows: &[&ValidCustomer],
    ) -> Result<Vec<Vec<DuplicateCandidate>>> {
        let keys: Vec<Vec<(&'static str, String, String)>> =
            rows.iter().map(|c| c.identity_keys()).collect();
        let mut wanted: HashMap<&'static str, BTreeSet<&str>> = HashMap::new();
        for (what, _, value) in keys.iter().flatten() {
            wanted.entry(what).or_default().insert(value.as_str());
        }
        // (what, value) -> matching customers in id order, at most ten.
        let mut found: HashMap<(&'static str, String), Vec<(i64, String)>> = HashMap::new();
        for (what, values) in wanted {
            let values: Vec<&str> = values.into_iter().collect();
            if what == "name_company" {
                self.name_company_hits(actor, &values, &mut found).await?;
                continue;
            }
            for (value, hits) in self.customers_by_identity(actor, what, &values).await? {
                found.insert((what, value), hits);
            }
        }
        Ok(keys
            .into_iter()
            .map(|keys| {
                let mut out: Vec<DuplicateCandidate> = Vec::new();
                for (what, field, value) in keys {
                    for (id, name) in found.get(&(what, value)).into_iter().flatten() {
                        add_once(
                            &mut out,
                            DuplicateCandidate {
                                customer_id: *id,
                                name: name.clone(),
                                matched_on: what.into(),
                                field: field.clone(),
                            },
                        );
                    }
                }
                out.truncate(MAX_CANDIDATES as usize);
                out
            })
            .collect())
    }

    /// Customers the actor sees by an identifying value, `what` being `mobile` (a mobile or
    /// phone), `email`, `wechat` or `id_number` and `values` normalised as stored: per value,
    /// its customers in id order, at most ten. A few hundred values per query.
    pub async fn customers_by_identity(
        &self,
        actor: &Actor,
        what: &str,
        values: &[&str],
    ) -> Result<HashMap<String, Vec<(i64, String)>>> {
        let mut found: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for chunk in values.chunks(LOOKUP_CHUNK) {
            let mut q = if what == "id_number" {
                SqlBuilder::new(
                    "SELECT c.id_number, c.id, c.name FROM customers c \
                     WHERE c.deleted_at IS NULL AND c.id_number IN ",
                )
            } else {
                let kinds = match what {
                    "mobile" => "('mobile', 'phone')",
                    "email" => "('email')",
                    _ => "('wechat')",
                };
                SqlBuilder::new(&format!(
                    "SELECT DISTINCT p.value_normalized, c.id, c.name FROM contact_points p \
                     JOIN customers c ON c.id = p.customer_id WHERE p.deleted_at IS NULL \
                     AND c.deleted_at IS NULL AND p.kind IN {kinds} AND p.value_normalized IN "
                ))
            };
            q.text_list(chunk);
            push_scope(&mut q, actor);
            q.push(" ORDER BY 2");
            for (value, id, name) in q
                .query_as::<(String, i64, String)>()
                .fetch_all(&self.read)
                .await?
            {
                let hits = found.entry(value).or_default();
                if hits.len() < MAX_CANDIDATES as usize {
                    hits.push((id, name));
                }
            }
        }
        Ok(found)
    }

    /// Customers the actor sees whose name-and-employer key ([`name_company_key`]) is one of
    /// `keys`, looked up by name (indexed) a few hundred names at a time.
    async fn name_company_hits(
        &self,
        actor: &Actor,
        keys: &[&str],
        found: &mut HashMap<(&'static str, String), Vec<(i64, String)>>,
    ) -> Result<()> {
        let wanted: BTreeSet<&str> = keys.iter().copied().collect();
        let names: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('|').nth(1)).collect();
        let names: Vec<&str> = names.into_iter().collect();
        for chunk in names.chunks(LOOKUP_CHUNK) {
            let mut q = SqlBuilder::new(
                "SELECT c.kind, c.name, c.employer, c.id FROM customers c \
                 WHERE c.deleted_at IS NULL AND c.name IN ",
            );
            q.text_list(chunk);
            push_scope(&mut q, actor);
            q.push(" ORDER BY 4");
            for (kind, name, employer, id) in q
                .query_as::<(String, String, Option<String>, i64)>()
                .fetch_all(&self.read)
                .await?
            {
                let Ok(kind) = CustomerKind::parse(&kind) else {
                    continue;
                };
                let Some(key) = name_company_key(kind, &name, employer.as_deref()) else {
                    continue;
                };
                if wanted.contains(key.as_str()) {
                    let hits = found.entry(("name_company", key)).or_default();
                    if hits.len() < MAX_CANDIDATES as usize {
                        hits.push((id, name));
                    }
                }
            }
        }
        Ok(())
    }

    /// Visible customers that share a mobile or phone, email, WeChat id or ID number with the
    /// stored customer `id` (itself excluded), for the "possible duplicates" list on its page:
    /// the same keys as [`Store::duplicate_candidates`], at most ten, each named once.
    pub async fn duplicates_of(&self, actor: &Actor, id: i64) -> Result<Vec<DuplicateCandidate>> {
        let mut q = SqlBuilder::new(
            "SELECT c.id, c.name, CASE WHEN p.kind = 'phone' THEN 'mobile' ELSE p.kind END AS matched \
             FROM contact_points p JOIN contact_points o ON o.value_normalized = p.value_normalized \
               AND (o.kind = p.kind OR (o.kind IN ('mobile', 'phone') AND p.kind IN ('mobile', 'phone'))) \
             JOIN customers c ON c.id = o.customer_id \
             WHERE p.customer_id = ",
        );
        q.int(id)
            .push(" AND p.deleted_at IS NULL AND o.deleted_at IS NULL AND p.kind IN ('mobile', 'phone', 'email', 'wechat') \
                   AND c.deleted_at IS NULL AND c.id <> ")
            .int(id);
        push_scope(&mut q, actor);
        q.push(
            " UNION ALL SELECT c.id, c.name, 'id_number' AS matched FROM customers me \
             JOIN customers c ON c.id_number = me.id_number WHERE me.id = ",
        )
        .int(id)
        .push(" AND me.id_number IS NOT NULL AND c.deleted_at IS NULL AND c.id <> ")
        .int(id);
        push_scope(&mut q, actor);
        q.push(" ORDER BY 1 LIMIT ").int(MAX_CANDIDATES * 4);
        let mut out: Vec<DuplicateCandidate> = Vec::new();
        for (customer_id, name, matched) in q
            .query_as::<(i64, String, String)>()
            .fetch_all(&self.read)
            .await?
        {
            let field = if matched == "id_number" {
                "id_number"
            } else {
                "contact_points"
            };
            add_once(
                &mut out,
                DuplicateCandidate {
                    customer_id,
                    name,
                    matched_on: matched,
                    field: field.into(),
                },
            );
        }
        out.truncate(MAX_CANDIDATES as usize);
        Ok(out)
    }
}
