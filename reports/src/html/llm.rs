//! The LLM section of `report.html`: TTFT, TPOT and inter-token latency,
//! output tokens and tokens/s, and goodput, with their definitions beside
//! the numbers. Absent when no response was an LLM stream and the scenario
//! set no objectives.

use genbench_model::{LatencySummaryMs, RunResult, ValueSummary};

use super::page::{h2, para, table};
use crate::fmt::{ms, num, objectives_text, pct};

pub const DEFINITIONS: &str = "TTFT is from each request's scheduled instant to the first \
server-sent event that carries content (delta.content, delta.reasoning_content or text), \
not to the first byte (TTFB), which may be a role-only event. TPOT is (latency − TTFT) / \
(output tokens − 1), per request with two tokens or more. Inter-token latency is the gap \
between consecutive content events; events that arrive in one read share its time. Output \
tokens come from the stream's usage when it reports one (stream_options.include_usage), \
else from its content counted with the model's tokenizer (o200k_base for models tiktoken \
does not know).";

fn latency_row(name: &str, s: &Option<LatencySummaryMs>) -> Option<Vec<String>> {
    let s = s.as_ref()?;
    Some(
        [name.to_string()]
            .into_iter()
            .chain([s.min, s.mean, s.p50, s.p90, s.p95, s.p99, s.max].map(ms))
            .collect(),
    )
}

fn value_row(name: &str, v: &Option<ValueSummary>) -> Option<Vec<String>> {
    let v = v.as_ref()?;
    Some(
        [name.to_string()]
            .into_iter()
            .chain([v.min, v.mean, v.p10, v.p50, v.p90, v.p99, v.max].map(num))
            .collect(),
    )
}

pub fn llm(o: &mut String, r: &RunResult) {
    if r.llm.is_none() && r.goodput.is_none() {
        return;
    }
    h2(o, "llm", "LLM streams");
    if let Some(l) = &r.llm {
        let rows: Vec<Vec<String>> = [
            latency_row("time to first token (TTFT)", &l.ttft_ms),
            latency_row("time per output token (TPOT)", &l.tpot_ms),
            latency_row("inter-token latency", &l.itl_ms),
        ]
        .into_iter()
        .flatten()
        .collect();
        table(
            o,
            &["", "min", "mean", "p50", "p90", "p95", "p99", "max"],
            &rows,
        );
        let rows: Vec<Vec<String>> = [
            value_row("output tokens per request", &l.output_tokens_per_request),
            value_row("output tokens/s per request", &l.output_tps_per_request),
        ]
        .into_iter()
        .flatten()
        .collect();
        table(
            o,
            &["", "min", "mean", "p10", "p50", "p90", "p99", "max"],
            &rows,
        );
        para(
            o,
            &format!(
                "{} output tokens over {} streams ({} counted from usage, {} with the tokenizer): \
{} tokens/s over the load window. Output tokens/s per request is its tokens over its latency.",
                l.output_tokens,
                l.streams,
                l.tokens_from_usage,
                l.tokens_counted,
                num(l.output_tps)
            ),
        );
        para(o, DEFINITIONS);
    }
    if let Some(g) = &r.goodput {
        para(
            o,
            &format!(
                "Goodput: {} of requests ({}) met every objective ({}), {} per second over the load \
window. A failed request never meets them; a TTFT or TPOT objective is missed by a response \
without that figure.",
                pct(g.share),
                g.met,
                objectives_text(&g.objectives),
                num(g.rps)
            ),
        );
    }
}
