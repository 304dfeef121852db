//! `[collect.metrics]`: series of the target's own, and thresholds on them;
//! `[collect.caches.NAME]`: named caches.

use std::path::Path;

use genbench_scenarios::{CacheSource, Metric, Scenario, ScenarioError, SeriesKind, SeriesStat};

fn parse(extra: &str, thresholds: &str) -> Result<Scenario, ScenarioError> {
    let text = format!(
        "name = \"s\"\nthresholds = [{thresholds}]\n[load]\nmodel = \"open\"\nstages = \"1,5s\"\n[request]\npath = \"/\"\n{extra}"
    );
    Scenario::parse(&text, "s.toml", Path::new("."))
}

#[test]
fn gauges_counters_and_json_pointers_validate() {
    let s = parse(
        "[collect.metrics]\nqueue_depth = \"genbench_pipeline_jobs_queued\"\nrequests = { counter = \"http_requests_total\" }\nscript_hits = { json = \"/cache_performance/script/hit_rate\", url = \"/stats\" }\n",
        "\"max(queue_depth) < 100\"",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(&str, &SeriesKind, &str)> = s
        .collect
        .series
        .iter()
        .map(|x| (x.name.as_str(), &x.kind, x.url.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "queue_depth",
                &SeriesKind::Gauge("genbench_pipeline_jobs_queued".into()),
                "/metrics"
            ),
            (
                "requests",
                &SeriesKind::Counter("http_requests_total".into()),
                "/metrics"
            ),
            (
                "script_hits",
                &SeriesKind::Json("/cache_performance/script/hit_rate".into()),
                "/stats"
            ),
        ]
    );
    assert_eq!(s.thresholds[0].metric, Metric::Series(SeriesStat::Max));
}

#[test]
fn mistakes_name_the_key_and_the_fix() {
    let e = parse("", "\"max(queue_depth) < 100\"").unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (2, "thresholds"), "{e}");
    assert!(
        e.message.contains("[collect.metrics] does not define"),
        "{e}"
    );
    let e = parse("[collect.metrics]\nhits = { json = \"/a\" }\n", "").unwrap_err();
    assert_eq!(e.key, "collect.metrics.hits");
    assert!(e.message.contains("needs url"), "{e}");
    let e = parse(
        "[collect.metrics]\nx = { gauge = \"a\", counter = \"b\" }\n",
        "",
    )
    .unwrap_err();
    assert!(e.message.contains("one of gauge"), "{e}");
    let e = parse("[collect.metrics]\n\"bad name\" = \"a\"\n", "").unwrap_err();
    assert!(e.message.contains("letters, digits"), "{e}");
}

#[test]
fn named_caches_each_validate_with_their_own_key() {
    let head =
        "name = \"c\"\n[load]\nmodel = \"open\"\nstages = \"1,1s\"\n[request]\npath = \"/\"\n";
    let ok = format!(
        "{head}[collect.caches.script]\nheader = \"X-Script-Cache\"\n[collect.caches.audio]\npointer = \"/tts/cache\"\n[collect.caches.pages]\nhits = \"page_hits_total\"\nmisses = \"page_misses_total\"\n"
    );
    let s = Scenario::parse(&ok, "c.toml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let c = &s.collect.caches;
    assert_eq!(
        c["script"],
        CacheSource::Header {
            header: "X-Script-Cache".into()
        }
    );
    assert_eq!(
        c["audio"],
        CacheSource::Json {
            pointer: "/tts/cache".into()
        }
    );
    assert!(matches!(&c["pages"], CacheSource::Metrics { hits, .. } if hits == "page_hits_total"));
    let bad = format!("{head}[collect.caches.audio]\n\nsource = \"redis\"\n");
    let e = Scenario::parse(&bad, "c.toml", Path::new(".")).unwrap_err();
    assert_eq!(e.key, "collect.caches.audio.source", "{e}");
    assert!(e.to_string().contains("c.toml:7"), "{e}");
    assert!(
        e.message.contains("\"header\", \"json\" or \"metrics\""),
        "{e}"
    );
}
