//! The OpenAI-compatible LLM mock.

mod chat;
mod embeddings;
mod plan;
mod request;
mod stream;
mod wire;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
}

fn model_json(id: &str) -> serde_json::Value {
    // A fixed creation time: the field is required, its value irrelevant.
    json!({"id": id, "object": "model", "created": 1_700_000_000u64, "owned_by": "genbench-mock"})
}

async fn models(State(st): State<Shared>) -> Response {
    let p = &st.config.presets;
    let data: Vec<_> = p
        .llm
        .keys()
        .chain(p.embedding.keys())
        .map(|id| model_json(id))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

async fn model(State(st): State<Shared>, Path(id): Path<String>) -> Response {
    let p = &st.config.presets;
    if p.llm.contains_key(&id) || p.embedding.contains_key(&id) {
        axum::Json(model_json(&id)).into_response()
    } else {
        plan::model_not_found(&id).into_response()
    }
}
