//! One request of a trace, and what can be wrong with a trace.

use std::path::PathBuf;

/// One row of a trace: when it was sent on the trace's own clock, and as
/// much of the request as the format holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Where it is in the file, from 1 (a CSV row's first line).
    pub line: u64,
    /// Seconds on the trace's clock: since the epoch, or since whatever
    /// the trace counts from. Only differences between rows matter.
    pub at_s: f64,
    pub request: RowRequest,
}

/// What a row says of its request. What it leaves out, the scenario's
/// `[request]` template fills.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowRequest {
    pub method: Option<String>,
    /// The request target, `/` first, query included.
    pub path: Option<String>,
    /// Headers to send, credentials already left out.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Template variables: the row's other columns, by name.
    pub vars: Vec<(String, String)>,
    /// An LLM trace's row: the prompt and reply lengths to make.
    pub llm: Option<LlmRow>,
    /// Credential headers the row had, left out.
    pub credentials_dropped: u32,
}

impl RowRequest {
    /// The value of variable `name`, if the row has it.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An LLM trace's request: lengths in tokens, and the ids of the prompt's
/// blocks (rows that share leading block ids share that prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmRow {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub blocks: Vec<u64>,
}

/// A trace that cannot be replayed as it is, with where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read the trace {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "{}:{line}: this row's time ({at_s}) is before the previous row's ({previous_s}): the trace is out of time order; sort it, or set `sort = true` in [load.replay] to have genbench sort it (in memory)",
        path.display()
    )]
    Disorder {
        path: PathBuf,
        line: u64,
        at_s: f64,
        previous_s: f64,
    },
    #[error("{}: {message}", path.display())]
    Empty { path: PathBuf, message: String },
}

impl TraceError {
    /// The line a row error names, if it names one.
    pub fn line(&self) -> Option<u64> {
        match self {
            TraceError::Row { line, .. } | TraceError::Disorder { line, .. } => Some(*line),
            _ => None,
        }
    }
}
