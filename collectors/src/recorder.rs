//! Per-worker recording: each worker owns a `Recorder` and pushes samples into
//! it without locks; at each interval end the worker hands over a snapshot
//! and starts a fresh interval. Histograms merge exactly (percentiles are
//! never averaged).

use genbench_model::{ErrorKind, GiveUp, MAX_POINTS, RequestPoint};
use hdrhistogram::Histogram;

use crate::connections::ConnStats;
use crate::cost::UsageTally;
use crate::flows::{Ended, FlowStats};
use crate::histogram::new_histogram;
use crate::histogram::split_histogram;
use crate::llm::{self, LlmSample, LlmStats};
use crate::response::Response;
use crate::sample::{CacheStatus, Outcome, Sample};
use crate::stages::Stages;

fn us(d: std::time::Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// What one interval (or a whole run, once merged) recorded.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub latency_us: Histogram<u64>,
    pub service_us: Histogram<u64>,
    pub ttfb_us: Histogram<u64>,
    /// Gaps between consecutive chunks of streamed responses (inter-token
    /// time, for an LLM stream that sends a token per chunk).
    pub chunk_gap_us: Histogram<u64>,
    /// Send time minus scheduled time: how far the load generator itself
    /// fell behind. Large values mean the generator, not the target, is the
    /// bottleneck.
    pub send_lag_us: Histogram<u64>,
    pub ok: u64,
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Requests the client gave up on: still unanswered at
    /// `abandon_after`, and cancelled by `[load.cancel]`.
    pub abandoned: Abandoned,
    pub bytes: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Latency (from the schedule) of cache hits and of misses.
    pub latency_hit_us: Histogram<u64>,
    pub latency_miss_us: Histogram<u64>,
    /// Per-stage time from `Server-Timing`.
    pub stages: Stages,
    /// Token usage reported by response bodies.
    pub usage: UsageTally,
    /// New connections and their set-up time.
    pub connections: ConnStats,
    /// Failures of each of the scenario's response checks, by the check's
    /// index (names live with the scenario); their sum is the `check` kind.
    pub check_failed: Vec<u64>,
    /// Streamed LLM completions: TTFT, TPOT, ITL, tokens.
    pub llm: LlmStats,
    /// Requests that met the `[slo]` objectives (all requests are judged
    /// when the scenario has any).
    pub goodput_met: u64,
    /// Each request, while there are at most `MAX_POINTS` (then none:
    /// `points_overflowed`).
    pub points: Vec<RequestPoint>,
    pub points_overflowed: bool,
    /// Requests this worker has recorded over the whole run (kept across
    /// intervals), so a busy worker stops collecting points after
    /// `MAX_POINTS` and pays nothing for them from then on.
    points_seen: usize,
    /// Hits and misses of each `[collect.caches.NAME]` read from responses,
    /// by the cache's index.
    pub named_caches: Vec<[u64; 2]>,
    /// A flow scenario's per-step and per-flow recording.
    pub flows: Option<Box<FlowStats>>,
    /// Flows this worker has ended over the whole run, as `points_seen`.
    flows_seen: usize,
    /// This interval's requests that carried a trace context, for the
    /// span collector. Taken out each second ([`Recorder::take_traced`]),
    /// never merged into a run's total.
    pub traced: Traced,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency_us: new_histogram(),
            service_us: new_histogram(),
            ttfb_us: new_histogram(),
            chunk_gap_us: new_histogram(),
            send_lag_us: new_histogram(),
            ok: 0,
            errors: [0; ErrorKind::ALL.len()],
            abandoned: Abandoned::default(),
            bytes: 0,
            cache_hits: 0,
            cache_misses: 0,
            latency_hit_us: split_histogram(),
            latency_miss_us: split_histogram(),
            stages: Stages::default(),
            usage: UsageTally::default(),
            connections: ConnStats::default(),
            check_failed: Vec::new(),
            llm: LlmStats::default(),
            goodput_met: 0,
            points: Vec::new(),
            points_overflowed: false,
            points_seen: 0,
            named_caches: Vec::new(),
            flows: None,
            flows_seen: 0,
            traced: Traced::default(),
        }
    }
}

/// Requests that carried a trace context, for the span collector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traced {
    /// Successful requests: (genbench's span id, service time µs), for
    /// joining to the target's root spans.
    pub answered: Vec<(u64, u32)>,
    /// The trace ids of requests the client abandoned: what the target
    /// spent on them is the cost of abandoned work.
    pub abandoned: Vec<u128>,
}

impl Traced {
    pub fn append(&mut self, other: &mut Traced) {
        self.answered.append(&mut other.answered);
        self.abandoned.append(&mut other.abandoned);
    }
}

/// Requests the client gave up on, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Abandoned {
    pub unanswered: u64,
    pub cancelled: u64,
}

impl Abandoned {
    pub fn total(&self) -> u64 {
        self.unanswered + self.cancelled
    }

    fn add(&mut self, why: GiveUp) {
        match why {
            GiveUp::Unanswered => self.unanswered += 1,
            GiveUp::Cancelled => self.cancelled += 1,
        }
    }

    fn merge(&mut self, other: Abandoned) {
        self.unanswered += other.unanswered;
        self.cancelled += other.cancelled;
    }
}

fn kind_index(k: ErrorKind) -> usize {
    ErrorKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

impl Recorder {
    /// Records everything one request produced: the one way the engine's
    /// measurements come in.
    pub fn response(&mut self, r: &Response) {
        let s = &r.sample;
        if s.ok() {
            self.stages.record(r.server_timing);
            for (i, c) in r.body.caches.iter().enumerate() {
                if let Some(st) = c {
                    self.record_named_cache(i, *st);
                }
            }
            if let Some((model, u)) = r.body.usage {
                self.usage.record(model, u);
            }
            self.usage.search_calls += r.body.search_calls;
        }
        if let Some(e) = r.conn {
            self.connections.record(e);
        }
        if let Some(i) = r.failed_check {
            self.record_check_failure(i);
        }
        if let Some((step, attempt)) = r.step {
            self.flows_mut().request(step, s, attempt);
        }
        self.record(s);
        self.record_gaps(r.gaps_us);
        let (llm, itl) = r.llm.map_or((None, &[][..]), |(l, itl)| (Some(l), itl));
        self.record_llm(s, llm, itl, r.objectives);
    }

    /// Records one sample's timing and outcome. Failed requests count as
    /// errors and are kept out of the latency histograms, so a fast failure
    /// cannot flatter p50. Abandoned requests are counted alone, with no
    /// point: their time is when the client gave up, not a latency.
    pub fn record(&mut self, s: &Sample) {
        self.bytes += s.bytes;
        if let Outcome::Abandoned(why) = s.outcome {
            self.abandoned.add(why);
            if let Some(t) = s.trace {
                self.traced.abandoned.push(t.trace);
            }
            return;
        }
        self.points_seen += 1;
        if self.points_seen > MAX_POINTS {
            self.points_overflowed = true;
        }
        if !self.points_overflowed {
            self.points.push(RequestPoint {
                t_s: s.end.as_secs_f64(),
                latency_ms: s.latency().as_secs_f64() * 1000.0,
                error: match s.outcome {
                    Outcome::Error(k) => Some(k),
                    _ => None,
                },
                cache_hit: s.cache.map(|c| c == CacheStatus::Hit),
                trace_id: s.trace.map(|t| genbench_model::TraceId(t.trace)),
            });
            self.cap_points();
        }
        self.send_lag_us
            .saturating_record(us(s.sent.saturating_sub(s.scheduled)));
        match s.outcome {
            Outcome::Ok(_) => {
                self.ok += 1;
                if let Some(t) = s.trace {
                    let service = s.service().as_micros().min(u128::from(u32::MAX)) as u32;
                    self.traced.answered.push((t.span, service));
                }
                self.latency_us.saturating_record(us(s.latency()));
                self.service_us.saturating_record(us(s.service()));
                if let Some(t) = s.ttfb() {
                    self.ttfb_us.saturating_record(us(t));
                }
                let latency = us(s.latency());
                match s.cache {
                    Some(CacheStatus::Hit) => {
                        self.cache_hits += 1;
                        self.latency_hit_us.saturating_record(latency);
                    }
                    Some(CacheStatus::Miss) => {
                        self.cache_misses += 1;
                        self.latency_miss_us.saturating_record(latency);
                    }
                    None => {}
                }
            }
            Outcome::Error(k) => self.errors[kind_index(k)] += 1,
            Outcome::Abandoned(_) => {}
        }
    }

    /// Records one response's chunk gaps, in µs. Kept apart from `record`
    /// so that `Sample` stays fixed-size; the caller owns the buffer.
    fn record_gaps(&mut self, gaps_us: &[u32]) {
        for &g in gaps_us {
            self.chunk_gap_us.saturating_record(u64::from(g).max(1));
        }
    }

    pub fn failed(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Every request that ended: answered, failed or abandoned.
    pub fn total(&self) -> u64 {
        self.ok + self.failed() + self.abandoned.total()
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so `add` cannot fail; saturate anyway.
        let _ = self.latency_us.add(&other.latency_us);
        let _ = self.service_us.add(&other.service_us);
        let _ = self.ttfb_us.add(&other.ttfb_us);
        let _ = self.chunk_gap_us.add(&other.chunk_gap_us);
        let _ = self.send_lag_us.add(&other.send_lag_us);
        self.ok += other.ok;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.abandoned.merge(other.abandoned);
        self.bytes += other.bytes;
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        let _ = self.latency_hit_us.add(&other.latency_hit_us);
        let _ = self.latency_miss_us.add(&other.latency_miss_us);
        self.stages.merge(&other.stages);
        self.usage.merge(&other.usage);
        self.connections.merge(&other.connections);
        if self.check_failed.len() < other.check_failed.len() {
            self.check_failed.resize(other.check_failed.len(), 0);
        }
        for (a, b) in self.check_failed.iter_mut().zip(&other.check_failed) {
            *a += b;
        }
        self.llm.merge(&other.llm);
        self.goodput_met += other.goodput_met;
        self.points_overflowed |= other.points_overflowed;
        if !self.points_overflowed {
            self.points.extend_from_slice(&other.points);
        }
        self.cap_points();
        if self.named_caches.len() < other.named_caches.len() {
            self.named_caches.resize(other.named_caches.len(), [0, 0]);
        }
        for (a, b) in self.named_caches.iter_mut().zip(&other.named_caches) {
            a[0] += b[0];
            a[1] += b[1];
        }
        if let Some(o) = &other.flows {
            match &mut self.flows {
                Some(f) => f.merge(o),
                None => self.flows = Some(o.clone()),
            }
        }
    }

    /// Counts a hit or miss of named cache `i`.
    fn record_named_cache(&mut self, i: usize, status: CacheStatus) {
        if self.named_caches.len() <= i {
            self.named_caches.resize(i + 1, [0, 0]);
        }
        match status {
            CacheStatus::Hit => self.named_caches[i][0] += 1,
            CacheStatus::Miss => self.named_caches[i][1] += 1,
        }
    }

    fn flows_mut(&mut self) -> &mut FlowStats {
        self.flows
            .get_or_insert_with(|| Box::new(FlowStats::new(0)))
    }

    /// Records how a flow ended.
    pub fn record_flow_end(&mut self, e: Ended) {
        let seen = self.flows_seen;
        self.flows_seen += 1;
        self.flows_mut().ended(e, seen);
    }

    /// Past `MAX_POINTS`, points are dropped for good: the percentiles
    /// over time say more than a cloud of dots.
    fn cap_points(&mut self) {
        if self.points.len() > MAX_POINTS {
            self.points_overflowed = true;
        }
        if self.points_overflowed && !self.points.is_empty() {
            self.points = Vec::new();
        }
    }

    /// Each request, ordered by its end, or `None` past `MAX_POINTS`.
    pub fn points(&self) -> Option<Vec<RequestPoint>> {
        if self.points_overflowed {
            return None;
        }
        let mut p = self.points.clone();
        p.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        Some(p)
    }

    /// Records what a successful stream's events said (with the gaps
    /// between its content events, µs), and judges the request against
    /// `objectives` when there are any. Call before or after `record`.
    fn record_llm(
        &mut self,
        s: &Sample,
        l: Option<&LlmSample>,
        itl_us: &[u32],
        objectives: Option<&genbench_model::Objectives>,
    ) {
        if let Some(l) = l.filter(|_| s.ok()) {
            self.llm.record(s, l, itl_us);
        }
        if let Some(o) = objectives
            && llm::meets(o, s, l)
        {
            self.goodput_met += 1;
        }
    }

    /// Counts a failure of check number `index` (the sample itself is
    /// recorded as an error of kind `check`).
    fn record_check_failure(&mut self, index: usize) {
        if self.check_failed.len() <= index {
            self.check_failed.resize(index + 1, 0);
        }
        self.check_failed[index] += 1;
    }

    /// The traced requests recorded since the last call.
    pub fn take_traced(&mut self) -> Traced {
        std::mem::take(&mut self.traced)
    }

    /// Hands over this interval's data and starts the next one empty.
    pub fn take_interval(&mut self) -> Recorder {
        self.take_interval_into(Recorder::default())
    }

    /// As [`Recorder::take_interval`], starting the next interval in
    /// `fresh` (an empty recorder made ahead, while the worker was idle:
    /// making one builds every histogram, which at a second's boundary
    /// would delay the sends due then).
    pub fn take_interval_into(&mut self, fresh: Recorder) -> Recorder {
        let (seen, over) = (self.points_seen, self.points_overflowed);
        let mut next = Recorder {
            points_seen: seen,
            points_overflowed: over,
            flows_seen: self.flows_seen,
            ..fresh
        };
        std::mem::swap(self, &mut next);
        next
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample(scheduled_ms: u64, sent_ms: u64, end_ms: u64, outcome: Outcome) -> Sample {
        Sample {
            scheduled: Duration::from_millis(scheduled_ms),
            sent: Duration::from_millis(sent_ms),
            first_byte: Some(Duration::from_millis(end_ms)),
            end: Duration::from_millis(end_ms),
            outcome,
            bytes: 10,
            cache: Some(CacheStatus::Hit),
            trace: None,
        }
    }

    #[test]
    fn points_are_kept_while_few_and_dropped_past_the_cap() {
        let mut a = Recorder::default();
        a.record(&sample(0, 0, 30, Outcome::Ok(200)));
        a.record(&sample(0, 0, 10, Outcome::Error(ErrorKind::Timeout)));
        let p = a.points().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].t_s, p[0].error), (0.01, Some(ErrorKind::Timeout)));
        assert_eq!((p[1].latency_ms, p[1].cache_hit), (30.0, Some(true)));
        let mut b = Recorder::default();
        for i in 0..MAX_POINTS as u64 {
            b.record(&sample(i, i, i + 1, Outcome::Ok(200)));
        }
        assert_eq!(b.points().map(|p| p.len()), Some(MAX_POINTS));
        b.merge(&a);
        assert_eq!(b.points(), None);
        assert!(b.points.is_empty(), "no memory kept once past the cap");
        a.merge(&b);
        assert_eq!(a.points(), None);
    }

    #[test]
    fn latency_counts_from_the_schedule_and_service_from_the_send() {
        let mut r = Recorder::default();
        // Sent 300 ms late (the client was stalled): a user waited 320 ms.
        r.record(&sample(0, 300, 320, Outcome::Ok(200)));
        assert_eq!(r.latency_us.max() / 1000, 320);
        assert_eq!(r.service_us.max() / 1000, 20);
        assert_eq!(r.send_lag_us.max() / 1000, 300);
    }

    #[test]
    fn errors_are_counted_by_kind_and_kept_out_of_latency() {
        let mut r = Recorder::default();
        r.record(&sample(0, 0, 1, Outcome::Error(ErrorKind::Timeout)));
        r.record(&sample(0, 0, 50, Outcome::Ok(200)));
        assert_eq!((r.ok, r.failed(), r.total()), (1, 1, 2));
        assert_eq!(r.errors[kind_index(ErrorKind::Timeout)], 1);
        assert_eq!(r.latency_us.len(), 1);
    }

    #[test]
    fn merged_percentiles_equal_the_percentiles_of_all_samples() {
        let mut workers: Vec<Recorder> = (0..4).map(|_| Recorder::default()).collect();
        let mut all = Recorder::default();
        for i in 0..4000u64 {
            // Each worker sees a different latency band.
            let ms = (i % 4) * 100 + (i % 97);
            let s = sample(0, 0, ms + 1, Outcome::Ok(200));
            workers[(i % 4) as usize].record(&s);
            all.record(&s);
        }
        let mut merged = Recorder::default();
        for w in &workers {
            merged.merge(w);
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(
                merged.latency_us.value_at_quantile(q),
                all.latency_us.value_at_quantile(q)
            );
        }
        let averaged: f64 = workers
            .iter()
            .map(|w| w.latency_us.value_at_quantile(0.99) as f64)
            .sum::<f64>()
            / 4.0;
        assert_ne!(
            averaged as u64,
            merged.latency_us.value_at_quantile(0.99),
            "averaging p99s is wrong"
        );
    }

    #[test]
    fn hits_and_misses_have_their_own_latency() {
        let mut r = Recorder::default();
        r.record(&sample(0, 0, 5, Outcome::Ok(200)));
        let mut miss = sample(0, 0, 900, Outcome::Ok(200));
        miss.cache = Some(CacheStatus::Miss);
        r.record(&miss);
        let mut merged = Recorder::default();
        merged.merge(&r);
        assert_eq!((merged.cache_hits, merged.cache_misses), (1, 1));
        assert_eq!(merged.latency_hit_us.max() / 1000, 5);
        assert!((merged.latency_miss_us.max() / 1000).abs_diff(900) < 10);
    }

    #[test]
    fn take_interval_resets() {
        let mut r = Recorder::default();
        r.record(&sample(0, 0, 5, Outcome::Ok(200)));
        let i = r.take_interval();
        assert_eq!((i.ok, r.ok, r.latency_us.len()), (1, 0, 0));
    }
}
