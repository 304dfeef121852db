//! Reading counters from a Prometheus text exposition (`/metrics`).

/// The value of counter `name`, summed over all its label sets; `None` if
/// the text has no sample of it.
pub fn counter(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // `name{labels} value [timestamp]` or `name value [timestamp]`;
        // anything else (`name_bucket`, `name2`) is another metric.
        let after_labels = if let Some(r) = rest.strip_prefix('{') {
            match label_end(r) {
                Some(end) => &r[end + 1..],
                None => continue,
            }
        } else if rest.starts_with([' ', '\t']) {
            rest
        } else {
            continue;
        };
        let Some(v) = after_labels.split_whitespace().next() else {
            continue;
        };
        if let Ok(v) = v.parse::<f64>()
            && v.is_finite()
        {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// Index of the `}` closing a label set, skipping quoted values (which may
/// hold `}` or escaped quotes).
fn label_end(r: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in r.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP app_cache_hits_total hits
# TYPE app_cache_hits_total counter
app_cache_hits_total{cache="articles",note="a } in \"quotes\""} 12
app_cache_hits_total{cache="pages"} 3 1700000000000
app_cache_hits_total_created 1.7e9
app_cache_misses_total 5.0
app_cache_misses_totalx 99
"#;

    #[test]
    fn sums_label_sets_and_ignores_lookalikes() {
        assert_eq!(counter(TEXT, "app_cache_hits_total"), Some(15.0));
        assert_eq!(counter(TEXT, "app_cache_misses_total"), Some(5.0));
        assert_eq!(counter(TEXT, "app_cache_evictions_total"), None);
    }
}
