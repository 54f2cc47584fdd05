//! Imports: the bulk writer that puts a file's customers into the book in one transaction
//! ([`write`]), and the imports made from the browser, kept with their file, settings,
//! outcome and what they wrote, so that one can be undone ([`batches`]); and imported
//! orders with their lines ([`orders`]).

mod batches;
mod orders;
mod policy;
mod records;
mod write;

pub use batches::*;
pub use orders::*;
pub use policy::ImportPolicy;
pub use records::ImportedDeal;
pub use write::*;
