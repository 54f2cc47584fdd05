//! Customer care: the dates worth a greeting, kept current from the customer file
//! ([`dates`]); each owner's care list and the greetings, gifts and coupons recorded on it
//! ([`list`]); and care plans that turn an upcoming date into a task for the owner, fired at
//! most once per customer and occasion day ([`plans`]).

pub mod dates;
pub mod list;
pub mod plans;

pub use dates::RefreshReport;
pub use list::{CareEntry, CareList, CareTouch, CareView, FestivalDay};
pub use plans::{CarePlanRecord, FireReport};
