//! Fewer points for a chart than a long run has seconds: a 2-hour soak has
//! 7,200 timeline points for a chart 900 pixels wide. Min-max decimation
//! keeps each bucket's lowest and highest point, so spikes and dips survive
//! where averaging would hide them.

/// Reduces `points` (sorted by x) to at most `limit` points (at least 4),
/// keeping the lowest and highest y of each of `limit / 2` equal-count
/// buckets, in x order.
pub fn min_max(points: &[(f64, f64)], limit: usize) -> Vec<(f64, f64)> {
    let limit = limit.max(4);
    if points.len() <= limit {
        return points.to_vec();
    }
    let buckets = limit / 2;
    let mut out = Vec::with_capacity(limit);
    for b in 0..buckets {
        let lo = b * points.len() / buckets;
        let hi = (b + 1) * points.len() / buckets;
        let chunk = &points[lo..hi];
        let (mut min_i, mut max_i) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[min_i].1 {
                min_i = i;
            }
            if p.1 > chunk[max_i].1 {
                max_i = i;
            }
        }
        let (first, second) = if min_i <= max_i {
            (min_i, max_i)
        } else {
            (max_i, min_i)
        };
        out.push(chunk[first]);
        if second != first {
            out.push(chunk[second]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn keeps_extremes_order_and_limit(
            ys in prop::collection::vec(-1e6f64..1e6, 0..3000),
            limit in 4usize..500,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let out = min_max(&pts, limit);
            prop_assert!(out.len() <= limit.max(pts.len().min(limit)));
            prop_assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
            prop_assert!(out.iter().all(|p| pts.contains(p)));
            if !pts.is_empty() {
                let max = ys.iter().cloned().fold(f64::MIN, f64::max);
                let min = ys.iter().cloned().fold(f64::MAX, f64::min);
                prop_assert!(out.iter().any(|p| p.1 == max));
                prop_assert!(out.iter().any(|p| p.1 == min));
            }
        }
    }

    #[test]
    fn short_series_pass_through() {
        let pts = vec![(0.0, 1.0), (1.0, 5.0), (2.0, 3.0)];
        assert_eq!(min_max(&pts, 10), pts);
    }
}
