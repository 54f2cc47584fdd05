//! Relations between customers: spouse, parent, colleague, principal-of (a person's role in a
//! company), referred-by. They turn a list of customers into a network ("关系").

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::profile::check_text;
use crate::provenance::Provenance;
use crate::vocabulary::{CustomerKind, PrincipalRole, RelationKind};

/// A relation as a client sends it, from the customer in the URL to `to_customer_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    /// The other customer.
    pub to_customer_id: i64,
    /// Kind of relation.
    pub kind: RelationKind,
    /// Role, for `principal_of` only.
    #[serde(default)]
    pub role: Option<PrincipalRole>,
    /// Free note.
    #[serde(default)]
    pub note: Option<String>,
    /// Where we learnt of it.
    #[serde(default)]
    pub source: Option<Provenance>,
}

impl NewRelation {
    /// Checks the relation makes sense for these two customers.
    pub fn validate(
        &self,
        from_id: i64,
        from_kind: CustomerKind,
        to_kind: CustomerKind,
    ) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.to_customer_id == from_id {
            e.push("to_customer_id", "self_relation");
        }
        check_text(&mut e, "note", self.note.as_deref(), 500);
        match self.kind {
            RelationKind::PrincipalOf => {
                if from_kind != CustomerKind::Individual {
                    e.push("kind", "principal_must_be_individual");
                }
                if to_kind != CustomerKind::Company {
                    e.push("to_customer_id", "principal_of_needs_company");
                }
                if self.role.is_none() {
                    e.push("role", "required");
                }
            }
            RelationKind::Spouse | RelationKind::Parent | RelationKind::Relative => {
                if from_kind != CustomerKind::Individual || to_kind != CustomerKind::Individual {
                    e.push("kind", "needs_individuals");
                }
                if self.role.is_some() {
                    e.push("role", "only_for_principal");
                }
            }
            _ => {
                if self.role.is_some() {
                    e.push("role", "only_for_principal");
                }
            }
        }
        e.finish(|| ())
    }
}
