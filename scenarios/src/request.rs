//! `[request]`: the template every request is rendered from, its body (inline,
//! `body_file`, or `[request.json]`: a TOML table sent as JSON, whose keys
//! `--set request.json.model=...` and `matrix --vary` reach one by one), the
//! response checks that decide success beyond the
//! status, and whether redirects are followed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dataset::{Dataset, FileReader};
use crate::error::{Invalid, Locator, ScenarioError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestTemplate {
    pub method: String,
    /// Path and query, with `{{variable}}` placeholders.
    pub path: String,
    /// Values may hold `${env:NAME}`, resolved by the harness at run time.
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// Time the first byte/token and the gaps between chunks.
    pub stream: bool,
    /// The `{{variables}}` used that are dataset columns.
    pub variables: Vec<String>,
    /// The `{{variables}}` used that an earlier step of a flow extracts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extracted: Vec<String>,
    pub checks: Checks,
    /// Redirects followed (on the target's own origin); 0: a 3xx is an
    /// error of kind `redirect`.
    pub follow_redirects: u32,
}

/// What a response must satisfy to count as a success.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checks {
    /// Accepted statuses; `None`: any 2xx.
    pub status: Option<Vec<u16>>,
    pub rules: Vec<Check>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// How the check is named in `errors.by_check`.
    pub name: String,
    pub rule: CheckRule,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CheckRule {
    /// A JSON pointer that must exist in the body.
    JsonExists(String),
    /// A JSON pointer whose value must equal this one.
    JsonEquals(String, serde_json::Value),
    /// A substring the body must contain.
    BodyContains(String),
}

/// The check names in `errors.by_check` order: index 0 is the status check.
impl Checks {
    pub const STATUS: usize = 0;

    pub fn names(&self) -> Vec<String> {
        std::iter::once("status".to_string())
            .chain(self.rules.iter().map(|c| c.name.clone()))
            .collect()
    }

    /// Whether the checks read the body (so the engine must keep it).
    pub fn need_body(&self) -> bool {
        !self.rules.is_empty()
    }

    pub fn status_ok(&self, status: u16) -> bool {
        match &self.status {
            None => (200..300).contains(&status),
            Some(list) => list.contains(&status),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    #[serde(default)]
    pub(crate) method: Option<String>,
    pub(crate) path: Spanned<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) body: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) body_file: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) json: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) stream: bool,
    #[serde(default)]
    pub(crate) checks: Option<Spanned<RawChecks>>,
    #[serde(default)]
    pub(crate) follow_redirects: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChecks {
    #[serde(default)]
    status: Option<StatusList>,
    #[serde(default)]
    json_exists: Vec<String>,
    #[serde(default)]
    json_equals: BTreeMap<String, toml::Value>,
    #[serde(default)]
    body_contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StatusList {
    One(u16),
    Many(Vec<u16>),
}

/// `[request.json]` as the JSON text sent.
fn json_body(v: &toml::Value) -> Result<String, String> {
    if !v.is_table() {
        return Err("give a table, e.g. [request.json] with model = \"gpt-4o-mini\"".into());
    }
    serde_json::to_string(v).map_err(|e| format!("cannot be sent as JSON: {e}"))
}

fn env_ok(loc: &Locator<'_>, at: usize, key: &str, text: &str) -> Result<(), ScenarioError> {
    crate::env::env_refs(text)
        .map(|_| ())
        .map_err(|m| loc.at(at, key, m))
}

/// Where a template is validated: the key its errors are under
/// (`request`, or `flow.steps[2]`) and the flow variables earlier steps
/// extract (none for `[request]`).
pub(crate) struct Within<'a> {
    pub key: &'a str,
    pub extracted: &'a [String],
    /// A replay's rows give the variables no dataset has.
    pub from_trace: bool,
}

impl RawRequest {
    pub(crate) fn validate(
        &self,
        loc: &Locator<'_>,
        datasets: &BTreeMap<String, Dataset>,
        read: &FileReader<'_>,
        from_trace: bool,
    ) -> Result<RequestTemplate, ScenarioError> {
        let within = Within {
            key: "request",
            extracted: &[],
            from_trace,
        };
        self.validate_within(loc, &within, datasets, read)
    }

    pub(crate) fn validate_within(
        &self,
        loc: &Locator<'_>,
        within: &Within<'_>,
        datasets: &BTreeMap<String, Dataset>,
        read: &FileReader<'_>,
    ) -> Result<RequestTemplate, ScenarioError> {
        let k = |sub: &str| format!("{}.{sub}", within.key);
        let given = [
            self.body.is_some(),
            self.body_file.is_some(),
            self.json.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            let at = [&self.body_file, &self.body]
                .iter()
                .find_map(|b| b.as_ref().map(|b| b.span().start))
                .unwrap_or(0);
            let json = if within.key == "request" {
                "[request.json]"
            } else {
                "json"
            };
            return Err(loc.at(
                at,
                within.key,
                format!("give one of body, body_file and {json}, not several"),
            ));
        }
        let mut headers = BTreeMap::new();
        if let Some(j) = &self.json {
            let at = j.span().start;
            let text = json_body(j.get_ref()).map_err(|m| loc.at(at, &k("json"), m))?;
            if !self
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"))
            {
                headers.insert("content-type".to_string(), "application/json".to_string());
            }
            return self.finish(loc, within, datasets, Some((at, text)), headers);
        }
        let body = match (&self.body, &self.body_file) {
            // Both given was rejected above.
            (Some(b), _) => Some((b.span().start, b.get_ref().clone())),
            (None, Some(f)) => {
                let text = read(f.get_ref()).map_err(|m| {
                    loc.at(
                        f.span().start,
                        &k("body_file"),
                        format!("{m} (the path is relative to the scenario file)"),
                    )
                })?;
                Some((f.span().start, text))
            }
            (None, None) => None,
        };
        self.finish(loc, within, datasets, body, headers)
    }

    /// The method (POST with a body, else GET, unless given), checked with
    /// the path it goes to.
    fn method_and_path(
        &self,
        loc: &Locator<'_>,
        within: &Within<'_>,
        has_body: bool,
    ) -> Result<String, ScenarioError> {
        let k = |sub: &str| format!("{}.{sub}", within.key);
        let method = self
            .method
            .clone()
            .unwrap_or_else(|| if has_body { "POST" } else { "GET" }.to_string());
        let path_at = self.path.span().start;
        if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&method.as_str()) {
            return Err(loc.at(
                path_at,
                &k("method"),
                format!("`{method}`: use GET, POST, PUT, PATCH, DELETE or HEAD"),
            ));
        }
        // A flow step's path may start with an extracted one (a Location).
        let from_var = within
            .extracted
            .iter()
            .any(|v| self.path.get_ref().starts_with(&format!("{{{{{v}}}}}")));
        if !self.path.get_ref().starts_with('/') && !from_var {
            return Err(loc.at(path_at, &k("path"), "the path starts with `/`, e.g. \"/api/v1/generate-article\"; the host comes from --target"));
        }
        Ok(method)
    }

    /// The template from the body chosen (with where it stands) and the
    /// headers implied so far.
    fn finish(
        &self,
        loc: &Locator<'_>,
        within: &Within<'_>,
        datasets: &BTreeMap<String, Dataset>,
        body: Option<(usize, String)>,
        mut headers: BTreeMap<String, String>,
    ) -> Result<RequestTemplate, ScenarioError> {
        let k = |sub: &str| format!("{}.{sub}", within.key);
        let method = self.method_and_path(loc, within, body.is_some())?;
        let path_at = self.path.span().start;
        let mut vars =
            variables(self.path.get_ref()).map_err(|m| loc.at(path_at, &k("path"), m))?;
        if let Some((at, b)) = &body {
            env_ok(loc, *at, &k("body"), b)?;
            for v in variables(b).map_err(|m| loc.at(*at, &k("body"), m))? {
                if !vars.contains(&v) {
                    vars.push(v);
                }
            }
        }
        for (k, v) in &self.headers {
            env_ok(
                loc,
                v.span().start,
                &format!("{}.headers.{k}", within.key),
                v.get_ref(),
            )?;
            headers.insert(k.clone(), v.get_ref().clone());
        }
        let columns = crate::dataset::columns(datasets);
        let (extracted, vars): (Vec<String>, Vec<String>) = vars
            .into_iter()
            .partition(|v| within.extracted.contains(v) && !columns.contains_key(v.as_str()));
        let missing = vars.iter().find(|v| !columns.contains_key(v.as_str()));
        if let Some(missing) = missing.filter(|_| !within.from_trace) {
            let at = body.as_ref().map_or(path_at, |b| b.0);
            let step = if within.key == "request" {
                String::new()
            } else {
                format!(
                    "no earlier step extracts it (add extract = {{ {missing} = \"/json/pointer\" }} to a step before this one), and "
                )
            };
            return Err(loc.at(at, within.key, format!("`{{{{{missing}}}}}`: {step}no dataset has it; add [datasets.{missing}] with values = [...] or file = \"...\" (a .csv or .jsonl file gives one variable per column)")));
        }
        let checks = match &self.checks {
            None => Checks::default(),
            Some(c) => c
                .get_ref()
                .validate()
                .map_err(|e| loc.invalid(c.span().start, e.under(&k("checks"))))?,
        };
        Ok(RequestTemplate {
            method,
            path: self.path.get_ref().clone(),
            headers,
            body: body.map(|b| b.1),
            stream: self.stream,
            variables: vars,
            extracted,
            checks,
            follow_redirects: self.follow_redirects.unwrap_or(0),
        })
    }
}

fn pointer(p: &str, key: &str) -> Result<String, Invalid> {
    if p.is_empty() || p.starts_with('/') {
        Ok(p.to_string())
    } else {
        Err(Invalid::new(
            key.to_string(),
            format!("`{p}` is not a JSON pointer: it starts with `/`, e.g. \"/article/title\""),
        ))
    }
}

impl RawChecks {
    pub(crate) fn validate(&self) -> Result<Checks, Invalid> {
        let status = match &self.status {
            None => None,
            Some(StatusList::One(s)) => Some(vec![*s]),
            Some(StatusList::Many(v)) => Some(v.clone()),
        };
        if let Some(bad) = status.iter().flatten().find(|s| !(100..=599).contains(*s)) {
            return Err(Invalid::new(
                "status".into(),
                format!("{bad} is not an HTTP status (100-599)"),
            ));
        }
        let mut rules = Vec::new();
        for p in &self.json_exists {
            rules.push(Check {
                name: format!("json_exists {p}"),
                rule: CheckRule::JsonExists(pointer(p, "json_exists")?),
            });
        }
        for (p, v) in &self.json_equals {
            let value = serde_json::to_value(v)
                .map_err(|e| Invalid::new("json_equals".into(), e.to_string()))?;
            rules.push(Check {
                name: format!("json_equals {p}"),
                rule: CheckRule::JsonEquals(pointer(p, "json_equals")?, value),
            });
        }
        for s in &self.body_contains {
            if s.is_empty() {
                return Err(Invalid::new(
                    "body_contains".into(),
                    "an empty substring checks nothing".into(),
                ));
            }
            rules.push(Check {
                name: format!("body_contains {s:?}"),
                rule: CheckRule::BodyContains(s.clone()),
            });
        }
        Ok(Checks { status, rules })
    }
}

/// `{{name}}` placeholders in order of first use.
pub fn variables(template: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(p) = rest.find("{{") {
        let after = &rest[p + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a `{{` is never closed with `}}`".to_string())?;
        let name = after[..end].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{{{name}}}}}` is not a variable name (letters, digits, _)"
            ));
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    Ok(out)
}
