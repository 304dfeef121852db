//! Spike: errors and p95 during the burst, and how long after it p95 takes
//! to come back to what it was before.

use genbench_model::{Spike, TimelinePoint};

use super::windows::Window;

/// What the caller merged over the windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeMeasure {
    pub burst: Window,
    /// p95 over the base-rate seconds before the burst.
    pub baseline_p95_ms: Option<f64>,
    pub burst_p95_ms: Option<f64>,
    pub burst_errors: u64,
}

/// Seconds in a row within tolerance that count as recovered: one quiet
/// second at a low base rate proves little.
pub const RECOVERED_FOR_S: usize = 3;

/// Recovery is the start of the first run of [`RECOVERED_FOR_S`] seconds
/// after the burst whose p95 is within `factor` × the baseline p95, measured
/// from the burst's end. Seconds with no successful response neither break
/// nor extend a run. `None` if p95 never came back before the run ended.
pub fn spike(m: SpikeMeasure, timeline: &[TimelinePoint], factor: f64) -> Spike {
    let recovery_s = m.baseline_p95_ms.and_then(|base| {
        let limit = base * factor;
        let mut run: Vec<f64> = Vec::new();
        for p in timeline.iter().filter(|p| p.t_s > m.burst.end_s) {
            let Some(p95) = p.p95_ms else { continue };
            if p95 <= limit {
                // The interval that ends at t_s started one second earlier.
                run.push(p.t_s - 1.0);
                if run.len() == RECOVERED_FOR_S {
                    return Some((run[0] - m.burst.end_s).max(0.0));
                }
            } else {
                run.clear();
            }
        }
        None
    });
    Spike {
        recovery_s,
        errors_during_burst: m.burst_errors,
        p95_during_burst_ms: m.burst_p95_ms.unwrap_or(0.0),
        baseline_p95_ms: m.baseline_p95_ms,
        burst_start_s: m.burst.start_s,
        burst_end_s: m.burst.end_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(p95s: &[Option<f64>]) -> Vec<TimelinePoint> {
        p95s.iter()
            .enumerate()
            .map(|(i, p)| TimelinePoint {
                t_s: i as f64 + 1.0,
                p95_ms: *p,
                ..Default::default()
            })
            .collect()
    }

    fn measure() -> SpikeMeasure {
        SpikeMeasure {
            burst: Window {
                start_s: 3.0,
                end_s: 5.0,
            },
            baseline_p95_ms: Some(100.0),
            burst_p95_ms: Some(900.0),
            burst_errors: 4,
        }
    }

    #[test]
    fn recovery_counts_from_the_burst_end_to_a_settled_p95() {
        let s = Some;
        // Seconds 5..: 800, 400, 110 (ok), 300 (breaks), 100, none, 120, 90.
        let t = timeline(&[
            s(100.0),
            s(100.0),
            s(900.0),
            s(950.0),
            s(900.0),
            s(800.0),
            s(400.0),
            s(110.0),
            s(300.0),
            s(100.0),
            None,
            s(120.0),
            s(90.0),
        ]);
        let r = spike(measure(), &t, 1.25);
        // The settled run starts with the interval [9, 10).
        assert_eq!(r.recovery_s, Some(4.0));
        assert_eq!(r.errors_during_burst, 4);
        assert_eq!((r.burst_start_s, r.burst_end_s), (3.0, 5.0));
    }

    #[test]
    fn no_recovery_before_the_end_is_null() {
        let t = timeline(
            &[Some(100.0); 5]
                .iter()
                .copied()
                .chain([Some(500.0); 10])
                .collect::<Vec<_>>(),
        );
        assert_eq!(spike(measure(), &t, 1.25).recovery_s, None);
    }
}
