//! The Pareto front of configurations where lower is better on both axes
//! (p95 latency and cost per article): the ones no other beats on both.

/// `a` dominates `b`: no worse on either axis and better on one.
pub fn dominates(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1)
}

/// Indices of the non-dominated points, by increasing x. Points with a
/// non-finite coordinate are never on the front; equal points all are.
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| {
            !points
                .iter()
                .filter(|q| finite(q))
                .any(|&q| dominates(q, points[i]))
        })
        .collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    idx
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_cheapest_and_the_fastest_and_the_balanced() {
        // (p95 ms, $ per article)
        let pts = [
            (900.0, 0.010),
            (400.0, 0.030),
            (600.0, 0.012),
            (950.0, 0.011),
            (400.0, 0.031),
        ];
        assert_eq!(front(&pts), vec![1, 2, 0]);
    }

    proptest! {
        #[test]
        fn front_is_exactly_the_undominated(
            pts in prop::collection::vec((0u8..20, 0u8..20), 0..40)
        ) {
            let pts: Vec<(f64, f64)> = pts.iter().map(|&(a, b)| (a as f64, b as f64)).collect();
            let f = front(&pts);
            for (i, &p) in pts.iter().enumerate() {
                let dominated = pts.iter().any(|&q| dominates(q, p));
                prop_assert_eq!(f.contains(&i), !dominated);
            }
            prop_assert!(f.windows(2).all(|w| pts[w[0]].0 <= pts[w[1]].0));
            if !pts.is_empty() {
                prop_assert!(!f.is_empty());
            }
        }
    }
}
