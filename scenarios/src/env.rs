//! `${env:NAME}` references in header values, bodies and the target URL:
//! how secrets get into requests without being written into a scenario or
//! any output. The scenario keeps the reference; the harness resolves it
//! just before the run, and an unset variable stops the run before any load
//! unless the reference gives a default: `${env:NAME:-default}` (as in a
//! shell), which lets one scenario run against the embedded mock, which
//! needs no key, and unchanged against a real API with the key exported.

use std::fmt;

/// A variable a scenario references but the environment lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MissingEnv {
    pub name: String,
    /// Where the reference stands, e.g. `request.headers.authorization`.
    pub used_in: String,
}

impl fmt::Display for MissingEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} uses ${{env:{}}}, but the environment variable {} is not set; export it (e.g. `export {}=...`) and run again",
            self.used_in, self.name, self.name, self.name
        )
    }
}

const OPEN: &str = "${env:";
const DEFAULT: &str = ":-";

/// `NAME` or `NAME:-default` into the name and the default.
fn split_ref(inner: &str) -> (&str, Option<&str>) {
    match inner.split_once(DEFAULT) {
        Some((name, default)) => (name, Some(default)),
        None => (inner, None),
    }
}

/// One `${env:...}` found in a text.
struct Ref<'a> {
    /// The text before it.
    before: &'a str,
    name: &'a str,
    default: Option<&'a str>,
    /// The text after its `}`.
    after: &'a str,
}

/// The first reference in `text`; `Err(at)` when a `${env:` starting at
/// byte `at` is never closed.
fn next_ref(text: &str) -> Option<Result<Ref<'_>, usize>> {
    let p = text.find(OPEN)?;
    let inner = &text[p + OPEN.len()..];
    let Some(end) = inner.find('}') else {
        return Some(Err(p));
    };
    let (name, default) = split_ref(&inner[..end]);
    Some(Ok(Ref {
        before: &text[..p],
        name,
        default,
        after: &inner[end + 1..],
    }))
}

/// The names `text` references, in order; `Err` says what is malformed.
pub fn env_refs(text: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(r) = next_ref(rest) {
        let r = r.map_err(|_| "a `${env:` is never closed with `}`".to_string())?;
        let name = r.name;
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{env:{name}}}` is not an environment variable name (letters, digits, _)"
            ));
        }
        out.push(name);
        rest = r.after;
    }
    Ok(out)
}

/// The names `text` references without a default: what must be set
/// wherever it is resolved (in a Kubernetes pod, say).
pub fn required_env(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(Ok(r)) = next_ref(rest) {
        if r.default.is_none() && !out.contains(&r.name) {
            out.push(r.name);
        }
        rest = r.after;
    }
    out
}

/// `text` with every `${env:NAME}` replaced by `lookup(NAME)`, or by its
/// default (`${env:NAME:-default}`) when the variable is unset.
pub fn resolve_env(
    text: &str,
    used_in: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, MissingEnv> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(r) = next_ref(rest) {
        // Validated at parse time; a stray one is kept as written.
        let Ok(r) = r else { break };
        out.push_str(r.before);
        let value = lookup(r.name)
            .or_else(|| r.default.map(str::to_string))
            .ok_or_else(|| MissingEnv {
                name: r.name.to_string(),
                used_in: used_in.to_string(),
            })?;
        out.push_str(&value);
        rest = r.after;
    }
    out.push_str(rest);
    Ok(out)
}

/// Looks variables up in the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "s3cret".to_string())
    }

    #[test]
    fn references_resolve_and_plain_text_is_untouched() {
        let r = resolve_env("Bearer ${env:KEY}!", "h", &env).unwrap();
        assert_eq!(r, "Bearer s3cret!");
        assert_eq!(
            resolve_env("{{topic}} $5", "h", &env).unwrap(),
            "{{topic}} $5"
        );
        assert_eq!(
            env_refs("a ${env:KEY} b ${env:X_2}").unwrap(),
            ["KEY", "X_2"]
        );
    }

    #[test]
    fn a_default_stands_in_for_an_unset_variable_only() {
        let text = "Bearer ${env:KEY:-none} ${env:MODEL:-gpt-4o-mini}";
        assert_eq!(env_refs(text).unwrap(), ["KEY", "MODEL"]);
        let r = resolve_env(text, "h", &env).unwrap();
        assert_eq!(r, "Bearer s3cret gpt-4o-mini");
        assert_eq!(resolve_env("${env:X:-}", "h", &env).unwrap(), "");
        assert!(env_refs("${env:1X:-a}").is_err());
    }

    #[test]
    fn an_unset_variable_is_named_with_where_it_is_used() {
        let e = resolve_env(
            "${env:OPENAI_API_KEY}",
            "request.headers.authorization",
            &env,
        )
        .unwrap_err();
        assert_eq!(e.name, "OPENAI_API_KEY");
        let msg = e.to_string();
        assert!(msg.contains("request.headers.authorization"), "{msg}");
        assert!(msg.contains("export OPENAI_API_KEY="), "{msg}");
    }

    #[test]
    fn only_references_without_a_default_are_required() {
        let text = "${env:HOST}/${env:KEY:-none}?${env:HOST}&${env:TOKEN}";
        assert_eq!(required_env(text), ["HOST", "TOKEN"]);
        assert!(required_env("{{topic}} ${env:A:-x}").is_empty());
        // An unclosed reference is resolved as written, and requires nothing.
        assert_eq!(
            resolve_env("a ${env:KEY", "h", &env).unwrap(),
            "a ${env:KEY"
        );
        assert!(required_env("${env:KEY").is_empty());
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(env_refs("${env:KEY").is_err());
        assert!(env_refs("${env:}").is_err());
        assert!(env_refs("${env:A-B}").is_err());
        assert!(env_refs("${env:1A}").is_err());
    }
}
