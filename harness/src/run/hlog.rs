//! The HdrHistogram interval log written as a run goes.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use genbench_collectors::Recorder;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::engine::workers::INTERVAL;

pub const INTERVAL_LOG: &str = "intervals.hlog";

/// The HdrHistogram interval log, one latency histogram per second, written
/// as each second completes (unbuffered, so a crash loses at most one).
pub struct IntervalLog {
    file: std::fs::File,
    serializer: V2DeflateSerializer,
    header: Option<SystemTime>,
}

impl IntervalLog {
    pub fn create(path: &std::path::Path, started: SystemTime) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(IntervalLog {
            file,
            serializer: V2DeflateSerializer::new(),
            header: Some(started),
        })
    }

    pub fn write(
        &mut self,
        p: &genbench_model::TimelinePoint,
        rec: &Recorder,
    ) -> anyhow::Result<()> {
        let mut b = IntervalLogWriterBuilder::new();
        if let Some(started) = self.header.take() {
            b.add_comment(
                "genbench: latency per second in microseconds, from each request's scheduled time",
            );
            b.with_start_time(started).with_base_time(started);
        }
        let mut log = b
            .begin_log_with(&mut self.file, &mut self.serializer)
            .context("cannot write the interval log")?;
        let start = Duration::from_secs_f64((p.t_s - INTERVAL.as_secs_f64()).max(0.0));
        log.write_histogram(&rec.latency_us, start, INTERVAL, Tag::new("latency"))
            .map_err(|e| anyhow::anyhow!("cannot write the interval log: {e:?}"))
    }
}
