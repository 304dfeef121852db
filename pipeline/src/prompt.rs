//! The LLM prompt: the request plus as much source text as the context token
//! budget allows, counted with the o200k BPE the default models use.

use serde_json::{Value, json};

use crate::extract::Extracted;

/// A fetched and extracted source page.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub title: String,
    pub url: String,
    pub page: Extracted,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub messages: Value,
    /// Tokens of source text included.
    pub context_tokens: usize,
}

const SYSTEM: &str = "You are a careful writer. Write a well-structured, factual article using only \
the sources provided; cite them as [1], [2], ...";

pub fn build(
    topic: &str,
    industry: Option<&str>,
    words: Option<u32>,
    sources: &[SourceText],
    budget: usize,
) -> Prompt {
    let bpe = tiktoken_rs::o200k_base_singleton();
    let mut context = String::new();
    let mut used = 0usize;
    for (i, s) in sources.iter().enumerate() {
        if used >= budget {
            break;
        }
        let header = format!("[{}] {} ({})\n", i + 1, s.title, s.url);
        let body = s.page.text();
        let ids = bpe.encode_ordinary(&format!("{header}{body}\n\n"));
        let take = ids.len().min(budget - used);
        // Cut on a token boundary; the o200k vocabulary decodes any prefix of
        // ASCII text, and a cut inside a multi-byte character is dropped.
        let text = bpe
            .decode(&ids[..take])
            .unwrap_or_else(|_| String::from_utf8_lossy(header.as_bytes()).into());
        context.push_str(&text);
        used += take;
    }
    let mut ask = format!("Write an article about \"{topic}\"");
    if let Some(ind) = industry {
        ask.push_str(&format!(" for readers in the {ind} industry"));
    }
    if let Some(w) = words {
        ask.push_str(&format!(", about {w} words long"));
    }
    ask.push_str(".\n\nSources:\n\n");
    ask.push_str(&context);
    Prompt {
        messages: json!([{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask}]),
        context_tokens: used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(words: usize) -> SourceText {
        SourceText {
            title: "T".into(),
            url: "http://x/1".into(),
            page: Extracted {
                title: "T".into(),
                paragraphs: vec!["word ".repeat(words)],
            },
        }
    }

    #[test]
    fn stays_within_the_budget() {
        let sources = vec![source(3000), source(3000), source(3000)];
        let p = build("tides", Some("energy"), Some(800), &sources, 2500);
        assert_eq!(p.context_tokens, 2500);
        let user = p.messages[1]["content"].as_str().unwrap();
        assert!(user.contains("[1]") && user.contains("energy industry") && !user.contains("[2]"));
    }

    #[test]
    fn small_sources_all_fit() {
        let p = build("tides", None, None, &[source(10), source(10)], 6000);
        assert!(p.context_tokens < 100);
        assert!(p.messages[1]["content"].as_str().unwrap().contains("[2]"));
    }
}
