//! Profilers that attach to a target process from outside: py-spy for
//! Python services, perf (folded and drawn with inferno) for native ones.
//! Each runs for a fixed window and returns a flamegraph SVG or says why it
//! could not; none of them can fail a run. Blocking: call from a thread.
//! (The embedded pipeline profiles itself over HTTP; the harness fetches it.)

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a profiler produced no flamegraph: a sentence for the results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProfileError(pub String);

fn err(m: impl Into<String>) -> ProfileError {
    ProfileError(m.into())
}

/// The path of `program` on `PATH`, if it is there.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Whether `pid` runs a Python interpreter (its executable's name starts
/// with `python`), so py-spy is the profiler to use.
pub fn is_python(pid: u32) -> bool {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let name = exe
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    name.starts_with("python")
}

/// Runs `cmd` to completion within `limit`, killing it past that; returns
/// its stdout, or what it said on stderr when it failed.
fn run(mut cmd: Command, limit: Duration) -> Result<Vec<u8>, ProfileError> {
    let name = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot start {name}: {e}")))?;
    let mut out = child.stdout.take().expect("piped");
    let mut errs = child.stderr.take().expect("piped");
    // Read both pipes on their own threads so a chatty child cannot block.
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = String::new();
        let _ = errs.read_to_string(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err(format!(
                    "{name} did not finish within {} s",
                    limit.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(err(format!("{name}: {e}"))),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(err(format!("{name} failed ({status}): {}", last.trim())));
    }
    Ok(stdout)
}

/// py-spy on `PATH`, else beside the interpreter the target was started
/// with (a virtualenv's `bin/`, where `pip install py-spy` puts it).
pub fn find_py_spy(pid: u32) -> Option<std::path::PathBuf> {
    which("py-spy").or_else(|| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let argv0 = cmdline.split(|b| *b == 0).next()?;
        let argv0 = Path::new(std::str::from_utf8(argv0).ok()?);
        let candidate = argv0.parent()?.join("py-spy");
        (argv0.is_absolute() && candidate.is_file()).then_some(candidate)
    })
}

/// `py-spy record --pid P --duration N --format flamegraph`.
pub fn py_spy(pid: u32, seconds: u64, out: &Path) -> Result<Vec<u8>, ProfileError> {
    let exe =
        find_py_spy(pid).ok_or_else(|| err("py-spy is not installed (pip install py-spy)"))?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "record",
        "--pid",
        &pid.to_string(),
        "--duration",
        &seconds.to_string(),
    ])
    .args(["--format", "flamegraph", "--nonblocking", "--output"])
    .arg(out);
    run(cmd, Duration::from_secs(seconds + 30))?;
    let svg = std::fs::read(out).map_err(|e| err(format!("py-spy wrote no flamegraph: {e}")))?;
    check_svg(svg, "py-spy")
}

/// `perf record -g` for `seconds`, folded and drawn with inferno.
pub fn perf(pid: u32, seconds: u64, scratch: &Path) -> Result<Vec<u8>, ProfileError> {
    let exe = which("perf").ok_or_else(|| err("perf is not installed (Debian: linux-perf)"))?;
    let data = scratch.join("perf.data");
    let mut rec = Command::new(&exe);
    // cpu-clock: a software event, so it works in VMs without a PMU.
    rec.args([
        "record",
        "-e",
        "cpu-clock",
        "-F",
        "99",
        "-g",
        "-p",
        &pid.to_string(),
        "-o",
    ])
    .arg(&data)
    .args(["--", "sleep", &seconds.to_string()]);
    run(rec, Duration::from_secs(seconds + 30))?;
    let mut script = Command::new(&exe);
    script.args(["script", "-i"]).arg(&data);
    let text = run(script, Duration::from_secs(120));
    let _ = std::fs::remove_file(&data);
    fold_and_draw(&text?, &format!("perf, pid {pid}"))
}

/// `perf script` output to a flamegraph SVG.
pub fn fold_and_draw(perf_script: &[u8], title: &str) -> Result<Vec<u8>, ProfileError> {
    use inferno::collapse::Collapse as _;
    let mut folded = Vec::new();
    inferno::collapse::perf::Folder::from(inferno::collapse::perf::Options::default())
        .collapse(perf_script, &mut folded)
        .map_err(|e| err(format!("cannot fold perf samples: {e}")))?;
    if folded.is_empty() {
        return Err(err(
            "perf recorded no samples (was the target idle, or perf not permitted?)",
        ));
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_string();
    let mut svg = Vec::new();
    inferno::flamegraph::from_reader(&mut opts, folded.as_slice(), &mut svg)
        .map_err(|e| err(format!("cannot draw the flamegraph: {e}")))?;
    check_svg(svg, "inferno")
}

/// A flamegraph is an SVG document; anything else is an error page.
pub fn check_svg(svg: Vec<u8>, from: &str) -> Result<Vec<u8>, ProfileError> {
    let head = &svg[..svg.len().min(512)];
    if head.windows(4).any(|w| w == b"<svg") {
        Ok(svg)
    } else {
        Err(err(format!(
            "{from} returned something that is not an SVG flamegraph"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "genbench 1234 1000.000001: 10101010 cycles:\n\
\t    5581 compute (/usr/bin/app)\n\
\t    1111 main (/usr/bin/app)\n\
\n\
genbench 1234 1000.000002: 10101010 cycles:\n\
\t    5582 parse (/usr/bin/app)\n\
\t    1111 main (/usr/bin/app)\n\n";

    #[test]
    fn perf_samples_fold_into_a_flamegraph() {
        let svg = fold_and_draw(SCRIPT.as_bytes(), "test").unwrap();
        let s = String::from_utf8(svg).unwrap();
        assert!(s.contains("<svg") && s.contains("compute") && s.contains("parse"));
    }

    #[test]
    fn no_samples_and_missing_tools_are_errors_not_panics() {
        assert!(
            fold_and_draw(b"", "t")
                .unwrap_err()
                .0
                .contains("no samples")
        );
        assert!(check_svg(b"<html>502</html>".to_vec(), "x").is_err());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo boom >&2; exit 3"]);
        let e = run(cmd, Duration::from_secs(5)).unwrap_err();
        assert!(e.0.contains("boom"), "{e}");
        let mut slow = Command::new("sleep");
        slow.arg("10");
        let e = run(slow, Duration::from_millis(200)).unwrap_err();
        assert!(e.0.contains("did not finish"), "{e}");
    }

    #[test]
    fn this_test_process_is_not_python() {
        assert!(!is_python(std::process::id()));
    }
}
