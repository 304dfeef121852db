//! Deterministic output text whose token count is known without encoding it.
//!
//! The text is built from pieces that are each exactly one token in the
//! model's BPE and each one pre-token (a word with its leading space, a full
//! stop, a paragraph break), so BPE cannot merge across pieces and the token
//! count of the text equals the number of pieces. Tests check this against the
//! real tokenizer; streaming then sends one piece per chunk, as providers send
//! one token per chunk.

use std::sync::OnceLock;

use crate::presets::TokenizerKind;
use crate::rng::Rng;
use crate::tokens::bpe;

const WORDS: &str = "the of and to in is that for it as with was on be by this are from at or an \
have not but which one all their they has were more can been its other will about when also \
into these some than time new would after first two most only over such system data many \
where through may people use work both between each made part well because under same during \
world life before while any those could should high long large small public model process \
information research local national service market control power development general \
important water business level report policy support history health design example value \
change form project result cost team growth energy order source article content search \
network quality analysis response cache request memory number group point result demand \
price people city country state study change early later simple common strong clear \
different major local future current recent full open human";

/// Single-token pieces for one tokenizer.
pub struct Vocab {
    lower: Vec<&'static str>,
    capital: Vec<&'static str>,
    stop: &'static str,
    comma: &'static str,
    paragraph: &'static str,
}

fn leak(s: String) -> &'static str {
    // Built once per tokenizer for the life of the process.
    Box::leak(s.into_boxed_str())
}

fn build(kind: TokenizerKind) -> Vocab {
    let bpe = bpe(kind);
    let one = |s: &str| bpe.encode_ordinary(s).len() == 1;
    let mut lower = Vec::new();
    let mut capital = Vec::new();
    for w in WORDS.split_whitespace() {
        let l = format!(" {w}");
        if one(&l) && !lower.contains(&l.as_str()) {
            lower.push(leak(l));
        }
        let mut c = String::from(" ");
        c.push_str(&w[..1].to_ascii_uppercase());
        c.push_str(&w[1..]);
        if one(&c) && !capital.contains(&c.as_str()) {
            capital.push(leak(c));
        }
    }
    // Punctuation followed by newlines is one pre-token, so a paragraph end
    // is the single piece ".\n\n", never "." then "\n\n".
    assert!(one(".") && one(",") && one(".\n\n"), "punctuation pieces");
    Vocab {
        lower,
        capital,
        stop: ".",
        comma: ",",
        paragraph: ".\n\n",
    }
}

pub fn vocab(kind: TokenizerKind) -> &'static Vocab {
    static CL: OnceLock<Vocab> = OnceLock::new();
    static O200: OnceLock<Vocab> = OnceLock::new();
    match kind {
        TokenizerKind::Cl100kBase => CL.get_or_init(|| build(kind)),
        TokenizerKind::O200kBase => O200.get_or_init(|| build(kind)),
    }
}

/// Exactly `n` tokens of article-like prose, the same for the same `key`.
pub fn generate(kind: TokenizerKind, key: u64, n: usize) -> Vec<&'static str> {
    let v = vocab(kind);
    let mut rng = Rng::new(key);
    let mut out = Vec::with_capacity(n);
    let mut in_sentence = 0usize;
    let mut sentence_len = 0usize;
    let mut sentences = 0usize;
    while out.len() < n {
        let remaining = n - out.len();
        if in_sentence == 0 {
            // The first piece of the text has a leading space too; real
            // answers rarely do, but it keeps every piece one pre-token.
            out.push(v.capital[rng.below(v.capital.len() as u64) as usize]);
            sentence_len = 6 + rng.below(14) as usize;
            in_sentence = 1;
        } else if in_sentence >= sentence_len || remaining == 1 {
            sentences += 1;
            let end = if sentences.is_multiple_of(5) {
                v.paragraph
            } else {
                v.stop
            };
            out.push(end);
            in_sentence = 0;
        } else if in_sentence > 3
            && in_sentence + 1 < sentence_len
            && remaining > 2
            && out.last() != Some(&v.comma)
            && rng.chance(0.08)
        {
            // Never two punctuation pieces in a row: BPE would merge them.
            out.push(v.comma);
            in_sentence += 1;
        } else {
            out.push(v.lower[rng.below(v.lower.len() as u64) as usize]);
            in_sentence += 1;
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_is_large_enough_to_read_like_text() {
        for kind in [TokenizerKind::Cl100kBase, TokenizerKind::O200kBase] {
            let v = vocab(kind);
            assert!(v.lower.len() > 150, "{kind:?}: {}", v.lower.len());
            assert!(v.capital.len() > 50, "{kind:?}: {}", v.capital.len());
        }
    }

    #[test]
    fn piece_count_equals_real_bpe_count() {
        for kind in [TokenizerKind::Cl100kBase, TokenizerKind::O200kBase] {
            for key in 0..200u64 {
                let n = 1 + (key as usize * 37) % 900;
                let pieces = generate(kind, key, n);
                assert_eq!(pieces.len(), n);
                let text: String = pieces.concat();
                assert_eq!(
                    bpe(kind).encode_ordinary(&text).len(),
                    n,
                    "{kind:?} key {key}"
                );
            }
        }
    }

    #[test]
    fn same_key_same_text_other_key_other_text() {
        let k = TokenizerKind::O200kBase;
        assert_eq!(generate(k, 1, 50), generate(k, 1, 50));
        assert_ne!(generate(k, 1, 50), generate(k, 2, 50));
    }
}
