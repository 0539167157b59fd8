//! extract stage (being built).
