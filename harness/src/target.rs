//! The embedded default target: `genbench mock` and `genbench pipeline` as
//! child processes on loopback ports the OS picks, so the target's CPU, RSS
//! and flamegraph are its own; or, for scenarios with `embedded = "mock"`,
//! the mock alone, its LLM API the target. Children are killed when this is
//! dropped — on success, error, Ctrl-C or panic alike.

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
    // Held for kill_on_drop, and their stdout kept open.
    _mock: (Child, Output),
    _pipeline: Option<(Child, Output)>,
}

/// Starts a child and reads the one JSON line it prints when ready.
async fn spawn_ready(args: &[String]) -> anyhow::Result<(Child, Output, serde_json::Value)> {
    let exe = std::env::current_exe()
        .context("cannot find the genbench executable to start the embedded target")?;
    let mut child = Command::new(exe)
        .args(args)
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
    Ok((child, reader, v))
}

/// A child's stdout, kept open so a late write cannot fail with EPIPE.
type Output = BufReader<tokio::process::ChildStdout>;

impl Embedded {
    /// `mock_time_scale` 0 makes the mock providers instant (fast tests).
    /// A non-empty `pipeline_toml` is written to `out_dir/pipeline.toml`,
    /// where it also records what ran, and given to the pipeline.
    pub async fn start(
        mock_time_scale: f64,
        pipeline_toml: &str,
        out_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let (mock, mock_out, llm, search) = start_mock(mock_time_scale).await?;
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
        let (pipeline, pipe_out, ready) = spawn_ready(&pipe_args).await?;
        let url = ready["url"]
            .as_str()
            .context("pipeline reported no URL")?
            .to_string();
        Ok(Embedded {
            pid: pipeline.id(),
            url,
            llm_url: llm,
            _mock: (mock, mock_out),
            _pipeline: Some((pipeline, pipe_out)),
        })
    }

    /// The mock providers alone; the target is the mock LLM's API.
    pub async fn start_mock_only(mock_time_scale: f64) -> anyhow::Result<Self> {
        let (mock, mock_out, llm, _) = start_mock(mock_time_scale).await?;
        Ok(Embedded {
            url: llm.clone(),
            pid: mock.id(),
            llm_url: llm,
            _mock: (mock, mock_out),
            _pipeline: None,
        })
    }
}

/// `genbench mock` on ports the OS picks: the child, its stdout, and the
/// LLM's and search API's URLs.
async fn start_mock(mock_time_scale: f64) -> anyhow::Result<(Child, Output, String, String)> {
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
    let (mock, mock_out, urls) = spawn_ready(&mock_args).await?;
    let llm = urls["llm"]
        .as_str()
        .context("mock reported no llm URL")?
        .to_string();
    let search = urls["search"]
        .as_str()
        .context("mock reported no search URL")?
        .to_string();
    Ok((mock, mock_out, llm, search))
}
