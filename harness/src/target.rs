//! The embedded default target: `genbench mock` and `genbench pipeline` as
//! child processes on loopback ports the OS picks, so the target's CPU, RSS
//! and flamegraph are its own; or, for scenarios with `embedded = "mock"`,
//! the mock alone, its LLM API the target. Children are killed when this is
//! dropped — on success, error, Ctrl-C or panic alike — and exit by
//! themselves when genbench is gone without dropping it (`kill -9`, a
//! second Ctrl-C): each watches a pipe only genbench holds open.

use std::io::Read as _;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Embedded {
    pub url: String,
    /// The target's process: the pipeline, or the mock when it is alone.
    pub pid: Option<u32>,
    /// The mock LLM's URL, where its ledger is.
    pub llm_url: String,
    _mock: Held,
    _pipeline: Option<Held>,
}

/// A child, held for kill_on_drop, with its stdout kept open (a late write
/// cannot fail with EPIPE) and the stdin it watches.
struct Held {
    child: Child,
    _out: Output,
    _watched: tokio::process::ChildStdin,
}

/// Set in an embedded target's environment: its stdin is a pipe whose
/// other end only the genbench that started it holds.
const PARENT_PIPE_ENV: &str = "GENBENCH_PARENT_PIPE";

/// Exit status of a child whose genbench is gone.
const PARENT_GONE: i32 = 70;

/// In a genbench started as an embedded target: exits as soon as the
/// genbench that started it is gone, however it went. The kernel closes a
/// dead process's pipes, so stdin reads end-of-file within moments of a
/// `kill -9`; a thread of its own waits for that (PR_SET_PDEATHSIG would
/// fire when the spawning thread ends, which in a runtime is any time).
pub fn exit_with_parent() {
    if std::env::var_os(PARENT_PIPE_ENV).is_none() {
        return;
    }
    let watch = || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 64];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        std::process::exit(PARENT_GONE);
    };
    if let Err(e) = std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(watch)
    {
        tracing::warn!("cannot watch for the parent genbench's exit: {e}");
    }
}

/// The OpenTelemetry exporter settings a child takes from genbench alone:
/// a user's own `OTEL_EXPORTER_OTLP_ENDPOINT` must not send the embedded
/// pipeline's spans to their collector.
const OTEL_ENV: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// Starts a child with `env` set and reads the one JSON line it prints
/// when ready.
async fn spawn_ready(
    args: &[String],
    env: &[(&str, String)],
) -> anyhow::Result<(Held, serde_json::Value)> {
    let exe = std::env::current_exe()
        .context("cannot find the genbench executable to start the embedded target")?;
    let mut cmd = Command::new(exe);
    for k in OTEL_ENV {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::piped())
        .env(PARENT_PIPE_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        // A group of its own: Ctrl-C in the terminal reaches only genbench,
        // which stops the load and reads the target's ledger, counters and
        // memory before it stops the target.
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start `genbench {}`", args.join(" ")))?;
    let stdout = child.stdout.take().context("child has no stdout")?;
    let watched = child.stdin.take().context("child has no stdin")?;
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    match tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => bail!(
            "`genbench {}` did not report ready within 30 s",
            args.join(" ")
        ),
    }
    let v = serde_json::from_str(&line)
        .with_context(|| format!("unexpected ready line from `genbench {}`: {line}", args[0]))?;
    let held = Held {
        child,
        _out: reader,
        _watched: watched,
    };
    Ok((held, v))
}

/// A child's stdout, kept open so a late write cannot fail with EPIPE.
type Output = BufReader<tokio::process::ChildStdout>;

impl Embedded {
    /// `mock_time_scale` 0 makes the mock providers instant (fast tests).
    /// A non-empty `pipeline_toml` is written to `out_dir/pipeline.toml`,
    /// where it also records what ran, and given to the pipeline.
    /// `otlp`: the span receiver the pipeline exports its spans to.
    pub async fn start(
        mock_time_scale: f64,
        pipeline_toml: &str,
        out_dir: &std::path::Path,
        otlp: Option<&str>,
    ) -> anyhow::Result<Self> {
        let (mock, llm, search) = start_mock(mock_time_scale).await?;
        let any = "127.0.0.1:0".to_string();
        let mut pipe_args: Vec<String> = [
            "pipeline",
            "--addr",
            &any,
            "--llm-url",
            &format!("{llm}/v1"),
            "--search-url",
            &search,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if !pipeline_toml.is_empty() {
            let path = out_dir.join("pipeline.toml");
            std::fs::create_dir_all(out_dir)
                .and_then(|_| std::fs::write(&path, pipeline_toml))
                .with_context(|| format!("cannot write {}", path.display()))?;
            pipe_args.extend(["--config".to_string(), path.display().to_string()]);
        }
        // Batches every 500 ms rather than the SDK's 5 s: the run waits for
        // the last ones after the load.
        let env: Vec<(&str, String)> = otlp
            .map(|url| {
                vec![
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", url.to_string()),
                    ("OTEL_BSP_SCHEDULE_DELAY", "500".to_string()),
                ]
            })
            .unwrap_or_default();
        let (pipeline, ready) = spawn_ready(&pipe_args, &env).await?;
        let url = ready["url"]
            .as_str()
            .context("pipeline reported no URL")?
            .to_string();
        Ok(Embedded {
            pid: pipeline.child.id(),
            url,
            llm_url: llm,
            _mock: mock,
            _pipeline: Some(pipeline),
        })
    }

    /// The mock providers alone; the target is the mock LLM's API.
    pub async fn start_mock_only(mock_time_scale: f64) -> anyhow::Result<Self> {
        let (mock, llm, _) = start_mock(mock_time_scale).await?;
        Ok(Embedded {
            url: llm.clone(),
            pid: mock.child.id(),
            llm_url: llm,
            _mock: mock,
            _pipeline: None,
        })
    }
}

/// `genbench mock` on ports the OS picks: the child, and the LLM's and
/// search API's URLs.
async fn start_mock(mock_time_scale: f64) -> anyhow::Result<(Held, String, String)> {
    let any = "127.0.0.1:0".to_string();
    let mock_args: Vec<String> = [
        "mock",
        "--llm",
        &any,
        "--search",
        &any,
        "--web",
        &any,
        "--time-scale",
        &mock_time_scale.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mock, urls) = spawn_ready(&mock_args, &[]).await?;
    let llm = urls["llm"]
        .as_str()
        .context("mock reported no llm URL")?
        .to_string();
    let search = urls["search"]
        .as_str()
        .context("mock reported no search URL")?
        .to_string();
    Ok((mock, llm, search))
}
