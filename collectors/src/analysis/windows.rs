//! Recordings merged over windows of the run (a stress step, the seconds
//! before a burst, the burst), one second at a time as the run goes, so no
//! per-second recording has to be kept.

use crate::Recorder;

/// `[start_s, end_s)` from the run's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Debug, Default)]
pub struct WindowSet {
    windows: Vec<(Window, Recorder)>,
    /// Seconds of recording merged into each window.
    covered_s: Vec<f64>,
}

impl WindowSet {
    pub fn new(windows: impl IntoIterator<Item = Window>) -> Self {
        let windows: Vec<(Window, Recorder)> = windows
            .into_iter()
            .map(|w| (w, Recorder::default()))
            .collect();
        WindowSet {
            covered_s: vec![0.0; windows.len()],
            windows,
        }
    }

    /// Merges the recording of interval `[start_s, end_s)` into every
    /// window that wholly contains it.
    pub fn add(&mut self, start_s: f64, end_s: f64, rec: &Recorder) {
        const EPS: f64 = 1e-9;
        for ((w, r), covered) in self.windows.iter_mut().zip(&mut self.covered_s) {
            if start_s + EPS >= w.start_s && end_s <= w.end_s + EPS {
                r.merge(rec);
                *covered += end_s - start_s;
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Window, Recorder)> {
        self.windows.iter()
    }

    /// Each window with its recording and the seconds that recording
    /// covers (whole intervals inside the window; rates divide by this).
    pub fn iter_covered(&self) -> impl Iterator<Item = (&Window, &Recorder, f64)> {
        self.windows
            .iter()
            .zip(&self.covered_s)
            .map(|((w, r), c)| (w, r, *c))
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Outcome, Sample};

    #[test]
    fn seconds_go_to_the_windows_that_hold_them() {
        let w = |a, b| Window {
            start_s: a,
            end_s: b,
        };
        let mut set = WindowSet::new([w(0.0, 2.0), w(2.0, 4.0), w(0.0, 4.0)]);
        let mut one = Recorder::default();
        one.record(&Sample {
            scheduled: Duration::ZERO,
            sent: Duration::ZERO,
            first_byte: None,
            end: Duration::from_millis(5),
            outcome: Outcome::Ok(200),
            bytes: 1,
            cache: None,
        });
        for k in 0..4 {
            set.add(k as f64, k as f64 + 1.0, &one);
        }
        // A second that straddles a window's end belongs to neither side.
        set.add(1.5, 2.5, &one);
        let oks: Vec<u64> = set.iter().map(|(_, r)| r.ok).collect();
        assert_eq!(oks, [2, 2, 5]);
        let covered: Vec<f64> = set.iter_covered().map(|(.., c)| c).collect();
        assert_eq!(covered, [2.0, 2.0, 5.0]);
    }
}
