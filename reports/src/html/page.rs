//! The page skeleton every HTML output shares: style, header, figures and
//! tables. Nothing is fetched: the file works offline and opens from an
//! attachment or a CI artifact. The only script is the line that loads an
//! embedded flamegraph once the page is laid out.

use std::fmt::Write as _;

use crate::chart::Svg;
use crate::escape::html;

const STYLE: &str = r#"
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 16px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; vertical-align: middle; border: 1px solid; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: var(--bg); }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .d { color: var(--muted); font-size: 12px; }
figure.chart { margin: 8px 0 16px; }
figure.chart svg { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin: 4px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: var(--bg); }
td.better { color: var(--ok); } td.worse { color: var(--bad); }
.na { color: var(--muted); font-style: italic; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto; max-height: 420px; font-size: 12px; }
iframe.flamegraph { width: 100%; border: 1px solid var(--line); border-radius: 6px; }
nav a { margin-right: 10px; font-size: 13px; }
"#;

/// A whole document around `body`.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"generator\" content=\"genbench\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n\
<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        html(title)
    )
}

/// A chart with its caption, or the reason it is missing. `data-chart`
/// names it, which the browser test checks.
pub fn figure(o: &mut String, id: &str, caption: &str, svg: Option<Svg>, missing: &str) {
    match svg {
        Some(Ok(svg)) => {
            let _ = write!(
                o,
                "<figure class=\"chart\" data-chart=\"{id}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                strip_xml_decl(&svg),
                html(caption)
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(
                o,
                "<p class=\"na\" data-chart-error=\"{id}\">{}</p>",
                html(&e)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "<p class=\"na\" data-chart-missing=\"{id}\">{}</p>",
                html(missing)
            );
        }
    }
}

/// Inline SVG may not carry an XML declaration.
fn strip_xml_decl(svg: &str) -> &str {
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(svg, |i| rest[i + 2..].trim_start()),
        None => svg,
    }
}

/// Summary cards: (label, value, detail, class).
pub fn cards(o: &mut String, cards: &[(String, String, String, &str)]) {
    o.push_str("<div class=\"cards\">\n");
    for (k, v, d, class) in cards {
        let _ = writeln!(
            o,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v {class}\" title=\"{v}\">{v}</div><div class=\"d\">{}</div></div>",
            html(k),
            html(d),
            v = html(v),
        );
    }
    o.push_str("</div>\n");
}

/// A table of already-formatted strings; every cell is escaped here.
pub fn table(o: &mut String, head: &[&str], rows: &[Vec<String>]) {
    o.push_str("<table>\n<tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", html(h));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            let _ = write!(o, "<td>{}</td>", html(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

pub fn h2(o: &mut String, id: &str, title: &str) {
    let _ = writeln!(o, "<h2 id=\"{id}\">{}</h2>", html(title));
}

pub fn para(o: &mut String, text: &str) {
    let _ = writeln!(o, "<p>{}</p>", html(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_declaration_is_dropped_from_inline_svg() {
        assert_eq!(strip_xml_decl("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(strip_xml_decl("<svg/>"), "<svg/>");
    }
}
