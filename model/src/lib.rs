//! The run-result contract: `RunResult` and its sections as written to
//! `results.json`, with units in field names and the error classes.
//!
//! Everything that reads or writes results goes through these types, so an old
//! `results.json` always re-renders. This crate depends on serde only and must
//! not depend on any other genbench crate.

/// Version of the `results.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
