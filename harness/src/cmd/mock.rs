//! `genbench mock`: the mock providers as long-running servers.

use std::time::Duration;

use anyhow::Context as _;
use genbench_mock::{Faults, MockAddrs, MockConfig, MockError, MockServers, Presets};
use serde_json::json;

use crate::cli::MockArgs;
use crate::exit::Exit;

/// Validates the arguments into a config before anything is started.
fn config(args: &MockArgs) -> Result<MockConfig, Exit> {
    let mut presets = Presets::builtin();
    if let Some(path) = &args.presets {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read presets file {}", path.display()))
            .map_err(Exit::usage)?;
        presets.merge(Presets::parse(&text, &path.display().to_string()).map_err(Exit::usage)?);
    }
    let faults = match &args.faults {
        Some(spec) => Faults::parse_spec(spec).map_err(Exit::usage)?,
        None => Faults::default(),
    };
    let config = MockConfig {
        seed: args.seed,
        presets,
        default_llm_preset: args.preset.clone(),
        search_preset: args.search_preset.clone(),
        web_preset: args.web_preset.clone(),
        faults,
        max_body_bytes: args.max_body_bytes,
        time_scale: args.time_scale,
    };
    config.validate().map_err(Exit::usage)?;
    Ok(config)
}

pub fn run(args: MockArgs) -> Result<u8, Exit> {
    let config = config(&args)?;
    let addrs = MockAddrs {
        llm: args.llm,
        search: args.search,
        web: args.web,
    };
    // The LLM API carries the control endpoints; search and web serve pages.
    let endpoints = "/mock/ledger/reset and /mock/config";
    if let Some(w) = super::exposure::warning("genbench mock's LLM API", addrs.llm, endpoints) {
        eprintln!("{w}");
    }
    let workers = args.workers.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // It only accepts (and serves, with one worker): one thread is enough.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Exit::could_not_run)?;
    rt.block_on(serve(config, addrs, workers))
}

async fn serve(config: MockConfig, addrs: MockAddrs, workers: usize) -> Result<u8, Exit> {
    // Installed before the ready line goes out (see signal.rs).
    let stop = super::signal::stop();
    let servers = MockServers::start_on(config, addrs, workers)
        .await
        .map_err(|e| match e {
            MockError::Bind { .. } => Exit::could_not_run(e),
            other => Exit::usage(other),
        })?;
    // One JSON line on stdout: how the harness and scripts find the ports.
    println!(
        "{}",
        json!({
            "llm": servers.llm_url(),
            "openai_base_url": format!("{}/v1", servers.llm_url()),
            "search": servers.search_url(),
            "web": servers.web_url()
        })
    );
    eprintln!(
        "genbench mock: serving on {} worker thread(s) until Ctrl-C",
        servers.workers()
    );
    eprintln!("  LLM     {}/v1   (OpenAI base_url)", servers.llm_url());
    eprintln!("  search  {}/customsearch/v1?q=...", servers.search_url());
    eprintln!("  web     {}/pages/{{id}}", servers.web_url());
    eprintln!(
        "  ledger  {}/mock/ledger   metrics {}/metrics",
        servers.llm_url(),
        servers.llm_url()
    );
    stop.await;
    eprintln!("genbench mock: stopping");
    let ledger = servers.shutdown(Duration::from_secs(2)).await;
    // Nothing lost on Ctrl-C: the final ledger goes to stdout.
    println!(
        "{}",
        serde_json::to_string(&json!({"ledger": ledger})).unwrap_or_default()
    );
    Ok(Exit::OK)
}
