//! report stage (being built).
