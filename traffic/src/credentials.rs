//! Headers that carry credentials, which a trace never holds and a replay
//! never sends: the scenario's own `${env:...}` headers apply instead.

/// Whether a header named `name` carries a credential: `Authorization`,
/// cookies, and API-key, token, secret or password headers by any name.
pub fn is_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "www-authenticate"
    ) || [
        "api-key", "apikey", "api_key", "token", "secret", "password", "auth", "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Headers a replay never copies from a row: the connection's own, which
/// genbench writes for each request it sends.
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "upgrade"
            | "expect"
            | "traceparent"
            | "tracestate"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_by_any_usual_name() {
        for h in [
            "Authorization",
            "cookie",
            "X-API-Key",
            "api-key",
            "x-goog-api-key",
            "X-Auth-Token",
            "x-amz-security-token",
            "Proxy-Authorization",
            "x-session-id",
            "X-Client-Secret",
        ] {
            assert!(is_credential(h), "{h}");
        }
        for h in [
            "content-type",
            "accept",
            "user-agent",
            "x-request-id",
            "cache-control",
        ] {
            assert!(!is_credential(h), "{h}");
        }
        assert!(is_hop_by_hop("Content-Length") && is_hop_by_hop("host"));
        assert!(!is_hop_by_hop("accept"));
    }
}
