//! zstd in pure Rust (ruzstd): a writer for `--records FILE.zst` and a
//! reader for `.zst` traces, with no C library to build.
//!
//! The writer emits one frame per [`FRAME_BYTES`] of input. zstd files may
//! hold any number of frames one after another (RFC 8878, section 3.1), and
//! `zstd -d`, `zstdcat` and every library decode them as one stream; the
//! reader here does too. Frames also bound what a killed run can lose: every
//! finished frame is on disk whole.

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};
use ruzstd::encoding::{CompressionLevel, FrameCompressor, MatchGeneratorDriver};

/// Input bytes a frame holds before it is compressed and written.
pub const FRAME_BYTES: usize = 1 << 20;

type Compressor = FrameCompressor<Cursor<Vec<u8>>, Vec<u8>, MatchGeneratorDriver>;

/// Compresses what is written to it into zstd frames on `inner`. Call
/// [`Encoder::finish`] to write the last frame; dropping it without does the
/// same and ignores a write error.
pub struct Encoder<W: Write> {
    inner: Option<W>,
    pending: Vec<u8>,
    compressor: Compressor,
    frames: u64,
}

impl<W: Write> Encoder<W> {
    /// ruzstd's fastest level, the one comparable to zstd's level 1.
    pub fn new(inner: W) -> Encoder<W> {
        Encoder {
            inner: Some(inner),
            pending: Vec::with_capacity(FRAME_BYTES),
            compressor: FrameCompressor::new(CompressionLevel::Fastest),
            frames: 0,
        }
    }

    fn write_frame(&mut self) -> io::Result<()> {
        let input = std::mem::take(&mut self.pending);
        self.compressor.set_source(Cursor::new(input));
        self.compressor
            .set_drain(Vec::with_capacity(FRAME_BYTES / 4));
        // ruzstd panics on a failed read or write; a Vec never fails, so
        // the file's own errors come back from `write_all` below instead.
        self.compressor.compress();
        let frame = self.compressor.take_drain().unwrap_or_default();
        let mut input = self
            .compressor
            .take_source()
            .unwrap_or_default()
            .into_inner();
        input.clear();
        self.pending = input;
        self.frames += 1;
        match self.inner.as_mut() {
            Some(w) => w.write_all(&frame),
            None => Ok(()),
        }
    }

    /// Writes the last frame (an empty one if nothing was written, so the
    /// file is always a valid zstd stream) and flushes: the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() || self.frames == 0 {
            self.write_frame()?;
        }
        let mut inner = self.inner.take().expect("finish runs once");
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = FRAME_BYTES - self.pending.len();
        let n = buf.len().min(room);
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= FRAME_BYTES {
            self.write_frame()?;
        }
        Ok(n)
    }

    /// Flushes the inner writer only: a frame is cut at [`FRAME_BYTES`] or
    /// at [`Encoder::finish`], not on every flush, so the ratio holds.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.as_mut().map_or(Ok(()), |w| w.flush())
    }
}

impl<W: Write> Drop for Encoder<W> {
    fn drop(&mut self) {
        if self.inner.is_some() && (!self.pending.is_empty() || self.frames == 0) {
            // Drop cannot report: `finish` is the call that does.
            let _ = self.write_frame().and_then(|()| self.flush());
        }
    }
}

/// Reads a zstd stream of one or more frames as its decompressed bytes.
pub struct Decoder<R: Read> {
    state: DecoderState<R>,
}

enum DecoderState<R: Read> {
    // Boxed: a frame decoder is some 800 bytes, the other states a few.
    InFrame(Box<StreamingDecoder<BufReader<R>, FrameDecoder>>),
    Between(BufReader<R>),
    Done,
}

impl<R: Read> Decoder<R> {
    /// Reads the first frame's header: an error if `inner` is not zstd.
    pub fn new(inner: R) -> io::Result<Decoder<R>> {
        let frame = StreamingDecoder::new(BufReader::new(inner)).map_err(io::Error::other)?;
        Ok(Decoder {
            state: DecoderState::InFrame(Box::new(frame)),
        })
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, DecoderState::Done) {
                DecoderState::Done => return Ok(0),
                DecoderState::InFrame(mut frame) => {
                    let n = frame.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = DecoderState::InFrame(frame);
                        return Ok(n);
                    }
                    self.state = DecoderState::Between((*frame).into_inner());
                }
                DecoderState::Between(mut source) => {
                    if source.fill_buf()?.is_empty() {
                        return Ok(0);
                    }
                    let frame = StreamingDecoder::new(source).map_err(io::Error::other)?;
                    self.state = DecoderState::InFrame(Box::new(frame));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8], pieces: usize) -> Vec<u8> {
        let mut enc = Encoder::new(Vec::new());
        for chunk in data.chunks(data.len().div_ceil(pieces.max(1)).max(1)) {
            enc.write_all(chunk).unwrap();
        }
        let file = enc.finish().unwrap();
        let mut out = Vec::new();
        Decoder::new(&file[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"t_ms\":{i},\"status\":200,\"latency_ms\":{}}}\n",
                    i % 97
                )
            })
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn many_frames_read_back_as_one_stream() {
        let data = lines(100_000); // about 4 MB: several frames
        assert!(data.len() > 3 * FRAME_BYTES);
        assert_eq!(roundtrip(&data, 997), data);
    }

    #[test]
    fn compresses_records_like_data() {
        let data = lines(50_000);
        let mut enc = Encoder::new(Vec::new());
        enc.write_all(&data).unwrap();
        let file = enc.finish().unwrap();
        assert!(
            file.len() * 4 < data.len(),
            "{} of {}",
            file.len(),
            data.len()
        );
    }

    #[test]
    fn reads_what_the_zstd_tool_wrote() {
        // `zstd -19 a; zstd -1 b; cat a.zst b.zst`: two frames, two levels.
        let file = include_bytes!("../tests/data/two-frames.jsonl.zst");
        let mut out = String::new();
        Decoder::new(&file[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(
            out,
            "{\"t\":0,\"method\":\"GET\",\"path\":\"/a\"}\n{\"t\":1,\"method\":\"GET\",\"path\":\"/b\"}\n"
        );
    }

    #[test]
    fn nothing_written_is_still_a_valid_stream() {
        assert_eq!(roundtrip(b"", 1), b"");
    }

    #[test]
    fn dropping_writes_the_last_frame() {
        let mut file = Vec::new();
        {
            let mut enc = Encoder::new(&mut file);
            enc.write_all(b"one line\n").unwrap();
        }
        let mut out = String::new();
        Decoder::new(&file[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "one line\n");
    }

    #[test]
    fn not_zstd_is_an_error_not_a_panic() {
        assert!(Decoder::new(&b"plain text, not zstd"[..]).is_err());
        let mut truncated = Encoder::new(Vec::new());
        truncated.write_all(&lines(1000)).unwrap();
        let file = truncated.finish().unwrap();
        let mut out = Vec::new();
        let r = Decoder::new(&file[..file.len() / 2]).and_then(|mut d| d.read_to_end(&mut out));
        assert!(r.is_err());
    }
}
