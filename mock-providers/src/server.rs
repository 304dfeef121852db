//! Starting and stopping the three mock servers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::faults::FaultState;
use crate::ledger::{Ledger, LedgerSnapshot};
use crate::state::{AppState, MockConfig, PrefixCache, Shared};
use crate::{MockError, llm, search, web};

/// Where each mock listens; port 0 lets the OS pick.
#[derive(Debug, Clone, Copy)]
pub struct MockAddrs {
    pub llm: SocketAddr,
    pub search: SocketAddr,
    pub web: SocketAddr,
}

impl Default for MockAddrs {
    fn default() -> Self {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        MockAddrs {
            llm: any,
            search: any,
            web: any,
        }
    }
}

/// Running mock servers. Dropping this without [`MockServers::shutdown`]
/// aborts them.
pub struct MockServers {
    pub llm: SocketAddr,
    pub search: SocketAddr,
    pub web: SocketAddr,
    state: Shared,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    workers: Option<crate::workers::Workers>,
}

/// How long worker threads give requests in flight after a stop.
const WORKER_GRACE: Duration = Duration::from_secs(2);

impl MockServers {
    /// Binds all three listeners, then serves them on the current runtime.
    pub async fn start(config: MockConfig, addrs: MockAddrs) -> Result<Self, MockError> {
        Self::start_on(config, addrs, 1).await
    }

    /// Like [`MockServers::start`], with `workers` threads serving (each a
    /// single-threaded runtime; the current runtime only accepts) when
    /// more than one.
    pub async fn start_on(
        config: MockConfig,
        addrs: MockAddrs,
        workers: usize,
    ) -> Result<Self, MockError> {
        config.validate()?;
        let bind = |a: SocketAddr| async move {
            TcpListener::bind(a)
                .await
                .map_err(|source| MockError::Bind {
                    addr: a.to_string(),
                    source,
                })
        };
        let (l_llm, l_search, l_web) = (
            bind(addrs.llm).await?,
            bind(addrs.search).await?,
            bind(addrs.web).await?,
        );
        let local = |l: &TcpListener| {
            l.local_addr().map_err(|source| MockError::Bind {
                addr: "?".into(),
                source,
            })
        };
        let (a_llm, a_search, a_web) = (local(&l_llm)?, local(&l_search)?, local(&l_web)?);
        let state = Arc::new(AppState {
            faults: FaultState::new(config.seed, config.faults.clone()),
            config,
            ledger: Ledger::default(),
            prompt_cache: PrefixCache::default(),
            web_base: format!("http://{a_web}"),
        });
        let (stop, stop_rx) = watch::channel(false);
        let apps = [
            (with_common(llm::router(), &state), a_llm),
            (with_common(search::router(), &state), a_search),
            (with_common(web::router(), &state), a_web),
        ];
        let listeners = [l_llm, l_search, l_web];
        let (tasks, workers) = if workers <= 1 {
            let tasks = listeners
                .into_iter()
                .zip(apps)
                .map(|(l, (app, _))| spawn(l, app, stop_rx.clone()))
                .collect();
            (tasks, None)
        } else {
            let w = crate::workers::Workers::start(workers, &apps, &stop_rx, WORKER_GRACE)
                .map_err(|source| MockError::Bind {
                    addr: "worker threads".into(),
                    source,
                })?;
            let tasks = listeners
                .into_iter()
                .enumerate()
                .map(|(k, l)| tokio::spawn(w.acceptor(k, l, stop_rx.clone())))
                .collect();
            (tasks, Some(w))
        };
        Ok(MockServers {
            llm: a_llm,
            search: a_search,
            web: a_web,
            state,
            stop,
            tasks,
            workers,
        })
    }

    /// Threads serving requests: 1 when the current runtime serves.
    pub fn workers(&self) -> usize {
        self.workers.as_ref().map_or(1, |w| w.threads())
    }

    pub fn llm_url(&self) -> String {
        format!("http://{}", self.llm)
    }

    pub fn search_url(&self) -> String {
        format!("http://{}", self.search)
    }

    pub fn web_url(&self) -> String {
        format!("http://{}", self.web)
    }

    pub fn ledger(&self) -> LedgerSnapshot {
        self.state.ledger.snapshot()
    }

    /// Stops accepting, lets requests in flight finish for up to `grace`,
    /// then aborts what is left (hung requests would otherwise wait forever).
    /// Returns the final ledger.
    pub async fn shutdown(mut self, grace: Duration) -> LedgerSnapshot {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let aborts: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
        if tokio::time::timeout(grace, futures_util::future::join_all(tasks))
            .await
            .is_err()
        {
            aborts.iter().for_each(|a| a.abort());
        }
        if let Some(w) = self.workers.take() {
            // They end within their grace after the stop.
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        self.state.ledger.snapshot()
    }
}

impl Drop for MockServers {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

fn spawn(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    // Streams write one small chunk per token; Nagle's algorithm would hold
    // them back behind delayed ACKs and ruin the pacing.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::error!("mock server stopped: {e}");
        }
    })
}

pub(crate) fn with_common(router: Router<Shared>, state: &Shared) -> Router {
    router
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/mock/ledger", get(ledger))
        .route("/mock/ledger/reset", post(reset))
        .route("/mock/config", get(config))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
}

async fn ledger(State(st): State<Shared>) -> Response {
    axum::Json(st.ledger.snapshot()).into_response()
}

async fn reset(State(st): State<Shared>) -> Response {
    st.ledger.reset();
    axum::Json(json!({"reset": true})).into_response()
}

async fn config(State(st): State<Shared>) -> Response {
    axum::Json(&st.config).into_response()
}

async fn metrics(State(st): State<Shared>) -> Response {
    let text = st.ledger.snapshot().to_prometheus();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::not_found(format!(
        "Unknown request URL: {method} {}. Please check the URL for typos.",
        uri.path()
    ))
    .code("unknown_url")
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        format!("{method} is not allowed on {}.", uri.path()),
    )
    .into_response()
}

/// The ledger as a client sees it, for callers holding only a URL.
pub fn parse_ledger(json: &str) -> Result<LedgerSnapshot, serde_json::Error> {
    serde_json::from_str(json)
}
