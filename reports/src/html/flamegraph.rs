//! The flamegraph section: the run's flamegraph SVG embedded whole, with
//! its own script (click to zoom, search), in a sandboxed frame that
//! cannot reach the report.

use std::fmt::Write as _;

use base64::Engine as _;
use genbench_model::RunResult;

use super::page::{h2, para};
use crate::escape::html;
use crate::fmt::enum_name;

/// Run first inside the embedded flamegraph. The flamegraph's script keeps
/// its zoom in the page URL with `history.replaceState`, which a `data:`
/// document cannot do (it throws on every click); the zoom itself works,
/// so the URL update is made a no-op where it would throw.
const SHIM: &str = "<script type=\"text/ecmascript\">(function () { var replace = history.replaceState; history.replaceState = function () { try { return replace.apply(history, arguments); } catch (e) { return undefined; } }; })();</script>";

/// The SVG with [`SHIM`] inserted after its root element's start tag, or
/// unchanged when it has none.
pub fn with_shim(svg: &[u8]) -> Vec<u8> {
    let head = &svg[..svg.len().min(8192)];
    let Some(root) = head.windows(4).position(|w| w == b"<svg") else {
        return svg.to_vec();
    };
    let Some(end) = head[root..].iter().position(|&b| b == b'>') else {
        return svg.to_vec();
    };
    let at = root + end + 1;
    [&svg[..at], SHIM.as_bytes(), &svg[at..]].concat()
}

pub fn flamegraph(o: &mut String, r: &RunResult, svg: Option<&[u8]>) {
    h2(o, "flamegraph", "Flamegraph");
    if let Some(p) = &r.profile {
        let tool = p.tool.as_ref().map_or("no profiler".into(), enum_name);
        para(
            o,
            &format!("{tool}, {}: {}", enum_name(&p.status), p.detail),
        );
    }
    match svg {
        // A sandboxed frame: the SVG keeps its own script (click to zoom,
        // search) and cannot reach this page. Its src is set once the page
        // has laid out: a flamegraph sizes itself to its frame when it
        // loads, and a frame loaded before layout is 0 pixels wide.
        Some(bytes) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(with_shim(bytes));
            let height = svg_height(bytes).unwrap_or(640).clamp(200, 6000) + 4;
            let _ = writeln!(
                o,
                "<figure class=\"chart\" data-chart=\"flamegraph\"><iframe class=\"flamegraph\" sandbox=\"allow-scripts allow-modals\" title=\"flamegraph\" style=\"height:{height}px\" data-src=\"data:image/svg+xml;base64,{b64}\"></iframe>\n\
<figcaption>The target's CPU time by stack: click a frame to zoom, Search (top right) to highlight functions by name.{}</figcaption></figure>\n\
<script>window.addEventListener('load', function () {{ document.querySelectorAll('iframe[data-src]').forEach(function (f) {{ f.src = f.dataset.src; }}); }});</script>",
                r.artifacts
                    .flamegraph_svg
                    .as_ref()
                    .map_or(String::new(), |f| format!(" Also in {}.", html(f)))
            );
        }
        None => para(o, "No flamegraph was captured in this run."),
    }
}

/// The height a flamegraph SVG asks for, from its root element.
fn svg_height(svg: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(&svg[..svg.len().min(4096)]).ok()?;
    let root = &text[text.find("<svg")?..];
    let root = &root[..root.find('>')?];
    let at = root.find(" height=\"")? + " height=\"".len();
    let value = &root[at..];
    value[..value.find('"')?]
        .trim_end_matches("px")
        .parse::<f64>()
        .ok()
        .map(|v| v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flamegraph_height_comes_from_its_root_element() {
        let svg = br#"<?xml version="1.0"?><svg version="1.1" width="1200" height="2070" onload="init(evt)"><rect height="5"/></svg>"#;
        assert_eq!(svg_height(svg), Some(2070));
        assert_eq!(svg_height(b"<svg width=\"10\">"), None);
        assert_eq!(svg_height(b"not svg"), None);
    }

    #[test]
    fn the_shim_runs_first_inside_the_root_element() {
        let svg = br#"<?xml version="1.0"?><!DOCTYPE svg><svg width="1" onload="init(evt)"><script>init</script></svg>"#;
        let out = String::from_utf8(with_shim(svg)).unwrap();
        let root_end = out.find("onload=\"init(evt)\">").unwrap() + "onload=\"init(evt)\">".len();
        assert!(out[root_end..].starts_with(SHIM), "{out}");
        assert!(out.ends_with("<script>init</script></svg>"));
        assert_eq!(with_shim(b"no svg here"), b"no svg here");
    }
}
