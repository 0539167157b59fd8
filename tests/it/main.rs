//! One integration-test binary for the whole crate (polars links once); a module per stage.
mod acme;
mod conformance;
mod plan;
mod retention;
mod report;
mod sandbox;
mod support;
