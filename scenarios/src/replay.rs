//! `[load] model = "replay"` and its `[load.replay]` table: which trace,
//! in which format, and how fast, how often and how much of it to send.

use std::path::PathBuf;
use std::time::Duration;

use genbench_traffic::{Format, Layout, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::serde_secs::{opt_secs, secs};

/// A validated `[load.replay]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    /// As written; relative to the scenario file once the file is known
    /// ([`crate::Scenario::from_file`]).
    pub file: PathBuf,
    pub layout: Layout,
    /// 2.0 sends twice as fast as the trace.
    pub time_scale: f64,
    pub passes: Passes,
    /// The window, on the trace's clock from its first row.
    #[serde(serialize_with = "secs")]
    pub start: Duration,
    #[serde(serialize_with = "opt_secs")]
    pub duration: Option<Duration>,
    /// Requests per second at most.
    pub rate_cap: Option<f64>,
    /// Sort the rows by time (in memory) rather than refuse a trace out of
    /// order.
    pub sort: bool,
    /// `llm-trace`: the model whose tokenizer makes the prompts.
    pub model: String,
    /// `llm-trace`: tokens per prompt block id (mooncake's are 512).
    pub block_tokens: u32,
}

/// How many times the window is sent (`loop`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Passes {
    Count(u32),
    /// Again and again until this long has been sent (`loop = true` with
    /// `run_for`).
    For(#[serde(serialize_with = "secs")] Duration),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReplay {
    file: String,
    format: Format,
    #[serde(default)]
    time_scale: Option<f64>,
    #[serde(default, rename = "loop")]
    looped: Option<toml::Value>,
    #[serde(default)]
    run_for: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    duration: Option<String>,
    #[serde(default)]
    rate_cap: Option<f64>,
    #[serde(default)]
    sort: Option<bool>,
    #[serde(default)]
    time_column: Option<String>,
    #[serde(default)]
    time_unit: Option<TimeUnit>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    block_tokens: Option<u32>,
}

/// The model whose tokenizer an `llm-trace` replay uses unless told.
pub const DEFAULT_REPLAY_MODEL: &str = "gpt-4o-mini";
/// Tokens per prompt block id, as mooncake's traces count them.
pub const DEFAULT_BLOCK_TOKENS: u32 = 512;

fn bad(key: &str, message: impl Into<String>) -> Invalid {
    Invalid::new(format!("load.replay.{key}"), message.into())
}

fn duration_key(key: &str, v: &Option<String>) -> Result<Option<Duration>, Invalid> {
    v.as_deref()
        .map(|d| parse_duration(d).map_err(|m| bad(key, m)))
        .transpose()
}

impl RawReplay {
    pub(crate) fn validate(self) -> Result<Replay, Invalid> {
        if self.file.trim().is_empty() {
            return Err(bad(
                "file",
                "name the trace file, e.g. file = \"traffic.jsonl\" (relative to the scenario file; .gz and .zst are read as they are)",
            ));
        }
        let time_scale = self.time_scale.unwrap_or(1.0);
        if !(time_scale.is_finite() && time_scale > 0.0) {
            return Err(bad(
                "time_scale",
                "a factor above 0: 1 replays as recorded, 3 three times as fast, 0.5 at half speed",
            ));
        }
        if let Some(cap) = self.rate_cap
            && !(cap.is_finite() && cap > 0.0)
        {
            return Err(bad("rate_cap", "requests per second above 0"));
        }
        let run_for = duration_key("run_for", &self.run_for)?;
        let passes = passes(self.looped.as_ref(), run_for)?;
        let duration = duration_key("duration", &self.duration)?;
        if duration.is_some_and(|d| d.is_zero()) {
            return Err(bad("duration", "a window longer than 0, e.g. \"10m\""));
        }
        let llm = self.format == Format::LlmTrace;
        if !llm && (self.model.is_some() || self.block_tokens.is_some()) {
            let key = if self.model.is_some() {
                "model"
            } else {
                "block_tokens"
            };
            return Err(bad(
                key,
                "applies to format = \"llm-trace\" only, whose prompts genbench makes",
            ));
        }
        let block_tokens = self.block_tokens.unwrap_or(DEFAULT_BLOCK_TOKENS);
        if block_tokens == 0 {
            return Err(bad(
                "block_tokens",
                "tokens per prompt block: 1 or more (mooncake's traces use 512)",
            ));
        }
        if self.format == Format::AccessLog
            && (self.time_column.is_some() || self.time_unit.is_some())
        {
            return Err(bad(
                "time_column",
                "an access log's time is its [time] field; time_column and time_unit apply to jsonl, csv, records and llm-trace",
            ));
        }
        Ok(Replay {
            file: PathBuf::from(self.file.trim()),
            layout: Layout::new(self.format, self.time_column, self.time_unit),
            time_scale,
            passes,
            start: duration_key("start", &self.start)?.unwrap_or_default(),
            duration,
            rate_cap: self.rate_cap,
            // genbench writes records as requests finish, not as they were
            // scheduled.
            sort: self.sort.unwrap_or(self.format == Format::Records),
            model: self
                .model
                .unwrap_or_else(|| DEFAULT_REPLAY_MODEL.to_string()),
            block_tokens,
        })
    }
}

/// `loop` (false, true or a number of passes) with `run_for`.
fn passes(looped: Option<&toml::Value>, run_for: Option<Duration>) -> Result<Passes, Invalid> {
    let count = match looped {
        None | Some(toml::Value::Boolean(false)) => 1,
        Some(toml::Value::Boolean(true)) => {
            return match run_for {
                Some(d) if !d.is_zero() => Ok(Passes::For(d)),
                _ => Err(bad(
                    "loop",
                    "loop = true repeats the trace until run_for: add run_for = \"1h\", or give loop a number of passes (loop = 3)",
                )),
            };
        }
        Some(toml::Value::Integer(n)) if *n >= 1 && *n <= i64::from(u32::MAX) => *n as u32,
        Some(other) => {
            return Err(bad(
                "loop",
                format!(
                    "`{other}`: give true (with run_for), false, or a number of passes of 1 or more"
                ),
            ));
        }
    };
    match run_for {
        Some(_) => Err(bad(
            "run_for",
            "applies with loop = true; drop it, or set loop = true",
        )),
        None => Ok(Passes::Count(count)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(extra: &str) -> Result<Replay, Invalid> {
        let t: RawReplay =
            toml::from_str(&format!("file = \"t.jsonl\"\nformat = \"jsonl\"\n{extra}")).unwrap();
        t.validate()
    }

    #[test]
    fn defaults_and_each_key() {
        let r = raw("").unwrap();
        assert_eq!(
            (r.time_scale, r.passes, r.sort, r.rate_cap),
            (1.0, Passes::Count(1), false, None)
        );
        assert_eq!(r.layout.time_column, "timestamp");
        let r = raw("time_scale = 3.0\nloop = true\nrun_for = \"1h\"\nstart = \"10m\"\nduration = \"5m\"\nrate_cap = 50.0\nsort = true").unwrap();
        assert_eq!(r.passes, Passes::For(Duration::from_secs(3600)));
        assert_eq!(
            (r.start, r.duration),
            (Duration::from_secs(600), Some(Duration::from_secs(300)))
        );
        assert_eq!(raw("loop = 4").unwrap().passes, Passes::Count(4));
    }

    #[test]
    fn each_mistake_names_its_key_and_fix() {
        for (extra, key, says) in [
            ("time_scale = 0.0", "time_scale", "above 0"),
            ("loop = true", "loop", "run_for"),
            ("loop = 0", "loop", "number of passes"),
            ("run_for = \"1h\"", "run_for", "loop = true"),
            ("rate_cap = -1.0", "rate_cap", "above 0"),
            ("duration = \"0s\"", "duration", "longer than 0"),
            ("model = \"gpt-4o\"", "model", "llm-trace"),
            ("start = \"soon\"", "start", ""),
        ] {
            let e = raw(extra).unwrap_err();
            assert_eq!(e.key, format!("load.replay.{key}"), "{extra}");
            assert!(e.message.contains(says), "{extra}: {}", e.message);
        }
    }
}

#[cfg(test)]
mod scenario_tests {
    use std::path::Path;

    use crate::{Load, Scenario};

    const REPLAY: &str = r#"name = "yesterday"
[load]
model = "replay"
[load.replay]
file = "traffic.csv"
format = "csv"
time_scale = 3.0
[request]
method = "POST"
path = "/v1/articles"
json = { topic = "{{topic}}" }
"#;

    #[test]
    fn a_replay_scenario_takes_its_variables_from_the_trace() {
        let s = Scenario::parse(REPLAY, "r.toml", Path::new("/srv/load")).unwrap();
        let Load::Replay { replay, stages } = &s.load else {
            panic!("{:?}", s.load)
        };
        assert!(stages.is_empty() && s.load.is_open());
        assert_eq!(replay.file, Path::new("/srv/load/traffic.csv"));
        assert_eq!(s.request.variables, vec!["topic".to_string()]);
    }

    #[test]
    fn what_a_replay_cannot_have() {
        let no_read = |_: &str| Err("no files".to_string());
        for (change, key, says) in [
            (
                (
                    "model = \"replay\"",
                    "model = \"replay\"\nstages = \"1,1s\"",
                ),
                "load.stages",
                "come from its trace",
            ),
            (
                (
                    "model = \"replay\"",
                    "model = \"replay\"\narrivals = \"poisson\"",
                ),
                "load.arrivals",
                "come from its trace",
            ),
            (("[load.replay]", "[load.x]"), "", "unknown field `x`"),
            (
                ("model = \"replay\"", "model = \"open\""),
                "load.replay",
                "goes with model = \"replay\"",
            ),
            (
                ("[request]", "[[flow.steps]]\nname = \"a\""),
                "flow",
                "one request per row",
            ),
        ] {
            let text = REPLAY.replacen(change.0, change.1, 1);
            let e = Scenario::parse_with(&text, "r.toml", &no_read).unwrap_err();
            assert!(
                e.key.starts_with(key) && e.message.contains(says),
                "{change:?}: {e}"
            );
        }
    }
}
