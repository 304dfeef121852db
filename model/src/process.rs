//! The target's and genbench's own processes: CPU, RSS and the memory
//! gauge, and the leak verdict judged from them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuPct {
    /// Percent of one core.
    pub mean: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RssMib {
    pub start: f64,
    pub max: f64,
    pub end: f64,
}

/// One reading of a process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSample {
    pub t_s: f64,
    /// Percent of one core, summed over the process and its children.
    pub cpu_pct: f64,
    pub rss_mib: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStats {
    pub cpu_pct: CpuPct,
    pub rss_mib: RssMib,
    /// The root process watched (its children are included).
    #[serde(default)]
    pub pid: Option<u32>,
    /// One reading a second; the first (always 0% CPU) is discarded.
    #[serde(default)]
    pub samples: Vec<ProcessSample>,
}

/// A gauge read once a second, in MiB.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GaugeSeries {
    /// `metrics:<gauge>` and where it was read.
    pub source: String,
    pub samples: Vec<GaugeSample>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GaugeSample {
    pub t_s: f64,
    pub mib: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Processes {
    pub target: Option<ProcessStats>,
    pub harness: Option<ProcessStats>,
    /// A memory gauge the target publishes (its heap in use), read beside
    /// RSS when the leak analysis uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gauge: Option<GaugeSeries>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakVerdict {
    Leak,
    NoLeak,
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub slope_mib_per_h: f64,
    pub ci95_mib_per_h: [f64; 2],
    pub theil_sen_mib_per_h: f64,
    pub warmup_excluded_s: f64,
    pub verdict: LeakVerdict,
    /// Growth below this is not a leak; the verdict compares the CI with it.
    #[serde(default)]
    pub tolerance_mib_per_h: f64,
    /// RSS readings after the warm-up that the slopes were fitted to.
    #[serde(default)]
    pub samples: u64,
    /// The series fitted: `rss`, or `metrics:<gauge>` (a heap count).
    #[serde(default = "rss")]
    pub signal: String,
    /// Seconds per window whose lowest reading is fitted: what a request
    /// in flight holds for a moment is not growth.
    #[serde(default)]
    pub window_s: f64,
    /// Steps found in the series (a cache expiring, an arena mapped): the
    /// slope is fitted between them, each segment at its own level.
    #[serde(default)]
    pub level_shifts: u64,
    /// The steps' net rise over the span, in MiB/h; a rise counts against
    /// `no_leak`.
    #[serde(default)]
    pub steps_mib_per_h: f64,
    /// In a merged result whose segments each watched a target of their
    /// own (an embedded one, or a process by pid): the segment whose fit
    /// this is, the worst of theirs. Absent when one series was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
}

fn rss() -> String {
    "rss".into()
}
