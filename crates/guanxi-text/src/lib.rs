//! Everything a person reads, in their language: the supported languages ([`i18n`]), the Fluent
//! catalogue embedded from `locales/<language>/<area>.ftl` ([`catalog`]), texts and vocabulary
//! labels by key ([`text`]) and how numbers, money and times are written ([`format`]).
//!
//! Its own crate so the pages, the JSON API, the export writer in the application layer and the
//! CLI word things the same way without the CLI or the application layer depending on the web
//! crate.

pub mod catalog;
pub mod format;
pub mod i18n;
pub mod text;

pub use i18n::Locale;
