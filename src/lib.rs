//! hkaudit: who can reach what on Heroku, and what that access costs.
//!
//! The pipeline runs one way: the Heroku Platform API ([`heroku`]) is read by [`extract`] into a
//! [`snapshot`] (Parquet tables and a manifest); [`analyze`] turns a snapshot into findings;
//! [`report`] renders findings and the snapshot for people. Each stage reads the previous stage's
//! files, never its internals, so any stage can be rerun alone. [`sandbox`] is a loopback server
//! that behaves like the Platform API over a fixture organisation; production code never depends
//! on it; only the base URL changes.
pub mod analyze;
pub mod extract;
pub mod fsutil;
pub mod heroku;
pub mod history;
pub mod redact;
pub mod report;
pub mod sandbox;
pub mod snapshot;
pub mod stack;
