//! Provider presets, with the dated public figures they start from
//! (latency, speed and price per model; search and web providers), and the
//! seeded randomness that draws from them.
//!
//! Shared by the mock providers, which simulate the presets, and the
//! harness, which prices an external target's reported usage with them and
//! seeds its own load with the same generator: neither reaches into the
//! other for them. This crate depends on serde and toml only and must not
//! depend on any other genbench crate.

pub mod presets;
pub mod rng;

pub use presets::{Presets, PresetsError};
