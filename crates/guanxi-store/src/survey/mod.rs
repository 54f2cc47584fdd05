//! Satisfaction surveys: the surveys and the fatigue setting ([`setup`]), personal single-use
//! links and the answers given through them ([`links`]), and the figures ([`results`]).

pub mod links;
pub mod results;
pub mod send;
pub mod setup;

pub use links::{Invited, LinkState, OpenInvitation, ResponseRecord, Snapshot};
pub use results::{Breakdown, GroupFigures, SurveyResults};
pub use send::{Cause, DueReminder, NewLink, SegmentSend, Sent, SurveyRequest};
pub use setup::SurveyRecord;
