//! The scenario file (TOML) and its validation into an immutable `Scenario`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use genbench_model::{Objectives, ScenarioKind};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::analysis::{Analysis, RawAnalysis};
use crate::collect::{Collect, RawCollect};
use crate::dataset::RawDataset;
pub use crate::dataset::{Dataset, FileReader, Repeat};
use crate::error::{Locator, ScenarioError};
use crate::http::HttpSettings;
use crate::load::{Load, RawLoad, http};
use crate::overrides::{self, Override};
use crate::request::RawRequest;
pub use crate::request::{RequestTemplate, variables};
use crate::sections::{datasets, duration_or, no_request, requests, series_read_are_defined};
use crate::serde_secs::secs;
pub use crate::slo::Slo;
use crate::stages;
use crate::threshold::{Threshold, parse_threshold};

/// What `genbench run` starts when no `--target` is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedTarget {
    /// The reference pipeline, backed by the mock providers.
    #[default]
    Pipeline,
    /// The mock providers alone: requests go to the mock LLM's
    /// OpenAI-compatible API (`/v1/chat/completions`).
    Mock,
}

/// A validated scenario; nothing in it needs checking again.
/// How late a segment may reach its `--start-at` instant by default.
pub const DEFAULT_MAX_START_LAG: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub kind: ScenarioKind,
    pub description: String,
    /// What runs without `--target`.
    pub embedded: EmbeddedTarget,
    /// Latency scale of the embedded mocks; `--mock-time-scale` overrides.
    pub mock_time_scale: Option<f64>,
    /// A segment told to start at an instant (`--start-at`) that gets there
    /// later than this refuses to run rather than skew the merged result.
    #[serde(serialize_with = "secs")]
    pub max_start_lag: Duration,
    pub load: Load,
    /// `[load.search]`: the load is found by probing, not staged.
    pub search: Option<crate::search::Search>,
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    /// HTTP version, and HTTP/2's connections and streams.
    pub http: HttpSettings,
    /// Hard cap on requests sent, whatever the stages say.
    pub max_requests: u64,
    /// What is sent: `[request]`, or a flow's first step.
    pub request: RequestTemplate,
    /// `[[flow.steps]]`; `None` for a one-request scenario.
    pub flow: Option<crate::flow::Flow>,
    pub datasets: BTreeMap<String, Dataset>,
    pub thresholds: Vec<Threshold>,
    pub slo: Option<Slo>,
    /// Per-request objectives (`[slo]` latency, ttfb, ttft, tpot): goodput
    /// counts the requests that meet them all.
    pub objectives: Objectives,
    /// Settings for the embedded reference pipeline (`genbench pipeline
    /// --config` keys), checked by the harness, which knows the pipeline.
    /// Empty means its defaults. Ignored nowhere: with an external target,
    /// a non-empty table is an error.
    pub pipeline: toml::Table,
    /// Where cache status and cost come from.
    pub collect: Collect,
    /// How the leak and spike analyses judge.
    pub analysis: Analysis,
    /// When the run stops early (`[abort]`).
    pub abort: crate::abort::Abort,
    /// `[load] abandon_after` and `[load.cancel]`: clients that give up.
    pub abandon: Option<crate::abandon::Abandon>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    kind: Option<ScenarioKind>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    embedded: Option<Spanned<EmbeddedTarget>>,
    #[serde(default)]
    mock_time_scale: Option<Spanned<f64>>,
    #[serde(default)]
    max_start_lag: Option<Spanned<String>>,
    load: RawLoad,
    #[serde(default)]
    request: Option<Spanned<RawRequest>>,
    #[serde(default)]
    flow: Option<Spanned<crate::flow::RawFlow>>,
    #[serde(default)]
    datasets: BTreeMap<String, Spanned<RawDataset>>,
    #[serde(default)]
    thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    slo: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pipeline: toml::Table,
    #[serde(default)]
    collect: Option<RawCollect>,
    #[serde(default)]
    analysis: Option<Spanned<RawAnalysis>>,
    #[serde(default)]
    abort: Option<Spanned<crate::abort::RawAbort>>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_MAX_REQUESTS: u64 = 10_000_000;

impl Scenario {
    /// Parses and validates scenario text. `origin` names it in errors;
    /// `base_dir` resolves dataset files.
    pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Scenario, ScenarioError> {
        let read = |f: &str| {
            let path = base_dir.join(f);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Ok(Scenario::parse_with(text, origin, &read)?.files_under(base_dir))
    }

    /// Files the scenario names (a replay's trace) relative to `base_dir`,
    /// as its datasets are read.
    fn files_under(mut self, base_dir: &Path) -> Scenario {
        if let Load::Replay { replay, .. } = &mut self.load
            && replay.file.is_relative()
        {
            replay.file = base_dir.join(&replay.file);
        }
        self
    }

    /// As [`Scenario::parse`], with dataset files read by `read`.
    pub fn parse_with(
        text: &str,
        origin: &str,
        read: &FileReader<'_>,
    ) -> Result<Scenario, ScenarioError> {
        let loc = Locator { origin, text };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            loc.at(at, "", e.message().trim().to_string())
        })?;
        raw.validate(&loc, read)
    }

    /// As [`Scenario::parse_with`], after applying `--set` overrides. Errors
    /// in the text itself keep their file, line and column; errors an
    /// override brings in name the override.
    pub fn parse_overridden(
        text: &str,
        origin: &str,
        read: &FileReader<'_>,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let plain = Scenario::parse_with(text, origin, read);
        if overrides.is_empty() {
            return plain;
        }
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| {
            Locator { origin, text }.at(
                e.span().map_or(0, |s| s.start),
                "",
                e.message().trim().to_string(),
            )
        })?;
        let named = |message: String| ScenarioError {
            origin: origin.to_string(),
            line: 0,
            column: 0,
            key: String::new(),
            message,
        };
        overrides::apply(&mut doc, overrides).map_err(named)?;
        let changed = toml::to_string(&doc).map_err(|e| named(e.to_string()))?;
        Scenario::parse_with(&changed, origin, read).map_err(|e| {
            let set: Vec<&str> = overrides.iter().map(|o| o.raw.as_str()).collect();
            match plain {
                // The file was fine alone: an override broke it.
                Ok(_) => named(format!(
                    "with --set {}: {}{}",
                    set.join(", --set "),
                    if e.key.is_empty() {
                        String::new()
                    } else {
                        format!("`{}`: ", e.key)
                    },
                    e.message
                )),
                Err(original) => original,
            }
        })
    }

    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::from_file_overridden(path, &[])
    }

    /// Reads a scenario file and validates it with `--set` overrides applied.
    pub fn from_file_overridden(
        path: &Path,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: origin.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the scenario file: {e}"),
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let read = |f: &str| {
            let path = base_dir.join(f);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Scenario::parse_overridden(&text, &origin, &read, overrides)
            .map(|s| s.files_under(base_dir))
    }

    /// Total planned length of the run.
    pub fn duration(&self) -> Duration {
        stages::total(self.load.stages())
    }
}

impl RawScenario {
    /// Each section in turn, in the order its errors are reported.
    fn validate(self, loc: &Locator<'_>, read: &FileReader<'_>) -> Result<Scenario, ScenarioError> {
        if self.request.is_none() && self.flow.is_none() {
            return Err(no_request(loc));
        }
        let load = self.load.validate(loc)?;
        let search = self.load.search(loc)?;
        let timeout = duration_or(loc, "load.timeout", &self.load.timeout, DEFAULT_TIMEOUT)?;
        let abandon =
            crate::abandon::validate(loc, &self.load.abandon_after, &self.load.cancel, timeout)?;
        let datasets = datasets(loc, read, self.datasets)?;
        let replay = matches!(load, Load::Replay { .. });
        if replay && let Some(f) = &self.flow {
            return Err(loc.at(f.span().start, "flow", "a replay sends one request per row of its trace: use [request] (what the rows lack, it fills)"));
        }
        let (request, flow) = requests(loc, read, self.request, self.flow, &datasets, replay)?;
        let http = http(loc, &self.load)?;
        let judged = Judging::validate(
            loc,
            &self.thresholds,
            self.slo.as_ref(),
            self.collect,
            self.analysis,
            self.abort,
        )?;
        let name = name(loc, &self.name)?;
        let embedded = embedded(loc, self.embedded, &self.pipeline)?;
        let mock_time_scale = mock_time_scale(loc, self.mock_time_scale)?;
        let max_start_lag = duration_or(
            loc,
            "max_start_lag",
            &self.max_start_lag,
            DEFAULT_MAX_START_LAG,
        )?;
        Ok(Scenario {
            name,
            kind: self.kind.unwrap_or(ScenarioKind::Custom),
            description: self.description,
            embedded,
            mock_time_scale,
            max_start_lag,
            load,
            search,
            timeout,
            http,
            max_requests: self.load.max_requests.unwrap_or(DEFAULT_MAX_REQUESTS),
            request,
            flow,
            datasets,
            thresholds: judged.thresholds,
            slo: judged.slo,
            objectives: judged.objectives,
            pipeline: self.pipeline,
            collect: judged.collect,
            analysis: judged.analysis,
            abort: judged.abort,
            abandon,
        })
    }
}

fn name(loc: &Locator<'_>, raw: &str) -> Result<String, ScenarioError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(loc.at(
            0,
            "name",
            "give the scenario a name, e.g. name = \"baseline\"",
        ));
    }
    Ok(name.to_string())
}

/// What a run is judged by: thresholds (with the abort rules among them),
/// the SLO, and the series and analyses the thresholds read.
struct Judging {
    thresholds: Vec<Threshold>,
    slo: Option<Slo>,
    objectives: Objectives,
    collect: Collect,
    analysis: Analysis,
    abort: crate::abort::Abort,
}

impl Judging {
    fn validate(
        loc: &Locator<'_>,
        raw_thresholds: &[Spanned<String>],
        slo: Option<&Spanned<toml::Value>>,
        collect: Option<RawCollect>,
        analysis: Option<Spanned<RawAnalysis>>,
        abort: Option<Spanned<crate::abort::RawAbort>>,
    ) -> Result<Judging, ScenarioError> {
        let mut thresholds = parse_all(loc, "thresholds", raw_thresholds)?;
        let (slo, objectives) = match slo {
            None => (None, Objectives::default()),
            Some(v) => {
                crate::slo::parse(v.get_ref()).map_err(|e| loc.invalid(v.span().start, e))?
            }
        };
        let rss_growth = thresholds
            .iter()
            .find(|t| t.metric == crate::threshold::Metric::RssGrowth)
            .map(|t| t.value);
        let collect = collect
            .unwrap_or_default()
            .validate()
            .map_err(|e| loc.invalid(0, e))?;
        series_read_are_defined(loc, raw_thresholds, &thresholds, &collect)?;
        let analysis = crate::sections::analysis(loc, analysis, rss_growth)?;
        let abort = crate::sections::abort(loc, abort)?;
        // An abort rule is a threshold too: judged at the end like the rest.
        for t in &abort.on_fail {
            if !thresholds.iter().any(|x| x.expr == t.expr) {
                thresholds.push(t.clone());
            }
        }
        Ok(Judging {
            thresholds,
            slo,
            objectives,
            collect,
            analysis,
            abort,
        })
    }
}

/// `embedded`: the pipeline unless the scenario says the mock alone, which
/// `[pipeline]` settings cannot configure.
fn embedded(
    loc: &Locator<'_>,
    raw: Option<Spanned<EmbeddedTarget>>,
    pipeline: &toml::Table,
) -> Result<EmbeddedTarget, ScenarioError> {
    match raw {
        None => Ok(EmbeddedTarget::Pipeline),
        Some(e) if *e.get_ref() == EmbeddedTarget::Mock && !pipeline.is_empty() => Err(loc.at(
            e.span().start,
            "embedded",
            "[pipeline] settings configure the embedded pipeline, which embedded = \"mock\" does not start; drop one of them",
        )),
        Some(e) => Ok(e.into_inner()),
    }
}

/// `mock_time_scale`: a factor of 0 or more.
fn mock_time_scale(
    loc: &Locator<'_>,
    raw: Option<Spanned<f64>>,
) -> Result<Option<f64>, ScenarioError> {
    match raw {
        Some(f) if !(f.get_ref().is_finite() && *f.get_ref() >= 0.0) => Err(loc.at(
            f.span().start,
            "mock_time_scale",
            "a factor of 0 or more on the mocks' latencies (1 = as the presets say, 0 = instant)",
        )),
        f => Ok(f.map(Spanned::into_inner)),
    }
}

fn parse_all(
    loc: &Locator<'_>,
    key: &str,
    exprs: &[Spanned<String>],
) -> Result<Vec<Threshold>, ScenarioError> {
    exprs
        .iter()
        .map(|e| parse_threshold(e.get_ref()).map_err(|m| loc.at(e.span().start, key, m)))
        .collect()
}
