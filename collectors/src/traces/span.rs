//! A span as the collectors keep it: decoded from OTLP by the harness,
//! with its stage already named, and only the attributes genbench reads.

/// Token usage a GenAI span reports (`gen_ai.usage.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanUsage {
    /// `gen_ai.response.model`, else `gen_ai.request.model`; empty when
    /// the span names neither.
    pub model: Box<str>,
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
}

/// How a span failed: an HTTP status of 400 and above, or an error
/// status without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    Status(u16),
    Error,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub trace: u128,
    pub id: u64,
    /// 0: none.
    pub parent: u64,
    /// The stage's index in the collector's names.
    pub stage: u16,
    /// The span's own name (for kept trees).
    pub name: Box<str>,
    pub start_ns: u64,
    pub end_ns: u64,
    pub failure: Option<Failure>,
    pub usage: Option<SpanUsage>,
}

impl Span {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}
