//! The harness talks to the mock providers over HTTP; what it shares with
//! them (the seeded generator, the presets' prices) comes from
//! `genbench-presets`, never from inside `genbench_mock`.

use std::path::Path;

/// Every `.rs` file under `dir`.
pub(super) fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_harness_takes_the_generator_and_prices_from_presets() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "{} files", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for forbidden in ["genbench_mock::rng", "genbench_mock::presets"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                f.display()
            );
        }
    }
}

/// The workspace's member crates, by folder.
pub(super) const MEMBERS: [&str; 9] = [
    "traffic",
    "model",
    "scenarios",
    "collectors",
    "reports",
    "presets",
    "mock-providers",
    "pipeline",
    "harness",
];

pub(super) fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace crates a `Cargo.toml`'s `[dependencies]` names.
fn genbench_deps(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
        } else if inside
            && let Some(name) = line.split([' ', '=', '.']).next()
            && let Some(c) = name.strip_prefix("genbench-")
        {
            deps.push(c.to_string());
        }
    }
    deps.sort();
    deps
}

/// docs/design.md's table of folders says which workspace crates each may
/// depend on; every `Cargo.toml` keeps to it (the harness, which may use
/// them all, aside).
#[test]
fn each_crate_depends_only_on_what_the_design_allows() {
    let design = std::fs::read_to_string(workspace().join("docs/design.md")).unwrap();
    let crate_name = |folder: &str| match folder {
        "mock-providers" => "mock".to_string(),
        f => f.to_string(),
    };
    let mut checked = 0;
    for row in design.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let folder = cells[1].trim_matches('`').trim_end_matches('/');
        let Some(allowed) = cells.get(3) else {
            continue;
        };
        let manifest = workspace().join(folder).join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let allowed: Vec<String> = allowed
            .split(',')
            .map(|a| crate_name(a.trim().trim_matches('`')))
            .collect();
        if allowed.iter().any(|a| a.starts_with("all")) {
            continue;
        }
        for dep in genbench_deps(&text) {
            assert!(
                allowed.contains(&dep),
                "{folder} depends on genbench-{dep}; docs/design.md allows {allowed:?}"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "{checked} crates checked: is the table still there?"
    );
}

/// A source file's module path within its crate (`engine::sender`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The modules of its crate that `text` (a file's code before its tests)
/// names through `crate::` and `super::` paths.
fn imports(
    module: &[String],
    is_mod_rs: bool,
    text: &str,
    known: &[Vec<String>],
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let parent = || {
        let mut p = module.to_vec();
        if !is_mod_rs || !p.is_empty() {
            p.pop();
        }
        p
    };
    for (at, _) in text
        .match_indices("crate::")
        .chain(text.match_indices("super::"))
    {
        let prev = text[..at].chars().last();
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = text[at..]
            .chars()
            .take_while(|c| {
                c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{' || *c == ',' || *c == ' '
            })
            .collect();
        let mut segs: Vec<&str> = path.split("::").map(str::trim).collect();
        let mut base = if segs[0] == "crate" {
            Vec::new()
        } else {
            parent()
        };
        segs.remove(0);
        while segs.first() == Some(&"super") {
            base.pop();
            segs.remove(0);
        }
        // `use crate::{a, b::C}`: each item is a path of its own.
        let mut heads: Vec<Vec<String>> = Vec::new();
        let plain: Vec<String> = segs
            .iter()
            .take_while(|s| !s.starts_with('{'))
            .map(|s| s.to_string())
            .collect();
        heads.push(plain.clone());
        if let Some(group) = segs.iter().find(|s| s.starts_with('{')) {
            for item in group.trim_start_matches('{').split(',') {
                let first = item.trim().split("::").next().unwrap_or("").to_string();
                if !first.is_empty() && first != "self" {
                    let mut h = plain.clone();
                    h.push(first);
                    heads.push(h);
                }
            }
        }
        for h in heads {
            let mut full = base.clone();
            full.extend(h);
            while !full.is_empty() {
                if known.contains(&full) && full.as_slice() != module {
                    out.push(full.clone());
                    break;
                }
                full.pop();
            }
        }
    }
    out
}

/// No two files of a crate import each other, directly or round a circle:
/// a helper two files share lives in a file of its own. (Tests are left
/// out: `use super::*` is how a test module reads its file.)
#[test]
fn no_file_imports_a_file_that_imports_it() {
    let mut circles = Vec::new();
    for member in MEMBERS {
        let src = workspace().join(member).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let modules: Vec<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let edges: Vec<Vec<usize>> = files
            .iter()
            .zip(&modules)
            .map(|(f, m)| {
                let text = std::fs::read_to_string(f).unwrap();
                let code: String = text
                    .split("#[cfg(test)]")
                    .next()
                    .unwrap_or("")
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let is_mod = f.file_stem().is_some_and(|s| s == "mod" || s == "lib");
                let mut to: Vec<usize> = imports(m, is_mod, &code, &modules)
                    .iter()
                    .filter_map(|t| modules.iter().position(|x| x == t))
                    .collect();
                to.sort();
                to.dedup();
                to
            })
            .collect();
        // A file in a circle reaches itself.
        for start in 0..files.len() {
            let mut seen = vec![false; files.len()];
            let mut stack = edges[start].clone();
            while let Some(n) = stack.pop() {
                if n == start {
                    circles.push(format!("{member}: {}", modules[start].join("::")));
                    break;
                }
                if !std::mem::replace(&mut seen[n], true) {
                    stack.extend(&edges[n]);
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files in an import circle: {circles:#?}"
    );
}
