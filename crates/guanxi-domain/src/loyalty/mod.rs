//! Membership and points (会员积分). Points are a ledger that is only ever appended to: an
//! accrual is a lot (with its expiry); a redemption, an expiry, a refund's reversal or a
//! negative adjustment is a debit, allocated to lots soonest-expiring first (lots that never
//! expire last, then oldest), with the allocation kept so a reversal knows what it undoes. A
//! debit larger than what is left (points already spent before a refund) leaves a debt that
//! the next accrual settles first — "buy, earn, spend, refund, keep the points" does not work
//! (Odoo's and ERPNext's refund bugs in the research). The programme ([`program`]) says what an
//! order earns and which tier a member holds. Pure: the store posts the entries.

pub mod coupon;
pub mod points;
pub mod program;

pub use coupon::{CouponValue, OfferInput};
pub use points::{accrual_points, allocate, reversal_points, Lot};
pub use program::{CategoryRate, ProgramInput, Promotion, Tier, TierBasis};
