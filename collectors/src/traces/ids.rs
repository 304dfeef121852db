//! W3C trace context for genbench's requests: which trace and parent span
//! each request names in its `traceparent`, and how a span that arrives
//! later is known to be one of this run's.
//!
//! A trace id is the run's random 64-bit nonce followed by a mix of the
//! iteration's id (a request, or a flow whose requests share one trace).
//! genbench's own span id for request `n` of an iteration is a 32-bit tag
//! derived from the trace id followed by `n + 1`: the service's root span
//! names it as its parent, and the tag tells it apart from the service's
//! own span ids without any table.

/// The trace and parent span one request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceIds {
    pub trace: u128,
    pub span: u64,
}

/// SplitMix64's finalizer: a bijection, so distinct ids stay distinct.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The tag genbench's span ids of trace `trace` start with (never 0, so a
/// span id is never 0 either).
fn tag(trace: u128) -> u32 {
    (mix(trace as u64 ^ (trace >> 64) as u64) >> 32) as u32 | 1
}

impl TraceIds {
    /// Request `n` (from 0) of iteration `iteration` of run `run`.
    pub fn new(run: u64, iteration: u64, n: u32) -> TraceIds {
        let trace = (u128::from(run) << 64) | u128::from(mix(iteration));
        TraceIds {
            trace,
            span: (u64::from(tag(trace)) << 32) | u64::from(n.wrapping_add(1).max(1)),
        }
    }

    /// The `traceparent` header's value: version 00, sampled.
    pub fn traceparent(&self) -> [u8; 55] {
        let mut out = [0u8; 55];
        out[..3].copy_from_slice(b"00-");
        hex_into(&self.trace.to_be_bytes(), &mut out[3..35]);
        out[35] = b'-';
        hex_into(&self.span.to_be_bytes(), &mut out[36..52]);
        out[52..].copy_from_slice(b"-01");
        out
    }

    pub fn trace_hex(&self) -> String {
        trace_hex(self.trace)
    }
}

/// A trace id as 32 lowercase hex digits.
pub fn trace_hex(trace: u128) -> String {
    format!("{trace:032x}")
}

fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
}

/// Whether `trace` is one of run `run`'s.
pub fn is_ours(run: u64, trace: u128) -> bool {
    (trace >> 64) as u64 == run
}

/// Whether `parent` is a span id genbench put in trace `trace`'s
/// `traceparent`: the span whose parent it is, is a request's root span.
pub fn is_genbench_span(trace: u128, parent: u64) -> bool {
    parent != 0 && (parent >> 32) as u32 == tag(trace)
}

/// A run's nonce: unpredictable enough that two runs (or two segments of
/// one) never share trace ids, and never 0.
pub fn run_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS's randomness once per process.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    mix(h.finish()).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_w3c_version_00_sampled() {
        let ids = TraceIds::new(0x0123_4567_89ab_cdef, 7, 0);
        let tp = ids.traceparent();
        let s = std::str::from_utf8(&tp).unwrap();
        let parts: Vec<&str> = s.split('-').collect();
        assert_eq!(parts.len(), 4, "{s}");
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert_eq!(parts[1], ids.trace_hex());
        assert!(parts[1].starts_with("0123456789abcdef"));
        assert_eq!(u64::from_str_radix(parts[2], 16).unwrap(), ids.span);
        assert!(
            s.bytes()
                .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn spans_of_one_iteration_share_the_trace_and_are_told_apart() {
        let (a, b) = (TraceIds::new(9, 3, 0), TraceIds::new(9, 3, 1));
        assert_eq!(a.trace, b.trace);
        assert_ne!(a.span, b.span);
        assert!(is_ours(9, a.trace) && !is_ours(8, a.trace));
        assert!(is_genbench_span(a.trace, a.span) && is_genbench_span(b.trace, b.span));
        assert_ne!(TraceIds::new(9, 4, 0).trace, a.trace);
        // Span ids the service makes up are genbench's only by a 1 in 2^32
        // chance: none of these is.
        let foreign = (1..10_000u64)
            .filter(|i| is_genbench_span(a.trace, mix(*i)))
            .count();
        assert_eq!(foreign, 0);
        assert!(!is_genbench_span(a.trace, 0));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(run_nonce(), run_nonce());
    }
}
