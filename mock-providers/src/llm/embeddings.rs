//! `POST /v1/embeddings`: deterministic unit vectors per (seed, model, input).

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::plan::{model_not_found, rate_limited};
use crate::body::{parse_json, read_limited};
use crate::error::ApiError;
use crate::faults::{Fate, Service};
use crate::ledger::{Prices, Usage};
use crate::presets::EmbeddingPreset;
use crate::rng::{Rng, hash_parts};
use crate::state::Shared;
use crate::tokens;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<u32>),
    ManyTokens(Vec<Vec<u32>>),
}

#[derive(Debug, Deserialize)]
struct EmbeddingRequest {
    model: String,
    input: Input,
    #[serde(default)]
    dimensions: Option<usize>,
    #[serde(default)]
    encoding_format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Float,
    Base64,
}

/// One input's identity (for the vector) and its token count.
fn inputs(
    kind: crate::presets::TokenizerKind,
    input: &Input,
) -> Result<Vec<(String, usize)>, ApiError> {
    let items: Vec<(String, usize)> = match input {
        Input::One(s) => vec![(s.clone(), tokens::count(kind, s))],
        Input::Many(v) => v
            .iter()
            .map(|s| (s.clone(), tokens::count(kind, s)))
            .collect(),
        Input::Tokens(t) => vec![(format!("{t:?}"), t.len())],
        Input::ManyTokens(v) => v.iter().map(|t| (format!("{t:?}"), t.len())).collect(),
    };
    if items.is_empty() || items.iter().any(|(_, n)| *n == 0) {
        return Err(ApiError::invalid("'input' must be a non-empty string or a non-empty array of non-empty strings or token arrays.")
            .param("input"));
    }
    if items.len() > 2048 {
        return Err(ApiError::invalid("'input' may hold at most 2048 items.").param("input"));
    }
    Ok(items)
}

fn vector(seed: u64, model: &str, text: &str, dims: usize) -> Vec<f32> {
    let mut rng = Rng::new(hash_parts(seed, &[model, text]));
    let v: Vec<f64> = (0..dims).map(|_| rng.normal()).collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    v.iter().map(|x| (x / norm) as f32).collect()
}

fn encode(v: &[f32], f: Format) -> Value {
    match f {
        Format::Float => json!(v),
        Format::Base64 => {
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            json!(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

fn parse(req: &EmbeddingRequest, preset: &EmbeddingPreset) -> Result<(usize, Format), ApiError> {
    let dims = match req.dimensions {
        Some(d) if d == 0 || d > preset.dimensions => {
            return Err(ApiError::invalid(format!(
                "dimensions must be between 1 and {} for {}.",
                preset.dimensions, req.model
            ))
            .param("dimensions"));
        }
        Some(d) => d,
        None => preset.dimensions,
    };
    let format = match req.encoding_format.as_deref() {
        None | Some("float") => Format::Float,
        Some("base64") => Format::Base64,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid value: '{other}'. Supported values are: 'float' and 'base64'."
            ))
            .param("encoding_format"));
        }
    };
    Ok((dims, format))
}

pub async fn embeddings(State(st): State<Shared>, body: Body) -> Response {
    let start = Instant::now();
    let _guard = st.ledger.enter();
    match handle(&st, body, start).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(st: &Shared, body: Body, start: Instant) -> Result<Value, ApiError> {
    let bytes = read_limited(body, st.config.max_body_bytes).await?;
    let req: EmbeddingRequest = parse_json(&bytes)?;
    let preset = st
        .config
        .presets
        .embedding
        .get(&req.model)
        .ok_or_else(|| model_not_found(&req.model))?;
    let (dims, format) = parse(&req, preset)?;
    let items = inputs(preset.tokenizer, &req.input)?;
    let prompt: usize = items.iter().map(|(_, n)| n).sum();
    let price = Prices {
        input: preset.usd_per_1m_input,
        cached_input: preset.usd_per_1m_input,
        output: 0.0,
    };
    if let Err(l) = st
        .faults
        .admit(Service::Embeddings, &req.model, prompt as f64, None)
    {
        st.ledger.model_call(&req.model, price, true);
        return Err(rate_limited(&req.model, &l));
    }
    let mut rng = st.faults.next_rng(Service::Embeddings);
    let d = st.faults.decide(Service::Embeddings, &mut rng);
    st.ledger
        .model_call(&req.model, price, d.fate != Fate::Normal);
    let latency_ms = st.scaled_ms(preset.latency_ms.dist().sample(&mut rng)) + d.extra_ms;
    match d.fate {
        Fate::Normal => {}
        Fate::Error(code) => {
            let status = axum::http::StatusCode::from_u16(code)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            return Err(ApiError::server(
                status,
                "The server had an error processing your request. (genbench mock: injected error fault)",
            ));
        }
        Fate::Hang { ms } => {
            tokio::time::sleep_until(start + std::time::Duration::from_secs_f64(ms / 1000.0)).await;
            return Err(ApiError::server(
                axum::http::StatusCode::GATEWAY_TIMEOUT,
                "The request timed out. (genbench mock: injected hang fault)",
            ));
        }
    }
    tokio::time::sleep_until(
        start + std::time::Duration::from_secs_f64(latency_ms.max(0.0) / 1000.0),
    )
    .await;
    st.ledger.add_usage(
        &req.model,
        Usage {
            prompt: prompt as u64,
            cached_prompt: 0,
            completion: 0,
        },
    );
    let data: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            json!({"object": "embedding", "index": i, "embedding": encode(&vector(st.config.seed, &req.model, text, dims), format)})
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_and_deterministic() {
        let a = vector(1, "m", "hello", 64);
        assert_eq!(a, vector(1, "m", "hello", 64));
        assert_ne!(a, vector(1, "m", "hellO", 64));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn base64_is_little_endian_f32() {
        let v = [1.0f32, -2.5];
        let Value::String(s) = encode(&v, Format::Base64) else {
            panic!("not a string")
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        assert_eq!(f32::from_le_bytes(bytes[4..8].try_into().unwrap()), -2.5);
    }
}
