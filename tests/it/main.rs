//! One integration-test binary for the whole crate (polars links once); a module per stage.
mod acme;
mod analyze;
mod conformance;
mod extract;
mod faults;
mod heroku_cli;
mod history;
mod idp;
mod newcomer;
mod plan;
mod replay;
mod report;
mod retention;
mod review;
mod sandbox;
mod snapshots_kit;
mod support;
