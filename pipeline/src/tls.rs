//! The crypto provider behind the pipeline's HTTPS calls to real providers.
//!
//! rustls's ring provider, not aws-lc-rs: ring needs no C toolchain or
//! CMake, so a clean release build is about a minute shorter on two cores
//! (BENCHMARKS.md, "The build"). reqwest is built with
//! `rustls-no-provider`, so a process must install a provider before it
//! builds its first client; `client_builder` does, once.

/// Makes ring the process's default rustls provider, unless one is already
/// installed (then that one stays; installing twice is not an error here).
pub fn install_crypto_provider() {
    // Err means a provider is already the default: nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `reqwest::Client::builder()` with the crypto provider installed first.
/// Every reqwest client in genbench is built through this: without a
/// provider reqwest panics in `build()`.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}
