//! Everything about one completion decided up front: tokens, timing, faults.

use std::time::Duration;

use axum::http::StatusCode;

use super::request::{ChatRequest, as_message_texts};
use super::wire::unix_now;
use crate::error::ApiError;
use crate::faults::{Decision, Fate, Limited, Service};
use crate::ledger::{Prices, Usage};
use crate::presets::{LlmPreset, TokenizerKind};
use crate::rng::{Rng, hash_parts};
use crate::state::Shared;
use crate::{text, tokens};

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub prompt_tokens: u64,
    pub cached_prompt_tokens: u64,
    pub pieces: Vec<&'static str>,
    pub finish_reason: &'static str,
    /// Arrival to first token.
    pub ttft: Duration,
    /// 0 means unlimited.
    pub tokens_per_s: f64,
    pub decision: Decision,
}

impl Plan {
    /// When token `i` (0-based) is due, relative to the first token.
    pub fn token_offset(&self, i: usize) -> Duration {
        if self.tokens_per_s <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(i as f64 / self.tokens_per_s)
        }
    }

    pub fn generation_time(&self) -> Duration {
        self.token_offset(self.pieces.len().saturating_sub(1))
    }

    pub fn usage(&self, completion: usize) -> Usage {
        Usage {
            prompt: self.prompt_tokens,
            cached_prompt: self.cached_prompt_tokens,
            completion: completion as u64,
        }
    }

    /// Index of the token at which the stream is cut, if it is.
    pub fn cut_index(&self) -> Option<usize> {
        self.decision
            .cut_at
            .map(|f| (f * self.pieces.len() as f64) as usize)
    }
}

pub fn prices(p: &LlmPreset) -> Prices {
    Prices {
        input: p.usd_per_1m.input,
        cached_input: p.usd_per_1m.cached_input.unwrap_or(p.usd_per_1m.input),
        output: p.usd_per_1m.output,
    }
}

pub fn model_not_found(model: &str) -> ApiError {
    ApiError::not_found(format!(
        "The model `{model}` does not exist or you do not have access to it. \
         genbench mock knows the models in its presets (GET /v1/models); \
         start it with --preset NAME to serve unknown models with a preset."
    ))
    .param("model")
    .code("model_not_found")
}

pub fn rate_limited(model: &str, l: &Limited) -> ApiError {
    let unit = if l.what == "requests" {
        "requests per min (RPM)"
    } else {
        "tokens per min (TPM)"
    };
    let message = match l.retry_after_s {
        Some(s) => format!(
            "Rate limit reached for {model} in organization org-genbench-mock on {unit}: \
             Limit {}, Requested {}. Please try again in {s}s.",
            l.limit, l.requested
        ),
        None => format!(
            "Request too large for {model} in organization org-genbench-mock on {unit}: \
             Limit {}, Requested {}. Reduce the prompt or max_tokens.",
            l.limit, l.requested
        ),
    };
    let mut e =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, l.what, message).code("rate_limit_exceeded");
    e.retry_after_s = l.retry_after_s;
    e
}

fn content_key(seed: u64, req: &ChatRequest, texts: &[(String, Option<String>, String)]) -> u64 {
    let req_seed = req.seed.map(|s| s.to_string()).unwrap_or_default();
    let mut parts: Vec<&str> = vec![&req.model, &req_seed];
    for (role, name, content) in texts {
        parts.extend([
            role.as_str(),
            name.as_deref().unwrap_or(""),
            content.as_str(),
        ]);
    }
    hash_parts(seed, &parts)
}

fn output_len(preset: &LlmPreset, req: &ChatRequest, key: u64) -> usize {
    match req.max_output() {
        Some(n) => n as usize,
        None => {
            let mut r = Rng::new(key ^ 0x6c65_6e67_7468);
            (preset.output_tokens.dist().sample(&mut r).round() as usize).max(1)
        }
    }
}

pub fn plan_chat(st: &Shared, req: &ChatRequest) -> Result<Plan, ApiError> {
    let preset = st
        .llm_preset(&req.model)
        .ok_or_else(|| model_not_found(&req.model))?;
    let kind: TokenizerKind = preset.tokenizer;
    let texts = req.texts();
    let (ids, prompt_tokens) = tokens::prompt_tokens(kind, &as_message_texts(&texts));
    let key = content_key(st.config.seed, req, &texts);
    let n_out = output_len(preset, req, key);

    let price = prices(preset);
    let budget = (prompt_tokens + n_out) as f64;
    if let Err(l) = st.faults.admit(Service::Llm, &req.model, budget, None) {
        st.ledger.model_call(&req.model, price, true);
        return Err(rate_limited(&req.model, &l));
    }
    let mut rng = st.faults.next_rng(Service::Llm);
    let decision = st.faults.decide(Service::Llm, &mut rng);
    let streaming = req.streaming();
    let cut = streaming && decision.cut_at.is_some();
    st.ledger
        .model_call(&req.model, price, decision.fate != Fate::Normal || cut);

    let cached = if decision.fate == Fate::Normal && preset.usd_per_1m.cached_input.is_some() {
        st.prompt_cache
            .lookup_and_insert(hash_parts(st.config.seed, &[&req.model]), &ids)
    } else {
        0
    };
    let ttft_ms = st.scaled_ms(preset.ttft_ms.dist().sample(&mut rng) + preset.thinking_ms)
        + decision.extra_ms;
    let jitter = preset.tokens_per_s_jitter * (2.0 * rng.unit() - 1.0);
    Ok(Plan {
        id: format!(
            "chatcmpl-{:016x}{:08x}",
            rng.next_u64(),
            rng.next_u64() as u32
        ),
        created: unix_now(),
        model: req.model.clone(),
        stream: streaming,
        include_usage: req.include_usage(),
        prompt_tokens: prompt_tokens as u64,
        cached_prompt_tokens: cached as u64,
        pieces: text::generate(kind, key, n_out),
        finish_reason: if req.max_output().is_some() {
            "length"
        } else {
            "stop"
        },
        ttft: Duration::from_secs_f64(ttft_ms.max(0.0) / 1000.0),
        tokens_per_s: st.scaled_speed(preset.tokens_per_s * (1.0 + jitter)),
        decision: Decision {
            cut_at: decision.cut_at.filter(|_| streaming),
            ..decision
        },
    })
}
