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
    if v == 0.0 || v.abs() >= 0.1 || !v.is_finite() {
        format!("${v:.2}")
    } else {
        // Three significant digits: $0.0218, $0.00273.
        let decimals = (2.0 - v.abs().log10().floor()).clamp(2.0, 12.0) as usize;
        format!("${v:.decimals$}")
    }
}

pub fn opt_usd(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), usd)
}

/// Cost per article, or "unknown" when tokens went unpriced: a lower
/// bound must never read as a measured "$0.00".
pub fn cost_per_article(c: &genbench_model::Cost) -> String {
    match &c.unpriced {
        Some(u) if u.tokens > 0 => format!(
            "unknown ({} tokens of {} have no price: set {}; {} per article priced)",
            u.tokens,
            u.models.join(", "),
            u.key,
            opt_usd(c.per_article_usd)
        ),
        _ => format!("{} per article", opt_usd(c.per_article_usd)),
    }
}

/// The requests the client gave up on, and what the work nobody received
/// cost where the cost source knows; `None` when none were abandoned.
pub fn abandoned(r: &genbench_model::RunResult) -> Option<String> {
    let q = &r.requests;
    let spent = r.cost.as_ref().and_then(|c| c.abandoned.as_ref());
    if q.abandoned == 0 && spent.is_none() {
        return None;
    }
    let mut s = format!(
        "{} abandoned ({} unanswered at abandon_after, {} cancelled)",
        q.abandoned, q.abandoned_unanswered, q.abandoned_cancelled
    );
    match spent {
        Some(a) => s.push_str(&format!(
            "; {} spent on {} provider calls cut short ({} prompt and {} completion tokens)",
            usd(a.usd),
            a.calls,
            a.tokens.prompt,
            a.tokens.completion
        )),
        None if r.cost.as_ref().is_some_and(|c| c.source == "mock_ledger") => {
            s.push_str("; the provider ledger billed no call cut short")
        }
        None => {}
    }
    Some(s)
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

/// When the target stopped answering and came back, as a sentence.
pub fn outage_text(o: &genbench_model::Outage) -> String {
    let back = match o.end_s {
        Some(e) => format!("back at {e:.0} s"),
        None => "not back before the end".into(),
    };
    format!(
        "The target stopped answering at {:.0} s, {back}: no request succeeded ({} failed).",
        o.start_s, o.failed
    )
}

/// `ttft < 600 ms, tpot < 50.0 ms`: the `[slo]` objectives as a phrase.
pub fn objectives_text(o: &genbench_model::Objectives) -> String {
    let parts: Vec<String> = [
        ("latency", o.latency_ms),
        ("ttfb", o.ttfb_ms),
        ("ttft", o.ttft_ms),
        ("tpot", o.tpot_ms),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} < {}", ms(v))))
    .collect();
    if parts.is_empty() {
        "no objectives".into()
    } else {
        parts.join(", ")
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
mod cost_tests {
    use genbench_model::{Cost, Unpriced};

    use super::cost_per_article;

    #[test]
    fn unpriced_tokens_read_unknown_never_zero() {
        let mut c = Cost {
            per_article_usd: Some(0.0),
            ..Cost::default()
        };
        assert_eq!(cost_per_article(&c), "$0.00 per article");
        c.unpriced = Some(Unpriced {
            tokens: 1029,
            models: vec!["unknown".into()],
            key: "collect.cost.model".into(),
        });
        let s = cost_per_article(&c);
        assert!(s.starts_with("unknown (1029 tokens of unknown"), "{s}");
        assert!(s.contains("collect.cost.model"), "{s}");
    }
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
        assert_eq!(usd(0.0218), "$0.0218");
        assert_eq!(usd(0.000_008_85), "$0.00000885");
        assert_eq!(pct(0.66), "66.0%");
        assert_eq!(pct(0.0002), "0.020%");
        assert_eq!(num(106.0), "106");
        assert_eq!(num(1.7712), "1.77");
    }
}

/// A capacity search's answer in a sentence, without its final stop.
pub fn search_answer(s: &genbench_model::CapacitySearch) -> String {
    use genbench_model::SearchOutcome;
    let load = |v: f64| format!("{} {}", num(v), s.unit);
    let pct = s.resolution * 100.0;
    match (s.outcome, s.max_sustainable, s.lowest_failing) {
        (SearchOutcome::Within, Some(p), Some(f)) => format!(
            "{} max sustainable{}: {} failed, narrowed to {pct:.0}%",
            load(p),
            if s.confirmed { ", confirmed" } else { "" },
            load(f)
        ),
        (SearchOutcome::AtLeastMax, Some(p), _) => format!(
            "at least {} (the search's max passed{}); raise load.search.max to find the limit",
            load(p),
            if s.confirmed { " and held" } else { "" }
        ),
        (SearchOutcome::BelowMin, ..) => {
            "below load.search.min: even the lowest load failed; lower it".to_string()
        }
        _ => format!(
            "unfinished: stopped after {} probes (highest passing so far: {})",
            s.probes.len(),
            s.max_sustainable.map_or("none".into(), load)
        ),
    }
}

/// A threshold's observed value in its metric's unit. The metric is the
/// expression's first word, as the scenario grammar names it ("p95",
/// "ttfb_p99", "error_rate", "cost_per_article", ...).
pub fn observed(expr: &str, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "not measured".into();
    };
    let metric: String = expr
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let latency =
        |m: &str| m.len() > 1 && m.starts_with('p') && m[1..].chars().all(|c| c.is_ascii_digit());
    match metric.as_str() {
        m if latency(m)
            || ["ttfb_", "ttft_", "tpot_", "itl_", "flow_"]
                .iter()
                .any(|p| m.strip_prefix(p).is_some_and(latency)) =>
        {
            ms(v)
        }
        "error_rate" | "cache_hit_rate" | "flow_error_rate" => pct(v),
        "flows_per_hour" => format!("{}/h", num(v)),
        "cost_per_article" => usd(v),
        "rss_growth" => format!("{v:+.1} MiB/h"),
        "throughput_rps" | "rps" => format!("{} req/s", num(v)),
        _ => num(v),
    }
}

#[cfg(test)]
mod observed_tests {
    use super::observed;

    #[test]
    fn observed_values_carry_their_metric_unit() {
        assert_eq!(observed("p95 < 15s", Some(1619.97)), "1.62 s");
        assert_eq!(observed("ttfb_p99 <= 800ms", Some(12.0)), "12.0 ms");
        assert_eq!(observed("error_rate < 1%", Some(0.0)), "0.0%");
        assert_eq!(observed("flow_p95 < 5m", Some(13885.4)), "13.89 s");
        assert_eq!(observed("flow_error_rate < 1%", Some(0.5)), "50.0%");
        assert_eq!(
            observed("cost_per_article < $0.05", Some(0.00273)),
            "$0.00273"
        );
        assert_eq!(observed("rss_growth < 10MiB/h", Some(2.41)), "+2.4 MiB/h");
        assert_eq!(observed("throughput_rps >= 50", Some(49.5)), "49.50 req/s");
        assert_eq!(observed("p95 < 15s", None), "not measured");
    }
}
