//! Pieces of the OpenAI wire format that streamed and whole answers share.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::ledger::Usage;

/// Seconds since the Unix epoch, as `created` says.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn usage_json(u: Usage) -> serde_json::Value {
    json!({
        "prompt_tokens": u.prompt,
        "completion_tokens": u.completion,
        "total_tokens": u.prompt + u.completion,
        "prompt_tokens_details": {"cached_tokens": u.cached_prompt, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}
