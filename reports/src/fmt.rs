//! Number formatting shared by every renderer, so the HTML, Markdown and
//! comparison say the same thing the same way.

/// Milliseconds as "12.3 ms" or "1.23 s".
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v.abs() >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), ms)
}

/// Dollars with enough digits that a fraction of a cent still shows.
pub fn usd(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.5}")
    } else {
        format!("${v:.2}")
    }
}

pub fn opt_usd(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), usd)
}

/// A 0-1 ratio as a percentage.
pub fn pct(v: f64) -> String {
    let p = v * 100.0;
    if p != 0.0 && p.abs() < 0.1 {
        format!("{p:.3}%")
    } else {
        format!("{p:.1}%")
    }
}

pub fn opt_pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), pct)
}

/// A plain number with digits that suit its size.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v == v.trunc() || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// The snake_case name serde gives an enum value.
pub fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_switch_where_digits_would_mislead() {
        assert_eq!(ms(0.4), "0.40 ms");
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(ms(7847.9), "7.85 s");
        assert_eq!(usd(0.00204), "$0.00204");
        assert_eq!(usd(0.22), "$0.22");
        assert_eq!(pct(0.66), "66.0%");
        assert_eq!(pct(0.0002), "0.020%");
        assert_eq!(num(106.0), "106");
        assert_eq!(num(1.7712), "1.77");
    }
}
