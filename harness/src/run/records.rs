//! `--records FILE`: the writer thread. Workers hand over chunks of JSON
//! lines as they fill; this thread compresses them (by the file's name:
//! `.gz` gzip, `.zst` zstd, anything else plain) and writes them, so memory
//! stays flat however long the run. The file is complete when the last
//! worker has ended and the thread is joined.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokio::sync::mpsc;

/// How the records file is compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn of(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// The writer while it runs.
pub struct Records {
    pub path: PathBuf,
    thread: std::thread::JoinHandle<anyhow::Result<u64>>,
}

/// Opens `path` (creating its directory) and starts the writer; the
/// sender is for the run's `Sender::with_records`.
pub fn start(path: &Path) -> anyhow::Result<(Records, mpsc::UnboundedSender<String>)> {
    start_for(path, "--records")
}

/// As [`start`], with errors naming `flag` (the option that gave the path).
pub fn start_for(
    path: &Path,
    flag: &'static str,
) -> anyhow::Result<(Records, mpsc::UnboundedSender<String>)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{flag}: cannot create {}", dir.display()))?;
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("{flag}: cannot create {}", path.display()))?;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let shown = path.display().to_string();
    let how = Compression::of(path);
    let thread = std::thread::spawn(move || -> anyhow::Result<u64> {
        let buffered = std::io::BufWriter::with_capacity(256 << 10, file);
        let mut out: Box<dyn Write> = match how {
            Compression::None => Box::new(buffered),
            Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::fast(),
            )),
            // One frame a MiB of records: see genbench_traffic::zstd.
            Compression::Zstd => Box::new(genbench_traffic::zstd::Encoder::new(buffered)),
        };
        let mut lines = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            lines += chunk.bytes().filter(|b| *b == b'\n').count() as u64;
            out.write_all(chunk.as_bytes())
                .with_context(|| format!("{flag}: cannot write {shown}"))?;
        }
        out.flush()
            .with_context(|| format!("{flag}: cannot write {shown}"))?;
        // Dropping finishes the gzip or zstd frame.
        drop(out);
        Ok(lines)
    });
    Ok((
        Records {
            path: path.to_path_buf(),
            thread,
        },
        tx,
    ))
}

/// With `--records PATH`, starts the writer and hands the sender its end.
pub fn attach(
    path: &Option<PathBuf>,
    sender: crate::engine::sender::Sender,
) -> anyhow::Result<(crate::engine::sender::Sender, Option<Records>)> {
    match path {
        Some(path) => {
            let (r, tx) = start(path)?;
            Ok((sender.with_records(tx), Some(r)))
        }
        None => Ok((sender, None)),
    }
}

/// Waits for the writer: the file's path, or `None` (said on stderr) if it
/// could not be written whole.
pub async fn written(records: Option<Records>) -> Option<String> {
    let r = records?;
    let path = r.path.display().to_string();
    match r.finish().await {
        Ok(_) => Some(path),
        Err(e) => {
            eprintln!("warning: {e:#}");
            None
        }
    }
}

impl Records {
    /// Waits for the last chunk to be written: the records written. Every
    /// sender (the run's `Sender`, each worker's slots) must be gone.
    pub async fn finish(self) -> anyhow::Result<u64> {
        tokio::task::spawn_blocking(move || self.thread.join())
            .await
            .map_err(|e| anyhow::anyhow!("the records writer failed: {e}"))?
            .map_err(|_| anyhow::anyhow!("the records writer panicked"))?
    }
}
