//! The network under the engine: the target URL, TLS configuration, and
//! opening connections (plain or TLS) with their set-up timed.

pub mod conn;
pub mod tls;
pub mod url;
