//! `[[flow.steps]]`: a multi-step scenario for asynchronous article jobs
//! (submit, poll until done, fetch the result) and batches. Each step is a
//! request template like `[request]`, rendered from dataset variables and
//! from values earlier steps extracted (a JSON pointer into the body, or a
//! response header), and may repeat as a poll until a JSON value says the
//! job is done. Every error names the step (file:line, its name, the key and
//! the fix) before any load is sent.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dataset::{Dataset, FileReader};
use crate::error::{Invalid, Locator, ScenarioError};
use crate::request::{RawChecks, RawRequest, RequestTemplate, Within};

/// Most values one step extracts from response headers (each is a header
/// the engine keeps from every answer of the step).
pub const MAX_HEADER_EXTRACTS: usize = 8;

/// Longest a poll may wait between requests.
const MAX_POLL_EVERY: Duration = Duration::from_secs(600);

/// The steps a flow runs, in order, for each arrival (open model) or user
/// iteration (closed model).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Unique in the flow; `step N` (from 1) when the file gives none.
    pub name: String,
    pub request: RequestTemplate,
    /// This step's own request timeout; `None`: the scenario's.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub timeout: Option<Duration>,
    /// Flow variables this step sets from its answer, in file order.
    pub extract: Vec<Extract>,
    pub poll: Option<Poll>,
    /// Pause after this step, before the next.
    #[serde(with = "secs")]
    pub think: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extract {
    pub var: String,
    pub from: ExtractFrom,
}

/// Where an extracted value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractFrom {
    /// A JSON pointer into the response body (`/job/id`).
    Json(String),
    /// A response header, case-insensitive (`Location`).
    Header(String),
}

/// Repeats a step until the value at `until` is one of `equals`; one of
/// `fail_on` fails the flow at once (`job_failed`), and `timeout` without
/// either fails it as `poll_timeout`. A `Retry-After` on an answer is
/// honoured when longer than `every`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Poll {
    pub until: String,
    pub equals: Vec<serde_json::Value>,
    pub fail_on: Vec<serde_json::Value>,
    #[serde(with = "secs")]
    pub every: Duration,
    #[serde(with = "secs")]
    pub timeout: Duration,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

mod opt_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &Option<std::time::Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    steps: Vec<Spanned<RawStep>>,
}

/// A step as written: the request keys of `[request]` and the step's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    method: Option<String>,
    path: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    body: Option<Spanned<String>>,
    #[serde(default)]
    body_file: Option<Spanned<String>>,
    #[serde(default)]
    json: Option<Spanned<toml::Value>>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    checks: Option<Spanned<RawChecks>>,
    #[serde(default)]
    follow_redirects: Option<u32>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    extract: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    poll: Option<Spanned<RawPoll>>,
    #[serde(default)]
    think: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    equals: Option<toml::Value>,
    #[serde(default)]
    fail_on: Option<toml::Value>,
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

fn extract_from(text: &str) -> Result<ExtractFrom, String> {
    if let Some(h) = text.strip_prefix("header:") {
        let h = h.trim();
        return if h.is_empty() || h.contains(char::is_whitespace) {
            Err(format!(
                "`{text}`: name the header, e.g. \"header:Location\""
            ))
        } else {
            Ok(ExtractFrom::Header(h.to_ascii_lowercase()))
        };
    }
    if text.starts_with('/') {
        return Ok(ExtractFrom::Json(text.to_string()));
    }
    Err(format!(
        "`{text}`: give a JSON pointer into the answer (\"/job/id\") or a header (\"header:Location\")"
    ))
}

/// A TOML value or list of them as JSON values to compare with.
fn values(v: &Option<toml::Value>) -> Result<Vec<serde_json::Value>, String> {
    let list = match v {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
    };
    list.iter()
        .map(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
        .collect()
}

fn duration(text: &Option<String>, default: Duration, key: &str) -> Result<Duration, Invalid> {
    match text {
        None => Ok(default),
        Some(t) => crate::duration::parse_duration(t).map_err(|m| Invalid::new(key.to_string(), m)),
    }
}

impl RawPoll {
    fn validate(&self) -> Result<Poll, Invalid> {
        let until = match &self.until {
            Some(u) if u.starts_with('/') => u.clone(),
            Some(u) => {
                return Err(Invalid::new(
                    "until".into(),
                    format!("`{u}` is not a JSON pointer: it starts with `/`, e.g. \"/job/state\""),
                ));
            }
            None => {
                return Err(Invalid::new(
                    "until".into(),
                    "a poll needs the JSON pointer whose value ends it, e.g. poll = { until = \"/job/state\", equals = \"done\" }".into(),
                ));
            }
        };
        let equals = values(&self.equals).map_err(|m| Invalid::new("equals".to_string(), m))?;
        if equals.is_empty() {
            return Err(Invalid::new(
                "equals".into(),
                format!(
                    "give the value (or list of values) at {until} that ends the poll, e.g. equals = \"done\""
                ),
            ));
        }
        let fail_on = values(&self.fail_on).map_err(|m| Invalid::new("fail_on".to_string(), m))?;
        let every = duration(&self.every, Duration::from_secs(1), "every")?;
        if every.is_zero() || every > MAX_POLL_EVERY {
            return Err(Invalid::new(
                "every".into(),
                "between 1ms and 10m, e.g. every = \"1s\"".into(),
            ));
        }
        let timeout = duration(&self.timeout, Duration::from_secs(600), "timeout")?;
        if timeout < every {
            return Err(Invalid::new(
                "timeout".into(),
                format!(
                    "shorter than every ({every:?}): the poll would give up before its second request"
                ),
            ));
        }
        Ok(Poll {
            until,
            equals,
            fail_on,
            every,
            timeout,
        })
    }
}

impl RawStep {
    /// The step's request keys as a `[request]`, so both validate alike.
    fn request(&self) -> RawRequest {
        RawRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            body_file: self.body_file.clone(),
            json: self.json.clone(),
            stream: self.stream,
            checks: None,
            follow_redirects: self.follow_redirects,
        }
    }
}

impl RawFlow {
    pub(crate) fn validate(
        self,
        loc: &Locator<'_>,
        at: usize,
        datasets: &BTreeMap<String, Dataset>,
        read: &FileReader<'_>,
    ) -> Result<Flow, ScenarioError> {
        if self.steps.is_empty() {
            return Err(loc.at(
                at,
                "flow.steps",
                "a flow needs at least one step: [[flow.steps]] with path = \"/...\"",
            ));
        }
        let mut extracted: Vec<String> = Vec::new();
        let mut steps: Vec<Step> = Vec::new();
        for (i, raw) in self.steps.into_iter().enumerate() {
            let cx = StepCx {
                loc,
                key: format!("flow.steps[{}]", i + 1),
                start: raw.span().start,
                datasets,
                read,
            };
            let name = cx.name(raw.get_ref().name.as_ref(), i, &steps)?;
            let step = cx.step(raw.into_inner(), name, &extracted)?;
            for e in &step.extract {
                if !extracted.contains(&e.var) {
                    extracted.push(e.var.clone());
                }
            }
            steps.push(step);
        }
        Ok(Flow { steps })
    }
}

/// What validating one step needs: where it is, its key, what it may read.
struct StepCx<'a> {
    loc: &'a Locator<'a>,
    /// `flow.steps[N]`, 1-based.
    key: String,
    start: usize,
    datasets: &'a BTreeMap<String, Dataset>,
    read: &'a FileReader<'a>,
}

impl StepCx<'_> {
    /// An error of step `name` at `at`, under the step's key.
    fn err(&self, name: &str, at: usize, sub: &str, m: impl Into<String>) -> ScenarioError {
        let e = self.loc.at(at, &format!("{}.{sub}", self.key), m);
        ScenarioError {
            message: format!("step \"{name}\": {}", e.message),
            ..e
        }
    }

    /// The step's name (`step N` when it has none), unlike any before it.
    fn name(
        &self,
        raw: Option<&Spanned<String>>,
        i: usize,
        before: &[Step],
    ) -> Result<String, ScenarioError> {
        let name = match raw {
            Some(n) if n.get_ref().trim().is_empty() => {
                return Err(self.loc.at(
                    n.span().start,
                    &format!("{}.name", self.key),
                    "give the step a name, e.g. name = \"submit\", or leave name out",
                ));
            }
            Some(n) => n.get_ref().trim().to_string(),
            None => format!("step {}", i + 1),
        };
        if before.iter().any(|s| s.name == name) {
            let at = raw.map_or(self.start, |n| n.span().start);
            return Err(self.err(
                &name,
                at,
                "name",
                "another step has this name; names tell steps apart in the results",
            ));
        }
        Ok(name)
    }

    /// The step's request, checks, timing, poll and extracts; `extracted`:
    /// the variables earlier steps extract, which its templates may use.
    fn step(
        &self,
        mut raw: RawStep,
        name: String,
        extracted: &[String],
    ) -> Result<Step, ScenarioError> {
        let named = |e: ScenarioError| ScenarioError {
            message: format!("step \"{name}\": {}", e.message),
            ..e
        };
        let within = Within {
            key: &self.key,
            extracted,
            from_trace: false,
        };
        let mut request = raw
            .request()
            .validate_within(self.loc, &within, self.datasets, self.read)
            .map_err(named)?;
        if let Some(c) = raw.checks.take() {
            request.checks = c.get_ref().validate().map_err(|e| {
                named(
                    self.loc
                        .invalid(c.span().start, e.under(&format!("{}.checks", self.key))),
                )
            })?;
        }
        let duration = |t: &Spanned<String>, sub: &str| {
            crate::duration::parse_duration(t.get_ref())
                .map_err(|m| self.err(&name, t.span().start, sub, m))
        };
        let timeout = raw
            .timeout
            .as_ref()
            .map(|t| duration(t, "timeout"))
            .transpose()?;
        let think = match &raw.think {
            None => Duration::ZERO,
            Some(t) => duration(t, "think")?,
        };
        let poll = match &raw.poll {
            None => None,
            Some(p) => Some(p.get_ref().validate().map_err(|e| {
                named(
                    self.loc
                        .invalid(p.span().start, e.under(&format!("{}.poll", self.key))),
                )
            })?),
        };
        let extract = self.extracts(&name, &raw.extract)?;
        Ok(Step {
            name,
            request,
            timeout,
            extract,
            poll,
            think,
        })
    }

    /// `extract = { VAR = "json:/pointer" | "header:name" }`: names that
    /// are no dataset's column, at most a few read from headers.
    fn extracts(
        &self,
        name: &str,
        raw: &BTreeMap<String, Spanned<String>>,
    ) -> Result<Vec<Extract>, ScenarioError> {
        let mut extract = Vec::new();
        for (var, from) in raw {
            let at = from.span().start;
            if !crate::names::valid_name(var) {
                return Err(self.err(
                    name,
                    at,
                    "extract",
                    format!("`{var}`: a variable name is letters, digits, `_` and `-`"),
                ));
            }
            if self
                .datasets
                .values()
                .any(|d| d.columns.iter().any(|c| c == var))
            {
                return Err(self.err(
                    name,
                    at,
                    &format!("extract.{var}"),
                    format!(
                        "`{var}` is also a dataset column; name the extracted value differently"
                    ),
                ));
            }
            let from = extract_from(from.get_ref())
                .map_err(|m| self.err(name, at, &format!("extract.{var}"), m))?;
            extract.push(Extract {
                var: var.clone(),
                from,
            });
        }
        let headers = extract
            .iter()
            .filter(|e| matches!(e.from, ExtractFrom::Header(_)))
            .count();
        if headers > MAX_HEADER_EXTRACTS {
            let at = raw.values().next().map_or(self.start, |v| v.span().start);
            return Err(self.err(
                name,
                at,
                "extract",
                format!(
                    "{headers} values from headers; a step reads at most {MAX_HEADER_EXTRACTS}"
                ),
            ));
        }
        Ok(extract)
    }
}
