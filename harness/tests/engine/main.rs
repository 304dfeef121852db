//! The engine on loopback: the open model's schedule and latency
//! accounting, the HTTP/1.1 sender against scripted servers, flows
//! against a scripted job server, and replays (each row at its scaled
//! instant, within a millisecond). One test binary, beside the end-to-end
//! one (`tests/e2e`), so these run without the e2e tests' processes beside
//! them: on a 2-core machine, a matrix of runs beside a replay made a few
//! of its rows a few ms late.

mod common;
/// The e2e tests' helpers (the binary, output directories, the logging
/// server), which the replay tests use.
#[path = "../e2e/support/mod.rs"]
mod support;

mod engine;
mod engine_precision;
mod flows_e2e;
mod replay;
mod sender;
