//! `genbench pipeline`: the reference article pipeline as a server.

use std::time::Duration;

use anyhow::Context as _;
use genbench_pipeline::{CacheKind, Pipeline, PipelineConfig, PipelineError};
use serde_json::json;

use crate::cli::{CacheArg, PipelineArgs};
use crate::exit::Exit;

/// The file (if any), then the flags, validated before anything starts.
fn config(args: &PipelineArgs) -> Result<PipelineConfig, Exit> {
    let mut c = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read pipeline config {}", path.display()))
                .map_err(Exit::usage)?;
            PipelineConfig::from_toml(&text, &path.display().to_string()).map_err(Exit::usage)?
        }
        None => PipelineConfig::default(),
    };
    if let Some(v) = &args.llm_url {
        c.llm_url = v.trim_end_matches('/').to_string();
    }
    // As the OpenAI SDK does: the key comes from the environment unless the
    // config file sets one.
    if c.llm_api_key == PipelineConfig::default().llm_api_key
        && let Ok(key) = std::env::var("OPENAI_API_KEY")
    {
        c.llm_api_key = key;
    }
    if c.llm_url.splitn(4, '/').nth(3).unwrap_or("").is_empty() {
        eprintln!(
            "warning: --llm-url {} has no version path; OpenAI-compatible base URLs usually end in /v1 (the pipeline appends /chat/completions)",
            c.llm_url
        );
    }
    if let Some(v) = &args.search_url {
        c.search_url = v.trim_end_matches('/').to_string();
    }
    if let Some(v) = &args.model {
        c.model = v.clone();
    }
    if let Some(v) = args.cache {
        c.cache.kind = match v {
            CacheArg::Off => CacheKind::Off,
            CacheArg::Memory => CacheKind::Memory,
            CacheArg::Redis => CacheKind::Redis,
        };
    }
    if let Some(v) = &args.redis_url {
        c.cache.redis_url = v.clone();
    }
    if let Some(v) = args.top_k {
        c.top_k = v;
    }
    if let Some(v) = args.context_token_budget {
        c.context_token_budget = v;
    }
    if let Some(v) = args.per_host_concurrency {
        c.per_host_concurrency = v;
    }
    if let Some(v) = args.max_concurrent_requests {
        c.max_concurrent_requests = v;
    }
    if let Some(v) = args.leak_bytes_per_request {
        c.leak_bytes_per_request = v;
    }
    c.profiling |= args.profiling;
    c.validate().map_err(Exit::usage)?;
    Ok(c)
}

pub fn run(args: PipelineArgs) -> Result<u8, Exit> {
    let config = config(&args)?;
    let endpoints = if config.profiling {
        "/config and the profiler (/debug/pprof/profile)"
    } else {
        "/config"
    };
    if let Some(w) = super::exposure::warning("genbench pipeline", args.addr, endpoints) {
        eprintln!("{w}");
    }
    let rt = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Exit::could_not_run)?;
    rt.block_on(serve(config, args.addr))
}

async fn serve(config: PipelineConfig, addr: std::net::SocketAddr) -> Result<u8, Exit> {
    let (model, llm, search) = (
        config.model.clone(),
        config.llm_url.clone(),
        config.search_url.clone(),
    );
    // Installed before the ready line goes out (see signal.rs).
    let stop = super::signal::stop();
    let p = Pipeline::start(config, addr).await.map_err(|e| match e {
        PipelineError::Config { .. } => Exit::usage(e),
        other => Exit::could_not_run(other),
    })?;
    println!("{}", json!({"url": p.url()}));
    eprintln!("genbench pipeline: serving until Ctrl-C");
    eprintln!(
        "  POST {}/api/v1/generate-article   {{\"topic\": \"...\"}}",
        p.url()
    );
    eprintln!("  model {model}, LLM {llm}, search {search}");
    eprintln!("  metrics {}/metrics   config {}/config", p.url(), p.url());
    stop.await;
    eprintln!("genbench pipeline: stopping");
    p.shutdown(Duration::from_secs(5)).await;
    Ok(Exit::OK)
}
