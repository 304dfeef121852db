//! `--records`: one JSON line per request, plain, gzip or zstd by the
//! file's name, with the target's request id; written whole by the time
//! the run exits.

use std::io::Read;
use std::path::Path;

use crate::support::{out_dir, results, run_ok, schema_errors};
use serde_json::Value;

fn lines(path: &Path) -> Vec<Value> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_string(&mut text)
                .unwrap();
        }
        // The reference decoder, not genbench's own: the file must be what
        // `zstd -d` reads (.ci/test installs Debian's zstd).
        Some("zst") => {
            let out = std::process::Command::new("zstd")
                .args(["-d", "-c"])
                .arg(path)
                .output()
                .expect("zstd (Debian package zstd) runs");
            assert!(
                out.status.success(),
                "zstd -d: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            text = String::from_utf8(out.stdout).unwrap();
        }
        _ => text = String::from_utf8(raw).unwrap(),
    }
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_request_is_one_record_in_each_format() {
    let run = |name: &'static str| {
        std::thread::spawn(move || {
            let dir = out_dir(&format!("records-{name}"));
            let file = dir.join(name);
            run_ok(
                &[
                    "run",
                    "baseline",
                    "--duration",
                    "3s",
                    "--rate",
                    "10",
                    "--mock-time-scale",
                    "0",
                    "--profile",
                    "off",
                    "--records",
                    file.to_str().unwrap(),
                ],
                &dir,
            );
            (results(&dir), lines(&file), file)
        })
    };
    let runs: Vec<_> = ["records.jsonl", "records.jsonl.gz", "records.jsonl.zst"]
        .into_iter()
        .map(run)
        .collect();
    for r in runs {
        let (v, records, file) = r.join().unwrap();
        assert_eq!(schema_errors(&v), Vec::<String>::new());
        assert_eq!(v["artifacts"]["records"], file.display().to_string());
        assert_eq!(
            records.len() as u64,
            v["requests"]["total"].as_u64().unwrap()
        );
        let mut ids = std::collections::BTreeSet::new();
        for rec in &records {
            assert_eq!(rec["status"], 200, "{rec}");
            assert!(rec["end_s"].as_f64() >= rec["sent_s"].as_f64(), "{rec}");
            assert!(
                ["hit", "miss"].contains(&rec["cache"].as_str().unwrap()),
                "{rec}"
            );
            assert!(rec["stages"]["total"].as_f64().is_some(), "{rec}");
            ids.insert(rec["request_id"].as_str().unwrap().to_string());
        }
        // The pipeline's own ids, one per answer.
        assert_eq!(ids.len(), records.len());
        assert!(ids.iter().all(|i| i.starts_with("art-")));
    }
}
