//! genbench end to end: the binary and the library against loopback
//! servers, mocks, the pipeline and services of the tests' own, one module
//! a subject.
//!
//! One test binary, not one per file: each links the whole of genbench, and
//! 30 of them spent most of `cargo test`'s build linking (BENCHMARKS.md,
//! "The build"). Tests that share a process share its id, so every temporary
//! name carries the test's own name too (`support::out_dir`).

mod support;
mod tls_server;

mod ab_e2e;
mod abandon_e2e;
mod analyses_e2e;
mod caches_e2e;
mod capacity_e2e;
mod cli;
mod collect_e2e;
mod dead_target_e2e;
mod full_disk_e2e;
mod fuzz_corpus;
mod gate_e2e;
mod house;
mod https_e2e;
mod k8s_e2e;
mod layering;
mod live_e2e;
mod llm_e2e;
mod merge_analyses_e2e;
mod mock_workers_e2e;
mod pipeline_providers;
mod records_e2e;
mod replay_sources_e2e;
mod reports_e2e;
mod run_e2e;
mod segments_e2e;
mod series_e2e;
mod signals_e2e;
mod tls;
mod traces_e2e;
mod workflow_e2e;
