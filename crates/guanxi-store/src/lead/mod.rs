//! Leads (issue #17): enquiries kept apart from the customer file until a rep qualifies and
//! converts them ([`leads`]), and the public capture forms they arrive through ([`forms`]).

pub mod forms;
pub mod leads;

pub use forms::LeadForm;
pub use leads::{Lead, LeadFilter, LeadPage};
