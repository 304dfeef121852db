//! Clients that give up, as users and upstream timeouts do:
//! `[load] abandon_after` hangs up on a request still unanswered at that
//! time, and `[load.cancel]` cancels a share of requests (or streams) after
//! a fixed time. Either is the request's own outcome, "abandoned", never an
//! error of the target.

use std::time::Duration;

use genbench_model::GiveUp;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::duration::parse_duration;
use crate::error::{Invalid, Locator, ScenarioError};
use crate::serde_secs::{opt_secs, secs};

/// A validated pair of `abandon_after` and `[load.cancel]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Abandon {
    /// Hang up on every request unanswered this long after it was sent.
    #[serde(serialize_with = "opt_secs")]
    pub after: Option<Duration>,
    /// Cancel a share of requests at a fixed time.
    pub cancel: Option<Cancel>,
}

/// `[load.cancel]`: `share` of requests, spread evenly (with 0.1, every
/// tenth request sent), are cancelled `after` their send.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cancel {
    /// 0 to 1: the share of requests cancelled.
    pub share: f64,
    #[serde(serialize_with = "secs")]
    pub after: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCancel {
    #[serde(default)]
    rate: Option<f64>,
    #[serde(default)]
    after: Option<String>,
}

/// `abandon_after` and `[load.cancel]` checked against the request
/// `timeout`: a give-up that comes after the timeout could never happen.
pub(crate) fn validate(
    loc: &Locator<'_>,
    after: &Option<Spanned<String>>,
    cancel: &Option<Spanned<RawCancel>>,
    timeout: Duration,
) -> Result<Option<Abandon>, ScenarioError> {
    let after = match after {
        None => None,
        Some(a) => Some(
            give_up("load.abandon_after", a.get_ref(), timeout)
                .map_err(|e| loc.invalid(a.span().start, e))?,
        ),
    };
    let cancel = match cancel {
        None => None,
        Some(c) => Some(
            c.get_ref()
                .validate(timeout, after)
                .map_err(|e| loc.invalid(c.span().start, e))?,
        ),
    };
    Ok((after.is_some() || cancel.is_some()).then_some(Abandon { after, cancel }))
}

/// A give-up time: above zero and below the request timeout.
fn give_up(key: &str, raw: &str, timeout: Duration) -> Result<Duration, Invalid> {
    let bad = |m: String| Invalid::new(key.into(), m);
    let d = parse_duration(raw).map_err(bad)?;
    if d.is_zero() {
        return Err(bad(
            "give up after some time above zero, e.g. \"20s\"".into()
        ));
    }
    if d >= timeout {
        return Err(bad(format!(
            "{} is not shorter than the request timeout ({}s): the timeout would end the request first, as an error of the target; make it shorter, or raise [load] timeout",
            raw.trim(),
            timeout.as_secs_f64()
        )));
    }
    Ok(d)
}

impl RawCancel {
    fn validate(&self, timeout: Duration, abandon: Option<Duration>) -> Result<Cancel, Invalid> {
        let bad = |k: &str, m: &str| Invalid::new(format!("load.cancel.{k}"), m.into());
        let share = self.rate.ok_or_else(|| {
            bad(
                "rate",
                "say which share of requests to cancel, e.g. rate = 0.1 (10%)",
            )
        })?;
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(bad(
                "rate",
                "a share above 0 and at most 1, e.g. rate = 0.1 (10%)",
            ));
        }
        let raw = self.after.as_deref().ok_or_else(|| {
            bad(
                "after",
                "say when to cancel, counted from the send, e.g. after = \"2s\"",
            )
        })?;
        let after = give_up("load.cancel.after", raw, timeout)?;
        if abandon.is_some_and(|a| after >= a) {
            return Err(bad(
                "after",
                "is not shorter than load.abandon_after, which would hang up first: make it shorter",
            ));
        }
        Ok(Cancel { share, after })
    }
}

impl Abandon {
    /// When to give up on the `nth` request sent (from 0), counted from
    /// its send, and why: the cancel if it picks this request, else
    /// `abandon_after`.
    pub fn deadline(&self, nth: u64) -> Option<(Duration, GiveUp)> {
        match self.cancel {
            Some(c) if c.picks(nth) => Some((c.after, GiveUp::Cancelled)),
            _ => self.after.map(|a| (a, GiveUp::Unanswered)),
        }
    }
}

impl Cancel {
    /// Whether the `nth` request is one to cancel: exactly
    /// `floor(n * share)` of the first `n`, evenly spread, with no draw
    /// to make two runs differ.
    pub fn picks(&self, nth: u64) -> bool {
        let n = nth as f64;
        ((n + 1.0) * self.share).floor() > (n * self.share).floor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn raw(rate: Option<f64>, after: Option<&str>) -> RawCancel {
        RawCancel {
            rate,
            after: after.map(str::to_string),
        }
    }

    #[test]
    fn give_up_times_must_fall_inside_the_timeout() {
        assert_eq!(
            give_up("k", "20s", MINUTE).unwrap(),
            Duration::from_secs(20)
        );
        let late = give_up("k", "90s", MINUTE).unwrap_err();
        assert!(late.message.contains("raise [load] timeout"), "{late:?}");
        assert!(give_up("k", "0s", MINUTE).is_err());
        assert!(give_up("k", "soon", MINUTE).is_err());
    }

    #[test]
    fn a_cancel_needs_a_share_and_a_time_before_abandon_after() {
        let ok = raw(Some(0.1), Some("2s")).validate(MINUTE, None).unwrap();
        assert_eq!((ok.share, ok.after), (0.1, Duration::from_secs(2)));
        for (r, key) in [
            (raw(None, Some("2s")), "load.cancel.rate"),
            (raw(Some(1.5), Some("2s")), "load.cancel.rate"),
            (raw(Some(0.0), Some("2s")), "load.cancel.rate"),
            (raw(Some(f64::NAN), Some("2s")), "load.cancel.rate"),
            (raw(Some(0.1), None), "load.cancel.after"),
        ] {
            assert_eq!(r.validate(MINUTE, None).unwrap_err().key, key);
        }
        let after_abandon = raw(Some(0.1), Some("5s"))
            .validate(MINUTE, Some(Duration::from_secs(5)))
            .unwrap_err();
        assert!(after_abandon.message.contains("abandon_after"));
    }

    #[test]
    fn cancels_pick_their_share_of_requests_evenly() {
        for share in [0.001, 0.1, 0.25, 1.0 / 3.0, 0.5, 0.97, 1.0] {
            let c = Cancel {
                share,
                after: Duration::from_secs(2),
            };
            for n in [1_u64, 7, 100, 1000, 12_345] {
                let picked = (0..n).filter(|&i| c.picks(i)).count() as f64;
                let want = (n as f64 * share).floor();
                assert!((picked - want).abs() <= 1.0, "{share} of {n}: {picked}");
            }
        }
        let a = Abandon {
            after: Some(Duration::from_secs(20)),
            cancel: Some(Cancel {
                share: 0.25,
                after: Duration::from_secs(2),
            }),
        };
        let cancelled = Some((Duration::from_secs(2), GiveUp::Cancelled));
        let unanswered = Some((Duration::from_secs(20), GiveUp::Unanswered));
        let four: Vec<_> = (0..4).map(|n| a.deadline(n)).collect();
        assert_eq!(four, [unanswered, unanswered, unanswered, cancelled]);
        let none = Abandon { after: None, ..a };
        assert_eq!(none.deadline(0), None);
    }
}
