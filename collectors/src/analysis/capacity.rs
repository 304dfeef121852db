//! Stress: the highest rate the target sustains within the SLO, and the
//! knee, where latency starts to climb.

use genbench_model::{Capacity, CapacityStep};

/// One constant-rate step as measured, with whether it met the SLO (the
/// caller judges; the SLO's expressions live with the scenario).
pub type StepMeasure = CapacityStep;

/// The maximum sustainable rate is the highest step that met the SLO with
/// every lower step meeting it too: a step that passes by luck after the
/// target has already broken is not capacity. The knee is found with the
/// Kneedle method on (rate, p95) — the step furthest below the straight line
/// from the first step to the last — and only when p95 rose by at least
/// 20% over the run, so a flat curve has no knee.
pub fn capacity(mut steps: Vec<StepMeasure>, slo: Vec<String>) -> Capacity {
    steps.sort_by(|a, b| a.target_rps.total_cmp(&b.target_rps));
    let max_sustainable_rps = steps
        .iter()
        .take_while(|s| s.meets_slo)
        .last()
        .map(|s| s.target_rps);
    Capacity {
        max_sustainable_rps,
        knee_rps: knee(&steps),
        slo,
        steps,
        search: None,
    }
}

fn knee(steps: &[StepMeasure]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = steps
        .iter()
        .filter_map(|s| Some((s.target_rps, s.p95_ms?)))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let ymin = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    if x1 <= x0 || ymax <= ymin {
        return None;
    }
    // The last step cannot be a knee: nothing after it shows a bend. A
    // knee must be followed by a rise of at least 20% over its own p95, so
    // noise or a warming cache (p95 falling) finds none.
    let (i, d) = pts[..pts.len() - 1]
        .iter()
        .enumerate()
        .filter(|(i, (_, y))| pts[i + 1..].iter().any(|(_, later)| *later >= y * 1.2))
        .map(|(i, (x, y))| (i, (x - x0) / (x1 - x0) - (y - ymin) / (ymax - ymin)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (d > 0.0).then_some(pts[i].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(rate: f64, p95: f64, meets: bool) -> StepMeasure {
        CapacityStep {
            target_rps: rate,
            achieved_rps: rate,
            p95_ms: Some(p95),
            meets_slo: meets,
            ..Default::default()
        }
    }

    #[test]
    fn capacity_is_the_last_step_before_the_slo_breaks() {
        let steps = vec![
            step(1.0, 100.0, true),
            step(2.0, 101.0, true),
            step(4.0, 103.0, true),
            step(8.0, 110.0, true),
            step(16.0, 180.0, true),
            step(32.0, 4000.0, false),
        ];
        let c = capacity(steps, vec!["p95 < 15s".into()]);
        assert_eq!(c.max_sustainable_rps, Some(16.0));
        assert_eq!(c.knee_rps, Some(16.0));
        // A gradual climb: the knee is the step furthest below the chord
        // from the first step to the last (Kneedle), not the first rise.
        let steps = vec![
            step(10.0, 100.0, true),
            step(20.0, 105.0, true),
            step(30.0, 300.0, true),
            step(40.0, 900.0, true),
            step(50.0, 2000.0, true),
        ];
        assert_eq!(capacity(steps, vec![]).knee_rps, Some(30.0));
        assert_eq!(c.steps.len(), 6);
    }

    #[test]
    fn a_lucky_step_after_a_break_is_not_capacity() {
        let steps = vec![
            step(4.0, 100.0, true),
            step(8.0, 900.0, false),
            step(16.0, 120.0, true),
        ];
        assert_eq!(capacity(steps, vec![]).max_sustainable_rps, Some(4.0));
        let none = capacity(vec![step(4.0, 100.0, false)], vec![]);
        assert_eq!(none.max_sustainable_rps, None);
    }

    #[test]
    fn a_flat_curve_has_no_knee() {
        let steps = (1..=5)
            .map(|i| step(f64::from(i), 100.0 + f64::from(i), true))
            .collect();
        assert_eq!(capacity(steps, vec![]).knee_rps, None);
    }
}
