//! `--records`: one JSON line per finished request, written as the run
//! goes, so the slow requests can be found and joined with the target's own
//! traces by its request id. Pure formatting; the harness writes the lines.

use std::fmt::Write as _;

use crate::{CacheStatus, Outcome, Sample};

fn secs(out: &mut String, key: &str, d: Option<std::time::Duration>) {
    match d {
        Some(d) => {
            let _ = write!(out, ",\"{key}\":{:.6}", d.as_secs_f64());
        }
        None => {
            let _ = write!(out, ",\"{key}\":null");
        }
    }
}

/// A JSON string, escaped.
fn string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// The request a record is of: what a replay of the records sends again
/// (`format = "records"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent<'a> {
    pub method: &'a str,
    /// Below the target URL's own path.
    pub path: &'a str,
    pub body: Option<&'a str>,
}

/// Appends `s`'s record and a newline to `out`: its times in seconds from
/// the run's start (scheduled, sent, first byte, end), latency in ms from
/// the scheduled instant, status or error kind, cache status, the stages
/// its `Server-Timing` named (ms), the target's request id, and the
/// request's method, path and body.
/// `flow`: the flow's id and the step's name, for a flow's requests.
pub fn line(
    out: &mut String,
    worker: usize,
    s: &Sample,
    sent: &Sent<'_>,
    server_timing: &[u8],
    request_id: &[u8],
    flow: Option<(u64, &str)>,
) {
    let _ = write!(out, "{{\"worker\":{worker}");
    secs(out, "scheduled_s", Some(s.scheduled));
    secs(out, "sent_s", Some(s.sent));
    secs(out, "first_byte_s", s.first_byte);
    secs(out, "end_s", Some(s.end));
    // The whole µs the latency histogram records, so records and results
    // agree value for value.
    let us = (s.latency().as_micros() as u64).max(1);
    let _ = write!(out, ",\"latency_ms\":{}.{:03}", us / 1000, us % 1000);
    match s.outcome {
        Outcome::Ok(status) => {
            let _ = write!(out, ",\"status\":{status},\"error\":null");
        }
        Outcome::Error(kind) => {
            out.push_str(",\"status\":null,\"error\":");
            string(out, kind.name());
        }
        Outcome::Abandoned(why) => {
            out.push_str(",\"status\":null,\"error\":null,\"abandoned\":");
            string(out, why.name());
        }
    }
    out.push_str(",\"cache\":");
    out.push_str(match s.cache {
        Some(CacheStatus::Hit) => "\"hit\"",
        Some(CacheStatus::Miss) => "\"miss\"",
        None => "null",
    });
    out.push_str(",\"stages\":{");
    let mut first = true;
    for (name, ms) in crate::stages::parse_server_timing(server_timing) {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        string(out, name);
        let _ = write!(out, ":{ms}");
    }
    out.push_str("},\"request_id\":");
    match std::str::from_utf8(request_id) {
        Ok(id) if !id.is_empty() => string(out, id.trim()),
        _ => out.push_str("null"),
    }
    match s.trace {
        Some(t) => {
            let _ = write!(out, ",\"trace_id\":\"{:032x}\"", t.trace);
        }
        None => out.push_str(",\"trace_id\":null"),
    }
    out.push_str(",\"method\":");
    string(out, sent.method);
    out.push_str(",\"path\":");
    string(out, sent.path);
    out.push_str(",\"body\":");
    match sent.body {
        Some(b) => string(out, b),
        None => out.push_str("null"),
    }
    match flow {
        Some((id, step)) => {
            let _ = write!(out, ",\"flow\":{id},\"step\":");
            string(out, step);
            out.push_str("}\n");
        }
        None => out.push_str(",\"flow\":null,\"step\":null}\n"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use genbench_model::ErrorKind;

    use super::*;

    fn sample(outcome: Outcome) -> Sample {
        Sample {
            scheduled: Duration::from_millis(1000),
            sent: Duration::from_millis(1002),
            first_byte: Some(Duration::from_millis(1100)),
            end: Duration::from_millis(1250),
            outcome,
            bytes: 10,
            cache: Some(CacheStatus::Miss),
            trace: None,
        }
    }

    const GET: Sent<'static> = Sent {
        method: "GET",
        path: "/a?q=1",
        body: None,
    };

    #[test]
    fn a_record_is_one_json_line_with_every_field() {
        let mut out = String::new();
        line(
            &mut out,
            1,
            &sample(Outcome::Ok(200)),
            &GET,
            b"llm;dur=12.5, total;dur=240",
            b"req-\"7\"",
            None,
        );
        line(
            &mut out,
            0,
            &sample(Outcome::Error(ErrorKind::Timeout)),
            &Sent {
                method: "POST",
                path: "/b",
                body: Some("{\"topic\":\"a\"}"),
            },
            b"",
            b"",
            Some((12, "poll \"job\"")),
        );
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let a = &lines[0];
        assert_eq!(a["worker"], 1);
        assert_eq!(a["scheduled_s"], 1.0);
        assert_eq!(a["first_byte_s"], 1.1);
        assert_eq!(a["latency_ms"], 250.0);
        let mut sub_us = String::new();
        let mut s = sample(Outcome::Ok(200));
        s.end = s.scheduled + std::time::Duration::from_nanos(1_234_999);
        line(&mut sub_us, 0, &s, &GET, b"", b"", None);
        let v: serde_json::Value = serde_json::from_str(&sub_us).unwrap();
        assert_eq!(v["latency_ms"], 1.234, "whole µs, as the histogram records");
        assert_eq!(a["status"], 200);
        assert_eq!(a["cache"], "miss");
        assert_eq!(a["stages"]["llm"], 12.5);
        assert_eq!(a["request_id"], "req-\"7\"");
        let b = &lines[1];
        assert_eq!(b["error"], "timeout");
        assert!(b["status"].is_null() && b["request_id"].is_null());
        assert!(a["flow"].is_null() && a["step"].is_null());
        assert_eq!(
            (&b["flow"], &b["step"]),
            (&serde_json::json!(12), &serde_json::json!("poll \"job\""))
        );
        assert_eq!(b["stages"], serde_json::json!({}));
        assert_eq!(
            (&a["method"], &a["path"]),
            (&serde_json::json!("GET"), &serde_json::json!("/a?q=1"))
        );
        assert!(a["body"].is_null());
        assert_eq!(b["body"], "{\"topic\":\"a\"}");
    }
}
