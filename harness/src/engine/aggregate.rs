//! Merges the workers' interval reports into the per-second timeline and the
//! whole-run recording. Percentiles come from merged histograms, never from
//! averaging workers' percentiles.

use std::collections::BTreeMap;

use genbench_collectors::summary::timeline_point;
use genbench_collectors::{Recorder, Traced};
use genbench_model::TimelinePoint;
use genbench_scenarios::{Stage, target_at};

use super::workers::{INTERVAL, IntervalReport};

#[derive(Default)]
struct Pending {
    reports: usize,
    rec: Recorder,
    in_flight: u64,
    target: Option<f64>,
}

pub struct Aggregator {
    workers: usize,
    stages: Vec<Stage>,
    pending: BTreeMap<u64, Pending>,
    pub total: Recorder,
    pub timeline: Vec<TimelinePoint>,
    /// A flow run: every second says how many flows ended, zero included.
    flows: bool,
    /// Traced requests not yet handed on ([`Aggregator::take_traced`]).
    traced: Traced,
}

impl Aggregator {
    pub fn new(workers: usize, stages: Vec<Stage>) -> Self {
        Aggregator {
            workers: workers.max(1),
            stages,
            pending: BTreeMap::new(),
            total: Recorder::default(),
            timeline: Vec::new(),
            flows: false,
            traced: Traced::default(),
        }
    }

    /// Counts flows in each second (a `[[flow.steps]]` run).
    pub fn with_flows(mut self, flows: bool) -> Self {
        self.flows = flows;
        self
    }

    /// Adds a report; returns the intervals it completed, each as its
    /// timeline point and its merged recording.
    pub fn add(&mut self, mut r: IntervalReport) -> Vec<(TimelinePoint, Recorder)> {
        // Traced requests go to the span join, never into the run's total.
        self.traced.append(&mut r.rec.traced);
        self.total.merge(&r.rec);
        let p = self.pending.entry(r.k).or_default();
        p.reports += 1;
        p.rec.merge(&r.rec);
        p.in_flight += r.in_flight;
        p.target = p.target.or(r.target);
        let mut done = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if entry.get().reports < self.workers {
                break;
            }
            let (k, p) = entry.remove_entry();
            done.push((self.point(k, &p), p.rec));
        }
        self.timeline.extend(done.iter().map(|(p, _)| *p));
        done
    }

    fn point(&self, k: u64, p: &Pending) -> TimelinePoint {
        let t_s = (k + 1) as f64 * INTERVAL.as_secs_f64();
        let mid = INTERVAL.mul_f64(k as f64 + 0.5);
        let mut pt = timeline_point(
            t_s,
            INTERVAL.as_secs_f64(),
            &p.rec,
            Some(p.target.unwrap_or_else(|| target_at(&self.stages, mid))),
            p.in_flight,
        );
        if self.flows {
            pt.flows_completed.get_or_insert(0);
            pt.flows_failed.get_or_insert(0);
        }
        pt
    }

    /// The traced requests added since the last call.
    pub fn take_traced(&mut self) -> Traced {
        std::mem::take(&mut self.traced)
    }

    /// Emits what is left (the final, partial intervals).
    pub fn finish(&mut self) -> Vec<(TimelinePoint, Recorder)> {
        let rest: Vec<(u64, Pending)> = std::mem::take(&mut self.pending).into_iter().collect();
        let mut done = Vec::new();
        for (k, p) in rest {
            let pt = self.point(k, &p);
            self.timeline.push(pt);
            done.push((pt, p.rec));
        }
        done
    }
}
