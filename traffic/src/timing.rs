//! When each row of a replay is sent: the trace's own times, from the
//! window's start, divided by the time scale, pass after pass; a rate cap
//! holds a row back until the one before it is `1 / cap` seconds gone.
//! Pure: offsets from the run's start, so nothing drifts and segments of
//! one replay agree row for row.

use crate::row::{Row, TraceError};
use crate::scan::{Scanned, Source, Window};

/// How a replay's rows are timed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// 2.0 sends twice as fast as the trace.
    pub time_scale: f64,
    /// Requests per second at most.
    pub rate_cap: Option<f64>,
    pub window: Window,
    /// Times the window is replayed (`loop`).
    pub passes: u32,
}

/// One row with its times, in seconds from the run's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    /// Its place among every row this replay sends, over all passes.
    pub index: u64,
    /// When the trace says it goes, scaled.
    pub trace_s: f64,
    /// When it is scheduled: `trace_s`, or later where the cap holds it.
    pub send_s: f64,
    pub row: Row,
}

impl Timing {
    /// Seconds one pass lasts, scaled: the window's duration if it has one,
    /// else its span and one mean gap, so passes do not overlap.
    pub fn pass_s(&self, scanned: &Scanned) -> f64 {
        let trace = match self.window.duration_s {
            Some(d) => d,
            None if scanned.window_rows > 1 => {
                let gap = scanned.window_span_s / (scanned.window_rows - 1) as f64;
                scanned.window_span_s + gap
            }
            None => 1.0,
        };
        trace / self.time_scale
    }
}

/// Every row a replay sends, timed, in order.
pub struct Times {
    timing: Timing,
    source: Source,
    pass_s: f64,
    pass: u32,
    rows: Option<Box<dyn Iterator<Item = Result<Row, TraceError>> + Send>>,
    first_s: Option<f64>,
    index: u64,
    last_send: Option<f64>,
}

impl Times {
    pub fn new(timing: Timing, scanned: &Scanned) -> Self {
        Times {
            timing,
            source: scanned.source.clone(),
            pass_s: timing.pass_s(scanned),
            pass: 0,
            rows: None,
            first_s: None,
            index: 0,
            last_send: None,
        }
    }

    /// The next row of the window on this pass, or `None` at its end.
    fn next_in_pass(&mut self) -> Option<Result<(f64, Row), TraceError>> {
        let rows = match &mut self.rows {
            Some(r) => r,
            None => match self.source.rows() {
                Ok(r) => self.rows.insert(r),
                Err(e) => return Some(Err(e)),
            },
        };
        let w = self.timing.window;
        for row in rows.by_ref() {
            let row = match row {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let offset = row.at_s - *self.first_s.get_or_insert(row.at_s);
            if w.holds(offset) {
                return Some(Ok((offset - w.start_s, row)));
            }
            if w.duration_s.is_some_and(|d| offset >= w.start_s + d) {
                break;
            }
        }
        None
    }
}

impl Iterator for Times {
    type Item = Result<Timed, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pass < self.timing.passes {
            match self.next_in_pass() {
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok((offset_s, row))) => {
                    let trace_s =
                        f64::from(self.pass) * self.pass_s + offset_s / self.timing.time_scale;
                    let send_s = match (self.timing.rate_cap, self.last_send) {
                        (Some(cap), Some(last)) => trace_s.max(last + 1.0 / cap),
                        _ => trace_s,
                    };
                    self.last_send = Some(send_s);
                    self.index += 1;
                    return Some(Ok(Timed {
                        index: self.index - 1,
                        trace_s,
                        send_s,
                        row,
                    }));
                }
                None => {
                    self.pass += 1;
                    self.rows = None;
                    self.first_s = None;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scan::Counts;

    fn scanned(times: &[f64]) -> Scanned {
        let rows: Vec<Row> = times
            .iter()
            .enumerate()
            .map(|(i, t)| Row {
                line: i as u64 + 1,
                at_s: *t,
                ..Row::default()
            })
            .collect();
        Scanned {
            rows: rows.len() as u64,
            window_rows: rows.len() as u64,
            first_s: times[0],
            window_span_s: times[times.len() - 1] - times[0],
            counts: Counts::default(),
            credentials_dropped: 0,
            source: Source::Sorted(Arc::new(rows)),
        }
    }

    fn timing(scale: f64, cap: Option<f64>, window: Window, passes: u32) -> Timing {
        Timing {
            time_scale: scale,
            rate_cap: cap,
            window,
            passes,
        }
    }

    fn sends(t: Timing, s: &Scanned) -> Vec<(f64, f64)> {
        Times::new(t, s)
            .map(|x| x.map(|x| (x.trace_s, x.send_s)).unwrap())
            .collect()
    }

    #[test]
    fn scaled_from_the_first_row_and_looped_without_overlap() {
        let s = scanned(&[100.0, 101.0, 103.0]);
        let t = sends(timing(2.0, None, Window::ALL, 2), &s);
        // A pass is the span (3 s) and a mean gap (1.5 s), halved.
        let want = [0.0, 0.5, 1.5, 2.25, 2.75, 3.75];
        assert_eq!(t.iter().map(|x| x.0).collect::<Vec<_>>(), want);
        assert!(t.iter().all(|(a, b)| a == b));
    }

    #[test]
    fn a_window_cuts_and_a_cap_holds_back() {
        let s = scanned(&[0.0, 1.0, 2.0, 2.1, 2.2, 9.0]);
        let w = Window {
            start_s: 1.0,
            duration_s: Some(2.0),
        };
        let t = sends(timing(1.0, Some(5.0), w, 1), &s);
        assert_eq!(t.len(), 4);
        let trace: Vec<f64> = t.iter().map(|x| x.0).collect();
        let sent: Vec<f64> = t.iter().map(|x| x.1).collect();
        assert_eq!(trace, [0.0, 1.0, 1.1, 1.2000000000000002]);
        assert_eq!(sent, [0.0, 1.0, 1.2, 1.4]);
        let twice = sends(timing(1.0, None, w, 2), &s);
        assert_eq!(twice[4].0, 2.0, "a window with a duration is that long");
    }
}
