//! One integration-test binary for the whole crate (polars links once); a module per stage.
mod analyze;
mod conformance;
mod sandbox;
mod snapshots_kit;
mod support;
