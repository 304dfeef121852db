//! Clients that give up, against a `genbench mock` of the test's own at a
//! quarter of gpt-4o-mini's preset pace, whose ledger the test reads
//! itself after each run: what the provider billed for the calls cut short
//! is what genbench reports as the cost of abandoned work.

mod support;

use std::time::Duration;

use genbench_mock::{LedgerSnapshot, MockAddrs, MockConfig, MockServers};
use serde_json::Value;
use support::{out_dir, results, run_ok, schema_errors, write_file};

fn scenario(ledger: &str, stream: bool, give_up: &str) -> String {
    format!(
        r#"
name = "abandon"

[load]
model = "closed"
stages = "8,1ms;8,5s"
timeout = "30s"
{give_up}

[request]
method = "POST"
path = "/v1/chat/completions"
body = '{{"model": "gpt-4o-mini", "stream": {stream}, "max_tokens": 200, "messages": [{{"role": "user", "content": "an article"}}]}}'

[collect.cost]
ledger = "{ledger}"
"#
    )
}

/// Runs `scenario` against a fresh mock; the results and the mock's ledger
/// as it stands once genbench has exited.
async fn run(name: &'static str, stream: bool, give_up: &'static str) -> (Value, LedgerSnapshot) {
    let config = MockConfig {
        time_scale: 0.25,
        ..MockConfig::default()
    };
    let m = MockServers::start(config, MockAddrs::default())
        .await
        .unwrap();
    let url = m.llm_url();
    let v = tokio::task::spawn_blocking(move || {
        let dir = out_dir(name);
        let file = write_file(&dir, "s.toml", &scenario(&url, stream, give_up));
        run_ok(&["run", &file, "--target", &url], &dir);
        results(&dir)
    })
    .await
    .unwrap();
    (v, m.shutdown(Duration::from_secs(1)).await)
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no count at {path} in {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_streams_cost_what_the_ledger_billed_for_them() {
    // Streams of 200 tokens at 320 tokens/s after a ~110 ms first token
    // take ~0.75 s; every fourth is cancelled 400 ms after its send.
    let give_up = "abandon_after = \"20s\"\n[load.cancel]\nrate = 0.25\nafter = \"400ms\"";
    let (v, ledger) = run("abandon-streams", true, give_up).await;
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let total = u(&v, "/requests/total");
    let cancelled = u(&v, "/requests/abandoned_cancelled");
    assert!(total >= 20, "{v:#}");
    assert_eq!(cancelled, total / 4, "every fourth request: {v:#}");
    assert_eq!(u(&v, "/requests/abandoned"), cancelled);
    assert_eq!(u(&v, "/requests/abandoned_unanswered"), 0);
    assert_eq!(u(&v, "/requests/failed"), 0, "abandoned is not failed");
    assert_eq!(u(&v, "/requests/ok") + cancelled, total);

    let m = &ledger.models["gpt-4o-mini"];
    // Every stream genbench cancelled, the mock saw go away.
    assert_eq!(m.cancelled_requests, cancelled, "{ledger:#?}");
    // Cut mid-way: some tokens generated, fewer than a whole answer.
    assert!(m.cancelled_completion_tokens > 0);
    assert!(m.cancelled_completion_tokens < 200 * cancelled);
    let a = &v["cost"]["abandoned"];
    assert_eq!(u(a, "/calls"), m.cancelled_requests);
    assert_eq!(u(a, "/tokens/completion"), m.cancelled_completion_tokens);
    assert_eq!(u(a, "/tokens/prompt"), m.cancelled_prompt_tokens);
    let usd = a["usd"].as_f64().unwrap();
    assert!((usd - m.cancelled_cost_usd).abs() < 1e-12, "{usd} {m:?}");
    assert!(usd > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_answers_are_billed_whole_for_a_call_that_is_not_streamed() {
    // A non-streamed answer of 200 tokens takes ~0.75 s: every request is
    // still unanswered at 300 ms, and the mock, as a provider, finishes the
    // generation it started and bills it.
    let (v, ledger) = run("abandon-whole", false, "abandon_after = \"300ms\"").await;
    let total = u(&v, "/requests/total");
    assert!(total >= 40, "{v:#}");
    assert_eq!(u(&v, "/requests/abandoned_unanswered"), total);
    assert_eq!(u(&v, "/requests/ok"), 0);
    let m = &ledger.models["gpt-4o-mini"];
    assert_eq!(m.cancelled_requests, total, "{ledger:#?}");
    assert_eq!(m.cancelled_completion_tokens, 200 * total);
    assert_eq!(
        u(&v, "/cost/abandoned/tokens/completion"),
        m.cancelled_completion_tokens
    );
    assert_eq!(v["errors"]["rate"].as_f64(), Some(0.0));
}
