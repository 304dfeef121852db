//! The latency histograms every recorder keeps: their bounds and precision.

use hdrhistogram::Histogram;

/// Highest latency recorded, in µs (1 hour); longer values saturate.
const MAX_US: u64 = 3_600_000_000;
const SIGFIG: u8 = 3;

/// Latency of cache hits and misses: two significant figures are plenty to
/// tell them apart, at a tenth of the memory.
pub(crate) fn split_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("valid histogram bounds")
}

pub fn new_histogram() -> Histogram<u64> {
    // Bounds are constants known to be valid.
    Histogram::new_with_bounds(1, MAX_US, SIGFIG).expect("valid histogram bounds")
}
