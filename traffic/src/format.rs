//! The trace formats, and how a row's columns become a request: the same
//! rules for JSON lines, CSV and `--records`, so a column called `path`
//! means the path whichever file it is in.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credentials::{is_credential, is_hop_by_hop};
use crate::row::{LlmRow, RowRequest};
use crate::timefmt::parse_rfc3339;

/// A trace's format (`[load.replay] format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// genbench's own `--records` lines: `scheduled_s`, method, path, body.
    Records,
    /// One JSON object per line: a time column, and columns that are the
    /// method, path, headers and body or template variables.
    Jsonl,
    /// A header row, then the same columns as JSON lines.
    Csv,
    /// nginx's and Apache's combined and common log formats.
    AccessLog,
    /// An LLM request trace: time (ms), input and output lengths in tokens,
    /// and optional prompt block ids (`hash_ids`, as mooncake writes).
    LlmTrace,
}

impl Format {
    pub const NAMES: &'static str = "records, jsonl, csv, access-log, llm-trace";
}

/// The unit of a numeric time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    S,
    Ms,
    Us,
    Ns,
}

impl TimeUnit {
    fn seconds(self) -> f64 {
        match self {
            TimeUnit::S => 1.0,
            TimeUnit::Ms => 1e-3,
            TimeUnit::Us => 1e-6,
            TimeUnit::Ns => 1e-9,
        }
    }
}

/// How to read a trace's rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub format: Format,
    /// The column with each row's time; each format has its default.
    pub time_column: String,
    pub time_unit: TimeUnit,
}

impl Layout {
    /// `format` with its default time column and unit, unless given.
    pub fn new(format: Format, time_column: Option<String>, time_unit: Option<TimeUnit>) -> Self {
        let (column, unit) = match format {
            Format::Records => ("scheduled_s", TimeUnit::S),
            Format::LlmTrace => ("timestamp", TimeUnit::Ms),
            Format::Jsonl | Format::Csv | Format::AccessLog => ("timestamp", TimeUnit::S),
        };
        Layout {
            format,
            time_column: time_column.unwrap_or_else(|| column.to_string()),
            time_unit: time_unit.unwrap_or(unit),
        }
    }

    /// A time cell: a number in the layout's unit, or an RFC 3339 instant.
    pub(crate) fn time(&self, v: &str) -> Result<f64, String> {
        let v = v.trim();
        if let Ok(n) = v.parse::<f64>()
            && n.is_finite()
        {
            return Ok(n * self.time_unit.seconds());
        }
        parse_rfc3339(v)
            .map(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64())
            })
            .map_err(|_| {
                format!(
                    "`{}` is `{v}`, neither a number (in {:?}, set by time_unit) nor an RFC 3339 time",
                    self.time_column, self.time_unit
                )
            })
    }
}

/// Builds a row's request from its columns, in the order they come.
#[derive(Default)]
pub(crate) struct Columns {
    pub at_s: Option<f64>,
    pub request: RowRequest,
    pub input: Option<u32>,
    pub output: Option<u32>,
}

/// Columns that `genbench record` writes for information and a replay
/// does not send.
const INFORMATIONAL: [&str; 2] = ["status", "latency_ms"];

impl Columns {
    /// Takes column `key` with text `v` (already unquoted).
    pub fn text(&mut self, layout: &Layout, key: &str, v: &str) -> Result<(), String> {
        if key == layout.time_column {
            self.at_s = Some(layout.time(v)?);
            return Ok(());
        }
        let r = &mut self.request;
        match (layout.format, key) {
            (_, "method") => {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(format!(
                        "`method` is `{v}`, not an HTTP method like GET or POST"
                    ));
                }
                r.method = Some(v.to_ascii_uppercase());
            }
            (_, "path") => {
                if !v.starts_with('/') {
                    return Err(format!(
                        "`path` is `{v}`: a request target starts with `/` (the part of the URL after the host)"
                    ));
                }
                r.path = Some(v.to_string());
            }
            (_, "body") => r.body = Some(v.to_string()),
            (Format::LlmTrace, "input_length" | "input_tokens") => {
                self.input = Some(tokens(key, v)?)
            }
            (Format::LlmTrace, "output_length" | "output_tokens") => {
                self.output = Some(tokens(key, v)?)
            }
            (Format::Records, _) => {}
            (_, k) if INFORMATIONAL.contains(&k) => {}
            (_, k) => r.vars.push((k.to_string(), v.to_string())),
        }
        Ok(())
    }

    /// Takes a JSON column: objects for `headers`, arrays for `hash_ids`,
    /// and JSON bodies kept as their text.
    pub fn json(&mut self, layout: &Layout, key: &str, v: &Value) -> Result<(), String> {
        match (key, v) {
            (_, Value::Null) => Ok(()),
            (_, Value::String(s)) => self.text(layout, key, s),
            ("headers", Value::Object(map)) if layout.format != Format::Records => {
                for (name, value) in map {
                    let Some(value) = value.as_str() else {
                        return Err(format!("header `{name}` is not a string"));
                    };
                    self.header(name, value)?;
                }
                Ok(())
            }
            ("hash_ids", Value::Array(ids)) if layout.format == Format::LlmTrace => {
                let blocks = ids.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>();
                let blocks = blocks.ok_or("`hash_ids` must be a list of whole numbers")?;
                self.llm_mut().blocks = blocks;
                Ok(())
            }
            // Numbers, booleans, a JSON body, and other nested values: as
            // their JSON text.
            _ => self.text(layout, key, &v.to_string()),
        }
    }

    /// A header from the trace: credentials and the connection's own
    /// headers are left out. A name that is not an HTTP token, or a value
    /// with a line break or NUL, would write other headers (or requests)
    /// into the stream: refused.
    pub fn header(&mut self, name: &str, value: &str) -> Result<(), String> {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return Err(format!(
                "header `{name}` is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
            ));
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(format!("header `{name}`'s value has a line break or NUL"));
        }
        if is_credential(name) {
            self.request.credentials_dropped += 1;
        } else if !is_hop_by_hop(name) {
            self.request
                .headers
                .push((name.to_string(), value.to_string()));
        }
        Ok(())
    }

    fn llm_mut(&mut self) -> &mut LlmRow {
        self.request.llm.get_or_insert_default()
    }

    /// The row's time and request, once every column is in.
    pub fn finish(mut self, layout: &Layout) -> Result<(f64, RowRequest), String> {
        let at_s = self.at_s.ok_or_else(|| {
            format!(
                "no `{}` column: every row needs its time (set time_column in [load.replay] to the column that has it)",
                layout.time_column
            )
        })?;
        if layout.format == Format::LlmTrace {
            let (Some(input), Some(output)) = (self.input, self.output) else {
                return Err("an llm-trace row needs `input_length` and `output_length` (tokens; `input_tokens` and `output_tokens` work too)".into());
            };
            let llm = self.llm_mut();
            llm.input_tokens = input;
            llm.output_tokens = output;
        }
        Ok((at_s, self.request))
    }
}

fn tokens(key: &str, v: &str) -> Result<u32, String> {
    v.trim()
        .parse::<u32>()
        .map_err(|_| format!("`{key}` is `{v}`, not a whole number of tokens"))
}
