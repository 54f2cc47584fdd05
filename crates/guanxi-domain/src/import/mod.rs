//! Importing customers from a spreadsheet (issue #18): which columns mean which field, how one
//! row becomes the customer it would store, and what to do when it matches a customer already
//! on file. Pure and IO-free, so the CLI (`guanxi import customers`) and the browser's import
//! wizard read a file the same way; reading the bytes (CSV encodings, xlsx) and writing are the
//! application layer's.

pub mod buyer;
pub mod columns;
pub mod interactions;
pub mod opportunities;
pub mod orders;
pub mod rows;
#[cfg(test)]
mod test_rows;

pub use columns::{suggest_fields, FIELDS};
pub use rows::{row_to_fields, DuplicateChoice, RowCheck, RowError, UpdateMode, UpdateRule};
