//! `genbench run` against HTTPS servers the test starts on 127.0.0.1:0 with
//! its own CA: HTTP/2 by ALPN under a base path, a secret from the
//! environment that reaches the server and no file the run wrote, checks
//! and redirects counted in their own kinds, `--insecure` recorded, and a
//! certificate problem explained once.

use std::path::Path;
use std::process::Output;

use crate::support::{genbench, out_dir, results, schema_errors};
use crate::tls_server::{Pki, Server, serve};

const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];
const SECRET: &str = "sk-test-4f1c9e0d7a2b";

fn scenario(dir: &Path, path: &str, request_extra: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        format!(
            r#"name = "https-e2e"
thresholds = ["error_rate < 1%"]

[load]
model = "open"
stages = [{{ duration = "1s", target = 15 }}, {{ duration = "2s", target = 15 }}]
timeout = "5s"

[request]
path = "{path}"
headers = {{ authorization = "Bearer ${{env:GENBENCH_TEST_SECRET}}" }}
{request_extra}
"#
        ),
    )
    .unwrap();
    file.display().to_string()
}

async fn run(args: Vec<String>, secret: Option<&str>) -> Output {
    let secret = secret.map(String::from);
    tokio::task::spawn_blocking(move || {
        let mut c = genbench();
        c.args(&args).env_remove("GENBENCH_TEST_SECRET");
        if let Some(s) = secret {
            c.env("GENBENCH_TEST_SECRET", s);
        }
        c.output().unwrap()
    })
    .await
    .unwrap()
}

struct Setup {
    server: Server,
    out: std::path::PathBuf,
    ca: String,
    url: String,
}

async fn setup(name: &str) -> Setup {
    let pki = Pki::new("genbench e2e CA");
    let server = serve(Some((pki.leaf(&["localhost", "127.0.0.1"], false), BOTH))).await;
    let out = out_dir(name);
    std::fs::create_dir_all(&out).unwrap();
    let ca = out.with_extension("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let url = format!("https://localhost:{}/api", server.addr.port());
    Setup {
        server,
        out,
        ca: ca.display().to_string(),
        url,
    }
}

fn args(file: &str, s: &Setup, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["run", file, "--target", &s.url, "--out"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    a.push(s.out.join("run").display().to_string());
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_http2_run_with_a_secret_that_reaches_no_output() {
    let s = setup("https-h2").await;
    let file = scenario(
        &s.out.join("in"),
        "/json",
        "[request.checks]\njson_equals = { \"/status\" = \"ok\" }",
    );
    let o = run(
        args(&file, &s, &["--ca-cert", &s.ca, "--junit"]),
        Some(SECRET),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let r = results(&s.out.join("run"));
    assert!(schema_errors(&r).is_empty(), "{:?}", schema_errors(&r));
    assert_eq!(r["requests"]["failed"], 0, "{}", r["errors"]);
    assert!(r["requests"]["ok"].as_u64().unwrap() >= 25);
    let c = &r["connections"];
    assert_eq!(c["protocol"], "h2");
    assert!(c["opened"].as_u64().unwrap() >= 1);
    assert!(c["tls_ms"]["max"].as_f64().unwrap() > 0.0);
    assert_eq!(c["tls"]["mode"], "ca_cert");
    // The scenario keeps the reference; the server got the value.
    assert_eq!(r["target"]["url"], s.url);
    let header = &r["scenario"]["resolved"]["request"]["headers"]["authorization"];
    assert_eq!(header, "Bearer ${env:GENBENCH_TEST_SECRET}");
    let seen = s.server.seen();
    assert!(seen.iter().all(|q| q.path == "/api/json"));
    assert!(
        seen.iter()
            .all(|q| q.authorization.as_deref() == Some(&format!("Bearer {SECRET}")))
    );
    let written = files_under(&s.out.join("run"));
    assert!(written.len() >= 4, "{written:?}");
    for f in written {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret is in {}",
            f.display()
        );
    }
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    // Nor does a comparison made from the results.
    let results_json = s.out.join("run/results.json");
    let cmp = s.out.join("cmp.html");
    let o = genbench()
        .arg("compare")
        .args([&results_json, &results_json])
        .arg("--out")
        .arg(&cmp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [cmp.clone(), cmp.with_extension("md")] {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains(SECRET), "the secret is in {}", f.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_url_may_come_from_the_environment() {
    let s = setup("https-envurl").await;
    let file = scenario(&s.out.join("in"), "/json", "");
    let mut a = args(&file, &s, &["--ca-cert", &s.ca]);
    // As written, with the port from the environment; shown as written.
    a[3] = "https://localhost:${env:GENBENCH_TEST_SECRET}/api".into();
    let port = s.server.addr.port().to_string();
    let o = run(a, Some(&port)).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = results(&s.out.join("run"));
    assert_eq!(
        r["target"]["url"],
        "https://localhost:${env:GENBENCH_TEST_SECRET}/api"
    );
    assert!(r["requests"]["ok"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_variable_stops_the_run_before_any_load() {
    let s = setup("https-noenv").await;
    let file = scenario(&s.out.join("in"), "/", "");
    let o = run(args(&file, &s, &["--ca-cert", &s.ca]), None).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("GENBENCH_TEST_SECRET"), "{stderr}");
    assert!(stderr.contains("request.headers.authorization"), "{stderr}");
    assert_eq!(s.server.accepted(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_is_one_error_kind_explained_once() {
    let s = setup("https-badca").await;
    let file = scenario(&s.out.join("in"), "/", "");
    let o = run(args(&file, &s, &[]), Some(SECRET)).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "threshold fails: {stderr}");
    let r = results(&s.out.join("run"));
    let total = r["requests"]["total"].as_u64().unwrap();
    assert!(total >= 25);
    assert_eq!(
        r["errors"]["by_kind"]["tls"].as_u64(),
        Some(total),
        "{}",
        r["errors"]
    );
    assert_eq!(stderr.matches("TLS handshake").count(), 1, "{stderr}");
    assert!(
        stderr.contains("--ca-cert") && stderr.contains("--insecure"),
        "{stderr}"
    );
    assert_eq!(r["connections"]["failed"].as_u64(), Some(total));

    // --insecure gets through, says so once, and is recorded.
    let o = run(args(&file, &s, &["--insecure"]), Some(SECRET)).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("--insecure").count(), 1, "{stderr}");
    let r = results(&s.out.join("run"));
    assert_eq!(r["connections"]["tls"]["mode"], "insecure");
    assert_eq!(r["requests"]["failed"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_and_unfollowed_redirects_have_their_own_kinds() {
    let s = setup("https-checks").await;
    let dir = s.out.join("in");
    let file = scenario(
        &dir,
        "/json",
        "[request.checks]\njson_equals = { \"/status\" = \"done\" }\njson_exists = [\"/n\"]",
    );
    let o = run(args(&file, &s, &["--ca-cert", &s.ca]), Some(SECRET)).await;
    assert_eq!(o.status.code(), Some(1));
    let r = results(&s.out.join("run"));
    let total = r["requests"]["total"].as_u64().unwrap();
    assert_eq!(r["errors"]["by_kind"]["check"].as_u64(), Some(total));
    assert_eq!(
        r["errors"]["by_check"]["json_equals /status"].as_u64(),
        Some(total)
    );
    assert!(schema_errors(&r).is_empty(), "{:?}", schema_errors(&r));

    let file = scenario(&dir, "/redirect", "");
    let o = run(args(&file, &s, &["--ca-cert", &s.ca]), Some(SECRET)).await;
    assert_eq!(o.status.code(), Some(1));
    let r = results(&s.out.join("run"));
    let total = r["requests"]["total"].as_u64().unwrap();
    assert_eq!(r["errors"]["by_kind"]["redirect"].as_u64(), Some(total));

    let file = scenario(&dir, "/redirect", "follow_redirects = 2");
    let o = run(args(&file, &s, &["--ca-cert", &s.ca]), Some(SECRET)).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(s.server.seen().iter().any(|q| q.path == "/final"));
}
