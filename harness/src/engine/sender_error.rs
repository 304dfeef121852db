//! Why a sender could not be built: bad input, reported before any load.

use crate::net::tls;

/// Why a sender could not be built: bad input, reported before any load.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    BadTarget(#[from] crate::net::url::BadUrl),
    #[error("request.method `{0}` is not an HTTP method")]
    BadMethod(String),
    #[error("request header `{0}` is not valid")]
    BadHeader(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsSetupError),
    #[error("target host: {0}")]
    BadHost(String),
}
