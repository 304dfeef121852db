//! Per-step and per-flow recording for `[[flow.steps]]` scenarios. Like the
//! rest of a [`crate::Recorder`], it is owned by one worker, fed without
//! locks, handed over each interval and merged exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use genbench_model::{
    ErrorKind, FlowErrorKind, FlowFailure, FlowPoint, FlowsResult, Histograms, MAX_POINTS,
    PollsPerFlow, StepResult,
};
use hdrhistogram::Histogram;

use crate::histogram::new_histogram;
use crate::pool::{PoolError, decode_histogram};
use crate::sample::{Outcome, Sample};
use crate::summary::{encode_histogram, latency_ms};

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// One step's requests.
#[derive(Debug, Clone)]
pub struct StepStats {
    pub latency_us: Histogram<u64>,
    pub ok: u64,
    pub errors: [u64; ErrorKind::ALL.len()],
    pub polls: u64,
    pub retried_429: u64,
}

impl Default for StepStats {
    fn default() -> Self {
        StepStats {
            latency_us: new_histogram(),
            ok: 0,
            errors: [0; ErrorKind::ALL.len()],
            polls: 0,
            retried_429: 0,
        }
    }
}

/// How a request of a step was sent: its step's first, a poll after it,
/// or the repeat of a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    First,
    Poll,
    Retry,
}

/// Failures at one (step, kind), with what the first one saw.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub count: u64,
    pub example: Option<String>,
}

/// How one flow ended.
pub struct Ended {
    pub step: usize,
    /// From the flow's start to its last answer.
    pub latency: Duration,
    /// Seconds from the run's start to the flow's end.
    pub end: Duration,
    pub queued: Option<Duration>,
    pub polls: u64,
    /// `None`: completed.
    pub error: Option<(FlowErrorKind, Option<String>)>,
}

/// What flows recorded over an interval (or the whole run, once merged).
#[derive(Debug, Clone)]
pub struct FlowStats {
    pub steps: Vec<StepStats>,
    pub latency_us: Histogram<u64>,
    pub queued_us: Histogram<u64>,
    /// Polls of each flow that polled.
    pub polls: Histogram<u64>,
    pub completed: u64,
    pub failed: BTreeMap<(usize, FlowErrorKind), Tally>,
    pub points: Vec<FlowPoint>,
    pub points_overflowed: bool,
}

impl FlowStats {
    pub fn new(steps: usize) -> Self {
        FlowStats {
            steps: vec![StepStats::default(); steps],
            latency_us: new_histogram(),
            queued_us: new_histogram(),
            polls: new_histogram(),
            completed: 0,
            failed: BTreeMap::new(),
            points: Vec::new(),
            points_overflowed: false,
        }
    }

    fn step_mut(&mut self, i: usize) -> &mut StepStats {
        if self.steps.len() <= i {
            self.steps.resize_with(i + 1, StepStats::default);
        }
        &mut self.steps[i]
    }

    /// Records one request of step `step`.
    pub fn request(&mut self, step: usize, s: &Sample, attempt: Attempt) {
        let st = self.step_mut(step);
        match s.outcome {
            Outcome::Ok(_) => {
                st.ok += 1;
                st.latency_us.saturating_record(us(s.latency()));
            }
            Outcome::Error(k) => {
                let i = ErrorKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
                st.errors[i] += 1;
            }
            // Counted with the run's abandoned requests; the flow ends
            // `abandoned`.
            Outcome::Abandoned(_) => {}
        }
        match attempt {
            Attempt::First => {}
            Attempt::Poll => st.polls += 1,
            Attempt::Retry => st.retried_429 += 1,
        }
    }

    /// Records a flow's end. `points_seen`: flows this worker ended before
    /// (kept by its caller across intervals), so points stop past the cap.
    pub fn ended(&mut self, e: Ended, points_seen: usize) {
        if e.polls > 0 {
            self.polls.saturating_record(e.polls);
        }
        match &e.error {
            None => {
                self.completed += 1;
                self.latency_us.saturating_record(us(e.latency));
            }
            Some((kind, example)) => {
                let t = self.failed.entry((e.step, *kind)).or_default();
                t.count += 1;
                if t.example.is_none() {
                    t.example = example.clone();
                }
            }
        }
        if let Some(q) = e.queued {
            self.queued_us.saturating_record(us(q));
        }
        if points_seen >= MAX_POINTS {
            self.points_overflowed = true;
        }
        if !self.points_overflowed {
            self.points.push(FlowPoint {
                t_s: e.end.as_secs_f64(),
                latency_ms: e.latency.as_secs_f64() * 1e3,
                error: e.error.map(|(k, _)| k),
            });
        }
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.values().map(|t| t.count).sum()
    }

    pub fn merge(&mut self, o: &FlowStats) {
        for (i, s) in o.steps.iter().enumerate() {
            let m = self.step_mut(i);
            let _ = m.latency_us.add(&s.latency_us);
            m.ok += s.ok;
            for (a, b) in m.errors.iter_mut().zip(s.errors) {
                *a += b;
            }
            m.polls += s.polls;
            m.retried_429 += s.retried_429;
        }
        let _ = self.latency_us.add(&o.latency_us);
        let _ = self.queued_us.add(&o.queued_us);
        let _ = self.polls.add(&o.polls);
        self.completed += o.completed;
        for (k, t) in &o.failed {
            let m = self.failed.entry(*k).or_default();
            m.count += t.count;
            if m.example.is_none() {
                m.example = t.example.clone();
            }
        }
        self.points_overflowed |= o.points_overflowed;
        if !self.points_overflowed {
            self.points.extend_from_slice(&o.points);
        }
        if self.points.len() > MAX_POINTS {
            self.points_overflowed = true;
        }
        if self.points_overflowed {
            self.points = Vec::new();
        }
    }

    /// The results.json section. `names`: the steps' names; `duration`:
    /// the run's; `unfinished`: flows in flight at its end.
    pub fn result(
        &self,
        names: &[String],
        duration: Duration,
        unfinished: u64,
        poll_interval: Option<Duration>,
    ) -> FlowsResult {
        let failed = self.failed_total();
        let ended = self.completed + failed;
        let hours = duration.as_secs_f64() / 3600.0;
        let name = |i: usize| {
            names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("step {}", i + 1))
        };
        let steps = (0..names.len().max(self.steps.len()))
            .map(|i| {
                let d = StepStats::default();
                let s = self.steps.get(i).unwrap_or(&d);
                let errors: BTreeMap<String, u64> = ErrorKind::ALL
                    .iter()
                    .zip(s.errors)
                    .filter(|(_, n)| *n > 0)
                    .map(|(k, n)| (k.name().to_string(), n))
                    .collect();
                StepResult {
                    name: name(i),
                    requests: s.ok + errors.values().sum::<u64>(),
                    ok: s.ok,
                    errors,
                    latency_ms: latency_ms(&s.latency_us),
                    polls: s.polls,
                    retried_429: s.retried_429,
                }
            })
            .collect();
        let mut failures: Vec<FlowFailure> = self
            .failed
            .iter()
            .map(|((step, kind), t)| FlowFailure {
                step: name(*step),
                kind: *kind,
                count: t.count,
                example: t.example.clone(),
            })
            .collect();
        failures.sort_by_key(|f| std::cmp::Reverse(f.count));
        let mut points = (!self.points_overflowed).then(|| self.points.clone());
        if let Some(p) = points.as_mut() {
            p.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        }
        FlowsResult {
            ended,
            completed: self.completed,
            failed,
            unfinished,
            error_rate: if ended == 0 {
                0.0
            } else {
                failed as f64 / ended as f64
            },
            per_hour: if hours > 0.0 {
                self.completed as f64 / hours
            } else {
                0.0
            },
            latency_ms: latency_ms(&self.latency_us),
            queued_ms: latency_ms(&self.queued_us),
            polls_per_flow: (!self.polls.is_empty()).then(|| PollsPerFlow {
                mean: self.polls.mean(),
                max: self.polls.max(),
            }),
            poll_interval_s: poll_interval.map(|d| d.as_secs_f64()),
            steps,
            failures,
            points,
        }
    }
}

/// Encoded like `histograms.*`; none when nothing was recorded.
fn encoded(h: &Histogram<u64>) -> Option<String> {
    (!h.is_empty()).then(|| encode_histogram(h)).flatten()
}

impl FlowStats {
    /// The histograms a merge needs beside the `flows` section, into `h`;
    /// `names`: the steps', in order.
    pub fn encode(&self, names: &[String], h: &mut Histograms) {
        h.flow_latency_us = encoded(&self.latency_us);
        h.flow_queued_us = encoded(&self.queued_us);
        h.flow_polls = encoded(&self.polls);
        h.flow_steps_us = names
            .iter()
            .zip(&self.steps)
            .filter_map(|(n, s)| Some((n.clone(), encoded(&s.latency_us)?)))
            .collect();
    }

    /// The recording a result's `flows` section and histograms came from,
    /// to merge with another segment's. Points are moved `offset_s` later.
    pub fn decode(f: &FlowsResult, h: &Histograms, offset_s: f64) -> Result<Self, PoolError> {
        let hist = |b64: Option<&String>| -> Result<Histogram<u64>, PoolError> {
            let mut out = new_histogram();
            if let Some(b64) = b64 {
                let d = decode_histogram(b64).ok_or(PoolError::BadHistogram(1))?;
                out.add(d).map_err(|_| PoolError::BadHistogram(1))?;
            }
            Ok(out)
        };
        let mut stats = FlowStats::new(f.steps.len());
        for (st, r) in stats.steps.iter_mut().zip(&f.steps) {
            st.latency_us = hist(h.flow_steps_us.get(&r.name))?;
            (st.ok, st.polls, st.retried_429) = (r.ok, r.polls, r.retried_429);
            for (k, n) in &r.errors {
                let at = ErrorKind::ALL.iter().position(|x| x.name() == k);
                st.errors[at.unwrap_or(0)] += n;
            }
        }
        stats.latency_us = hist(h.flow_latency_us.as_ref())?;
        stats.queued_us = hist(h.flow_queued_us.as_ref())?;
        stats.polls = hist(h.flow_polls.as_ref())?;
        stats.completed = f.completed;
        let index = |name: &str| f.steps.iter().position(|s| s.name == name).unwrap_or(0);
        for x in &f.failures {
            let t = stats.failed.entry((index(&x.step), x.kind)).or_default();
            t.count += x.count;
            t.example = t.example.take().or_else(|| x.example.clone());
        }
        match &f.points {
            Some(p) => {
                stats.points = p
                    .iter()
                    .map(|p| FlowPoint {
                        t_s: p.t_s + offset_s,
                        ..*p
                    })
                    .collect()
            }
            None => stats.points_overflowed = true,
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ms: u64, outcome: Outcome) -> Sample {
        Sample {
            scheduled: Duration::ZERO,
            sent: Duration::ZERO,
            first_byte: None,
            end: Duration::from_millis(ms),
            outcome,
            bytes: 0,
            cache: None,
            trace: None,
        }
    }

    fn ended(ms: u64, error: Option<FlowErrorKind>) -> Ended {
        Ended {
            step: 1,
            latency: Duration::from_millis(ms),
            end: Duration::from_millis(ms),
            queued: Some(Duration::from_millis(ms / 2)),
            polls: 3,
            error: error.map(|k| (k, Some(format!("saw {ms}")))),
        }
    }

    #[test]
    fn steps_and_flows_merge_into_the_whole_run() {
        let mut a = FlowStats::new(2);
        a.request(0, &sample(10, Outcome::Ok(202)), Attempt::First);
        a.request(1, &sample(5, Outcome::Ok(200)), Attempt::First);
        a.request(1, &sample(5, Outcome::Ok(200)), Attempt::Poll);
        a.ended(ended(1000, None), 0);
        let mut b = FlowStats::new(2);
        b.request(
            0,
            &sample(10, Outcome::Error(ErrorKind::RateLimited)),
            Attempt::First,
        );
        b.request(0, &sample(10, Outcome::Ok(202)), Attempt::Retry);
        b.ended(ended(2000, Some(FlowErrorKind::JobFailed)), 0);
        b.ended(ended(3000, Some(FlowErrorKind::JobFailed)), 1);
        a.merge(&b);
        let names = ["submit".to_string(), "poll".to_string()];
        let r = a.result(&names, Duration::from_secs(1800), 1, None);
        assert_eq!((r.ended, r.completed, r.failed, r.unfinished), (3, 1, 2, 1));
        assert_eq!(r.per_hour, 2.0);
        assert!((r.error_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            (r.steps[0].requests, r.steps[0].ok, r.steps[0].retried_429),
            (3, 2, 1)
        );
        assert_eq!(r.steps[0].errors["rate_limited"], 1);
        assert_eq!((r.steps[1].requests, r.steps[1].polls), (2, 1));
        assert_eq!(r.failures.len(), 1);
        let f = &r.failures[0];
        assert_eq!(
            (f.step.as_str(), f.kind, f.count),
            ("poll", FlowErrorKind::JobFailed, 2)
        );
        assert_eq!(f.example.as_deref(), Some("saw 2000"));
        assert_eq!(r.polls_per_flow.unwrap().max, 3);
        assert_eq!(r.points.as_ref().unwrap().len(), 3);
        let p50 = r.latency_ms.unwrap().p50;
        assert!((999.0..=1001.0).contains(&p50), "{p50}");
    }

    /// What a results.json keeps of a recording is enough to recover it:
    /// a segment's `flows` and histograms decode into stats that summarise
    /// exactly as the run did, and two decoded segments add up to the
    /// stats of both recordings merged.
    #[test]
    fn a_results_flows_decode_into_the_recording() {
        let names = ["submit".to_string(), "poll".to_string()];
        let mut a = FlowStats::new(2);
        a.request(0, &sample(10, Outcome::Ok(202)), Attempt::First);
        a.request(1, &sample(7, Outcome::Ok(200)), Attempt::Poll);
        a.request(
            1,
            &sample(3, Outcome::Error(ErrorKind::Timeout)),
            Attempt::First,
        );
        a.ended(ended(1000, None), 0);
        a.ended(ended(1500, Some(FlowErrorKind::PollTimeout)), 1);
        let mut b = FlowStats::new(2);
        b.request(0, &sample(30, Outcome::Ok(202)), Attempt::First);
        b.ended(ended(4000, None), 0);
        let poll = Some(Duration::from_millis(250));
        let d = Duration::from_secs(60);
        let written = |f: &FlowStats| {
            let mut h = Histograms::default();
            f.encode(&names, &mut h);
            (f.result(&names, d, 0, poll), h)
        };
        let ((ra, ha), (rb, hb)) = (written(&a), written(&b));
        let da = FlowStats::decode(&ra, &ha, 0.0).unwrap();
        assert_eq!(da.result(&names, d, 0, poll), ra);
        let mut both = da;
        both.merge(&FlowStats::decode(&rb, &hb, 0.0).unwrap());
        a.merge(&b);
        assert_eq!(
            both.result(&names, d, 0, poll),
            a.result(&names, d, 0, poll)
        );
        assert_eq!(both.steps[0].latency_us, a.steps[0].latency_us);
        // A later part's flows end later on the merged clock.
        let late = FlowStats::decode(&rb, &hb, 2.5).unwrap();
        assert_eq!(late.points[0].t_s, rb.points.as_ref().unwrap()[0].t_s + 2.5);
    }

    #[test]
    fn points_stop_past_the_cap() {
        let mut a = FlowStats::new(1);
        a.ended(ended(10, None), MAX_POINTS);
        assert!(a.points.is_empty() && a.points_overflowed);
        let r = a.result(&["only".into()], Duration::from_secs(1), 0, None);
        assert!(r.points.is_none());
    }
}
