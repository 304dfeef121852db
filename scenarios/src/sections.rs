//! The sections of a scenario, each validated by a function of its own:
//! what `RawScenario::validate` calls in the order its errors are
//! reported. Each takes its raw section and gives the validated one, or a
//! [`ScenarioError`] naming the section's line, key and fix.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use crate::analysis::{Analysis, RawAnalysis};
use crate::collect::Collect;
use crate::dataset::{Dataset, FileReader, RawDataset};
use crate::duration::parse_duration;
use crate::error::{Locator, ScenarioError};
use crate::request::{RawRequest, RequestTemplate};
use crate::threshold::Threshold;

/// A duration key, or `default` when it is absent.
pub(crate) fn duration_or(
    loc: &Locator<'_>,
    key: &str,
    raw: &Option<Spanned<String>>,
    default: Duration,
) -> Result<Duration, ScenarioError> {
    match raw {
        None => Ok(default),
        Some(t) => parse_duration(t.get_ref()).map_err(|m| loc.at(t.span().start, key, m)),
    }
}

/// `[datasets.NAME]`, each read and checked, with no column in two.
pub(crate) fn datasets(
    loc: &Locator<'_>,
    read: &FileReader<'_>,
    raw: BTreeMap<String, Spanned<RawDataset>>,
) -> Result<BTreeMap<String, Dataset>, ScenarioError> {
    let mut datasets = BTreeMap::new();
    for (name, d) in raw {
        let at = d.span().start;
        let ds = d
            .into_inner()
            .validate(&name, read)
            .map_err(|m| loc.at(at, &format!("datasets.{name}"), m))?;
        datasets.insert(name, ds);
    }
    crate::dataset::unique_columns(&datasets).map_err(|m| loc.at(0, "datasets", m))?;
    Ok(datasets)
}

/// `[request]` or `[[flow.steps]]` (exactly one): the request of each
/// arrival, and the flow when there is one (its first step's request).
/// `from_trace`: a replay's rows give the variables no dataset has.
pub(crate) fn requests(
    loc: &Locator<'_>,
    read: &FileReader<'_>,
    request: Option<Spanned<RawRequest>>,
    flow: Option<Spanned<crate::flow::RawFlow>>,
    datasets: &BTreeMap<String, Dataset>,
    from_trace: bool,
) -> Result<(RequestTemplate, Option<crate::flow::Flow>), ScenarioError> {
    match (request, flow) {
        (Some(r), None) => Ok((r.get_ref().validate(loc, datasets, read, from_trace)?, None)),
        (None, Some(f)) => {
            let at = f.span().start;
            let flow = f.into_inner().validate(loc, at, datasets, read)?;
            Ok((flow.steps[0].request.clone(), Some(flow)))
        }
        (Some(_), Some(f)) => Err(loc.at(
            f.span().start,
            "flow",
            "give [request] (one request per arrival) or [[flow.steps]] (several), not both; a [request] is a one-step flow",
        )),
        (None, None) => Err(no_request(loc)),
    }
}

/// Every series a threshold reads is one `[collect.metrics]` defines.
pub(crate) fn series_read_are_defined(
    loc: &Locator<'_>,
    raw: &[Spanned<String>],
    thresholds: &[Threshold],
    collect: &Collect,
) -> Result<(), ScenarioError> {
    let Some((t, name)) = thresholds.iter().find_map(|t| {
        t.series
            .as_ref()
            .filter(|n| !collect.series.iter().any(|s| &s.name == *n))
            .map(|n| (t, n))
    }) else {
        return Ok(());
    };
    let at = raw
        .iter()
        .find(|e| e.get_ref().trim() == t.expr)
        .map_or(0, |e| e.span().start);
    Err(loc.at(at, "thresholds", format!("`{}` reads a series `{name}` that [collect.metrics] does not define; add {name} = \"prometheus_metric_name\" there", t.expr)))
}

/// `[analysis]`, which an `rss_growth` threshold's limit informs.
pub(crate) fn analysis(
    loc: &Locator<'_>,
    raw: Option<Spanned<RawAnalysis>>,
    rss_growth: Option<f64>,
) -> Result<Analysis, ScenarioError> {
    let (at, raw) = raw.map_or((0, RawAnalysis::default()), |a| {
        (a.span().start, a.into_inner())
    });
    raw.validate(rss_growth).map_err(|e| loc.invalid(at, e))
}

/// `[abort]`.
pub(crate) fn abort(
    loc: &Locator<'_>,
    raw: Option<Spanned<crate::abort::RawAbort>>,
) -> Result<crate::abort::Abort, ScenarioError> {
    match raw {
        None => Ok(crate::abort::Abort::default()),
        Some(a) => {
            let at = a.span().start;
            a.into_inner().validate().map_err(|e| loc.invalid(at, e))
        }
    }
}

/// Neither `[request]` nor `[[flow.steps]]`: the first thing to say.
pub(crate) fn no_request(loc: &Locator<'_>) -> ScenarioError {
    loc.at(
        0,
        "request",
        "say what to send: [request] with path = \"/api/v1/generate-article\", or [[flow.steps]] for a multi-step flow",
    )
}
