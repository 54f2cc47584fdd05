//! Exports that need a second pair of eyes (issue #18): the shop's threshold (an admin sets
//! how many customers one export may hold before a manager must approve it), and the requests
//! above it — who asked for what (the list's filter as a query string, the columns, the
//! format, the count and the reason), who decided, and the one download an approval allows.
//! Each step is audited in its own transaction, and the admins and approvers are told through
//! notifications written in the same transaction.

mod requests;

pub use requests::*;
