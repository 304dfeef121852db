//! Paths on the target from URLs it gave: a redirect's `Location` that
//! stays on its origin, and a value a flow step extracted (a job's
//! `Location`) as the path a later step asks for.

use crate::net::url::TargetUrl;

/// The path a `Location` leads to when it stays on the target's origin.
pub fn same_origin(target: &TargetUrl, location: &str) -> Option<String> {
    let path = if location.starts_with('/') && !location.starts_with("//") {
        location
    } else {
        let origin = target.origin();
        let rest = location.get(..origin.len())?;
        if !rest.eq_ignore_ascii_case(&origin) {
            return None;
        }
        match &location[origin.len()..] {
            "" => "/",
            p if p.starts_with('/') => p,
            _ => return None,
        }
    };
    super::h1::valid_path(path).then(|| path.to_string())
}

/// A URL the target gave as the path a later request asks for: the
/// target's origin and base path taken off, so neither is sent twice.
/// Anything else is kept as given.
pub fn on_target(target: &TargetUrl, url: &str) -> String {
    let Some(path) = same_origin(target, url) else {
        return url.to_string();
    };
    let base = target.base_path.as_str();
    match path.strip_prefix(base) {
        Some("") if !base.is_empty() => "/".to_string(),
        Some(rest) if !base.is_empty() && rest.starts_with(['/', '?']) => rest.to_string(),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_target_origin() {
        let t = TargetUrl::parse("https://api.example.com/v1").unwrap();
        let p = |l: &str| same_origin(&t, l);
        assert_eq!(p("/jobs/1").as_deref(), Some("/jobs/1"));
        assert_eq!(
            p("https://api.example.com/x?y=1").as_deref(),
            Some("/x?y=1")
        );
        assert_eq!(p("https://API.example.com").as_deref(), Some("/"));
        assert_eq!(p("https://evil.example.com/x"), None);
        assert_eq!(p("http://api.example.com/x"), None);
        assert_eq!(p("//evil.example.com/x"), None);
        assert_eq!(p("https://api.example.com.evil/x"), None);
        assert_eq!(p("/a b"), None);
    }

    #[test]
    fn paths_on_the_target_lose_its_origin_and_base_path() {
        let s = |url| TargetUrl::parse(url).unwrap();
        let (plain, based) = (s("http://127.0.0.1:9"), s("http://127.0.0.1:9/v1"));
        assert_eq!(on_target(&plain, "/jobs/1"), "/jobs/1");
        assert_eq!(on_target(&plain, "http://127.0.0.1:9/jobs/1"), "/jobs/1");
        assert_eq!(on_target(&based, "http://127.0.0.1:9/v1/jobs/1"), "/jobs/1");
        assert_eq!(on_target(&based, "/v1/jobs/1?x=2"), "/jobs/1?x=2");
        assert_eq!(on_target(&based, "/v10/jobs"), "/v10/jobs");
        assert_eq!(
            on_target(&plain, "https://elsewhere/jobs/1"),
            "https://elsewhere/jobs/1"
        );
    }
}
