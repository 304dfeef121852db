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
}

impl WindowSet {
    pub fn new(windows: impl IntoIterator<Item = Window>) -> Self {
        WindowSet {
            windows: windows
                .into_iter()
                .map(|w| (w, Recorder::default()))
                .collect(),
        }
    }

    /// Merges the recording of interval `[start_s, end_s)` into every
    /// window that wholly contains it.
    pub fn add(&mut self, start_s: f64, end_s: f64, rec: &Recorder) {
        const EPS: f64 = 1e-9;
        for (w, r) in &mut self.windows {
            if start_s + EPS >= w.start_s && end_s <= w.end_s + EPS {
                r.merge(rec);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Window, Recorder)> {
        self.windows.iter()
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
    }
}
