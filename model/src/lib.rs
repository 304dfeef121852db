//! The run-result contract: `RunResult` and its sections as written to
//! `results.json` (schema version 1), with units in field names and the
//! error classes.
//!
//! Everything that reads or writes results goes through these types, so an old
//! `results.json` always re-renders. This crate depends on serde only (and
//! serde_json for the resolved scenario) and must not depend on any other
//! genbench crate.

mod analyses;
mod cost;
mod errors;
mod flows;
mod limits;
mod llm;
mod process;
mod replay;
mod result;
mod search;
mod segment;
mod traces;

pub use analyses::*;
pub use cost::*;
pub use errors::{ErrorKind, GiveUp};
pub use flows::*;
pub use limits::*;
pub use llm::*;
pub use process::*;
pub use replay::ReplayResult;
pub use result::*;
pub use search::*;
pub use segment::*;
pub use traces::*;

/// Version of the `results.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema of `results.json`, checked in beside this crate.
pub const SCHEMA_JSON: &str = include_str!("../schema/results.v1.json");
