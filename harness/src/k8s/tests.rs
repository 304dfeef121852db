//! The manifests as data: what each field says and why.

use super::*;

fn spec(segments: u32, scenario: Scenario) -> JobSpec {
    JobSpec {
        name: "genbench-stress".into(),
        namespace: Some("load".into()),
        image: "ghcr.io/example/genbench:0.1.0".into(),
        segments,
        scenario,
        target: "https://staging.example.com/api".into(),
        start_at: "2026-12-03T14:00:00Z".into(),
        claim: "genbench-results".into(),
        set: vec!["load.timeout=30s".into()],
        env_from_secrets: Vec::new(),
        metrics_port: None,
    }
}

#[test]
fn secrets_become_the_pods_environment_only_when_named() {
    let plain = manifests(&spec(2, Scenario::Builtin("stress".into())));
    let c = &plain[0]["spec"]["template"]["spec"]["containers"][0];
    assert!(c.get("envFrom").is_none(), "{c}");
    let mut s = spec(2, Scenario::Builtin("stress".into()));
    s.env_from_secrets = vec!["staging-api".into(), "llm-keys".into()];
    let docs = manifests(&s);
    let c = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["envFrom"],
        json!([{"secretRef": {"name": "staging-api"}}, {"secretRef": {"name": "llm-keys"}}])
    );
    assert!(lint(&docs[0]).is_empty());
}

#[test]
fn the_job_is_indexed_one_pod_a_segment_never_retried() {
    let docs = manifests(&spec(8, Scenario::Builtin("stress".into())));
    assert_eq!(docs.len(), 1);
    let job = &docs[0];
    assert_eq!(lint(job), Vec::<String>::new());
    let s = &job["spec"];
    assert_eq!(
        (&s["completions"], &s["parallelism"]),
        (&json!(8), &json!(8))
    );
    let args: Vec<&str> = s["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!((args[0], args[1]), ("run", "stress"));
    assert_eq!(after("--segments"), "8");
    assert_eq!(after("--start-at"), "2026-12-03T14:00:00Z");
    assert_eq!(
        after("--out"),
        "/results/genbench-stress/part-$(JOB_COMPLETION_INDEX)"
    );
    assert_eq!(after("--set"), "load.timeout=30s");
}

#[test]
fn a_scenario_file_travels_in_a_config_map() {
    let file = Scenario::Files {
        main: "a/mine.toml".into(),
        files: vec![
            ("a/mine.toml".into(), "name = \"mine\"\n".into()),
            ("data/topics.txt".into(), "tides\n".into()),
        ],
    };
    let docs = manifests(&spec(2, file));
    assert_eq!(docs[0]["kind"], "ConfigMap");
    assert_eq!(docs[0]["data"]["f0-mine.toml"], "name = \"mine\"\n");
    assert_eq!(docs[0]["data"]["f1-topics.txt"], "tides\n");
    let pod = &docs[1]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["args"][1], "/etc/genbench/a/mine.toml");
    let cm = &pod["volumes"][0]["configMap"];
    assert_eq!(cm["name"], "genbench-stress-scenario");
    assert_eq!(
        cm["items"][1],
        json!({"key": "f1-topics.txt", "path": "data/topics.txt"})
    );
}

#[test]
fn named_files_keep_their_relative_paths_under_the_mount() {
    let text = "[datasets.topic]\nfile = \"../builtin/topics.txt\"\n[datasets.b]\nfile = \"rows.csv\"\n[request]\npath = \"/\"\nbody_file = \"./bodies/one.json\"\n";
    let refs = referenced_files(text);
    // Datasets in name order (b, topic), then the body file.
    assert_eq!(
        refs,
        ["rows.csv", "../builtin/topics.txt", "./bodies/one.json"]
    );
    let (main, paths) = layout("s.toml", &refs).unwrap();
    assert_eq!(main, "d0/s.toml");
    assert_eq!(
        paths,
        ["d0/rows.csv", "builtin/topics.txt", "d0/bodies/one.json"]
    );
    assert_eq!(
        layout("s.toml", &[]).unwrap(),
        ("s.toml".to_string(), vec![])
    );
    assert!(
        layout("s.toml", &["/etc/x".into()])
            .unwrap_err()
            .contains("absolute")
    );
}

#[test]
fn the_merge_job_reads_the_runs_parts_from_the_claim() {
    let m = merge_job("genbench-stress", Some("load"), "img:1", "genbench-results");
    let c = &m["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["args"],
        json!([
            "merge",
            "/results/genbench-stress",
            "--out",
            "/results/genbench-stress-merged",
            "--junit"
        ])
    );
    assert_eq!(m["metadata"]["name"], "genbench-stress-merge");
    assert_eq!(
        m["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "genbench-results"
    );
    assert_eq!(
        lint(&m).len(),
        0,
        "not an Indexed Job, so not linted as one"
    );
}

#[test]
fn lint_catches_what_a_schema_cannot() {
    let good = manifests(&spec(4, Scenario::Builtin("baseline".into()))).remove(0);
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut m = good.clone();
        f(&mut m);
        lint(&m).join("\n")
    };
    let e = broken(&|m| {
        m["spec"].as_object_mut().unwrap().remove("completions");
    });
    assert!(e.contains("needs completions"), "{e}");
    let e = broken(&|m| m["spec"]["template"]["spec"]["restartPolicy"] = json!("Always"));
    assert!(e.contains("restartPolicy must be Never"), "{e}");
    let e = broken(&|m| {
        m["spec"]["parallelism"] = json!(100_001);
        m["spec"]["completions"] = json!(100_001);
    });
    assert!(e.contains("over 100000"), "{e}");
    let e = broken(&|m| m["spec"]["backoffLimitPerIndex"] = json!(3));
    assert!(e.contains("twice"), "{e}");
    let e = broken(&|m| m["spec"]["parallelism"] = json!(2));
    assert!(e.contains("must equal completions"), "{e}");
}

#[test]
fn yaml_is_block_style_with_quoted_strings() {
    let y = to_yaml(&[json!({"a": {"b": [1, "x", {"c": "d", "e": []}]}, "f": {}})]);
    assert_eq!(
        y,
        "---\na:\n  b:\n  - 1\n  - \"x\"\n  - c: \"d\"\n    e: []\nf: {}\n"
    );
}

#[test]
fn a_metrics_port_is_served_by_every_pod_and_annotated_for_scraping() {
    let mut s = spec(4, Scenario::Builtin("stress".into()));
    s.metrics_port = Some(9464);
    let docs = manifests(&s);
    let job = docs.last().unwrap();
    let pod = &job["spec"]["template"];
    let c = &pod["spec"]["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let at = args.iter().position(|a| *a == "--metrics-listen").unwrap();
    assert_eq!(args[at + 1], "0.0.0.0:9464");
    assert_eq!(c["ports"][0]["containerPort"], 9464);
    let a = &pod["metadata"]["annotations"];
    assert_eq!(
        (
            a["prometheus.io/scrape"].as_str(),
            a["prometheus.io/port"].as_str()
        ),
        (Some("true"), Some("9464"))
    );
    assert_eq!(
        pod["metadata"]["labels"]["genbench.dev/run"],
        s.name.as_str()
    );
    assert!(lint(job).is_empty(), "{:?}", lint(job));
    // Without it, nothing listens and nothing is annotated.
    let plain = manifests(&spec(4, Scenario::Builtin("stress".into())));
    let pod = &plain.last().unwrap()["spec"]["template"];
    assert!(pod["metadata"].get("annotations").is_none());
    assert!(pod["spec"]["containers"][0].get("ports").is_none());
}
