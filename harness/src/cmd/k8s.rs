//! `genbench k8s job`: the manifests of a scaled-out run, validated first.

use std::time::{Duration, SystemTime};

use anyhow::anyhow;

use crate::cli::{K8sArgs, K8sCommand, K8sJobArgs, ManifestFormat};
use crate::exit::Exit;
use crate::k8s::{self, JobSpec, Scenario};

pub fn run(args: K8sArgs) -> Result<u8, Exit> {
    match args.command {
        K8sCommand::Job(a) => job(*a),
        K8sCommand::Merge(a) => {
            if !dns_label(&a.name) {
                return Err(Exit::usage(anyhow!(
                    "`{}` is not a Job's name: lowercase letters, digits and `-`",
                    a.name
                )));
            }
            let m = k8s::merge_job(&a.name, a.namespace.as_deref(), &a.image, &a.claim);
            print!("{}", k8s::to_yaml(&[m]));
            Ok(0)
        }
    }
}

/// A DNS label: what a Job's name must be.
fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 52
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn job(a: K8sJobArgs) -> Result<u8, Exit> {
    // The scenario and its overrides validate here, before any pod would.
    let overrides = a
        .set
        .iter()
        .map(|s| genbench_scenarios::parse_override(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Exit::usage(anyhow!(e)))?;
    let scenario = super::run::load_scenario(&a.scenario, &overrides)?;
    crate::engine::segment::LoadSegment::new(0, a.segments)
        .map_err(|e| Exit::usage(anyhow!("--segments: {e}")))?;
    let target = target(&a.target)?;
    pod_environment(&target, &scenario, &a.env_from_secret)?;
    let name = a.name.unwrap_or_else(|| {
        format!(
            "genbench-{}",
            scenario.name.to_ascii_lowercase().replace('_', "-")
        )
    });
    if !dns_label(&name) {
        return Err(Exit::usage(anyhow!(
            "--name `{name}`: a Job's name is lowercase letters, digits and `-`, at most 52 characters"
        )));
    }
    let start_at = start_at(a.start_at.as_deref(), &a.start_in)?;
    let file = if genbench_scenarios::BUILTIN_NAMES.contains(&a.scenario.as_str()) {
        Scenario::Builtin(a.scenario.clone())
    } else {
        shipped(std::path::Path::new(&a.scenario))?
    };
    let spec = JobSpec {
        name,
        namespace: a.namespace,
        image: a.image,
        segments: a.segments,
        scenario: file,
        target,
        start_at: crate::timefmt::rfc3339(start_at),
        claim: a.claim,
        set: a.set,
        env_from_secrets: a.env_from_secret,
        metrics_port: a.metrics_port,
    };
    let docs = k8s::manifests(&spec);
    let problems: Vec<String> = docs.iter().flat_map(k8s::lint).collect();
    if !problems.is_empty() {
        return Err(Exit::usage(anyhow!("{}", problems.join("\n"))));
    }
    let yaml = match a.format {
        ManifestFormat::Yaml => k8s::to_yaml(&docs),
        ManifestFormat::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs});
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
    };
    write_manifests(a.out.as_deref(), &yaml, &spec)?;
    Ok(0)
}

/// The target as the pods get it; `${env:NAME}` is resolved in the pods,
/// what can be checked here is.
fn target(raw: &str) -> Result<String, Exit> {
    let target = raw.trim_end_matches('/').to_string();
    if target.contains("${env:") {
        genbench_scenarios::resolve_env(&target, "--target", &|_| Some("x".into()))
            .map_err(Exit::usage)?;
    } else {
        crate::net::url::TargetUrl::parse(&target)
            .map_err(|e| Exit::usage(anyhow!("--target: {}", e.why)))?;
    }
    Ok(target)
}

/// When every pod starts: `--start-at`, else `--start-in` from now (at
/// least a second).
fn start_at(at: Option<&str>, start_in: &str) -> Result<SystemTime, Exit> {
    match at {
        Some(t) => {
            crate::timefmt::parse_rfc3339(t).map_err(|e| Exit::usage(anyhow!("--start-at: {e}")))
        }
        None => {
            let lead = genbench_scenarios::parse_duration(start_in)
                .map_err(|e| Exit::usage(anyhow!("--start-in: {e}")))?;
            Ok(SystemTime::now() + lead.max(Duration::from_secs(1)))
        }
    }
}

/// To `--out` (saying how to apply it) or stdout.
fn write_manifests(out: Option<&std::path::Path>, yaml: &str, spec: &JobSpec) -> Result<(), Exit> {
    match out {
        Some(path) => {
            std::fs::write(path, yaml)
                .map_err(|e| Exit::usage(anyhow!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "wrote {} ({} segments, starting {}): kubectl apply -f {}",
                path.display(),
                spec.segments,
                spec.start_at,
                path.display()
            );
        }
        None => print!("{yaml}"),
    }
    Ok(())
}

/// The pods resolve `${env:NAME}` themselves: one with no default needs a
/// Secret to come from, checked here rather than in every pod at its start.
fn pod_environment(
    target: &str,
    scenario: &genbench_scenarios::Scenario,
    secrets: &[String],
) -> Result<(), Exit> {
    if let Some(bad) = secrets.iter().find(|s| !dns_subdomain(s)) {
        return Err(Exit::usage(anyhow!(
            "--env-from-secret `{bad}` is not a Secret's name: lowercase letters, digits, `-` and `.`"
        )));
    }
    // Where each text stands, and the text: borrowed, nothing copied.
    let mut texts: Vec<(String, &str)> = vec![("--target".into(), target)];
    let steps = scenario.flow.iter().flat_map(|f| f.steps.iter());
    let requests = std::iter::once(("request".to_string(), &scenario.request)).chain(
        steps
            .enumerate()
            .map(|(i, st)| (format!("flow.steps[{}]", i + 1), &st.request)),
    );
    for (key, r) in requests {
        texts.extend(
            r.headers
                .iter()
                .map(|(h, v)| (format!("{key}.headers.{h}"), v.as_str())),
        );
        texts.extend(r.body.as_deref().map(|b| (format!("{key}.body"), b)));
    }
    // Each variable once, with the first place that needs it.
    let mut needed: Vec<(&str, &str)> = Vec::new();
    for (used_in, text) in &texts {
        for name in genbench_scenarios::required_env(text) {
            if !needed.iter().any(|(n, _)| *n == name) {
                needed.push((name, used_in));
            }
        }
    }
    if needed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = needed.iter().map(|(n, _)| *n).collect();
    if secrets.is_empty() {
        let (first, used_in) = &needed[0];
        return Err(Exit::usage(anyhow!(
            "{used_in} uses ${{env:{first}}}, which the pods must resolve, but the Job gives them no environment; \
             put {} in a Secret (kubectl create secret generic NAME --from-literal={first}=...) and pass --env-from-secret NAME",
            names.join(", ")
        )));
    }
    eprintln!(
        "the pods resolve {} from Secret(s) {}: a key missing there stops each pod before it sends",
        names.join(", "),
        secrets.join(", ")
    );
    Ok(())
}

/// A Kubernetes object name (RFC 1123 subdomain), such as a Secret's.
fn dns_subdomain(s: &str) -> bool {
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    s.len() <= 253
        && edge(s.as_bytes().first())
        && edge(s.as_bytes().last())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// A scenario file and the files it names, read to ship in a ConfigMap.
fn shipped(path: &std::path::Path) -> Result<Scenario, Exit> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Exit::usage(anyhow!("cannot read {}: {e}", p.display())))
    };
    let text = read(path)?;
    let name = path
        .file_name()
        .map_or("scenario.toml".into(), |f| f.to_string_lossy().to_string());
    let refs = k8s::referenced_files(&text);
    let (main, paths) =
        k8s::layout(&name, &refs).map_err(|e| Exit::usage(anyhow!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut files = vec![(main.clone(), text)];
    for (r, at) in refs.iter().zip(paths) {
        files.push((at, read(&dir.join(r))?));
    }
    let bytes: usize = files.iter().map(|(p, t)| p.len() + t.len()).sum();
    if bytes > k8s::MAX_CONFIG_MAP_BYTES {
        return Err(Exit::usage(anyhow!(
            "{} and the files it names are {bytes} bytes, more than a ConfigMap holds (1 MiB): \
build them into the image and give the scenario's path in it",
            path.display()
        )));
    }
    Ok(Scenario::Files { main, files })
}
