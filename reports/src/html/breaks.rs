//! What breaks first, in a stress run: each stage's p95 at each offered
//! rate (from `Server-Timing`, else from the service's spans), the stage
//! whose p95 grows most from the first step to the last, and which
//! upstream call fails first as the rate rises.

use genbench_model::RunResult;

use super::page::{figure, para, table};
use crate::chart::{
    self, BLUE_, BROWN, GREEN_, GREY, LineChart, ORANGE, PINK, PURPLE, RED_, Series,
};
use crate::escape::html;
use crate::fmt::{ms, num};

const COLORS: [plotters::style::RGBColor; 8] =
    [BLUE_, ORANGE, GREEN_, RED_, PURPLE, BROWN, PINK, GREY];
/// Most stages drawn: the ones that grow most.
const SHOWN: usize = 8;

/// A stage's (offered req/s, p95 ms) points.
type StageLine = (String, Vec<(f64, f64)>);

/// Each stage's line, the fastest-growing first, and where they come from.
pub fn stage_growth(r: &RunResult) -> (Vec<StageLine>, &'static str) {
    let mut by: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    let mut source = "Server-Timing";
    if let Some(c) = &r.capacity {
        for s in &c.steps {
            for (n, p) in &s.stages_p95_ms {
                by.entry(n.clone()).or_default().push((s.target_rps, *p));
            }
        }
    }
    if by.is_empty()
        && let Some(t) = &r.traces
    {
        source = "the service's spans";
        for s in &t.steps {
            let Some(rate) = s.target_rps else { continue };
            for (n, p) in &s.stages_p95_ms {
                by.entry(n.clone()).or_default().push((rate, *p));
            }
        }
    }
    let growth = |pts: &[(f64, f64)]| match (pts.first(), pts.last()) {
        (Some(a), Some(b)) if a.1 > 0.0 => b.1 / a.1,
        _ => 0.0,
    };
    let mut v: Vec<StageLine> = by
        .into_iter()
        .filter(|(n, p)| n != "total" && p.len() >= 2)
        .collect();
    v.sort_by(|a, b| growth(&b.1).total_cmp(&growth(&a.1)).then(a.0.cmp(&b.0)));
    (v, source)
}

pub fn breaks_first(o: &mut String, r: &RunResult) {
    let (stages, source) = stage_growth(r);
    if let Some((name, pts)) = stages.first() {
        let (a, b) = (pts[0], pts[pts.len() - 1]);
        para(
            o,
            &format!(
                "What breaks first: {} grows fastest, p95 {} at {} req/s to {} at {} req/s (×{}), from {source}.",
                html(name),
                ms(a.1),
                num(a.0),
                ms(b.1),
                num(b.0),
                num(if a.1 > 0.0 { b.1 / a.1 } else { 0.0 })
            ),
        );
        let series = stages
            .iter()
            .take(SHOWN)
            .zip(COLORS)
            .map(|((n, pts), c)| Series::new(n, c, pts.clone()))
            .collect();
        let chart = LineChart {
            x_desc: "offered req/s".into(),
            y_desc: "stage p95 (ms)".into(),
            series,
            dots: true,
            ..Default::default()
        };
        figure(
            o,
            "stages-by-rate",
            "Each stage's p95 at each offered rate: the one that climbs first is the bottleneck.",
            Some(chart::line(&chart)),
            "",
        );
    }
    upstream_by_step(o, r);
}

/// Failed upstream spans at each step: the provider whose limit binds
/// first.
fn upstream_by_step(o: &mut String, r: &RunResult) {
    let Some(t) = &r.traces else { return };
    let rows: Vec<Vec<String>> = t
        .steps
        .iter()
        .flat_map(|s| {
            let rate = s.target_rps.map_or("-".into(), num);
            s.failures.iter().map(move |f| {
                vec![
                    rate.clone(),
                    html(&f.stage),
                    html(&f.status),
                    f.count.to_string(),
                ]
            })
        })
        .collect();
    if !rows.is_empty() {
        para(
            o,
            "Upstream failures at each step, from the service's spans:",
        );
        table(o, &["offered req/s", "stage", "status", "spans"], &rows);
    }
}

#[cfg(test)]
mod tests {
    use genbench_model::{Capacity, CapacityStep};

    use super::*;

    #[test]
    fn the_fastest_growing_stage_comes_first() {
        let mut r: RunResult =
            serde_json::from_str(include_str!("../../tests/fixtures/stress.json"))
                .expect("fixture");
        let step = |rate: f64, search: f64, llm: f64| CapacityStep {
            target_rps: rate,
            stages_p95_ms: [
                ("search".to_string(), search),
                ("llm".to_string(), llm),
                ("total".to_string(), 1.0),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        r.capacity = Some(Capacity {
            steps: vec![
                step(1.0, 100.0, 800.0),
                step(2.0, 110.0, 820.0),
                step(4.0, 900.0, 850.0),
            ],
            max_sustainable_rps: None,
            knee_rps: None,
            slo: Vec::new(),
            search: None,
        });
        let (stages, source) = stage_growth(&r);
        assert_eq!(source, "Server-Timing");
        assert_eq!(
            stages.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
            ["search", "llm"]
        );
        let mut o = String::new();
        breaks_first(&mut o, &r);
        assert!(o.contains("search grows fastest"), "{o}");
        assert!(o.contains("<svg"), "{o}");
    }
}
