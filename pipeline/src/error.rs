//! Errors: configuration and start-up (`PipelineError`), provider failures by
//! stage (`StageError`), and how each becomes an HTTP answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    #[error("cannot listen on {addr}: {source}; pick a free port or use 127.0.0.1:0")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error(
        "cannot connect to Redis at {url}: {message}; start redis-server or set cache.kind = \"memory\""
    )]
    Redis { url: String, message: String },
}

/// A pipeline stage, as named in `Server-Timing`, metrics and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Cache,
    Search,
    Fetch,
    Extract,
    Prompt,
    Llm,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Cache,
        Stage::Search,
        Stage::Fetch,
        Stage::Extract,
        Stage::Prompt,
        Stage::Llm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Cache => "cache",
            Stage::Search => "search",
            Stage::Fetch => "fetch",
            Stage::Extract => "extract",
            Stage::Prompt => "prompt",
            Stage::Llm => "llm",
        }
    }
}

/// Why a provider call failed, after retries.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Timeout,
    /// Still 429 after every retry.
    RateLimited,
    /// The provider answered with this status.
    Status(u16),
    /// No answer at all: refused, reset, DNS.
    Unavailable,
    /// An answer we could not use.
    BadResponse,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} stage failed: {message}", stage.name())]
pub struct StageError {
    pub stage: Stage,
    pub failure: Failure,
    pub message: String,
}

impl StageError {
    pub fn new(stage: Stage, failure: Failure, message: impl Into<String>) -> Self {
        StageError {
            stage,
            failure,
            message: message.into(),
        }
    }

    fn status_and_kind(&self) -> (StatusCode, &'static str) {
        match self.failure {
            Failure::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            Failure::RateLimited => (StatusCode::SERVICE_UNAVAILABLE, "rate_limited"),
            Failure::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Failure::Status(_) => (StatusCode::BAD_GATEWAY, "provider_error"),
            Failure::BadResponse => (StatusCode::BAD_GATEWAY, "bad_response"),
        }
    }
}

impl StageError {
    /// The answer's status and JSON body.
    pub fn status_and_body(&self) -> (StatusCode, serde_json::Value) {
        let (status, kind) = self.status_and_kind();
        let provider_status = match self.failure {
            Failure::Status(s) => Some(s),
            Failure::RateLimited => Some(429),
            _ => None,
        };
        let body = json!({"error": {
            "stage": self.stage.name(),
            "kind": kind,
            "message": self.to_string(),
            "provider_status": provider_status,
        }});
        (status, body)
    }
}

impl IntoResponse for StageError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        (status, axum::Json(body)).into_response()
    }
}

/// A request the pipeline refuses: 400 for unreadable bodies, 422 for
/// readable ones with invalid values.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest {
    pub status: StatusCode,
    pub message: String,
}

impl BadRequest {
    pub fn malformed(m: impl Into<String>) -> Self {
        BadRequest {
            status: StatusCode::BAD_REQUEST,
            message: m.into(),
        }
    }

    pub fn invalid(m: impl Into<String>) -> Self {
        BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: m.into(),
        }
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let kind = if self.status == StatusCode::BAD_REQUEST {
            "malformed_request"
        } else {
            "invalid_request"
        };
        (
            self.status,
            axum::Json(json!({"error": {"kind": kind, "message": self.message}})),
        )
            .into_response()
    }
}
