//! Customer care (客户关怀): the dates worth a greeting — a customer's birthday in either
//! calendar, a spouse's and children's birthdays, the wedding anniversary, the day they became a
//! customer — and the festivals everybody keeps; what was given on each (a greeting, a gift, a
//! coupon); and care plans that turn an upcoming date into a task for the owner, exactly once per
//! customer and occasion. Pure: the store keeps the dates and the jobs fire the plans.

pub mod festival;
pub mod occasion;
pub mod plan;
pub mod touch;

pub use festival::{festivals_between, Festival};
pub use occasion::{care_dates, CareDate, Occasion, OccasionKind};
pub use plan::{CarePlan, CarePlanInput, MAX_DAYS_BEFORE};
pub use touch::{Touch, TouchInput, TouchKind};
