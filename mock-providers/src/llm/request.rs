//! The chat-completion request as the mock reads it. Unknown fields are
//! accepted and ignored, as SDKs send many (tools, response_format, ...).

use serde::Deserialize;

use crate::error::ApiError;
use crate::tokens::MessageText;

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub n: Option<u32>,
    #[serde(default)]
    pub seed: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

impl Message {
    /// The text the model reads; non-text parts (images, audio) count as none.
    pub fn text(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(Content::Text(s)) => s.clone(),
            Some(Content::Parts(parts)) => parts
                .iter()
                .filter(|p| p.kind == "text")
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl ChatRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.model.is_empty() {
            return Err(ApiError::invalid("you must provide a model parameter").param("model"));
        }
        if self.messages.is_empty() {
            return Err(
                ApiError::invalid("'messages' must contain at least one message.")
                    .param("messages"),
            );
        }
        for (i, m) in self.messages.iter().enumerate() {
            if !ROLES.contains(&m.role.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Invalid value: '{}'. Supported values are: {}.",
                    m.role,
                    ROLES.map(|r| format!("'{r}'")).join(", ")
                ))
                .param(&format!("messages[{i}].role")));
            }
        }
        if self.max_output() == Some(0) {
            return Err(ApiError::invalid("max_tokens must be at least 1.").param("max_tokens"));
        }
        if self.n.is_some_and(|n| n != 1) {
            return Err(ApiError::invalid(
                "The mock returns one choice per request; set n to 1 or omit it.",
            )
            .param("n"));
        }
        if self.stream_options.is_some() && !self.streaming() {
            return Err(ApiError::invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            )
            .param("stream_options"));
        }
        Ok(())
    }

    pub fn streaming(&self) -> bool {
        self.stream == Some(true)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options.as_ref().and_then(|o| o.include_usage) == Some(true)
    }

    pub fn max_output(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Owned message texts, for token counting and the content key.
    pub fn texts(&self) -> Vec<(String, Option<String>, String)> {
        self.messages
            .iter()
            .map(|m| (m.role.clone(), m.name.clone(), m.text()))
            .collect()
    }
}

pub fn as_message_texts(t: &[(String, Option<String>, String)]) -> Vec<MessageText<'_>> {
    t.iter()
        .map(|(role, name, content)| MessageText {
            role,
            name: name.as_deref(),
            content,
        })
        .collect()
}
