//! The target's own series (`[collect.metrics]`): one chart each over the
//! run, beside throughput, and their figures in a table. Absent when the
//! scenario reads none.

use genbench_model::RunResult;

use super::page::{figure, h2, table};
use crate::chart::{self, LineChart, PALETTE, Series};
use crate::fmt::num;

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), num)
}

pub fn series(o: &mut String, r: &RunResult) {
    if r.series.is_empty() {
        return;
    }
    h2(o, "series", "The target's series");
    let rows: Vec<Vec<String>> = r
        .series
        .iter()
        .map(|(name, s)| {
            vec![
                name.clone(),
                s.kind.clone(),
                s.source.clone(),
                opt(s.min),
                opt(s.mean),
                opt(s.max),
                opt(s.last),
                s.failed_reads.to_string(),
            ]
        })
        .collect();
    table(
        o,
        &[
            "series",
            "kind",
            "read from",
            "min",
            "mean",
            "max",
            "last",
            "failed reads",
        ],
        &rows,
    );
    for (i, (name, s)) in r.series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = s.samples.iter().map(|p| (p.t_s, p.value)).collect();
        let unit = if s.kind == "rate" {
            " (per second)"
        } else {
            ""
        };
        let svg = (!pts.is_empty()).then(|| {
            chart::line(&LineChart::over_time(
                &format!("{name}{unit}"),
                vec![Series::new(name, PALETTE[i % PALETTE.len()], pts)],
            ))
        });
        figure(
            o,
            &format!("series-{name}"),
            &format!("{name}: {}, read once a second.", s.source),
            svg,
            &format!("No reading of {name} succeeded."),
        );
    }
}
