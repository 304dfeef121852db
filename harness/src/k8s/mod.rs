//! Kubernetes manifests for a scaled-out run (`genbench k8s job`): an
//! Indexed Job whose pod `I` runs segment `I` of `N` from one start instant,
//! built as data (so tests read it) and written as YAML. A failed pod is
//! never replaced (`backoffLimitPerIndex: 0`): a second try would send its
//! segment's load twice. [`lint`] catches what the API's schema cannot.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// Most completions an Indexed Job may have.
pub const MAX_COMPLETIONS: u64 = 100_000;

/// What the Job runs.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The Job's name (a DNS label); parts go under `/results/NAME`.
    pub name: String,
    pub namespace: Option<String>,
    pub image: String,
    pub segments: u32,
    /// A built-in's name, or the scenario file's name with its text (shipped
    /// in a ConfigMap).
    pub scenario: Scenario,
    pub target: String,
    /// `--start-at` for every pod, RFC 3339.
    pub start_at: String,
    /// The PersistentVolumeClaim (ReadWriteMany) the parts are written to.
    pub claim: String,
    /// `--set KEY=VALUE` overrides, passed on to every pod.
    pub set: Vec<String>,
    /// Secrets whose keys become the pods' environment, for the
    /// `${env:NAME}` the target and requests reference.
    pub env_from_secrets: Vec<String>,
    /// Each pod serves live metrics on this port (`--metrics-listen`), with
    /// the `prometheus.io/*` annotations a Prometheus scrape config keys on.
    pub metrics_port: Option<u16>,
}

#[derive(Debug, Clone)]
pub enum Scenario {
    Builtin(String),
    /// A scenario file and the files it names, each at its path under the
    /// mount (`main` is the scenario's).
    Files {
        main: String,
        files: Vec<(String, String)>,
    },
}

/// Most bytes a ConfigMap holds.
pub const MAX_CONFIG_MAP_BYTES: usize = 1 << 20;

/// Where a shipped scenario file is mounted in the pods.
const SCENARIO_DIR: &str = "/etc/genbench";

fn labels(name: &str) -> Value {
    json!({"app.kubernetes.io/name": "genbench", "genbench.dev/run": name})
}

fn metadata(s: &JobSpec, name: &str) -> Value {
    metadata_of(&s.name, s.namespace.as_deref(), name)
}

fn metadata_of(run: &str, namespace: Option<&str>, name: &str) -> Value {
    let mut m = json!({"name": name, "labels": labels(run)});
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

/// The one-pod Job that merges a run's parts from the claim, once the
/// Indexed Job named `run` has completed: its result goes to
/// `/results/RUN-merged`.
pub fn merge_job(run: &str, namespace: Option<&str>, image: &str, claim: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata_of(run, namespace, &format!("{run}-merge")),
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 86_400,
            "template": {
                "metadata": {"labels": labels(run)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "merge",
                        "image": image,
                        "args": ["merge", format!("/results/{run}"), "--out", format!("/results/{run}-merged"), "--junit"],
                        "volumeMounts": [{"name": "results", "mountPath": "/results"}],
                    }],
                    "volumes": [{"name": "results", "persistentVolumeClaim": {"claimName": claim}}],
                },
            },
        },
    })
}

/// The manifests, in apply order: the scenario's ConfigMap (for a file),
/// then the Indexed Job.
pub fn manifests(s: &JobSpec) -> Vec<Value> {
    let mut out = Vec::new();
    let mut mounted = Mounted::default();
    let scenario_arg = match &s.scenario {
        Scenario::Builtin(b) => b.clone(),
        Scenario::Files { main, files } => {
            let cm = format!("{}-scenario", s.name);
            out.push(config_map(s, &cm, files, &mut mounted));
            format!("{SCENARIO_DIR}/{main}")
        }
    };
    mounted
        .volumes
        .push(json!({"name": "results", "persistentVolumeClaim": {"claimName": s.claim}}));
    mounted
        .mounts
        .push(json!({"name": "results", "mountPath": "/results"}));
    let mut container = json!({
        "name": "genbench",
        "image": s.image,
        "args": args(s, scenario_arg),
        "volumeMounts": mounted.mounts,
        "resources": {"requests": {"cpu": "1", "memory": "256Mi"}},
    });
    if !s.env_from_secrets.is_empty() {
        let from: Vec<Value> = s
            .env_from_secrets
            .iter()
            .map(|name| json!({"secretRef": {"name": name}}))
            .collect();
        container["envFrom"] = json!(from);
    }
    let mut pod_meta = json!({"labels": labels(&s.name)});
    if let Some(port) = s.metrics_port {
        container["ports"] = json!([{"name": "metrics", "containerPort": port}]);
        pod_meta["annotations"] = json!({
            "prometheus.io/scrape": "true",
            "prometheus.io/port": port.to_string(),
            "prometheus.io/path": "/metrics",
        });
    }
    out.push(job(s, pod_meta, container, mounted.volumes));
    out
}

/// The pod's volumes and the container's mounts of them.
#[derive(Default)]
struct Mounted {
    volumes: Vec<Value>,
    mounts: Vec<Value>,
}

/// The scenario's files as a ConfigMap named `cm`, mounted back at their
/// paths under [`SCENARIO_DIR`].
fn config_map(s: &JobSpec, cm: &str, files: &[(String, String)], mounted: &mut Mounted) -> Value {
    // ConfigMap keys cannot hold `/`: each file is a numbered key, mounted
    // back at its path.
    let key = |i: usize, path: &str| {
        let base = path.rsplit('/').next().unwrap_or(path);
        format!("f{i}-{base}")
    };
    let data: serde_json::Map<String, Value> = files
        .iter()
        .enumerate()
        .map(|(i, (path, text))| (key(i, path), json!(text)))
        .collect();
    let items: Vec<Value> = files
        .iter()
        .enumerate()
        .map(|(i, (path, _))| json!({"key": key(i, path), "path": path}))
        .collect();
    mounted
        .volumes
        .push(json!({"name": "scenario", "configMap": {"name": cm, "items": items}}));
    mounted
        .mounts
        .push(json!({"name": "scenario", "mountPath": SCENARIO_DIR, "readOnly": true}));
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(s, cm),
        "data": data,
    })
}

/// `genbench run`'s arguments in every pod: its segment from the Job's
/// completion index, its results under the claim.
fn args(s: &JobSpec, scenario_arg: String) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        scenario_arg,
        "--segments".into(),
        s.segments.to_string(),
        "--target".into(),
        s.target.clone(),
        "--start-at".into(),
        s.start_at.clone(),
        "--profile".into(),
        "off".into(),
        "--out".into(),
        // The Job controller sets JOB_COMPLETION_INDEX in every pod.
        format!("/results/{}/part-$(JOB_COMPLETION_INDEX)", s.name),
    ];
    for kv in &s.set {
        args.push("--set".into());
        args.push(kv.clone());
    }
    if let Some(port) = s.metrics_port {
        args.push("--metrics-listen".into());
        args.push(format!("0.0.0.0:{port}"));
    }
    args
}

/// The Indexed Job: one pod a segment, none retried.
fn job(s: &JobSpec, pod_meta: Value, container: Value, volumes: Vec<Value>) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(s, &s.name),
        "spec": {
            "completionMode": "Indexed",
            "completions": s.segments,
            "parallelism": s.segments,
            // A retried pod would send its segment's load a second time.
            "backoffLimitPerIndex": 0,
            "podReplacementPolicy": "Failed",
            "ttlSecondsAfterFinished": 86_400,
            "template": {
                "metadata": pod_meta,
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    })
}

/// The files a scenario names, relative to its own directory, from its
/// TOML: `datasets.*.file`, `request.body_file`, `flow.steps[].body_file`.
pub fn referenced_files(toml_text: &str) -> Vec<String> {
    let Ok(v) = toml_text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |x: Option<&toml::Value>| {
        if let Some(p) = x.and_then(toml::Value::as_str)
            && !out.iter().any(|o: &String| o == p)
        {
            out.push(p.to_string());
        }
    };
    if let Some(d) = v.get("datasets").and_then(toml::Value::as_table) {
        for t in d.values() {
            push(t.get("file"));
        }
    }
    push(v.get("request").and_then(|r| r.get("body_file")));
    if let Some(steps) = v
        .get("flow")
        .and_then(|f| f.get("steps"))
        .and_then(toml::Value::as_array)
    {
        for st in steps {
            push(st.get("body_file"));
        }
    }
    out
}

/// Where a scenario file `name` and the files it names (`refs`, relative
/// to its directory, `..` allowed) go under the mount so every relative
/// path still holds: the scenario sits as many directories deep as its
/// references climb. Returns its path and each reference's.
pub fn layout(name: &str, refs: &[String]) -> Result<(String, Vec<String>), String> {
    let mut parsed = Vec::new();
    for r in refs {
        if r.starts_with('/') {
            return Err(format!(
                "`{r}` is an absolute path: the pods cannot see this machine's files; give it relative to the scenario"
            ));
        }
        let mut ups = 0usize;
        let mut rest: Vec<&str> = Vec::new();
        for c in r.split('/') {
            match c {
                "" | "." => {}
                ".." if rest.is_empty() => ups += 1,
                ".." => {
                    rest.pop();
                }
                c => rest.push(c),
            }
        }
        if rest.is_empty() {
            return Err(format!("`{r}` names no file"));
        }
        parsed.push((ups, rest));
    }
    let depth = parsed.iter().map(|p| p.0).max().unwrap_or(0);
    let base: Vec<String> = (0..depth).map(|i| format!("d{i}")).collect();
    let at = |ups: usize, rest: &[&str]| {
        let mut p: Vec<&str> = base[..depth - ups].iter().map(String::as_str).collect();
        p.extend_from_slice(rest);
        p.join("/")
    };
    let paths = parsed.iter().map(|(u, r)| at(*u, r)).collect();
    Ok((at(0, &[name]), paths))
}

/// What is wrong with a segmented run's Job (one whose pods `genbench
/// run`) that its schema accepts.
pub fn lint(m: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let runs = m["spec"]["template"]["spec"]["containers"][0]["args"][0] == "run";
    if m["kind"] != "Job" || !runs {
        return bad;
    }
    let spec = &m["spec"];
    let name = m["metadata"]["name"].as_str().unwrap_or("the Job");
    let n = |k: &str| spec[k].as_u64();
    if spec["completionMode"] != "Indexed" {
        bad.push(format!(
            "{name}: completionMode must be Indexed, so each pod gets its segment's JOB_COMPLETION_INDEX"
        ));
    }
    match (n("completions"), n("parallelism")) {
        (None, _) => bad.push(format!(
            "{name}: an Indexed Job needs completions (the number of segments)"
        )),
        (Some(c), p) => {
            if c > MAX_COMPLETIONS {
                bad.push(format!(
                    "{name}: completions {c} is over {MAX_COMPLETIONS}, the most an Indexed Job has"
                ));
            }
            if p.is_some_and(|p| p > MAX_COMPLETIONS) {
                bad.push(format!(
                    "{name}: parallelism is over {MAX_COMPLETIONS}; the API refuses it"
                ));
            }
            if p != Some(c) {
                bad.push(format!(
                    "{name}: parallelism must equal completions ({c}): every segment sends at once, from one start instant"
                ));
            }
        }
    }
    if n("backoffLimitPerIndex") != Some(0) {
        bad.push(format!(
            "{name}: backoffLimitPerIndex must be 0: a retried pod sends its segment's load twice"
        ));
    }
    let restart = &spec["template"]["spec"]["restartPolicy"];
    if restart != "Never" {
        bad.push(format!(
            "{name}: restartPolicy must be Never (it is {restart}): a restarted container sends its load again, and backoffLimitPerIndex requires Never"
        ));
    }
    bad
}

/// `v` as YAML: block maps and lists, every string double-quoted (a JSON
/// string is a YAML scalar), so no value can be misread as another type.
pub fn to_yaml(docs: &[Value]) -> String {
    let mut o = String::new();
    for d in docs {
        o.push_str("---\n");
        block(&mut o, d, 0);
    }
    o
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn block(o: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = serde_json::to_string(k).unwrap_or_default();
                let key = if k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                {
                    k.clone()
                } else {
                    key
                };
                if is_block(x) {
                    let _ = writeln!(o, "{pad}{key}:");
                    let inner = if x.is_array() { indent } else { indent + 2 };
                    block(o, x, inner);
                } else {
                    let _ = writeln!(o, "{pad}{key}: {}", empty_or(x));
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                if is_block(x) {
                    let mut item = String::new();
                    block(&mut item, x, indent + 2);
                    // The first line of the item takes the dash.
                    let item = item.replacen(&" ".repeat(indent + 2), "", 1);
                    let _ = write!(o, "{pad}- {item}");
                } else {
                    let _ = writeln!(o, "{pad}- {}", empty_or(x));
                }
            }
        }
        other => {
            let _ = writeln!(o, "{pad}{}", scalar(other));
        }
    }
}

fn empty_or(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => scalar(other),
    }
}

#[cfg(test)]
mod tests;
