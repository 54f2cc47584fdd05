//! Membership points: the append-only ledger with its lots and allocations ([`ledger`]).

pub mod ledger;

pub use ledger::{Balance, EntryKind, LedgerEntry, Posted};
