//! The engine on loopback: the open model's schedule and latency
//! accounting, the HTTP/1.1 sender against scripted servers, and flows
//! against a scripted job server. One test binary, beside the end-to-end
//! one (`tests/e2e`), so these run without the e2e tests' processes beside
//! them.

mod common;

mod engine;
mod engine_precision;
mod flows_e2e;
mod sender;
