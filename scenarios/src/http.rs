//! `[load] http`, `connections`, `max_streams`: which HTTP version the
//! engine speaks and, for HTTP/2, how many connections it opens and how
//! many requests each carries at once.

use serde::{Deserialize, Serialize};

use crate::error::Invalid;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpVersion {
    /// HTTP/2 when TLS's ALPN offers it, HTTP/1.1 otherwise (always on
    /// plain `http://`).
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "1.1")]
    Http1,
    /// HTTP/2 only: by ALPN over TLS, by prior knowledge on `http://`.
    #[serde(rename = "2")]
    Http2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HttpSettings {
    pub version: HttpVersion,
    /// HTTP/2 connections opened (requests spread over them in turn).
    pub connections: u32,
    /// Requests in flight at once on one HTTP/2 connection; more wait.
    pub max_streams: u32,
}

pub const DEFAULT_H2_CONNECTIONS: u32 = 4;
pub const DEFAULT_MAX_STREAMS: u32 = 100;

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            version: HttpVersion::Auto,
            connections: DEFAULT_H2_CONNECTIONS,
            max_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

/// From the raw keys; `Err` is (key, fix).
pub(crate) fn settings(
    version: Option<&str>,
    connections: Option<u32>,
    max_streams: Option<u32>,
) -> Result<HttpSettings, Invalid> {
    let version = match version {
        None | Some("auto") => HttpVersion::Auto,
        Some("1.1") | Some("1") => HttpVersion::Http1,
        Some("2") => HttpVersion::Http2,
        Some(other) => {
            return Err(Invalid::new(
                "load.http".into(),
                format!("`{other}`: use \"auto\" (HTTP/2 where TLS offers it), \"1.1\" or \"2\""),
            ));
        }
    };
    let d = HttpSettings::default();
    let s = HttpSettings {
        version,
        connections: connections.unwrap_or(d.connections),
        max_streams: max_streams.unwrap_or(d.max_streams),
    };
    if s.connections == 0 {
        return Err(Invalid::new(
            "load.connections".into(),
            "at least 1 connection".into(),
        ));
    }
    if s.max_streams == 0 {
        return Err(Invalid::new(
            "load.max_streams".into(),
            "at least 1 stream per connection".into(),
        ));
    }
    Ok(s)
}
