//! When the target stopped answering, from the timeline: a second in which
//! requests ended and none succeeded is down, one with a success is up, one
//! in which nothing ended (every request still waiting) goes on as the one
//! before it. Two down seconds or more in a row are an outage: one failed
//! second is a blip, not a target gone.

use genbench_model::{Outage, TimelinePoint};

const MIN_DOWN_SECONDS: u64 = 2;

pub fn outages(timeline: &[TimelinePoint]) -> Vec<Outage> {
    let mut out = Vec::new();
    // (start, down seconds, failed) of the outage being seen.
    let mut open: Option<(f64, u64, u64)> = None;
    let close = |o: Option<(f64, u64, u64)>, end_s: Option<f64>, out: &mut Vec<Outage>| {
        if let Some((start_s, down, failed)) = o
            && down >= MIN_DOWN_SECONDS
        {
            out.push(Outage {
                start_s,
                end_s,
                failed,
            });
        }
    };
    for p in timeline {
        let ended = p.rps.round() as u64;
        let start = p.t_s - 1.0;
        if ended == 0 {
            continue;
        }
        if p.errors >= ended {
            let o = open.get_or_insert((start, 0, 0));
            o.1 += 1;
            o.2 += p.errors;
        } else {
            close(open.take(), Some(start), &mut out);
        }
    }
    close(open, None, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(t: u32, ended: u64, errors: u64) -> TimelinePoint {
        TimelinePoint {
            t_s: f64::from(t),
            rps: ended as f64,
            errors,
            ..Default::default()
        }
    }

    #[test]
    fn two_failed_seconds_or_more_are_an_outage() {
        let tl = [
            second(1, 10, 0),
            second(2, 10, 10),
            second(3, 0, 0),
            second(4, 3, 3),
            second(5, 10, 2),
            // One failed second is a blip.
            second(6, 10, 10),
            second(7, 10, 0),
            second(8, 4, 4),
            second(9, 4, 4),
        ];
        assert_eq!(
            outages(&tl),
            [
                Outage {
                    start_s: 1.0,
                    end_s: Some(4.0),
                    failed: 13
                },
                Outage {
                    start_s: 7.0,
                    end_s: None,
                    failed: 8
                }
            ]
        );
        assert!(outages(&[second(1, 5, 0)]).is_empty());
    }
}
