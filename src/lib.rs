//! hkaudit: who can reach what on Heroku, and what that access costs.
//!
//! The pipeline runs one way: the Heroku Platform API ([`heroku`]) is read by [`extract`] into a
//! [`snapshot`] (Parquet tables and a manifest); [`analyze`] turns a snapshot into findings;
//! [`report`] renders findings and the snapshot for people. Each stage reads the previous stage's
//! files, never its internals, so any stage can be rerun alone. [`sandbox`] is a loopback server
//! that behaves like the Platform API over a fixture organisation; production code never depends
//! on it; only the base URL changes. [`history`] (diff, plan, certify, retention) reads what
//! the earlier stages wrote, beside [`report`] and never through it.
//!
//! Imports run down the layers only, checked by `scripts/check-imports.py` (in CI): the shared
//! helpers ([`errors`], [`fsutil`], [`redact`], [`stack`], [`output`]) and the published formats
//! ([`published`]) use no other module; then [`heroku`],
//! [`snapshot`], the stages that read them ([`extract`], [`analyze`], [`sandbox`]), and last the
//! readers of findings ([`report`], [`history`]), which never use each other.
pub mod analyze;
pub mod errors;
pub mod extract;
pub mod fsutil;
pub mod heroku;
pub mod history;
pub mod output;
pub mod published;
pub mod redact;
pub mod report;
pub mod sandbox;
pub mod snapshot;
pub mod stack;
