//! Spans of a run, folded as they arrive: per-stage durations, failures
//! and token usage for every span of this run's traces; each request's
//! critical path once its root span is in; whole trees for the slowest.
//! Memory stays bounded whatever arrives: stage names, spans waiting for
//! their root, the join window and the kept trees all have caps.

use std::collections::{BTreeMap, HashMap, VecDeque};

use genbench_model::{
    SpanCounts, SpanTree, TraceStage, TraceStep, TracesResult, TreeSpan, UpstreamFailure,
};
use hdrhistogram::Histogram;

use super::abandoned::AbandonedUsage;
use super::ids::{is_genbench_span, is_ours, trace_hex};
use super::span::{Failure, Span};
use super::tree::Tree;
use crate::body::Usage;
use crate::cost::UsageTally;
use crate::histogram::new_histogram;
use crate::stages::stage_histogram;
use crate::summary::latency_ms;

/// Distinct stage names; spans past it share [`OTHER`].
pub const MAX_STAGE_NAMES: usize = 64;
pub const OTHER: &str = "other";
/// Spans of ours held while they wait for their request's root span.
pub const MAX_PENDING_SPANS: usize = 200_000;
/// Seconds of genbench's requests kept for joining to late root spans
/// (exporters batch every few seconds; the drain waits 10 s by default).
const JOIN_SECONDS: usize = 60;
/// Requests whose trees are kept whole besides the slowest: the first ones.
const SAMPLE_TREES: usize = 3;
/// Most spans of one kept tree.
const MAX_TREE_SPANS: usize = 500;

struct StageAcc {
    durations_us: Histogram<u64>,
    sum_ns: u128,
    errors: u64,
    path_ns: u128,
}

impl Default for StageAcc {
    fn default() -> Self {
        StageAcc {
            durations_us: new_histogram(),
            sum_ns: 0,
            errors: 0,
            path_ns: 0,
        }
    }
}

/// One stress step: the spans that ended in it, by stage.
struct Step {
    start_ns: u64,
    end_ns: u64,
    info: TraceStep,
    stages: HashMap<u16, Histogram<u64>>,
    failures: BTreeMap<(u16, Failure), u64>,
}

/// genbench's requests (its span id → service time, µs) a second at a
/// time, and root spans that came before their request's second did.
#[derive(Default)]
struct Join {
    requests: VecDeque<HashMap<u64, u32>>,
    early_roots: VecDeque<HashMap<u64, u64>>,
}

impl Join {
    fn second(&mut self, batch: &[(u64, u32)], mut matched: impl FnMut(u32, u64)) {
        let mut now = HashMap::with_capacity(batch.len());
        for &(span, service_us) in batch {
            match self.early_roots.iter_mut().find_map(|m| m.remove(&span)) {
                Some(root_us) => matched(service_us, root_us),
                None => {
                    now.insert(span, service_us);
                }
            }
        }
        self.requests.push_back(now);
        self.early_roots.push_back(HashMap::new());
        while self.requests.len() > JOIN_SECONDS {
            self.requests.pop_front();
            self.early_roots.pop_front();
        }
    }

    /// The service time of the request whose span is `parent`, if known.
    fn root(&mut self, parent: u64, root_us: u64) -> Option<u32> {
        let found = self
            .requests
            .iter_mut()
            .rev()
            .find_map(|m| m.remove(&parent));
        if found.is_none() {
            if self.early_roots.is_empty() {
                self.early_roots.push_back(HashMap::new());
            }
            if let Some(m) = self.early_roots.back_mut() {
                m.insert(parent, root_us);
            }
        }
        found
    }
}

pub struct SpanCollector {
    run: u64,
    names: Vec<Box<str>>,
    stages: Vec<StageAcc>,
    counts: SpanCounts,
    pending: HashMap<u128, Vec<Span>>,
    order: VecDeque<u128>,
    pending_spans: usize,
    roots: u64,
    self_us: Histogram<u64>,
    outside_us: Histogram<u64>,
    failures: BTreeMap<(u16, Failure), u64>,
    usage: UsageTally,
    abandoned: AbandonedUsage,
    join: Join,
    keep: usize,
    slowest: Vec<(u64, SpanTree)>,
    sample: Vec<SpanTree>,
    steps: Vec<Step>,
}

impl SpanCollector {
    /// For run `run` (its trace ids' nonce), keeping the `keep` slowest trees.
    pub fn new(run: u64, keep: usize) -> SpanCollector {
        SpanCollector {
            run,
            names: Vec::new(),
            stages: Vec::new(),
            counts: SpanCounts::default(),
            pending: HashMap::new(),
            order: VecDeque::new(),
            pending_spans: 0,
            roots: 0,
            self_us: new_histogram(),
            outside_us: new_histogram(),
            failures: BTreeMap::new(),
            usage: UsageTally::default(),
            abandoned: AbandonedUsage::default(),
            join: Join::default(),
            keep,
            slowest: Vec::new(),
            sample: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// A stress run's steps, `[start_s, end_s)` from the load's start at
    /// `t0_unix_ns` with their target rates: spans are counted into the
    /// step they ended in, by the service's clock.
    pub fn set_steps(&mut self, t0_unix_ns: u64, steps: &[(f64, f64, Option<f64>)]) {
        let at = |s: f64| t0_unix_ns.saturating_add((s.max(0.0) * 1e9) as u64);
        self.steps = steps
            .iter()
            .map(|&(start_s, end_s, target_rps)| Step {
                start_ns: at(start_s),
                end_ns: at(end_s),
                info: TraceStep {
                    start_s,
                    end_s,
                    target_rps,
                    ..TraceStep::default()
                },
                stages: HashMap::new(),
                failures: BTreeMap::new(),
            })
            .collect();
    }

    pub fn run(&self) -> u64 {
        self.run
    }

    /// The index of stage `name`, added if new (past the cap: "other").
    pub fn stage(&mut self, name: &str) -> u16 {
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return i as u16;
        }
        let name = if self.names.len() + 1 < MAX_STAGE_NAMES {
            name
        } else {
            OTHER
        };
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return i as u16;
        }
        self.names.push(name.into());
        self.stages.push(StageAcc::default());
        (self.names.len() - 1) as u16
    }

    /// An export request that could not be read.
    pub fn rejected(&mut self) {
        self.counts.rejected_batches += 1;
    }

    /// Traces held for their root span, and ids kept to drop them in order.
    pub fn waiting(&self) -> usize {
        self.pending.len() + self.order.len()
    }

    /// Root spans of this run's requests so far.
    pub fn roots(&self) -> u64 {
        self.roots
    }

    /// One second of genbench's requests that carried a trace context:
    /// (genbench's span id, service time µs).
    pub fn requests(&mut self, batch: &[(u64, u32)]) {
        let outside = &mut self.outside_us;
        self.join.second(batch, |service_us, root_us| {
            outside.saturating_record(u64::from(service_us).saturating_sub(root_us).max(1));
        });
    }

    /// The trace ids of requests genbench abandoned.
    pub fn abandoned(&mut self, traces: &[u128]) {
        self.abandoned.abandoned(traces);
    }

    /// One decoded batch of spans (stages already named by [`Self::stage`]).
    pub fn add(&mut self, spans: Vec<Span>) {
        let mut roots = Vec::new();
        for s in spans {
            self.counts.received += 1;
            if !is_ours(self.run, s.trace) {
                self.counts.other += 1;
                continue;
            }
            self.counts.ours += 1;
            self.tally(&s);
            if is_genbench_span(s.trace, s.parent) {
                roots.push(s);
            } else {
                self.hold(s);
            }
        }
        for r in roots {
            self.rooted(r);
        }
    }

    fn tally(&mut self, s: &Span) {
        let Some(acc) = self.stages.get_mut(usize::from(s.stage)) else {
            return;
        };
        let ns = s.duration_ns();
        acc.durations_us.saturating_record((ns / 1000).max(1));
        acc.sum_ns += u128::from(ns);
        if let Some(f) = s.failure {
            acc.errors += 1;
            *self.failures.entry((s.stage, f)).or_default() += 1;
        }
        if let Some(step) = self
            .steps
            .iter_mut()
            .find(|w| (w.start_ns..w.end_ns).contains(&s.end_ns))
        {
            step.stages
                .entry(s.stage)
                .or_insert_with(stage_histogram)
                .saturating_record((ns / 1000).max(1));
            if let Some(f) = s.failure {
                *step.failures.entry((s.stage, f)).or_default() += 1;
            }
        }
        if let Some(u) = &s.usage {
            let usage = Usage {
                prompt: u.input,
                completion: u.output,
                cached_prompt: u.cached_input,
            };
            self.usage.record(&u.model, usage);
            self.abandoned.usage(s.trace, &u.model, usage);
        }
    }

    fn hold(&mut self, s: Span) {
        let trace = s.trace;
        let waiting = self.pending.entry(trace).or_default();
        if waiting.is_empty() {
            self.order.push_back(trace);
        }
        waiting.push(s);
        self.pending_spans += 1;
        // Traces that got their root leave their id behind in `order`;
        // dropping those now and then keeps it as small as `pending`.
        if self.order.len() > 2 * self.pending.len() + 1024 {
            let pending = &self.pending;
            self.order.retain(|t| pending.contains_key(t));
        }
        while self.pending_spans > MAX_PENDING_SPANS {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.pending.remove(&old) {
                self.pending_spans -= v.len();
                self.counts.unrooted += v.len() as u64;
            }
        }
    }

    /// A request's root span: its tree is what has arrived of its trace.
    fn rooted(&mut self, root: Span) {
        self.roots += 1;
        let mut spans = self.pending.remove(&root.trace).unwrap_or_default();
        self.pending_spans -= spans.len();
        spans.push(root);
        let at = spans.len() - 1;
        let tree = Tree::new(&spans, at);
        let path = tree.critical_path();
        let members = tree.members();
        for &(stage, ns) in &path.by_stage {
            if let Some(acc) = self.stages.get_mut(usize::from(stage)) {
                acc.path_ns += u128::from(ns);
            }
        }
        self.self_us
            .saturating_record((path.root_self_ns / 1000).max(1));
        let root = &spans[at];
        let root_us = root.duration_ns() / 1000;
        if let Some(service_us) = self.join.root(root.parent, root_us) {
            let out = u64::from(service_us).saturating_sub(root_us).max(1);
            self.outside_us.saturating_record(out);
        }
        self.keep_tree(&spans, &members);
        // What is not this request's (a flow's other requests) waits on.
        let mine: std::collections::HashSet<usize> = members.iter().map(|m| m.0).collect();
        let rest: Vec<Span> = spans
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !mine.contains(i))
            .map(|(_, s)| s)
            .collect();
        if !rest.is_empty() {
            let trace = rest[0].trace;
            self.pending_spans += rest.len();
            self.pending.insert(trace, rest);
        }
    }

    fn keep_tree(&mut self, spans: &[Span], members: &[(usize, u32)]) {
        let root = &spans[members[0].0];
        let dur = root.duration_ns();
        let slow_enough =
            self.slowest.len() < self.keep || self.slowest.iter().any(|(d, _)| *d < dur);
        if !slow_enough && self.sample.len() >= SAMPLE_TREES {
            return;
        }
        let tree = self.tree(spans, members);
        if self.sample.len() < SAMPLE_TREES {
            self.sample.push(tree.clone());
        }
        if !slow_enough {
            return;
        }
        if self.slowest.len() >= self.keep
            && let Some(i) = (0..self.slowest.len()).min_by_key(|&i| self.slowest[i].0)
        {
            self.slowest.swap_remove(i);
        }
        self.slowest.push((dur, tree));
    }

    fn tree(&self, spans: &[Span], members: &[(usize, u32)]) -> SpanTree {
        let root = &spans[members[0].0];
        let ms = |ns: u64| ns as f64 / 1e6;
        let mut out: Vec<TreeSpan> = members
            .iter()
            .take(MAX_TREE_SPANS)
            .map(|&(i, depth)| {
                let s = &spans[i];
                TreeSpan {
                    stage: self.name(s.stage).to_string(),
                    name: s.name.to_string(),
                    start_ms: (s.start_ns as f64 - root.start_ns as f64) / 1e6,
                    duration_ms: ms(s.duration_ns()),
                    depth,
                    error: s.failure.is_some(),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.start_ms
                .total_cmp(&b.start_ms)
                .then(a.depth.cmp(&b.depth))
        });
        SpanTree {
            trace_id: trace_hex(root.trace),
            duration_ms: ms(root.duration_ns()),
            spans: out,
        }
    }

    fn failure_rows(&self, failures: &BTreeMap<(u16, Failure), u64>) -> Vec<UpstreamFailure> {
        failures
            .iter()
            .map(|(&(stage, f), &count)| UpstreamFailure {
                stage: self.name(stage).to_string(),
                status: match f {
                    Failure::Status(s) => s.to_string(),
                    Failure::Error => "error".into(),
                },
                count,
            })
            .collect()
    }

    fn name(&self, stage: u16) -> &str {
        self.names.get(usize::from(stage)).map_or(OTHER, |n| n)
    }

    /// The `traces` section, for `requests` answered requests, and the
    /// token usage the GenAI spans reported.
    pub fn finish(
        mut self,
        requests: u64,
        source: &str,
        endpoint: Option<String>,
    ) -> (TracesResult, GenAiUsage) {
        self.counts.unrooted += self.pending_spans as u64;
        let joined = self.roots.min(requests);
        let per_request = |ns: u128| match joined {
            0 => 0.0,
            n => ns as f64 / 1e6 / n as f64,
        };
        let stages = self
            .names
            .iter()
            .zip(&self.stages)
            .filter(|(_, a)| !a.durations_us.is_empty())
            .map(|(n, a)| {
                let count = a.durations_us.len();
                let mut duration_ms = latency_ms(&a.durations_us).unwrap_or_default();
                // The exact mean, not the histogram's bucketed one.
                duration_ms.mean = a.sum_ns as f64 / 1e6 / count as f64;
                let stage = TraceStage {
                    count,
                    duration_ms,
                    critical_path_ms_per_request: per_request(a.path_ns),
                    errors: a.errors,
                };
                (n.to_string(), stage)
            })
            .collect();
        let failures = self.failure_rows(&self.failures);
        let steps = self
            .steps
            .iter()
            .map(|w| TraceStep {
                stages_p95_ms: w
                    .stages
                    .iter()
                    .map(|(&i, h)| {
                        (
                            self.name(i).to_string(),
                            h.value_at_quantile(0.95) as f64 / 1000.0,
                        )
                    })
                    .collect(),
                failures: self.failure_rows(&w.failures),
                ..w.info.clone()
            })
            .collect();
        self.slowest.sort_by_key(|t| std::cmp::Reverse(t.0));
        let mut slowest: Vec<SpanTree> = self.slowest.into_iter().map(|(_, t)| t).collect();
        if slowest.is_empty() {
            slowest = self.sample;
        }
        let result = TracesResult {
            source: source.into(),
            endpoint,
            requests,
            joined,
            join_rate: (requests > 0).then(|| joined as f64 / requests as f64),
            spans: self.counts,
            stages,
            self_ms: latency_ms(&self.self_us),
            outside_root_ms: latency_ms(&self.outside_us),
            failures,
            slowest,
            steps,
        };
        let usage = GenAiUsage {
            all: self.usage,
            abandoned: self.abandoned.finish(),
        };
        (result, usage)
    }
}

/// The token usage GenAI spans reported: all of it, and that of requests
/// genbench abandoned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenAiUsage {
    pub all: UsageTally,
    pub abandoned: UsageTally,
}
