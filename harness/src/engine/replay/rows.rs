//! A trace row into the request it sends. The row's method, path, body and
//! headers where it has them; the scenario's `[request]` template for the
//! rest, rendered with the row's variables (and the datasets' for any the
//! row lacks). An access log has no bodies, so a replayed POST's body is
//! the template's; a GET the row names sends none.

use std::collections::BTreeMap;

use genbench_presets::rng::Rng;
use genbench_scenarios::{Dataset, RequestTemplate, variables};
use genbench_traffic::Row;

use super::prompt::Prompts;
use crate::engine::h1::valid_path;
use crate::engine::requests::{Draws, Rendered, Template};

/// Variables an LLM trace's row gives the template.
const LLM_VARIABLES: [&str; 3] = ["prompt", "max_tokens", "input_tokens"];

/// Methods whose replayed request carries no body unless its row has one.
const BODYLESS: [&str; 4] = ["GET", "HEAD", "DELETE", "OPTIONS"];

/// Renders rows into requests.
pub struct RowFactory {
    template: Template,
    method: String,
    /// Variables the template's path and body use that no dataset has.
    path_vars: Vec<String>,
    body_vars: Vec<String>,
    draws: Draws,
    /// Header names the scenario sets: its values win over a row's.
    scenario_headers: Vec<String>,
    prompts: Option<Prompts>,
}

/// Strings a row's rendering borrows, reused from row to row.
#[derive(Default)]
pub struct Scratch {
    prompt: String,
    max_tokens: String,
    input_tokens: String,
    rows: Vec<usize>,
}

impl RowFactory {
    pub fn new(
        t: &RequestTemplate,
        datasets: &BTreeMap<String, Dataset>,
        prompts: Option<Prompts>,
    ) -> Self {
        let columns: Vec<&String> = datasets.values().flat_map(|d| &d.columns).collect();
        let own = |text: &str| -> Vec<String> {
            variables(text)
                .unwrap_or_default()
                .into_iter()
                .filter(|v| !columns.contains(&v))
                .collect()
        };
        RowFactory {
            template: Template::new(t),
            method: t.method.clone(),
            path_vars: own(&t.path),
            body_vars: t.body.as_deref().map(own).unwrap_or_default(),
            draws: Draws::new(&t.variables, datasets),
            scenario_headers: t.headers.keys().map(|k| k.to_ascii_lowercase()).collect(),
            prompts,
        }
    }

    fn method<'a>(&'a self, row: &'a Row) -> &'a str {
        row.request.method.as_deref().unwrap_or(&self.method)
    }

    /// Whether the request takes the template's body.
    fn templated_body(&self, row: &Row) -> bool {
        row.request.body.is_none() && !BODYLESS.contains(&self.method(row))
    }

    /// What a row lacks to be sent, as the fix to write at its line.
    pub fn check(&self, row: &Row) -> Result<(), String> {
        if let Some(p) = &row.request.path
            && !valid_path(p)
        {
            return Err(format!(
                "the path `{p}` has spaces or control characters; percent-encode them"
            ));
        }
        if row.request.llm.is_some() && self.prompts.is_none() {
            return Err("an LLM row needs format = \"llm-trace\"".into());
        }
        let needed = (row.request.path.is_none().then_some(&self.path_vars))
            .into_iter()
            .chain(self.templated_body(row).then_some(&self.body_vars))
            .flatten();
        for v in needed {
            let given = row.request.var(v).is_some()
                || (row.request.llm.is_some() && LLM_VARIABLES.contains(&v.as_str()));
            if !given {
                let cols: Vec<&str> = row.request.vars.iter().map(|(k, _)| k.as_str()).collect();
                return Err(format!(
                    "the [request] template uses `{{{{{v}}}}}`, which this row does not have (its columns: {}); add a `{v}` column, or a [datasets] entry with it",
                    if cols.is_empty() {
                        "none".to_string()
                    } else {
                        cols.join(", ")
                    }
                ));
            }
        }
        Ok(())
    }

    /// Renders `row` (the replay's `index`-th) into `out`.
    pub fn render(
        &self,
        row: &Row,
        index: u64,
        rng: &mut Rng,
        s: &mut Scratch,
        out: &mut Rendered,
    ) {
        if let (Some(llm), Some(p)) = (&row.request.llm, &self.prompts) {
            p.content(llm, index, &mut s.prompt);
            s.max_tokens.clear();
            s.max_tokens.push_str(&llm.output_tokens.to_string());
            s.input_tokens.clear();
            s.input_tokens.push_str(&llm.input_tokens.to_string());
        }
        self.draws.draw(rng, &mut s.rows);
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        self.draws.values(&s.rows, &mut values);
        if row.request.llm.is_some() {
            values.insert("prompt", &s.prompt);
            values.insert("max_tokens", &s.max_tokens);
            values.insert("input_tokens", &s.input_tokens);
        }
        for (k, v) in &row.request.vars {
            values.insert(k, v);
        }
        self.template.render_into(&values, out);
        if let Some(p) = &row.request.path {
            out.path.clear();
            out.path.push_str(p);
        }
        match &row.request.body {
            Some(b) => *out.body.get_or_insert_default() = b.clone(),
            None if !self.templated_body(row) => out.body = None,
            None => {}
        }
        out.method = row.request.method.clone().filter(|m| *m != self.method);
        out.headers.clear();
        out.headers.extend(
            row.request
                .headers
                .iter()
                .filter(|(k, _)| !self.scenario_headers.contains(&k.to_ascii_lowercase()))
                .cloned(),
        );
    }
}
