//! Reading a trace one row at a time: plain, `.gz` or `.zst`, so memory
//! stays flat whatever the trace's length.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::format::{Columns, Format, Layout};
use crate::row::{Row, TraceError};

/// A trace file opened for reading, decompressed by its extension.
fn open(path: &Path) -> Result<Box<dyn Read + Send>, TraceError> {
    let err = |source| TraceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let f = File::open(path).map_err(err)?;
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else if name.ends_with(".zst") {
        Box::new(crate::zstd::Decoder::new(f).map_err(err)?)
    } else {
        Box::new(f)
    })
}

/// A trace's rows in file order, each checked; blank lines and (in line
/// formats) lines starting with `#` are skipped.
pub struct Rows {
    path: PathBuf,
    layout: Layout,
    source: Source,
}

enum Source {
    Lines {
        reader: BufReader<Box<dyn Read + Send>>,
        buf: String,
        line: u64,
    },
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        header: Vec<String>,
        record: csv::StringRecord,
    },
}

/// Opens `path` to read its rows as `layout` says.
pub fn open_rows(path: &Path, layout: &Layout) -> Result<Rows, TraceError> {
    let read = open(path)?;
    let source = match layout.format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(read);
            let header = reader
                .headers()
                .map_err(|e| TraceError::Row {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!("cannot read the CSV header row: {e}"),
                })?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            Source::Csv {
                reader,
                header,
                record: csv::StringRecord::new(),
            }
        }
        _ => Source::Lines {
            reader: BufReader::with_capacity(256 << 10, read),
            buf: String::new(),
            line: 0,
        },
    };
    Ok(Rows {
        path: path.to_path_buf(),
        layout: layout.clone(),
        source,
    })
}

impl Rows {
    fn row_error(&self, line: u64, message: String) -> TraceError {
        TraceError::Row {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn next_line(&mut self) -> Option<Result<Row, TraceError>> {
        let Source::Lines { reader, buf, line } = &mut self.source else {
            return None;
        };
        loop {
            buf.clear();
            *line += 1;
            let n = match reader.read_line(buf) {
                Ok(n) => n,
                Err(e) => {
                    let (l, m) = (*line, format!("cannot read this line: {e}"));
                    return Some(Err(self.row_error(l, m)));
                }
            };
            if n == 0 {
                return None;
            }
            let text = buf.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let l = *line;
            return Some(match crate::lines::parse(&self.layout, text) {
                Ok((at_s, request)) => Ok(Row {
                    line: l,
                    at_s,
                    request,
                }),
                Err(m) => Err(self.row_error(l, m)),
            });
        }
    }

    fn next_csv(&mut self) -> Option<Result<Row, TraceError>> {
        let Source::Csv {
            reader,
            header,
            record,
        } = &mut self.source
        else {
            return None;
        };
        let read = reader.read_record(record);
        let line = record.position().map_or(0, |p| p.line());
        match read {
            Ok(false) => None,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                Some(Err(self.row_error(line, format!("not a CSV row: {e}"))))
            }
            Ok(true) => {
                let mut cols = Columns::default();
                let filled = header
                    .iter()
                    .zip(record.iter())
                    .try_for_each(|(k, v)| cols.text(&self.layout, k, v))
                    .and_then(|()| cols.finish(&self.layout));
                Some(match filled {
                    Ok((at_s, request)) => Ok(Row {
                        line,
                        at_s,
                        request,
                    }),
                    Err(m) => Err(self.row_error(line, m)),
                })
            }
        }
    }
}

impl Iterator for Rows {
    type Item = Result<Row, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.source {
            Source::Lines { .. } => self.next_line(),
            Source::Csv { .. } => self.next_csv(),
        }
    }
}
