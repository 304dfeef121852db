//! What a response body says about itself: its cache status and its token
//! usage, found by JSON pointer. A streamed (SSE) body is read event by
//! event and the last event that has the pointer wins, which is where
//! OpenAI-style streams put `usage` and where pipelines put a summary.

use serde_json::Value;

use crate::sample::CacheStatus;

/// The JSON documents of a body: the whole body if it is one JSON value,
/// else each `data:` line of an event stream that is.
pub fn documents(body: &[u8]) -> Vec<Value> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    if let Some(i) = start
        && matches!(body[i], b'{' | b'[')
        && let Ok(v) = serde_json::from_slice(body)
    {
        return vec![v];
    }
    body.split(|b| *b == b'\n')
        .filter_map(|line| {
            let data = line.strip_prefix(b"data:")?;
            serde_json::from_slice(data).ok()
        })
        .collect()
}

/// The last document's value at `pointer`.
pub fn find<'a>(docs: &'a [Value], pointer: &str) -> Option<&'a Value> {
    docs.iter().rev().find_map(|d| d.pointer(pointer))
}

/// `"hit"`/`"miss"` (any case) or `true`/`false` at `pointer`.
pub fn cache_status(docs: &[Value], pointer: &str) -> Option<CacheStatus> {
    match find(docs, pointer)? {
        Value::Bool(true) => Some(CacheStatus::Hit),
        Value::Bool(false) => Some(CacheStatus::Miss),
        Value::String(s) if s.eq_ignore_ascii_case("hit") => Some(CacheStatus::Hit),
        Value::String(s) if s.eq_ignore_ascii_case("miss") => Some(CacheStatus::Miss),
        _ => None,
    }
}

/// Token usage of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: u64,
    pub completion: u64,
    pub cached_prompt: u64,
}

/// An OpenAI-shaped usage object at `pointer`: `prompt_tokens`,
/// `completion_tokens`, and cached prompt tokens as either
/// `prompt_tokens_details.cached_tokens` (OpenAI) or `cached_prompt_tokens`.
pub fn usage(docs: &[Value], pointer: &str) -> Option<Usage> {
    let u = find(docs, pointer)?;
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64);
    let prompt = n("/prompt_tokens");
    let completion = n("/completion_tokens");
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some(Usage {
        prompt: prompt.unwrap_or(0),
        completion: completion.unwrap_or(0),
        cached_prompt: n("/prompt_tokens_details/cached_tokens")
            .or_else(|| n("/cached_prompt_tokens"))
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_is_one_document() {
        let d = documents(br#" {"cache": "HIT", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cached_prompt_tokens": 4}}"#);
        assert_eq!(cache_status(&d, "/cache"), Some(CacheStatus::Hit));
        assert_eq!(
            usage(&d, "/usage"),
            Some(Usage {
                prompt: 10,
                completion: 5,
                cached_prompt: 4
            })
        );
        assert_eq!(cache_status(&d, "/nope"), None);
    }

    #[test]
    fn a_stream_is_read_event_by_event_and_the_last_wins() {
        let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n\
data: [DONE]\n\n";
        let d = documents(body);
        assert_eq!(d.len(), 2);
        assert_eq!(
            usage(&d, "/usage"),
            Some(Usage {
                prompt: 7,
                completion: 3,
                cached_prompt: 2
            })
        );
    }

    #[test]
    fn booleans_and_garbage() {
        let d = documents(br#"{"meta": {"cached": false}}"#);
        assert_eq!(cache_status(&d, "/meta/cached"), Some(CacheStatus::Miss));
        assert!(documents(b"<html>not json</html>").is_empty());
        let d = documents(br#"{"cache": "stale"}"#);
        assert_eq!(cache_status(&d, "/cache"), None);
    }
}
