//! Recordings merged over windows of the run (a stress step, the seconds
//! before a burst, the burst), one second at a time as the run goes, so no
//! per-second recording has to be kept.

use genbench_model::{ErrorKind, WindowRecording};
use hdrhistogram::Histogram;

use crate::Recorder;
use crate::pool::{PoolError, decode_histogram};
use crate::summary::encode_histogram;

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

    /// Each window's recording as results.json keeps it; `rates`: each
    /// window's target rate, where it has one.
    pub fn recordings(&self, rates: &[Option<f64>]) -> Vec<WindowRecording> {
        let enc = |h: &Histogram<u64>| (!h.is_empty()).then(|| encode_histogram(h)).flatten();
        self.iter_covered()
            .enumerate()
            .map(|(i, (w, r, covered_s))| WindowRecording {
                start_s: w.start_s,
                end_s: w.end_s,
                covered_s,
                target_rps: rates.get(i).copied().flatten(),
                ok: r.ok,
                errors: ErrorKind::ALL
                    .iter()
                    .zip(r.errors)
                    .filter(|(_, n)| *n > 0)
                    .map(|(k, n)| (k.name().to_string(), n))
                    .collect(),
                goodput_met: r.goodput_met,
                latency_us: enc(&r.latency_us),
                ttfb_us: enc(&r.ttfb_us),
                ttft_us: enc(&r.llm.ttft_us),
                tpot_us: enc(&r.llm.tpot_us),
                itl_us: enc(&r.llm.itl_us),
            })
            .collect()
    }

    /// The windows of a result's recordings, to merge with others'.
    pub fn from_recordings(recs: &[WindowRecording]) -> Result<Self, PoolError> {
        let mut set = WindowSet::default();
        for (i, w) in recs.iter().enumerate() {
            let bad = || PoolError::BadHistogram(i + 1);
            let mut r = Recorder::default();
            (r.ok, r.goodput_met) = (w.ok, w.goodput_met);
            for (k, n) in &w.errors {
                let at = ErrorKind::ALL.iter().position(|x| x.name() == k);
                r.errors[at.unwrap_or(0)] += n;
            }
            for (into, from) in [
                (&mut r.latency_us, &w.latency_us),
                (&mut r.ttfb_us, &w.ttfb_us),
                (&mut r.llm.ttft_us, &w.ttft_us),
                (&mut r.llm.tpot_us, &w.tpot_us),
                (&mut r.llm.itl_us, &w.itl_us),
            ] {
                if let Some(b64) = from {
                    into.add(decode_histogram(b64).ok_or_else(bad)?)
                        .map_err(|_| bad())?;
                }
            }
            let window = Window {
                start_s: w.start_s,
                end_s: w.end_s,
            };
            set.windows.push((window, r));
            set.covered_s.push(w.covered_s);
        }
        Ok(set)
    }

    /// Adds `other`'s recordings window by window: the same scenario's
    /// windows, recorded by another segment.
    pub fn merge(&mut self, other: &WindowSet) -> Result<(), PoolError> {
        if other.windows.len() != self.windows.len() {
            return Err(PoolError::Mismatch(format!(
                "{} analysis windows where another part has {}",
                other.windows.len(),
                self.windows.len()
            )));
        }
        for (((_, r), c), ((_, o), oc)) in self
            .windows
            .iter_mut()
            .zip(&mut self.covered_s)
            .zip(other.windows.iter().zip(&other.covered_s))
        {
            r.merge(o);
            // Side by side over one window, not one after the other.
            *c = c.max(*oc);
        }
        Ok(())
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
            trace: None,
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

    fn sample(ms: u64, outcome: Outcome) -> Sample {
        Sample {
            scheduled: Duration::ZERO,
            sent: Duration::ZERO,
            first_byte: Some(Duration::from_millis(1)),
            end: Duration::from_millis(ms),
            outcome,
            bytes: 1,
            cache: None,
            trace: None,
        }
    }

    /// A segment's windows as results.json keeps them decode into the
    /// same recordings, and two segments' side by side add up within one
    /// window's seconds.
    #[test]
    fn recordings_round_trip_and_add_side_by_side() {
        let w = Window {
            start_s: 2.0,
            end_s: 4.0,
        };
        let second = |ms: u64, failed: bool| {
            let mut r = Recorder::default();
            r.record(&sample(ms, Outcome::Ok(200)));
            if failed {
                r.record(&sample(ms, Outcome::Error(ErrorKind::Timeout)));
            }
            r
        };
        let mut a = WindowSet::new([w]);
        a.add(2.0, 3.0, &second(5, false));
        a.add(3.0, 4.0, &second(7, true));
        let mut b = WindowSet::new([w]);
        b.add(2.0, 3.0, &second(50, false));
        b.add(3.0, 4.0, &second(70, false));
        let ra = a.recordings(&[Some(8.0)]);
        assert_eq!(ra[0].target_rps, Some(8.0));
        assert_eq!(ra[0].errors.get("timeout"), Some(&1));
        let mut da = WindowSet::from_recordings(&ra).unwrap();
        assert_eq!(da.recordings(&[Some(8.0)]), ra);
        da.merge(&WindowSet::from_recordings(&b.recordings(&[None])).unwrap())
            .unwrap();
        let (_, r, covered) = da.iter_covered().next().unwrap();
        assert_eq!((r.ok, r.failed(), covered), (4, 1, 2.0));
        assert_eq!(r.latency_us.len(), 4);
        assert_eq!(
            r.latency_us.max(),
            b.iter().next().unwrap().1.latency_us.max()
        );
        // Another scenario's windows do not merge.
        let three = WindowSet::new([w, w, w]);
        assert!(da.merge(&three).is_err());
    }
}
