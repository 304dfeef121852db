//! `GET /debug/pprof/profile?seconds=N`: a CPU flamegraph (SVG) of this
//! process, made with pprof-rs. Off unless `profiling = true`, because the
//! profiler allocates 115–170 MB when it starts; one profile at a time.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::http::Shared;

#[derive(Debug, Deserialize)]
pub struct ProfileQuery {
    seconds: Option<u64>,
}

const MAX_SECONDS: u64 = 300;
/// Samples per second; the kernel delivers at most ~250/s here (HZ).
const FREQUENCY_HZ: i32 = 99;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"kind": "profile", "message": message}})),
    )
        .into_response()
}

/// Samples the process for `seconds` on a blocking thread and renders SVG.
fn flamegraph(seconds: u64) -> Result<Vec<u8>, String> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY_HZ)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .map_err(|e| format!("cannot start the profiler: {e}"))?;
    std::thread::sleep(Duration::from_secs(seconds));
    let report = guard
        .report()
        .build()
        .map_err(|e| format!("cannot build the profile: {e}"))?;
    if report.data.is_empty() {
        // The profiler samples CPU time: an idle process yields no stacks,
        // and the flamegraph renderer then writes nothing at all. An empty
        // body would be an unreadable flamegraph in the report.
        return Ok(idle_svg(seconds));
    }
    let mut svg = Vec::new();
    report
        .flamegraph(&mut svg)
        .map_err(|e| format!("cannot render the flamegraph: {e}"))?;
    Ok(svg)
}

/// A flamegraph-sized SVG that says no CPU sample was taken.
fn idle_svg(seconds: u64) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="1200" height="60" xmlns="http://www.w3.org/2000/svg">
<text x="600" y="34" text-anchor="middle" font-family="monospace" font-size="14">No CPU samples in {seconds} s: the pipeline was idle while it was profiled.</text>
</svg>
"#
    )
    .into_bytes()
}

pub async fn profile(
    State(app): State<Shared>,
    q: Result<Query<ProfileQuery>, QueryRejection>,
) -> Response {
    if !app.cfg.profiling {
        return error(
            StatusCode::NOT_FOUND,
            "profiling is off; start the pipeline with --profiling (the profiler allocates about 150 MB)",
        );
    }
    let seconds = match q {
        Ok(Query(ProfileQuery { seconds: None })) => 10,
        Ok(Query(ProfileQuery { seconds: Some(s) })) if (1..=MAX_SECONDS).contains(&s) => s,
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "seconds must be an integer from 1 to 300",
            );
        }
    };
    let Ok(_one_at_a_time) = app.profiling.try_lock() else {
        return error(
            StatusCode::CONFLICT,
            "a profile is already being taken; retry when it ends",
        );
    };
    match tokio::task::spawn_blocking(move || flamegraph(seconds)).await {
        Ok(Ok(svg)) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Ok(Err(m)) => error(StatusCode::INTERNAL_SERVER_ERROR, &m),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("profiler thread failed: {e}"),
        ),
    }
}
