//! Main-text extraction: the article's paragraphs without navigation, ads,
//! cookie banners, sidebars, forms and footers.
//!
//! A single forward scan over the HTML, no DOM: pages are large and this runs
//! once per fetched page. Text counts only inside paragraph-like blocks, and
//! only inside `<article>` (else `<main>`, else anywhere) when the page has one.

/// Elements whose whole subtree is boilerplate.
const SKIP_TAGS: [&str; 12] = [
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "button", "template",
];
/// class/id/role words that mark boilerplate containers.
const SKIP_WORDS: [&str; 14] = [
    "ad",
    "ads",
    "advert",
    "advertisement",
    "cookie",
    "banner",
    "sidebar",
    "newsletter",
    "promo",
    "sponsored",
    "related",
    "share",
    "comments",
    "dialog",
];
const BLOCKS: [&str; 10] = [
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
];
const VOID: [&str; 13] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The extracted page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub title: String,
    pub paragraphs: Vec<String>,
}

impl Extracted {
    pub fn text(&self) -> String {
        self.paragraphs.join("\n\n")
    }
}

struct Tag<'a> {
    name: String,
    closing: bool,
    self_closing: bool,
    attrs: &'a str,
}

fn parse_tag(inner: &str) -> Tag<'_> {
    let closing = inner.starts_with('/');
    let body = inner.trim_start_matches('/');
    let end = body
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(body.len());
    Tag {
        name: body[..end].to_ascii_lowercase(),
        closing,
        self_closing: inner.ends_with('/'),
        attrs: &body[end..],
    }
}

/// True when a class, id or role attribute names a boilerplate container.
fn boilerplate_attrs(attrs: &str) -> bool {
    let lower = attrs.to_ascii_lowercase();
    ["class=", "id=", "role="].iter().any(|key| {
        let mut rest = lower.as_str();
        while let Some(p) = rest.find(key) {
            rest = &rest[p + key.len()..];
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
            let value = match quote {
                Some(q) => rest[1..].split(q).next().unwrap_or(""),
                None => rest
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            if value
                .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
                .any(|w| SKIP_WORDS.contains(&w))
            {
                return true;
            }
        }
        false
    })
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        // Entities are short; look for the ';' in the next few bytes only.
        let end = rest.as_bytes().iter().take(10).position(|b| *b == b';');
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                "middot" => Some('·'),
                "copy" => Some('©'),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn push_text(buf: &mut String, text: &str) {
    for word in text.split_whitespace() {
        if !buf.is_empty() {
            buf.push(' ');
        }
        buf.push_str(word);
    }
}

/// Scan state: which containers we are inside.
#[derive(Default)]
struct Scan {
    /// Open skipped element and its nesting depth, if inside one.
    skip: Option<(String, usize)>,
    scope_depth: usize,
    block_depth: usize,
    in_title: bool,
    current: String,
    out: Extracted,
}

impl Scan {
    fn open(&mut self, tag: &Tag<'_>, scope: Option<&str>) {
        if let Some((name, depth)) = &mut self.skip {
            if *name == tag.name {
                *depth += 1;
            }
            return;
        }
        if SKIP_TAGS.contains(&tag.name.as_str()) || boilerplate_attrs(tag.attrs) {
            self.skip = Some((tag.name.clone(), 1));
            return;
        }
        if Some(tag.name.as_str()) == scope {
            self.scope_depth += 1;
        }
        if tag.name == "title" {
            self.in_title = true;
        }
        if BLOCKS.contains(&tag.name.as_str()) {
            self.block_depth += 1;
        }
    }

    fn close(&mut self, name: &str, scope: Option<&str>) {
        if let Some((open, depth)) = &mut self.skip {
            if open == name {
                *depth -= 1;
                if *depth == 0 {
                    self.skip = None;
                }
            }
            return;
        }
        if Some(name) == scope {
            self.scope_depth = self.scope_depth.saturating_sub(1);
        }
        if name == "title" {
            self.in_title = false;
        }
        if BLOCKS.contains(&name) && self.block_depth > 0 {
            self.block_depth -= 1;
            if self.block_depth == 0 && !self.current.is_empty() {
                let para = std::mem::take(&mut self.current);
                if self.out.title.is_empty() && name == "h1" {
                    self.out.title = para.clone();
                }
                self.out.paragraphs.push(para);
            }
        }
    }

    fn text(&mut self, raw: &str, scoped: bool) {
        if self.skip.is_some() {
            return;
        }
        if self.in_title && self.out.title.is_empty() {
            push_text(&mut self.out.title, &decode_entities(raw));
        } else if self.block_depth > 0 && (!scoped || self.scope_depth > 0) {
            push_text(&mut self.current, &decode_entities(raw));
        }
    }
}

/// Extracts the main text of `html`.
/// Where `needle` (lowercase ASCII) first occurs in `hay`, ASCII case
/// ignored. Scans only as far as the match: lowercasing a copy of the rest
/// of the page for every `<script>` made a page of many scripts quadratic.
fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

pub fn extract(html: &str) -> Extracted {
    let lower_has = |t: &str| html.contains(t) || html.contains(&t.to_ascii_uppercase());
    let scope = if lower_has("<article") {
        Some("article")
    } else if lower_has("<main") {
        Some("main")
    } else {
        None
    };
    let mut s = Scan::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        s.text(&rest[..lt], scope.is_some());
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = parse_tag(&rest[1..gt]);
        rest = &rest[gt + 1..];
        if tag.name.is_empty() || tag.name.starts_with('!') || tag.name.starts_with('?') {
            continue;
        }
        if tag.closing {
            s.close(&tag.name, scope);
            continue;
        }
        // Raw-text elements: their content is not HTML, jump to the close tag.
        if tag.name == "script" || tag.name == "style" {
            let close = format!("</{}", tag.name);
            rest = find_ignore_case(rest, &close).map_or("", |e| &rest[e..]);
            rest = rest.find('>').map_or("", |e| &rest[e + 1..]);
            continue;
        }
        if VOID.contains(&tag.name.as_str()) || tag.self_closing {
            continue;
        }
        s.open(&tag, scope);
    }
    s.text(rest, scope.is_some());
    s.out.title = s.out.title.trim().to_string();
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html><head><title>Tidal power | Site</title>
<script>var x = "<p>not text</p>";</script><style>p{}</style></head><body>
<header><nav><ul><li><a href="/">Home</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies</div>
<div class="ad ad-leaderboard"><p>Buy now</p></div>
<main><article><h1>Tidal power</h1><p class="byline">By A &amp; B</p>
<p>First   paragraph
 of text.</p><!-- <p>hidden</p> --><div class="ad-inline"><p>Sponsored</p></div>
<p>Second <b>bold</b> paragraph &#8212; fine.</p><img src="x.png"><br/>
</article><aside class="sidebar"><p>Trending</p></aside></main>
<footer><p>&copy; 2026</p></footer></body></html>"#;

    #[test]
    fn keeps_the_article_and_drops_boilerplate() {
        let e = extract(PAGE);
        assert_eq!(e.title, "Tidal power | Site");
        assert_eq!(
            e.paragraphs,
            vec![
                "Tidal power",
                "By A & B",
                "First paragraph of text.",
                "Second bold paragraph — fine."
            ]
        );
    }

    #[test]
    fn without_article_takes_paragraphs_anywhere_but_boilerplate() {
        let e = extract(
            "<body><p>One</p><nav><p>menu</p></nav><div id='sidebar'><p>x</p></div><p>Two</p></body>",
        );
        assert_eq!(e.paragraphs, vec!["One", "Two"]);
    }

    #[test]
    fn raw_text_ends_at_its_close_tag_in_any_case() {
        let scripts = "<script>var p = '<p>no</p>';</SCRIPT>".repeat(500);
        let e = extract(&format!(
            "<body>{scripts}<p>Kept</p><Style>p{{}}</sTyLe><p>Also</p></body>"
        ));
        assert_eq!(e.paragraphs, vec!["Kept", "Also"]);
        assert_eq!(find_ignore_case("ab</ScRiPt>", "</script"), Some(2));
        assert_eq!(find_ignore_case("é</style", "</style"), Some(2));
        assert_eq!(find_ignore_case("</scrip", "</script"), None);
    }

    #[test]
    fn never_panics_on_broken_html() {
        for s in [
            "",
            "<",
            "<p",
            "<p>unterminated",
            "</p></div>",
            "<script>",
            "&",
            "&#xZZ;",
            "<!--",
            "<a class=\"ad>x",
        ] {
            let _ = extract(s);
        }
    }

    #[test]
    fn extracts_the_mock_pages() {
        let html = genbench_mock::render_page(1, "abc", 800);
        let e = extract(&html);
        let text = e.text();
        assert!(
            !text.contains("cookies")
                && !text.contains("Advertisement")
                && !text.contains("Sponsored")
        );
        assert!(!text.contains("All rights reserved") && !text.contains("Trending"));
        let words = text.split_whitespace().count();
        assert!((700..=900).contains(&words), "{words} words");
    }
}
