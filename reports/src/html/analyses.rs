//! The sections of `report.html` about the target's resources and the
//! scenario's analyses: CPU and memory with the leak verdict, the stress
//! capacity, the spike.

use genbench_model::RunResult;

use super::charts;
use super::page::{figure, h2, para, table};
use crate::fmt::{enum_name, ms, num, opt_ms, pct};

pub fn process(o: &mut String, r: &RunResult) {
    h2(o, "process", "CPU and memory");
    let mut rows = Vec::new();
    for (name, p) in [
        ("target", &r.process.target),
        ("harness", &r.process.harness),
    ] {
        if let Some(p) = p {
            rows.push(vec![
                name.into(),
                p.pid.map_or("-".into(), |v| v.to_string()),
                format!("{:.0}%", p.cpu_pct.mean),
                format!("{:.0}%", p.cpu_pct.max),
                format!("{:.1}", p.rss_mib.start),
                format!("{:.1}", p.rss_mib.max),
                format!("{:.1}", p.rss_mib.end),
            ]);
        }
    }
    if rows.is_empty() {
        para(
            o,
            "No process was watched (give --target-pid for an external target).",
        );
        return;
    }
    table(
        o,
        &[
            "process",
            "pid",
            "CPU mean",
            "CPU max",
            "RSS start MiB",
            "RSS max MiB",
            "RSS end MiB",
        ],
        &rows,
    );
    figure(
        o,
        "cpu",
        "CPU each second, % of one core, process and children.",
        charts::cpu(r),
        "No CPU readings.",
    );
    figure(
        o,
        "rss",
        "Resident memory each second, with the fitted leak slope when the scenario judges leaks.",
        charts::rss(r),
        "No memory readings.",
    );
    if let Some(l) = &r.leak {
        para(
            o,
            &format!(
                "Leak verdict: {}. Slope {:+.1} MiB/h (95% CI {:+.1} to {:+.1}), Theil-Sen {:+.1} MiB/h, over {} readings after a {:.0} s warm-up; tolerance {:.1} MiB/h.",
                enum_name(&l.verdict),
                l.slope_mib_per_h,
                l.ci95_mib_per_h[0],
                l.ci95_mib_per_h[1],
                l.theil_sen_mib_per_h,
                l.samples,
                l.warmup_excluded_s,
                l.tolerance_mib_per_h
            ),
        );
        if let Some(i) = l.segment {
            para(
                o,
                &format!(
                    "Merged from segments that each watched a target of their own: the fit and memory shown are segment {i}'s, the worst of theirs."
                ),
            );
        }
    }
}

fn capacity(o: &mut String, r: &RunResult) {
    let Some(c) = &r.capacity else { return };
    h2(o, "capacity", "Capacity");
    if let Some(s) = &c.search {
        super::search::search(o, s);
        return;
    }
    para(
        o,
        &format!(
            "Maximum sustainable rate {}; knee {}. Each step held to: {}.",
            c.max_sustainable_rps
                .map_or("none (no step met the SLO)".into(), |v| format!(
                    "{} req/s",
                    num(v)
                )),
            c.knee_rps
                .map_or("not found".into(), |v| format!("{} req/s", num(v))),
            if c.slo.is_empty() {
                "no SLO".into()
            } else {
                c.slo.join(", ")
            }
        ),
    );
    figure(
        o,
        "capacity",
        "Achieved rate, p95 and errors at each offered rate.",
        charts::capacity(r),
        "No step held a rate long enough to judge.",
    );
    let rows: Vec<Vec<String>> = c
        .steps
        .iter()
        .map(|s| {
            vec![
                num(s.target_rps),
                num(s.achieved_rps),
                opt_ms(s.p50_ms),
                opt_ms(s.p95_ms),
                opt_ms(s.p99_ms),
                pct(s.error_rate),
                if s.meets_slo { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    table(
        o,
        &[
            "offered req/s",
            "achieved req/s",
            "p50",
            "p95",
            "p99",
            "errors",
            "meets SLO",
        ],
        &rows,
    );
    super::breaks::breaks_first(o, r);
}

fn spike(o: &mut String, r: &RunResult) {
    let Some(s) = &r.spike else { return };
    h2(o, "spike", "Spike");
    para(
        o,
        &format!(
            "Burst from {:.0} s to {:.0} s: p95 {} (before it {}), {} errors; {}.",
            s.burst_start_s,
            s.burst_end_s,
            ms(s.p95_during_burst_ms),
            opt_ms(s.baseline_p95_ms),
            s.errors_during_burst,
            s.recovery_s.map_or(
                "p95 had not recovered when the run ended".into(),
                |v| format!("p95 recovered {v:.0} s after the burst")
            )
        ),
    );
    figure(
        o,
        "spike",
        "The burst (shaded), p95 against the pre-burst p95, and the recovery.",
        charts::spike(r),
        "No timeline was recorded.",
    );
}

pub fn analyses(o: &mut String, r: &RunResult) {
    o.push_str("<div id=\"analysis\"></div>\n");
    capacity(o, r);
    spike(o, r);
}
