//! Reads an OpenAI-style streamed completion after it ended: which events
//! carried content and when each arrived, and how many tokens came out.
//!
//! The sender keeps an event stream's body and one [`Mark`] per read (body
//! bytes so far, arrival time), which is all the hot path does; the events
//! are parsed here, once the response is complete, by the worker. An event
//! arrived when the read holding its last byte did, so events that came in
//! one read share a time.

use std::borrow::Cow;
use std::time::Duration;

use genbench_collectors::llm::LlmSample;
use serde::Deserialize;
use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

pub use super::chunks::Mark;

#[derive(Deserialize)]
struct Chunk<'a> {
    /// Present (even empty) on every chat and completions chunk: what
    /// tells an LLM stream from another event stream.
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<UsageOut>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    /// The completions API's text.
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    /// Reasoning models stream their reasoning first, under either name.
    #[serde(default, borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reasoning: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UsageOut {
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// Buffers reused from one stream to the next (one per worker).
#[derive(Default)]
pub struct Scratch {
    /// Gaps between consecutive content events of the last stream, µs.
    pub itl_us: Vec<u32>,
    text: String,
}

/// The arrival time of body byte `end - 1`: the first mark at or past it.
fn arrival(marks: &[Mark], end: u64) -> Option<Duration> {
    let i = marks.partition_point(|m| m.end < end);
    marks.get(i).or(marks.last()).map(|m| m.at)
}

/// What the stream in `body` said, or `None` if it is not an LLM stream
/// (no event has `choices`) or carried no content. Leaves the gaps between
/// content events in `scratch.itl_us`.
pub fn read_stream(body: &[u8], marks: &[Mark], scratch: &mut Scratch) -> Option<LlmSample> {
    scratch.itl_us.clear();
    scratch.text.clear();
    let (mut first, mut last) = (None, None::<Duration>);
    let (mut usage, mut model, mut llm) = (None, None::<String>, false);
    let mut offset = 0u64;
    // One JSON document per `data:` line, as OpenAI-compatible servers send.
    for line in body.split_inclusive(|b| *b == b'\n') {
        offset += line.len() as u64;
        let Some(data) = line.strip_prefix(b"data:") else {
            continue;
        };
        let Ok(chunk) = serde_json::from_slice::<Chunk>(data) else {
            continue;
        };
        let Some(choices) = chunk.choices else {
            continue;
        };
        llm = true;
        if let Some(n) = chunk.usage.and_then(|u| u.completion_tokens) {
            usage = Some(n);
        }
        if model.is_none() {
            model = chunk.model.map(Cow::into_owned);
        }
        let before = scratch.text.len();
        for c in &choices {
            let d = c.delta.as_ref();
            for piece in [
                d.and_then(|d| d.reasoning_content.as_deref()),
                d.and_then(|d| d.reasoning.as_deref()),
                d.and_then(|d| d.content.as_deref()),
                c.text.as_deref(),
            ]
            .into_iter()
            .flatten()
            {
                scratch.text.push_str(piece);
            }
        }
        if scratch.text.len() == before {
            continue;
        }
        let Some(at) = arrival(marks, offset) else {
            continue;
        };
        if let Some(prev) = last
            && scratch.itl_us.len() < super::chunks::MAX_GAPS_PER_RESPONSE
        {
            let us = at.saturating_sub(prev).as_micros();
            scratch.itl_us.push(us.clamp(1, u32::MAX as u128) as u32);
        }
        first.get_or_insert(at);
        last = Some(at);
    }
    let first_content = first.filter(|_| llm)?;
    let (output_tokens, from_usage) = match usage {
        Some(n) => (n, true),
        None => (
            tokenizer(model.as_deref().unwrap_or(""))
                .encode_ordinary(&scratch.text)
                .len() as u64,
            false,
        ),
    };
    Some(LlmSample {
        first_content,
        output_tokens,
        from_usage,
    })
}

/// The model's own tokenizer for OpenAI models; o200k_base (GPT-4o's) for
/// any other, which approximates it. Streams that report `usage` (OpenAI's
/// `stream_options.include_usage`) are counted exactly whatever the model.
pub fn tokenizer(model: &str) -> &'static CoreBPE {
    match get_tokenizer(model) {
        Some(Tokenizer::Cl100kBase) => tiktoken_rs::cl100k_base_singleton(),
        Some(Tokenizer::P50kBase) => tiktoken_rs::p50k_base_singleton(),
        Some(Tokenizer::R50kBase) => tiktoken_rs::r50k_base_singleton(),
        _ => tiktoken_rs::o200k_base_singleton(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn event(delta: &str) -> String {
        format!(
            "data: {{\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{delta}}}]}}\n\n"
        )
    }

    /// A body whose events arrived one read each at the given times.
    fn stream(events: &[(&str, u64)]) -> (Vec<u8>, Vec<Mark>) {
        let (mut body, mut marks) = (Vec::new(), Vec::new());
        for (e, at) in events {
            body.extend_from_slice(e.as_bytes());
            marks.push(Mark {
                end: body.len() as u64,
                at: ms(*at),
            });
        }
        (body, marks)
    }

    #[test]
    fn ttft_is_the_first_content_event_not_the_role_event() {
        let usage =
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3}}\n\n";
        let (role, a, b, c) = (
            event(r#"{"role":"assistant","content":""}"#),
            event(r#"{"content":"Hello"}"#),
            event(r#"{"content":" world"}"#),
            event(r#"{"content":"!"}"#),
        );
        let (body, marks) = stream(&[
            (&role, 100),
            (&a, 250),
            (&b, 262),
            (&c, 275),
            (usage, 276),
            ("data: [DONE]\n\n", 276),
        ]);
        let mut s = Scratch::default();
        let l = read_stream(&body, &marks, &mut s).unwrap();
        assert_eq!(l.first_content, ms(250));
        assert_eq!((l.output_tokens, l.from_usage), (3, true));
        assert_eq!(s.itl_us, [12_000, 13_000]);
    }

    #[test]
    fn without_usage_tokens_are_counted_with_the_tokenizer() {
        let (a, b) = (
            event(r#"{"content":"Hello"}"#),
            event(r#"{"content":" world, and more"}"#),
        );
        // Both events in one read: they share its time.
        let body = format!("{a}{b}data: [DONE]\n\n").into_bytes();
        let marks = [Mark {
            end: body.len() as u64,
            at: ms(40),
        }];
        let mut s = Scratch::default();
        let l = read_stream(&body, &marks, &mut s).unwrap();
        let want = tokenizer("gpt-4o-mini")
            .encode_ordinary("Hello world, and more")
            .len() as u64;
        assert_eq!((l.output_tokens, l.from_usage), (want, false));
        assert_eq!(l.first_content, ms(40));
        assert_eq!(s.itl_us, [1]);
    }

    #[test]
    fn an_event_split_across_reads_arrived_with_its_last_byte() {
        let e = event(r#"{"content":"Hi"}"#);
        let body = e.as_bytes().to_vec();
        let marks = [
            Mark { end: 10, at: ms(5) },
            Mark {
                end: body.len() as u64,
                at: ms(9),
            },
        ];
        let l = read_stream(&body, &marks, &mut Scratch::default()).unwrap();
        assert_eq!(l.first_content, ms(9));
    }

    #[test]
    fn other_streams_and_contentless_ones_are_not_llm_streams() {
        let (body, marks) = stream(&[("data: {\"stage\":\"search\"}\n\n", 5)]);
        assert!(read_stream(&body, &marks, &mut Scratch::default()).is_none());
        let role = event(r#"{"role":"assistant"}"#);
        let (body, marks) = stream(&[(&role, 5)]);
        assert!(read_stream(&body, &marks, &mut Scratch::default()).is_none());
        let completions = "data: {\"choices\":[{\"text\":\"Once\"}]}\n\n";
        let (body, marks) = stream(&[(completions, 7)]);
        let l = read_stream(&body, &marks, &mut Scratch::default()).unwrap();
        assert_eq!((l.first_content, l.output_tokens), (ms(7), 1));
    }

    #[test]
    fn tokenizers_follow_the_model() {
        let count = |m: &str| tokenizer(m).encode_ordinary("tokenization").len();
        assert_eq!(count("gpt-4o-mini"), count("llama-3.1-8b-instant"));
        assert!(std::ptr::eq(
            tokenizer("gpt-4"),
            tiktoken_rs::cl100k_base_singleton()
        ));
    }
}
