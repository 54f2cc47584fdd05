//! The binary's tests, one test binary: the CLI commands, analytics checks against their
//! references, backup and restore under load, the demo's numbers, the job queue under kill -9
//! and the warehouse export loaded into DuckDB.

mod analyze;
mod backup;
mod campaign_crash;
mod cli;
mod common;
mod demo_numbers;
mod jobs_crash;
mod warehouse;
