//! Command-line arguments (clap). These types never leave the harness.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod ab;
mod record;
mod scale;
pub use ab::AbArgs;
pub use record::RecordArgs;
pub use scale::*;

#[derive(Debug, Parser)]
#[command(
    name = "genbench",
    version,
    about = "Load-test and profile AI content-generation pipelines",
    long_about = "genbench drives baseline, stress, spike and soak scenarios against an \
article-generation service over HTTP (your own, or the built-in reference pipeline backed \
by mock LLM, search and web providers) and reports latency, time-to-first-token, \
throughput, errors, cache hit rates, per-stage time, cost per article, CPU, RSS and leaks.",
    after_help = "Start here:\n  \
genbench run                  the baseline scenario against the embedded pipeline\n  \
genbench run --help           scenarios, your own service, overrides, outputs\n  \
genbench report RESULTS.json  re-render a run's report.html\n  \
genbench compare A.json B.json   runs side by side\n  \
genbench matrix --vary pipeline.model=gpt-4o,gpt-4o-mini   one run per configuration\n  \
genbench ab ci --a CMD --b CMD  two builds in alternating rounds, gated (for CI)\n  \
genbench mock                 mock OpenAI, search and web providers on loopback\n  \
genbench record --upstream URL --out trace.jsonl   record real traffic to replay"
)]
pub struct Cli {
    /// More diagnostics on stderr (-v info, -vv debug); GENBENCH_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario against a target and write results.json and reports.
    Run(Box<RunArgs>),
    /// Serve mock LLM (OpenAI wire format), search and web providers.
    Mock(Box<MockArgs>),
    /// Serve the reference article-generation pipeline.
    Pipeline(Box<PipelineArgs>),
    /// Render report.html (and summary.md, junit.xml) from a results.json.
    Report(ReportArgs),
    /// Compare several results.json side by side (HTML and Markdown).
    Compare(CompareArgs),
    /// Run a scenario for every combination of settings, then compare.
    Matrix(Box<MatrixArgs>),
    /// Gate a current build's runs against a baseline's (for CI): exit 1 on a regression.
    Gate(GateArgs),
    /// Run a scenario against two targets in alternating rounds, then gate B against A.
    Ab(Box<AbArgs>),
    /// Merge the segments of one run (--segment I/N) into its one result.
    Merge(MergeArgs),
    /// Kubernetes manifests for a run scaled out over pods.
    K8s(K8sArgs),
    /// A recording reverse proxy: forwards to a service and writes a trace to replay.
    Record(RecordArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Reads nothing but results.json (and the flamegraph.svg it names, if it is
beside it), so a result from any earlier run re-renders.

Examples:
  genbench report genbench-out/baseline-20261202-101500/results.json
  genbench report results.json --out /tmp/report.html --markdown /tmp/summary.md --junit junit.xml")]
pub struct ReportArgs {
    /// The results.json a run wrote.
    #[arg(value_name = "RESULTS.json")]
    pub results: PathBuf,
    /// Where to write the HTML report (default: report.html beside results.json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the Markdown summary here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write JUnit XML (one testcase per threshold) here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each side is one or more results.json of the same scenario, seed and load (the
run-*/results.json of `genbench run --repeat N`, or files from earlier CI jobs);
several per side are pooled and their spread counts as noise. Every metric
gets its change with a confidence interval: percentiles by a bootstrap that
resamples whole runs and the pooled values within them, request latency
paired by request number when every run kept its requests (the seeded `ci`
built-in sends the same requests in the same order, so request i met the same
mock delays on both sides); tokens, cost and seeded cache hits compared
exactly under the mocks. A metric regressed only when its interval excludes
no change on the worse side AND the change exceeds its noise floor (default
5%). Improvements are reported and never fail. `genbench ab` runs both sides
itself, interleaved on one machine, then gates them the same way.

Exit codes: 0 nothing regressed, 1 a regression, 2 the inputs cannot be
compared (different scenarios, seeds or load; a file that is not a completed
genbench result; a bad rules file), with the reason.

gate.toml (every key optional):
  confidence = 0.95
  noise_floor = \"5%\"
  [metrics.latency_p99]
  noise_floor = \"10%\"
  [metrics.\"stage_p95.*\"]
  enabled = false
  [metrics.throughput]
  direction = \"higher_is_better\"

The CI recipe:
  genbench run ci --repeat 3 --out current
  genbench gate --baseline base/run-*/results.json --current current/run-*/results.json \\
      --markdown \"$GITHUB_STEP_SUMMARY\" --junit gate-junit.xml")]
pub struct GateArgs {
    /// The baseline's results.json files (main's last runs).
    #[arg(long, value_name = "BASE.json", num_args = 1.., required = true)]
    pub baseline: Vec<PathBuf>,
    /// The current build's results.json files.
    #[arg(long, value_name = "CUR.json", num_args = 1.., required = true)]
    pub current: Vec<PathBuf>,
    /// Rules overriding the defaults (gate.toml; see below).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Also write JUnit XML here (one testcase per metric).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write Markdown here (under 1 MiB, worst first; fits $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Where to write every metric's numbers and verdict as JSON.
    #[arg(long, value_name = "FILE", default_value = "gate.json")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The first run is the base: every other run's numbers carry their change from it,
green where better, red where worse (lower latency, errors and cost, higher
throughput and hit rate). Where a run is comparable with the base (same scenario,
seed and load), latency, throughput, errors, cache hits, cost and the leak slope
are judged by the gate's statistics (see `genbench gate --help`): coloured only
when significant, else marked within noise or under the floor, and the page gets
a gate section per run. Other rows are coloured beyond 1%. Scenario keys that differ between
runs are listed first, then the Pareto front of cost per article against p95.
Writes the HTML to --out and Markdown beside it (.md), and prints the Markdown.

Examples:
  genbench compare base/results.json candidate/results.json
  genbench compare runs/*/results.json --out comparison.html")]
pub struct CompareArgs {
    /// Two or more results.json files; the first is the base.
    #[arg(value_name = "RESULTS.json", num_args = 1..)]
    pub results: Vec<PathBuf>,
    /// Where to write the HTML comparison (Markdown goes beside it).
    #[arg(long, value_name = "FILE", default_value = "comparison.html")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Runs SCENARIO (against the embedded target, or your service with --target)
once for every combination of the --vary values (a --vary with 2 values and one with 3 make 6 runs), one after
another, each into its own directory under --out, then writes comparison.html
and comparison.md there. Every run uses the same --seed, so each configuration
sees the same requests; --set applies to every run. Every combination is
validated before the first run. Ctrl-C ends the current run (kept, status
interrupted), skips the rest, and still writes the comparison. Exit codes as
for run: 1 if any run failed a threshold, 3 if interrupted.

Examples:
  genbench matrix --vary pipeline.model=gpt-4o,gpt-4o-mini --vary pipeline.cache=on,off
  genbench matrix baseline --duration 30s --vary pipeline.top_k=3,5,8
  genbench matrix stress --vary pipeline.max_concurrent_requests=16,64 --mock-time-scale 0.1
  genbench matrix llm --vary request.json.model=gpt-4o-mini,gpt-4o
  genbench matrix my-api.toml --target https://staging.example.com \\
      --vary request.headers.x-model=small,large --vary datasets.topic.file=short.txt,long.txt

Any scenario key can be varied: a field of a [request.json] body, a header, a
dataset's file, a load setting; pipeline.* keys only without --target.")]
pub struct MatrixArgs {
    /// Built-in scenario name or scenario file.
    #[arg(default_value = "baseline")]
    pub scenario: String,
    /// A scenario key and the values to try, e.g. pipeline.model=gpt-4o,gpt-4o-mini (repeatable).
    #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
    pub vary: Vec<String>,
    /// Drive this service in every run instead of the embedded target
    /// (http:// or https://, may use ${env:NAME}).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The external target's process id, for CPU/RSS collectors.
    #[arg(long, value_name = "PID", requires = "target")]
    pub target_pid: Option<u32>,
    /// Output directory (default genbench-out/matrix-<scenario>-<time>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub opts: RunOptions,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Point an OpenAI SDK at the LLM mock with base_url=http://LLM_ADDR/v1 and any api_key.
The request's `model` picks the preset (GET /v1/models lists them).

Faults (--faults), as key=value pairs or a TOML file with [llm], [search], [web] tables:
  rpm=60          token-bucket requests per minute per model; 429 with Retry-After
  tpm=100000      tokens per minute per model (prompt + max_tokens)
  limit_window_s=1  the seconds of rpm/tpm a bucket holds (default 60, a minute's
                  burst; 1 enforces them a second at a time, so 429s start at rpm/60 a second)
  error_rate=0.02 fraction answered 500/502/503
  hang_rate=0.01  fraction that stall hang_ms (default 600000), then 504
  cut_rate=0.05   fraction of streams cut mid-way without [DONE]
  slow_rate=0.01  fraction delayed by an extra slow_ms (default 10000)
  Keys apply to the LLM unless prefixed: search.error_rate=0.1,web.slow_rate=0.2

Ledger: GET /mock/ledger (JSON), GET /metrics (Prometheus), POST /mock/ledger/reset,
on every mock port. Calls whose client went away count as cancelled too: a stream billed
for what it generated up to then, a non-streamed call whole. On Ctrl-C the final ledger
is printed to stdout.

Examples:
  genbench mock
  genbench mock --preset instant --search-preset instant --web-preset instant
  genbench mock --llm 127.0.0.1:0 --seed 7 --faults rpm=30,cut_rate=0.1")]
pub struct MockArgs {
    /// Address of the OpenAI-compatible LLM mock (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8701", value_name = "ADDR")]
    pub llm: SocketAddr,
    /// Address of the search mock (Google Custom Search shape).
    #[arg(long, default_value = "127.0.0.1:8702", value_name = "ADDR")]
    pub search: SocketAddr,
    /// Address of the web-page mock.
    #[arg(long, default_value = "127.0.0.1:8703", value_name = "ADDR")]
    pub web: SocketAddr,
    /// LLM preset for models without one of their own (default: such models get 404).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Search provider preset: google-cse, serpapi, serper, instant.
    #[arg(long, default_value = "google-cse", value_name = "NAME")]
    pub search_preset: String,
    /// Web page preset: typical, instant.
    #[arg(long, default_value = "typical", value_name = "NAME")]
    pub web_preset: String,
    /// TOML file of presets that replace or add to the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub presets: Option<PathBuf>,
    /// Seed for output text, latency draws and faults.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Faults to inject: key=value pairs or a TOML file (see below).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Multiplies preset latencies and token gaps: 0 = instant (prices and token
    /// counts unchanged), 0.1 = ten times faster than the preset.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub time_scale: f64,
    /// Threads serving requests, each a single-threaded runtime that keeps
    /// its connections (one accepts and deals them out): stream capacity
    /// grows with them. Default: one per core available to the process.
    #[arg(long, alias = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
    /// Largest request body accepted; larger ones get 413.
    #[arg(long, default_value_t = 8 * 1024 * 1024, value_name = "BYTES")]
    pub max_body_bytes: usize,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Endpoints: POST /api/v1/generate-article {topic, industry?, target_length?},
POST /api/v1/generate-article/stream (SSE), GET /metrics, /health, /config,
/debug/pprof/profile?seconds=N (with --profiling).

Settings come from --config FILE (TOML; keys as echoed by GET /config), then
the flags below, which win.

Examples:
  genbench mock &
  genbench pipeline
  curl -s localhost:8080/api/v1/generate-article -d '{\"topic\": \"tidal energy\"}'
  genbench pipeline --model instant --cache off --top-k 3")]
pub struct PipelineArgs {
    /// Address to serve on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub addr: SocketAddr,
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// OpenAI-compatible base_url, as the OpenAI SDK takes it: with /v1
    /// (https://api.openai.com/v1, or `genbench mock`'s http://ADDR/v1); the
    /// pipeline appends /chat/completions. The API key comes from
    /// OPENAI_API_KEY (or llm_api_key in --config).
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,
    /// Google-Custom-Search-compatible base URL (default: genbench mock's).
    #[arg(long, value_name = "URL")]
    pub search_url: Option<String>,
    /// Model asked for every article.
    #[arg(long)]
    pub model: Option<String>,
    /// Article cache.
    #[arg(long, value_enum)]
    pub cache: Option<CacheArg>,
    /// Redis URL when --cache redis.
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// Search results fetched as sources (1-10).
    #[arg(long)]
    pub top_k: Option<u32>,
    /// Tokens of source text allowed into the prompt.
    #[arg(long, value_name = "TOKENS")]
    pub context_token_budget: Option<usize>,
    /// Page fetches in flight per host (politeness limit).
    #[arg(long, value_name = "N")]
    pub per_host_concurrency: Option<usize>,
    /// Articles generated at once; more wait for a slot.
    #[arg(long, value_name = "N")]
    pub max_concurrent_requests: Option<usize>,
    /// Memory kept forever per request, to prove a soak test catches leaks.
    #[arg(long, value_name = "BYTES")]
    pub leak_bytes_per_request: Option<usize>,
    /// Serve /debug/pprof/profile (the profiler allocates about 150 MB).
    #[arg(long)]
    pub profiling: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CacheArg {
    Off,
    Memory,
    Redis,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
SCENARIO is a built-in (baseline, stress, spike, soak, llm, ci, workflow) or a
TOML file: one [request] per arrival or user iteration, or a flow of
[[flow.steps]] (submit a job, poll it until done, fetch it; the workflow
built-in). Without --target, genbench starts its own mock providers and reference
pipeline as child processes on loopback and drives those (the llm built-in,
and any scenario with embedded = \"mock\", drives the mock LLM alone).
[load] model = \"replay\" sends a trace's requests at its own times, scaled
([load.replay] file, format = records|jsonl|csv|access-log|llm-trace,
time_scale, start, duration, loop, rate_cap); `genbench record` writes one.

Writes results.json, report.html (self-contained, opens offline) and summary.md
(fits a GitHub job summary) into --out (default genbench-out/<scenario>-<time>/),
junit.xml with --junit, and prints a summary. Exit codes: 0 ok, 1 a threshold failed, 2 usage or
configuration error, 3 the run could not start or was interrupted (Ctrl-C
still writes everything measured so far, with status interrupted).

--set KEY=VALUE changes a scenario key before it is validated: load.timeout=30s,
load.arrivals=poisson, request.stream=true, or the embedded pipeline's settings
under pipeline.* (model, cache = off|on|redis, top_k, context_token_budget, ...;
the keys `genbench pipeline` shows at GET /config).

Examples:
  genbench run
  genbench run stress --target http://127.0.0.1:8080
  genbench run my-scenario.toml --duration 30s --rate 5
  genbench run scenarios/examples/users-100.toml --users 20 --duration 1m
  genbench run --set pipeline.model=gpt-4o --set pipeline.cache=off
  genbench run soak --set pipeline.leak_bytes_per_request=65536 --duration 2m
  genbench run --target http://127.0.0.1:8000 --target-pid 4242 --profile py-spy
  genbench run my-api.toml --target 'https://staging.example.com/api' --ca-cert staging-ca.pem
  genbench run llm
  OPENAI_API_KEY=... genbench run llm --target https://api.openai.com
  genbench run replay.toml --target http://127.0.0.1:8000 --set load.replay.time_scale=3

HTTPS and HTTP/2: TLS is rustls with the system's roots (--ca-cert FILE for a
private CA, --insecure to skip verification). [load] http = \"auto\" speaks
HTTP/2 where TLS's ALPN offers it, \"1.1\" or \"2\" force one (\"2\" on http://
is prior knowledge); HTTP/2 opens [load] connections (default 4), each with at
most max_streams (default 100) requests at once. New connections are timed
apart from requests (connections in results.json); a certificate problem is
an error of kind tls, explained once with the fix.

Secrets: header values, bodies and --target may use ${env:NAME}; an unset
variable stops the run before any load (exit 2), unless the reference has a
default, ${env:NAME:-default}. Outputs keep the reference, never the value.

Throughput: req/s sent (answered or failed) in the load window, over that
window (the planned stages, or less if stopped); completions/s: successful
responses over the whole run, drain included. Send lag: how late the open
model sent each request after its scheduled instant, which latency counts from.

LLM endpoints: a text/event-stream response whose events carry `choices` (an
OpenAI-style streamed completion) is measured as GuideLLM and AIPerf do. ttfb
is the first body byte; ttft the first event that carries content (a server
may send a role-only event first). tpot = (latency - ttft) / (output tokens -
1); itl = the gap between consecutive content events. Output tokens come from
the stream's usage (stream_options.include_usage), else from its content with
the model's tokenizer. [slo] ttft = \"600ms\", tpot = \"50ms\", latency =
\"20s\" (and ttfb) are per-request objectives: goodput is the share and rate
of requests that succeed and meet all of them. Thresholds may use goodput,
goodput_rps, ttft_p95, tpot_p95, itl_p99, output_tps (tokens/s).

Repeats: --repeat N runs the scenario N times into DIR/run-1 ... DIR/run-N
(each a whole run: results.json, report), then writes the pooled result into
DIR (histograms added, counts summed, thresholds judged on the pool). Give
`genbench gate` the run-*/results.json files: their spread is the noise the
gate allows for. Ctrl-C ends the current run and skips the rest.

Checks: [request.checks] status = [200], json_exists = [\"/article\"],
json_equals = { \"/cache\" = \"hit\" }, body_contains = [\"...\"]; a failure is an
error of kind check, counted by check in errors.by_check. A 3xx is an error of
kind redirect unless request.follow_redirects = N (same origin only).

Collected beside latency: per-stage time (Server-Timing), cache hit rate ([collect.cache]:
header X-Cache by default, a JSON pointer, or Prometheus counters), cost (the genbench mock's
ledger, or usage in responses priced by [collect.cost]), target and harness CPU/RSS.")]
pub struct RunArgs {
    /// Built-in scenario name or scenario file.
    #[arg(default_value = "baseline")]
    pub scenario: String,
    /// Drive this service instead of the embedded default: http:// or
    /// https://, with an optional base path that prefixes every request
    /// path (https://staging.example.com/api); may use ${env:NAME}.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The external target's process id, for CPU/RSS collectors.
    #[arg(long, value_name = "PID", requires = "target")]
    pub target_pid: Option<u32>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run the scenario N times (same seed; the embedded target restarted
    /// each time) into DIR/run-1 ... DIR/run-N, and pool them into DIR.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    /// Write one JSON line per request (times, status, error, cache, stages,
    /// the target's request id) to FILE as the run goes; gzip for .gz,
    /// zstd for .zst. With --repeat, each run's goes in its run-i directory.
    #[arg(long, value_name = "FILE")]
    pub records: Option<PathBuf>,
    /// Send segment I of N of the load (I from 0): every N-th arrival of
    /// the seeded schedule from the I-th (open model), or an even share of
    /// the users and of max_requests (closed model). N runs together send
    /// exactly the whole load.
    #[arg(long, value_name = "I/N", conflicts_with = "segments")]
    pub segment: Option<String>,
    /// Split the load into N segments and send the one JOB_COMPLETION_INDEX
    /// names (a Kubernetes Indexed Job's pods).
    #[arg(long, value_name = "N")]
    pub segments: Option<u32>,
    /// Start the load at this instant (RFC 3339, or +30s from now), so
    /// segments started at different times send together; a segment that
    /// gets there later than the scenario's max_start_lag (default 5s)
    /// refuses to run.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Serve live metrics in the Prometheus text format at
    /// http://ADDR/metrics while the run goes (requests by outcome, latency
    /// histogram, in flight, target and achieved rate, LLM TTFT/TPOT and
    /// tokens, cost so far), labelled with scenario, run and segment.
    /// Port 0 picks a free port; the URL is printed first.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Push the same metrics over OTLP/HTTP (protobuf) to URL every 5 s and
    /// once more with the run's totals at its end, under the OpenTelemetry
    /// HTTP and GenAI names (http.client.request.duration,
    /// gen_ai.client.operation.duration, gen_ai.client.token.usage, ...)
    /// and genbench.* for the rest. URL is the full path, e.g.
    /// http://localhost:4318/v1/metrics.
    #[arg(long, value_name = "URL")]
    pub otlp_metrics: Option<String>,
    /// Serve a live dashboard of the run at http://ADDR/ (default
    /// 127.0.0.1:0, a free loopback port; the URL is printed first): the
    /// report's cards and charts for the run so far, updated each second,
    /// and a stop button that ends the run as Ctrl-C does. Offline: the
    /// page loads nothing from elsewhere.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    pub dashboard: Option<String>,
    /// The dashboard's stop button on a non-loopback address: shown only to
    /// pages opened with ?token=TOKEN. Without it, a dashboard reachable
    /// beyond loopback has no stop button (and genbench warns).
    #[arg(long, value_name = "TOKEN", requires = "dashboard")]
    pub dashboard_token: Option<String>,
    #[command(flatten)]
    pub opts: RunOptions,
}

impl RunArgs {
    /// One whole run into `out`, as `matrix` and `ab` make each of theirs:
    /// no repeat, records, segments or start instant.
    pub fn single(
        scenario: &str,
        target: Option<String>,
        target_pid: Option<u32>,
        out: &std::path::Path,
        opts: RunOptions,
    ) -> RunArgs {
        RunArgs {
            scenario: scenario.to_string(),
            target,
            target_pid,
            out: Some(out.to_path_buf()),
            repeat: 1,
            records: None,
            segment: None,
            segments: None,
            start_at: None,
            metrics_listen: None,
            otlp_metrics: None,
            dashboard: None,
            dashboard_token: None,
            opts,
        }
    }
}

/// How a scenario runs, shared by `run` and every run of a `matrix`.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Stretch or shrink the stages to this total length, e.g. 30s, 2h.
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,
    /// Scale the open model's stage targets so the highest is R requests/s.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Scale the closed model's stage targets so the most users at once is N.
    #[arg(long, value_name = "N")]
    pub users: Option<u64>,
    /// Override a scenario key, e.g. load.arrivals=poisson, load.timeout=30s,
    /// pipeline.model=gpt-4o, pipeline.cache=off (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write junit.xml (one testcase per threshold) for CI.
    #[arg(long)]
    pub junit: bool,
    /// Seed for arrivals and dataset draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Latency scale of the embedded mock providers (0 = instant; default:
    /// the scenario's mock_time_scale, else 1).
    #[arg(long, value_name = "FACTOR")]
    pub mock_time_scale: Option<f64>,
    /// Flamegraph of the target over the run's steady state (from a quarter
    /// of the way in, half the run, at most 30 s). auto: the embedded
    /// pipeline's pprof endpoint; py-spy for a Python --target-pid; perf for
    /// another pid; none in a soak. A profiler that cannot run is reported
    /// in results.json and never fails the run.
    #[arg(long, value_enum, default_value_t = ProfileArg::Auto, value_name = "HOW")]
    pub profile: ProfileArg,
    /// Verify the target's TLS certificate against the CAs in this PEM file
    /// (a staging or private CA) instead of the system's roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the target's TLS certificate at all (testing only;
    /// warned on stderr and recorded in results.json).
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    Auto,
    Off,
    Pprof,
    #[value(name = "py-spy")]
    PySpy,
    Perf,
}
