//! One integration-test binary for the whole crate (polars links once); a module per stage.
mod conformance;
mod heroku_cli;
mod sandbox;
mod support;
