//! Server-sent events for streamed completions, paced against absolute
//! deadlines (first token at arrival + TTFT, token `i` at `i / speed` after
//! it) so timer granularity never accumulates into drift.

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use serde_json::json;
use tokio::time::Instant;

use super::plan::Plan;
use super::wire::usage_json;
use crate::ledger::InFlight;
use crate::state::Shared;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Role,
    Tokens,
    Finish,
    Done,
}

struct StreamState {
    st: Shared,
    plan: Plan,
    first_token_at: Instant,
    next: usize,
    phase: Phase,
    billed: bool,
    prefix: String,
    suffix: &'static str,
    _in_flight: InFlight,
}

impl StreamState {
    fn bill(&mut self, completion: usize) {
        if !self.billed {
            self.billed = true;
            self.st
                .ledger
                .add_usage(&self.plan.model, self.plan.usage(completion));
        }
    }

    fn push_chunk(&self, out: &mut BytesMut, delta: &str, finish: &str) {
        out.put_slice(self.prefix.as_bytes());
        out.put_slice(delta.as_bytes());
        out.put_slice(b",\"logprobs\":null,\"finish_reason\":");
        out.put_slice(finish.as_bytes());
        out.put_slice(self.suffix.as_bytes());
    }

    /// One token chunk, written without intermediate allocations: this runs
    /// once per token per stream, the mock's hottest path.
    fn push_token(&self, out: &mut BytesMut, piece: &str) {
        out.put_slice(self.prefix.as_bytes());
        out.put_slice(b"{\"content\":\"");
        put_json_escaped(out, piece);
        out.put_slice(b"\"},\"logprobs\":null,\"finish_reason\":null");
        out.put_slice(self.suffix.as_bytes());
    }

    /// Produces the next frame, or `None` at the end. `Err` cuts the
    /// connection, which is how a provider's dropped stream looks to a client.
    async fn step(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        let mut out = BytesMut::with_capacity(self.prefix.len() + 128);
        match self.phase {
            Phase::Role => {
                sleep_until(self.first_token_at).await;
                self.push_chunk(
                    &mut out,
                    r#"{"role":"assistant","content":"","refusal":null}"#,
                    "null",
                );
                self.phase = Phase::Tokens;
                // The first token goes out together with the role chunk.
                self.push_due_tokens(&mut out);
            }
            Phase::Tokens => {
                if self.at_cut() {
                    // Let the server flush what was sent before the cut: an
                    // error on the very next poll would drop unsent bytes too.
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    self.bill(self.next);
                    self.phase = Phase::Done;
                    return Some(Err(std::io::Error::other(
                        "genbench mock: injected stream cut",
                    )));
                }
                if self.next >= self.plan.pieces.len() {
                    self.finish(&mut out);
                } else {
                    sleep_until(self.first_token_at + self.plan.token_offset(self.next)).await;
                    self.push_due_tokens(&mut out);
                }
            }
            Phase::Finish => self.finish(&mut out),
            Phase::Done => return None,
        }
        Some(Ok(out.freeze()))
    }

    fn at_cut(&self) -> bool {
        self.plan.cut_index() == Some(self.next)
    }

    /// Sends every token already due in one write: at high speeds several
    /// fall within one timer tick, and one write per tick is what a real
    /// server's buffering would do too.
    fn push_due_tokens(&mut self, out: &mut BytesMut) {
        let now = Instant::now();
        while self.next < self.plan.pieces.len() && !self.at_cut() {
            if self.first_token_at + self.plan.token_offset(self.next) > now {
                break;
            }
            self.push_token(out, self.plan.pieces[self.next]);
            self.next += 1;
        }
        if self.next >= self.plan.pieces.len() && !self.at_cut() {
            self.phase = Phase::Finish;
        }
    }

    fn finish(&mut self, out: &mut BytesMut) {
        self.push_chunk(out, "{}", &format!("\"{}\"", self.plan.finish_reason));
        let n = self.plan.pieces.len();
        self.bill(n);
        if self.plan.include_usage {
            let chunk = json!({
                "id": self.plan.id,
                "object": "chat.completion.chunk",
                "created": self.plan.created,
                "model": self.plan.model,
                "system_fingerprint": "fp_genbench",
                "choices": [],
                "usage": usage_json(self.plan.usage(n)),
            });
            out.put_slice(format!("data: {chunk}\n\n").as_bytes());
        }
        out.put_slice(b"data: [DONE]\n\n");
        self.phase = Phase::Done;
    }
}

/// Writes `s` as the inside of a JSON string.
fn put_json_escaped(out: &mut BytesMut, s: &str) {
    for b in s.bytes() {
        match b {
            b'"' => out.put_slice(b"\\\""),
            b'\\' => out.put_slice(b"\\\\"),
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b'\t' => out.put_slice(b"\\t"),
            0..=0x1f => out.put_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.put_u8(b),
        }
    }
}

impl Drop for StreamState {
    /// The client went away mid-stream (the server drops the body once a
    /// write to the closed connection fails): bill what was generated up to
    /// then, as providers do for a cancelled stream, and count the call as
    /// cancelled. A finished or injected-cut stream is billed already.
    fn drop(&mut self) {
        if !self.billed {
            self.billed = true;
            let usage = self.plan.usage(self.next);
            self.st.ledger.add_cancelled(&self.plan.model, usage);
        }
    }
}

async fn sleep_until(t: Instant) {
    if t > Instant::now() {
        tokio::time::sleep_until(t).await;
    }
}

pub fn sse_body(st: Shared, plan: Plan, start: Instant, in_flight: InFlight) -> Body {
    let model = serde_json::to_string(&plan.model).unwrap_or_else(|_| "\"\"".into());
    let prefix = format!(
        "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{model},\
         \"system_fingerprint\":\"fp_genbench\",\"choices\":[{{\"index\":0,\"delta\":",
        plan.id, plan.created
    );
    let suffix = if plan.include_usage {
        "}],\"usage\":null}\n\n"
    } else {
        "}]}\n\n"
    };
    let state = StreamState {
        first_token_at: start + plan.ttft,
        st,
        plan,
        next: 0,
        phase: Phase::Role,
        billed: false,
        prefix,
        suffix,
        _in_flight: in_flight,
    };
    let s = stream::unfold(state, |mut s| async move {
        s.step().await.map(|item| (item, s))
    });
    Body::from_stream(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json() {
        for s in [" word", ".\n\n", "quote\"back\\slash\ttab\u{1}", "é"] {
            let mut out = BytesMut::new();
            put_json_escaped(&mut out, s);
            let ours = format!("\"{}\"", String::from_utf8(out.to_vec()).unwrap());
            assert_eq!(serde_json::from_str::<String>(&ours).unwrap(), s);
        }
    }
}
