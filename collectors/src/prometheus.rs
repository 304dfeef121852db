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

/// One sample line: its metric name, labels and value.
pub struct Line<'a> {
    pub name: &'a str,
    labels: &'a str,
    pub value: f64,
}

impl<'a> Line<'a> {
    /// The value of label `key`, unescaped.
    pub fn label(&self, key: &str) -> Option<String> {
        let mut rest = self.labels;
        while !rest.is_empty() {
            let (k, after) = rest.split_once('=')?;
            let after = after.strip_prefix('"')?;
            let (mut value, mut escaped, mut end) = (String::new(), false, None);
            for (i, c) in after.char_indices() {
                match c {
                    _ if escaped => {
                        value.push(if c == 'n' { '\n' } else { c });
                        escaped = false;
                    }
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end?;
            if k.trim() == key {
                return Some(value);
            }
            rest = after[end + 1..].trim_start_matches([',', ' ']);
        }
        None
    }
}

/// Every sample line of `text` whose metric name starts with `prefix`.
pub fn lines<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = Line<'a>> + 'a {
    text.lines().filter_map(move |line| {
        let line = line.trim();
        if line.starts_with('#') || !line.starts_with(prefix) {
            return None;
        }
        let name_end = line.find(['{', ' ', '\t'])?;
        let (name, rest) = line.split_at(name_end);
        let (labels, after) = match rest.strip_prefix('{') {
            Some(r) => {
                let end = label_end(r)?;
                (&r[..end], &r[end + 1..])
            }
            None => ("", rest),
        };
        let value = after.split_whitespace().next()?.parse::<f64>().ok()?;
        Some(Line {
            name,
            labels,
            value,
        })
    })
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
    fn lines_carry_their_labels() {
        let l: Vec<Line> = lines(TEXT, "app_cache_hits_total").collect();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].label("note").as_deref(), Some("a } in \"quotes\""));
        assert_eq!(l[0].label("cache").as_deref(), Some("articles"));
        assert_eq!(l[1].label("cache").as_deref(), Some("pages"));
        assert_eq!(
            (l[1].value, l[2].name),
            (3.0, "app_cache_hits_total_created")
        );
        assert_eq!(l[2].label("cache"), None);
    }

    #[test]
    fn sums_label_sets_and_ignores_lookalikes() {
        assert_eq!(counter(TEXT, "app_cache_hits_total"), Some(15.0));
        assert_eq!(counter(TEXT, "app_cache_misses_total"), Some(5.0));
        assert_eq!(counter(TEXT, "app_cache_evictions_total"), None);
    }
}
