//! The pass over a trace before load starts: every row checked (a bad row
//! stops the run before it sends anything, with its line), time order
//! checked or the rows sorted, and the window's rows counted per second of
//! trace time, which gives the run its length and its rate to aim at.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::format::Layout;
use crate::read::open_rows;
use crate::row::{Row, TraceError};

/// The part of a trace to replay, on its own clock from its first row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start_s: f64,
    /// `None`: to the trace's end.
    pub duration_s: Option<f64>,
}

impl Window {
    pub const ALL: Window = Window {
        start_s: 0.0,
        duration_s: None,
    };

    /// Whether `offset_s` (from the trace's first row) is inside.
    pub fn holds(&self, offset_s: f64) -> bool {
        offset_s >= self.start_s && self.duration_s.is_none_or(|d| offset_s < self.start_s + d)
    }
}

/// Where a replay's rows come from: the file, read again on each pass, or
/// the rows sorted in memory.
#[derive(Debug, Clone)]
pub enum Source {
    File { path: PathBuf, layout: Layout },
    Sorted(Arc<Vec<Row>>),
}

impl Source {
    /// The rows in time order.
    pub fn rows(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<Row, TraceError>> + Send>, TraceError> {
        Ok(match self {
            Source::File { path, layout } => Box::new(open_rows(path, layout)?),
            Source::Sorted(rows) => {
                let rows = rows.clone();
                Box::new((0..rows.len()).map(move |i| Ok(rows[i].clone())))
            }
        })
    }
}

/// Most buckets [`Counts`] keeps: past this, buckets widen.
const MAX_BUCKETS: usize = 4096;

/// Rows per bucket of trace time, from the window's start. Buckets start a
/// second wide and double (merging pairs) whenever there would be more than
/// [`MAX_BUCKETS`], so a trace of any span is counted in bounded memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub width_s: f64,
    pub buckets: Vec<u64>,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            width_s: 1.0,
            buckets: Vec::new(),
        }
    }
}

impl Counts {
    fn add(&mut self, offset_s: f64) {
        let mut i = (offset_s / self.width_s) as usize;
        while i >= MAX_BUCKETS {
            self.buckets = self.buckets.chunks(2).map(|p| p.iter().sum()).collect();
            self.width_s *= 2.0;
            i = (offset_s / self.width_s) as usize;
        }
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
    }
}

/// What the scan found.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// Rows in the file.
    pub rows: u64,
    /// Rows in the window (one pass).
    pub window_rows: u64,
    /// The trace's first time on its own clock.
    pub first_s: f64,
    /// Seconds from the window's start to its last row.
    pub window_span_s: f64,
    pub counts: Counts,
    pub credentials_dropped: u64,
    /// Where a replay reads its rows.
    pub source: Source,
}

/// Counts a window's rows as they come in time order.
struct WindowCounter {
    window: Window,
    first_s: Option<f64>,
    n: u64,
    last: f64,
    counts: Counts,
}

impl WindowCounter {
    fn new(window: Window) -> Self {
        WindowCounter {
            window,
            first_s: None,
            n: 0,
            last: 0.0,
            counts: Counts::default(),
        }
    }

    fn add(&mut self, at_s: f64) {
        let offset = at_s - *self.first_s.get_or_insert(at_s);
        if self.window.holds(offset) {
            let w = offset - self.window.start_s;
            self.counts.add(w);
            self.last = w;
            self.n += 1;
        }
    }

    fn finish(self, rows: u64, credentials_dropped: u64, source: Source) -> Scanned {
        Scanned {
            rows,
            window_rows: self.n,
            first_s: self.first_s.unwrap_or(0.0),
            window_span_s: self.last,
            counts: self.counts,
            credentials_dropped,
            source,
        }
    }
}

/// Checks every row of `path` (with `check`, the scenario's own rules), in
/// time order unless `sort`, and counts the window's. `progress` is called
/// with the rows read so far, every million.
pub fn scan(
    path: &Path,
    layout: &Layout,
    window: Window,
    sort: bool,
    check: &mut dyn FnMut(&Row) -> Result<(), String>,
    progress: &mut dyn FnMut(u64),
) -> Result<Scanned, TraceError> {
    let (mut rows, mut dropped) = (0u64, 0u64);
    let mut previous: Option<f64> = None;
    let mut sorted = Vec::new();
    let mut counter = WindowCounter::new(window);
    for row in open_rows(path, layout)? {
        let row = row?;
        check(&row).map_err(|message| TraceError::Row {
            path: path.to_path_buf(),
            line: row.line,
            message,
        })?;
        rows += 1;
        dropped += u64::from(row.request.credentials_dropped);
        if rows.is_multiple_of(1_000_000) {
            progress(rows);
        }
        if sort {
            sorted.push(row);
            continue;
        }
        if let Some(p) = previous
            && row.at_s < p
        {
            return Err(TraceError::Disorder {
                path: path.to_path_buf(),
                line: row.line,
                at_s: row.at_s,
                previous_s: p,
            });
        }
        previous = Some(row.at_s);
        counter.add(row.at_s);
    }
    let source = if sort {
        sorted.sort_by(|a, b| a.at_s.total_cmp(&b.at_s).then(a.line.cmp(&b.line)));
        for row in &sorted {
            counter.add(row.at_s);
        }
        Source::Sorted(Arc::new(sorted))
    } else {
        Source::File {
            path: path.to_path_buf(),
            layout: layout.clone(),
        }
    };
    let s = counter.finish(rows, dropped, source);
    if s.window_rows == 0 {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
            message: match rows {
                0 => "the trace has no rows".to_string(),
                n => format!(
                    "none of its {n} rows is inside the window (start {} s, duration {}); widen [load.replay] start/duration",
                    window.start_s,
                    window
                        .duration_s
                        .map_or("to the end".into(), |d| format!("{d} s"))
                ),
            },
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::format::Format;

    fn file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("genbench-traffic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        if name.ends_with(".gz") {
            let mut gz = flate2::write::GzEncoder::new(
                std::fs::File::create(&p).unwrap(),
                flate2::Compression::fast(),
            );
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap();
        } else {
            std::fs::write(&p, text).unwrap();
        }
        p
    }

    fn run(p: &Path, f: Format, w: Window, sort: bool) -> Result<Scanned, TraceError> {
        scan(
            p,
            &Layout::new(f, None, None),
            w,
            sort,
            &mut |_| Ok(()),
            &mut |_| {},
        )
    }

    #[test]
    fn csv_rows_count_into_seconds_and_bad_rows_name_their_line() {
        let p = file(
            "a.csv",
            "timestamp,topic,path\n0.0,a,/x\n0.5,\"b, c\",/y\n2.2,d,/z\n",
        );
        let s = run(&p, Format::Csv, Window::ALL, false).unwrap();
        assert_eq!((s.rows, s.window_rows), (3, 3));
        assert_eq!(s.counts.buckets, vec![2, 0, 1]);
        let rows: Vec<Row> = s.source.rows().unwrap().map(Result::unwrap).collect();
        assert_eq!(rows[1].request.var("topic"), Some("b, c"));
        assert_eq!(rows[2].line, 4);
        let bad = file("b.csv", "timestamp,path\n1,/a\n2,b\n");
        let e = run(&bad, Format::Csv, Window::ALL, false)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("b.csv:3: `path` is `b`: a request target starts with `/` (the part of the URL after the host)"), "{e}");
    }

    #[test]
    fn out_of_order_is_refused_at_its_line_or_sorted() {
        let text = "{\"timestamp\":2}\n\n{\"timestamp\":1,\"k\":\"v\"}\n{\"timestamp\":3}\n";
        let p = file("c.jsonl.gz", text);
        let e = run(&p, Format::Jsonl, Window::ALL, false).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(e.to_string().contains("sort = true"), "{e}");
        let s = run(&p, Format::Jsonl, Window::ALL, true).unwrap();
        let times: Vec<f64> = s.source.rows().unwrap().map(|r| r.unwrap().at_s).collect();
        assert_eq!(times, [1.0, 2.0, 3.0]);
        assert_eq!(s.window_span_s, 2.0);
    }

    #[test]
    fn an_empty_window_and_a_failed_check_are_errors() {
        let p = file("d.jsonl", "{\"timestamp\":0}\n{\"timestamp\":1}\n");
        let w = Window {
            start_s: 5.0,
            duration_s: None,
        };
        let e = run(&p, Format::Jsonl, w, false).unwrap_err().to_string();
        assert!(e.contains("none of its 2 rows is inside the window"), "{e}");
        let e = scan(
            &p,
            &Layout::new(Format::Jsonl, None, None),
            Window::ALL,
            false,
            &mut |r| {
                if r.line == 2 {
                    Err("no topic".into())
                } else {
                    Ok(())
                }
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().ends_with("d.jsonl:2: no topic"), "{e}");
    }

    #[test]
    fn counts_widen_to_stay_bounded() {
        let mut c = Counts::default();
        for s in 0..10_000 {
            c.add(f64::from(s));
        }
        assert!(c.buckets.len() <= MAX_BUCKETS && c.width_s == 4.0);
        assert_eq!(c.buckets.iter().sum::<u64>(), 10_000);
    }
}
