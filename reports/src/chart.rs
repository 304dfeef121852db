//! Charts as inline SVG strings, drawn with plotters' SVG backend only: no
//! font library is linked, the browser lays out the text. Each function
//! takes plain numbers, so the HTML renderers decide what to show and this
//! module only how.

use plotters::chart::DualCoordChartContext;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::decimate;

pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 300;
/// Points per series: two per pixel column is all a chart can show.
const MAX_POINTS: usize = 2 * WIDTH as usize;
pub(crate) const FONT: &str = "sans-serif";

pub const BLUE_: RGBColor = RGBColor(31, 119, 180);
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub const GREEN_: RGBColor = RGBColor(44, 160, 44);
pub const RED_: RGBColor = RGBColor(214, 39, 40);
pub const PURPLE: RGBColor = RGBColor(148, 103, 189);
pub const GREY: RGBColor = RGBColor(127, 127, 127);
pub const BROWN: RGBColor = RGBColor(140, 86, 75);
pub const PINK: RGBColor = RGBColor(227, 119, 194);

/// Colours for series that have no meaning of their own (runs, models).
pub const PALETTE: [RGBColor; 8] = [BLUE_, ORANGE, GREEN_, RED_, PURPLE, BROWN, PINK, GREY];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Left,
    Right,
}

/// How a series longer than the chart is wide is thinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thin {
    /// Each bucket's lowest and highest point: spikes survive (memory,
    /// errors, CPU).
    MinMax,
    /// Each window's median: the trend of a noisy series (per-second
    /// percentiles of a long run).
    Median,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    Solid,
    Dashed,
    /// No line: each point a dot (one request each).
    Dots,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub axis: Axis,
    pub stroke: Stroke,
    pub thin: Thin,
    pub points: Vec<(f64, f64)>,
}

/// Points a median-thinned series keeps: one per 2 pixels is a readable
/// trend.
pub const MEDIAN_POINTS: usize = WIDTH as usize / 2;

impl Series {
    pub fn new(name: &str, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.to_string(),
            color,
            axis: Axis::Left,
            stroke: Stroke::Solid,
            thin: Thin::MinMax,
            points,
        }
    }

    pub fn median(mut self) -> Self {
        self.thin = Thin::Median;
        self
    }

    pub fn right(mut self) -> Self {
        self.axis = Axis::Right;
        self
    }

    pub fn dashed(mut self) -> Self {
        self.stroke = Stroke::Dashed;
        self
    }

    pub fn dots(mut self) -> Self {
        self.stroke = Stroke::Dots;
        self
    }
}

/// A shaded stretch of the x axis (a burst, a warm-up).
#[derive(Debug, Clone)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
    pub color: RGBColor,
}

/// A vertical line at an x value (the knee, the recovery).
#[derive(Debug, Clone)]
pub struct Marker {
    pub x: f64,
    pub label: String,
    pub color: RGBColor,
}

/// A line chart over a linear x axis, with an optional right-hand axis.
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    pub x_desc: String,
    pub y_desc: String,
    /// Set when any series is on the right axis.
    pub y2_desc: Option<String>,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    pub markers: Vec<Marker>,
    /// Draw each point as a dot too (few points, such as stress steps).
    pub dots: bool,
}

impl LineChart {
    /// A chart over the run's seconds, the x axis of every timeline.
    pub fn over_time(y_desc: &str, series: Vec<Series>) -> Self {
        LineChart {
            x_desc: "seconds into the run".into(),
            y_desc: y_desc.into(),
            series,
            ..Default::default()
        }
    }
}

/// What a chart function returns when a chart cannot be drawn; the report
/// shows the reason in the chart's place.
pub type Svg = Result<String, String>;

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("chart could not be drawn: {e:?}")
}

/// Axis tick labels without plotters' trailing ".0".
pub(crate) fn tick(v: &f64) -> String {
    let s = if v.abs() >= 100.0 || *v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub(crate) fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A y range from zero with headroom, never empty.
fn y_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = extent(values).unwrap_or((0.0, 1.0));
    let lo = lo.min(0.0);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    lo..hi + (hi - lo) * 0.08
}

fn x_range(c: &LineChart) -> std::ops::Range<f64> {
    let xs = c.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let xs = xs.chain(c.bands.iter().flat_map(|b| [b.from, b.to]));
    let (lo, hi) = extent(xs.chain(c.markers.iter().map(|m| m.x))).unwrap_or((0.0, 1.0));
    if hi > lo { lo..hi } else { lo..lo + 1.0 }
}

pub(crate) fn draw_root(
    buf: &mut String,
    f: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Svg {
    {
        let root = SVGBackend::with_string(buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        f(&root)?;
        root.present().map_err(err)?;
    }
    Ok(std::mem::take(buf))
}

/// Every chart's frame: its margin and the label areas below and to the
/// left (`y_labels` px wide, for the left axis's tick labels).
pub(crate) fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    y_labels: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.margin(12)
        .x_label_area_size(36)
        .y_label_area_size(y_labels);
    b
}

/// The legend of the series drawn so far, in every chart's one style.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(GREY.mix(0.5))
        .draw()
        .map_err(err)
}

pub(crate) fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
}

/// A line chart's axes: a left and a right y over one x.
type Xy = Cartesian2d<RangedCoordf64, RangedCoordf64>;
type Dual<'a, 'b> = DualCoordChartContext<'a, SVGBackend<'b>, Xy, Xy>;

/// Draws `c`; series are decimated to what the width can show.
pub fn line(c: &LineChart) -> Svg {
    let xr = x_range(c);
    let on = |a: Axis| {
        c.series
            .iter()
            .filter(move |s| s.axis == a)
            .flat_map(|s| s.points.iter().map(|p| p.1))
    };
    let (yl, yr) = (y_range(on(Axis::Left)), y_range(on(Axis::Right)));
    let mut buf = String::new();
    draw_root(&mut buf, |root| {
        let mut chart = frame(root, 64)
            .right_y_label_area_size(if c.y2_desc.is_some() { 64 } else { 12 })
            .build_cartesian_2d(xr.clone(), yl.clone())
            .map_err(err)?
            .set_secondary_coord(xr.clone(), yr.clone());
        axes(&mut chart, c)?;
        bands_and_markers(&mut chart, c, &yl)?;
        for s in c.series.iter().filter(|s| s.stroke == Stroke::Dots) {
            dots(&mut chart, s)?;
        }
        for s in c.series.iter().filter(|s| s.stroke != Stroke::Dots) {
            line_series(&mut chart, s, c.dots)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

fn axes(chart: &mut Dual<'_, '_>, c: &LineChart) -> Result<(), String> {
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .y_desc(c.y_desc.as_str())
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style((FONT, 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    if let Some(d) = &c.y2_desc {
        chart
            .configure_secondary_axes()
            .y_desc(d.as_str())
            .y_label_formatter(&tick)
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Shaded spans and dashed vertical markers, under the series.
fn bands_and_markers<'a>(
    chart: &mut Dual<'a, '_>,
    c: &'a LineChart,
    yl: &std::ops::Range<f64>,
) -> Result<(), String> {
    for b in &c.bands {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(b.from, yl.start), (b.to, yl.end)],
                b.color.mix(0.15).filled(),
            )))
            .map_err(err)?
            .label(b.label.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], b.color.mix(0.3).filled())
            });
    }
    for m in &c.markers {
        chart
            .draw_series(DashedLineSeries::new(
                [(m.x, yl.start), (m.x, yl.end)],
                4,
                3,
                m.color.stroke_width(1),
            ))
            .map_err(err)?
            .label(m.label.as_str())
            .legend(legend_line(m.color));
    }
    Ok(())
}

/// A series of dots: points stand for requests, never thinned, drawn
/// under the lines.
fn dots(chart: &mut Dual<'_, '_>, s: &Series) -> Result<(), String> {
    let color = s.color;
    let dots = s
        .points
        .iter()
        .map(|&p| Circle::new(p, 2, color.mix(0.7).filled()));
    match s.axis {
        Axis::Left => chart.draw_series(dots),
        Axis::Right => chart.draw_secondary_series(dots),
    }
    .map_err(err)?
    .label(s.name.as_str())
    .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
    Ok(())
}

/// A solid or dashed line, thinned to what the width shows; with
/// `with_dots`, a dot on each point drawn.
fn line_series(chart: &mut Dual<'_, '_>, s: &Series, with_dots: bool) -> Result<(), String> {
    let pts = match s.thin {
        Thin::MinMax => decimate::min_max(&s.points, MAX_POINTS),
        Thin::Median => decimate::windowed_median(&s.points, MEDIAN_POINTS),
    };
    let style = s
        .color
        .stroke_width(if s.stroke == Stroke::Solid { 2 } else { 1 });
    let dashed = s.stroke == Stroke::Dashed;
    let anno = match (s.axis, dashed) {
        (Axis::Left, false) => chart.draw_series(LineSeries::new(pts.clone(), style)),
        (Axis::Left, true) => chart.draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style)),
        (Axis::Right, false) => chart.draw_secondary_series(LineSeries::new(pts.clone(), style)),
        (Axis::Right, true) => {
            chart.draw_secondary_series(DashedLineSeries::new(pts.clone(), 6, 4, style))
        }
    }
    .map_err(err)?;
    anno.label(s.name.as_str()).legend(legend_line(s.color));
    if with_dots {
        let dots = pts.iter().map(|&p| Circle::new(p, 3, s.color.filled()));
        match s.axis {
            Axis::Left => chart.draw_series(dots).map(|_| ()),
            Axis::Right => chart.draw_secondary_series(dots).map(|_| ()),
        }
        .map_err(err)?;
    }
    Ok(())
}

/// Bars by category; each category may carry a second, wider and lighter
/// bar behind the first (p95 behind the mean).
#[derive(Debug, Clone, Default)]
pub struct BarChart {
    pub y_desc: String,
    /// (category, value, value behind it)
    pub bars: Vec<(String, f64, Option<f64>)>,
    pub front_name: String,
    pub back_name: Option<String>,
    pub color: Option<RGBColor>,
}

pub fn bars(c: &BarChart) -> Svg {
    let n = c.bars.len().max(1) as u32;
    let yr = y_range(c.bars.iter().flat_map(|b| [b.1, b.2.unwrap_or(0.0)]));
    let color = c.color.unwrap_or(BLUE_);
    let names: Vec<&str> = c.bars.iter().map(|b| b.0.as_str()).collect();
    let label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => names
            .get(*i as usize)
            .map_or(String::new(), |s| s.to_string()),
        _ => String::new(),
    };
    let mut buf = String::new();
    draw_root(&mut buf, |root| {
        let mut chart = frame(root, 64)
            .build_cartesian_2d((0u32..n).into_segmented(), yr.clone())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize)
            .x_label_formatter(&label)
            .y_label_formatter(&tick)
            .y_desc(c.y_desc.as_str())
            .label_style((FONT, 12))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let bar = |i: usize, v: f64, margin: u32, style: ShapeStyle| {
            let mut r = Rectangle::new(
                [
                    (SegmentValue::Exact(i as u32), 0.0),
                    (SegmentValue::Exact(i as u32 + 1), v),
                ],
                style,
            );
            r.set_margin(0, 0, margin, margin);
            r
        };
        if let Some(back) = &c.back_name {
            let behind = c
                .bars
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.2.map(|v| bar(i, v, 8, color.mix(0.3).filled())));
            chart
                .draw_series(behind)
                .map_err(err)?
                .label(back.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], color.mix(0.3).filled())
                });
        }
        let front = c
            .bars
            .iter()
            .enumerate()
            .map(|(i, b)| bar(i, b.1, 20, color.filled()));
        chart
            .draw_series(front)
            .map_err(err)?
            .label(c.front_name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], color.filled()));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// Labelled points; `front` (indices into `points`, by x) is joined by a
/// step line and drawn larger.
#[derive(Debug, Clone, Default)]
pub struct Scatter {
    pub x_desc: String,
    pub y_desc: String,
    pub points: Vec<(String, f64, f64)>,
    pub front: Vec<usize>,
}

pub fn scatter(c: &Scatter) -> Svg {
    let xr = y_range(c.points.iter().map(|p| p.1));
    let yr = y_range(c.points.iter().map(|p| p.2));
    let mut buf = String::new();
    draw_root(&mut buf, |root| {
        let mut chart = frame(root, 72)
            .build_cartesian_2d(xr.clone(), yr.clone())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(c.x_desc.as_str())
            .y_desc(c.y_desc.as_str())
            .x_label_formatter(&tick)
            .y_label_formatter(&|v| crate::fmt::usd(*v))
            .label_style((FONT, 12))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let mut step = Vec::new();
        for w in c.front.windows(2) {
            let (a, b) = (&c.points[w[0]], &c.points[w[1]]);
            step.extend([(a.1, a.2), (b.1, a.2), (b.1, b.2)]);
        }
        if step.is_empty() {
            step.extend(c.front.iter().map(|&i| (c.points[i].1, c.points[i].2)));
        }
        // No legend: it would cover points; the caption says what the
        // line is.
        chart
            .draw_series(LineSeries::new(step, GREEN_.stroke_width(2)))
            .map_err(err)?;
        for (i, (name, x, y)) in c.points.iter().enumerate() {
            let on_front = c.front.contains(&i);
            let color = PALETTE[i % PALETTE.len()];
            let r = if on_front { 6 } else { 4 };
            chart
                .draw_series([EmptyElement::at((*x, *y))
                    + Circle::new((0, 0), r, color.filled())
                    + Text::new(name.clone(), (8, -8), (FONT, 12))])
                .map_err(err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drop_trailing_zeros() {
        assert_eq!(tick(&2000.0), "2000");
        assert_eq!(tick(&0.25), "0.25");
        assert_eq!(tick(&0.0025), "0.003");
        assert_eq!(tick(&1.5), "1.5");
    }

    #[test]
    fn a_chart_with_no_points_still_draws() {
        let svg = line(&LineChart {
            x_desc: "s".into(),
            y_desc: "ms".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(svg.contains("<svg"));
    }
}
