//! A full disk under `--out` (a small tmpfs, mounted in a mount namespace
//! of the test's own): a clear error naming the file, exit 3, every file
//! that was written whole, none half-written, and the measurements saved
//! elsewhere when results.json itself does not fit.

use std::path::Path;
use std::process::Command;

use crate::support::{out_dir, schema_errors};

/// `genbench run baseline` for 2 s with its output on a tmpfs of `size`:
/// exit code and stderr. `tmp` is the run's temporary directory.
fn run_on_tmpfs(size: &str, mnt: &Path, tmp: &Path) -> (Option<i32>, String) {
    std::fs::create_dir_all(mnt).unwrap();
    std::fs::create_dir_all(tmp).unwrap();
    let script = format!(
        "mount -t tmpfs -o size={size} tmpfs {mnt} && {exe} run baseline --duration 2s \
         --mock-time-scale 0 --profile off --out {mnt}/out; code=$?; \
         cp -a {mnt}/out {mnt}.seen 2>/dev/null; exit $code",
        mnt = mnt.display(),
        exe = env!("CARGO_BIN_EXE_genbench"),
    );
    let o = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .env("TMPDIR", tmp)
        .output()
        .expect("unshare (util-linux) runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// What the run left, as it was on the full disk (copied out before the
/// namespace went): every file whole, no temporary file.
fn files_are_whole(seen: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(seen).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "a half-written {name} was left");
        let text = std::fs::read_to_string(e.path()).unwrap();
        match name.as_str() {
            "results.json" => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(schema_errors(&v), Vec::<String>::new());
            }
            "report.html" => assert!(text.trim_end().ends_with("</html>"), "report cut"),
            _ => {}
        }
        names.push(name);
    }
    names
}

#[test]
fn a_full_disk_names_the_file_and_leaves_only_whole_ones() {
    let root = out_dir("full-disk");
    // Room for results.json, not for the report as well.
    let (code, err) = run_on_tmpfs("120k", &root.join("roomy"), &root.join("tmp-roomy"));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("results.json is whole"), "{err}");
    assert!(err.contains("genbench report"), "{err}");
    let names = files_are_whole(&root.join("roomy.seen"));
    assert!(names.contains(&"results.json".to_string()), "{names:?}");
    // No room for results.json: saved in the temporary directory instead.
    let tmp = root.join("tmp-tight");
    let (code, err) = run_on_tmpfs("8k", &root.join("tight"), &tmp);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("out/results.json: No space left on device"),
        "{err}"
    );
    assert!(err.contains("saved to"), "{err}");
    let names = files_are_whole(&root.join("tight.seen"));
    assert!(!names.contains(&"results.json".to_string()), "{names:?}");
    let saved: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("genbench-results-")
        })
        .collect();
    assert_eq!(saved.len(), 1, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved[0].path()).unwrap()).unwrap();
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert!(v["requests"]["total"].as_u64().unwrap() > 0);
}
