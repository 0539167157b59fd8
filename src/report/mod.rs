//! report stage (being built).
pub mod charts;
