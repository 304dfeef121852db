//! The rows `genbench record` writes: JSON lines that `format = "jsonl"`
//! replays, with the credentials left out.

use serde_json::{Map, Value};

use crate::credentials::{is_credential, is_hop_by_hop};

/// One request seen by the recording proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<'a> {
    /// Seconds since the epoch when it arrived.
    pub at_s: f64,
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(String, String)],
    /// The body as text; `None` when empty.
    pub body: Option<&'a str>,
    /// The upstream's status; `None` when it could not be reached.
    pub status: Option<u16>,
    pub latency_ms: f64,
}

/// Appends `r`'s line and a newline to `out`; returns how many credential
/// headers were left out.
pub fn line(out: &mut String, r: &Recorded<'_>) -> u32 {
    let mut dropped = 0;
    let mut headers = Map::new();
    for (k, v) in r.headers {
        if is_credential(k) {
            dropped += 1;
        } else if !is_hop_by_hop(k) {
            headers.insert(k.to_ascii_lowercase(), Value::String(v.clone()));
        }
    }
    let mut row = Map::new();
    let at = serde_json::Number::from_f64((r.at_s * 1e6).round() / 1e6)
        .map_or(Value::Null, Value::Number);
    row.insert("timestamp".into(), at);
    row.insert("method".into(), r.method.into());
    row.insert("path".into(), r.path.into());
    row.insert("headers".into(), Value::Object(headers));
    row.insert("body".into(), r.body.map_or(Value::Null, Value::from));
    row.insert("status".into(), r.status.map_or(Value::Null, Value::from));
    let ms = serde_json::Number::from_f64((r.latency_ms * 1e3).round() / 1e3)
        .map_or(Value::Null, Value::Number);
    row.insert("latency_ms".into(), ms);
    out.push_str(&Value::Object(row).to_string());
    out.push('\n');
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Format, Layout};

    #[test]
    fn written_rows_replay_to_the_same_request_without_credentials() {
        let headers = vec![
            ("Authorization".to_string(), "Bearer sk-live".to_string()),
            ("Cookie".to_string(), "s=1".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Content-Length".to_string(), "13".to_string()),
        ];
        let mut out = String::new();
        let dropped = line(
            &mut out,
            &Recorded {
                at_s: 1_796_306_400.123_456_7,
                method: "POST",
                path: "/articles?x=1",
                headers: &headers,
                body: Some(r#"{"topic":"a"}"#),
                status: Some(201),
                latency_ms: 12.345_67,
            },
        );
        assert_eq!(dropped, 2);
        assert!(!out.contains("sk-live") && !out.contains("s=1"), "{out}");
        let (t, r) =
            crate::lines::parse(&Layout::new(Format::Jsonl, None, None), out.trim()).unwrap();
        assert!((t - 1_796_306_400.123_457).abs() < 1e-6);
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.path.as_deref(), Some("/articles?x=1"));
        assert_eq!(r.body.as_deref(), Some(r#"{"topic":"a"}"#));
        assert_eq!(
            r.headers,
            vec![("content-type".into(), "application/json".into())]
        );
        assert!(
            r.vars.is_empty(),
            "status and latency are not variables: {:?}",
            r.vars
        );
    }
}
