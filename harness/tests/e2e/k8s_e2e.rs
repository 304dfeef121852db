//! `genbench k8s job`: the manifests it renders are an Indexed Job that
//! sends each segment once, and a scenario file travels with the files it
//! names so that, mounted in a pod, it validates as it does here.

use crate::support::genbench;
use serde_json::Value;

fn render(args: &[&str]) -> (Option<i32>, String, String) {
    let o = genbench().args(["k8s", "job"]).args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn a_scenario_file_and_its_datasets_validate_where_the_pod_mounts_them() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/examples/users-100.toml"
    );
    let (code, out, err) = render(&[
        scenario,
        "--segments",
        "4",
        "--target",
        "https://staging.example.com/api",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    let items = list["items"].as_array().unwrap();
    let (cm, job) = (&items[0], &items[1]);
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["backoffLimitPerIndex"], 0);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    // Lay the ConfigMap out as the kubelet would, under a temporary root.
    let root = std::env::temp_dir().join(format!("genbench-k8s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let vol = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "scenario")
        .unwrap();
    for item in vol["configMap"]["items"].as_array().unwrap() {
        let path = root.join(item["path"].as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let key = item["key"].as_str().unwrap();
        std::fs::write(&path, cm["data"][key].as_str().unwrap()).unwrap();
    }
    let arg = pod["containers"][0]["args"][1].as_str().unwrap();
    let mounted = root.join(arg.strip_prefix("/etc/genbench/").unwrap());
    // Rendering again from the mounted copy loads and validates the
    // scenario, datasets included, as `genbench run` in the pod will.
    let (code, _, err) = render(&[
        mounted.to_str().unwrap(),
        "--segments",
        "4",
        "--target",
        "https://staging.example.com/api",
    ]);
    assert_eq!(
        code,
        Some(0),
        "the mounted scenario does not validate: {err}"
    );
}

#[test]
fn bad_input_is_refused_with_the_fix() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "stress",
                "--segments",
                "100001",
                "--target",
                "https://x.example",
            ],
            "between 1 and 100000",
        ),
        (
            &["stress", "--segments", "2", "--target", "ftp://x"],
            "--target",
        ),
        (
            &[
                "stress",
                "--segments",
                "2",
                "--target",
                "https://x.example",
                "--name",
                "Bad_Name",
            ],
            "lowercase",
        ),
        (
            &["nope", "--segments", "2", "--target", "https://x.example"],
            "neither a built-in",
        ),
        (
            &[
                "stress",
                "--segments",
                "2",
                "--target",
                "https://x.example",
                "--set",
                "load.nope=1",
            ],
            "nope",
        ),
    ];
    for (args, words) in cases {
        let (code, _, err) = render(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {words:?} not in {err}");
    }
}

#[test]
fn an_env_reference_without_a_default_needs_a_secret_for_the_pods() {
    let gateway = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/examples/https-gateway.toml"
    );
    let target = "https://${env:STAGING_HOST}/api";
    // The header's key and the target's host: no Secret named, refused.
    let (code, out, err) = render(&[gateway, "--segments", "2", "--target", target]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("--target uses ${env:STAGING_HOST}")
            && err.contains("STAGING_HOST, GATEWAY_API_KEY")
            && err.contains("--env-from-secret NAME"),
        "{err}"
    );
    // Named, every pod gets the Secret's keys as its environment.
    let (code, out, err) = render(&[
        gateway,
        "--segments",
        "2",
        "--target",
        target,
        "--env-from-secret",
        "staging-api",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("STAGING_HOST, GATEWAY_API_KEY"), "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    let job = &list["items"][1];
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "staging-api", "{c}");
    // The target keeps its reference: resolved in the pod, never written.
    assert!(c["args"].as_array().unwrap().iter().any(|a| a == target));
    // Defaults need nothing (the llm built-in's key and model have them).
    let llm = [
        "llm",
        "--segments",
        "2",
        "--target",
        "https://llm.example.com",
    ];
    let (code, _, err) = render(&llm);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = render(&[&llm[..], &["--env-from-secret", "Not_A_Name"]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`Not_A_Name` is not a Secret's name"), "{err}");
}
