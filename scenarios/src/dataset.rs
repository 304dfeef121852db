//! `[datasets.NAME]`: the values requests draw from. Inline `values`, a
//! text file (one value per line), or a table: a CSV file with a header
//! row, or JSON Lines of objects, where one draw gives one row and each
//! column is a variable (`{{topic}}`, `{{industry}}`, `{{target_length}}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Reads a dataset file named in a scenario; `Err` is the message to show.
pub type FileReader<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

/// How often dataset values repeat, which sets the cache hit rate to expect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repeat {
    Uniform,
    /// Rank-frequency with exponent `s` (> 0).
    Zipf {
        s: f64,
    },
    /// `hot_fraction` of draws come from the first `hot_set` fraction of values.
    HotSet {
        hot_set: f64,
        hot_fraction: f64,
    },
}

/// A validated dataset: rows of equal length under named columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    /// Variable names; a one-column dataset's column is the dataset's name.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub repeat: Repeat,
}

impl Dataset {
    /// One column's values, in row order.
    pub fn column(&self, name: &str) -> Option<Vec<&str>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[i].as_str()).collect())
    }
}

/// A variable two datasets both provide, which a template could not tell
/// apart: `Err` names it and both datasets.
pub fn unique_columns(datasets: &BTreeMap<String, Dataset>) -> Result<(), String> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, d) in datasets {
        for c in &d.columns {
            if let Some(other) = seen.insert(c, name) {
                return Err(format!(
                    "`{c}` is a column of both datasets.{other} and datasets.{name}; rename one"
                ));
            }
        }
    }
    Ok(())
}

/// Every variable the datasets provide: its dataset and column index.
pub fn columns(datasets: &BTreeMap<String, Dataset>) -> BTreeMap<&str, (&str, usize)> {
    let mut out = BTreeMap::new();
    for (name, d) in datasets {
        for (i, c) in d.columns.iter().enumerate() {
            out.entry(c.as_str()).or_insert((name.as_str(), i));
        }
    }
    out
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataset {
    #[serde(default)]
    values: Option<Vec<String>>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    repeat: Option<String>,
    #[serde(default)]
    zipf_s: Option<f64>,
    #[serde(default)]
    hot_set: Option<f64>,
    #[serde(default)]
    hot_fraction: Option<f64>,
}

fn is_name(c: &str) -> bool {
    !c.is_empty() && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn csv_table(text: &str, file: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let columns: Vec<String> = r
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec =
            rec.map_err(|e| format!("{file}: {e} (every row has one value per header column)"))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((columns, rows))
}

fn jsonl_table(text: &str, file: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = format!("{file}:{}", n + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{at}: not JSON: {e}"))?;
        let obj = v.as_object().ok_or_else(|| {
            format!("{at}: each line is one JSON object, e.g. {{\"topic\": \"...\"}}")
        })?;
        if columns.is_empty() {
            columns = obj.keys().cloned().collect();
        }
        let row = columns
            .iter()
            .map(|c| match obj.get(c) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(v.to_string())
                }
                Some(_) => Err(format!("{at}: `{c}` must be a string, number or boolean")),
                None => Err(format!("{at}: has no `{c}`, which the first line has")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok((columns, rows))
}

impl RawDataset {
    pub(crate) fn validate(self, name: &str, read: &FileReader<'_>) -> Result<Dataset, String> {
        let repeat = self.repeat()?;
        let (columns, rows) = match (self.values, &self.file) {
            (Some(v), None) => (
                vec![name.to_string()],
                v.into_iter().map(|v| vec![v]).collect(),
            ),
            (None, Some(f)) => {
                let text = read(f)?;
                let lower = f.to_ascii_lowercase();
                if lower.ends_with(".csv") {
                    csv_table(&text, f)?
                } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
                    jsonl_table(&text, f)?
                } else {
                    let rows = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(|l| vec![l.to_string()])
                        .collect();
                    (vec![name.to_string()], rows)
                }
            }
            (Some(_), Some(_)) => {
                return Err("give either values = [...] or file = \"...\", not both".into());
            }
            (None, None) => {
                return Err(format!(
                    "dataset `{name}` needs values = [...] or file = \"...\" (one value per line, or a .csv / .jsonl table)"
                ));
            }
        };
        if let Some(bad) = columns.iter().find(|c| !is_name(c)) {
            return Err(format!(
                "column `{bad}` cannot be a variable name (letters, digits, _)"
            ));
        }
        if rows.is_empty() {
            return Err(format!("dataset `{name}` is empty"));
        }
        Ok(Dataset {
            columns,
            rows,
            repeat,
        })
    }

    fn repeat(&self) -> Result<Repeat, String> {
        Ok(match self.repeat.as_deref().unwrap_or("uniform") {
            "uniform" => Repeat::Uniform,
            "zipf" => {
                let s = self.zipf_s.unwrap_or(1.0);
                if !(s > 0.0 && s.is_finite()) {
                    return Err(format!("zipf_s = {s}: must be > 0 (1.0 is classic Zipf)"));
                }
                Repeat::Zipf { s }
            }
            "hot_set" => {
                let (h, f) = (
                    self.hot_set.unwrap_or(0.2),
                    self.hot_fraction.unwrap_or(0.8),
                );
                if !(h > 0.0 && h <= 1.0 && (0.0..=1.0).contains(&f)) {
                    return Err("hot_set is a fraction of the values in (0, 1]; hot_fraction a fraction of draws in [0, 1]".into());
                }
                Repeat::HotSet {
                    hot_set: h,
                    hot_fraction: f,
                }
            }
            other => {
                return Err(format!(
                    "repeat = \"{other}\": use \"uniform\", \"zipf\" or \"hot_set\""
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: &str, text: &str) -> Result<Dataset, String> {
        let raw = RawDataset {
            values: None,
            file: Some(file.into()),
            repeat: None,
            zipf_s: None,
            hot_set: None,
            hot_fraction: None,
        };
        let text = text.to_string();
        raw.validate("rows", &move |_| Ok(text.clone()))
    }

    #[test]
    fn csv_rows_give_one_variable_per_column() {
        let d = load(
            "rows.csv",
            "topic,industry,target_length\n\"solar, on roofs\",energy,300\nbanks,finance,500\n",
        )
        .unwrap();
        assert_eq!(d.columns, ["topic", "industry", "target_length"]);
        assert_eq!(d.rows[0], ["solar, on roofs", "energy", "300"]);
        assert_eq!(d.column("industry").unwrap(), ["energy", "finance"]);
        let e = load("rows.csv", "topic,industry\na,b,c\n").unwrap_err();
        assert!(e.contains("rows.csv"), "{e}");
    }

    #[test]
    fn json_lines_rows_and_their_errors() {
        let d = load(
            "rows.jsonl",
            "{\"topic\": \"café\", \"target_length\": 300}\n\n{\"topic\": \"x\", \"target_length\": 5}\n",
        )
        .unwrap();
        assert_eq!(d.columns, ["target_length", "topic"]);
        assert_eq!(d.rows[0], ["300", "café"]);
        let e = load("rows.jsonl", "{\"topic\": \"a\"}\n{\"other\": 1}\n").unwrap_err();
        assert!(e.contains("rows.jsonl:2") && e.contains("`topic`"), "{e}");
        let e = load("rows.jsonl", "[1]\n").unwrap_err();
        assert!(e.contains("one JSON object"), "{e}");
    }

    #[test]
    fn text_files_are_one_column_named_after_the_dataset() {
        let d = load("topics.txt", "# comment\na\n\nb\n").unwrap();
        assert_eq!(d.columns, ["rows"]);
        assert_eq!(d.rows, [["a"], ["b"]]);
    }
}
