//! `--set key=value`: changes to a scenario's TOML made before it is
//! validated, so an override is checked exactly like the file's own keys.

use toml::{Table, Value};

/// One `key=value` from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted path, e.g. `load.timeout` or `pipeline.model`.
    pub path: Vec<String>,
    pub value: Value,
    /// As given, for error messages.
    pub raw: String,
}

/// Parses `key=value`. The value is read as TOML (`5`, `true`, `"x"`,
/// `[1, 2]`), and failing that taken as a string, so `30s` and `gpt-4o`
/// need no quotes.
pub fn parse_override(s: &str) -> Result<Override, String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("--set {s}: give key=value, e.g. --set load.timeout=30s"))?;
    let path: Vec<String> = key
        .trim()
        .split('.')
        .map(|p| p.trim().to_string())
        .collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "--set {s}: `{key}` is not a key; use dotted names, e.g. pipeline.model"
        ));
    }
    let value = value.trim();
    let parsed = toml::from_str::<Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(value.to_string()));
    Ok(Override {
        path,
        value: parsed,
        raw: s.to_string(),
    })
}

/// Sets each override in `doc`, creating tables on the way as needed.
pub fn apply(doc: &mut Table, overrides: &[Override]) -> Result<(), String> {
    for o in overrides {
        let (last, parents) = o.path.split_last().unwrap_or((&o.raw, &[]));
        let mut table = &mut *doc;
        for (i, p) in parents.iter().enumerate() {
            let entry = table
                .entry(p.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            table = entry.as_table_mut().ok_or_else(|| {
                format!(
                    "--set {}: `{}` is a value, not a table",
                    o.raw,
                    o.path[..=i].join(".")
                )
            })?;
        }
        table.insert(last.clone(), o.value.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_or_plain_strings() {
        let o = parse_override("load.max_requests=500").unwrap();
        assert_eq!(
            (o.path.join("."), o.value),
            ("load.max_requests".into(), Value::Integer(500))
        );
        assert_eq!(
            parse_override("pipeline.model=gpt-4o").unwrap().value,
            Value::String("gpt-4o".into())
        );
        assert_eq!(
            parse_override("load.timeout = 30s").unwrap().value,
            Value::String("30s".into())
        );
        assert_eq!(
            parse_override("request.stream=true").unwrap().value,
            Value::Boolean(true)
        );
        assert!(
            parse_override("no-equals")
                .unwrap_err()
                .contains("key=value")
        );
        assert!(parse_override("a..b=1").is_err());
    }

    #[test]
    fn apply_creates_tables_and_refuses_to_descend_into_values() {
        let mut doc: Table = toml::from_str("name = \"x\"\n[load]\nmodel = \"open\"").unwrap();
        apply(
            &mut doc,
            &[
                parse_override("pipeline.cache.ttl_s=5").unwrap(),
                parse_override("load.model=closed").unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(doc["pipeline"]["cache"]["ttl_s"], Value::Integer(5));
        assert_eq!(doc["load"]["model"], Value::String("closed".into()));
        let err = apply(&mut doc, &[parse_override("name.x=1").unwrap()]).unwrap_err();
        assert!(err.contains("`name` is a value"), "{err}");
    }
}
