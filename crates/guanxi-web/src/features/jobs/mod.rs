//! The background job queue as operators see it: a list with filters, one job's detail, retry
//! of a failed or cancelled job and cancel of a queued one (admins: `ManageJobs`).

pub mod api;
pub mod pages;
