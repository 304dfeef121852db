//! `POST /v1/chat/completions`, stream and non-stream.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::time::Instant;

use super::plan::{Plan, plan_chat};
use super::stream::sse_body;
use super::wire::usage_json;
use crate::body::{parse_json, read_limited};
use crate::error::ApiError;
use crate::faults::Fate;
use crate::llm::request::ChatRequest;
use crate::state::Shared;

pub async fn chat_completions(State(st): State<Shared>, body: Body) -> Response {
    let start = Instant::now();
    let guard = st.ledger.enter();
    let plan = match prepare(&st, body, start).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut resp = if plan.stream {
        let body = sse_body(st.clone(), plan.clone(), start, guard);
        let mut r = Response::new(body);
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    } else {
        let done = start + plan.ttft + plan.generation_time();
        let mut generating = Generating {
            st: &st,
            plan: &plan,
            answered: false,
        };
        tokio::time::sleep_until(done).await;
        generating.answered = true;
        st.ledger
            .add_usage(&plan.model, plan.usage(plan.pieces.len()));
        drop(guard);
        axum::Json(completion_json(&plan)).into_response()
    };
    let h = resp.headers_mut();
    // The speed drawn for this request, so a client can measure pacing error.
    h.insert(
        "x-genbench-tokens-per-second",
        HeaderValue::from_str(&format!("{:.3}", plan.tokens_per_s))
            .unwrap_or(HeaderValue::from_static("0")),
    );
    h.insert(
        "x-request-id",
        HeaderValue::from_str(&plan.id).unwrap_or(HeaderValue::from_static("-")),
    );
    resp
}

/// A non-streamed completion being generated. If the client goes away
/// first (the server drops the handler), the generation still runs to its
/// end, as a provider's does: the whole completion is billed, and the call
/// counts as cancelled.
struct Generating<'a> {
    st: &'a Shared,
    plan: &'a Plan,
    answered: bool,
}

impl Drop for Generating<'_> {
    fn drop(&mut self) {
        if !self.answered {
            let usage = self.plan.usage(self.plan.pieces.len());
            self.st.ledger.add_cancelled(&self.plan.model, usage);
        }
    }
}

/// Parses, validates, applies limits and faults; `Ok` means "generate".
async fn prepare(st: &Shared, body: Body, start: Instant) -> Result<Plan, ApiError> {
    let bytes = read_limited(body, st.config.max_body_bytes).await?;
    let req: ChatRequest = parse_json(&bytes)?;
    req.validate()?;
    let plan = plan_chat(st, &req)?;
    match plan.decision.fate {
        Fate::Normal => Ok(plan),
        Fate::Error(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(ApiError::server(
                status,
                "The server had an error while processing your request. (genbench mock: injected error fault)",
            ))
        }
        Fate::Hang { ms } => {
            tokio::time::sleep_until(start + Duration::from_secs_f64(ms / 1000.0)).await;
            Err(ApiError::server(
                StatusCode::GATEWAY_TIMEOUT,
                "The request timed out. (genbench mock: injected hang fault)",
            )
            .code("timeout"))
        }
    }
}

fn completion_json(plan: &Plan) -> serde_json::Value {
    json!({
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "system_fingerprint": "fp_genbench",
        "service_tier": "default",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": plan.pieces.concat(),
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": plan.finish_reason,
        }],
        "usage": usage_json(plan.usage(plan.pieces.len())),
    })
}
