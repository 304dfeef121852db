//! Escaping for every string that reaches a report. Strings in results come
//! from the target (error kinds, stage names, model names, scenario text),
//! so none of them is trusted.

/// Escapes text for HTML element content and double-quoted attributes.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for XML content and attributes (JUnit), dropping the
/// control characters XML 1.0 cannot carry at all.
pub fn xml(s: &str) -> String {
    html(s)
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
}

/// Escapes text for a Markdown table cell: pipes and newlines would break
/// the table, and HTML would be rendered by GitHub.
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn xml_drops_control_characters() {
        assert_eq!(xml("a\u{1}b\n<c>"), "ab\n&lt;c&gt;");
    }

    #[test]
    fn md_cell_keeps_the_table_intact() {
        assert_eq!(md_cell("a|b\nc <i>d</i>"), "a\\|b c &lt;i&gt;d&lt;/i&gt;");
        assert_eq!(md_cell("p95_ms"), "p95\\_ms");
    }
}
