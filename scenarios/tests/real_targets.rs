//! The scenario keys real targets need: HTTP version and HTTP/2 streams,
//! `${env:NAME}` references, `body_file`, table datasets and response
//! checks, each with errors that name the line, key and fix.

use std::path::Path;

use genbench_scenarios::{CheckRule, HttpVersion, Scenario, parse_override};

const BASE: &str = r#"
name = "api"

[load]
model = "open"
stages = "5,10s"

[request]
path = "/v1/chat/completions"
headers = { authorization = "Bearer ${env:OPENAI_API_KEY}" }
body = '{"topic": "{{topic}}"}'

[datasets.topic]
values = ["a"]
"#;

fn parse(text: &str) -> Result<Scenario, genbench_scenarios::ScenarioError> {
    Scenario::parse(text, "api.toml", Path::new("."))
}

#[test]
fn http_version_connections_and_streams() {
    let s = parse(BASE).unwrap();
    assert_eq!(s.http.version, HttpVersion::Auto);
    assert_eq!((s.http.connections, s.http.max_streams), (4, 100));
    let t = BASE.replace(
        "stages = \"5,10s\"",
        "stages = \"5,10s\"\nhttp = \"2\"\nconnections = 8\nmax_streams = 32",
    );
    let s = parse(&t).unwrap();
    assert_eq!(s.http.version, HttpVersion::Http2);
    assert_eq!((s.http.connections, s.http.max_streams), (8, 32));
    // The bare numbers people type work too, in the file and in --set.
    let s = parse(&BASE.replace("stages = \"5,10s\"", "stages = \"5,10s\"\nhttp = 1.1")).unwrap();
    assert_eq!(s.http.version, HttpVersion::Http1);
    let o = [parse_override("load.http=2").unwrap()];
    let s = Scenario::parse_overridden(BASE, "api.toml", &|_| Err("no".into()), &o).unwrap();
    assert_eq!(s.http.version, HttpVersion::Http2);
    let e =
        parse(&BASE.replace("stages = \"5,10s\"", "stages = \"5,10s\"\nhttp = \"3\"")).unwrap_err();
    assert_eq!(e.key, "load.http", "{e}");
    assert!(e.message.contains("\"auto\""), "{e}");
    let e = parse(&BASE.replace("stages = \"5,10s\"", "stages = \"5,10s\"\nmax_streams = 0"))
        .unwrap_err();
    assert_eq!(e.key, "load.max_streams", "{e}");
}

#[test]
fn env_references_are_kept_and_checked_for_form() {
    let s = parse(BASE).unwrap();
    assert_eq!(
        s.request.headers["authorization"],
        "Bearer ${env:OPENAI_API_KEY}"
    );
    let e = parse(&BASE.replace("${env:OPENAI_API_KEY}", "${env:OPENAI-KEY}")).unwrap_err();
    assert_eq!(
        (e.line, e.key.as_str()),
        (10, "request.headers.authorization"),
        "{e}"
    );
    let e = parse(&BASE.replace("{{topic}}\"}'", "{{topic}} ${env:X\"}'")).unwrap_err();
    assert_eq!(e.key, "request.body", "{e}");
}

fn dir_with(files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("genbench-rt-{}-{}", std::process::id(), files[0].0));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn body_files_and_table_datasets_come_from_beside_the_scenario() {
    let scenario = r#"
name = "rows"
[load]
model = "open"
stages = "1,1s"
[request]
path = "/api/v1/generate-article?len={{target_length}}"
body_file = "payload.json"
[datasets.articles]
file = "articles.csv"
"#;
    let dir = dir_with(&[
        ("s.toml", scenario),
        (
            "payload.json",
            "{\"topic\": \"{{topic}}\", \"industry\": \"{{industry}}\"}\n",
        ),
        (
            "articles.csv",
            "topic,industry,target_length\nsolar,energy,300\n",
        ),
    ]);
    let s = Scenario::from_file(&dir.join("s.toml")).unwrap();
    assert!(s.request.body.as_deref().unwrap().contains("{{industry}}"));
    assert_eq!(s.request.method, "POST");
    assert_eq!(
        s.datasets["articles"].columns,
        ["topic", "industry", "target_length"]
    );
    std::fs::remove_file(dir.join("payload.json")).unwrap();
    let e = Scenario::from_file(&dir.join("s.toml")).unwrap_err();
    assert_eq!(e.key, "request.body_file", "{e}");
    assert!(e.message.contains("relative to the scenario file"), "{e}");
    let _ = std::fs::remove_dir_all(dir);

    let both = BASE.replace("body = ", "body_file = \"x.json\"\nbody = ");
    assert!(parse(&both).unwrap_err().message.contains("not several"));
}

#[test]
fn a_column_two_datasets_share_is_an_error() {
    let t = BASE.replace(
        "values = [\"a\"]",
        "values = [\"a\"]\n[datasets.more]\nfile = \"m.csv\"",
    );
    let read = |_: &str| Ok("topic,x\nb,c\n".to_string());
    let e = Scenario::parse_with(&t, "api.toml", &read).unwrap_err();
    assert!(e.message.contains("`topic` is a column of both"), "{e}");
}

#[test]
fn checks_are_named_and_validated() {
    let t = format!(
        "{BASE}\n[request.checks]\nstatus = [200, 201]\njson_exists = [\"/article\"]\njson_equals = {{ \"/cache\" = \"hit\", \"/n\" = 3 }}\nbody_contains = [\"</p>\"]\n"
    )
    .replace("[datasets.topic]\nvalues = [\"a\"]\n", "")
    .replace("body = '{\"topic\": \"{{topic}}\"}'", "body = '{}'");
    let s = parse(&t).unwrap();
    let c = &s.request.checks;
    assert_eq!(c.status.as_deref(), Some(&[200, 201][..]));
    assert!(c.status_ok(201) && !c.status_ok(204));
    assert_eq!(
        c.names(),
        [
            "status",
            "json_exists /article",
            "json_equals /cache",
            "json_equals /n",
            "body_contains \"</p>\""
        ]
    );
    assert!(matches!(&c.rules[2].rule, CheckRule::JsonEquals(p, v) if p == "/n" && *v == 3));
    let bad = t.replace("\"/article\"", "\"article\"");
    let e = parse(&bad).unwrap_err();
    assert_eq!(e.key, "request.checks.json_exists", "{e}");
    assert!(e.message.contains("starts with `/`"), "{e}");
    let e = parse(&t.replace("status = [200, 201]", "status = 999")).unwrap_err();
    assert!(e.message.contains("not an HTTP status"), "{e}");
    let e = parse(&t.replace("status = [200, 201]", "stauts = 200")).unwrap_err();
    assert!(e.message.contains("unknown field `stauts`"), "{e}");
}

#[test]
fn a_json_table_body_is_sent_as_json_and_its_keys_can_be_set() {
    let t = BASE.replace(
        "body = '{\"topic\": \"{{topic}}\"}'",
        "[request.json]\nmodel = \"${env:MODEL:-gpt-4o-mini}\"\nstream = true\nmessages = [{ role = \"user\", content = \"{{topic}}\" }]",
    );
    let s = parse(&t).unwrap();
    let body: serde_json::Value = serde_json::from_str(s.request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["model"], "${env:MODEL:-gpt-4o-mini}");
    assert_eq!(body["messages"][0]["content"], "{{topic}}");
    assert_eq!(s.request.headers["content-type"], "application/json");
    assert_eq!(s.request.variables, ["topic"]);
    let o = [parse_override("request.json.model=gpt-4o").unwrap()];
    let s = Scenario::parse_overridden(&t, "api.toml", &|_| Err("no files".into()), &o).unwrap();
    let body: serde_json::Value = serde_json::from_str(s.request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["stream"], true);
}

#[test]
fn one_body_only_and_objectives_in_slo() {
    let both = BASE.replace(
        "body = '{\"topic\": \"{{topic}}\"}'",
        "body = '{}'\n[request.json]\nmodel = \"m\"",
    );
    let e = parse(&both).unwrap_err().to_string();
    assert!(
        e.contains("one of body, body_file and [request.json]"),
        "{e}"
    );
    let slo = format!("{BASE}\n[slo]\nttft = \"600ms\"\ntpot = \"50ms\"\n").replace(
        "name = \"api\"",
        "name = \"api\"\nthresholds = [\"goodput >= 95%\", \"ttft_p95 < 1s\"]",
    );
    let s = parse(&slo).unwrap();
    assert_eq!(
        (s.objectives.ttft_ms, s.objectives.tpot_ms),
        (Some(600.0), Some(50.0))
    );
    assert_eq!(s.thresholds.len(), 2);
    let bad = slo.replace("tpot = \"50ms\"", "tpot = \"fast\"");
    let e = parse(&bad).unwrap_err().to_string();
    assert!(e.contains("slo.tpot") && e.contains("api.toml:"), "{e}");
}
