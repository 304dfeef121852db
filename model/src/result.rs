//! `RunResult` and its sections. Fields later collectors fill are `Option`
//! and serialize as `null` until then; analyses that do not apply to a
//! scenario (leak, capacity, spike) are `null` too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Capacity, Cost, Leak, Processes, Profile, SCHEMA_VERSION, SegmentInfo, Spike};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Completed,
    /// Stopped early (Ctrl-C); everything measured until then is kept.
    Interrupted,
    /// Stopped early by the scenario's `[abort]` rules (`abort` says
    /// which); everything measured until then is kept.
    Aborted,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    Baseline,
    Stress,
    Spike,
    Soak,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub kind: ScenarioKind,
    /// The scenario after defaults and overrides, as it ran.
    pub resolved: serde_json::Value,
    /// The seed of arrivals and dataset draws (`--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// genbench's own mock providers and reference pipeline, as children.
    Embedded,
    External,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub kind: TargetKind,
    pub url: String,
    pub pid: Option<u32>,
    /// The embedded mocks' latency scale (`--mock-time-scale`).
    #[serde(default)]
    pub mock_time_scale: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Every request that ended: `ok + failed + abandoned`.
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    /// Requests the client gave up on (`[load] abandon_after`,
    /// `[load.cancel]`): neither answered nor errors of the target.
    #[serde(default)]
    pub abandoned: u64,
    /// Of `abandoned`, those still unanswered at `abandon_after`.
    #[serde(default)]
    pub abandoned_unanswered: u64,
    /// Of `abandoned`, those `[load.cancel]` cancelled.
    #[serde(default)]
    pub abandoned_cancelled: u64,
}

/// A latency summary in milliseconds, from one merged histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummaryMs {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Errors {
    /// Failed requests / total requests, 0 to 1.
    pub rate: f64,
    /// Counts by [`crate::ErrorKind`] name.
    pub by_kind: BTreeMap<String, u64>,
    /// Requests that failed each of `[request.checks]`, by the check's name
    /// (their sum is `by_kind.check`); empty when the scenario has none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_check: BTreeMap<String, u64>,
}

/// How requests reached the target: the protocol, and every new
/// connection's set-up time, kept apart from request latency so that a run
/// with reconnects explains itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    /// `http/1.1` or `h2` (negotiated by ALPN over TLS, or prior knowledge).
    pub protocol: String,
    /// Connections set up (TCP connected, and TLS done where used).
    pub opened: u64,
    /// TLS connections that resumed an earlier session (no full handshake).
    pub resumed: u64,
    /// Connection attempts that failed (refused, DNS, TLS).
    pub failed: u64,
    /// DNS resolution plus TCP connect, per opened connection.
    pub connect_ms: Option<LatencySummaryMs>,
    /// TLS handshake, per opened TLS connection; null on plain HTTP.
    pub tls_ms: Option<LatencySummaryMs>,
    /// How the server's certificate was checked; null on plain HTTP.
    pub tls: Option<TlsVerify>,
}

/// How TLS certificates were verified in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsVerify {
    /// `system_roots`, `ca_cert` or `insecure` (no verification at all).
    pub mode: TlsMode,
    /// The `--ca-cert` file, when one was given.
    pub ca_cert: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    SystemRoots,
    CaCert,
    /// `--insecure`: certificates were not verified.
    Insecure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: Option<f64>,
    /// Where the numbers came from: "header:X-Cache", "json:/cache",
    /// "metrics:<hits counter>/<misses counter>".
    pub source: String,
    /// Latency of responses the target served from its cache; null when the
    /// source (a metrics counter pair) cannot tell requests apart.
    #[serde(default)]
    pub latency_hit_ms: Option<LatencySummaryMs>,
    #[serde(default)]
    pub latency_miss_ms: Option<LatencySummaryMs>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageSummaryMs {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// Responses that reported this stage.
    #[serde(default)]
    pub count: u64,
    /// Where the stage's times came from: "server_timing" (the response
    /// header; also when absent, as in results written before sources
    /// were named), "traces" (the service's spans) or "prometheus" (its
    /// histogram, percentiles interpolated within buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<StageSource>,
}

/// Where a stage's times came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageSource {
    ServerTiming,
    Traces,
    Prometheus,
}

/// The `[abort]` rule that stopped a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbortInfo {
    /// Seconds from the run's start.
    pub at_s: f64,
    /// The threshold that failed, or `every request failed for 10s`.
    pub rule: String,
}

/// Seconds of the run in which requests were sent and none succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// From the run's start, at the start of the first such second.
    pub start_s: f64,
    /// When a request succeeded again; null if none did before the end.
    pub end_s: Option<f64>,
    /// Requests that failed in between.
    pub failed: u64,
}

/// One request, for a report that shows each request when there are few:
/// when it ended, how long it took from its schedule, and how it went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RequestPoint {
    /// Seconds from the run's start to the request's end.
    pub t_s: f64,
    pub latency_ms: f64,
    /// `None` for a success, else the error's kind.
    pub error: Option<crate::ErrorKind>,
    /// `Some(true)` a cache hit, `Some(false)` a miss, `None` not reported.
    pub cache_hit: Option<bool>,
    /// The W3C trace id the request carried (`[collect.traces]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<crate::TraceId>,
}

/// A `[collect.metrics]` series as it was read, once a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesResult {
    /// `gauge`, `rate` (a counter per second) or `json`.
    pub kind: String,
    /// What was read, and where.
    pub source: String,
    pub samples: Vec<SeriesSample>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub last: Option<f64>,
    /// Readings that failed (unreachable, not found, not a number).
    pub failed_reads: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesSample {
    pub t_s: f64,
    pub value: f64,
}

/// The machine a run ran on, so results from different machines are not
/// compared as if they were alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Operating system and version, e.g. "Linux (Debian GNU/Linux 12)".
    pub os: String,
    pub arch: String,
    /// Cores available to genbench.
    pub cpus: u32,
    pub cpu_brand: Option<String>,
    pub kernel: Option<String>,
    pub memory_mib: Option<f64>,
}

/// One second of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub t_s: f64,
    pub target_rate: Option<f64>,
    pub rps: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
    pub in_flight: u64,
    /// Cache hits / (hits + misses) this second; null with no cache status.
    #[serde(default)]
    pub cache_hit_rate: Option<f64>,
    /// Flows that completed and that failed this second (flow scenarios
    /// only; `in_flight` then counts flows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows_completed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows_failed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub expr: String,
    pub observed: Option<f64>,
    /// Whether the run counts it as met. An inconclusive threshold passes
    /// only where the scenario says so (`[analysis] inconclusive`).
    pub passed: bool,
    /// The measurement could not tell which side of the limit the metric
    /// is on (a memory slope whose interval straddles the limit, or whose
    /// Theil–Sen cross-check is on the other side of it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive: bool,
}

impl ThresholdResult {
    /// `pass`, `FAIL`, or `INCONCLUSIVE` (`inconclusive` when it passes
    /// anyway): the one word every output shows.
    pub fn word(&self) -> &'static str {
        match (self.inconclusive, self.passed) {
            (true, true) => "inconclusive",
            (true, false) => "INCONCLUSIVE",
            (false, true) => "pass",
            (false, false) => "FAIL",
        }
    }
}

/// Files written beside `results.json`, relative to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifacts {
    pub report_html: Option<String>,
    pub summary_md: Option<String>,
    pub junit_xml: Option<String>,
    pub flamegraph_svg: Option<String>,
    pub interval_log: Option<String>,
    /// `--records`: the per-request JSON lines file, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
}

/// Whole-run histograms, base64 HdrHistogram V2 (DEFLATE) encodings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histograms {
    pub latency_us: Option<String>,
    pub ttfb_us: Option<String>,
    #[serde(default)]
    pub chunk_gap_us: Option<String>,
    #[serde(default)]
    pub ttft_us: Option<String>,
    #[serde(default)]
    pub tpot_us: Option<String>,
    #[serde(default)]
    pub itl_us: Option<String>,
    /// Per-stage time (`Server-Timing`) by stage name, so a stage's
    /// percentiles can be compared and merged from the raw recording.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stages_us: BTreeMap<String, String>,
    /// Completed flows' latency (`flows.latency_ms`), for gates and merges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_latency_us: Option<String>,
    /// Flows' queued time (`flows.queued_ms`), polls per flow that polled,
    /// and each step's latency by step name: what a merge adds up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_queued_us: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_polls: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flow_steps_us: BTreeMap<String, String>,
}

/// Everything one run measured: the content of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub tool_version: String,
    pub status: RunStatus,
    pub scenario: ScenarioInfo,
    pub target: TargetInfo,
    /// The machine genbench ran on; null in results from before it was
    /// recorded.
    #[serde(default)]
    pub host: Option<Host>,
    /// The share of the load this run sent, when it was one segment of
    /// several; absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_s: f64,
    pub requests: RequestCounts,
    /// Requests sent (and answered or failed) in the load window, over the
    /// load window: the planned stages, or less if stopped early. The drain
    /// after the last send is not counted in the window.
    pub throughput_rps: f64,
    /// Successful responses over the whole measured window (`duration_s`,
    /// drain included); null in results written before it was recorded.
    #[serde(default)]
    pub completions_rps: Option<f64>,
    /// Successful responses per second over the plateau (the seconds at
    /// the load's highest rate or most users, inside the planned load):
    /// no ramp, no drain. Thresholds and the gate read `throughput_rps`
    /// (`throughput_rps` and `completions_rps` thresholds each their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_rps: Option<f64>,
    /// The plateau `steady_rps` is over: [from, to] seconds into the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_window_s: Option<[f64; 2]>,
    /// How late the open model sent requests, from their scheduled instant;
    /// null in the closed model (which sends when a user is ready).
    #[serde(default)]
    pub send_lag_ms: Option<LatencySummaryMs>,
    pub latency_ms: Option<LatencySummaryMs>,
    pub ttfb_ms: Option<LatencySummaryMs>,
    /// Gaps between consecutive chunks of streamed responses (inter-token
    /// time); null when no response streamed.
    #[serde(default)]
    pub chunk_gap_ms: Option<LatencySummaryMs>,
    /// Connection set-up; null in results written before it was recorded.
    #[serde(default)]
    pub connections: Option<Connections>,
    /// Streamed LLM completions: TTFT, TPOT, ITL, output tokens; null when
    /// no response was one.
    #[serde(default)]
    pub llm: Option<crate::LlmMetrics>,
    /// Requests that met the scenario's `[slo]` objectives; null without.
    #[serde(default)]
    pub goodput: Option<crate::Goodput>,
    pub errors: Errors,
    pub cache: Option<CacheStats>,
    /// `[collect.caches.NAME]`: each named cache's hits and misses, by name
    /// (no latency split: a response can hit one cache and miss another).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub caches: BTreeMap<String, CacheStats>,
    pub stages: BTreeMap<String, StageSummaryMs>,
    pub cost: Option<Cost>,
    pub process: Processes,
    /// `[collect.metrics]`: the target's own series, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub series: BTreeMap<String, SeriesResult>,
    pub leak: Option<Leak>,
    pub capacity: Option<Capacity>,
    pub spike: Option<Spike>,
    #[serde(default)]
    pub profile: Option<Profile>,
    pub timeline: Vec<TimelinePoint>,
    /// Every request, when the run had few enough to see one by one
    /// ([`MAX_POINTS`]); null past that, where the timeline's percentiles
    /// say more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<RequestPoint>>,
    /// Why and when `[abort]` stopped the run; absent when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<AbortInfo>,
    /// When the target stopped answering (no request succeeded for two
    /// seconds or more) and when it came back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<Outage>,
    /// A `[[flow.steps]]` scenario's per-step and per-flow figures; absent
    /// for one-request scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<crate::FlowsResult>,
    /// genbench itself was the bottleneck (its CPU at its cores, or its
    /// schedule far behind); absent when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_limited: Option<crate::GeneratorLimited>,
    /// What the target's OpenTelemetry spans said (`[collect.traces]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<crate::TracesResult>,
    /// A replay's trace and its schedule fidelity (`model = "replay"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<crate::ReplayResult>,
    pub thresholds: Vec<ThresholdResult>,
    pub artifacts: Artifacts,
    pub histograms: Histograms,
}

/// Most requests kept one by one in [`RunResult::points`].
pub const MAX_POINTS: usize = 2000;

impl RunResult {
    /// An empty result of a run of scenario `name` of `kind` against an
    /// external target at `http://127.0.0.1:1`, begun 2026-12-03T00:00:00Z:
    /// the one fixture tests and examples start from (no seed, no pid).
    pub fn example(name: &str, kind: ScenarioKind) -> RunResult {
        let info = ScenarioInfo {
            name: name.into(),
            kind,
            resolved: serde_json::Value::Null,
            seed: None,
        };
        let target = TargetInfo {
            kind: TargetKind::External,
            url: "http://127.0.0.1:1".into(),
            pid: None,
            mock_time_scale: None,
        };
        RunResult::new("0", info, target, "2026-12-03T00:00:00Z".into())
    }

    /// An empty result for a run that is about to start.
    pub fn new(
        tool_version: &str,
        scenario: ScenarioInfo,
        target: TargetInfo,
        started_at: String,
    ) -> Self {
        RunResult {
            schema_version: SCHEMA_VERSION,
            tool_version: tool_version.to_string(),
            status: RunStatus::Completed,
            scenario,
            target,
            host: None,
            started_at,
            duration_s: 0.0,
            requests: RequestCounts::default(),
            throughput_rps: 0.0,
            completions_rps: None,
            steady_rps: None,
            steady_window_s: None,
            send_lag_ms: None,
            latency_ms: None,
            ttfb_ms: None,
            chunk_gap_ms: None,
            connections: None,
            llm: None,
            goodput: None,
            errors: Errors::default(),
            cache: None,
            caches: BTreeMap::new(),
            segment: None,
            stages: BTreeMap::new(),
            cost: None,
            process: Processes::default(),
            series: BTreeMap::new(),
            leak: None,
            capacity: None,
            spike: None,
            profile: None,
            timeline: Vec::new(),
            points: None,
            outages: Vec::new(),
            abort: None,
            flows: None,
            traces: None,
            generator_limited: None,
            replay: None,
            thresholds: Vec::new(),
            artifacts: Artifacts::default(),
            histograms: Histograms::default(),
        }
    }
}
