//! Everything measured beside the requests themselves, and the analyses:
//! decided before the run (`Setup`), running alongside it (`Collecting`),
//! and folded into the result when it ends.

pub mod analyze;
pub mod caches;
pub mod cost;
pub mod http;
pub mod memory;
pub mod merged;
pub mod profile;
pub mod sampler;
pub mod series;
pub mod stage_histogram;
pub mod traces;

use std::path::Path;

use genbench_collectors::analysis::WindowSet;
use genbench_collectors::cost::{PriceTable, Spend};
use genbench_collectors::summary::{hit_rate, latency_ms};
use genbench_collectors::{Recorder, Traced};
use genbench_model::{
    CacheStats, LeakSettings, RunResult, ScenarioKind, SegmentAnalysis, TimelinePoint,
};
use genbench_scenarios::{CacheSource, MemorySignal, Scenario};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::engine::inspect::{Inspect, NamedRead, UsageFields};
use profile::ProfilePlan;
use sampler::{CounterReading, CounterSource, ProcessSampler};

/// What to collect, decided before anything runs.
pub struct Setup {
    pub cache: CacheSource,
    /// `[collect.caches.NAME]`.
    pub caches: std::collections::BTreeMap<String, CacheSource>,
    /// The mock whose ledger is read (its LLM URL), if the target uses one.
    pub ledger: Option<String>,
    /// Otherwise usage from responses, priced with this table.
    pub usage: Option<(UsageFields, PriceTable)>,
    pub profile: ProfilePlan,
    /// The leak analysis's series; `None` when the run judges no memory.
    pub memory: Option<MemorySignal>,
    /// `[collect.metrics]`.
    pub series: Vec<genbench_scenarios::Series>,
    /// The nonce of the trace ids the run's requests carry
    /// (`[collect.traces]`).
    trace_run: Option<u64>,
}

impl Setup {
    /// `mock_llm`: the embedded target's mock, whose ledger is exact.
    pub fn new(s: &Scenario, mock_llm: Option<&str>, profile: ProfilePlan) -> Setup {
        let ledger = mock_llm
            .map(str::to_string)
            .or_else(|| s.collect.cost.ledger.clone());
        let usage = ledger.is_none().then(|| {
            let c = &s.collect.cost;
            let fields = UsageFields {
                usage: c.usage_pointer.clone(),
                model: c.model_pointer.clone(),
                default_model: c.model.clone().unwrap_or_else(|| "unknown".into()),
                search_calls: c.search_calls_pointer.clone(),
            };
            (fields, cost::price_table(c))
        });
        Setup {
            cache: s.collect.cache.clone(),
            caches: s.collect.caches.clone(),
            memory: memory::signal(s, mock_llm.is_some()),
            series: s.collect.series.clone(),
            trace_run: None,
            ledger,
            usage,
            profile,
        }
    }

    /// What the engine reads from each response.
    pub fn inspect(&self) -> Inspect {
        Inspect {
            cache_pointer: match &self.cache {
                CacheSource::Json { pointer } => Some(pointer.clone()),
                _ => None,
            },
            usage: self.usage.as_ref().map(|(f, _)| f.clone()),
            caches: self
                .caches
                .values()
                .map(|c| match c {
                    CacheSource::Header { header } => {
                        NamedRead::Header(header.to_ascii_lowercase())
                    }
                    CacheSource::Json { pointer } => NamedRead::Json(pointer.clone()),
                    CacheSource::Metrics { .. } => NamedRead::None,
                })
                .collect(),
        }
    }

    /// Requests carry trace ids of run `run` (the span receiver's).
    pub fn with_trace_run(mut self, run: Option<u64>) -> Self {
        self.trace_run = run;
        self
    }

    /// The nonce of the trace ids requests carry, when they carry one.
    pub fn trace_run(&self) -> Option<u64> {
        self.trace_run
    }

    /// The header the engine reads cache status from ("" for none).
    pub fn cache_header(&self) -> &str {
        match &self.cache {
            CacheSource::Header { header } => header,
            _ => "",
        }
    }
}

/// Aborts a background task when dropped, so no early return leaves one
/// running.
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Collection under way.
pub struct Collecting {
    setup: Setup,
    processes: Option<ProcessSampler>,
    counters: Option<caches::Counters>,
    named: caches::Named,
    ledger_before: Option<anyhow::Result<Spend>>,
    profiler: Option<AbortOnDrop<Result<Vec<u8>, genbench_collectors::profile::ProfileError>>>,
    gauge: Option<memory::Gauge>,
    series: Option<series::Sampling>,
    windows: WindowSet,
    traces: Option<traces::Traces>,
    stage_histogram: Option<stage_histogram::Watch>,
    live_ledger: Option<cost::LiveLedger>,
}

/// Collection with its "before" readings taken, about to start.
pub struct Prepared {
    setup: Setup,
    target_url: String,
    counters: Option<(CounterSource, CounterReading)>,
    named: Vec<(String, (CounterSource, CounterReading))>,
    ledger_before: Option<anyhow::Result<Spend>>,
    windows: WindowSet,
    traces: Option<traces::Traces>,
    stage_histogram: Option<stage_histogram::Watch>,
    /// The analysis windows with their target rates, for the spans.
    steps: Vec<(f64, f64, Option<f64>)>,
}

impl Collecting {
    /// Takes the "before" readings: the ledger and the cache counters;
    /// `traces` is the run's span receiver, already listening.
    pub async fn prepare(
        mut setup: Setup,
        s: &Scenario,
        target_url: &str,
        traces: Option<traces::Traces>,
    ) -> Prepared {
        if let Some(MemorySignal::Metrics { url, gauge }) = &setup.memory
            && let Err(e) = memory::Gauge::probe(url, gauge, target_url).await
        {
            eprintln!("warning: the leak analysis falls back to RSS: {e:#}");
            setup.memory = Some(MemorySignal::Rss);
        }
        let counters = caches::first_reading(&setup.cache, target_url, "the cache").await;
        let named = caches::Named::prepare(&setup.caches, target_url).await;
        let stage_histogram = match &s.collect.stage_histogram {
            Some(h) => Some(stage_histogram::Watch::start(h, target_url).await),
            None => None,
        };
        let ledger_before = match &setup.ledger {
            Some(url) => Some(cost::read_ledger(url).await),
            None => None,
        };
        let windows = analyze::windows_for(s);
        let rates = analyze::window_rates(s);
        let steps = windows
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.start_s, w.end_s, rates.get(i).copied().flatten()))
            .collect();
        Prepared {
            steps,
            windows,
            target_url: target_url.to_string(),
            counters,
            named,
            ledger_before,
            setup,
            traces,
            stage_histogram,
        }
    }
}

impl Prepared {
    /// Starts the samplers and the profiler; `t0` is the load's start.
    pub fn start(self, target_pid: Option<u32>, out_dir: &Path, t0: Instant) -> Collecting {
        if let Some(t) = &self.traces
            && !self.steps.is_empty()
        {
            t.set_steps(&self.steps);
        }
        let mut stage_histogram = self.stage_histogram;
        if let Some(w) = &mut stage_histogram {
            w.every_second(t0);
        }
        let counters = self.counters.map(|c| caches::Counters::start(c, t0));
        let profiler = match &self.setup.profile {
            ProfilePlan::Run {
                tool,
                start_s,
                seconds,
            } => {
                let at = profile::Attach {
                    target_url: self.target_url.clone(),
                    pid: target_pid,
                    out_dir: out_dir.to_path_buf(),
                };
                Some(AbortOnDrop(profile::start(
                    *tool, *start_s, *seconds, at, t0,
                )))
            }
            ProfilePlan::Skip(_) => None,
        };
        let gauge = match &self.setup.memory {
            Some(MemorySignal::Metrics { url, gauge }) => {
                memory::Gauge::start(url, gauge, &self.target_url, t0)
            }
            _ => None,
        };
        Collecting {
            processes: Some(ProcessSampler::start(target_pid, t0.into_std())),
            series: series::start(&self.setup.series, &self.target_url, t0),
            gauge,
            counters,
            named: caches::Named::start(self.named, t0),
            ledger_before: self.ledger_before,
            profiler,
            windows: self.windows,
            setup: self.setup,
            traces: self.traces,
            stage_histogram,
            live_ledger: None,
        }
    }
}

impl Collecting {
    /// One completed second of the run.
    pub fn interval(&mut self, p: &TimelinePoint, rec: &Recorder) {
        self.windows.add(p.t_s - 1.0, p.t_s, rec);
    }

    /// Traced requests: the answered ones for the join to the target's
    /// root spans, the abandoned ones for the cost of abandoned work.
    pub fn traced(&mut self, batch: &Traced) {
        if let Some(t) = &self.traces {
            t.requests(&batch.answered);
            t.abandoned(&batch.abandoned);
        }
    }

    /// Stops everything and fills the result's collector sections and
    /// analyses; writes the flamegraph into `out_dir`.
    pub async fn finish(
        mut self,
        r: &mut RunResult,
        total: &Recorder,
        s: &Scenario,
        out_dir: &Path,
        stopped: bool,
    ) {
        if let Some(p) = self.processes.take() {
            (r.process.target, r.process.harness) = p.finish();
        }
        r.process.memory_gauge = self.gauge.take().map(memory::Gauge::finish);
        if let Some(s) = self.series.take() {
            r.series = s.finish();
        }
        self.fill_cache(r, total).await;
        let named = std::mem::take(&mut self.named);
        r.caches = named.finish(&self.setup.caches, total, r.duration_s).await;
        r.stages = total.stages.summary();
        r.histograms.stages_us = total.stages.encoded();
        if let Some(mut w) = self.stage_histogram.take() {
            r.series.extend(w.series());
            for (name, s) in w.finish().await {
                r.stages.entry(name).or_insert(s);
            }
        }
        let span_usage = self.fill_traces(r, total, stopped).await;
        self.fill_cost(r, total, span_usage).await;
        fill_analyses(r, s, &self.windows);
        self.fill_profile(r, out_dir, stopped).await;
    }

    async fn fill_cache(&mut self, r: &mut RunResult, total: &Recorder) {
        let source = caches::source_name(&self.setup.cache);
        if let Some(c) = self.counters.take() {
            let readings = c.finish(r.duration_s).await;
            r.cache = caches::counted(&readings, source);
            counter_timeline(&mut r.timeline, &readings);
        } else if total.cache_hits + total.cache_misses > 0 {
            r.cache = Some(CacheStats {
                hits: total.cache_hits,
                misses: total.cache_misses,
                hit_rate: hit_rate(total.cache_hits, total.cache_misses),
                source,
                latency_hit_ms: latency_ms(&total.latency_hit_us),
                latency_miss_ms: latency_ms(&total.latency_miss_us),
            });
        }
    }

    /// The `traces` section, its stages beside any from `Server-Timing`,
    /// and the token usage GenAI spans reported.
    async fn fill_traces(
        &mut self,
        r: &mut RunResult,
        total: &Recorder,
        stopped: bool,
    ) -> Option<genbench_collectors::traces::GenAiUsage> {
        let (section, usage) = self.traces.take()?.finish(total, stopped).await?;
        for (name, s) in traces::stages(&section) {
            r.stages.entry(name).or_insert(s);
        }
        if section.join_rate.is_some_and(|j| j < 0.99) {
            eprintln!(
                "warning: spans: {} of {} requests' traces arrived; is the service exporting to the receiver, and is its sampler on (traceparent says sampled)?",
                section.joined, section.requests
            );
        }
        // A stage the scenario named `search` is the search API's calls,
        // priced like the ledger's search calls.
        let mut usage = usage;
        usage.all.search_calls += section.stages.get("search").map_or(0, |s| s.count);
        r.traces = Some(section);
        (!usage.all.is_empty()).then_some(usage)
    }

    /// Where a stretch of the run (a search's probe) finds its own cost.
    pub fn stretch_cost(&self) -> cost::StretchCost {
        match (&self.setup.ledger, &self.setup.usage) {
            (Some(url), _) => cost::StretchCost::Ledger(url.clone()),
            (None, Some((_, prices))) => cost::StretchCost::Usage(prices.clone()),
            (None, None) => cost::StretchCost::None,
        }
    }

    /// Cost so far, where it can be priced without asking the target:
    /// usage in responses, priced by `[collect.cost]`. (The mock ledger
    /// and spans are read at the end.)
    pub fn live_cost(&self, total: &Recorder) -> Option<genbench_model::Cost> {
        let articles = total.flows.as_ref().map_or(total.ok, |f| f.completed);
        if let Some(l) = &self.live_ledger {
            return l.spent().map(|s| s.cost(articles, "mock_ledger"));
        }
        let (_, prices) = self.setup.usage.as_ref()?;
        if total.usage.is_empty() {
            return None;
        }
        Some(cost::priced(&total.usage, prices, articles, "responses"))
    }

    /// Reads the mock ledger every few seconds from now on, for the live
    /// outputs' cost so far (when the run prices from a ledger).
    pub fn watch_ledger(&mut self) {
        if let (Some(url), Some(Ok(before))) = (&self.setup.ledger, &self.ledger_before) {
            self.live_ledger = Some(cost::LiveLedger::start(url.clone(), before.clone()));
        }
    }

    /// What the run so far shows beside its requests, for the live
    /// dashboard: CPU and RSS, stages, the cache and cost, as far as they
    /// are known without asking the target.
    pub fn so_far(&self, r: &mut RunResult, total: &Recorder) {
        if let Some(p) = &self.processes {
            (r.process.target, r.process.harness) = p.so_far();
        }
        r.stages = total.stages.summary();
        if total.cache_hits + total.cache_misses > 0 {
            r.cache = Some(CacheStats {
                hits: total.cache_hits,
                misses: total.cache_misses,
                hit_rate: hit_rate(total.cache_hits, total.cache_misses),
                source: caches::source_name(&self.setup.cache),
                latency_hit_ms: latency_ms(&total.latency_hit_us),
                latency_miss_ms: latency_ms(&total.latency_miss_us),
            });
        }
        r.cost = self.live_cost(total);
    }

    async fn fill_cost(
        &mut self,
        r: &mut RunResult,
        total: &Recorder,
        span_usage: Option<genbench_collectors::traces::GenAiUsage>,
    ) {
        // A flow makes one article however many requests it sends.
        let articles = match &total.flows {
            Some(f) => f.completed,
            None => total.ok,
        };
        if let (Some(url), Some(before)) = (&self.setup.ledger, self.ledger_before.take()) {
            match (before, cost::read_ledger(url).await) {
                (Ok(before), Ok(after)) => {
                    r.cost = Some(after.minus(&before).cost(articles, "mock_ledger"));
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("warning: no cost: cannot read the mock ledger: {e:#}");
                }
            }
        } else if let Some((_, prices)) = &self.setup.usage {
            // The service's GenAI spans name the model of every call; a
            // response's usage often names none.
            let (usage, source) = match &span_usage {
                Some(u) => (&u.all, "traces"),
                None if !total.usage.is_empty() => (&total.usage, "responses"),
                None => return,
            };
            let mut c = cost::priced(usage, prices, articles, source);
            c.abandoned = span_usage.and_then(|u| cost::abandoned(&u.abandoned, prices));
            r.cost = Some(c);
        }
    }

    async fn fill_profile(&mut self, r: &mut RunResult, out_dir: &Path, stopped: bool) {
        let outcome = match self.profiler.take() {
            None => None,
            // Interrupted, or the load ended (max_requests) before the
            // window opened: do not keep the user waiting for a window that
            // will not see load; dropping the task aborts it.
            Some(_) if stopped || r.duration_s < self.setup.profile.start_s() => None,
            Some(mut task) => match (&mut task.0).await {
                Ok(Ok(svg)) => {
                    let path = out_dir.join(FLAMEGRAPH);
                    match std::fs::write(&path, svg) {
                        Ok(()) => {
                            r.artifacts.flamegraph_svg = Some(FLAMEGRAPH.into());
                            Some(Ok(()))
                        }
                        Err(e) => Some(Err(format!("cannot write {}: {e}", path.display()))),
                    }
                }
                Ok(Err(e)) => Some(Err(e.0)),
                Err(e) => Some(Err(format!("the profiler task failed: {e}"))),
            },
        };
        if let Some(Err(e)) = &outcome {
            eprintln!("warning: no flamegraph: {e}");
        }
        r.profile = Some(profile::report(&self.setup.profile, outcome));
    }
}

pub const FLAMEGRAPH: &str = "flamegraph.svg";

/// Each second's hit rate from consecutive counter readings, onto the
/// timeline point whose second the later reading closes.
fn counter_timeline(timeline: &mut [TimelinePoint], readings: &[CounterReading]) {
    for w in readings.windows(2) {
        let (a, b) = (w[0], w[1]);
        let hits = (b.hits - a.hits).max(0.0) as u64;
        let misses = (b.misses - a.misses).max(0.0) as u64;
        let t = b.t_s.round();
        if let Some(p) = timeline.iter_mut().find(|p| (p.t_s - t).abs() < 0.5) {
            p.cache_hit_rate = hit_rate(hits, misses);
        }
    }
}

/// Leak (soak, or any scenario with an `rss_growth` threshold), capacity
/// (stress) and spike; a segment keeps what they were computed from.
fn fill_analyses(r: &mut RunResult, s: &Scenario, windows: &WindowSet) {
    if memory::judged(s) {
        memory::fill_leak(r, s);
    }
    let (slo, rates) = (analyze::slo_of(s), analyze::window_rates(s));
    match s.kind {
        ScenarioKind::Stress if !windows.is_empty() => {
            r.capacity = Some(analyze::capacity(&slo, &rates, windows))
        }
        ScenarioKind::Spike => {
            r.spike = analyze::spike(s.analysis.recovery_factor, windows, &r.timeline)
        }
        _ => {}
    }
    if let Some(seg) = &mut r.segment {
        seg.analysis = Some(SegmentAnalysis {
            windows: windows.recordings(&rates),
            slo: slo.iter().map(|t| t.expr.clone()).collect(),
            recovery_factor: s.analysis.recovery_factor,
            leak: memory::judged(s).then(|| LeakSettings {
                warmup_s: memory::warmup_s(s),
                tolerance_mib_per_h: s.analysis.leak_tolerance_mib_per_h,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_readings_give_each_second_its_hit_rate() {
        let mut tl: Vec<TimelinePoint> = (1..=3)
            .map(|t| TimelinePoint {
                t_s: f64::from(t),
                ..Default::default()
            })
            .collect();
        let r = |t_s, hits, misses| CounterReading { t_s, hits, misses };
        counter_timeline(
            &mut tl,
            &[
                r(0.0, 10.0, 10.0),
                r(1.01, 13.0, 11.0),
                r(2.02, 13.0, 11.0),
                r(2.99, 14.0, 14.0),
            ],
        );
        let rates: Vec<Option<f64>> = tl.iter().map(|p| p.cache_hit_rate).collect();
        assert_eq!(rates, [Some(0.75), None, Some(0.25)]);
    }
}
