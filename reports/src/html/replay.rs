//! The replay section of `report.html`: which trace, how much of it was
//! sent, and how closely the sends kept the trace's times. Absent for runs
//! of the other load models.

use genbench_model::RunResult;

use super::page::{h2, para, table};
use crate::fmt::ms;

pub const DEFINITIONS: &str = "Each row of the trace was scheduled at its own time from the \
window's first row, divided by the time scale, and latency counts from that instant. Fidelity \
is how far each send fell after the trace's scaled instant (the worker's wake-up, and any \
hold by rate_cap); send lag, in the throughput section, is to the request's first byte.";

pub fn replay(o: &mut String, r: &RunResult) {
    let Some(rp) = &r.replay else { return };
    h2(o, "replay", "Replay");
    let mut rows = vec![
        vec!["trace".to_string(), format!("{} ({})", rp.file, rp.format)],
        vec![
            "rows".to_string(),
            format!(
                "{} sent of {} in the window ({} in the file)",
                rp.sent, rp.window_rows, rp.rows
            ),
        ],
        vec![
            "timing".to_string(),
            format!(
                "{} pass(es) at {}x over {:.1} s of the trace",
                rp.passes, rp.time_scale, rp.trace_span_s
            ),
        ],
    ];
    if let Some(f) = &rp.fidelity_ms {
        rows.push(vec![
            "fidelity".to_string(),
            format!("p50 {} · p99 {} · max {}", ms(f.p50), ms(f.p99), ms(f.max)),
        ]);
    }
    rows.push(vec![
        "held back by rate_cap".to_string(),
        rp.held_by_rate_cap.to_string(),
    ]);
    rows.push(vec![
        "credential headers not sent".to_string(),
        rp.credentials_dropped.to_string(),
    ]);
    if let Some(e) = &rp.error {
        rows.push(vec!["stopped early".to_string(), e.clone()]);
    }
    table(o, &["", ""], &rows);
    para(o, DEFINITIONS);
}
