//! The steady-state rate: successful responses per second over the
//! plateau, the seconds in which the load asked for its highest rate (or
//! most users), wholly inside the planned load, as vLLM's benchmark reads
//! its plateau window. The ramp and the drain are left out, which is why
//! it can differ from both `throughput_rps` and `completions_rps`.

use genbench_model::TimelinePoint;

/// (successful responses per second, [from, to] seconds into the run) over
/// the plateau of a run whose load was planned to last `load_s`.
pub fn steady(timeline: &[TimelinePoint], load_s: f64) -> Option<(f64, [f64; 2])> {
    let top = timeline
        .iter()
        .filter_map(|p| p.target_rate)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    if top <= 0.0 {
        return None;
    }
    let plateau: Vec<&TimelinePoint> = timeline
        .iter()
        .filter(|p| p.t_s <= load_s + 1e-9)
        .filter(|p| p.target_rate.is_some_and(|t| t >= top * (1.0 - 1e-9)))
        .collect();
    let (first, last) = (plateau.first()?, plateau.last()?);
    // Each point covers the second before its t_s.
    let ok: f64 = plateau
        .iter()
        .map(|p| (p.rps - p.errors as f64).max(0.0))
        .sum();
    Some((ok / plateau.len() as f64, [first.t_s - 1.0, last.t_s]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t_s: f64, target: f64, rps: f64, errors: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            target_rate: Some(target),
            rps,
            errors,
            ..Default::default()
        }
    }

    #[test]
    fn the_plateau_leaves_out_the_ramp_and_the_drain() {
        let tl = [
            p(1.0, 2.5, 2.0, 0),
            p(2.0, 7.5, 6.0, 0),
            p(3.0, 10.0, 10.0, 1),
            p(4.0, 10.0, 10.0, 0),
            p(5.0, 10.0, 11.0, 0),
            // The drain: the last answers after the planned 5 s.
            p(6.0, 10.0, 4.0, 0),
        ];
        let (rps, w) = steady(&tl, 5.0).unwrap();
        assert_eq!(w, [2.0, 5.0]);
        assert!((rps - 10.0).abs() < 1e-9, "{rps}");
        assert_eq!(steady(&[], 5.0), None);
        assert_eq!(steady(&[p(1.0, 0.0, 0.0, 0)], 5.0), None);
    }
}
