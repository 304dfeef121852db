//! The latency distribution from a result's base64 HdrHistogram, as the
//! points of a percentile curve.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;

/// Decodes a base64 V2 (DEFLATE) histogram; `None` if absent or corrupt
/// (a hand-edited results.json still renders, without the curve).
pub fn decode(b64: Option<&str>) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64?)
        .ok()?;
    Deserializer::new().deserialize(&mut &bytes[..]).ok()
}

/// (percentile 0-100, value in ms) points of a µs histogram, from the
/// median to the maximum, denser in the tail.
pub fn percentile_curve_ms(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for v in h.iter_quantiles(4) {
        let q = v.quantile_iterated_to();
        if q >= 1.0 {
            break;
        }
        let p = (q * 100.0, v.value_iterated_to() as f64 / 1000.0);
        if pts.last().is_none_or(|l| l.0 < p.0) {
            pts.push(p);
        }
    }
    // The last point is the maximum, placed one "nine" past the last
    // percentile the sample count supports.
    let top = 100.0 * (1.0 - 1.0 / h.len() as f64);
    let max = h.max() as f64 / 1000.0;
    if pts.last().is_none_or(|l| l.0 < top) {
        pts.push((top, max));
    } else if let Some(l) = pts.last_mut() {
        l.1 = l.1.max(max);
    }
    pts
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};

    use super::*;

    fn encoded(h: &Histogram<u64>) -> String {
        let mut buf = Vec::new();
        V2DeflateSerializer::new().serialize(h, &mut buf).unwrap();
        base64::engine::general_purpose::STANDARD.encode(buf)
    }

    #[test]
    fn curve_rises_to_the_maximum() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v * 100).unwrap();
        }
        let back = decode(Some(&encoded(&h))).unwrap();
        let pts = percentile_curve_ms(&back);
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let median = pts.iter().find(|p| p.0 >= 50.0).unwrap();
        assert!((median.1 - 500.0).abs() < 1.0, "{median:?}");
        let last = pts.last().unwrap();
        assert!((last.1 - 1000.0).abs() < 1.0, "{last:?}");
        assert!(last.0 > 99.98 && last.0 < 100.0);
    }

    #[test]
    fn missing_or_corrupt_histograms_give_nothing() {
        assert!(decode(None).is_none());
        assert!(decode(Some("not base64!")).is_none());
        assert!(decode(Some("AAAA")).is_none());
    }
}
