//! The latency distribution chart: percentiles on a "nines" axis, so the
//! tail (99%, 99.9%) gets as much room as the median.

use plotters::prelude::*;

use crate::chart::{FONT, Svg, draw_root, err, extent, frame, legend, legend_line, tick};

/// One run's latency distribution: (percentile 0-100, latency ms) points.
#[derive(Debug, Clone)]
pub struct Curve {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// The x position of a percentile on the "nines" axis: 1 / (1 - p), so
/// 90%, 99% and 99.9% are evenly spaced on a log scale.
pub fn nines(percentile: f64) -> f64 {
    1.0 / (1.0 - (percentile / 100.0).min(0.999_999))
}

fn nines_label(x: &f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// HDR-style percentile curves: percentile on a log "nines" axis, latency
/// on a log axis, so the body and the tail are both readable.
pub fn percentiles(curves: &[Curve]) -> Svg {
    let xs = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| nines(p.0)));
    let x_hi = extent(xs).map_or(10.0, |e| e.1).max(10.0);
    let ys = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0);
    let (y_lo, y_hi) = extent(ys).unwrap_or((0.1, 1.0));
    let (y_lo, y_hi) = (y_lo * 0.8, (y_hi * 1.25).max(y_lo * 2.0));
    let mut buf = String::new();
    draw_root(&mut buf, |root| {
        let mut chart = frame(root, 64)
            .build_cartesian_2d((1.0..x_hi).log_scale(), (y_lo..y_hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .x_label_formatter(&nines_label)
            .y_label_formatter(&tick)
            .label_style((FONT, 12))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for c in curves {
            let pts: Vec<(f64, f64)> = c
                .points
                .iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| (nines(p.0), p.1))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, c.color.stroke_width(2)))
                .map_err(err)?
                .label(c.name.as_str())
                .legend(legend_line(c.color));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels_read_as_percentiles() {
        assert_eq!(nines_label(&nines(90.0)), "90%");
        assert_eq!(nines_label(&nines(99.9)), "99.9%");
        assert_eq!(nines_label(&1.0), "0%");
    }
}
