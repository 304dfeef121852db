//! Scenario errors name the file, line, column, key and the fix.

use std::path::Path;

use genbench_scenarios::{Load, Repeat, Scenario};

const GOOD: &str = r#"
name = "mine"
thresholds = ["p95 < 2s"]

[load]
model = "closed"
think_time = "1s"
stages = "10,60s;100,30s;0,10s"

[request]
path = "/api/v1/generate-article"
body = '{"topic": "{{topic}}"}'

[datasets.topic]
values = ["a", "b"]
repeat = "zipf"
zipf_s = 1.2
"#;

fn parse(text: &str) -> Result<Scenario, genbench_scenarios::ScenarioError> {
    Scenario::parse(text, "mine.toml", Path::new("."))
}

#[test]
fn a_good_file_validates() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.request.method, "POST", "a body implies POST");
    assert_eq!(s.request.variables, ["topic"]);
    assert!(matches!(s.load, Load::Closed { .. }));
    assert_eq!(s.datasets["topic"].repeat, Repeat::Zipf { s: 1.2 });
    assert_eq!(s.duration().as_secs(), 100);
}

/// (broken text, line, key, words the message must contain)
fn expect(text: &str, line: usize, key: &str, needle: &str) {
    let e = parse(text).unwrap_err();
    assert_eq!(e.origin, "mine.toml");
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.key, key, "{e}");
    assert!(e.message.contains(needle), "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("mine.toml:{line}:")), "{shown}");
}

#[test]
fn errors_point_at_the_problem() {
    expect(
        &GOOD.replace("think_time = \"1s\"", "think_time = \"1 sec\""),
        7,
        "load.think_time",
        "unknown unit",
    );
    expect(
        &GOOD.replace("\"p95 < 2s\"", "\"p95 < 2\""),
        3,
        "thresholds",
        "needs a unit",
    );
    expect(
        &GOOD.replace("10,60s;100,30s;0,10s", "10;100"),
        8,
        "load.stages",
        "target,duration",
    );
    expect(
        &GOOD.replace("path = \"/api", "path = \"api"),
        11,
        "request.path",
        "starts with `/`",
    );
    expect(
        &GOOD.replace("{{topic}}", "{{subject}}"),
        12,
        "request",
        "[datasets.subject]",
    );
    expect(
        &GOOD.replace("zipf_s = 1.2", "zipf_s = -1"),
        14,
        "datasets.topic",
        "must be > 0",
    );
    expect(
        &GOOD.replace("think_time = \"1s\"", "arrivals = \"poisson\""),
        8,
        "load.arrivals",
        "open",
    );
}

/// A list of stages that is wrong says what a stage is, not serde's words.
#[test]
fn stage_lists_say_what_a_stage_is() {
    let list = |stages: &str| GOOD.replace("\"10,60s;100,30s;0,10s\"", stages);
    for (stages, words) in [
        (
            r#"[{ duration = "5s", target = "ten" }]"#,
            "stage 1: target = \"ten\" must be a number",
        ),
        (
            r#"[{ duration = "5s", target = 1 }, { duration = 5, target = 2 }]"#,
            "stage 2: duration = 5 must be a string",
        ),
        (r#"[{ duration = "5s" }]"#, "stage 1 has no target"),
        (r#"[{ target = 3 }]"#, "stage 1 has no duration"),
        (
            r#"[{ duration = "5s", target = 1, ramp = true }]"#,
            "unknown key `ramp`",
        ),
        (r#"[{ duration = "5 s", target = 1 }]"#, "stage 1:"),
        ("[10, 20]", "stage 1 is 10, not a table"),
        ("10", "expected a string such as"),
    ] {
        let e = parse(&list(stages)).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (8, "load.stages"),
            "{stages}: {e}"
        );
        assert!(e.message.contains(words), "{stages}: {e}");
        assert!(!e.message.contains("untagged"), "{e}");
        if !stages.starts_with("[{ duration = \"5 s\"") {
            assert!(
                e.message.contains("{ duration = \"30s\", target = 10 }")
                    || e.message.contains("must be a string"),
                "the form is shown: {e}"
            );
        }
    }
    let s = parse(&list(
        r#"[{ duration = "5s", target = 2 }, { duration = "1m", target = 4 }]"#,
    ))
    .unwrap();
    assert_eq!(s.load.stages().len(), 2);
    assert_eq!(s.load.stages()[1].target, 4.0);
}

#[test]
fn unknown_keys_and_bad_toml_are_located() {
    let e = parse(&GOOD.replace("think_time", "thinktime")).unwrap_err();
    assert_eq!(e.line, 7, "{e}");
    assert!(e.message.contains("unknown field `thinktime`"), "{e}");
    let e = parse("name = \"x\"\n[load\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn dataset_files_are_read_relative_to_the_scenario() {
    let dir = std::env::temp_dir().join(format!("genbench-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.txt"), "# comment\none\n\ntwo\n").unwrap();
    let text = GOOD.replace("values = [\"a\", \"b\"]", "file = \"t.txt\"");
    std::fs::write(dir.join("s.toml"), &text).unwrap();
    let s = Scenario::from_file(&dir.join("s.toml")).unwrap();
    assert_eq!(s.datasets["topic"].column("topic").unwrap(), ["one", "two"]);
    std::fs::remove_file(dir.join("t.txt")).unwrap();
    let e = Scenario::from_file(&dir.join("s.toml")).unwrap_err();
    assert!(
        e.message.contains("cannot read") && e.key == "datasets.topic",
        "{e}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_example_scenarios_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            // Enough distinct requests that the cache hit rate means something.
            let rows: usize = s.datasets.values().map(|d| d.rows.len()).sum();
            assert!(rows >= 20, "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 4, "{n} examples");
    let users = Scenario::from_file(&dir.join("users-100.toml")).unwrap();
    assert!(matches!(users.load, Load::Closed { .. }));
    assert_eq!(users.duration().as_secs(), 300);
}

#[test]
fn set_overrides_are_validated_like_the_file() {
    use genbench_scenarios::{Scenario, parse_override};
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/users-100.toml"
    ))
    .unwrap();
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string());
    let sets = |s: &[&str]| {
        s.iter()
            .map(|s| parse_override(s).unwrap())
            .collect::<Vec<_>>()
    };

    let s = Scenario::parse_overridden(
        &text,
        "users-100.toml",
        &read,
        &sets(&["load.timeout=5s", "pipeline.model=gpt-4o"]),
    )
    .unwrap();
    assert_eq!(s.timeout, std::time::Duration::from_secs(5));
    assert_eq!(s.pipeline["model"].as_str(), Some("gpt-4o"));

    let e = Scenario::parse_overridden(
        &text,
        "users-100.toml",
        &read,
        &sets(&["load.timeout=soon"]),
    )
    .unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("users-100.toml: with --set load.timeout=soon: `load.timeout`:"),
        "{shown}"
    );

    let e = Scenario::parse_overridden(&text, "users-100.toml", &read, &sets(&["load.tiemout=5s"]))
        .unwrap_err();
    assert!(e.to_string().contains("tiemout"), "{e}");

    // An error in the file itself keeps its line, whatever the overrides.
    let broken = text.replace("model = \"closed\"", "model = \"sideways\"");
    let e = Scenario::parse_overridden(
        &broken,
        "users-100.toml",
        &read,
        &sets(&["load.timeout=5s"]),
    )
    .unwrap_err();
    assert!(e.line > 0, "{e}");
}

#[test]
fn collect_and_analysis_errors_point_at_their_table() {
    // GOOD ends on line 17; the table added below starts on line 18.
    expect(
        &format!("{GOOD}[collect.cache]\nsource = \"header\"\npointer = \"/cache\"\n"),
        18,
        "collect.cache.pointer",
        "source = \"json\"",
    );
    expect(
        &format!("{GOOD}[collect.cost]\nledger = \"127.0.0.1:8701\"\n"),
        18,
        "collect.cost.ledger",
        "http://",
    );
    expect(
        &format!("{GOOD}[analysis]\nrecovery_factor = 0.5\n"),
        18,
        "analysis.recovery_factor",
        "1 or more",
    );
    // Unknown keys are refused like everywhere else.
    assert!(parse(&format!("{GOOD}[collect.cache]\nheadr = \"X\"\n")).is_err());
    let ok = parse(&format!(
        "{GOOD}[collect.cache]\nsource = \"metrics\"\nhits = \"h_total\"\nmisses = \"m_total\"\n"
    ))
    .unwrap();
    assert!(matches!(
        ok.collect.cache,
        genbench_scenarios::CacheSource::Metrics { .. }
    ));
}

#[test]
fn giving_up_is_checked_against_the_timeout_where_it_is_written() {
    let stages = "stages = \"10,60s;100,30s;0,10s\"";
    let with = |keys: &str| GOOD.replace(stages, &format!("{stages}\n{keys}"));
    let s = parse(&with(
        "abandon_after = \"20s\"\n[load.cancel]\nrate = 0.1\nafter = \"2s\"",
    ))
    .unwrap();
    let a = s.abandon.expect("abandonment");
    assert_eq!(a.after, Some(std::time::Duration::from_secs(20)));
    assert_eq!(a.cancel.map(|c| c.share), Some(0.1));
    assert!(parse(GOOD).unwrap().abandon.is_none());
    expect(
        &with("timeout = \"10s\"\nabandon_after = \"20s\""),
        10,
        "load.abandon_after",
        "raise [load] timeout",
    );
    expect(
        &with("abandon_after = \"5s\"\n[load.cancel]\nrate = 0.1\nafter = \"9s\""),
        10,
        "load.cancel.after",
        "abandon_after",
    );
    expect(
        &with("[load.cancel]\nrate = 10\nafter = \"2s\""),
        9,
        "load.cancel.rate",
        "at most 1",
    );
}
