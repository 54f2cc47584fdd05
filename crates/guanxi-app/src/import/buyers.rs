//! Finding the customers the rows of an orders or interactions file name, among those the
//! importer sees: by id, or by exactly one customer holding the mobile, email or WeChat id
//! (the duplicates' own lookup, a few hundred values per query).

use std::collections::{BTreeSet, HashMap};

use guanxi_domain::import::buyer::BuyerKey;
use guanxi_domain::role::Actor;
use guanxi_store::Store;

use crate::AppError;

/// The customers a file's rows name, looked up once for the whole file.
pub(super) struct Buyers {
    /// Visible customers named by id.
    named: BTreeSet<i64>,
    /// Per identifying value: how many visible customers hold it, and the first.
    found: HashMap<(&'static str, String), (usize, i64)>,
}

impl Buyers {
    /// Looks up every key at once.
    pub(super) async fn find<'a>(
        store: &Store,
        actor: &Actor,
        keys: impl Iterator<Item = &'a BuyerKey>,
    ) -> Result<Self, AppError> {
        let mut ids = BTreeSet::new();
        let mut wanted: HashMap<&'static str, BTreeSet<&str>> = HashMap::new();
        for k in keys {
            match k {
                BuyerKey::Id(id) => {
                    ids.insert(*id);
                }
                BuyerKey::Contact(what, value) => {
                    wanted.entry(what).or_default().insert(value);
                }
            }
        }
        let ids: Vec<i64> = ids.into_iter().collect();
        let named = store
            .visible_customer_names(actor, &ids)
            .await?
            .into_keys()
            .collect();
        let mut found = HashMap::new();
        for (what, values) in wanted {
            let values: Vec<&str> = values.into_iter().collect();
            for (value, hits) in store.customers_by_identity(actor, what, &values).await? {
                if let Some((id, _)) = hits.first() {
                    found.insert((what, value), (hits.len(), *id));
                }
            }
        }
        Ok(Self { named, found })
    }

    /// The customer a key names, or why none: `customer_not_found` (nobody the importer sees;
    /// one out of their scope is not revealed), `ambiguous_customer` (several hold the value).
    pub(super) fn get(&self, key: &BuyerKey) -> Result<i64, &'static str> {
        match key {
            BuyerKey::Id(id) => self
                .named
                .contains(id)
                .then_some(*id)
                .ok_or("customer_not_found"),
            BuyerKey::Contact(what, value) => match self.found.get(&(*what, value.clone())) {
                Some((1, id)) => Ok(*id),
                Some(_) => Err("ambiguous_customer"),
                None => Err("customer_not_found"),
            },
        }
    }
}
