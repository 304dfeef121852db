//! What to send: each request's variables drawn from the scenario's
//! datasets with their repeat distribution, rendered into the template.
//! A hot set or a Zipf law makes values recur, which is how a scenario sets
//! the cache hit rate it expects.

use std::collections::BTreeMap;

use genbench_presets::rng::Rng;
use genbench_scenarios::{Dataset, Repeat, RequestTemplate};

/// Draws indices into one dataset.
#[derive(Debug, Clone)]
pub enum Sampler {
    Uniform {
        n: usize,
    },
    /// Cumulative weights of ranks 1..=n.
    Zipf {
        cdf: Vec<f64>,
    },
    HotSet {
        hot: usize,
        n: usize,
        hot_fraction: f64,
    },
}

impl Sampler {
    pub fn new(n: usize, repeat: Repeat) -> Self {
        match repeat {
            Repeat::Uniform => Sampler::Uniform { n },
            Repeat::Zipf { s } => {
                let mut acc = 0.0;
                let cdf = (1..=n)
                    .map(|k| {
                        acc += 1.0 / (k as f64).powf(s);
                        acc
                    })
                    .collect();
                Sampler::Zipf { cdf }
            }
            Repeat::HotSet {
                hot_set,
                hot_fraction,
            } => {
                let hot = ((hot_set * n as f64).ceil() as usize).clamp(1, n);
                Sampler::HotSet {
                    hot,
                    n,
                    hot_fraction,
                }
            }
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> usize {
        match self {
            Sampler::Uniform { n } => rng.below(*n as u64) as usize,
            Sampler::Zipf { cdf } => {
                let total = cdf.last().copied().unwrap_or(0.0);
                let u = rng.unit() * total;
                cdf.partition_point(|c| *c <= u).min(cdf.len() - 1)
            }
            Sampler::HotSet {
                hot,
                n,
                hot_fraction,
            } => {
                if *hot == *n || rng.chance(*hot_fraction) {
                    rng.below(*hot as u64) as usize
                } else {
                    hot + rng.below((n - hot) as u64) as usize
                }
            }
        }
    }
}

/// How a value is written where its placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Escape {
    /// Percent-encoded, for paths and queries.
    Url,
    /// Inside a JSON string literal.
    Json,
    Raw,
}

fn escape(value: &str, how: Escape, out: &mut String) {
    match how {
        Escape::Raw => out.push_str(value),
        Escape::Json => {
            let quoted = serde_json::to_string(value).unwrap_or_default();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Escape::Url => {
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
}

/// Writes `template` with its placeholders filled into `out` (cleared first).
fn render(template: &str, values: &BTreeMap<&str, &str>, how: Escape, out: &mut String) {
    out.clear();
    let mut rest = template;
    while let Some(p) = find_pair(rest, b'{') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 2..];
        // Templates were validated: every `{{` closes and names a dataset.
        let end = find_pair(after, b'}').unwrap_or(after.len());
        if let Some(v) = values.get(after[..end].trim()) {
            escape(v, how, out);
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
}

/// Where `b` first appears twice in a row in `s`: `str::find` with a
/// two-byte pattern sets up a searcher each call, which on every request's
/// path and body cost more than the search.
fn find_pair(s: &str, b: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b, &bytes[from..]) {
        let at = from + i;
        if bytes.get(at + 1) == Some(&b) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A rendered request, ready to send. Reused from request to request, so
/// that rendering allocates nothing once its strings have grown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    pub path: String,
    pub body: Option<String>,
    /// The `traceparent` it carries, when the run propagates one.
    pub trace: Option<genbench_collectors::traces::TraceIds>,
    /// A replayed row's method, where it is not the template's.
    pub method: Option<String>,
    /// A replayed row's headers, sent after the scenario's.
    pub headers: Vec<(String, String)>,
}

/// Renders requests from a validated template and its datasets.
#[derive(Debug, Clone)]
pub struct RequestFactory {
    template: Template,
    draws: Draws,
}

/// A dataset the template uses: one draw picks a row, which gives every
/// used column's variable.
#[derive(Debug, Clone)]
struct Drawn {
    /// (variable, column index).
    used: Vec<(String, usize)>,
    rows: Vec<Vec<String>>,
    sampler: Sampler,
}

/// The datasets a set of variables comes from. A flow draws its rows once
/// and renders every step from them, so a topic stays one topic.
#[derive(Debug, Clone, Default)]
pub struct Draws {
    datasets: Vec<Drawn>,
}

impl Draws {
    pub fn new(variables: &[String], datasets: &BTreeMap<String, Dataset>) -> Self {
        let datasets = datasets
            .values()
            .filter_map(|d| {
                let used: Vec<(String, usize)> = d
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| variables.contains(c))
                    .map(|(i, c)| (c.clone(), i))
                    .collect();
                (!used.is_empty()).then(|| Drawn {
                    used,
                    rows: d.rows.clone(),
                    sampler: Sampler::new(d.rows.len(), d.repeat),
                })
            })
            .collect();
        Draws { datasets }
    }

    /// One row of each dataset, into `rows` (cleared first).
    pub fn draw(&self, rng: &mut Rng, rows: &mut Vec<usize>) {
        rows.clear();
        rows.extend(self.datasets.iter().map(|d| d.sampler.draw(rng)));
    }

    /// The variables' values in the drawn `rows`, added to `out`.
    pub fn values<'a>(&'a self, rows: &[usize], out: &mut BTreeMap<&'a str, &'a str>) {
        for (d, r) in self.datasets.iter().zip(rows) {
            let row = &d.rows[*r];
            for (name, i) in &d.used {
                out.insert(name, &row[*i]);
            }
        }
    }
}

/// A template's path and body, with how its body escapes values.
#[derive(Debug, Clone)]
pub struct Template {
    path: String,
    body: Option<String>,
    body_escape: Escape,
}

impl Template {
    pub fn new(t: &RequestTemplate) -> Self {
        let json = t
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("json"))
            || t.body
                .as_deref()
                .is_some_and(|b| b.trim_start().starts_with('{'));
        Template {
            path: t.path.clone(),
            body: t.body.clone(),
            body_escape: if json { Escape::Json } else { Escape::Raw },
        }
    }

    /// Renders with `values` into `out`, reusing its strings. A path that
    /// starts with a placeholder takes that value as it is: it is a path
    /// an earlier step was given (`Location`), not a segment to escape.
    pub fn render_into(&self, values: &BTreeMap<&str, &str>, out: &mut Rendered) {
        match self
            .path
            .strip_prefix("{{")
            .and_then(|r| r.split_once("}}"))
        {
            Some((var, rest)) => {
                let mut tail = String::new();
                render(rest, values, Escape::Url, &mut tail);
                out.path.clear();
                out.path
                    .push_str(values.get(var.trim()).copied().unwrap_or(""));
                out.path.push_str(&tail);
            }
            None => render(&self.path, values, Escape::Url, &mut out.path),
        }
        match self.body.as_deref() {
            Some(b) => render(
                b,
                values,
                self.body_escape,
                out.body.get_or_insert_default(),
            ),
            None => out.body = None,
        }
    }
}

impl RequestFactory {
    pub fn new(template: &RequestTemplate, datasets: &BTreeMap<String, Dataset>) -> Self {
        RequestFactory {
            template: Template::new(template),
            draws: Draws::new(&template.variables, datasets),
        }
    }

    pub fn render(&self, rng: &mut Rng) -> Rendered {
        let mut out = Rendered::default();
        self.render_into(rng, &mut out);
        out
    }

    /// Draws the next request into `out`, reusing its strings.
    pub fn render_into(&self, rng: &mut Rng, out: &mut Rendered) {
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        for d in &self.draws.datasets {
            let row = &d.rows[d.sampler.draw(rng)];
            for (name, i) in &d.used {
                values.insert(name, &row[*i]);
            }
        }
        self.template.render_into(&values, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn pairs_are_found_where_str_find_finds_them(s in "[a{}é]{0,24}") {
            proptest::prop_assert_eq!(find_pair(&s, b'{'), s.find("{{"));
            proptest::prop_assert_eq!(find_pair(&s, b'}'), s.find("}}"));
        }
    }

    fn counts(s: &Sampler, n: usize, draws: usize) -> Vec<usize> {
        let mut rng = Rng::new(11);
        let mut c = vec![0; n];
        for _ in 0..draws {
            c[s.draw(&mut rng)] += 1;
        }
        c
    }

    #[test]
    fn hot_set_sends_the_hot_fraction_to_the_hot_values() {
        let s = Sampler::new(
            100,
            Repeat::HotSet {
                hot_set: 0.2,
                hot_fraction: 0.8,
            },
        );
        let c = counts(&s, 100, 100_000);
        let hot: usize = c[..20].iter().sum();
        assert!((hot as f64 / 100_000.0 - 0.8).abs() < 0.01, "{hot}");
    }

    #[test]
    fn zipf_ranks_fall_off_as_a_power_law() {
        let s = Sampler::new(1000, Repeat::Zipf { s: 1.0 });
        let c = counts(&s, 1000, 200_000);
        let ratio = c[0] as f64 / c[1] as f64;
        assert!((ratio - 2.0).abs() < 0.15, "rank 1 / rank 2 = {ratio}");
        assert!(c[0] > c[9] * 8, "{} vs {}", c[0], c[9]);
    }

    #[test]
    fn uniform_covers_everything() {
        let c = counts(&Sampler::new(10, Repeat::Uniform), 10, 10_000);
        assert!(c.iter().all(|n| (800..1200).contains(n)), "{c:?}");
    }

    #[test]
    fn values_are_escaped_for_where_they_go() {
        let t = RequestTemplate {
            method: "POST".into(),
            path: "/search?q={{topic}}".into(),
            headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
            body: Some(r#"{"topic": "{{topic}}"}"#.into()),
            stream: false,
            variables: vec!["topic".into()],
            extracted: Vec::new(),
            checks: Default::default(),
            follow_redirects: 0,
        };
        let d = BTreeMap::from([(
            "topic".to_string(),
            Dataset {
                columns: vec!["topic".into()],
                rows: vec![vec!["a \"quoted\" & café".into()]],
                repeat: Repeat::Uniform,
            },
        )]);
        let r = RequestFactory::new(&t, &d).render(&mut Rng::new(1));
        assert_eq!(r.path, "/search?q=a%20%22quoted%22%20%26%20caf%C3%A9");
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["topic"], "a \"quoted\" & café");
    }

    #[test]
    fn rendering_into_a_reused_request_equals_rendering_afresh() {
        let s = genbench_scenarios::builtin("baseline").unwrap().unwrap();
        let f = RequestFactory::new(&s.request, &s.datasets);
        let (mut a, mut b) = (Rng::new(5), Rng::new(5));
        let mut reused = Rendered::default();
        for _ in 0..50 {
            f.render_into(&mut a, &mut reused);
            assert_eq!(reused, f.render(&mut b));
        }
    }

    #[test]
    fn one_draw_gives_every_column_of_the_same_row() {
        let t = RequestTemplate {
            method: "POST".into(),
            path: "/a?len={{target_length}}".into(),
            headers: BTreeMap::new(),
            body: Some(r#"{"topic": "{{topic}}", "industry": "{{industry}}"}"#.into()),
            stream: false,
            variables: vec!["target_length".into(), "topic".into(), "industry".into()],
            extracted: Vec::new(),
            checks: Default::default(),
            follow_redirects: 0,
        };
        let rows = (0..20)
            .map(|i| vec![format!("t{i}"), format!("i{i}"), i.to_string()])
            .collect();
        let d = BTreeMap::from([(
            "articles".to_string(),
            Dataset {
                columns: vec!["topic".into(), "industry".into(), "target_length".into()],
                rows,
                repeat: Repeat::Uniform,
            },
        )]);
        let f = RequestFactory::new(&t, &d);
        let mut rng = Rng::new(9);
        for _ in 0..50 {
            let r = f.render(&mut rng);
            let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
            let n = r.path.trim_start_matches("/a?len=");
            assert_eq!(body["topic"], format!("t{n}"));
            assert_eq!(body["industry"], format!("i{n}"));
        }
    }

    #[test]
    fn builtin_baseline_renders_valid_json() {
        let s = genbench_scenarios::builtin("baseline").unwrap().unwrap();
        let f = RequestFactory::new(&s.request, &s.datasets);
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let body: serde_json::Value =
                serde_json::from_str(f.render(&mut rng).body.as_deref().unwrap()).unwrap();
            let topics = s.datasets["topic"].column("topic").unwrap();
            assert!(topics.contains(&body["topic"].as_str().unwrap()));
        }
    }
}
