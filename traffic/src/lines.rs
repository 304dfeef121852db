//! Formats with one row per line: JSON lines (`jsonl`, `records`,
//! `llm-trace`) and access logs.

use serde_json::Value;

use crate::format::{Columns, Format, Layout};
use crate::row::RowRequest;
use crate::timefmt::parse_clf;

/// One line's time and request; `Err` is the reason, with the fix.
pub(crate) fn parse(layout: &Layout, line: &str) -> Result<(f64, RowRequest), String> {
    match layout.format {
        Format::AccessLog => access_log(line),
        _ => json(layout, line),
    }
}

fn json(layout: &Layout, line: &str) -> Result<(f64, RowRequest), String> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| format!("not a JSON object ({e}); each line holds one request's object"))?;
    let Value::Object(map) = v else {
        return Err("not a JSON object; each line holds one request's object".into());
    };
    let mut cols = Columns::default();
    for (k, v) in &map {
        cols.json(layout, k, v)?;
    }
    cols.finish(layout)
}

/// `$remote_addr - $remote_user [$time_local] "$request" $status
/// $body_bytes_sent` and, in the combined format, `"$http_referer"
/// "$http_user_agent"`.
fn access_log(line: &str) -> Result<(f64, RowRequest), String> {
    const FIX: &str = "expected nginx/Apache combined or common format: 127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.1\" 200 2326";
    let bad = |what: &str| format!("{what}; {FIX}");
    let (remote, rest) = line.split_once(" [").ok_or_else(|| bad("no [time]"))?;
    let (time, rest) = rest.split_once("] ").ok_or_else(|| bad("no [time]"))?;
    let at_s = parse_clf(time)?;
    let (request, rest) = quoted(rest).ok_or_else(|| bad("no \"request\""))?;
    let mut parts = request.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !path.starts_with('/')
    {
        return Err(format!(
            "the request is `{request}`, not a method and a path (a probe or malformed request the server refused?); remove the line to replay the rest"
        ));
    }
    let mut fields = rest.trim_start().splitn(3, ' ');
    let status = fields.next().unwrap_or("");
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(&format!("`{status}` is not a status code")));
    }
    let mut r = RowRequest {
        method: Some(method.to_string()),
        path: Some(path.to_string()),
        ..RowRequest::default()
    };
    let ip = remote.split(' ').next().unwrap_or("");
    r.vars.push(("remote_addr".into(), ip.to_string()));
    r.vars.push(("status".into(), status.to_string()));
    if let Some(bytes) = fields.next() {
        r.vars.push(("bytes".into(), bytes.to_string()));
    }
    if let Some(rest) = fields.next()
        && let Some((referer, rest)) = quoted(rest)
    {
        r.vars.push(("referer".into(), referer.to_string()));
        if let Some((ua, _)) = quoted(rest.trim_start()) {
            r.vars.push(("user_agent".into(), ua.to_string()));
        }
    }
    Ok((at_s, r))
}

/// `"text" rest` → (`text`, `rest`); a `\"` inside does not end it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&s[..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(f: Format) -> Layout {
        Layout::new(f, None, None)
    }

    proptest::proptest! {
        /// A trace's lines are user input: any line is a row or an error.
        #[test]
        fn any_line_is_a_row_or_an_error(line in "\\PC{0,80}", quoted in "[\\[\\]\" /a-zA-Z0-9:\\\\é{},]{0,60}") {
            for f in [Format::AccessLog, Format::Jsonl, Format::LlmTrace, Format::Records] {
                let _ = parse(&layout(f), &line);
                let _ = parse(&layout(f), &quoted);
                let _ = parse(&layout(f), &format!("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] {quoted}"));
            }
        }
    }

    #[test]
    fn combined_and_common_access_logs() {
        let (t, r) = parse(
            &layout(Format::AccessLog),
            r#"10.0.0.7 - frank [10/Oct/2000:13:55:36 -0700] "POST /v1/articles?x=1 HTTP/1.1" 201 2326 "http://a/\"b" "curl/8.5.0""#,
        )
        .unwrap();
        assert_eq!(t, 971_211_336.0);
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.path.as_deref(), Some("/v1/articles?x=1"));
        assert_eq!(r.var("status"), Some("201"));
        assert_eq!(r.var("referer"), Some(r#"http://a/\"b"#));
        assert_eq!(r.var("user_agent"), Some("curl/8.5.0"));
        let (_, common) = parse(
            &layout(Format::AccessLog),
            r#"::1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.0" 200 -"#,
        )
        .unwrap();
        assert_eq!(common.path.as_deref(), Some("/"));
        assert_eq!(common.var("user_agent"), None);
        for bad in [
            r#"10.0.0.7 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01" 400 157 "-" "-""#,
            r#"10.0.0.7 - - 10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.1" 200 1"#,
            r#"10.0.0.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" OK 1"#,
            "",
        ] {
            assert!(parse(&layout(Format::AccessLog), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_lines_split_into_request_and_variables() {
        let l = layout(Format::Jsonl);
        let (t, r) = parse(
            &l,
            r#"{"timestamp":"2026-12-03T14:00:00.5Z","method":"post","path":"/a","headers":{"Authorization":"Bearer x","Accept":"text/plain","Host":"h"},"body":{"topic":"x"},"topic":"rust","n":3,"status":200}"#,
        )
        .unwrap();
        assert_eq!(t, 1_796_306_400.5);
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.body.as_deref(), Some(r#"{"topic":"x"}"#));
        assert_eq!(r.headers, vec![("Accept".into(), "text/plain".into())]);
        assert_eq!(r.credentials_dropped, 1);
        assert_eq!(
            r.vars,
            vec![("n".into(), "3".into()), ("topic".into(), "rust".into())]
        );
        for (bad, says) in [
            (r#"{"method":"GET"}"#, "no `timestamp` column"),
            (r#"{"timestamp":"soon"}"#, "RFC 3339"),
            (r#"{"timestamp":1,"path":"a"}"#, "starts with `/`"),
            (r#"{"timestamp":1,"headers":{"a":1}}"#, "not a string"),
            (
                r#"{"timestamp":1,"headers":{"a":"x\r\nhost: evil"}}"#,
                "line break",
            ),
            (
                r#"{"timestamp":1,"headers":{"a b":"x"}}"#,
                "not a header name",
            ),
            ("[1]", "not a JSON object"),
            ("{", "not a JSON object"),
        ] {
            let e = parse(&l, bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn llm_and_records_rows() {
        let (t, r) = parse(
            &layout(Format::LlmTrace),
            r#"{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}"#,
        )
        .unwrap();
        assert_eq!(t, 27.482);
        let llm = r.llm.unwrap();
        assert_eq!((llm.input_tokens, llm.output_tokens), (6955, 52));
        assert_eq!(llm.blocks, vec![46, 47]);
        assert!(
            parse(
                &layout(Format::LlmTrace),
                r#"{"timestamp":1,"input_length":5}"#
            )
            .is_err()
        );
        let (t, r) = parse(
            &layout(Format::Records),
            r#"{"worker":0,"scheduled_s":1.25,"sent_s":1.26,"latency_ms":3.5,"status":200,"method":"GET","path":"/x","body":null,"request_id":"a"}"#,
        )
        .unwrap();
        assert_eq!((t, r.path.as_deref(), r.vars.len()), (1.25, Some("/x"), 0));
    }
}
