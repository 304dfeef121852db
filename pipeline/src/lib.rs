//! The reference article-generation pipeline: cache, search, fetch, extract,
//! prompt, LLM — the service `genbench run` drives by default, shaped like
//! the pipelines teams run, with the knobs they compare.
//!
//! It knows its providers only by URL, so it runs unchanged against
//! `genbench mock` or real OpenAI-compatible endpoints. It must not depend on
//! any other genbench crate (its tests use `genbench-mock` as a
//! dev-dependency), and the harness never links it into its own process when
//! measuring it.

mod app;
mod article;
mod batch;
mod cache;
mod coalesce;
pub mod config;
mod error;
pub mod extract;
mod http;
mod job_api;
mod jobs;
mod metrics;
mod profile;
mod prompt;
mod providers;
mod redis_cache;
mod router;
mod server;
mod stream;
mod telemetry;
mod timings;
mod tls;
mod types;

pub use config::JobsConfig;
pub use config::{CacheKind, PipelineConfig};
pub use error::{PipelineError, Stage};
pub use server::Pipeline;
pub use tls::{client_builder, install_crypto_provider};
