//! Mock providers for AI content pipelines: an OpenAI-compatible LLM, a
//! Google-Custom-Search-shaped search API and a web of synthetic article
//! pages, with latency presets, seeded fault injection and a ledger of every
//! call and its cost.
//!
//! Pointing a pipeline at these mocks removes LLM cost and latency noise from
//! a load test and yields exact cost per article with no instrumentation.
//! `genbench mock` runs them as servers; tests start them in-process with
//! [`MockServers::start`] on `127.0.0.1:0`.
//!
//! This crate depends on no other genbench crate but `genbench-presets`
//! (the presets and seeded generator it shares with the harness): users run
//! it on its own, and the harness only talks to it over HTTP.

mod body;
mod error;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod ledger;
mod llm;
pub use genbench_presets::{presets, rng};
mod search;
mod server;
mod state;
mod text;
mod tokens;
mod web;
mod workers;

pub use error::MockError;
pub use faults::Faults;
pub use ledger::{LedgerSnapshot, ModelLedger};
pub use presets::Presets;
pub use server::{MockAddrs, MockServers, parse_ledger};
pub use state::MockConfig;
pub use web::render_page;
