//! Error classes: how a failed request is counted in `errors.by_kind`.

use serde::{Deserialize, Serialize};

/// Why a request failed, from the client's side of the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No connection: refused, reset before a response, DNS.
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// 429 Too Many Requests.
    RateLimited,
    /// Any other 4xx.
    #[serde(rename = "client_4xx")]
    Client4xx,
    /// Any 5xx.
    #[serde(rename = "server_5xx")]
    Server5xx,
    /// The response started but its body ended early (a cut stream).
    BodyCut,
    /// The response arrived but did not check out (e.g. unparsable JSON).
    Invalid,
    /// The TLS handshake failed: an unknown CA, a name mismatch, an expired
    /// certificate, or no protocol in common.
    Tls,
    /// The response arrived but failed one of the scenario's
    /// `[request.checks]` (status, JSON pointer, body substring).
    Check,
    /// A 3xx the scenario did not ask to follow (`follow_redirects`), or
    /// one more redirect than it allows, or one that leaves the target.
    Redirect,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::Client4xx,
        ErrorKind::Server5xx,
        ErrorKind::BodyCut,
        ErrorKind::Invalid,
        ErrorKind::Tls,
        ErrorKind::Check,
        ErrorKind::Redirect,
    ];

    /// The class of an HTTP status that is not a success, if any.
    pub fn from_status(status: u16) -> Option<ErrorKind> {
        match status {
            429 => Some(ErrorKind::RateLimited),
            400..=499 => Some(ErrorKind::Client4xx),
            500..=599 => Some(ErrorKind::Server5xx),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Client4xx => "client_4xx",
            ErrorKind::Server5xx => "server_5xx",
            ErrorKind::BodyCut => "body_cut",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Tls => "tls",
            ErrorKind::Check => "check",
            ErrorKind::Redirect => "redirect",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify() {
        assert_eq!(ErrorKind::from_status(200), None);
        assert_eq!(ErrorKind::from_status(304), None);
        assert_eq!(ErrorKind::from_status(429), Some(ErrorKind::RateLimited));
        assert_eq!(ErrorKind::from_status(404), Some(ErrorKind::Client4xx));
        assert_eq!(ErrorKind::from_status(503), Some(ErrorKind::Server5xx));
    }

    #[test]
    fn names_match_serde() {
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }
}

/// Why the client gave up on a request (`[load] abandon_after`,
/// `[load.cancel]`): the request is abandoned, its own outcome, never an
/// error of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUp {
    /// Still unanswered at `abandon_after`.
    Unanswered,
    /// Picked by `[load.cancel]` and cancelled at its `after`.
    Cancelled,
}

impl GiveUp {
    pub fn name(self) -> &'static str {
        match self {
            GiveUp::Unanswered => "unanswered",
            GiveUp::Cancelled => "cancelled",
        }
    }
}
