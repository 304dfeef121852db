//! The fuzz targets' corpora (`fuzz/corpus/TARGET`) and the inputs fuzzing
//! found that once failed (`fuzz/regressions/TARGET`), replayed through the
//! same entry points on every test run: none may panic or hang. The
//! fuzzing itself (nightly, for minutes) is `bench/fuzz.sh`.

use std::path::{Path, PathBuf};

use genbench::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn replay(target: &str, run: fn(&[u8])) {
    let corpus = fuzzing::replay(&fuzz_dir().join("corpus").join(target), run);
    assert!(corpus > 0, "fuzz/corpus/{target} has no inputs");
    fuzzing::replay(&fuzz_dir().join("regressions").join(target), run);
}

#[test]
fn h1_response() {
    replay("h1_response", fuzzing::h1_response);
}

#[test]
fn sse() {
    replay("sse", fuzzing::sse);
}

#[test]
fn server_timing() {
    replay("server_timing", fuzzing::server_timing);
}

#[test]
fn prometheus() {
    replay("prometheus", fuzzing::prometheus);
}

#[test]
fn otlp_traces() {
    replay("otlp_traces", fuzzing::otlp_traces);
}

#[test]
fn scenario() {
    replay("scenario", fuzzing::scenario);
}

#[test]
fn results_json() {
    replay("results_json", fuzzing::results_json);
}

#[test]
fn mock_bodies() {
    replay("mock_bodies", genbench_mock::fuzzing::llm_bodies);
}

/// Every target has a corpus here and a replay above.
#[test]
fn every_target_is_replayed() {
    let targets: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .flatten()
        .map(|e| e.path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let this = include_str!("fuzz_corpus.rs");
    for t in &targets {
        assert!(this.contains(&format!("fn {t}()")), "no replay for {t}");
        assert!(
            fuzz_dir().join("corpus").join(t).is_dir(),
            "no corpus for {t}"
        );
    }
    assert_eq!(targets.len(), 8, "{targets:?}");
}
