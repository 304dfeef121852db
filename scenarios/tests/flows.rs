//! `[[flow.steps]]`: asynchronous job flows validate into steps, and every
//! mistake is caught before any load, naming the file, line, step, key and
//! the fix.

use std::path::Path;
use std::time::Duration;

use genbench_scenarios::{ExtractFrom, Scenario, ScenarioError};

const HEAD: &str = r#"
name = "jobs"

[load]
model = "open"
stages = "2,30s"

[datasets.topic]
values = ["tides", "kelp"]
"#;

const JOBS: &str = r#"
[[flow.steps]]
name = "submit"
method = "POST"
path = "/api/v1/jobs"
body = '{"topic": "{{topic}}"}'
checks = { status = [202] }
extract = { job = "/job/id", location = "header:Location" }

[[flow.steps]]
name = "poll"
path = "/api/v1/jobs/{{job}}"
poll = { until = "/state", equals = "done", fail_on = ["failed"], every = "500ms", timeout = "2m" }
think = "1s"

[[flow.steps]]
path = "{{location}}/result"
timeout = "5s"
"#;

fn parse(body: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(&format!("{HEAD}{body}"), "jobs.toml", Path::new("."))
}

#[test]
fn a_job_flow_validates_into_its_steps() {
    let s = parse(JOBS).unwrap_or_else(|e| panic!("{e}"));
    let f = s.flow.as_ref().unwrap();
    let names: Vec<&str> = f.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["submit", "poll", "step 3"]);
    let submit = &f.steps[0];
    assert_eq!(submit.request.variables, ["topic"]);
    assert_eq!(submit.request.checks.status, Some(vec![202]));
    let froms: Vec<(&str, &ExtractFrom)> = submit
        .extract
        .iter()
        .map(|e| (e.var.as_str(), &e.from))
        .collect();
    assert_eq!(
        froms,
        [
            ("job", &ExtractFrom::Json("/job/id".into())),
            ("location", &ExtractFrom::Header("location".into())),
        ]
    );
    let poll = &f.steps[1];
    assert_eq!(poll.request.method, "GET");
    assert_eq!(poll.request.extracted, ["job"]);
    assert!(poll.request.variables.is_empty());
    let p = poll.poll.as_ref().unwrap();
    assert_eq!(
        (p.every, p.timeout),
        (Duration::from_millis(500), Duration::from_secs(120))
    );
    assert_eq!(p.equals, [serde_json::json!("done")]);
    assert_eq!(p.fail_on, [serde_json::json!("failed")]);
    assert_eq!(poll.think, Duration::from_secs(1));
    assert_eq!(f.steps[2].timeout, Some(Duration::from_secs(5)));
    // The first step stands in for [request] wherever one template is read.
    assert_eq!(s.request, submit.request);
}

#[test]
fn a_request_scenario_has_no_flow() {
    let s = parse("[request]\npath = \"/a\"\n").unwrap();
    assert!(s.flow.is_none());
}

/// (steps, line, key, words the message must contain)
const BAD: &[(&str, usize, &str, &[&str])] = &[
    (
        "[[flow.steps]]\nname = \"poll\"\npath = \"/jobs/{{job}}\"\n",
        12,
        "flow.steps[1]",
        &[
            "step \"poll\"",
            "{{job}}",
            "no earlier step extracts it",
            "extract = { job",
        ],
    ),
    (
        // A step may not use what a later one extracts.
        "[[flow.steps]]\npath = \"/jobs/{{job}}\"\n[[flow.steps]]\npath = \"/x\"\nextract = { job = \"/id\" }\n",
        11,
        "flow.steps[1]",
        &["no earlier step extracts it"],
    ),
    (
        "[[flow.steps]]\nname = \"poll\"\npath = \"/jobs\"\npoll = { equals = \"done\" }\n",
        13,
        "flow.steps[1].poll.until",
        &["step \"poll\"", "JSON pointer", "until = \"/job/state\""],
    ),
    (
        "[[flow.steps]]\npath = \"/jobs\"\npoll = { until = \"/state\" }\n",
        12,
        "flow.steps[1].poll.equals",
        &["equals = \"done\""],
    ),
    (
        "[[flow.steps]]\npath = \"/jobs\"\nextract = { job = \"job.id\" }\n",
        12,
        "flow.steps[1].extract.job",
        &["JSON pointer", "header:Location"],
    ),
    (
        "[[flow.steps]]\nname = \"a\"\npath = \"/x\"\n[[flow.steps]]\nname = \"a\"\npath = \"/y\"\n",
        14,
        "flow.steps[2].name",
        &["another step has this name"],
    ),
    (
        "[[flow.steps]]\npath = \"/x\"\ntimeout = \"soon\"\n",
        12,
        "flow.steps[1].timeout",
        &["step \"step 1\""],
    ),
    (
        "[[flow.steps]]\npath = \"/x\"\nextract = { a = \"header:A\", b = \"header:B\", c = \"header:C\", d = \"header:D\", e = \"header:E\", f = \"header:F\", g = \"header:G\", h = \"header:H\", i = \"header:I\" }\n",
        12,
        "flow.steps[1].extract",
        &["9 values from headers", "at most 8"],
    ),
    (
        "[request]\npath = \"/a\"\n[[flow.steps]]\npath = \"/x\"\n",
        12,
        "flow",
        &["not both"],
    ),
];

#[test]
fn bad_flows_are_refused_with_the_step_the_key_and_the_fix() {
    for (steps, line, key, words) in BAD {
        let e = parse(steps).expect_err(steps);
        assert_eq!(e.origin, "jobs.toml");
        assert_eq!((e.line, e.key.as_str()), (*line, *key), "{e}\n{steps}");
        for w in *words {
            assert!(e.message.contains(w), "{w:?} not in {e}");
        }
    }
    let e = parse("").unwrap_err();
    assert!(e.message.contains("[[flow.steps]]"), "{e}");
}
