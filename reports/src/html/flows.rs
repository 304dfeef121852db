//! A flow scenario's section: the flows (completed, failed, per hour, their
//! latency and time queued, with the poll interval's bias said), each flow
//! as a dot over the run (or flows ended per second when there were too
//! many), each step, and what failed flows. Absent for one-request runs.

use genbench_model::{FlowsResult, LatencySummaryMs, RunResult};

use super::page::{figure, h2, para, table};
use crate::chart::{self, BLUE_, GREY, LineChart, RED_, Series};
use crate::fmt::{ms, num, pct};

fn lat(l: &Option<LatencySummaryMs>) -> [String; 3] {
    match l {
        Some(l) => [ms(l.p50), ms(l.p95), ms(l.max)],
        None => ["-".into(), "-".into(), "-".into()],
    }
}

pub fn flows(o: &mut String, r: &RunResult) {
    let Some(f) = &r.flows else {
        return;
    };
    h2(o, "flows", "Flows");
    let [p50, p95, max] = lat(&f.latency_ms);
    let [q50, q95, _] = lat(&f.queued_ms);
    let polls = f
        .polls_per_flow
        .map_or("-".into(), |p| format!("{} (max {})", num(p.mean), p.max));
    table(
        o,
        &[
            "completed",
            "failed",
            "unfinished",
            "failed share",
            "per hour",
            "p50",
            "p95",
            "max",
            "queued p50",
            "queued p95",
            "polls per flow",
        ],
        &[vec![
            f.completed.to_string(),
            f.failed.to_string(),
            f.unfinished.to_string(),
            pct(f.error_rate),
            num(f.per_hour),
            p50,
            p95,
            max,
            q50,
            q95,
            polls,
        ]],
    );
    if let Some(every) = f.poll_interval_s {
        para(
            o,
            &format!(
                "A flow's latency runs from its scheduled start (its first send, in the closed model) to its last answer. \
Polls every {}: a job is seen done up to that late, so flow latency and time queued are biased upward by up to one interval; \
poll faster (poll.every) to shrink it.",
                ms(every * 1000.0)
            ),
        );
    }
    figure(
        o,
        "flow-latency",
        "Each flow's latency by when it ended, coloured by how it went (flows ended per second when there were too many to show).",
        flow_chart(r, f),
        "No flow ended.",
    );
    steps(o, f);
    failures(o, f);
}

fn flow_chart(r: &RunResult, f: &FlowsResult) -> Option<chart::Svg> {
    match f.points.as_ref().filter(|p| !p.is_empty()) {
        Some(points) => {
            let of = |failed: bool| -> Vec<(f64, f64)> {
                points
                    .iter()
                    .filter(|p| p.error.is_some() == failed)
                    .map(|p| (p.t_s, p.latency_ms))
                    .collect()
            };
            let series: Vec<Series> = [("completed", BLUE_, of(false)), ("failed", RED_, of(true))]
                .into_iter()
                .filter(|(_, _, p)| !p.is_empty())
                .map(|(name, c, p)| Series::new(name, c, p).dots())
                .collect();
            Some(chart::line(&LineChart::over_time(
                "flow latency (ms)",
                series,
            )))
        }
        None => {
            let per_s = |get: fn(&genbench_model::TimelinePoint) -> Option<u64>| {
                r.timeline
                    .iter()
                    .filter_map(|p| get(p).map(|v| (p.t_s, v as f64)))
                    .collect::<Vec<_>>()
            };
            let done = per_s(|p| p.flows_completed);
            if done.is_empty() {
                return None;
            }
            let series = vec![
                Series::new("completed/s", BLUE_, done),
                Series::new("failed/s", RED_, per_s(|p| p.flows_failed)),
                Series::new("in flight", GREY, per_s(|p| Some(p.in_flight))).dashed(),
            ];
            Some(chart::line(&LineChart::over_time("flows", series)))
        }
    }
}

fn steps(o: &mut String, f: &FlowsResult) {
    let rows: Vec<Vec<String>> = f
        .steps
        .iter()
        .map(|s| {
            let [p50, p95, max] = lat(&s.latency_ms);
            let errors: Vec<String> = s.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
            vec![
                s.name.clone(),
                s.requests.to_string(),
                s.polls.to_string(),
                s.retried_429.to_string(),
                if errors.is_empty() {
                    "-".into()
                } else {
                    errors.join(", ")
                },
                p50,
                p95,
                max,
            ]
        })
        .collect();
    table(
        o,
        &[
            "step",
            "requests",
            "polls",
            "429 retried",
            "errors",
            "p50",
            "p95",
            "max",
        ],
        &rows,
    );
}

fn failures(o: &mut String, f: &FlowsResult) {
    if f.failures.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = f
        .failures
        .iter()
        .map(|x| {
            vec![
                x.step.clone(),
                x.kind.name().to_string(),
                x.count.to_string(),
                x.example.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        o,
        &["failed at step", "kind", "flows", "the first saw"],
        &rows,
    );
}
