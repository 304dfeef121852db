//! The target's own OpenTelemetry spans, joined to genbench's requests by
//! the `traceparent` each request carried: which stage each span is, each
//! stage's durations and time on the critical path, upstream failures, and
//! the tokens GenAI spans report. The harness decodes OTLP and names
//! stages; this module never sees the wire format.

mod abandoned;
mod collector;
pub mod ids;
mod span;
mod tree;

pub use collector::{GenAiUsage, MAX_PENDING_SPANS, MAX_STAGE_NAMES, OTHER, SpanCollector};
pub use ids::TraceIds;
pub use span::{Failure, Span, SpanUsage};
pub use tree::{MAX_DEPTH, Path, Tree};

#[cfg(test)]
mod tests;
