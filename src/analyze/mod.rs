//! analyze stage (being built).
