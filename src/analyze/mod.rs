//! analyze stage (being built).
//!
//! Inputs that do not come from the snapshot: [`idp`] (identity-provider exports), [`tokens`]
//! (`heroku authorizations --json` exports) and [`config`] (`hkaudit.toml`), with the error type
//! they share in [`inputs`].
pub mod config;
pub mod idp;
pub mod inputs;
pub mod tokens;
