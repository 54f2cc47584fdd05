//! Analytics checked against outside references: published values and reference libraries'
//! output on the same data (fixtures under `tests/fixtures/`).

mod clv_cdnow;
mod references;
