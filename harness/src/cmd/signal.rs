//! Waiting for Ctrl-C, SIGTERM or SIGHUP (a closed terminal, a CI runner
//! cancelling a job), how servers and runs are told to stop.
//!
//! The handlers are installed when `stop()` is called, not when its future is
//! first polled: a server announces it is ready and only then waits, and a
//! signal arriving in between must not kill it with the default action.

use std::future::Future;

pub fn stop() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        let hup = signal(SignalKind::hangup()).ok();
        async move {
            match (term, int, hup) {
                (Some(mut term), Some(mut int), Some(mut hup)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                        _ = hup.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
