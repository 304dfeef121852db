//! `[load]`: how load is offered (open, closed, replay), as written and as
//! validated, with the sections under it (`[load.search]`, `[load.replay]`,
//! `[load.cancel]`) read by their own modules.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::duration::parse_duration;
use crate::error::{Locator, ScenarioError};
use crate::http::HttpSettings;
use crate::replay::Replay;
use crate::serde_secs::secs;
use crate::stages::{self, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced sends.
    Constant,
    /// Exponential gaps at the same mean rate, as independent users arrive.
    Poisson,
}

/// How load is offered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Load {
    /// Requests arrive at a rate whatever the target does; latency counts
    /// from each request's scheduled time.
    Open {
        arrivals: Arrivals,
        stages: Vec<Stage>,
    },
    /// N users each send, wait for the answer, think, and send again.
    Closed {
        #[serde(serialize_with = "secs")]
        think_time: Duration,
        stages: Vec<Stage>,
    },
    /// A trace's requests at its own times, scaled; latency counts from
    /// each row's scheduled time, as in the open model.
    Replay {
        replay: Replay,
        /// The trace's rate, second by second: empty until the harness has
        /// scanned the trace ([`Load::stages_mut`]).
        stages: Vec<Stage>,
    },
}

impl Load {
    pub fn stages(&self) -> &[Stage] {
        match self {
            Load::Open { stages, .. }
            | Load::Closed { stages, .. }
            | Load::Replay { stages, .. } => stages,
        }
    }

    pub fn stages_mut(&mut self) -> &mut Vec<Stage> {
        match self {
            Load::Open { stages, .. }
            | Load::Closed { stages, .. }
            | Load::Replay { stages, .. } => stages,
        }
    }

    /// Whether requests go out at scheduled times whatever the target
    /// does (open and replay), so latency counts from those times.
    pub fn is_open(&self) -> bool {
        !matches!(self, Load::Closed { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LoadModel {
    Open,
    Closed,
    Replay,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    pub(crate) model: LoadModel,
    #[serde(default)]
    pub(crate) arrivals: Option<Arrivals>,
    /// A shorthand string or a list of `{ duration, target }` tables, read
    /// by hand so a wrong one is told what a stage looks like.
    #[serde(default)]
    pub(crate) stages: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) replay: Option<Spanned<crate::replay::RawReplay>>,
    #[serde(default)]
    pub(crate) search: Option<Spanned<crate::search::RawSearch>>,
    #[serde(default)]
    pub(crate) think_time: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) max_requests: Option<u64>,
    /// A string as documented, or the bare number (`http = 2`, `--set
    /// load.http=1.1`) people type.
    #[serde(default)]
    pub(crate) http: Option<toml::Value>,
    #[serde(default)]
    pub(crate) connections: Option<u32>,
    #[serde(default)]
    pub(crate) max_streams: Option<u32>,
    #[serde(default)]
    pub(crate) abandon_after: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) cancel: Option<Spanned<crate::abandon::RawCancel>>,
}

/// `[load] http`, `connections` and `max_streams`.
pub(crate) fn http(loc: &Locator<'_>, load: &RawLoad) -> Result<HttpSettings, ScenarioError> {
    let version = load.http.as_ref().map(|v| match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        other => other.to_string(),
    });
    crate::http::settings(version.as_deref(), load.connections, load.max_streams)
        .map_err(|e| loc.invalid(load.at(), e))
}

impl RawLoad {
    /// Where `[load]` errors point: its stages, else its start.
    fn at(&self) -> usize {
        match (&self.stages, &self.replay) {
            (Some(s), _) => s.span().start,
            (None, Some(r)) => r.span().start,
            (None, None) => 0,
        }
    }

    pub(crate) fn validate(&self, loc: &Locator<'_>) -> Result<Load, ScenarioError> {
        if self.model == LoadModel::Replay {
            return self.replay(loc);
        }
        if let Some(r) = &self.replay {
            return Err(loc.at(
                r.span().start,
                "load.replay",
                "[load.replay] goes with model = \"replay\"; set it, or remove the table",
            ));
        }
        let Some(raw_stages) = &self.stages else {
            if self.search.is_some() {
                return self.unstaged(loc);
            }
            return Err(loc.at(0, "load.stages", "give the load's stages, e.g. stages = \"10,30s;10,60s\" (rate or users, then how long) or [[load.stages]] tables"));
        };
        let at = raw_stages.span().start;
        let stages = stages::from_toml(raw_stages.get_ref())
            .and_then(|s| stages::validate(&s).map(|()| s))
            .map_err(|m| loc.at(at, "load.stages", m))?;
        match self.model {
            LoadModel::Open | LoadModel::Replay => {
                if let Some(t) = &self.think_time {
                    return Err(loc.at(
                        t.span().start,
                        "load.think_time",
                        "think time applies to model = \"closed\" only; remove it or switch models",
                    ));
                }
                Ok(Load::Open {
                    arrivals: self.arrivals.unwrap_or(Arrivals::Constant),
                    stages,
                })
            }
            LoadModel::Closed => {
                if self.arrivals.is_some() {
                    return Err(loc.at(at, "load.arrivals", "arrivals apply to model = \"open\" only; the closed model's users pace themselves"));
                }
                let think_time = match &self.think_time {
                    None => Duration::ZERO,
                    Some(t) => parse_duration(t.get_ref())
                        .map_err(|m| loc.at(t.span().start, "load.think_time", m))?,
                };
                if stages.iter().any(|s| s.target.fract() != 0.0) {
                    return Err(loc.at(
                        at,
                        "load.stages",
                        "closed-model targets are numbers of users: use whole numbers",
                    ));
                }
                Ok(Load::Closed { think_time, stages })
            }
        }
    }

    /// `[load.search]` with no stages: the probes make them as they go.
    fn unstaged(&self, loc: &Locator<'_>) -> Result<Load, ScenarioError> {
        match self.model {
            LoadModel::Closed => Ok(Load::Closed {
                think_time: match &self.think_time {
                    None => Duration::ZERO,
                    Some(t) => parse_duration(t.get_ref())
                        .map_err(|m| loc.at(t.span().start, "load.think_time", m))?,
                },
                stages: Vec::new(),
            }),
            _ => Ok(Load::Open {
                arrivals: self.arrivals.unwrap_or(Arrivals::Constant),
                stages: Vec::new(),
            }),
        }
    }

    /// `[load.search]`, which replaces the stages (a built-in's included).
    pub(crate) fn search(
        &self,
        loc: &Locator<'_>,
    ) -> Result<Option<crate::search::Search>, ScenarioError> {
        let Some(raw) = &self.search else {
            return Ok(None);
        };
        let at = raw.span().start;
        if self.model == LoadModel::Replay {
            return Err(loc.at(
                at,
                "load.search",
                "a replay's load is its trace's: remove [load.search], or use model = \"open\"",
            ));
        }
        let closed = self.model == LoadModel::Closed;
        raw.get_ref()
            .clone()
            .validate(closed)
            .map(Some)
            .map_err(|e| loc.invalid(at, e))
    }

    /// `model = "replay"`: a trace's times replace stages and arrivals.
    fn replay(&self, loc: &Locator<'_>) -> Result<Load, ScenarioError> {
        let Some(raw) = &self.replay else {
            return Err(loc.at(0, "load.replay", "model = \"replay\" needs [load.replay] with file = \"trace.jsonl\" and format = \"jsonl\" (or records, csv, access-log, llm-trace)"));
        };
        let at = raw.span().start;
        let given = [
            ("load.stages", self.stages.is_some()),
            ("load.arrivals", self.arrivals.is_some()),
            ("load.think_time", self.think_time.is_some()),
        ];
        if let Some((key, _)) = given.iter().find(|(_, g)| *g) {
            return Err(loc.at(at, key, "a replay's times come from its trace: remove it (time_scale, start, duration and rate_cap in [load.replay] shape the replay)"));
        }
        let replay = raw
            .get_ref()
            .clone()
            .validate()
            .map_err(|e| loc.invalid(at, e))?;
        Ok(Load::Replay {
            replay,
            stages: Vec::new(),
        })
    }
}
