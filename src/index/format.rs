//! The index file, format version 2.
//!
//! Every integer is little-endian; nothing is a memory dump.
//!
//! ```text
//! magic    8 bytes   "SYNDUPIX"
//! version  u32       2 (1 is read too)
//! params   u32 length, then that many bytes of JSON: the Params the index was built with
//! sections, in this order, each a 4-byte ASCII tag, a u64 length and that many bytes:
//!   META   u32 signature bits (6), u32 num_hashes, u32 bands, u32 rows, u32 signature bytes,
//!          u32 id bits, u64 base, u64 first id, u64 next id, u64 capacity (0: none),
//!          u64 capped postings
//!   KEYS   u64 count, (count + 1) u64 offsets into the bytes that follow, UTF-8 bytes
//!   SRCS   u32 per paragraph: key number, bit 31 set for a short paragraph
//!   LINE   u32 per paragraph: line
//!   BYTE   u64 per paragraph: byte offset
//!   SIGS   signature bytes per paragraph: 6-bit MinHash values packed LSB first, or the
//!          u64 hash of the normalized text of a short paragraph
//!   TABL   u32 table count (bands + 1: the last one holds short paragraphs); per table a u32
//!          sub-table count (64), per sub-table u64 slots, u64 occupied, then u32 slots
//! footer   u64 length of everything before the footer, u64 xxh3-64 of it
//! ```
//!
//! Paragraphs are stored from the oldest live one (`first id`) to `next id - 1`. A table slot
//! is 0 (empty) or `fingerprint | (id - base + 1)` in its low `id bits` (all ones: a tombstone).
//! Version 2 keeps every run of a sub-table in descending fingerprint order along each entry's
//! probe path (see `src/index/table.rs`); version 1 has the same layout with runs in insertion
//! order, and is re-laid out when read.
//!
//! Reading checks, in order: the magic ([`Error::NotAnIndex`]), the version
//! ([`Error::IndexVersion`]), the length and checksum, then every length, count and id against
//! the others ([`Error::IndexCorrupt`]), so a damaged file is an error, never a panic or a wrong
//! answer later.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

use super::table::{self, Codec, Sub, Table, SUBS};
use super::{Index, Inner, Keys, Shape, Store, MAX_ENTRIES, SHORT};
use crate::error::{Error, Result};
use crate::params::Params;

/// The format version this build writes (it reads this one and every earlier one).
pub const FORMAT_VERSION: u32 = 2;

const MAGIC: &[u8; 8] = b"SYNDUPIX";

/// The largest id a file may hold as the next one (see `decode`).
const MAX_ID: u64 = 1 << 62;
const FOOTER: usize = 16;

const SECTIONS: [&[u8; 4]; 7] = [
    b"META", b"KEYS", b"SRCS", b"LINE", b"BYTE", b"SIGS", b"TABL",
];

impl Index {
    /// Writes the index to `path` atomically: to a temporary file in the same directory, which
    /// is synced to disk and then renamed over `path` (and the directory synced), so a crash
    /// or a failed write at any moment leaves either the previous file or the new one, never a
    /// mix. A symbolic link is written through (the file it points to is replaced, the link
    /// stays); a path that is not a regular file (a device, a FIFO) is refused. Temporary
    /// files that saves killed before their rename left (of processes no longer running) are
    /// removed after the rename. The index is copied into memory under a shared lock (queries
    /// go on; inserts wait for the copy, not for the disk). The format is described in the
    /// source of `src/index/format.rs` and in the README.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_inner(path.as_ref(), None)
    }

    pub(super) fn save_inner(&self, path: &Path, fail_after: Option<usize>) -> Result<()> {
        // One save at a time in the process, from the copy to the rename, so that of two saves
        // to one path the later copy is the one left there (a save that copied first and
        // renamed last put the older copy back: an insert made between them was lost).
        let _order = SAVING.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = encode(&self.params, &self.shape, &self.read());
        write_atomic(path, &bytes, fail_after).map_err(|source| Error::IndexWrite {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Opens an index file, with the parameters stored in it. Anything but a regular file
    /// (a FIFO, a device, a directory) is refused, and a file that does not start as an index
    /// does is refused before it is read further ([`Error::NotAnIndex`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        use std::io::Read;
        let path = path.as_ref();
        let read_error = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        // Looked at before opening: opening a FIFO to read waits for a writer.
        let meta = std::fs::metadata(path).map_err(read_error)?;
        if !meta.is_file() {
            return Err(read_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        let mut file = File::open(path).map_err(read_error)?;
        let mut head = [0u8; MAGIC.len()];
        let mut got = 0;
        while got < head.len() {
            match file.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
        }
        if head[..got] != MAGIC[..] {
            return Err(Error::NotAnIndex {
                path: path.to_path_buf(),
            });
        }
        let mut bytes = head.to_vec();
        bytes
            .try_reserve_exact(meta.len() as usize)
            .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::OutOfMemory, e)))?;
        file.read_to_end(&mut bytes).map_err(read_error)?;
        decode(path, &bytes)
    }

    /// Opens the index file at `path` if there is one, checking that it was built with
    /// `params` ([`Error::ParamsMismatch`] lists what differs), or creates an empty index with
    /// `params` (written by the first [`Index::save`]).
    ///
    /// Compared: `threshold`, `shingle_words`, `num_hashes`, the banding, `min_words`, `seed`,
    /// `max_bucket`, `split` and `max_paragraph_bytes`. Not compared: `preset` (a label), the
    /// sentence-level fields, which the index does not use, and `signature`: an index keeps
    /// the scheme it was built with and signs its queries with it (files saved before
    /// `folded` became the default hold `independent` signatures, and still open with
    /// today's defaults). Every scheme estimates the same Jaccard similarity.
    pub fn open_or_create(path: impl AsRef<Path>, params: Params) -> Result<Index> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::new(params),
            _ => {
                let index = Index::open(path)?;
                let diff = differences(index.params(), &params);
                if diff.is_empty() {
                    Ok(index)
                } else {
                    Err(Error::ParamsMismatch {
                        path: path.to_path_buf(),
                        differences: diff.join("; "),
                    })
                }
            }
        }
    }
}

/// The parameters that matter to an index, as `name: index X, given Y`.
pub(crate) fn differences(stored: &Params, given: &Params) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name}: index {a}, given {b}"));
        }
    };
    // Debug forms: numbers print as with Display, enums as their variant names (lowercased).
    macro_rules! fields {
        ($($f:ident),*) => {$(
            cmp(
                stringify!($f),
                format!("{:?}", stored.$f).to_lowercase(),
                format!("{:?}", given.$f).to_lowercase(),
            );
        )*};
    }
    fields!(
        threshold,
        shingle_words,
        num_hashes,
        min_words,
        seed,
        max_bucket
    );
    let (sb, sr) = stored.banding();
    let (gb, gr) = given.banding();
    cmp("bands x rows", format!("{sb}x{sr}"), format!("{gb}x{gr}"));
    fields!(split, max_paragraph_bytes);
    out
}

fn section(out: &mut Vec<u8>, tag: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(tag);
    let at = out.len();
    out.extend_from_slice(&0u64.to_le_bytes());
    body(out);
    let len = (out.len() - at - 8) as u64;
    out[at..at + 8].copy_from_slice(&len.to_le_bytes());
}

fn put_u32s(out: &mut Vec<u8>, xs: &[u32]) {
    out.reserve(xs.len() * 4);
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn put_u64s(out: &mut Vec<u8>, xs: &[u64]) {
    out.reserve(xs.len() * 8);
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// The whole file's bytes.
pub(super) fn encode(params: &Params, shape: &Shape, inner: &Inner) -> Vec<u8> {
    let st = &inner.store;
    let lo = (st.first - st.arr_first) as usize;
    let hi = (st.next - st.arr_first) as usize;
    let slots: usize = inner
        .bands
        .iter()
        .chain(std::iter::once(&inner.exact))
        .map(|t| t.subs.iter().map(|s| s.slots.len()).sum::<usize>())
        .sum();
    let n = hi - lo;
    let json = serde_json::to_vec(params).unwrap_or_default();
    let mut out = Vec::with_capacity(
        256 + json.len()
            + inner.keys.bytes.len()
            + inner.keys.offsets.len() * 8
            + n * (16 + shape.sig_bytes)
            + slots * 4
            + (shape.bands + 1) * SUBS * 16,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    section(&mut out, b"META", |o| {
        for v in [
            table::SIG_BITS,
            shape.k as u32,
            shape.bands as u32,
            shape.rows as u32,
            shape.sig_bytes as u32,
            inner.codec.idbits,
        ] {
            o.extend_from_slice(&v.to_le_bytes());
        }
        for v in [
            inner.base,
            st.first,
            st.next,
            inner.capacity.unwrap_or(0),
            inner.capped,
        ] {
            o.extend_from_slice(&v.to_le_bytes());
        }
    });
    section(&mut out, b"KEYS", |o| {
        o.extend_from_slice(&(inner.keys.len() as u64).to_le_bytes());
        put_u64s(o, &inner.keys.offsets);
        o.extend_from_slice(inner.keys.bytes.as_bytes());
    });
    section(&mut out, b"SRCS", |o| put_u32s(o, &st.sources[lo..hi]));
    section(&mut out, b"LINE", |o| put_u32s(o, &st.lines[lo..hi]));
    section(&mut out, b"BYTE", |o| put_u64s(o, &st.bytes[lo..hi]));
    section(&mut out, b"SIGS", |o| {
        o.extend_from_slice(&st.sigs[lo * st.sig_bytes..hi * st.sig_bytes])
    });
    section(&mut out, b"TABL", |o| {
        o.extend_from_slice(&((shape.bands + 1) as u32).to_le_bytes());
        for t in inner.bands.iter().chain(std::iter::once(&inner.exact)) {
            o.extend_from_slice(&(t.subs.len() as u32).to_le_bytes());
            for sub in &t.subs {
                o.extend_from_slice(&(sub.slots.len() as u64).to_le_bytes());
                o.extend_from_slice(&(sub.occupied as u64).to_le_bytes());
                put_u32s(o, &sub.slots);
            }
        }
    });
    let body = out.len() as u64;
    let sum = xxh3_64(&out);
    out.extend_from_slice(&body.to_le_bytes());
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

pub(super) static SAVES: AtomicU64 = AtomicU64::new(0);

/// Held by a save from its copy of the index to its rename (see `Index::save_inner`).
static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
/// the directory. `fail_after` (tests) stops after that many bytes with an error, leaving the
/// temporary file behind as a killed process would.
fn write_atomic(path: &Path, bytes: &[u8], fail_after: Option<usize>) -> std::io::Result<()> {
    // Through symbolic links (the link stays, the file it points to is replaced); never over
    // a device, a FIFO or a directory.
    let (path, regular) = crate::dedup::replace_target(path)?;
    if !regular {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file: an index is saved by replacing the file",
        ));
    }
    let path = path.as_path();
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A new file, never one that is there (a symbolic link planted at the name would have
    // been followed and its target overwritten), with the mode of the file it replaces.
    let (tmp, mut file) = {
        let mut tries = 0;
        loop {
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(
                ".{}.{}.tmp",
                std::process::id(),
                SAVES.fetch_add(1, Ordering::Relaxed)
            ));
            let tmp = dir.join(tmp_name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => break (tmp, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 100 => {
                    tries += 1
                }
                Err(e) => return Err(e),
            }
        }
    };
    let result = (|| {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        match fail_after {
            Some(n) => {
                file.write_all(&bytes[..n.min(bytes.len())])?;
                file.sync_all()?;
                return Err(std::io::Error::other("simulated failure during save"));
            }
            None => file.write_all(bytes)?,
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; some file systems refuse to sync a directory, which
        // does not undo the rename.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() && fail_after.is_none() {
        let _ = std::fs::remove_file(&tmp);
    }
    if result.is_ok() {
        remove_stale_temporaries(&dir, name);
    }
    result
}

/// Removes the temporary files that saves of `name` in `dir` by processes no longer running
/// left behind (a save killed before its rename): `.NAME.PID.N.tmp` whose process does not
/// exist. Those of running processes (a save in progress elsewhere) are left alone, and so is
/// anything else; errors are ignored (the save itself succeeded).
fn remove_stale_temporaries(dir: &Path, name: &std::ffi::OsStr) {
    let Some(name) = name.to_str() else { return };
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|rest| rest.split_once('.'))
            .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_exists(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists (`kill(pid, 0)`); true where that cannot be told.
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 sends nothing; kill only checks that the process exists and may be
        // signalled.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Bounds-checked reading of a byte buffer.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, reason: impl Into<String>) -> Error {
        Error::IndexCorrupt {
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(self.corrupt(format!(
                "{what}: needs {n} bytes at offset {}, only {left} left",
                self.pos
            )));
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        Ok(u64::from_le_bytes(w))
    }

    /// The next section, which must be `tag`.
    fn section(&mut self, tag: &[u8; 4]) -> Result<Reader<'a>> {
        let name = String::from_utf8_lossy(tag).into_owned();
        let got = self.take(4, &format!("{name} section tag"))?;
        if got != tag {
            return Err(self.corrupt(format!(
                "expected section {name}, found {:?}",
                String::from_utf8_lossy(got)
            )));
        }
        let len = self.u64(&format!("{name} section length"))?;
        let body = self.take(len, &format!("{name} section"))?;
        Ok(Reader {
            buf: body,
            pos: 0,
            path: self.path,
        })
    }

    fn done(&self, what: &str) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(self.corrupt(format!(
                "{what}: {} unexpected bytes at the end",
                self.buf.len() - self.pos
            )))
        }
    }

    fn u32s(&mut self, n: u64, what: &str) -> Result<Vec<u32>> {
        let bytes = self.take(n.saturating_mul(4), what)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn u64s(&mut self, n: u64, what: &str) -> Result<Vec<u64>> {
        let bytes = self.take(n.saturating_mul(8), what)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
}

/// Parses and checks a whole file.
pub(super) fn decode(path: &Path, bytes: &[u8]) -> Result<Index> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::NotAnIndex {
            path: path.to_path_buf(),
        });
    }
    let mut r = Reader {
        buf: bytes,
        pos: MAGIC.len(),
        path,
    };
    let version = r.u32("format version")?;
    if !(1..=FORMAT_VERSION).contains(&version) {
        return Err(Error::IndexVersion {
            path: path.to_path_buf(),
            expected: FORMAT_VERSION,
            got: version,
        });
    }
    if bytes.len() < r.pos + FOOTER {
        return Err(r.corrupt(format!(
            "truncated: {} bytes, too short for a footer",
            bytes.len()
        )));
    }
    let (body, footer) = bytes.split_at(bytes.len() - FOOTER);
    let mut f = Reader {
        buf: footer,
        pos: 0,
        path,
    };
    let body_len = f.u64("footer")?;
    let sum = f.u64("footer")?;
    if body_len != body.len() as u64 {
        return Err(r.corrupt(format!(
            "truncated or extended: the footer gives {body_len} bytes of body, the file has {}",
            body.len()
        )));
    }
    if xxh3_64(body) != sum {
        return Err(r.corrupt("checksum mismatch: the file was damaged after it was written"));
    }
    r.buf = body;

    let json_len = r.u32("params length")?;
    let json = r.take(u64::from(json_len), "params")?;
    let mut fields: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| r.corrupt(format!("params are not valid JSON: {e}")))?;
    // Files written before `signature` was a parameter hold `independent` signatures, whatever
    // today's default: a missing field means that scheme, not the default.
    if let Some(map) = fields.as_object_mut() {
        map.entry("signature")
            .or_insert_with(|| serde_json::Value::from("independent"));
    }
    let params: Params = serde_json::from_value(fields)
        .map_err(|e| r.corrupt(format!("params are not valid: {e}")))?;
    params
        .validate()
        .map_err(|e| r.corrupt(format!("stored params are invalid: {e}")))?;
    let shape = Shape::new(&params);

    // META
    let mut m = r.section(SECTIONS[0])?;
    let sig_bits = m.u32("signature bits")?;
    let k = m.u32("num_hashes")?;
    let bands = m.u32("bands")?;
    let rows = m.u32("rows")?;
    let sig_bytes = m.u32("signature bytes")?;
    let idbits = m.u32("id bits")?;
    let base = m.u64("base id")?;
    let first = m.u64("first id")?;
    let next = m.u64("next id")?;
    let capacity = m.u64("capacity")?;
    let capped = m.u64("capped postings")?;
    m.done("META")?;
    if sig_bits != table::SIG_BITS
        || k as usize != shape.k
        || bands as usize != shape.bands
        || rows as usize != shape.rows
        || sig_bytes as usize != shape.sig_bytes
    {
        return Err(r.corrupt(format!(
            "META ({sig_bits}-bit signatures of {k} values, {bands}x{rows} bands, \
             {sig_bytes} bytes) does not match the params ({}-bit, {}, {}x{}, {} bytes)",
            table::SIG_BITS,
            shape.k,
            shape.bands,
            shape.rows,
            shape.sig_bytes
        )));
    }
    if !(Codec::MIN_BITS..=Codec::MAX_BITS).contains(&idbits) {
        return Err(r.corrupt(format!("id bits {idbits} out of range")));
    }
    let codec = Codec { idbits };
    // Ids count inserts from 0 and are never reused; 2^62 of them would take a million inserts a
    // second for 146,000 years. A file claiming more would have the next insert overflow.
    if next > MAX_ID {
        return Err(r.corrupt(format!("next id {next} is beyond 2^62")));
    }
    if !(base <= first && first <= next) || next - base > codec.max_local() + 1 {
        return Err(r.corrupt(format!(
            "ids out of order: base {base}, first {first}, next {next} ({idbits}-bit ids)"
        )));
    }
    let n = next - first;
    if n > MAX_ENTRIES || capacity > MAX_ENTRIES {
        return Err(r.corrupt(format!(
            "{n} paragraphs / capacity {capacity}: more than {MAX_ENTRIES}"
        )));
    }

    // KEYS
    let mut kr = r.section(SECTIONS[1])?;
    let nkeys = kr.u64("key count")?;
    if nkeys >= u64::from(SHORT) {
        return Err(r.corrupt(format!("{nkeys} keys: too many")));
    }
    let offsets = kr.u64s(nkeys + 1, "key offsets")?;
    let rest = kr.take((kr.buf.len() - kr.pos) as u64, "key bytes")?;
    let text = std::str::from_utf8(rest)
        .map_err(|e| r.corrupt(format!("keys are not valid UTF-8: {e}")))?;
    if offsets.first() != Some(&0)
        || offsets.last() != Some(&(text.len() as u64))
        || offsets.windows(2).any(|w| w[0] > w[1])
        || offsets.iter().any(|&o| !text.is_char_boundary(o as usize))
    {
        return Err(r.corrupt("key offsets are out of order or out of range"));
    }
    let mut keys = Keys {
        bytes: text.to_string(),
        offsets,
        ..Keys::default()
    };
    keys.rebuild_map();

    // Paragraphs.
    let mut s = r.section(SECTIONS[2])?;
    let sources = s.u32s(n, "SRCS")?;
    s.done("SRCS")?;
    if let Some(bad) = sources.iter().find(|&&x| u64::from(x & !SHORT) >= nkeys) {
        return Err(r.corrupt(format!(
            "a paragraph refers to key {} of {nkeys}",
            bad & !SHORT
        )));
    }
    let mut s = r.section(SECTIONS[3])?;
    let lines = s.u32s(n, "LINE")?;
    s.done("LINE")?;
    let mut s = r.section(SECTIONS[4])?;
    let offsets = s.u64s(n, "BYTE")?;
    s.done("BYTE")?;
    let mut s = r.section(SECTIONS[5])?;
    let sigs = s
        .take(n.saturating_mul(u64::from(sig_bytes)), "SIGS")?
        .to_vec();
    s.done("SIGS")?;

    // Tables.
    let mut t = r.section(SECTIONS[6])?;
    let ntables = t.u32("table count")?;
    if ntables as usize != shape.bands + 1 {
        return Err(r.corrupt(format!("{ntables} tables for {} bands (+1)", shape.bands)));
    }
    let mut tables = Vec::with_capacity(ntables as usize);
    for ti in 0..ntables {
        let nsubs = t.u32("sub-table count")?;
        if nsubs as usize != SUBS {
            return Err(r.corrupt(format!("table {ti}: {nsubs} sub-tables, not {SUBS}")));
        }
        let mut subs = Vec::with_capacity(SUBS);
        for si in 0..SUBS {
            let len = t.u64("sub-table length")?;
            let occupied = t.u64("sub-table occupancy")?;
            let slots = t.u32s(len, "sub-table slots")?;
            let mut count = 0u64;
            for &slot in &slots {
                if slot == 0 {
                    continue;
                }
                count += 1;
                if let Some(local) = codec.local(slot) {
                    if base + local >= next {
                        return Err(r.corrupt(format!(
                            "table {ti}.{si}: id {} is past the last paragraph {}",
                            base + local,
                            next.saturating_sub(1)
                        )));
                    }
                }
            }
            if count != occupied {
                return Err(r.corrupt(format!(
                    "table {ti}.{si}: {count} slots in use, the header says {occupied}"
                )));
            }
            subs.push(Sub {
                slots,
                occupied: occupied as usize,
            });
        }
        tables.push(Table { subs });
    }
    t.done("TABL")?;
    r.done("index body")?;
    let exact = tables.pop().unwrap_or_else(Table::new);

    let mut inner = Inner {
        store: Store {
            arr_first: first,
            first,
            next,
            sources,
            lines,
            bytes: offsets,
            sigs,
            sig_bytes: shape.sig_bytes,
        },
        keys,
        base,
        codec,
        bands: tables,
        exact,
        capacity: (capacity > 0).then_some(capacity),
        capped,
    };
    if version == 1 {
        // Same layout, but runs in insertion order: lay them out as format 2 keeps them.
        inner.reorder_tables(&shape);
    }
    // Keys of evicted paragraphs are saved with the rest: without this, a process that evicts
    // fewer paragraphs than a compaction waits for (a CLI `index add`, a crawler restarted
    // daily) never dropped them, and they grew with every key ever seen.
    inner.drop_unused_keys();
    Ok(Index::from_parts(params, shape, inner))
}
