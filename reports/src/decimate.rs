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

/// Reduces `points` (sorted by x) to at most `limit` points, each the
/// median y of an equal-count window at the window's middle x: a trend for
/// series whose second-to-second noise would otherwise fill the chart
/// (per-second percentiles of a long run at a low rate).
pub fn windowed_median(points: &[(f64, f64)], limit: usize) -> Vec<(f64, f64)> {
    let limit = limit.max(1);
    if points.len() <= limit {
        return points.to_vec();
    }
    let window = points.len().div_ceil(limit);
    points
        .chunks(window)
        .map(|chunk| {
            let mut ys: Vec<f64> = chunk.iter().map(|p| p.1).collect();
            ys.sort_by(f64::total_cmp);
            (chunk[chunk.len() / 2].0, ys[ys.len() / 2])
        })
        .collect()
}

/// Seconds per window `windowed_median` uses for `n` points.
pub fn window_len(n: usize, limit: usize) -> usize {
    if n <= limit.max(1) {
        1
    } else {
        n.div_ceil(limit.max(1))
    }
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

    proptest! {
        #[test]
        fn medians_stay_within_their_windows(
            ys in prop::collection::vec(-1e6f64..1e6, 1..3000),
            limit in 1usize..500,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let out = windowed_median(&pts, limit);
            prop_assert!(out.len() <= limit.max(1));
            prop_assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
            let w = window_len(pts.len(), limit);
            for (i, p) in out.iter().enumerate() {
                let chunk = &pts[i * w..((i + 1) * w).min(pts.len())];
                prop_assert!(chunk.iter().any(|c| c.0 == p.0));
                let lo = chunk.iter().map(|c| c.1).fold(f64::MAX, f64::min);
                let hi = chunk.iter().map(|c| c.1).fold(f64::MIN, f64::max);
                prop_assert!(p.1 >= lo && p.1 <= hi);
            }
        }
    }

    #[test]
    fn short_series_pass_through() {
        let pts = vec![(0.0, 1.0), (1.0, 5.0), (2.0, 3.0)];
        assert_eq!(min_max(&pts, 10), pts);
    }
}
