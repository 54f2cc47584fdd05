//! Duplicate warnings: before a customer is created (form, API, import row), the customers the
//! creator may see that share a mobile or phone, an email, a WeChat id or an ID number. It is
//! a warning, not a constraint: families share a landline and two shops share a WeChat. A
//! customer outside the creator's scope is never named, so a warning cannot be used to probe
//! another team's book.

use guanxi_domain::customer::ValidCustomer;
use guanxi_domain::role::Actor;

use crate::customers::push_scope;
use crate::db::Store;
use crate::error::Result;
use crate::sql::SqlBuilder;

/// Most candidates one check names.
const MAX_CANDIDATES: i64 = 10;

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
        let mut out: Vec<DuplicateCandidate> = Vec::new();
        for (what, field, value) in c.identity_keys() {
            let mut q = if what == "id_number" {
                SqlBuilder::new(
                    "SELECT c.id, c.name FROM customers c WHERE c.deleted_at IS NULL AND c.id_number = ",
                )
            } else {
                let kinds = match what {
                    "mobile" => "('mobile', 'phone')",
                    "email" => "('email')",
                    _ => "('wechat')",
                };
                SqlBuilder::new(&format!(
                    "SELECT DISTINCT c.id, c.name FROM contact_points p JOIN customers c ON c.id = p.customer_id \
                     WHERE p.deleted_at IS NULL AND c.deleted_at IS NULL AND p.kind IN {kinds} AND p.value_normalized = "
                ))
            };
            q.text(value);
            push_scope(&mut q, actor);
            q.push(" ORDER BY c.id LIMIT ").int(MAX_CANDIDATES);
            for (id, name) in q.query_as::<(i64, String)>().fetch_all(&self.read).await? {
                add_once(
                    &mut out,
                    DuplicateCandidate {
                        customer_id: id,
                        name,
                        matched_on: what.into(),
                        field: field.clone(),
                    },
                );
            }
        }
        out.truncate(MAX_CANDIDATES as usize);
        Ok(out)
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
