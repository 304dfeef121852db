//! `--dashboard`: one page that shows the run so far, updated each second
//! over server-sent events. What it shows is the report's sections for the
//! data so far, drawn by `genbench-reports` (the code behind report.html),
//! so there is no second charting stack. The page loads nothing from
//! elsewhere: its style is report.html's, its script is inline.
//!
//! A stop button ends the run as Ctrl-C does. It is on the page only when
//! the dashboard listens on loopback (guarded by a nonce made for the run,
//! sent in a custom header: another site's page cannot read it nor send
//! the header without a preflight this server never grants) or when the
//! page was opened with `?token=` equal to `--dashboard-token`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// What the page shows at one second.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Frame {
    /// The report's sections for the run so far (escaped HTML).
    pub body: String,
    /// Where the load is in its stages ("stage 2 of 3: holding 40 req/s").
    pub phase: String,
    /// The last second's rate, percentiles, errors and requests in flight.
    pub last: String,
    /// Set once the run has ended.
    pub ended: Option<Ended>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ended {
    /// `completed`, `interrupted` or `aborted`.
    pub status: String,
    /// report.html's absolute path, as a `file://` URL.
    pub report: String,
}

/// The latest frame, `None` before the first second.
pub type Frames = watch::Receiver<Option<Arc<Frame>>>;

/// Who may press stop: the key the page must send back.
#[derive(Debug, Clone)]
pub enum StopKey {
    /// Loopback: a nonce of this run's, on every page served.
    Nonce(String),
    /// `--dashboard-token`: only pages opened with `?token=` equal to it.
    Token(String),
    /// Beyond loopback without a token: no stop button.
    None,
}

struct Shared {
    frames: Frames,
    key: StopKey,
    stop: watch::Sender<bool>,
    title: String,
}

#[derive(Deserialize)]
struct PageQuery {
    token: Option<String>,
}

/// The key a page opened with `token` may stop the run with.
fn key_for(key: &StopKey, token: Option<&str>) -> Option<String> {
    match key {
        StopKey::Nonce(n) => Some(n.clone()),
        StopKey::Token(t) if token == Some(t.as_str()) => Some(t.clone()),
        _ => None,
    }
}

// In the head, so it runs after the body is parsed.
const SCRIPT: &str = r#"
document.addEventListener('DOMContentLoaded', function () {
  var bar = function (id) { return document.getElementById(id); };
  var es = new EventSource('events');
  es.addEventListener('frame', function (e) {
    var f = JSON.parse(e.data);
    bar('genbench-report').innerHTML = f.body;
    bar('genbench-updated').textContent = new Date().toLocaleTimeString();
    bar('genbench-phase').textContent = f.phase;
    bar('genbench-last').textContent = f.last;
    if (f.ended) {
      es.close();
      bar('genbench-state').textContent = 'run ended: ' + f.ended.status;
      var a = bar('genbench-final');
      a.href = f.ended.report;
      a.textContent = 'report.html';
      a.hidden = false;
      var s = bar('genbench-stop');
      if (s) { s.disabled = true; }
    }
  });
  var s = bar('genbench-stop');
  if (s) {
    s.addEventListener('click', function () {
      s.disabled = true;
      fetch('stop', { method: 'POST', headers: { 'x-genbench-stop': s.dataset.key } })
        .then(function (r) { bar('genbench-state').textContent = r.ok ? 'stopping; writing results' : 'stop refused'; });
    });
  }
});
"#;

const STYLE: &str = "#genbench-bar { position: sticky; top: 0; background: var(--bg, #fff); \
border-bottom: 1px solid var(--line, #ddd); padding: 6px 0; margin-bottom: 8px; z-index: 1; } \
#genbench-bar button { margin-left: 12px; } #genbench-bar span { margin-right: 12px; }";

/// The page, with the latest frame in it (a page opened late shows the
/// run so far at once) and the stop button when `key` is given.
pub fn page(title: &str, frame: Option<&Frame>, key: Option<&str>) -> String {
    use genbench_reports::escape_html as esc;
    let stop = key.map_or_else(String::new, |k| {
        format!(
            "<button id=\"genbench-stop\" type=\"button\" data-key=\"{}\">Stop the run</button>",
            esc(k)
        )
    });
    let state = match frame.and_then(|f| f.ended.as_ref()) {
        Some(e) => format!("run ended: {}", esc(&e.status)),
        None => "running".into(),
    };
    let body = format!(
        "<div id=\"genbench-bar\"><span id=\"genbench-state\">{state}</span>\
<span id=\"genbench-phase\">{}</span><span id=\"genbench-last\">{}</span>\
<span>updated <span id=\"genbench-updated\">-</span></span>\
<a id=\"genbench-final\" hidden></a>{stop}</div>\n\
<div id=\"genbench-report\">{}</div>\n",
        esc(frame.map_or("", |f| &f.phase)),
        esc(frame.map_or("", |f| &f.last)),
        frame.map_or("<p>Waiting for the first second of load.</p>", |f| &f.body)
    );
    genbench_reports::page_html(title, &body).replacen(
        "</head>",
        &format!("<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n</head>"),
        1,
    )
}

async fn index(State(s): State<Arc<Shared>>, Query(q): Query<PageQuery>) -> Response {
    let frame = s.frames.borrow().clone();
    let key = key_for(&s.key, q.token.as_deref());
    let mut r = Html(page(&s.title, frame.as_deref(), key.as_deref())).into_response();
    // The script is inline and loads nothing else: say so to the browser.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
img-src data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

async fn events(
    State(s): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut frames = s.frames.clone();
    // The current frame first, then each new one.
    frames.mark_changed();
    let stream = futures_util::stream::unfold(frames, |mut rx| async move {
        rx.changed().await.ok()?;
        let frame = rx.borrow_and_update().clone()?;
        let data = serde_json::to_string(&*frame).unwrap_or_default();
        Some((Ok(Event::default().event("frame").data(data)), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn press_stop(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let given = headers.get("x-genbench-stop").and_then(|v| v.to_str().ok());
    let allowed = match &s.key {
        StopKey::Nonce(k) | StopKey::Token(k) => given == Some(k.as_str()),
        StopKey::None => false,
    };
    if !allowed {
        return (StatusCode::FORBIDDEN, "this dashboard may not stop the run").into_response();
    }
    let _ = s.stop.send(true);
    (StatusCode::ACCEPTED, "stopping").into_response()
}

/// A stop that fires on `signal` (Ctrl-C) or on the returned sender (the
/// dashboard's stop button), so a run stopped either way ends the same:
/// `interrupted`, with everything measured written.
pub fn merged_stop(
    mut signal: watch::Receiver<bool>,
) -> (watch::Receiver<bool>, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(*signal.borrow());
    let (pressed_tx, mut pressed) = watch::channel(false);
    tokio::spawn(async move {
        // `None`: the button went away, so only a signal can stop the run.
        let first = tokio::select! {
            r = signal.wait_for(|s| *s) => Some(r.is_ok()),
            r = pressed.wait_for(|s| *s) => r.is_ok().then_some(true),
        };
        let fire = match first {
            Some(fire) => fire,
            None => signal.wait_for(|s| *s).await.is_ok(),
        };
        if fire {
            let _ = tx.send(true);
        }
    });
    (rx, pressed_tx)
}

/// A nonce for this run: 128 bits from the standard library's per-process
/// random hash keys.
pub fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let half = |salt: u64| {
        let mut h = state.build_hasher();
        h.write_u64(salt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// The dashboard's listener on `addr`.
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    use anyhow::Context;
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for --dashboard; give a free address (port 0 picks one)")
    })
}

/// Serves the dashboard on `listener` until the returned task is aborted.
/// `stop` is pressed by the stop button.
pub fn serve(
    listener: tokio::net::TcpListener,
    frames: Frames,
    key: StopKey,
    stop: watch::Sender<bool>,
    title: String,
) -> tokio::task::JoinHandle<()> {
    let app = Router::new()
        .route("/", get(index))
        .route("/events", get(events))
        .route("/stop", post(press_stop))
        .with_state(Arc::new(Shared {
            frames,
            key,
            stop,
            title,
        }));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("warning: the dashboard stopped: {e}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_button_is_only_on_pages_that_may_stop() {
        let nonce = StopKey::Nonce("n1".into());
        let token = StopKey::Token("t1".into());
        assert_eq!(key_for(&nonce, None).as_deref(), Some("n1"));
        assert_eq!(key_for(&token, None), None);
        assert_eq!(key_for(&token, Some("wrong")), None);
        assert_eq!(key_for(&token, Some("t1")).as_deref(), Some("t1"));
        assert_eq!(key_for(&StopKey::None, Some("t1")), None);
        assert!(page("t", None, Some("n1")).contains("id=\"genbench-stop\""));
        assert!(!page("t", None, None).contains("genbench-stop\""));
    }

    #[test]
    fn the_page_is_self_contained_and_shows_the_frame() {
        let f = Frame {
            body: "<section>so far</section>".into(),
            phase: "stage 1 of 2: holding <5> req/s".into(),
            last: String::new(),
            ended: None,
        };
        let p = page("genbench: <x>", Some(&f), None);
        assert!(p.contains("<section>so far</section>"));
        assert!(p.contains("genbench: &lt;x&gt;"), "the title is escaped");
        assert!(
            p.contains("holding &lt;5&gt; req/s"),
            "the phase is escaped"
        );
        for remote in ["http://", "https://", "src=\"//"] {
            assert!(!p.contains(remote), "{remote} in the page");
        }
        assert!(p.find("<script>").unwrap() < p.find("</head>").unwrap());
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
