//! snapshot stage (being built).
