//! Compressed input, recognized by its first bytes rather than by its name.
//!
//! [`Compression::detect`] looks at the magic number (gzip `1f 8b`, zstd `28 b5 2f fd`);
//! [`decoder`] wraps a buffered reader so that the bytes come out decompressed, streamed, with
//! several concatenated gzip members or zstd frames read as one stream.
//!
//! ```
//! use std::io::{BufRead, Write};
//! use syndup::input::decompress::{decoder, Compression};
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
//! gz.write_all(b"{\"text\":\"hello\"}\n")?;
//! let bytes = gz.finish()?;
//! assert_eq!(Compression::detect(&bytes), Compression::Gzip);
//! let (kind, mut reader) = decoder(&bytes[..])?;
//! let mut line = String::new();
//! reader.read_line(&mut line)?;
//! assert_eq!((kind, line.as_str()), (Compression::Gzip, "{\"text\":\"hello\"}\n"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{BufRead, BufReader, Read};

/// Buffer size of the readers made here.
const BUF: usize = 256 * 1024;

/// How a stream is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Not compressed (or not in a format syndup knows).
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard, possibly several frames.
    Zstd,
}

impl Compression {
    /// The compression whose magic number `head` starts with.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame (magic 0x184D2A50 to 0x184D2A5F) first, as pzstd writes.
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The compression an output file's name asks for (`.gz`, `.zst`; case-insensitive).
    pub fn from_name(name: &str) -> Compression {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") {
            Compression::Gzip
        } else if lower.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The format's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Wraps `reader` in a decompressor when its first bytes are a known magic number, and returns
/// which one it found. Nothing is read beyond what the magic number check needs.
pub fn decoder<'a, R: BufRead + 'a>(
    mut reader: R,
) -> std::io::Result<(Compression, Box<dyn BufRead + 'a>)> {
    let kind = loop {
        match reader.fill_buf() {
            Ok(head) => break Compression::detect(head),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    let out: Box<dyn BufRead + 'a> = match kind {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(BufReader::with_capacity(BUF, GzipReader::new(reader))),
        Compression::Zstd => Box::new(BufReader::with_capacity(BUF, ZstdReader::new(reader)?)),
    };
    Ok((kind, out))
}

/// A gzip decoder of one member after another, which, as `gzip -d` does, takes zero bytes
/// after the last member for the end (tape and block devices pad files with them; such a file
/// was reported as corrupt) and any other bytes there for an error, as before.
struct GzipReader<R> {
    /// The member being read; `None` once the stream has ended.
    member: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: BufRead> GzipReader<R> {
    fn new(inner: R) -> GzipReader<R> {
        GzipReader {
            member: Some(flate2::bufread::GzDecoder::new(inner)),
        }
    }
}

/// Whether another gzip member follows in `inner`, read to its end when only zero bytes
/// are left.
fn member_follows<R: BufRead>(inner: &mut R) -> std::io::Result<bool> {
    let mut zeros = false;
    loop {
        let rest = match inner.fill_buf() {
            Ok(rest) => rest,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if rest.is_empty() {
            return Ok(false);
        }
        if !zeros && rest[0] == 0x1f {
            return Ok(true);
        }
        let n = rest.iter().take_while(|&&b| b == 0).count();
        if n < rest.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes after the last gzip member that are neither a member nor zero padding",
            ));
        }
        inner.consume(n);
        zeros = true;
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            let Some(mut inner) = self.member.take().map(|m| m.into_inner()) else {
                return Ok(0);
            };
            if member_follows(&mut inner)? {
                self.member = Some(flate2::bufread::GzDecoder::new(inner));
            }
        }
    }
}

/// A zstd stream decoder that hands out every byte it decoded before reporting a broken
/// stream. (`zstd::stream::read::Decoder` keeps filling the caller's buffer across frames and
/// drops what it had decoded in that call when the input then ends early, which would lose
/// whole records before a truncation.)
struct ZstdReader<R> {
    inner: R,
    decoder: zstd::stream::raw::Decoder<'static>,
    /// Whether the last frame was complete (nothing is pending).
    at_frame_end: bool,
}

impl<R: BufRead> ZstdReader<R> {
    fn new(inner: R) -> std::io::Result<ZstdReader<R>> {
        Ok(ZstdReader {
            inner,
            decoder: zstd::stream::raw::Decoder::new()?,
            at_frame_end: true,
        })
    }
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                return if self.at_frame_end {
                    Ok(0)
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "incomplete zstd frame",
                    ))
                };
            }
            let mut src = InBuffer::around(input);
            let mut dst = OutBuffer::around(&mut *buf);
            let hint = self.decoder.run(&mut src, &mut dst)?;
            let (consumed, written) = (src.pos(), dst.pos());
            self.inner.consume(consumed);
            self.at_frame_end = hint == 0;
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// The suffix of a file name once a `.gz` or `.zst` ending is taken off, lowercased:
/// `feed.jsonl.gz` → `jsonl`.
pub fn inner_extension(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let base = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    let file = base.rsplit(['/', '\\']).next().unwrap_or(base);
    file.rsplit_once('.').map(|(_, ext)| ext.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn magic_numbers() {
        let cases: &[(&[u8], Compression)] = &[
            (b"\x1f\x8b\x08", Compression::Gzip),
            (b"\x28\xb5\x2f\xfd\x00", Compression::Zstd),
            (b"{\"a\":1}", Compression::None),
            (b"", Compression::None),
            (b"\x1f", Compression::None),
        ];
        for (head, want) in cases {
            assert_eq!(Compression::detect(head), *want, "{head:?}");
        }
    }

    #[test]
    fn inner_extensions() {
        assert_eq!(inner_extension("a/b.jsonl.gz").as_deref(), Some("jsonl"));
        assert_eq!(inner_extension("B.NDJSON.ZST").as_deref(), Some("ndjson"));
        assert_eq!(inner_extension("x.txt").as_deref(), Some("txt"));
        assert_eq!(inner_extension("dir.d/noext.gz"), None);
    }

    #[test]
    fn zstd_round_trip_with_two_frames() {
        let mut bytes = zstd::encode_all(&b"one\n"[..], 3).unwrap();
        bytes.extend(zstd::encode_all(&b"two\n"[..], 3).unwrap());
        let (kind, mut r) = decoder(&bytes[..]).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!((kind, s.as_str()), (Compression::Zstd, "one\ntwo\n"));
    }

    /// A skippable frame first, as pzstd writes one before its frames, is zstd. (Such files
    /// were read as text: their records as garbage, skipped.)
    #[test]
    fn zstd_with_a_skippable_frame_first() {
        for magic in [0x50u8, 0x5f] {
            let mut bytes = vec![magic, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
            bytes.extend(zstd::encode_all(&b"one\n"[..], 3).unwrap());
            let (kind, mut r) = decoder(&bytes[..]).unwrap();
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            assert_eq!((kind, s.as_str()), (Compression::Zstd, "one\n"));
        }
        assert_eq!(Compression::detect(b"\x60\x2a\x4d\x18"), Compression::None);
        assert_eq!(Compression::detect(b"\x50\x2a\x4d"), Compression::None);
    }

    #[test]
    fn truncated_zstd_gives_what_was_decoded_then_an_error() {
        let mut bytes = Vec::new();
        for i in 0..20 {
            let frame: String = (0..100)
                .map(|j| format!("line {i} {j} {}\n", "x".repeat(300)))
                .collect();
            bytes.extend(zstd::encode_all(frame.as_bytes(), 3).unwrap());
        }
        let (_, mut r) = decoder(&bytes[..bytes.len() / 2]).unwrap();
        let mut lines = 0;
        let mut line = String::new();
        while let Ok(n) = r.read_line(&mut line) {
            assert!(n > 0, "a truncated stream must not end cleanly");
            lines += 1;
            line.clear();
        }
        assert!(lines >= 900, "{lines}");
    }

    /// Zero bytes after the last member (tape or block padding) end the stream, as `gzip -d`
    /// takes them; other bytes there are still an error. (Padded files were corrupt.)
    #[test]
    fn gzip_padded_with_zeros_reads_whole() {
        let member = |text: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text).unwrap();
            gz.finish().unwrap()
        };
        let read = |bytes: &[u8]| {
            let (_, mut r) = decoder(bytes).unwrap();
            let mut s = String::new();
            r.read_to_string(&mut s).map(|_| s)
        };
        let mut two = member(b"one\n");
        two.extend(member(b"two\n"));
        for pad in [1usize, 511, 300_000] {
            let mut bytes = two.clone();
            bytes.resize(two.len() + pad, 0);
            assert_eq!(read(&bytes).unwrap(), "one\ntwo\n", "{pad} zero bytes");
            bytes.push(b'x');
            assert!(read(&bytes).is_err(), "a byte after {pad} zero bytes");
        }
        let mut garbage = two.clone();
        garbage.extend_from_slice(b"garbage");
        assert!(read(&garbage).is_err());
        // Zero bytes between two members are not padding.
        let mut between = member(b"one\n");
        between.extend_from_slice(&[0; 8]);
        between.extend(member(b"two\n"));
        assert!(read(&between).is_err());
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&b"some line of text\n".repeat(100)).unwrap();
        let bytes = gz.finish().unwrap();
        let (_, mut r) = decoder(&bytes[..bytes.len() / 2]).unwrap();
        let mut s = Vec::new();
        assert!(r.read_to_end(&mut s).is_err());
    }
}
