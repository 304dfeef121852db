//! The house's limits over every crate's product code (`src/`, without its
//! `#[cfg(test)]` modules): no file over 600 lines, and no function over 80
//! lines but the few named in `LONG_FUNCTIONS`, each a flat dispatch.
//!
//! Lengths come from a small lexer that blanks comments, strings (raw and
//! byte strings too) and character literals, so a `{` inside any of them
//! does not move a function's end.

use std::path::PathBuf;

use super::layering::{MEMBERS, sources, workspace};

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 80;
/// Functions allowed over `MAX_FUNCTION_LINES` ("file:name"): at most 5,
/// each a flat dispatch. None today.
const LONG_FUNCTIONS: &[&str] = &[];

fn product_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for member in MEMBERS {
        sources(&workspace().join(member).join("src"), &mut files);
    }
    files
}

/// `src` with comments, strings and char literals blanked (newlines kept).
fn blank(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let ident = |i: usize| i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let mut i = 0;
    while i < b.len() {
        let end = if b[i..].starts_with(b"//") {
            b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n)
        } else if b[i..].starts_with(b"/*") {
            block_comment_end(b, i)
        } else if let Some(end) = raw_string_end(b, i).filter(|_| !ident(i)) {
            end
        } else if b[i] == b'"' || (b[i..].starts_with(b"b\"") && !ident(i)) {
            string_end(b, if b[i] == b'b' { i + 2 } else { i + 1 })
        } else if b[i] == b'\'' || (b[i..].starts_with(b"b'") && !ident(i)) {
            char_end(b, if b[i] == b'b' { i + 2 } else { i + 1 }).unwrap_or(i + 1)
        } else {
            i + 1
        };
        if end > i + 1 || matches!(b[i], b'"' | b'\'') {
            for c in &mut out[i..end] {
                if *c != b'\n' {
                    *c = b' ';
                }
            }
        }
        i = end.max(i + 1);
    }
    out
}

fn block_comment_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `r"…"`, `r#"…"#`, `br"…"`: where it ends, if one starts at `i`.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let j = i + usize::from(b[i] == b'b');
    if b.get(j) != Some(&b'r') {
        return None;
    }
    let hashes = b[j + 1..].iter().take_while(|&&c| c == b'#').count();
    if b.get(j + 1 + hashes) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let from = j + 2 + hashes;
    Some(
        b[from..]
            .windows(close.len())
            .position(|w| w == close.as_slice())
            .map_or(b.len(), |n| from + n + close.len()),
    )
}

fn string_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

/// The end of a char literal whose body starts at `i`; `None` for a
/// lifetime (`'a`), which has no closing quote.
fn char_end(b: &[u8], i: usize) -> Option<usize> {
    let body = if b.get(i) == Some(&b'\\') {
        // Past the backslash and the escaped character: `'\''`, `'\u{1F600}'`.
        2 + b.get(i + 2..)?.iter().take(10).position(|&c| c == b'\'')?
    } else {
        let c = std::str::from_utf8(&b[i..(i + 4).min(b.len())])
            .or_else(|e| std::str::from_utf8(&b[i..i + e.valid_up_to()]))
            .ok()?
            .chars()
            .next()?;
        c.len_utf8()
    };
    (b.get(i + body) == Some(&b'\'')).then_some(i + body + 1)
}

/// Line ranges (1-based, inclusive) of `#[cfg(test)] mod … { … }`.
fn test_modules(code: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("#[cfg(test)]") {
        let rest = code[at + 12..].trim_start();
        let rest = rest.strip_prefix("pub ").unwrap_or(rest);
        if rest.starts_with("mod ")
            && let Some(end) = block_end(code.as_bytes(), at)
        {
            out.push((line_of(code, at), line_of(code, end)));
        }
    }
    out
}

/// The `}` closing the first `{` at or after `from`.
fn block_end(b: &[u8], from: usize) -> Option<usize> {
    let open = from + b[from..].iter().position(|&c| c == b'{')?;
    let mut depth = 0;
    for (k, &c) in b[open..].iter().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + k);
                }
            }
            _ => {}
        }
    }
    None
}

fn line_of(code: &str, at: usize) -> usize {
    code[..at].bytes().filter(|&c| c == b'\n').count() + 1
}

/// Each function with a body: (name, first line, lines).
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    for (at, _) in code.match_indices("fn ") {
        if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(body) = body_start(b, at + 3 + name.len()) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        if let Some(end) = block_end(b, body) {
            let first = line_of(code, at);
            out.push((name, first, line_of(code, end) - first + 1));
        }
    }
    out
}

/// Where a signature's body starts: its first `{` outside brackets, or
/// `None` at a `;` (a declaration without a body).
fn body_start(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, &c) in b[from..].iter().enumerate() {
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b';' if depth == 0 => return None,
            b'{' if depth == 0 => return Some(from + k),
            _ => {}
        }
    }
    None
}

/// Every product function: (file:name, lines).
fn product_functions() -> Vec<(String, usize)> {
    let mut all = Vec::new();
    for f in product_files() {
        let src = std::fs::read_to_string(&f).unwrap();
        let code = String::from_utf8(blank(&src)).unwrap();
        let tests = test_modules(&code);
        let shown = f.display().to_string();
        let shown = shown.split("/../").nth(1).unwrap_or(&shown).to_string();
        for (name, first, lines) in functions(&code) {
            if !tests.iter().any(|&(a, b)| (a..=b).contains(&first)) {
                all.push((format!("{shown}:{name}"), lines));
            }
        }
    }
    all
}

#[test]
fn the_lexer_is_not_fooled_by_braces_in_strings_chars_and_comments() {
    let src = r####"
fn a<'x>(s: &'x str) -> char {
    let _ = "{ \" {";
    let _ = r#"{ "# ;
    let _ = b'{';
    let _ = '}';
    let _ = ['\'', '\\', '\u{7D}'];
    // }
    /* { /* } */ { */
    'a'
}
fn b() {}
"####;
    let code = String::from_utf8(blank(src)).unwrap();
    let f = functions(&code);
    assert_eq!(
        f,
        vec![("a".to_string(), 2, 10), ("b".to_string(), 12, 1)],
        "{code}"
    );
    let nested = "fn t() {}\n#[cfg(test)]\nmod tests {\n    fn u() {\n    }\n}\n";
    assert_eq!(test_modules(nested), vec![(2, 6)]);
}

#[test]
fn no_product_file_is_over_600_lines() {
    let files = product_files();
    assert!(files.len() > 150, "{} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > MAX_FILE_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these along their sections: {long:?}"
    );
}

#[test]
fn no_function_is_over_80_lines_but_the_named_dispatches() {
    let all = product_functions();
    assert!(all.len() > 1000, "{} functions", all.len());
    let long: Vec<String> = all
        .iter()
        .filter(|(name, lines)| {
            *lines > MAX_FUNCTION_LINES && !LONG_FUNCTIONS.contains(&name.as_str())
        })
        .map(|(name, lines)| format!("{name} ({lines} lines)"))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines: {long:?}; split each into steps, or (a flat dispatch only, at most 5) name it in LONG_FUNCTIONS"
    );
    assert!(LONG_FUNCTIONS.len() <= 5);
}
