//! CPU and RSS of a process tree, read once a second with sysinfo: the
//! target (a process and its children, such as a server's workers) or the
//! harness itself. The first reading has no CPU figure (sysinfo needs two)
//! and is discarded.

use genbench_model::{CpuPct, ProcessSample, ProcessStats, RssMib};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot read process information on this system: {0}")]
    System(String),
    #[error("no process with pid {0}: check --target-pid")]
    NoSuchPid(u32),
}

/// Watches one process, and its descendants if asked.
pub struct ProcessWatch {
    sys: System,
    root: Pid,
    tree: bool,
    primed: bool,
    samples: Vec<ProcessSample>,
}

const MIB: f64 = 1024.0 * 1024.0;

impl ProcessWatch {
    /// `tree`: include every descendant of `pid` (not its threads, which
    /// the kernel also lists as tasks: each thread's time is already in its
    /// process's).
    pub fn new(pid: u32, tree: bool) -> Result<Self, ProcessError> {
        let sys = System::new().map_err(|e| ProcessError::System(e.to_string()))?;
        let mut w = ProcessWatch {
            sys,
            root: Pid::from_u32(pid),
            tree,
            primed: false,
            samples: Vec::new(),
        };
        if w.read().is_none() {
            return Err(ProcessError::NoSuchPid(pid));
        }
        Ok(w)
    }

    /// CPU (% of one core) and RSS (bytes) summed over the tree, now.
    fn read(&mut self) -> Option<(f64, u64)> {
        let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
        if self.tree {
            // Children can appear at any time: every process is looked at.
            self.sys
                .refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        } else {
            self.sys
                .refresh_processes_specifics(ProcessesToUpdate::Some(&[self.root]), true, kind);
        }
        let procs = self.sys.processes();
        let root = procs.get(&self.root)?;
        let mut cpu = f64::from(root.cpu_usage());
        let mut rss = root.memory();
        if self.tree {
            for (pid, p) in procs {
                if *pid != self.root
                    && p.thread_kind().is_none()
                    && descends_from(procs, *pid, self.root)
                {
                    cpu += f64::from(p.cpu_usage());
                    rss += p.memory();
                }
            }
        }
        Some((cpu, rss))
    }

    /// Takes one reading at `t_s` seconds into the run; `false` once the
    /// process has gone.
    pub fn sample(&mut self, t_s: f64) -> bool {
        let Some((cpu_pct, rss)) = self.read() else {
            return false;
        };
        if std::mem::replace(&mut self.primed, true) {
            self.samples.push(ProcessSample {
                t_s,
                cpu_pct,
                rss_mib: rss as f64 / MIB,
            });
        }
        true
    }

    pub fn pid(&self) -> u32 {
        self.root.as_u32()
    }

    pub fn samples(&self) -> &[ProcessSample] {
        &self.samples
    }

    /// The `process.target`/`process.harness` section; `None` before two
    /// readings.
    pub fn stats(&self) -> Option<ProcessStats> {
        stats(self.pid(), &self.samples)
    }
}

fn descends_from(
    procs: &std::collections::HashMap<Pid, sysinfo::Process>,
    pid: Pid,
    root: Pid,
) -> bool {
    let mut cur = pid;
    // Bounded walk: pid reuse could in principle make a cycle.
    for _ in 0..64 {
        match procs.get(&cur).and_then(|p| p.parent()) {
            Some(parent) if parent == root => return true,
            Some(parent) => cur = parent,
            None => return false,
        }
    }
    false
}

/// Summary of a series of readings.
pub fn stats(pid: u32, samples: &[ProcessSample]) -> Option<ProcessStats> {
    let first = samples.first()?;
    let last = samples.last()?;
    let n = samples.len() as f64;
    Some(ProcessStats {
        cpu_pct: CpuPct {
            mean: samples.iter().map(|s| s.cpu_pct).sum::<f64>() / n,
            max: samples.iter().map(|s| s.cpu_pct).fold(0.0, f64::max),
        },
        rss_mib: RssMib {
            start: first.rss_mib,
            max: samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
            end: last.rss_mib,
        },
        pid: Some(pid),
        samples: samples.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reading_is_discarded_and_stats_follow_the_rest() {
        let mut w = ProcessWatch::new(std::process::id(), false).unwrap();
        assert!(w.sample(0.0));
        assert!(w.stats().is_none(), "the first reading has no CPU figure");
        // Burn some CPU so the second reading has something to see.
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(w.sample(1.0));
        let s = w.stats().unwrap();
        assert_eq!(s.samples.len(), 1);
        assert!(s.cpu_pct.max > 0.0, "{s:?}");
        assert!(s.rss_mib.end > 1.0, "{s:?}");
    }

    #[test]
    fn children_count_and_a_missing_pid_is_an_error() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id();
        let mut alone = ProcessWatch::new(me, false).unwrap();
        let mut tree = ProcessWatch::new(me, true).unwrap();
        alone.sample(0.0);
        tree.sample(0.0);
        alone.sample(0.5);
        tree.sample(0.5);
        let (a, t) = (alone.stats().unwrap(), tree.stats().unwrap());
        // `sleep` adds its own resident pages; threads of this test process
        // are not counted again.
        assert!(t.rss_mib.end > a.rss_mib.end, "{t:?} vs {a:?}");
        assert!(t.rss_mib.end < a.rss_mib.end * 1.5 + 8.0, "{t:?} vs {a:?}");
        child.kill().unwrap();
        let _ = child.wait();
        assert!(matches!(
            ProcessWatch::new(u32::MAX - 1, false),
            Err(ProcessError::NoSuchPid(_))
        ));
    }
}
