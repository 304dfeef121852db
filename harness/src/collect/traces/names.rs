//! Which stage a span is: the scenario's `[collect.traces.stages]` rules
//! first (in name order), then names that say what a pipeline does with no
//! configuration, following OpenTelemetry's semantic conventions:
//! - a GenAI span: its operation and model, `chat gpt-4o-mini`;
//! - an HTTP client span: the peer it calls, `api.openai.com:443`;
//! - a database span: its system, `redis`;
//! - anything else: the span's name.

use genbench_scenarios::{SpanMatch, StageRule};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

use super::attrs::attr_str;

/// Longest stage name kept, bytes.
const MAX_NAME: usize = 96;

pub struct Namer {
    rules: Vec<StageRule>,
}

impl Namer {
    pub fn new(rules: &[StageRule]) -> Namer {
        Namer {
            rules: rules.to_vec(),
        }
    }

    pub fn name(&self, s: &Span) -> String {
        let name = self
            .rules
            .iter()
            .find(|r| matches(&r.matches, s))
            .map(|r| r.stage.clone())
            .unwrap_or_else(|| default_name(s));
        let end = name.floor_char_boundary(MAX_NAME);
        name[..end].to_string()
    }
}

/// Attributes the semantic conventions renamed (new, old): a rule naming
/// either matches a span of instrumentation on either side of the change.
const RENAMED: [(&str, &str); 5] = [
    ("url.full", "http.url"),
    ("http.request.method", "http.method"),
    ("http.response.status_code", "http.status_code"),
    ("server.address", "net.peer.name"),
    ("server.port", "net.peer.port"),
];

fn matches(m: &SpanMatch, s: &Span) -> bool {
    let a = |k: &str| {
        attr_str(&s.attributes, k).or_else(|| {
            let other = RENAMED.iter().find_map(|&(new, old)| match k {
                _ if k == new => Some(old),
                _ if k == old => Some(new),
                _ => None,
            })?;
            attr_str(&s.attributes, other)
        })
    };
    match m {
        SpanMatch::Name(n) => s.name == *n,
        SpanMatch::NamePrefix(p) => s.name.starts_with(p.as_str()),
        SpanMatch::AttrEquals { attr, value } => a(attr).is_some_and(|v| v == *value),
        SpanMatch::AttrPrefix { attr, prefix } => {
            a(attr).is_some_and(|v| v.starts_with(prefix.as_str()))
        }
        SpanMatch::AttrContains { attr, text } => {
            a(attr).is_some_and(|v| v.contains(text.as_str()))
        }
        SpanMatch::AttrPresent(attr) => a(attr).is_some(),
    }
}

fn default_name(s: &Span) -> String {
    let attrs = &s.attributes;
    let a = |k: &str| attr_str(attrs, k);
    if let Some(op) = a("gen_ai.operation.name") {
        return match a("gen_ai.request.model").or_else(|| a("gen_ai.response.model")) {
            Some(model) => format!("{op} {model}"),
            None => op,
        };
    }
    let http = a("http.request.method")
        .or_else(|| a("http.method"))
        .is_some();
    if s.kind == SpanKind::Client as i32
        && http
        && let Some(peer) = peer(attrs)
    {
        return peer;
    }
    if let Some(db) = a("db.system.name").or_else(|| a("db.system")) {
        return db;
    }
    s.name.clone()
}

/// The host (and port) an HTTP client span calls.
fn peer(attrs: &[KeyValue]) -> Option<String> {
    let a = |k: &str| attr_str(attrs, k);
    let host_port = |h: String, p: Option<String>| match p {
        Some(p) => format!("{h}:{p}"),
        None => h,
    };
    if let Some(h) = a("server.address") {
        return Some(host_port(h, a("server.port")));
    }
    if let Some(u) = a("url.full").or_else(|| a("http.url")) {
        return url_authority(&u).map(str::to_string);
    }
    a("net.peer.name").map(|h| host_port(h, a("net.peer.port")))
}

/// `host:port` of an absolute URL, without credentials.
fn url_authority(u: &str) -> Option<&str> {
    let rest = u.split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?;
    let auth = auth.rsplit_once('@').map_or(auth, |(_, a)| a);
    (!auth.is_empty()).then_some(auth)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};

    use super::*;

    fn span(name: &str, kind: SpanKind, attrs: &[(&str, &str)]) -> Span {
        Span {
            name: name.into(),
            kind: kind as i32,
            attributes: attrs
                .iter()
                .map(|(k, v)| KeyValue {
                    key: (*k).into(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue((*v).into())),
                    }),
                    ..KeyValue::default()
                })
                .collect(),
            ..Span::default()
        }
    }

    #[test]
    fn defaults_name_what_a_pipeline_does() {
        let n = Namer::new(&[]);
        let chat = span(
            "chat",
            SpanKind::Client,
            &[
                ("gen_ai.operation.name", "chat"),
                ("gen_ai.request.model", "gpt-4o-mini"),
            ],
        );
        assert_eq!(n.name(&chat), "chat gpt-4o-mini");
        let get = span(
            "GET",
            SpanKind::Client,
            &[
                ("http.request.method", "GET"),
                ("server.address", "127.0.0.1"),
                ("server.port", "8702"),
            ],
        );
        assert_eq!(n.name(&get), "127.0.0.1:8702");
        let old = span(
            "GET",
            SpanKind::Client,
            &[
                ("http.method", "GET"),
                ("http.url", "https://u:p@api.example.com:8443/x?q=1"),
            ],
        );
        assert_eq!(n.name(&old), "api.example.com:8443");
        let db = span("GET key", SpanKind::Client, &[("db.system", "redis")]);
        assert_eq!(n.name(&db), "redis");
        let server = span(
            "POST /api/v1/generate-article",
            SpanKind::Server,
            &[("http.request.method", "POST")],
        );
        assert_eq!(n.name(&server), "POST /api/v1/generate-article");
    }

    #[test]
    fn rules_come_first() {
        let rules = [
            StageRule {
                stage: "search".into(),
                matches: SpanMatch::AttrPrefix {
                    attr: "url.full".into(),
                    prefix: "http://127.0.0.1:9/customsearch".into(),
                },
            },
            StageRule {
                stage: "extract".into(),
                matches: SpanMatch::Name("extract".into()),
            },
        ];
        let n = Namer::new(&rules);
        let s = span(
            "GET",
            SpanKind::Client,
            &[
                ("http.request.method", "GET"),
                ("url.full", "http://127.0.0.1:9/customsearch/v1?q=a"),
            ],
        );
        assert_eq!(n.name(&s), "search");
        // The same rule matches instrumentation still on the old names.
        let old = [
            ("http.method", "GET"),
            ("http.url", "http://127.0.0.1:9/customsearch/v1"),
        ];
        assert_eq!(n.name(&span("GET", SpanKind::Client, &old)), "search");
        assert_eq!(n.name(&span("extract", SpanKind::Internal, &[])), "extract");
        let long = "x".repeat(500);
        assert_eq!(
            n.name(&span(&long, SpanKind::Internal, &[])).len(),
            MAX_NAME
        );
    }
}
