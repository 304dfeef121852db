//! Capacity by search (`[load.search]`): probes run one after another, each
//! a load of its own (the open or closed model's workers, started afresh at
//! the probe's rate or users), judged as its seconds arrive. Which load to
//! probe next is `collectors::analysis::search`'s; this module runs the
//! probes and hands their seconds on to the run, one merged report a second
//! at the run's own second numbers, so the timeline, interval log, live
//! outputs and collectors see one continuous run.

mod found;
mod probe;
mod say;

use std::sync::Arc;
use std::time::Duration;

use genbench_collectors::Recorder;
use genbench_collectors::analysis::search::{Search as Searching, SearchSpec, Step};
use genbench_collectors::cost::UsageTally;
use genbench_model::{Probe, ProbeKind, TimelinePoint};
use genbench_scenarios::{Arrivals, Search, SearchVariable, Stage, Threshold};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::collect::cost::StretchCost;
use crate::engine::aggregate::Aggregator;
use crate::engine::closed::{self, ClosedPlan};
use crate::engine::open::{self, OpenPlan};
use crate::engine::segment::LoadSegment;
use crate::engine::workers::{IntervalReport, Work};

pub use found::{Found, per_probe_readings};
use probe::ProbeJudge;
pub use say::summary_lines;

/// How each probe's load is offered.
#[derive(Debug, Clone, Copy)]
pub enum ProbeLoad {
    Open { arrivals: Arrivals },
    Closed { think_time: Duration },
}

/// Everything a search needs besides the work itself.
pub struct SearchPlan {
    pub search: Search,
    pub load: ProbeLoad,
    pub slo: Vec<Threshold>,
    pub seed: u64,
    pub max_requests: u64,
    pub workers: usize,
    /// How long a probe's workers wait for answers after its window.
    pub drain: Duration,
    /// Where each probe's cost comes from.
    pub cost: StretchCost,
}

/// The search's answer into the result: `capacity` and each probe's
/// readings, once its task has ended.
pub async fn fill(
    r: &mut genbench_model::RunResult,
    task: tokio::task::JoinHandle<Found>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let found = task.await.context("the capacity search's task failed")?;
    r.capacity = Some(found.into_capacity());
    per_probe_readings(r);
    Ok(())
}

/// Starts the search. Its reports arrive on the first channel (one a
/// second, as from a single worker) until it is done; the task's result is
/// what it found.
pub fn start(
    plan: SearchPlan,
    work: Work,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> (
    mpsc::UnboundedReceiver<IntervalReport>,
    tokio::task::JoinHandle<Found>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(drive(plan, Arc::new(work), t0, stop, tx));
    (rx, task)
}

fn spec(s: &Search) -> SearchSpec {
    SearchSpec {
        low: s.min,
        high: s.max,
        resolution: s.resolution,
        whole: s.variable == SearchVariable::Users,
    }
}

async fn drive(
    plan: SearchPlan,
    work: Arc<Work>,
    t0: Instant,
    mut stop: watch::Receiver<bool>,
    out: mpsc::UnboundedSender<IntervalReport>,
) -> Found {
    let mut searching = Searching::new(spec(&plan.search));
    let mut probes: Vec<Probe> = Vec::new();
    let mut pause = Duration::ZERO;
    let mut stopped = *stop.borrow();
    while !stopped {
        let (load, kind, window) = match searching.next() {
            Step::Probe(l) => (l, ProbeKind::Probe, plan.search.probe),
            Step::Confirm(l) => (l, ProbeKind::Confirm, plan.search.hold),
            Step::Done => break,
        };
        // Each probe starts on a whole second of the run, after the pause
        // a failed one leaves the target to drain.
        let start_s = (t0.elapsed() + pause).as_secs() + 1;
        // Read before the wait, so the probe's first sends are on time.
        let before = plan.cost.reading().await;
        tokio::select! {
            _ = tokio::time::sleep_until(t0 + Duration::from_secs(start_s)) => {}
            _ = stop.wait_for(|s| *s) => { stopped = true; break; }
        }
        let verb = match kind {
            ProbeKind::Probe => "probe",
            ProbeKind::Confirm => "confirming",
        };
        let unit = plan.search.variable.unit();
        let window_s = window.as_secs_f64();
        eprintln!(
            "search: {verb} {} at {} {unit} for {window_s:.0} s",
            probes.len() + 1,
            genbench_reports::fmt::num(load)
        );
        let run = ProbeRun {
            plan: &plan,
            work: &work,
            t0,
            load,
            window,
            start_s,
        };
        let judge = ProbeJudge::new(load, kind, start_s, window_s, run.watches_queue());
        let (mut probe, (usage, ok), interrupted) = run.run(judge, &stop, &out).await;
        if interrupted {
            // Cut short by the run's stop: not a verdict on the load.
            stopped = true;
            break;
        }
        let after = plan.cost.reading().await;
        if let Some(c) = plan.cost.cost(before, after, &usage, ok) {
            probe.cost_usd = Some(c.total_usd);
            probe.cost_per_article_usd = c.per_article_usd;
        }
        say::verdict(&probe);
        let step = match kind {
            ProbeKind::Probe => Step::Probe(load),
            ProbeKind::Confirm => Step::Confirm(load),
        };
        searching.record(step, probe.passed);
        pause = if probe.passed {
            Duration::ZERO
        } else {
            plan.search.drain
        };
        probes.push(probe);
    }
    Found::new(&plan.search, &plan.slo, &searching, probes, stopped)
}

/// One probe: a load held for a window from a whole second of the run.
struct ProbeRun<'a> {
    plan: &'a SearchPlan,
    work: &'a Arc<Work>,
    t0: Instant,
    load: f64,
    window: Duration,
    start_s: u64,
}

impl ProbeRun<'_> {
    /// The open model's queue can grow without bound; the closed model's
    /// users cannot outnumber themselves.
    fn watches_queue(&self) -> bool {
        matches!(self.plan.load, ProbeLoad::Open { .. })
    }

    /// Nothing until the probe's second, then straight to its level, held
    /// for the window. On the run's clock, so each send's latency counts
    /// from its instant as the run's sender reckons it.
    fn stages(&self) -> Vec<Stage> {
        let at = |duration, target| Stage { duration, target };
        vec![
            at(Duration::from_secs(self.start_s), 0.0),
            at(Duration::ZERO, self.load),
            at(self.window, self.load),
        ]
    }

    fn start(&self, stop: watch::Receiver<bool>) -> mpsc::UnboundedReceiver<IntervalReport> {
        let p = self.plan;
        let (stages, seed) = (self.stages(), p.seed.wrapping_add(self.start_s));
        let (workers, max_requests, drain) = (p.workers, p.max_requests, p.drain);
        let segment = LoadSegment::default();
        match p.load {
            ProbeLoad::Open { arrivals } => {
                let plan = OpenPlan {
                    stages,
                    arrivals,
                    seed,
                    max_requests,
                    workers,
                    segment,
                    drain,
                };
                open::start(plan, self.work.clone(), self.t0, stop)
            }
            ProbeLoad::Closed { think_time } => {
                let plan = ClosedPlan {
                    stages,
                    think_time,
                    seed,
                    max_requests,
                    workers,
                    segment,
                    drain,
                };
                closed::start(plan, self.work.clone(), self.t0, stop)
            }
        }
    }

    /// Runs the probe to its end (or its early stop); its seconds go to
    /// `out`. True with it when the run was stopped.
    async fn run(
        &self,
        mut judge: ProbeJudge,
        stop: &watch::Receiver<bool>,
        out: &mpsc::UnboundedSender<IntervalReport>,
    ) -> (Probe, (UsageTally, u64), bool) {
        let (cut, probe_stop) = watch::channel(false);
        let mut reports = self.start(probe_stop);
        let mut agg = Aggregator::new(self.plan.workers, self.stages());
        let relay = Relay {
            out,
            start_s: self.start_s,
            load: self.load,
            window_s: self.window.as_secs_f64(),
        };
        let mut stop = stop.clone();
        let mut interrupted = *stop.borrow();
        let mut held = self.window;
        let started = self.t0 + Duration::from_secs(self.start_s);
        loop {
            tokio::select! {
                r = reports.recv() => match r {
                    Some(r) => {
                        let done = agg.add(r);
                        if relay.forward(&mut agg, &mut judge, done) && !*cut.borrow() {
                            held = started.elapsed().min(self.window);
                            let _ = cut.send(true);
                        }
                    }
                    None => break,
                },
                _ = stop.wait_for(|s| *s), if !interrupted => {
                    interrupted = true;
                    let _ = cut.send(true);
                }
            }
        }
        let rest = agg.finish();
        relay.forward(&mut agg, &mut judge, rest);
        let spend = judge.spend();
        (
            judge.finish(&self.plan.slo, held.as_secs_f64()),
            spend,
            interrupted,
        )
    }
}

/// Hands a probe's merged seconds on to the run, renumbered from the
/// probe's start, after the judge has seen them.
struct Relay<'a> {
    out: &'a mpsc::UnboundedSender<IntervalReport>,
    start_s: u64,
    load: f64,
    window_s: f64,
}

impl Relay<'_> {
    /// True when the judge says the probe should stop now.
    fn forward(
        &self,
        agg: &mut Aggregator,
        judge: &mut ProbeJudge,
        done: Vec<(TimelinePoint, Recorder)>,
    ) -> bool {
        let mut cut_now = false;
        for (p, mut rec) in done {
            // Point `k` closes at (k + 1) s of the run; the workers' seconds
            // before the probe's start are empty.
            let Some(k) = (p.t_s.round() as u64).checked_sub(1 + self.start_s) else {
                continue;
            };
            cut_now |= judge.second(k, &p, &rec);
            rec.traced = agg.take_traced();
            let offered = if (k as f64) < self.window_s {
                self.load
            } else {
                0.0
            };
            // The run's receiver only goes away when it is being torn down.
            let _ = self.out.send(IntervalReport {
                worker: 0,
                k: self.start_s + k,
                rec,
                in_flight: p.in_flight,
                target: Some(offered),
            });
        }
        cut_now
    }
}
