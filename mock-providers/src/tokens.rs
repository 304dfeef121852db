//! Token counting with the real BPE vocabularies tiktoken-rs ships.

use tiktoken_rs::CoreBPE;

use crate::presets::TokenizerKind;

pub fn bpe(kind: TokenizerKind) -> &'static CoreBPE {
    match kind {
        TokenizerKind::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        TokenizerKind::O200kBase => tiktoken_rs::o200k_base_singleton(),
    }
}

/// Framing tokens OpenAI adds per chat message and once to prime the reply
/// (the cookbook's accounting for current models).
const TOKENS_PER_MESSAGE: usize = 3;
const TOKENS_PER_NAME: usize = 1;
const REPLY_PRIMING: usize = 3;

/// One chat message as far as token accounting cares.
pub struct MessageText<'a> {
    pub role: &'a str,
    pub name: Option<&'a str>,
    pub content: &'a str,
}

/// Prompt token ids in message order, framing excluded, and the total count
/// including framing. The ids feed the prompt-prefix cache.
pub fn prompt_tokens(kind: TokenizerKind, messages: &[MessageText<'_>]) -> (Vec<u32>, usize) {
    let bpe = bpe(kind);
    let mut ids = Vec::new();
    let mut framing = REPLY_PRIMING;
    for m in messages {
        framing += TOKENS_PER_MESSAGE;
        ids.extend(bpe.encode_ordinary(m.role));
        if let Some(name) = m.name {
            framing += TOKENS_PER_NAME;
            ids.extend(bpe.encode_ordinary(name));
        }
        ids.extend(bpe.encode_ordinary(m.content));
    }
    let total = ids.len() + framing;
    (ids, total)
}

pub fn count(kind: TokenizerKind, text: &str) -> usize {
    bpe(kind).encode_ordinary(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_cookbook_example() {
        // "Hello world" is 2 tokens in both vocabularies; framing is 3 per
        // message plus 3 for the reply, and "user" is 1 token.
        let m = [MessageText {
            role: "user",
            name: None,
            content: "Hello world",
        }];
        for kind in [TokenizerKind::Cl100kBase, TokenizerKind::O200kBase] {
            let (ids, total) = prompt_tokens(kind, &m);
            assert_eq!(ids.len(), 3);
            assert_eq!(total, 3 + 3 + 3);
        }
    }

    #[test]
    fn models_get_their_own_vocabulary() {
        let text = "Tokenization differs between vocabularies.";
        assert_ne!(
            bpe(TokenizerKind::Cl100kBase).encode_ordinary(text),
            bpe(TokenizerKind::O200kBase).encode_ordinary(text)
        );
    }
}
