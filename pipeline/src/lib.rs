//! The reference article-generation pipeline: cache, search, fetch, extract,
//! prompt, LLM — the service `genbench run` drives by default.
//!
//! It knows its providers only by URL, so it runs unchanged against
//! `genbench mock` or real OpenAI-compatible endpoints. It must not depend on
//! any other genbench crate, and the harness never links it into its own
//! process when measuring it.
