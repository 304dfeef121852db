//! Servers listen on loopback unless told otherwise; told otherwise, they
//! say which of their endpoints anyone on the network can now call.

use std::net::SocketAddr;

/// The warning for a server on `addr` whose control endpoints are
/// `endpoints`; none on loopback.
pub fn warning(server: &str, addr: SocketAddr, endpoints: &str) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "warning: {server} listens on {addr}, beyond this machine: {endpoints} are open to \
anyone who can reach it. Bind 127.0.0.1 unless the load comes from another host."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_beyond_loopback_warn() {
        let w = |a: &str| warning("genbench mock", a.parse().unwrap(), "/mock/ledger/reset");
        assert!(w("127.0.0.1:8701").is_none());
        assert!(w("[::1]:8701").is_none());
        let all = w("0.0.0.0:8701").unwrap();
        assert!(
            all.contains("0.0.0.0:8701") && all.contains("/mock/ledger/reset"),
            "{all}"
        );
        assert!(w("[::]:0").is_some());
        assert!(w("192.168.1.5:80").is_some());
    }
}
