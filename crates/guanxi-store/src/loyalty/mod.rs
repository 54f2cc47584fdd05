//! Membership and points: the append-only ledger with its lots and allocations ([`ledger`]),
//! the programmes with their tiers ([`program`]), and the accrual sweep and tier evaluation
//! the nightly job runs ([`nightly`]).

pub mod coupon;
pub mod ledger;
pub mod nightly;
pub mod program;

pub use coupon::{CouponRecord, OfferRecord, Redemption, SourceRate};
pub use ledger::{Balance, EntryKind, LedgerEntry, Posted};
pub use nightly::{AccrualReport, TierReport};
pub use program::ProgramRecord;
