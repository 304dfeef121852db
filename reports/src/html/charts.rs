//! Which charts a run's report shows, built from the `RunResult` alone.
//! Each returns `None` when the run has nothing for it to show.

use genbench_model::{ProcessSample, RequestPoint, RunResult, TimelinePoint};
use plotters::style::RGBColor;

use crate::chart::{
    self, BLUE_, Band, BarChart, GREEN_, GREY, LineChart, Marker, ORANGE, PALETTE, PURPLE, RED_,
    Series, Svg,
};
use crate::hdr;

fn tl(r: &RunResult, f: impl Fn(&TimelinePoint) -> Option<f64>) -> Vec<(f64, f64)> {
    r.timeline
        .iter()
        .filter_map(|p| f(p).map(|v| (p.t_s, v)))
        .collect()
}

fn has_target_rate(r: &RunResult) -> bool {
    r.timeline.iter().any(|p| p.target_rate.is_some())
}

/// A group of requests in the chart: its name, colour, and who is in it.
type Group = (&'static str, RGBColor, fn(&RequestPoint) -> bool);

/// Each request as a dot, coloured by how it went, when the run kept them
/// (few requests, where per-second percentiles are noise).
fn request_dots(r: &RunResult) -> Option<Vec<Series>> {
    let points = r.points.as_ref().filter(|p| !p.is_empty())?;
    let groups: [Group; 4] = [
        ("cache hit", GREEN_, |p| {
            p.error.is_none() && p.cache_hit == Some(true)
        }),
        ("cache miss", BLUE_, |p| {
            p.error.is_none() && p.cache_hit == Some(false)
        }),
        ("ok", BLUE_, |p| p.error.is_none() && p.cache_hit.is_none()),
        ("failed", RED_, |p| p.error.is_some()),
    ];
    Some(
        groups
            .into_iter()
            .map(|(name, color, keep)| {
                let pts = points
                    .iter()
                    .filter(|p| keep(p))
                    .map(|p| (p.t_s, p.latency_ms))
                    .collect();
                Series::new(name, color, pts).dots()
            })
            .filter(|s| !s.points.is_empty())
            .collect(),
    )
}

/// Whether the latency chart shows requests one by one.
pub fn shows_requests(r: &RunResult) -> bool {
    r.points.as_ref().is_some_and(|p| !p.is_empty())
}

pub fn latency_over_time(r: &RunResult) -> Option<Svg> {
    if r.timeline.is_empty() {
        return None;
    }
    let mut series = request_dots(r).unwrap_or_else(|| {
        vec![
            Series::new("p50", BLUE_, tl(r, |p| p.p50_ms)).median(),
            Series::new("p95", ORANGE, tl(r, |p| p.p95_ms)).median(),
            Series::new("p99", RED_, tl(r, |p| p.p99_ms)).median(),
        ]
    });
    let rate = has_target_rate(r);
    if rate {
        series.push(
            Series::new("target rate", GREY, tl(r, |p| p.target_rate))
                .right()
                .dashed(),
        );
    }
    Some(chart::line(&LineChart {
        y2_desc: rate.then(|| "target rate (req/s)".into()),
        ..LineChart::over_time("latency (ms)", series)
    }))
}

/// Seconds each point of the latency-over-time chart stands for.
pub fn latency_window_s(r: &RunResult) -> usize {
    crate::decimate::window_len(r.timeline.len(), chart::MEDIAN_POINTS)
}

pub fn throughput_errors(r: &RunResult) -> Option<Svg> {
    if r.timeline.is_empty() {
        return None;
    }
    let mut series = vec![Series::new("responses/s", BLUE_, tl(r, |p| Some(p.rps)))];
    if has_target_rate(r) {
        series.push(Series::new("target rate", GREY, tl(r, |p| p.target_rate)).dashed());
    }
    series.push(Series::new(
        "in flight",
        PURPLE,
        tl(r, |p| Some(p.in_flight as f64)),
    ));
    series.push(Series::new("errors/s", RED_, tl(r, |p| Some(p.errors as f64))).right());
    Some(chart::line(&LineChart {
        y2_desc: Some("errors/s".into()),
        ..LineChart::over_time("requests/s, requests in flight", series)
    }))
}

pub fn latency_distribution(r: &RunResult) -> Option<Svg> {
    let mut curves = Vec::new();
    for (name, b64, color) in [
        ("latency", &r.histograms.latency_us, BLUE_),
        ("time to first byte", &r.histograms.ttfb_us, ORANGE),
    ] {
        if let Some(h) = hdr::decode(b64.as_deref()) {
            let points = hdr::percentile_curve_ms(&h);
            if !points.is_empty() {
                curves.push(crate::nines::Curve {
                    name: name.into(),
                    color,
                    points,
                });
            }
        }
    }
    (!curves.is_empty()).then(|| crate::nines::percentiles(&curves))
}

/// Stages by mean, longest first, as the summary lists them.
/// The stages the target reported per response (`Server-Timing`) or in
/// its histogram, slowest first; the spans' stages have a section of their
/// own.
pub fn stages_by_mean(r: &RunResult) -> Vec<(&String, &genbench_model::StageSummaryMs)> {
    let mut v: Vec<_> = reported(r).collect();
    v.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean).then(a.0.cmp(b.0)));
    v
}

fn reported(r: &RunResult) -> impl Iterator<Item = (&String, &genbench_model::StageSummaryMs)> {
    r.stages
        .iter()
        .filter(|(_, s)| s.source != Some(genbench_model::StageSource::Traces))
}

/// Server-Timing's conventional name for the whole request, which would
/// dwarf its parts in the chart; the table still lists it.
pub const TOTAL: &str = "total";

/// Mean time of the whole request that no named stage accounts for
/// (queueing for a slot, work between stages): `total` minus the stages'
/// means, when every stage was reported by every response `total` was, so
/// the means are over the same requests.
pub fn unaccounted_ms(r: &RunResult) -> Option<f64> {
    let total = r.stages.get(TOTAL)?;
    let parts: Vec<_> = reported(r).filter(|(n, _)| n.as_str() != TOTAL).collect();
    if parts.is_empty() || parts.iter().any(|(_, s)| s.count != total.count) {
        return None;
    }
    let rest = total.mean - parts.iter().map(|(_, s)| s.mean).sum::<f64>();
    (rest > 0.0).then_some(rest)
}

pub fn stages(r: &RunResult) -> Option<Svg> {
    let mut bars: Vec<(String, f64, Option<f64>)> = stages_by_mean(r)
        .into_iter()
        .filter(|(n, _)| n.as_str() != TOTAL)
        .map(|(n, s)| (n.clone(), s.mean, Some(s.p95)))
        .collect();
    if let Some(rest) = unaccounted_ms(r) {
        bars.push(("(unaccounted)".into(), rest, None));
    }
    if bars.is_empty() {
        return None;
    }
    Some(chart::bars(&BarChart {
        y_desc: "ms".into(),
        bars,
        front_name: "mean".into(),
        back_name: Some("p95".into()),
        color: Some(BLUE_),
    }))
}

pub fn cache_hit_rate(r: &RunResult) -> Option<Svg> {
    let pts = tl(r, |p| p.cache_hit_rate.map(|v| v * 100.0));
    if pts.is_empty() {
        return None;
    }
    let mut series = vec![Series::new("hit rate", GREEN_, pts)];
    if let Some(overall) = r.cache.as_ref().and_then(|c| c.hit_rate) {
        let (a, b) = (r.timeline[0].t_s, r.timeline[r.timeline.len() - 1].t_s);
        series.push(
            Series::new(
                "over the run",
                GREY,
                vec![(a, overall * 100.0), (b, overall * 100.0)],
            )
            .dashed(),
        );
    }
    Some(chart::line(&LineChart::over_time(
        "cache hit rate (%)",
        series,
    )))
}

/// One series per watched process (target, harness) of a reading's field.
fn process_series(r: &RunResult, field: fn(&ProcessSample) -> f64) -> Vec<Series> {
    [
        ("target", &r.process.target, BLUE_),
        ("harness", &r.process.harness, ORANGE),
    ]
    .into_iter()
    .filter_map(|(name, p, color)| {
        let p = p.as_ref().filter(|p| !p.samples.is_empty())?;
        let pts = p.samples.iter().map(|s| (s.t_s, field(s))).collect();
        Some(Series::new(name, color, pts))
    })
    .collect()
}

pub fn cpu(r: &RunResult) -> Option<Svg> {
    let series = process_series(r, |s| s.cpu_pct);
    (!series.is_empty()).then(|| chart::line(&LineChart::over_time("CPU (% of one core)", series)))
}

/// The fitted leak line over the readings it was fitted to: OLS passes
/// through the mean reading, with the reported slope.
fn leak_line(r: &RunResult) -> Option<Series> {
    let l = r.leak.as_ref()?;
    let samples = &r.process.target.as_ref()?.samples;
    let kept: Vec<_> = samples
        .iter()
        .filter(|s| s.t_s >= l.warmup_excluded_s)
        .collect();
    let (first, last) = (kept.first()?, kept.last()?);
    let n = kept.len() as f64;
    let mean_t = kept.iter().map(|s| s.t_s).sum::<f64>() / n;
    let mean_rss = kept.iter().map(|s| s.rss_mib).sum::<f64>() / n;
    let at = |t: f64| mean_rss + l.slope_mib_per_h / 3600.0 * (t - mean_t);
    let name = format!("leak slope {:+.1} MiB/h", l.slope_mib_per_h);
    Some(
        Series::new(
            &name,
            RED_,
            vec![(first.t_s, at(first.t_s)), (last.t_s, at(last.t_s))],
        )
        .dashed(),
    )
}

pub fn rss(r: &RunResult) -> Option<Svg> {
    let mut series = process_series(r, |s| s.rss_mib);
    if series.is_empty() {
        return None;
    }
    series.extend(leak_line(r));
    let bands = r
        .leak
        .as_ref()
        .filter(|l| l.warmup_excluded_s > 0.0)
        .map(|l| Band {
            from: 0.0,
            to: l.warmup_excluded_s,
            label: "warm-up (excluded)".into(),
            color: GREY,
        })
        .into_iter()
        .collect();
    Some(chart::line(&LineChart {
        bands,
        ..LineChart::over_time("RSS (MiB)", series)
    }))
}

pub fn capacity(r: &RunResult) -> Option<Svg> {
    let c = r.capacity.as_ref().filter(|c| !c.steps.is_empty())?;
    let step = |f: &dyn Fn(&genbench_model::CapacityStep) -> Option<f64>| -> Vec<(f64, f64)> {
        c.steps
            .iter()
            .filter_map(|s| f(s).map(|v| (s.target_rps, v)))
            .collect()
    };
    let series = vec![
        Series::new("achieved req/s", BLUE_, step(&|s| Some(s.achieved_rps))),
        Series::new("offered = achieved", GREY, step(&|s| Some(s.target_rps))).dashed(),
        Series::new("p95 (ms)", ORANGE, step(&|s| s.p95_ms)).right(),
        Series::new(
            "error rate (%)",
            RED_,
            step(&|s| Some(s.error_rate * 100.0)),
        )
        .right(),
    ];
    let mut markers = Vec::new();
    if let Some(k) = c.knee_rps {
        markers.push(Marker {
            x: k,
            label: format!("knee {k} req/s"),
            color: PURPLE,
        });
    }
    if let Some(m) = c.max_sustainable_rps {
        markers.push(Marker {
            x: m,
            label: format!("max sustainable {m} req/s"),
            color: GREEN_,
        });
    }
    Some(chart::line(&LineChart {
        x_desc: "offered rate (req/s)".into(),
        y_desc: "achieved rate (req/s)".into(),
        y2_desc: Some("p95 (ms)".into()),
        series,
        markers,
        dots: true,
        ..Default::default()
    }))
}

pub fn spike(r: &RunResult) -> Option<Svg> {
    let s = r.spike.as_ref()?;
    let mut series = vec![
        Series::new("p95", ORANGE, tl(r, |p| p.p95_ms)),
        Series::new("responses/s", BLUE_, tl(r, |p| Some(p.rps))).right(),
        Series::new("errors/s", RED_, tl(r, |p| Some(p.errors as f64))).right(),
    ];
    if let Some(b) = s.baseline_p95_ms {
        let (a, z) = (r.timeline.first()?.t_s, r.timeline.last()?.t_s);
        series.push(Series::new("pre-burst p95", GREY, vec![(a, b), (z, b)]).dashed());
    }
    let mut markers = Vec::new();
    if let Some(rec) = s.recovery_s {
        markers.push(Marker {
            x: s.burst_end_s + rec,
            label: format!("recovered after {rec:.0} s"),
            color: GREEN_,
        });
    }
    Some(chart::line(&LineChart {
        y2_desc: Some("req/s, errors/s".into()),
        bands: vec![Band {
            from: s.burst_start_s,
            to: s.burst_end_s,
            label: "burst".into(),
            color: RED_,
        }],
        markers,
        ..LineChart::over_time("p95 (ms)", series)
    }))
}

pub fn cost(r: &RunResult) -> Option<Svg> {
    let c = r.cost.as_ref()?;
    let mut bars: Vec<(String, f64, Option<f64>)> = c
        .by_model
        .iter()
        .map(|(m, usd)| (m.clone(), *usd, None))
        .collect();
    if c.search_calls > 0 || c.search_usd > 0.0 {
        bars.push((
            format!("search ({} calls)", c.search_calls),
            c.search_usd,
            None,
        ));
    }
    if bars.is_empty() {
        return None;
    }
    Some(chart::bars(&BarChart {
        y_desc: "USD over the run".into(),
        bars,
        front_name: "cost".into(),
        back_name: None,
        color: Some(PALETTE[2]),
    }))
}

#[cfg(test)]
mod tests {
    use genbench_model::StageSummaryMs;

    use super::*;

    fn with_stages(stages: &[(&str, f64, u64)]) -> RunResult {
        let mut r = RunResult::example("s", genbench_model::ScenarioKind::Stress);
        r.started_at = String::new();
        for (name, mean, count) in stages {
            let s = StageSummaryMs {
                mean: *mean,
                p50: *mean,
                p95: *mean,
                p99: *mean,
                count: *count,
                source: None,
            };
            r.stages.insert(name.to_string(), s);
        }
        r
    }

    #[test]
    fn unaccounted_time_is_the_total_less_its_parts_over_the_same_requests() {
        let queued = with_stages(&[
            ("total", 1000.0, 10),
            ("llm", 600.0, 10),
            ("search", 100.0, 10),
        ]);
        assert_eq!(unaccounted_ms(&queued), Some(300.0));
        // Stages on cache misses only: their means are over other requests.
        let cached = with_stages(&[("total", 1000.0, 10), ("llm", 600.0, 4)]);
        assert_eq!(unaccounted_ms(&cached), None);
        assert_eq!(unaccounted_ms(&with_stages(&[("llm", 600.0, 4)])), None);
        let exact = with_stages(&[("total", 700.0, 10), ("llm", 700.0, 10)]);
        assert_eq!(unaccounted_ms(&exact), None);
    }
}
