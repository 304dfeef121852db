//! What the engine reads from a finished response besides its timing: the
//! cache status and token usage its JSON body states, for scenarios whose
//! `[collect]` points there, and the status of each named cache read from
//! a header or the body. Runs only on successful responses.

use genbench_collectors::body::{self, documents};
use genbench_collectors::response::MAX_NAMED;
use genbench_collectors::{BodyFacts, Sample};
use serde_json::Value;

/// JSON pointers for usage: the OpenAI-shaped usage object, the model's
/// name (or `default_model`), and the search calls made.
#[derive(Debug, Clone, Default)]
pub struct UsageFields {
    pub usage: String,
    pub model: String,
    pub default_model: String,
    pub search_calls: Option<String>,
}

/// Where a named cache's status is read from each response; `None` for
/// a cache counted by the target's own counters (read by the harness).
#[derive(Debug, Clone, PartialEq)]
pub enum NamedRead {
    /// A response header (lowercase name).
    Header(String),
    /// A JSON pointer into the body.
    Json(String),
    None,
}

#[derive(Debug, Clone, Default)]
pub struct Inspect {
    pub cache_pointer: Option<String>,
    pub usage: Option<UsageFields>,
    /// `[collect.caches.NAME]`, in name order: its tally's index.
    pub caches: Vec<NamedRead>,
}

impl Inspect {
    /// Whether bodies must be kept at all.
    pub fn needs_body(&self) -> bool {
        self.cache_pointer.is_some()
            || self.usage.is_some()
            || self.caches.iter().any(|c| matches!(c, NamedRead::Json(_)))
    }

    /// The response headers named caches are read from.
    pub fn headers(&self) -> Vec<String> {
        self.caches
            .iter()
            .filter_map(|c| match c {
                NamedRead::Header(h) => Some(h.clone()),
                _ => None,
            })
            .collect()
    }

    /// The body's JSON documents, when anything reads them (the events of
    /// an event stream, or the one document), and the body can hold what
    /// they read (`keys`, [`BodyKeys::of`] this): most responses to a
    /// scenario that prices usage have none, and parsing them all was a
    /// quarter of the engine's time per response.
    pub fn documents(&self, keys: &BodyKeys, body: &[u8]) -> Vec<Value> {
        if !self.needs_body() || body.is_empty() || !keys.could_hold(body) {
            return Vec::new();
        }
        documents(body)
    }

    /// The JSON pointers whose values are read on their own (the model's
    /// name is read only beside a usage object).
    fn pointers(&self) -> impl Iterator<Item = &str> {
        let usage = self.usage.iter().flat_map(|u| {
            [Some(&u.usage), u.search_calls.as_ref()]
                .into_iter()
                .flatten()
        });
        let named = self.caches.iter().filter_map(|c| match c {
            NamedRead::Json(p) => Some(p),
            _ => None,
        });
        self.cache_pointer
            .iter()
            .chain(usage)
            .chain(named)
            .map(String::as_str)
    }

    /// Sets the sample's cache status from the body (before it is recorded)
    /// and reads what else it says: each named cache's status (`header`
    /// finds a kept response header by name), the usage and search calls.
    pub fn read<'a>(
        &'a self,
        sample: &mut Sample,
        docs: &'a [Value],
        header: impl Fn(&str) -> Option<&'a [u8]>,
    ) -> BodyFacts<'a> {
        let mut facts = BodyFacts::default();
        for (i, c) in self.caches.iter().enumerate().take(MAX_NAMED) {
            facts.caches[i] = match c {
                NamedRead::Header(h) => header(h).and_then(super::h1::cache_status),
                NamedRead::Json(p) => body::cache_status(docs, p),
                NamedRead::None => None,
            };
        }
        if docs.is_empty() {
            return facts;
        }
        if let Some(p) = &self.cache_pointer {
            sample.cache = body::cache_status(docs, p);
        }
        if let Some(u) = &self.usage {
            if let Some(usage) = body::usage(docs, &u.usage) {
                let model = body::find(docs, &u.model)
                    .and_then(Value::as_str)
                    .unwrap_or(&u.default_model);
                facts.usage = Some((model, usage));
            }
            if let Some(p) = &u.search_calls {
                facts.search_calls = body::find(docs, p).and_then(Value::as_u64).unwrap_or(0);
            }
        }
        facts
    }
}

/// Which bodies can hold a value at one of an [`Inspect`]'s pointers: a
/// pointer whose first step is an object key resolves only where the body
/// has that key, which unescaped is the bytes `"key"` and then, past any
/// whitespace, a colon. A body with a `\u` escape may spell a key
/// otherwise, and a step that is an array index or empty names no key:
/// then any body can. Built once per run.
#[derive(Debug, Clone)]
pub struct BodyKeys {
    /// Each key quoted; `None`: any body can hold one.
    quoted: Option<Vec<memchr::memmem::Finder<'static>>>,
    /// `\u`, which may spell a key otherwise.
    escape: memchr::memmem::Finder<'static>,
}

impl Default for BodyKeys {
    fn default() -> Self {
        BodyKeys {
            quoted: None,
            escape: memchr::memmem::Finder::new(b"\\u").into_owned(),
        }
    }
}

impl BodyKeys {
    pub fn of(inspect: &Inspect) -> Self {
        BodyKeys {
            quoted: inspect.pointers().map(quoted_key).collect(),
            ..BodyKeys::default()
        }
    }

    pub fn could_hold(&self, body: &[u8]) -> bool {
        let Some(keys) = &self.quoted else {
            return true;
        };
        keys.iter().any(|k| {
            k.find_iter(body)
                .any(|at| is_key(body, at + k.needle().len()))
        }) || self.escape.find(body).is_some()
    }
}

/// The first step of `pointer` as a quoted JSON key, if it is one.
fn quoted_key(pointer: &str) -> Option<memchr::memmem::Finder<'static>> {
    let first = pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .next()?;
    if first.is_empty() || first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = first.replace("~1", "/").replace("~0", "~");
    if key
        .bytes()
        .any(|b| b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b))
    {
        return None;
    }
    Some(memchr::memmem::Finder::new(format!("\"{key}\"").as_bytes()).into_owned())
}

/// Whether the string that ends just before `end` is an object's key.
fn is_key(body: &[u8], end: usize) -> bool {
    body[end..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b':')
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use genbench_collectors::{CacheStatus, Outcome};

    use super::*;

    #[test]
    fn cache_and_usage_come_from_the_body() {
        let inspect = Inspect {
            cache_pointer: Some("/cache".into()),
            usage: Some(UsageFields {
                usage: "/usage".into(),
                model: "/model".into(),
                default_model: "unknown".into(),
                search_calls: Some("/search_calls".into()),
            }),
            caches: vec![
                NamedRead::Header("x-audio-cache".into()),
                NamedRead::Json("/tts/cache".into()),
                NamedRead::None,
            ],
        };
        let mut s = Sample {
            scheduled: Duration::ZERO,
            sent: Duration::ZERO,
            first_byte: None,
            end: Duration::from_millis(3),
            outcome: Outcome::Ok(200),
            bytes: 0,
            cache: Some(CacheStatus::Hit),
            trace: None,
        };
        let mut rec = genbench_collectors::Recorder::default();
        let body = br#"{"cache": "miss", "tts": {"cache": "hit"}, "search_calls": 1, "usage": {"prompt_tokens": 100, "completion_tokens": 20}}"#;
        let header = |h: &str| (h == "x-audio-cache").then_some(&b"MISS"[..]);
        let docs = inspect.documents(&BodyKeys::of(&inspect), body);
        let facts = inspect.read(&mut s, &docs, header);
        rec.response(&genbench_collectors::Response {
            body: facts,
            ..genbench_collectors::Response::of(s)
        });
        assert_eq!(rec.named_caches, [[0, 1], [1, 0]]);
        assert_eq!(s.cache, Some(CacheStatus::Miss));
        let (spend, unpriced) = rec.usage.priced(&Default::default());
        assert_eq!(unpriced, ["unknown"]);
        assert_eq!(spend.models["unknown"].usage.prompt, 100);
        assert_eq!(spend.search_calls, 1);
    }

    fn usage_only() -> Inspect {
        Inspect {
            usage: Some(UsageFields {
                usage: "/usage".into(),
                model: "/model".into(),
                default_model: "unknown".into(),
                search_calls: None,
            }),
            ..Inspect::default()
        }
    }

    /// The documents `inspect` reads from `body`.
    fn read(inspect: &Inspect, body: &[u8]) -> usize {
        inspect.documents(&BodyKeys::of(inspect), body).len()
    }

    #[test]
    fn a_body_without_the_keys_read_is_not_parsed() {
        let inspect = usage_only();
        let models = br#"{"object": "list", "data": [{"id": "m", "owned_by": "x"}]}"#;
        assert_eq!(read(&inspect, models), 0);
        // A key read makes it parsed, in a document or an event; the
        // model's name alone is not read.
        assert_eq!(read(&inspect, br#"{"usage": {}}"#), 1);
        assert_eq!(read(&inspect, br#"{"model": "m"}"#), 0);
        let events = b"data: {\"usage\": {\"prompt_tokens\": 1}}\n\ndata: [DONE]\n\n";
        assert_eq!(read(&inspect, events), 1);
        // A key escaped as \u may be any key, and so may an array index.
        assert_eq!(read(&inspect, br#"{"\u0075sage": {}}"#), 1);
        let indexed = Inspect {
            cache_pointer: Some("/0/cache".into()),
            ..Inspect::default()
        };
        assert_eq!(read(&indexed, br#"[{"hit": true}]"#), 1);
    }

    #[test]
    fn keys_are_matched_as_whole_quoted_names_after_unescaping_the_pointer() {
        let keys = |p: &str| BodyKeys {
            quoted: Some(vec![quoted_key(p).unwrap()]),
            ..BodyKeys::default()
        };
        assert!(keys("/a~1b/c").could_hold(br#"{"a/b": {"c": 1}}"#));
        assert!(!keys("/a~1b/c").could_hold(br#"{"a~1b": 1, "xa/bx": 2}"#));
        assert!(!keys("/usage").could_hold(br#"{"usages": 1}"#));
        // A value is not a key: the models list says "object": "model".
        assert!(!keys("/usage").could_hold(br#"{"object": "usage"}"#));
        assert!(keys("/usage").could_hold(b"{\"usage\"\n :{}}"));
        // No pointer that names a key: any body.
        assert!(BodyKeys::default().could_hold(b"{}"));
    }
}
