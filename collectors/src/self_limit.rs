//! Whether genbench itself was the bottleneck: its CPU at the cores it can
//! use for two seconds running, or the open model sending far behind its
//! schedule. A load generator that is saturated measures its own queueing
//! as the target's latency; the result must say so.

use genbench_model::{GeneratorLimited, ProcessSample};

/// Share of its cores at which genbench counts as saturated.
pub const SATURATED: f64 = 0.9;
/// Consecutive saturated seconds before it is called the limit.
const SECONDS: usize = 2;
/// Send lag p99 past which the open model's schedule was not kept.
pub const LAG_P99_MS: f64 = 10.0;

/// What a run's own samples say of genbench (`samples`: its CPU each
/// second; `cores`: what it can run on). `llm`: the run measured streams,
/// whose TTFT and ITL suffer first.
pub fn judge(
    samples: &[ProcessSample],
    cores: f64,
    send_lag_p99_ms: Option<f64>,
    llm: bool,
) -> Option<GeneratorLimited> {
    let busy = |s: &ProcessSample| s.cpu_pct / 100.0 >= SATURATED * cores;
    let from_cpu = samples
        .windows(SECONDS)
        .find(|w| w.iter().all(busy))
        .map(|w| w[0].t_s);
    let lagging = send_lag_p99_ms.filter(|l| *l > LAG_P99_MS);
    if from_cpu.is_none() && lagging.is_none() {
        return None;
    }
    let cores_used = samples
        .iter()
        .map(|s| s.cpu_pct / 100.0)
        .fold(0.0, f64::max);
    let mut affects = vec!["latency".to_string()];
    if llm {
        affects.extend(["TTFT".to_string(), "ITL".to_string()]);
    }
    affects.push("throughput".into());
    let from_s = from_cpu.unwrap_or(0.0);
    let what = affects.join(", ");
    let message = match (from_cpu, lagging) {
        (Some(t), _) => format!(
            "genbench used {cores_used:.1} of {cores:.0} cores from {t:.0} s: {what} above that point include its own delay"
        ),
        (None, Some(l)) => format!(
            "genbench sent late (send lag p99 {l:.1} ms): {what} include its own delay; give it more cores or lower the rate"
        ),
        (None, None) => return None,
    };
    Some(GeneratorLimited {
        from_s,
        cores_used,
        cores,
        send_lag_p99_ms: lagging,
        affects,
        message,
    })
}

/// The cores this process may run on (its affinity and cgroup quota).
pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t_s: f64, cpu_pct: f64) -> ProcessSample {
        ProcessSample {
            t_s,
            cpu_pct,
            rss_mib: 10.0,
        }
    }

    #[test]
    fn two_saturated_seconds_make_it_the_limit_from_the_first() {
        let run = [
            s(1.0, 120.0),
            s(2.0, 380.0),
            s(3.0, 150.0),
            s(4.0, 390.0),
            s(5.0, 400.0),
        ];
        let g = judge(&run, 4.0, None, true).unwrap();
        assert_eq!((g.from_s, g.cores_used, g.cores), (4.0, 4.0, 4.0));
        assert_eq!(g.affects, ["latency", "TTFT", "ITL", "throughput"]);
        assert_eq!(
            g.message,
            "genbench used 4.0 of 4 cores from 4 s: latency, TTFT, ITL, throughput above that point include its own delay"
        );
        // One busy second is not a saturated generator.
        assert_eq!(judge(&run[..4], 4.0, None, true), None);
        assert_eq!(judge(&run, 8.0, Some(0.4), false), None);
    }

    #[test]
    fn a_schedule_far_behind_is_the_limit_too() {
        let g = judge(&[s(1.0, 20.0)], 2.0, Some(35.0), false).unwrap();
        assert_eq!(g.send_lag_p99_ms, Some(35.0));
        assert!(g.message.contains("send lag p99 35.0 ms"), "{}", g.message);
        assert_eq!(judge(&[], 2.0, Some(LAG_P99_MS), false), None);
    }
}
