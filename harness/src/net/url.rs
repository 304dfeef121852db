//! The target URL: `http://` or `https://`, a host (DNS name, IPv4, or a
//! bracketed IPv6 literal), an optional port and an optional base path that
//! prefixes every request path. Parsed once, before any load.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A validated target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl {
    pub scheme: Scheme,
    /// The host without brackets: what DNS resolves and TLS names (SNI).
    pub host: String,
    pub port: u16,
    /// `Host` header / `:authority`: the host as written, with the port
    /// only when it is not the scheme's default.
    pub authority: String,
    /// Prefix for every request path: empty, or `/api` (no trailing `/`).
    pub base_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target URL `{url}`: {why}; e.g. https://staging.example.com/api or http://127.0.0.1:8080")]
pub struct BadUrl {
    pub url: String,
    pub why: String,
}

impl TargetUrl {
    pub fn parse(url: &str) -> Result<TargetUrl, BadUrl> {
        let bad = |why: &str| BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let (scheme, rest) = if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else {
            return Err(bad("it must start with http:// or https://"));
        };
        if rest.contains(['?', '#']) {
            return Err(bad(
                "no query or fragment; put them in the scenario's request.path",
            ));
        }
        let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if auth.contains('@') {
            return Err(bad(
                "credentials in the URL are not sent; use a header with ${env:NAME}",
            ));
        }
        let (host, port) = split_port(auth).ok_or_else(|| bad("the port is not a number"))?;
        if host.is_empty() {
            return Err(bad("it names no host"));
        }
        let bracketed = host.starts_with('[');
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bracketed != host.ends_with(']') || (bare.contains(':') && !bracketed) {
            return Err(bad(
                "an IPv6 address goes in brackets, e.g. http://[::1]:8080",
            ));
        }
        if bare.parse::<std::net::Ipv6Addr>().is_err() && bracketed {
            return Err(bad("the bracketed host is not an IPv6 address"));
        }
        if !bracketed
            && !bare
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Err(bad("the host has characters a host name cannot have"));
        }
        let port = port.unwrap_or(scheme.default_port());
        let authority = if port == scheme.default_port() {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        let base_path = path.trim_end_matches('/').to_string();
        if base_path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("the path has spaces or control characters"));
        }
        Ok(TargetUrl {
            scheme,
            host: bare.to_ascii_lowercase(),
            port,
            authority,
            base_path,
        })
    }

    /// `host:port` to resolve and connect to.
    pub fn connect_to(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }

    /// The origin (`scheme://authority`), which redirects must stay on.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme.name(), self.authority)
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.base_path)
    }
}

/// Splits `host[:port]`, keeping a bracketed IPv6 literal's colons.
fn split_port(auth: &str) -> Option<(&str, Option<u16>)> {
    match auth.rfind(':') {
        Some(i)
            if !auth[i..].contains(']') && (auth.starts_with('[') || !auth[..i].contains(':')) =>
        {
            Some((&auth[..i], Some(auth[i + 1..].parse().ok()?)))
        }
        _ => Some((auth, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_ports_and_base_paths() {
        let u = TargetUrl::parse("https://Staging.Example.com/api/").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!((u.host.as_str(), u.port), ("staging.example.com", 443));
        assert_eq!(u.authority, "Staging.Example.com");
        assert_eq!(u.base_path, "/api");
        let u = TargetUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((u.port, u.base_path.as_str()), (8080, ""));
        assert_eq!(u.authority, "127.0.0.1:8080");
        assert_eq!(u.to_string(), "http://127.0.0.1:8080");
        let u = TargetUrl::parse("https://example.com:443/v1").unwrap();
        assert_eq!(u.authority, "example.com");
        assert_eq!(u.to_string(), "https://example.com/v1");
    }

    #[test]
    fn ipv6_literals_keep_their_brackets_in_the_authority_only() {
        let u = TargetUrl::parse("http://[::1]:9000/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9000));
        assert_eq!(u.authority, "[::1]:9000");
        let u = TargetUrl::parse("https://[2001:db8::1]").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("2001:db8::1", 443));
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("ftp://x", "http:// or https://"),
            ("127.0.0.1:80", "http:// or https://"),
            ("http://", "no host"),
            ("http://h:port", "port"),
            ("http://::1:80", "brackets"),
            ("http://[zz]:80", "IPv6"),
            ("http://u:p@h", "${env:NAME}"),
            ("http://h/?q=1", "query"),
            ("http://h o", "characters"),
        ] {
            let e = TargetUrl::parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }
}
