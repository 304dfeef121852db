//! Entry points for the fuzz targets (`fuzz/`) and their corpus replay
//! tests: request bodies through the LLM API's real handlers, in process,
//! with no socket. Not an API.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use crate::faults::FaultState;
use crate::ledger::Ledger;
use crate::state::{AppState, MockConfig, PrefixCache};

fn app() -> &'static Router {
    static APP: OnceLock<Router> = OnceLock::new();
    APP.get_or_init(|| {
        let config = MockConfig::instant();
        let state = Arc::new(AppState {
            faults: FaultState::new(config.seed, config.faults.clone()),
            config,
            ledger: Ledger::default(),
            prompt_cache: PrefixCache::default(),
            web_base: "http://127.0.0.1:9".into(),
        });
        crate::server::with_common(crate::llm::router(), &state)
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
    })
}

/// `data` as the body of a POST to `path`, answered and read to the end;
/// the status.
pub fn post(path: &str, data: &[u8]) -> u16 {
    runtime().block_on(async {
        let req = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(data.to_vec()))
            .expect("a request");
        let resp = app().clone().oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let _ = resp.into_body().collect().await;
        status
    })
}

/// A chat completion and an embeddings request with `data` as the body.
pub fn llm_bodies(data: &[u8]) {
    post("/v1/chat/completions", data);
    post("/v1/embeddings", data);
}
