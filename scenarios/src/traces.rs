//! `[collect.traces]`: the target's own OpenTelemetry spans, joined to
//! genbench's requests by the W3C `traceparent` each request carries.
//!
//! ```toml
//! [collect.traces]
//! listen = "127.0.0.1:4318"   # OTLP/HTTP receiver for the run (port 0: any)
//! # file = "spans.jsonl"      # or: a Collector's file exporter output, read after the run
//! drain = "10s"               # wait for late batches after the load
//! slowest = 20                # whole span trees kept for the slowest requests
//!
//! [collect.traces.stages]     # optional: name and group spans
//! search = { attr = "url.full", prefix = "https://www.googleapis.com/customsearch" }
//! rerank = { name = "rerank" }
//! ```
//!
//! With none of `listen` and `file`, the table only turns propagation on
//! (`propagate = true`): requests carry `traceparent` for the service's own
//! tracing backend, and genbench receives nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::serde_secs::secs;

/// Where spans come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanSource {
    /// An OTLP/HTTP receiver genbench runs for the run, at this address.
    Listen(String),
    /// OTLP JSON lines an OpenTelemetry Collector's file exporter wrote,
    /// read once the load has ended (a path as given, relative to where
    /// genbench runs).
    File(String),
    /// None: requests carry `traceparent`, and that is all.
    None,
}

/// How spans are matched to a named stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanMatch {
    /// The span's name, exactly.
    Name(String),
    /// The span's name starts with this.
    NamePrefix(String),
    /// A string attribute equals a value.
    AttrEquals { attr: String, value: String },
    /// A string attribute starts with a prefix.
    AttrPrefix { attr: String, prefix: String },
    /// A string attribute contains a text (a URL's path, whatever the host).
    AttrContains { attr: String, text: String },
    /// The attribute is present, whatever its value.
    AttrPresent(String),
}

/// One `[collect.traces.stages]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageRule {
    pub stage: String,
    pub matches: SpanMatch,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traces {
    pub source: SpanSource,
    /// Whether requests carry `traceparent` (always, when spans are read).
    pub propagate: bool,
    /// How long the run waits after the load for spans still on their way
    /// (exporters batch: the Python SDK every 5 s); it ends sooner once
    /// every request's root span has come.
    #[serde(serialize_with = "secs")]
    pub drain: Duration,
    /// Requests whose whole span trees are kept, slowest first.
    pub slowest: usize,
    /// Named stages, tried in name order; a span no rule names gets the
    /// default name (see the collectors' traces module).
    pub stages: Vec<StageRule>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(10);
pub const DEFAULT_SLOWEST: usize = 20;
/// Most span trees kept whole: each is at most a few hundred spans.
pub const MAX_SLOWEST: usize = 1000;
const MAX_STAGE_RULES: usize = 64;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTraces {
    listen: Option<String>,
    file: Option<String>,
    propagate: Option<bool>,
    drain: Option<String>,
    slowest: Option<usize>,
    #[serde(default)]
    stages: BTreeMap<String, RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    name_prefix: Option<String>,
    attr: Option<String>,
    equals: Option<String>,
    prefix: Option<String>,
    contains: Option<String>,
}

const KEY: &str = "collect.traces";

fn bad<T>(key: &str, m: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid::new(format!("{KEY}.{key}"), m.into()))
}

impl RawTraces {
    pub(crate) fn validate(self) -> Result<Traces, Invalid> {
        let source = match (self.listen, self.file) {
            (Some(_), Some(_)) => {
                return bad(
                    "file",
                    "give listen (genbench receives spans during the run) or file (a Collector wrote them), not both",
                );
            }
            (Some(l), None) => SpanSource::Listen(listen_addr(l)?),
            (None, Some(f)) if f.trim().is_empty() => {
                return bad("file", "a path to OTLP JSON lines, e.g. \"spans.jsonl\"");
            }
            (None, Some(f)) => SpanSource::File(f),
            (None, None) if self.propagate == Some(true) => SpanSource::None,
            (None, None) => SpanSource::Listen(DEFAULT_LISTEN.into()),
        };
        if self.propagate == Some(false) && source != SpanSource::None {
            return bad(
                "propagate",
                "spans are joined to requests by the traceparent they carry; propagate = false leaves nothing to join (drop the key)",
            );
        }
        let drain = match self.drain {
            None => DEFAULT_DRAIN,
            Some(d) => parse_duration(&d).map_err(|m| Invalid::new(format!("{KEY}.drain"), m))?,
        };
        let slowest = self.slowest.unwrap_or(DEFAULT_SLOWEST);
        if slowest > MAX_SLOWEST {
            return bad(
                "slowest",
                format!("at most {MAX_SLOWEST} span trees are kept whole; {slowest} given"),
            );
        }
        if self.stages.len() > MAX_STAGE_RULES {
            return bad("stages", format!("at most {MAX_STAGE_RULES} named stages"));
        }
        let stages = self
            .stages
            .into_iter()
            .map(|(stage, r)| {
                r.validate(&stage)
                    .map(|matches| StageRule { stage, matches })
            })
            .collect::<Result<_, _>>()?;
        Ok(Traces {
            source,
            propagate: true,
            drain,
            slowest,
            stages,
        })
    }
}

fn listen_addr(l: String) -> Result<String, Invalid> {
    match l.parse::<std::net::SocketAddr>() {
        Ok(_) => Ok(l),
        Err(_) => bad(
            "listen",
            format!(
                "`{l}`: an address and port, e.g. \"127.0.0.1:4318\" (port 0 picks a free one)"
            ),
        ),
    }
}

impl RawRule {
    fn has_value(&self) -> bool {
        self.equals.is_some() || self.prefix.is_some() || self.contains.is_some()
    }

    fn validate(self, stage: &str) -> Result<SpanMatch, Invalid> {
        let key = format!("stages.{stage}");
        if !crate::names::valid_name(stage) {
            return bad(&key, "a stage's name is letters, digits, `_` and `-`");
        }
        let text = |v: String, what: &str| {
            if v.is_empty() {
                bad(&key, format!("{what} is empty"))
            } else {
                Ok(v)
            }
        };
        let has_value = self.has_value();
        match (self.name, self.name_prefix, self.attr) {
            (Some(n), None, None) if !has_value => Ok(SpanMatch::Name(text(n, "name")?)),
            (None, Some(p), None) if !has_value => {
                Ok(SpanMatch::NamePrefix(text(p, "name_prefix")?))
            }
            (None, None, Some(attr)) => {
                let attr = text(attr, "attr")?;
                match (self.equals, self.prefix, self.contains) {
                    (Some(value), None, None) => Ok(SpanMatch::AttrEquals { attr, value }),
                    (None, Some(prefix), None) => Ok(SpanMatch::AttrPrefix { attr, prefix }),
                    (None, None, Some(text)) => Ok(SpanMatch::AttrContains { attr, text }),
                    (None, None, None) => Ok(SpanMatch::AttrPresent(attr)),
                    _ => bad(&key, "give one of equals, prefix and contains"),
                }
            }
            _ => bad(
                &key,
                "match spans by one of: name = \"span name\", name_prefix = \"db.\", or attr = \"url.full\" with prefix = \"https://...\", contains = \"/customsearch\" or equals = \"value\"",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(t: &str) -> Result<Traces, Invalid> {
        toml::from_str::<RawTraces>(t).unwrap().validate()
    }

    #[test]
    fn an_empty_table_listens_on_loopback() {
        let t = traces("").unwrap();
        assert_eq!(t.source, SpanSource::Listen(DEFAULT_LISTEN.into()));
        assert!(t.propagate);
        assert_eq!((t.drain, t.slowest), (DEFAULT_DRAIN, DEFAULT_SLOWEST));
        let t = traces("propagate = true").unwrap();
        assert_eq!(t.source, SpanSource::None);
        let t = traces("file = \"spans.jsonl\"\ndrain = \"0s\"").unwrap();
        assert_eq!(t.source, SpanSource::File("spans.jsonl".into()));
        assert_eq!(t.drain, Duration::ZERO);
    }

    #[test]
    fn stage_rules_match_by_name_or_attribute() {
        let t = traces(
            "[stages]\nsearch = { attr = \"url.full\", prefix = \"https://s\" }\nrerank = { name = \"rerank\" }\ndb = { name_prefix = \"SELECT\" }\nmodel = { attr = \"gen_ai.request.model\", equals = \"gpt-4o\" }\nany = { attr = \"peer.service\" }",
        )
        .unwrap();
        let got: Vec<(&str, &SpanMatch)> = t
            .stages
            .iter()
            .map(|r| (r.stage.as_str(), &r.matches))
            .collect();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].0, "any");
        assert_eq!(got[1].1, &SpanMatch::NamePrefix("SELECT".into()));
        assert_eq!(
            got[4].1,
            &SpanMatch::AttrPrefix {
                attr: "url.full".into(),
                prefix: "https://s".into()
            }
        );
    }

    #[test]
    fn mistakes_name_the_key_and_the_fix() {
        let crate::error::Invalid {
            key: k, message: m, ..
        } = traces("listen = \"localhost\"").unwrap_err();
        assert_eq!(k, "collect.traces.listen");
        assert!(m.contains("127.0.0.1:4318"), "{m}");
        let crate::error::Invalid {
            key: k, message: _, ..
        } = traces("listen = \"127.0.0.1:0\"\nfile = \"x\"").unwrap_err();
        assert_eq!(k, "collect.traces.file");
        let crate::error::Invalid {
            key: k, message: m, ..
        } = traces("propagate = false").unwrap_err();
        assert_eq!(k, "collect.traces.propagate");
        assert!(m.contains("drop the key"), "{m}");
        let crate::error::Invalid {
            key: k, message: m, ..
        } = traces("[stages]\nx = { name = \"a\", attr = \"b\" }").unwrap_err();
        assert_eq!(k, "collect.traces.stages.x");
        assert!(m.contains("name_prefix"), "{m}");
        let crate::error::Invalid { key: k, .. } =
            traces("[stages]\nx = { attr = \"a\", equals = \"b\", prefix = \"c\" }").unwrap_err();
        assert_eq!(k, "collect.traces.stages.x");
        let crate::error::Invalid {
            key: k, message: _, ..
        } = traces("slowest = 5000").unwrap_err();
        assert_eq!(k, "collect.traces.slowest");
        let crate::error::Invalid {
            key: k, message: _, ..
        } = traces("drain = \"soon\"").unwrap_err();
        assert_eq!(k, "collect.traces.drain");
        let crate::error::Invalid {
            key: k, message: _, ..
        } = traces("[stages]\n\"a b\" = { name = \"x\" }").unwrap_err();
        assert_eq!(k, "collect.traces.stages.a b");
    }
}
