//! `genbench record`'s arguments.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
A reverse proxy: every request to --listen is forwarded to --upstream and its
answer streamed back, and each is written to --out as one JSON line (time,
method, path, headers, body, status, latency) that `[load] model = \"replay\"`
with `format = \"jsonl\"` sends again. Credentials never reach the file:
Authorization, cookies and API-key, token, secret and session headers are
left out and counted, and a replay sends the scenario's own headers instead.

Stop it with Ctrl-C; the trace is complete when it exits.

Examples:
  genbench record --upstream http://127.0.0.1:8000 --out staging.jsonl.zst
  # point a staging client at http://127.0.0.1:8089 for an hour, then:
  genbench run replay.toml --target http://127.0.0.1:8000 --set load.replay.time_scale=3")]
pub struct RecordArgs {
    /// Where the proxy listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8089")]
    pub listen: String,
    /// The service requests are forwarded to (http://HOST:PORT[/BASE]).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// The trace to write: .zst or .gz compress it, any other name is plain.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Request bodies over this many bytes are refused with 413 (and not
    /// recorded).
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20)]
    pub max_body_bytes: usize,
}
