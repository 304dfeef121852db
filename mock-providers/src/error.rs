//! Errors: the library's own (`MockError`) and the HTTP errors the mock
//! answers in OpenAI's wire format (`ApiError`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Failures of the mock as a library: configuration and start-up.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    #[error("cannot listen on {addr}: {source}; pick a free port or use 127.0.0.1:0")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("unknown {kind} preset `{name}`; known: {known}")]
    UnknownPreset {
        kind: &'static str,
        name: String,
        known: String,
    },
}

/// An HTTP error with OpenAI's body shape:
/// `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            retry_after_s: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
    }

    pub fn server(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, "server_error", message)
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after_s {
            let h = resp.headers_mut();
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
            // OpenAI also sends the delay in milliseconds; its SDK prefers it.
            h.insert("retry-after-ms", HeaderValue::from(s * 1000));
        }
        resp
    }
}
