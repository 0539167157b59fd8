//! One integration-test binary for the whole crate (polars links once); a module per stage.
mod conformance;
mod extract;
mod sandbox;
mod support;
