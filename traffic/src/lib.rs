//! Request traces: the formats `[load] model = "replay"` reads (genbench's
//! own `--records`, JSON lines, CSV, nginx/Apache access logs and LLM
//! traces in the mooncake style), read one row at a time from plain, gzip or
//! zstd files so a trace of any length replays in flat memory; the scan
//! that checks a trace before load starts; and the rows `genbench record`
//! writes, with credentials left out.
//!
//! Pure reading and formatting: no clock, no network, no engine. Depends on
//! no other genbench crate.

pub mod credentials;
mod format;
mod lines;
mod read;
mod row;
pub mod scan;
pub mod timefmt;
pub mod timing;
pub mod write;
pub mod zstd;

pub use format::{Format, Layout, TimeUnit};
pub use read::{Rows, open_rows};
pub use row::{LlmRow, Row, RowRequest, TraceError};
