//! Prompts for an LLM trace's rows, made with the model's own tokenizer to
//! the row's input length. A row's prompt is its blocks' text in order
//! (each block id always gives the same text), then text of its own: rows
//! that share leading block ids share that prefix token for token, so
//! prompt caching (a provider's, the mock's `cached_tokens`) sees what the
//! trace's service saw.
//!
//! Each word is one token with its leading space in the model's vocabulary,
//! so a prompt's token count is its word count, and joining blocks never
//! merges tokens across the seam.

use genbench_presets::rng::{Rng, hash_parts};
use genbench_traffic::LlmRow;
use tiktoken_rs::CoreBPE;

/// Tokens a chat completion of one user message adds around its content,
/// as OpenAI counts them (and the mock): 3 for the message, 1 for the role
/// `user`, 3 to prime the reply.
pub const CHAT_FRAMING_TOKENS: u32 = 7;

/// Tokens before the content in the prefix a provider caches: the role.
const ROLE_TOKENS: u32 = 1;

/// Candidates for the vocabulary; the model's tokenizer keeps those that
/// are one token with a leading space.
const WORDS: &str = "time year people way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game line end member law car city community name president team minute idea kid body information back parent face others level office door health person art war history party result change morning reason research girl guy moment air teacher force education foot boy age policy process music market sense nation plan college interest death experience effect class control care field development role effort rate heart drug show leader light voice wife police mind price report decision son view relationship town road arm difference value building action model season society tax director position player record paper space ground form event official matter center couple site project activity star table need court oil situation cost industry figure street image phone data picture practice piece land product doctor wall patient worker news test movie north love support technology step baby computer type attention film tree source organization hair window evidence population site truth river garden stone bridge summer winter spring autumn forest ocean island valley mountain desert cloud storm rain snow wind fire metal glass paper cotton wood";

/// Makes prompts for one model.
pub struct Prompts {
    words: Vec<&'static str>,
    block_tokens: u32,
}

impl Prompts {
    pub fn new(bpe: &CoreBPE, block_tokens: u32) -> Self {
        let mut words: Vec<&'static str> = WORDS
            .split(' ')
            .filter(|w| bpe.encode_ordinary(&format!(" {w}")).len() == 1)
            .collect();
        words.sort_unstable();
        words.dedup();
        Prompts {
            words,
            block_tokens: block_tokens.max(1),
        }
    }

    /// The message content for `row` (`seed` makes its own text its own),
    /// into `out`: content tokens = input tokens less the chat framing.
    pub fn content(&self, row: &LlmRow, seed: u64, out: &mut String) {
        out.clear();
        let want = row.input_tokens.saturating_sub(CHAT_FRAMING_TOKENS).max(1);
        let mut have = 0u32;
        for (i, id) in row.blocks.iter().enumerate() {
            // The first block's share of the cached prefix includes the
            // role's token, so block seams fall on whole blocks.
            let len = if i == 0 {
                self.block_tokens.saturating_sub(ROLE_TOKENS)
            } else {
                self.block_tokens
            };
            let take = len.min(want - have);
            let mut rng = Rng::new(hash_parts(*id, &["prompt-block"]));
            self.push_words(&mut rng, take, out);
            have += take;
            if have == want {
                return;
            }
        }
        let mut rng = Rng::new(hash_parts(seed, &["prompt-tail"]));
        self.push_words(&mut rng, want - have, out);
    }

    fn push_words(&self, rng: &mut Rng, n: u32, out: &mut String) {
        for _ in 0..n {
            out.push(' ');
            out.push_str(self.words[rng.below(self.words.len() as u64) as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(input: u32, blocks: &[u64]) -> LlmRow {
        LlmRow {
            input_tokens: input,
            output_tokens: 10,
            blocks: blocks.to_vec(),
        }
    }

    #[test]
    fn prompts_count_the_rows_tokens_and_share_their_blocks() {
        for bpe in [
            tiktoken_rs::cl100k_base_singleton(),
            tiktoken_rs::o200k_base_singleton(),
        ] {
            let p = Prompts::new(bpe, 512);
            assert!(p.words.len() > 200, "{}", p.words.len());
            let (mut a, mut b) = (String::new(), String::new());
            p.content(&row(1500, &[1, 2, 3]), 10, &mut a);
            p.content(&row(2000, &[1, 2, 9, 4]), 11, &mut b);
            assert_eq!(
                bpe.encode_ordinary(&a).len() as u32,
                1500 - CHAT_FRAMING_TOKENS
            );
            assert_eq!(
                bpe.encode_ordinary(&b).len() as u32,
                2000 - CHAT_FRAMING_TOKENS
            );
            let (ta, tb) = (bpe.encode_ordinary(&a), bpe.encode_ordinary(&b));
            let shared = ta.iter().zip(&tb).take_while(|(x, y)| x == y).count();
            // Two whole blocks, less the role's token; by chance a word or
            // two more may agree.
            assert!((1023..1023 + 3).contains(&shared), "{shared}");
            let mut again = String::new();
            p.content(&row(1500, &[1, 2, 3]), 10, &mut again);
            assert_eq!(a, again);
        }
    }
}
