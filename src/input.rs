//! Stage 1: input. Paths in, sources and paragraphs out.
//!
//! Takes paths (files, directories walked recursively in sorted order, or `-` for standard
//! input) and gives a [`Corpus`]: the text of every source, the byte span of every paragraph in
//! it, and a [`Skipped`] entry for everything that could not be used (an unreadable file, a
//! binary file, a paragraph that is not valid UTF-8 or is too long, a malformed JSON line, a
//! corrupt or truncated compressed stream). Nothing is dropped silently: every paragraph is either
//! in [`Corpus::paragraphs`] or covered by a [`Skipped`] entry, and every JSON Lines record is
//! either in [`Corpus::records`] or covered by one.
//!
//! Two input formats ([`InputFormat`]):
//!
//! * plain text: the file's bytes (memory-mapped where possible) are split into paragraphs;
//! * JSON Lines ([`jsonl`]): one record per line; the text field of each record (a dotted
//!   path, [`InputOptions::text_field`]) is decoded into one buffer per source and split into
//!   paragraphs the same way, so [`Corpus::text`] works alike for both. [`Corpus::record_of`]
//!   gives a paragraph's record (its id, line and byte offset) and its index in the record.
//!
//! Either may be gzip or zstd compressed ([`decompress`]): recognized by its first bytes and
//! decompressed as a stream.
//!
//! ```
//! use syndup::input::Corpus;
//! let corpus = Corpus::from_texts(&[("a.txt", "First paragraph.\n\nSecond one.\n")], &Default::default());
//! assert_eq!(corpus.paragraphs.len(), 2);
//! assert_eq!(corpus.paragraphs[1].line, 3);
//! assert_eq!(corpus.text(&corpus.paragraphs[1]), "Second one.");
//! ```

pub mod decompress;
pub mod jsonl;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::params::{Params, SplitMode};
use crate::segment;
use decompress::Compression;
use jsonl::{FieldPath, Fields, OrderKey};

/// File extensions read when walking a directory (a `.gz` or `.zst` file is read whatever
/// precedes that ending). Files named on the command line are always read; inside directories
/// other files (such as `gold.tsv`) are left out.
pub const WALK_EXTENSIONS: &[&str] = &["txt", "text", "md", "jsonl", "ndjson", "gz", "zst"];

/// The format of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// By the name, once a `.gz` or `.zst` ending is taken off: `.jsonl` and `.ndjson` are JSON
    /// Lines, anything else (and standard input) is plain text.
    #[default]
    Auto,
    /// Plain text.
    Text,
    /// JSON Lines: one JSON object per line.
    Jsonl,
}

impl InputFormat {
    /// The format of the input called `name` (`Auto` resolved; never returns `Auto`).
    pub fn resolve(self, name: &str) -> InputFormat {
        match self {
            InputFormat::Auto => match decompress::inner_extension(name).as_deref() {
                Some("jsonl" | "ndjson") => InputFormat::Jsonl,
                _ => InputFormat::Text,
            },
            other => other,
        }
    }
}

/// How to read inputs: the format and, for JSON Lines, which fields to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputOptions {
    /// The input format.
    pub format: InputFormat,
    /// The field holding the text (dotted path for nested objects).
    pub text_field: FieldPath,
    /// The field holding the record id; a record without it is named by its line number.
    pub id_field: FieldPath,
    /// The field deciding which copy is the original (smallest value wins; ties and records
    /// without it go by input order, records without it last).
    pub order_field: Option<FieldPath>,
    /// Where to keep the decoded text fields of JSON Lines inputs and the decompressed text of
    /// compressed plain-text inputs: `None` keeps them in memory; a directory keeps them in an
    /// unnamed temporary file there (deleted when the corpus is dropped, or by the system if the
    /// process dies), memory-mapped, so that they take page cache the system can reclaim rather
    /// than the process's own memory. `syndup dedup` uses the output's directory.
    pub spill_dir: Option<PathBuf>,
}

impl Default for InputOptions {
    fn default() -> InputOptions {
        InputOptions {
            format: InputFormat::Auto,
            text_field: FieldPath::new("text"),
            id_field: FieldPath::new("id"),
            order_field: None,
            spill_dir: None,
        }
    }
}

/// A progress callback: called now and then with the total input bytes read so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// The bytes of one input.
enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Data {
    fn bytes(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }
}

/// One input file (or standard input), with its text.
pub struct Source {
    /// The path as given, or the given directory joined with the path below it; `-` for stdin.
    pub name: String,
    /// The text: the (decompressed) file for plain text; for JSON Lines, the decoded text
    /// fields of its records one after the other.
    data: Data,
    /// The file, to read again (`None` for standard input and in-memory texts).
    path: Option<PathBuf>,
    /// The input bytes of JSON Lines read from standard input or memory, kept for a second pass.
    raw: Option<Vec<u8>>,
    /// Plain text or JSON Lines (never `Auto`).
    pub format: InputFormat,
    /// How the input was compressed.
    pub compression: Compression,
    /// JSON Lines records read (non-blank lines, including skipped ones).
    pub records_read: u64,
    /// JSON Lines records skipped (each has a [`Skipped`] entry).
    pub records_skipped: u64,
    /// Range of this source's records in [`Corpus::records`].
    pub records: std::ops::Range<u32>,
    /// Whether every byte of `data` was checked to be UTF-8 (plain text, at reading): then
    /// [`Corpus::text`] need not check a paragraph's bytes again. Never true of bytes that
    /// were not checked; `data` never changes once the source is made.
    utf8: bool,
    /// The byte that ends the text's lines ([`segment::line_end`]; `\n` for JSON Lines).
    line_end: u8,
}

impl Source {
    /// The source's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// The byte that ends the lines of a plain-text source: `\n`, or `\r` for a text that has
    /// no `\n` and has a `\r` (see [`segment::line_end`]). Always `\n` for JSON Lines, whose
    /// records are lines; each record's text field has its own line ends.
    pub fn line_end(&self) -> u8 {
        self.line_end
    }

    /// Whether the bytes are memory-mapped (rather than read into memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, Data::Mapped(_))
    }

    /// The file this source was read from (`None` for standard input and in-memory texts).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The canonical path of the file this source was read from, found from its path as the
    /// system spells it (or, for a source without one, its name); `None` when there is none.
    pub fn canonical(&self) -> Option<PathBuf> {
        let path = self.path.as_deref().unwrap_or(Path::new(&self.name));
        std::fs::canonicalize(path).ok()
    }

    /// Opens the original input again, decompressed, for a second pass over JSON Lines.
    pub fn reopen(&self) -> std::io::Result<Box<dyn BufRead + '_>> {
        let reader: Box<dyn BufRead + '_> = match (&self.raw, &self.path) {
            (Some(raw), _) => Box::new(&raw[..]),
            (None, Some(path)) => Box::new(BufReader::with_capacity(READ_BUF, File::open(path)?)),
            (None, None) => Box::new(self.bytes()),
        };
        Ok(decompress::decoder(reader)?.1)
    }

    fn new(name: String, data: Data, format: InputFormat) -> Source {
        Source {
            name,
            data,
            path: None,
            raw: None,
            format,
            compression: Compression::None,
            records_read: 0,
            records_skipped: 0,
            records: 0..0,
            utf8: false,
            line_end: b'\n',
        }
    }
}

/// Buffer size for streamed reading.
const READ_BUF: usize = 256 * 1024;

/// One JSON Lines record that was read.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Index into [`Corpus::sources`].
    pub source: u32,
    /// The record's name in reports: its id field (strings as they are, other values as
    /// written), or its 1-based line number when it has none.
    pub doc: String,
    /// 1-based line of the record in the (decompressed) input.
    pub line: u64,
    /// Byte offset of the record's line in the (decompressed) input.
    pub byte: u64,
    /// The order field's value, when `--order-field` is set and the record has it.
    pub order: Option<OrderKey>,
    /// Byte range of the decoded text in the source's buffer ([`Source::bytes`]).
    pub text: std::ops::Range<u64>,
    /// Range of the record's paragraphs in [`Corpus::paragraphs`].
    pub paragraphs: std::ops::Range<u32>,
}

/// Where a paragraph sits in a JSON Lines record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecordRef<'a> {
    /// The record.
    pub record: &'a Record,
    /// Index of the record in [`Corpus::records`].
    pub index: u32,
    /// 0-based index of the paragraph among the record's paragraphs (counting those skipped as
    /// too long, so the index is the same as in the record's text).
    pub paragraph: u32,
}

/// Per paragraph: its record (`NO_RECORD` for plain text) and its index among the paragraph
/// spans of that record (or of the plain-text source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ParaMeta {
    record: u32,
    index: u32,
}

const NO_RECORD: u32 = u32::MAX;

/// Bytes per stretch of a plain-text file read in parallel (small in debug builds, so that the
/// tests cut files into stretches).
const STRETCH: usize = if cfg!(debug_assertions) {
    1 << 8
} else {
    1 << 23
};

/// What one stretch of a plain-text source gives, with lines counted from the stretch's start
/// (0 for its first line) and paragraphs numbered from 0 in it.
struct Stretch {
    /// The paragraphs kept, each with its number among the stretch's spans.
    paragraphs: Vec<(Paragraph, u32)>,
    skipped: Vec<Skipped>,
    /// Spans found (kept or skipped).
    spans: u32,
    /// Line ends in the stretch.
    newlines: u64,
    /// Whether all of the stretch's bytes are UTF-8.
    utf8: bool,
}

impl Stretch {
    /// Checks the spans of `source` (source number `id`) found in `bytes[from..to]`: each is a
    /// paragraph, or skipped when over `max_paragraph_bytes` or not UTF-8. The stretch is
    /// checked for UTF-8 as a whole first: when it is (nearly always), no span needs its own
    /// check.
    fn read(
        source: &Source,
        id: u32,
        from: usize,
        to: usize,
        spans: &[segment::Span],
        params: &Params,
    ) -> Stretch {
        let bytes = source.bytes();
        let eol = source.line_end;
        let count =
            |range: std::ops::Range<usize>| memchr::memchr_iter(eol, &bytes[range]).count() as u64;
        let mut out = Stretch {
            paragraphs: Vec::with_capacity(spans.len()),
            skipped: Vec::new(),
            spans: spans.len() as u32,
            newlines: 0,
            utf8: std::str::from_utf8(&bytes[from..to]).is_ok(),
        };
        let mut line = 0u64;
        let mut counted_to = from;
        for (index, span) in spans.iter().enumerate() {
            line += count(counted_to..span.start);
            counted_to = span.start;
            let text = &bytes[span.start..span.end];
            if text.len() > params.max_paragraph_bytes {
                out.skipped.push(Skipped {
                    source: source.name.clone(),
                    line,
                    byte: span.start as u64,
                    reason: format!(
                        "paragraph of {} bytes is longer than the limit of {} bytes \
                         (max_paragraph_bytes)",
                        text.len(),
                        params.max_paragraph_bytes
                    ),
                });
                continue;
            }
            let invalid = if out.utf8 {
                None
            } else {
                std::str::from_utf8(text).err()
            };
            if let Some(e) = invalid {
                out.skipped.push(Skipped {
                    source: source.name.clone(),
                    line: line + count(span.start..span.start + e.valid_up_to()),
                    byte: (span.start + e.valid_up_to()) as u64,
                    reason: "invalid UTF-8; paragraph skipped".into(),
                });
                continue;
            }
            out.paragraphs.push((
                Paragraph {
                    source: id,
                    line,
                    start: span.start as u64,
                    end: span.end as u64,
                },
                index as u32,
            ));
        }
        out.newlines = line + count(counted_to..to);
        out
    }
}

/// A paragraph: a byte span of one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paragraph {
    /// Index into [`Corpus::sources`].
    pub source: u32,
    /// 1-based line on which the paragraph starts.
    pub line: u64,
    /// Byte offset of the paragraph's first byte in the source.
    pub start: u64,
    /// Byte offset one past its last byte.
    pub end: u64,
}

/// Something in the input that could not be used, with where it is and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The source, named as in reports.
    pub source: String,
    /// 1-based line (0 when the whole source could not be read).
    pub line: u64,
    /// Byte offset of the problem in the source.
    pub byte: u64,
    /// What is wrong.
    pub reason: String,
}

impl Skipped {
    /// The source's name for a line of text: as it is, but for ASCII control characters (a
    /// newline or tab in a file name), written `\n`, `\r`, `\t` or `\xHH`, so that one problem
    /// stays one line.
    ///
    /// ```
    /// use syndup::input::Skipped;
    /// let s = Skipped { source: "a\nb.txt".into(), line: 2, byte: 7, reason: "why".into() };
    /// assert_eq!(s.source_for_text(), "a\\nb.txt");
    /// assert_eq!(s.to_string(), "a\\nb.txt:2 (byte 7): why");
    /// ```
    pub fn source_for_text(&self) -> std::borrow::Cow<'_, str> {
        escape_controls(&self.source, false)
    }
}

/// `s` with its ASCII control characters (C0 and DEL) written `\n`, `\r`, `\t` or `\xHH`, and
/// with `backslash`, backslashes doubled (so that the escaping can be undone); `s` itself,
/// without copying it, when there is nothing to escape.
pub(crate) fn escape_controls(s: &str, backslash: bool) -> std::borrow::Cow<'_, str> {
    let special = |b: u8| b < 0x20 || b == 0x7f || (backslash && b == b'\\');
    if !s.bytes().any(special) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' if backslash => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.into()
}

/// `source:line (byte N): reason`, one line, as every command lists skipped input for people
/// (the source as [`Skipped::source_for_text`] gives it).
impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} (byte {}): {}",
            self.source_for_text(),
            self.line,
            self.byte,
            self.reason
        )
    }
}

/// Everything read from the input paths.
#[derive(Default)]
pub struct Corpus {
    /// The sources, in input order (directories walked in sorted order).
    pub sources: Vec<Source>,
    /// Every usable paragraph, in source order then byte order.
    pub paragraphs: Vec<Paragraph>,
    /// What could not be used.
    pub skipped: Vec<Skipped>,
    /// Every usable JSON Lines record, in source order then line order.
    pub records: Vec<Record>,
    /// Parallel to `paragraphs` (for paragraphs added by this module).
    meta: Vec<ParaMeta>,
    /// [`InputOptions::spill_dir`] of the read in progress.
    spill_dir: Option<PathBuf>,
    /// Every file [`Corpus::open_with`] tried to read (found in a directory or named), read or
    /// skipped: what an output must not replace.
    pub files: Vec<PathBuf>,
}

impl Corpus {
    /// Reads the given paths as plain text or JSON Lines by their names (see
    /// [`InputFormat::Auto`]). Problems with a single file are recorded in [`Corpus::skipped`]
    /// rather than returned, so one bad file does not stop a scan.
    pub fn open<P: AsRef<Path>>(paths: &[P], params: &Params) -> Corpus {
        Corpus::open_with(paths, &InputOptions::default(), params, &|_| {})
    }

    /// Reads the given paths with explicit [`InputOptions`], calling `progress` with the input
    /// bytes read so far. Problems with a single file or record are recorded in
    /// [`Corpus::skipped`]. A file named twice, directly or through a directory, is read once
    /// (its paragraphs would otherwise all repeat themselves).
    pub fn open_with<P: AsRef<Path>>(
        paths: &[P],
        options: &InputOptions,
        params: &Params,
        progress: Progress<'_>,
    ) -> Corpus {
        let mut corpus = Corpus {
            spill_dir: options.spill_dir.clone(),
            ..Corpus::default()
        };
        let mut done = 0u64;
        let mut read: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
        for path in paths {
            let path = path.as_ref();
            if path == Path::new("-") {
                // Standard input is read once, like a file named twice (a second `-` found it
                // empty and was reported as empty input).
                if !read.insert(PathBuf::from("-")) {
                    continue;
                }
                let mut stdin = std::io::stdin().lock();
                let read = match options.format.resolve("-") {
                    InputFormat::Jsonl => {
                        let mut buf = Vec::new();
                        stdin.read_to_end(&mut buf).map(|_| buf)
                    }
                    _ => read_text_stream(stdin),
                };
                match read {
                    Ok(buf) => corpus.add_bytes("-".to_string(), buf, options, params),
                    Err(e) => corpus.skip_file("-", &e),
                }
                continue;
            }
            let mut files = Vec::new();
            if let Err((p, e)) = walk(path, true, &mut files) {
                corpus.skip_file(&p.display().to_string(), &e);
            }
            for f in files {
                match f {
                    Ok(file) => {
                        if !read
                            .insert(std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone()))
                        {
                            continue;
                        }
                        let name = file.display().to_string();
                        let meta = std::fs::metadata(&file);
                        let size = meta.as_ref().map_or(0, |m| m.len());
                        let regular = meta.is_ok_and(|m| m.is_file());
                        corpus.files.push(file.clone());
                        match options.format.resolve(&name) {
                            // A pipe (`<(zcat feed.jsonl.gz)`) cannot be read twice: its bytes
                            // are kept, as standard input's are, for a second pass.
                            InputFormat::Jsonl if !regular => {
                                let mut buf = Vec::new();
                                match File::open(&file).and_then(|mut f| f.read_to_end(&mut buf)) {
                                    Ok(_) => corpus.add_bytes(name, buf, options, params),
                                    Err(e) => corpus.skip_file(&name, &e),
                                }
                            }
                            InputFormat::Jsonl => {
                                corpus.add_jsonl_file(name, &file, options, params, &|n| {
                                    progress(done + n)
                                })
                            }
                            _ => match load(&file) {
                                Ok(data) => {
                                    let id = corpus.sources.len();
                                    corpus.add_text(name, data, params);
                                    // The path as the system spells it (a name that is not
                                    // UTF-8 is not its lossy display name).
                                    if let Some(s) = corpus.sources.get_mut(id) {
                                        s.path = Some(file.clone());
                                    }
                                }
                                Err(e) => corpus.skip_file(&name, &e),
                            },
                        }
                        done += size;
                        progress(done);
                    }
                    Err((p, e)) => corpus.skip_file(&p.display().to_string(), &e),
                }
            }
        }
        corpus
    }

    /// Builds a corpus from in-memory inputs, as `(name, bytes)` pairs, read as
    /// [`Corpus::open_with`] reads files: the format from `options` (by the name when `Auto`),
    /// gzip and zstd decompressed.
    ///
    /// ```
    /// use syndup::input::{Corpus, InputOptions};
    /// let feed = "{\"id\":\"a\",\"text\":\"One.\\nTwo.\"}\nnot json\n";
    /// let c = Corpus::from_bytes(&[("feed.jsonl", feed.as_bytes())], &InputOptions::default(),
    ///                            &Default::default());
    /// assert_eq!(c.paragraphs.len(), 2);
    /// let r = c.record_of(&c.paragraphs[1]).unwrap();
    /// assert_eq!((r.record.doc.as_str(), r.paragraph, r.record.line), ("a", 1, 1));
    /// assert_eq!(c.skipped[0].line, 2);
    /// ```
    pub fn from_bytes(inputs: &[(&str, &[u8])], options: &InputOptions, params: &Params) -> Corpus {
        let mut corpus = Corpus {
            spill_dir: options.spill_dir.clone(),
            ..Corpus::default()
        };
        for (name, bytes) in inputs {
            corpus.add_bytes(name.to_string(), bytes.to_vec(), options, params);
        }
        corpus
    }

    /// Builds a corpus from in-memory texts, as `(name, text)` pairs.
    pub fn from_texts(texts: &[(&str, &str)], params: &Params) -> Corpus {
        let mut corpus = Corpus::default();
        for (name, text) in texts {
            corpus.add_text(
                name.to_string(),
                Data::Owned(text.as_bytes().to_vec()),
                params,
            );
        }
        corpus
    }

    /// The text of a paragraph (empty if the span is not valid UTF-8, which
    /// [`Corpus::open`] never lets through).
    pub fn text(&self, p: &Paragraph) -> &str {
        let source = &self.sources[p.source as usize];
        let all = source.bytes();
        let (start, end) = (p.start as usize, p.end as usize);
        let bytes = &all[start..end];
        // Plain text was checked whole when it was read (`Source::utf8`): a span of valid UTF-8
        // that starts and ends on character boundaries is valid UTF-8 itself. Checking each
        // paragraph again was 5 % of the time of a `--preset near` scan (perf, 500 MB).
        let boundary = |i: usize| all.get(i).is_none_or(|&b| (b as i8) >= -0x40);
        if source.utf8 && boundary(start) && boundary(end) {
            // SAFETY: `source.utf8` says that all of `all` is UTF-8 (it is set only after
            // `std::str::from_utf8` accepted every byte, and a source's bytes never change),
            // and `bytes` is a slice of it (indexing checked the bounds) that starts and ends
            // on character boundaries (not on a continuation byte `0b10xx_xxxx`, or at the end).
            return unsafe { std::str::from_utf8_unchecked(bytes) };
        }
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The name of a paragraph's source.
    pub fn source_name(&self, p: &Paragraph) -> &str {
        &self.sources[p.source as usize].name
    }

    /// Total bytes of all sources' text (for JSON Lines, of the decoded text fields).
    pub fn total_bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.bytes().len() as u64).sum()
    }

    /// The JSON Lines record of a paragraph of this corpus, with the paragraph's index in it
    /// (`None` for plain text).
    pub fn record_of(&self, p: &Paragraph) -> Option<RecordRef<'_>> {
        let i = self
            .paragraphs
            .binary_search_by(|q| (q.source, q.start).cmp(&(p.source, p.start)))
            .ok()?;
        self.record_of_index(i)
    }

    /// The JSON Lines record of paragraph `i` of [`Corpus::paragraphs`] (`None` for plain
    /// text).
    pub fn record_of_index(&self, i: usize) -> Option<RecordRef<'_>> {
        let m = self.meta.get(i)?;
        let record = self.records.get(m.record as usize)?;
        Some(RecordRef {
            record,
            index: m.record,
            paragraph: m.index,
        })
    }

    /// The index of paragraph `i` among the paragraph spans of its record (JSON Lines) or of its
    /// source (plain text), counting spans skipped as too long or not UTF-8.
    pub fn span_index(&self, i: usize) -> Option<u32> {
        self.meta.get(i).map(|m| m.index)
    }

    /// Checks the corpus's invariants and says which one fails: paragraphs in source then byte
    /// order, each a non-empty, trimmed, in-bounds UTF-8 span; every paragraph of a JSON Lines
    /// source inside its record's text and listed in its record; per source, records read =
    /// records kept + records skipped. Used by the tests and the fuzz targets.
    pub fn check_consistency(&self) -> std::result::Result<(), String> {
        for (i, p) in self.paragraphs.iter().enumerate() {
            let source = self
                .sources
                .get(p.source as usize)
                .ok_or(format!("paragraph {i}: no source {}", p.source))?;
            let bytes = source.bytes();
            if p.start >= p.end || p.end as usize > bytes.len() {
                return Err(format!("paragraph {i}: bad span {}..{}", p.start, p.end));
            }
            let text = std::str::from_utf8(&bytes[p.start as usize..p.end as usize])
                .map_err(|e| format!("paragraph {i}: not UTF-8: {e}"))?;
            if text.trim_matches(|c: char| c.is_ascii_whitespace()) != text {
                return Err(format!("paragraph {i}: not trimmed"));
            }
            if let Some(prev) = i.checked_sub(1).map(|k| &self.paragraphs[k]) {
                if (prev.source, prev.end) > (p.source, p.start) {
                    return Err(format!("paragraph {i}: out of order"));
                }
            }
            if source.format == InputFormat::Jsonl {
                let r = self
                    .record_of_index(i)
                    .ok_or(format!("paragraph {i}: no record"))?;
                let inside = r.record.text.start <= p.start
                    && p.end <= r.record.text.end
                    && r.record.paragraphs.contains(&(i as u32))
                    && r.record.source == p.source
                    && r.record.line == p.line;
                if !inside {
                    return Err(format!("paragraph {i}: outside its record"));
                }
            }
        }
        for (s, source) in self.sources.iter().enumerate() {
            let kept = u64::from(source.records.end - source.records.start);
            if source.records_read != kept + source.records_skipped {
                return Err(format!(
                    "source {s}: {} records read, {kept} kept, {} skipped",
                    source.records_read, source.records_skipped
                ));
            }
        }
        Ok(())
    }

    /// Appends `other`'s sources, paragraphs, records and skipped input to this corpus, except
    /// the sources `keep` turns down (with their paragraphs, records and skipped input). Indexes
    /// are renumbered, so every appended paragraph keeps its record and its place (line, byte,
    /// record id, paragraph number) as [`Corpus::record_of_index`] gives them.
    ///
    /// ```
    /// use syndup::input::{Corpus, InputOptions};
    /// let opts = InputOptions::default();
    /// let feed = "{\"id\":\"a\",\"text\":\"One.\\nTwo.\"}\n";
    /// let mut c = Corpus::from_texts(&[("plain.txt", "Zero.")], &Default::default());
    /// let other = Corpus::from_bytes(&[("feed.jsonl", feed.as_bytes()), ("drop.txt", b"x")],
    ///                                &opts, &Default::default());
    /// c.append(other, |s| s.name != "drop.txt");
    /// assert_eq!(c.sources.len(), 2);
    /// let r = c.record_of_index(2).unwrap();
    /// assert_eq!((r.record.doc.as_str(), r.paragraph, r.record.source), ("a", 1, 1));
    /// assert!(c.check_consistency().is_ok());
    /// ```
    pub fn append(&mut self, other: Corpus, keep: impl Fn(&Source) -> bool) {
        let Corpus {
            sources,
            paragraphs,
            skipped,
            records,
            meta,
            files,
            ..
        } = other;
        self.files.extend(files);
        let mut new_source: Vec<Option<u32>> = Vec::with_capacity(sources.len());
        // Where each kept source's records and paragraphs move by (new index - old index).
        let mut record_shift: Vec<i64> = Vec::with_capacity(sources.len());
        let mut dropped: std::collections::HashSet<String> = Default::default();
        for (s, mut source) in sources.into_iter().enumerate() {
            if !keep(&source) {
                new_source.push(None);
                record_shift.push(0);
                dropped.insert(source.name.clone());
                continue;
            }
            let id = self.sources.len() as u32;
            let start = self.records.len() as u32;
            record_shift.push(i64::from(start) - i64::from(source.records.start));
            let mine = records.get(source.records.start as usize..source.records.end as usize);
            for r in mine.unwrap_or_default() {
                debug_assert_eq!(r.source as usize, s);
                self.records.push(Record {
                    source: id,
                    ..r.clone()
                });
            }
            source.records = start..self.records.len() as u32;
            new_source.push(Some(id));
            self.sources.push(source);
        }
        // The checked paragraphs may have no entries here (paragraphs made elsewhere).
        let known = self.meta.len() == self.paragraphs.len();
        let mut first_new: Vec<Option<u32>> = vec![None; new_source.len()];
        let mut first_old: Vec<u32> = vec![0; new_source.len()];
        for (i, mut p) in paragraphs.into_iter().enumerate() {
            let old_source = p.source as usize;
            let Some(id) = new_source.get(old_source).copied().flatten() else {
                continue;
            };
            let at = self.paragraphs.len() as u32;
            if first_new[old_source].is_none() {
                first_new[old_source] = Some(at);
                first_old[old_source] = i as u32;
            }
            p.source = id;
            self.paragraphs.push(p);
            if known {
                let m = meta.get(i).copied().unwrap_or(ParaMeta {
                    record: NO_RECORD,
                    index: 0,
                });
                let record = if m.record == NO_RECORD {
                    NO_RECORD
                } else {
                    (i64::from(m.record) + record_shift[old_source]) as u32
                };
                self.meta.push(ParaMeta { record, ..m });
            }
        }
        // Each appended record's paragraphs moved with their source's (a source without
        // paragraphs has only empty ranges: they are put at the end).
        let end = self.paragraphs.len() as u32;
        for (old_source, new_id) in new_source.iter().enumerate() {
            let Some(id) = new_id else {
                continue;
            };
            let range = self.sources[*id as usize].records.clone();
            let records = &mut self.records[range.start as usize..range.end as usize];
            let Some(new_first) = first_new[old_source] else {
                records.iter_mut().for_each(|r| r.paragraphs = end..end);
                continue;
            };
            let shift = i64::from(new_first) - i64::from(first_old[old_source]);
            let moved = |x: u32| (i64::from(x) + shift) as u32;
            for r in records {
                r.paragraphs = moved(r.paragraphs.start)..moved(r.paragraphs.end);
            }
        }
        self.skipped
            .extend(skipped.into_iter().filter(|s| !dropped.contains(&s.source)));
    }

    /// Records read from JSON Lines (non-blank lines, including skipped ones).
    pub fn records_read(&self) -> u64 {
        self.sources.iter().map(|s| s.records_read).sum()
    }

    /// Records skipped (each with a [`Skipped`] entry).
    pub fn records_skipped(&self) -> u64 {
        self.sources.iter().map(|s| s.records_skipped).sum()
    }

    fn skip_file(&mut self, name: &str, err: &std::io::Error) {
        self.skipped.push(Skipped {
            source: name.to_string(),
            line: 0,
            byte: 0,
            reason: format!("cannot read: {err}"),
        });
    }

    /// Adds an input given as bytes (standard input, or in memory): decompressed, then read as
    /// its format.
    fn add_bytes(&mut self, name: String, bytes: Vec<u8>, options: &InputOptions, params: &Params) {
        match options.format.resolve(&name) {
            InputFormat::Jsonl => {
                let before = self.sources.len();
                match decompress::decoder(&bytes[..]) {
                    Ok((kind, reader)) => {
                        self.add_jsonl(name, reader, kind, options, params, &|_| {});
                        if let Some(s) = self.sources.get_mut(before) {
                            s.compression = kind;
                        }
                    }
                    Err(e) => self.skip_file(&name, &e),
                }
                if let Some(s) = self.sources.get_mut(before) {
                    s.raw = Some(bytes);
                }
            }
            _ => {
                let kind = Compression::detect(&bytes);
                if kind == Compression::None {
                    self.add_text(name, Data::Owned(bytes), params);
                } else {
                    self.add_compressed_text(name, &bytes[..], kind, params);
                }
            }
        }
    }

    /// Decompresses a whole plain-text input; a stream that breaks off keeps what was decoded
    /// and reports the rest as skipped.
    fn add_compressed_text(
        &mut self,
        name: String,
        input: impl BufRead,
        kind: Compression,
        params: &Params,
    ) {
        let mut text = TextSink::new(self.spill_dir.as_deref());
        let (mut newlines, mut spill_failed) = (0u64, false);
        // The length of the text up to its last newline: a stream that breaks off loses the
        // line it broke off in (reported), as a JSON Lines stream does. The same for `\r`, which
        // ends the lines of a text without any `\n` (see `segment::line_end`).
        let mut complete = 0u64;
        // For `\r`: the count, and the lengths up to the last one and up to the one before.
        let (mut returns, mut complete_cr, mut before_cr) = (0u64, 0u64, 0u64);
        let error = match decompress::decoder(input) {
            Ok((_, mut reader)) => {
                let mut buf = vec![0u8; READ_BUF];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break None,
                        Ok(n) => {
                            newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                            if let Err(e) = text.push(&buf[..n]) {
                                spill_failed = true;
                                break Some(e);
                            }
                            if let Some(last) = buf[..n].iter().rposition(|&b| b == b'\n') {
                                complete = text.len() - (n - last - 1) as u64;
                            }
                            if newlines == 0 {
                                let start = text.len() - n as u64;
                                for at in memchr::memchr_iter(b'\r', &buf[..n]) {
                                    returns += 1;
                                    before_cr = complete_cr;
                                    complete_cr = start + at as u64 + 1;
                                }
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Some(e),
                    }
                }
            }
            Err(e) => Some(e),
        };
        let id = self.sources.len();
        if newlines == 0 {
            // A `\r` that the stream broke off right after may be the first half of a `\r\n`:
            // it does not end a line.
            if error.is_some() && returns > 0 && complete_cr == text.len() {
                (returns, complete_cr) = (returns - 1, before_cr);
            }
            (newlines, complete) = (returns, complete_cr);
        }
        let error = match error {
            Some(e) if !spill_failed => match text.truncate(complete) {
                Ok(()) => Some(e),
                Err(t) => {
                    spill_failed = true;
                    Some(t)
                }
            },
            other => other,
        };
        let problem = error.map(|e| Skipped {
            source: name.clone(),
            line: 1 + newlines,
            byte: text.len(),
            reason: if spill_failed {
                format!(
                    "cannot keep the decompressed text in a temporary file ({e}); the rest of \
                     the file is skipped"
                )
            } else {
                format!(
                    "{} stream is corrupt or truncated ({e}); the rest of the file is skipped",
                    kind.name()
                )
            },
        });
        let had_text = text.len() > 0;
        let data = match text.finish() {
            Ok(data) => data,
            Err(e) => {
                return self.skipped.push(Skipped {
                    source: name,
                    line: 0,
                    byte: 0,
                    reason: format!(
                        "cannot map the temporary file of the decompressed text ({e}); the \
                         whole file is skipped"
                    ),
                })
            }
        };
        if had_text || problem.is_none() {
            self.add_text(name.clone(), data, params);
        }
        if let Some(s) = self.sources.get_mut(id) {
            s.compression = kind;
        }
        self.skipped.extend(problem);
    }

    /// Adds a plain-text input (decompressing it first when it is compressed).
    fn add_text(&mut self, name: String, data: Data, params: &Params) {
        let kind = Compression::detect(data.bytes());
        if kind != Compression::None {
            return self.add_compressed_text(name, data.bytes(), kind, params);
        }
        let id = self.sources.len() as u32;
        let all = data.bytes();
        let head = &all[..all.len().min(BINARY_HEAD)];
        if let Some(nul) = head.iter().position(|&b| b == 0) {
            // Lines counted by the line ends of the first 8 KB, which are all a stream of it
            // reads (`read_text_stream`): the same file on disk and through a pipe gives one
            // place.
            let head_eol = segment::line_end(head);
            let line = 1 + head[..nul].iter().filter(|&&b| b == head_eol).count() as u64;
            self.skipped.push(Skipped {
                source: name.clone(),
                line,
                byte: nul as u64,
                reason: "binary file (NUL byte); whole file skipped".into(),
            });
            // The file counts as read, but holds no text: its bytes are not kept (nor counted
            // in `total_bytes`, which was the whole file's size on disk and 8 KB through a
            // pipe).
            self.sources.push(Source::new(
                name,
                Data::Owned(Vec::new()),
                InputFormat::Text,
            ));
            return;
        }
        let mut source = Source::new(name, data, InputFormat::Text);
        source.line_end = segment::line_end(source.bytes());
        self.sources.push(source);
        let source = &self.sources[id as usize];
        let (bytes, eol) = (source.bytes(), source.line_end);
        let (paragraphs_before, skipped_before) = (self.paragraphs.len(), self.skipped.len());
        // Large line-split files are read in stretches cut at line starts, in parallel (in the
        // current rayon pool); lines and paragraph numbers are then made absolute, stretch by
        // stretch, so the result is that of one stretch over the whole file.
        let stretches: Vec<Stretch> = match params.split {
            SplitMode::Line if bytes.len() >= 2 * STRETCH => {
                use rayon::prelude::*;
                let body = if bytes.starts_with(b"\xEF\xBB\xBF") {
                    3
                } else {
                    0
                };
                let mut cuts = vec![body];
                let mut at = body + STRETCH;
                while at < bytes.len() {
                    match memchr::memchr(eol, &bytes[at..]) {
                        Some(i) if at + i + 1 < bytes.len() => cuts.push(at + i + 1),
                        _ => break,
                    }
                    at = cuts[cuts.len() - 1] + STRETCH;
                }
                cuts.push(bytes.len());
                cuts.par_windows(2)
                    .map(|w| {
                        let mut spans = Vec::new();
                        segment::line_paragraphs(bytes, w[0], w[1], eol, &mut spans);
                        Stretch::read(source, id, w[0], w[1], &spans, params)
                    })
                    .collect()
            }
            mode => {
                let spans = segment::paragraphs_ending(bytes, mode, eol);
                vec![Stretch::read(source, id, 0, bytes.len(), &spans, params)]
            }
        };
        // The stretches cover the text after a byte-order mark, itself UTF-8.
        let utf8 = stretches.iter().all(|st| st.utf8);
        let (mut line, mut index) = (1u64, 0u32);
        for st in stretches {
            self.paragraphs
                .extend(st.paragraphs.iter().map(|&(p, _)| Paragraph {
                    line: p.line + line,
                    ..p
                }));
            self.meta
                .extend(st.paragraphs.iter().map(|&(_, k)| ParaMeta {
                    record: NO_RECORD,
                    index: index + k,
                }));
            self.skipped.extend(st.skipped.into_iter().map(|s| Skipped {
                line: s.line + line,
                ..s
            }));
            line += st.newlines;
            index += st.spans;
        }
        self.sources[id as usize].utf8 = utf8;
        if self.paragraphs.len() == paragraphs_before && self.skipped.len() == skipped_before {
            self.skipped.push(Skipped {
                source: self.sources[id as usize].name.clone(),
                line: 0,
                byte: 0,
                reason: "empty: no paragraph in this input".into(),
            });
        }
    }

    /// Reads a JSON Lines file as a stream (decompressing it when its first bytes say so).
    fn add_jsonl_file(
        &mut self,
        name: String,
        path: &Path,
        options: &InputOptions,
        params: &Params,
        progress: Progress<'_>,
    ) {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return self.skip_file(&name, &e),
        };
        let counted = Counted {
            inner: file,
            count: 0,
            progress,
        };
        let (kind, reader) = match decompress::decoder(BufReader::with_capacity(READ_BUF, counted))
        {
            Ok(x) => x,
            Err(e) => return self.skip_file(&name, &e),
        };
        let id = self.sources.len();
        self.add_jsonl(name, reader, kind, options, params, progress);
        if let Some(s) = self.sources.get_mut(id) {
            s.path = Some(path.to_path_buf());
            s.compression = kind;
        }
    }

    /// Reads JSON Lines records from a (decompressed) stream: each non-blank line is a record,
    /// or a [`Skipped`] entry saying why it is not. Lines are read in batches and parsed in
    /// parallel (in the current rayon pool), then added in input order. `kind` is the
    /// stream's compression, which a stream that breaks off names.
    fn add_jsonl(
        &mut self,
        name: String,
        mut reader: impl BufRead,
        kind: Compression,
        options: &InputOptions,
        params: &Params,
        _progress: Progress<'_>,
    ) {
        use rayon::prelude::*;
        let mut state = JsonlState {
            id: self.sources.len() as u32,
            name,
            text: TextSink::new(options.spill_dir.as_deref()),
            read: 0,
            skipped_records: 0,
        };
        let first_record = self.records.len() as u32;
        let first_para_of_source = self.paragraphs.len();
        let skipped_before = self.skipped.len();
        let mut batch = Batch::default();
        let (mut line_no, mut offset) = (0u64, 0u64);
        let mut failure = None;
        let mut spill_failed = false;
        loop {
            let start = batch.bytes.len();
            let n = match reader.read_until(b'\n', &mut batch.bytes) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    batch.bytes.truncate(start);
                    continue;
                }
                Err(e) => {
                    let partial = !batch.bytes[start..].iter().all(u8::is_ascii_whitespace);
                    batch.bytes.truncate(start);
                    failure = Some((e, partial));
                    0
                }
            };
            if n > 0 {
                line_no += 1;
                batch
                    .lines
                    .push((line_no, offset, start, batch.bytes.len()));
                offset += n as u64;
            }
            let full = batch.bytes.len() >= BATCH_BYTES || batch.lines.len() >= BATCH_LINES;
            if n == 0 || full {
                let parsed: Vec<Parsed> = batch
                    .lines
                    .par_iter()
                    .map(|&(no, _, a, b)| parse_line(&batch.bytes[a..b], no, options, params))
                    .collect();
                for (&(no, at, _, _), p) in batch.lines.iter().zip(parsed) {
                    if let Err(e) = self.add_parsed(&mut state, no, at, p, params) {
                        // The decoded text cannot be kept: this record and the rest of the
                        // input are skipped, as after a broken stream.
                        state.read += 1;
                        state.skipped_records += 1;
                        self.skipped.push(Skipped {
                            source: state.name.clone(),
                            line: no,
                            byte: at,
                            reason: format!(
                                "cannot keep the decoded text in a temporary file ({e}); this \
                                 record and the rest of the file are skipped"
                            ),
                        });
                        spill_failed = true;
                        break;
                    }
                }
                batch.lines.clear();
                batch.bytes.clear();
            }
            if n == 0 || spill_failed {
                break;
            }
        }
        if let Some((e, partial)) = failure {
            // What came before the failure in this line is lost with the rest of the stream;
            // a partial line counts as a record, skipped with this entry.
            if partial {
                state.read += 1;
                state.skipped_records += 1;
            }
            self.skipped.push(Skipped {
                source: state.name.clone(),
                line: line_no + 1,
                byte: offset,
                reason: match kind {
                    Compression::None => {
                        format!("cannot read on ({e}); the rest of the file is skipped")
                    }
                    _ => format!(
                        "{} stream is corrupt or truncated ({e}); the rest of the file is skipped",
                        kind.name()
                    ),
                },
            });
        }
        let data = match state.text.finish() {
            Ok(data) => data,
            Err(e) => {
                // Mapping the finished file failed: its records cannot be read back.
                self.skipped.push(Skipped {
                    source: state.name.clone(),
                    line: 0,
                    byte: 0,
                    reason: format!(
                        "cannot map the temporary file of the decoded text ({e}); the whole \
                         file is skipped"
                    ),
                });
                state.skipped_records = state.read;
                self.paragraphs.truncate(first_para_of_source);
                self.meta.truncate(first_para_of_source);
                self.records.truncate(first_record as usize);
                Data::Owned(Vec::new())
            }
        };
        let mut source = Source::new(state.name, data, InputFormat::Jsonl);
        source.records_read = state.read;
        source.records_skipped = state.skipped_records;
        source.records = first_record..self.records.len() as u32;
        // Records whose text fields hold no paragraph (all empty or blank) make an empty
        // input too, as a plain-text file of blank lines does: nothing in it was checked. The
        // records are still written back by `dedup`.
        if self.skipped.len() == skipped_before && self.paragraphs.len() == first_para_of_source {
            self.skipped.push(Skipped {
                source: source.name.clone(),
                line: 0,
                byte: 0,
                reason: if state.read == 0 {
                    "empty: no record in this input".into()
                } else {
                    "empty: no paragraph in this input".into()
                },
            });
        }
        self.sources.push(source);
    }

    /// Adds one parsed line: a record with its paragraphs, or a skipped entry.
    fn add_parsed(
        &mut self,
        state: &mut JsonlState,
        line: u64,
        at: u64,
        p: Parsed,
        params: &Params,
    ) -> std::io::Result<()> {
        let (fields, spans) = match p {
            Parsed::Blank => return Ok(()),
            Parsed::Skip { reason, byte } => {
                state.read += 1;
                state.skipped_records += 1;
                self.skipped.push(Skipped {
                    source: state.name.clone(),
                    line,
                    byte: at + byte,
                    reason,
                });
                return Ok(());
            }
            Parsed::Record { fields, spans } => (fields, spans),
        };
        let base = state.text.len();
        state.text.push(fields.text.as_bytes())?;
        state.read += 1;
        let record = self.records.len() as u32;
        let doc = fields.id.unwrap_or_else(|| line.to_string());
        let first_para = self.paragraphs.len() as u32;
        for (index, span) in spans.into_iter().enumerate() {
            if span.end - span.start > params.max_paragraph_bytes {
                self.skipped.push(Skipped {
                    source: state.name.clone(),
                    line,
                    byte: at,
                    reason: format!(
                        "record {doc:?} paragraph {index}: paragraph of {} bytes is longer than \
                         the limit of {} bytes (max_paragraph_bytes)",
                        span.end - span.start,
                        params.max_paragraph_bytes
                    ),
                });
                continue;
            }
            self.paragraphs.push(Paragraph {
                source: state.id,
                line,
                start: base + span.start as u64,
                end: base + span.end as u64,
            });
            self.meta.push(ParaMeta {
                record,
                index: index as u32,
            });
        }
        self.records.push(Record {
            source: state.id,
            doc,
            line,
            byte: at,
            order: fields.order,
            text: base..state.text.len(),
            paragraphs: first_para..self.paragraphs.len() as u32,
        });
        Ok(())
    }
}

/// Lines of JSON Lines are parsed in parallel batches of this many bytes or lines.
const BATCH_BYTES: usize = 8 << 20;
const BATCH_LINES: usize = 16 * 1024;

/// A batch of lines: their bytes one after the other, and per line its number, its offset in
/// the stream and its range in `bytes`.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    lines: Vec<(u64, u64, usize, usize)>,
}

/// Where the decoded text of a JSON Lines source goes: memory, or an unnamed temporary file
/// (mapped when complete).
enum TextSink {
    Memory(Vec<u8>),
    File {
        writer: std::io::BufWriter<File>,
        len: u64,
    },
}

impl TextSink {
    /// A temporary file in `dir`, or memory when there is no directory or the file cannot be
    /// made (the run goes on, with the text in memory).
    fn new(dir: Option<&Path>) -> TextSink {
        match dir.map(tempfile::tempfile_in) {
            Some(Ok(file)) => TextSink::File {
                writer: std::io::BufWriter::with_capacity(READ_BUF, file),
                len: 0,
            },
            _ => TextSink::Memory(Vec::new()),
        }
    }

    fn len(&self) -> u64 {
        match self {
            TextSink::Memory(v) => v.len() as u64,
            TextSink::File { len, .. } => *len,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        match self {
            TextSink::Memory(v) => v.extend_from_slice(bytes),
            TextSink::File { writer, len } => {
                writer.write_all(bytes)?;
                *len += bytes.len() as u64;
            }
        }
        Ok(())
    }

    /// Drops everything after the first `len` bytes.
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        use std::io::Write;
        match self {
            TextSink::Memory(v) => v.truncate(len as usize),
            TextSink::File { writer, len: have } if len < *have => {
                writer.flush()?;
                writer.get_ref().set_len(len)?;
                *have = len;
            }
            TextSink::File { .. } => {}
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<Data> {
        match self {
            TextSink::Memory(v) => Ok(Data::Owned(v)),
            TextSink::File { len: 0, .. } => Ok(Data::Owned(Vec::new())),
            TextSink::File { writer, .. } => {
                let file = writer.into_inner().map_err(|e| e.into_error())?;
                // SAFETY: the file is unnamed (no other process can reach it) and only read
                // from here on.
                let map = unsafe { memmap2::Mmap::map(&file)? };
                Ok(Data::Mapped(map))
            }
        }
    }
}

/// One JSON Lines source being read.
struct JsonlState {
    id: u32,
    name: String,
    text: TextSink,
    read: u64,
    skipped_records: u64,
}

/// What one line of JSON Lines is.
enum Parsed {
    /// Blank: not a record.
    Blank,
    /// Unusable, with why and the offset of the problem in the line.
    Skip { reason: String, byte: u64 },
    /// A record, with the paragraph spans of its text.
    Record {
        fields: Fields,
        spans: Vec<segment::Span>,
    },
}

fn parse_line(raw: &[u8], line_no: u64, options: &InputOptions, params: &Params) -> Parsed {
    let line = trim_line_end(raw);
    // A byte order mark before the first line is not part of it (and a line of only a mark
    // is blank).
    let bom = if line_no == 1 && line.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let line = &line[bom..];
    if line.iter().all(u8::is_ascii_whitespace) {
        return Parsed::Blank;
    }
    let line = match std::str::from_utf8(line) {
        Ok(l) => l,
        Err(e) => {
            return Parsed::Skip {
                reason: "invalid UTF-8; record skipped".into(),
                byte: (bom + e.valid_up_to()) as u64,
            }
        }
    };
    match Fields::parse_after(
        line,
        bom,
        &options.text_field,
        &options.id_field,
        options.order_field.as_ref(),
    ) {
        Ok(fields) => {
            let spans = segment::paragraphs(fields.text.as_bytes(), params.split);
            Parsed::Record { fields, spans }
        }
        Err(reason) => Parsed::Skip {
            reason: format!("{reason}; record skipped"),
            byte: 0,
        },
    }
}

/// A line without its `\n` or `\r\n` ending.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Counts the bytes read from a file, for progress.
struct Counted<'a, R> {
    inner: R,
    count: u64,
    progress: Progress<'a>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.count >> 22;
        self.count += n as u64;
        if self.count >> 22 != before {
            (self.progress)(self.count);
        }
        Ok(n)
    }
}

type WalkError = (PathBuf, std::io::Error);

/// The files that reading `paths` would read (directories walked as [`Corpus::open`] walks
/// them: sorted, recursive, hidden entries and links to directories left out, only
/// [`WALK_EXTENSIONS`] inside directories), with their sizes on disk. Paths that cannot be
/// read, and `-` (standard input), are left out.
///
/// ```
/// let files = syndup::input::files_to_read(&["corpus/seed"]);
/// assert!(files.iter().any(|(p, _)| p.ends_with("000_eabddb1ef9b5a4a1.txt")));
/// assert!(files.iter().all(|(p, _)| !p.ends_with("gold.tsv")));
/// ```
pub fn files_to_read<P: AsRef<Path>>(paths: &[P]) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    for path in paths {
        if path.as_ref() != Path::new("-") {
            let _ = walk(path.as_ref(), true, &mut found);
        }
    }
    found
        .into_iter()
        .filter_map(|f| f.ok())
        .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, m.len())))
        .collect()
}

/// Collects the files below `path` in sorted order. `top` marks a path given by the user, which
/// is read whatever its extension and kind. Inside a walked directory only regular files with a
/// [`WALK_EXTENSIONS`] extension are read (a named pipe would block, a device would never end),
/// hidden entries are left out, and symbolic links to directories are not followed, so a link
/// loop cannot make the walk read the same files again and again.
fn walk(
    path: &Path,
    top: bool,
    out: &mut Vec<Result<PathBuf, WalkError>>,
) -> Result<(), WalkError> {
    let meta = std::fs::metadata(path).map_err(|e| (path.to_path_buf(), e))?;
    if !meta.is_dir() {
        if top || (meta.is_file() && has_walk_extension(path)) {
            out.push(Ok(path.to_path_buf()));
        }
        return Ok(());
    }
    if !top {
        let link = std::fs::symlink_metadata(path).map_err(|e| (path.to_path_buf(), e))?;
        if link.file_type().is_symlink() {
            return Ok(());
        }
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| (path.to_path_buf(), e))? {
        match entry {
            Ok(e) => entries.push(e.path()),
            Err(e) => out.push(Err((path.to_path_buf(), e))),
        }
    }
    entries.sort();
    let before = out.len();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if let Err(e) = walk(&entry, false, out) {
            out.push(Err(e));
        }
    }
    if top && out.len() == before {
        out.push(Err((
            path.to_path_buf(),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "directory has no file to read (looked for .{})",
                    WALK_EXTENSIONS.join(", .")
                ),
            ),
        )));
    }
    Ok(())
}

fn has_walk_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| WALK_EXTENSIONS.iter().any(|w| e.eq_ignore_ascii_case(w)))
}

/// How many bytes at the start of a plain-text input are looked at for a NUL byte, which makes
/// it a binary file, skipped whole.
const BINARY_HEAD: usize = 8192;

/// Reads a plain-text stream (standard input, a pipe, a special file) to its end, unless its
/// first [`BINARY_HEAD`] bytes already make it a binary file: then only those are read, as
/// only they are looked at, and a stream without end (`/dev/zero`) ends there.
fn read_text_stream(mut reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    (&mut reader)
        .take(BINARY_HEAD as u64)
        .read_to_end(&mut buf)?;
    if Compression::detect(&buf) == Compression::None && buf.contains(&0) {
        return Ok(buf);
    }
    reader.read_to_end(&mut buf)?;
    Ok(buf)
}

/// Maps a file, falling back to reading it where mapping is impossible (empty files, pipes,
/// special files).
fn load(path: &Path) -> std::io::Result<Data> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only. If another process truncates the file while syndup
        // reads it, the process may receive SIGBUS; syndup documents that inputs must not be
        // modified during a run (the same contract as ripgrep's `--mmap`).
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            return Ok(Data::Mapped(map));
        }
    }
    Ok(Data::Owned(read_text_stream(file)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain text read in stretches (of 256 bytes in debug builds) gives what reading it line
    /// by line gives: the same paragraphs with the same lines and byte ranges, the same
    /// skipped lines (too long, invalid UTF-8) with the same line and byte, and the same
    /// paragraph numbers; with a byte order mark at the start (skipped) or inside (kept), CRLF
    /// and blank lines, over many random files.
    /// A JSON Lines file's byte order mark is not part of its first line: a first line of only
    /// the mark is blank (it was "malformed JSON at column 0"), and a problem on the first line
    /// is at its offset in the line, the mark counted.
    #[test]
    fn jsonl_byte_order_mark_before_a_blank_line() {
        let record = r#"{"id":"a","text":"One paragraph of text."}"#;
        let opts = InputOptions::default();
        let p = Params::default();
        for input in [
            format!("\u{feff}\n{record}\n"),
            format!("\u{feff}{record}\n"),
        ] {
            let c = Corpus::from_bytes(&[("f.jsonl", input.as_bytes())], &opts, &p);
            assert!(c.skipped.is_empty(), "{input:?}: {:?}", c.skipped);
            assert_eq!((c.records.len(), c.paragraphs.len()), (1, 1), "{input:?}");
        }
        let bad = b"\xEF\xBB\xBF{\"text\":\"caf\xff\"}\n";
        let c = Corpus::from_bytes(&[("f.jsonl", &bad[..])], &opts, &p);
        assert_eq!(c.skipped.len(), 1, "{:?}", c.skipped);
        assert_eq!((c.skipped[0].line, c.skipped[0].byte), (1, 15));
        // Columns in JSON errors are the line's too: the same record with and without the mark
        // is wrong three columns apart (`:` missing; a lone surrogate in the text).
        for body in [r#"{"id":1,"text" "x"}"#, r#"{"text":"a\ud800"}"#] {
            let column = |input: String| {
                let c = Corpus::from_bytes(&[("f.jsonl", input.as_bytes())], &opts, &p);
                assert_eq!(c.skipped.len(), 1, "{input:?}: {:?}", c.skipped);
                let reason = &c.skipped[0].reason;
                let (_, after) = reason.split_once("at column ").unwrap_or(("", ""));
                let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<usize>().unwrap_or(0)
            };
            let plain = column(format!("{body}\n"));
            assert!(plain > 0, "{body}");
            assert_eq!(column(format!("\u{feff}{body}\n")), plain + 3, "{body}");
        }
    }

    #[test]
    fn stretches_read_as_one() {
        // Lines longer than a stretch too, so that some cuts find no line end for a while.
        let long_words = "word ".repeat(120);
        let long_space = " ".repeat(600);
        let pieces: [&[u8]; 11] = [
            long_words.as_bytes(),
            long_space.as_bytes(),
            b"",
            b"   ",
            b"a short line of words",
            b"another line, a bit longer than the short one before it",
            b"bad \xff byte",
            b"line with a carriage return\r",
            b"\xEF\xBB\xBFbom inside",
            b"x",
            b"a line that is far too long for the limit set in this test, longer than sixty",
        ];
        let params = Params {
            max_paragraph_bytes: 60,
            ..Params::default()
        };
        let mut next = crate::test_rng(0x2545_f491_4f6c_dd1du64);
        let (mut stretched, mut found, mut stretched_cr) = (0, 0, 0);
        for round in 0..200 {
            let mut bytes: Vec<u8> = if round % 3 == 0 {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            let lines = (next() % 120) as usize;
            // One round in four ends its lines in `\r` alone (classic Mac OS).
            let end = if round % 4 == 1 { b'\r' } else { b'\n' };
            for i in 0..lines {
                bytes.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                if i + 1 < lines || next().is_multiple_of(2) {
                    bytes.push(end);
                }
            }
            // The oracle: line by line, lines ending in `\r` when there is no `\n` at all.
            let eol = if !bytes.contains(&b'\n') && bytes.contains(&b'\r') {
                b'\r'
            } else {
                b'\n'
            };
            let body = if bytes.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            let (mut want_paras, mut want_skipped) = (Vec::new(), Vec::new());
            let (mut start, mut number) = (body, 0u32);
            for (k, line) in bytes[body..].split(|&b| b == eol).enumerate() {
                let (mut s, mut e) = (start, start + line.len());
                start = e + 1;
                while s < e && bytes[s].is_ascii_whitespace() {
                    s += 1;
                }
                while e > s && bytes[e - 1].is_ascii_whitespace() {
                    e -= 1;
                }
                // A UTF-8 line is also trimmed of Unicode whitespace and invisible characters
                // (the byte order mark of "\u{feff}bom inside").
                if let Ok(t) = std::str::from_utf8(&bytes[s..e]) {
                    let space = |c: char| {
                        c.is_ascii_whitespace()
                            || (!c.is_ascii()
                                && (c.is_whitespace()
                                    || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')))
                    };
                    let kept = t.trim_start_matches(space);
                    s += t.len() - kept.len();
                    e = s + kept.trim_end_matches(space).len();
                }
                if s == e {
                    continue;
                }
                let line_no = k as u64 + 1;
                if e - s > 60 {
                    want_skipped.push((line_no, s as u64));
                } else if let Err(err) = std::str::from_utf8(&bytes[s..e]) {
                    want_skipped.push((line_no, (s + err.valid_up_to()) as u64));
                } else {
                    want_paras.push((line_no, s as u64, e as u64, number));
                }
                number += 1;
            }
            let mut corpus = Corpus::default();
            corpus.add_text("x".into(), Data::Owned(bytes.clone()), &params);
            let got_paras: Vec<_> = corpus
                .paragraphs
                .iter()
                .zip(&corpus.meta)
                .map(|(p, m)| (p.line, p.start, p.end, m.index))
                .collect();
            let got_skipped: Vec<_> = corpus
                .skipped
                .iter()
                .filter(|s| s.line > 0)
                .map(|s| (s.line, s.byte))
                .collect();
            assert_eq!(got_paras, want_paras, "round {round}");
            assert_eq!(got_skipped, want_skipped, "round {round}");
            if bytes.len() >= 2 * STRETCH {
                stretched += 1;
                found += got_paras.len() + got_skipped.len();
                stretched_cr += usize::from(eol == b'\r');
            }
        }
        // Most files were cut into stretches, and they held paragraphs; files of `\r` lines
        // were among them.
        assert!(
            stretched > 150 && found > 1000 && stretched_cr > 30,
            "{stretched} files ({stretched_cr} of `\\r` lines), {found} found"
        );
    }

    #[test]
    fn invalid_utf8_paragraph_is_reported_not_dropped() {
        let mut corpus = Corpus::default();
        let bytes = b"good line\nbad \xff line\nanother good\n".to_vec();
        corpus.add_text("x".into(), Data::Owned(bytes), &Params::default());
        assert_eq!(corpus.paragraphs.len(), 2);
        assert_eq!(corpus.skipped.len(), 1);
        assert_eq!(corpus.skipped[0].line, 2);
        assert_eq!(corpus.skipped[0].byte, 14);
    }

    #[test]
    fn text_is_checked_once_and_never_cut_inside_a_character() {
        // A source checked whole when read gives its paragraphs without a second check; a span
        // a caller cuts inside a character ("é" is bytes 3..5) must still give no text rather
        // than an invalid `str`.
        let mut corpus = Corpus::default();
        let text = "Café au lait is served.\nThe second paragraph.\n";
        corpus.add_text("t".into(), Data::Owned(text.into()), &Params::default());
        assert!(corpus.sources[0].utf8);
        let first = corpus.paragraphs[0];
        assert_eq!(corpus.text(&first), "Café au lait is served.");
        assert_eq!(corpus.text(&corpus.paragraphs[1]), "The second paragraph.");
        let cut = |start: u64, end: u64| {
            corpus.text(&Paragraph {
                start,
                end,
                ..first
            })
        };
        assert_eq!(cut(0, 3), "Caf");
        assert_eq!(cut(0, 4), "");
        assert_eq!(cut(4, 8), "");
        assert_eq!(cut(3, 8), "é au");
        // A source with a byte that is not UTF-8 is not marked: its paragraphs are checked
        // one by one, and the bad one skipped (as above).
        let mut bad = Corpus::default();
        let bytes = b"good line\nbad \xff line\n".to_vec();
        bad.add_text("x".into(), Data::Owned(bytes), &Params::default());
        assert!(!bad.sources[0].utf8);
        assert_eq!(bad.text(&bad.paragraphs[0]), "good line");
        assert_eq!(bad.skipped.len(), 1);
    }

    #[test]
    fn binary_file_is_skipped_whole() {
        let mut corpus = Corpus::default();
        corpus.add_text(
            "b".into(),
            Data::Owned(b"ab\ncd\0ef".to_vec()),
            &Params::default(),
        );
        assert!(corpus.paragraphs.is_empty());
        assert_eq!(corpus.skipped[0].byte, 5);
        assert_eq!(corpus.skipped[0].line, 2);
    }

    #[test]
    fn long_paragraph_is_skipped() {
        let p = Params {
            max_paragraph_bytes: 10,
            ..Params::default()
        };
        let c = Corpus::from_texts(&[("x", "short\nthis line is too long\n")], &p);
        assert_eq!(c.paragraphs.len(), 1);
        assert_eq!(c.skipped.len(), 1);
        assert_eq!(c.skipped[0].line, 2);
    }

    #[test]
    fn empty_input_is_reported() {
        let c = Corpus::from_texts(
            &[("e", ""), ("w", " \n\n\t\n"), ("ok", "a\n")],
            &Params::default(),
        );
        let names: Vec<_> = c.skipped.iter().map(|s| s.source.as_str()).collect();
        assert_eq!(names, ["e", "w"]);
        assert!(c.skipped[0].reason.starts_with("empty"));
    }

    /// Deterministic random-input smoke test of the readers (the fuzz targets in `tests/fuzz`
    /// explore further): mutated JSON Lines, plain text and compressed seeds never panic and
    /// always give a consistent corpus, and the dedup pass over them balances its accounting.
    #[test]
    fn random_inputs_give_consistent_corpora() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"text\":\"a b\\nc\"}\n{\"text\":\"a b\"}\n")
            .unwrap();
        let seeds: Vec<Vec<u8>> = vec![
            b"{\"id\":1,\"text\":\"One two.\\n\\nThree\",\"d\":\"x\"}\n[1]\n{\"text\":3}\n"
                .to_vec(),
            b"{\"m\":{\"id\":\"q\"},\"text\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\\r\\nx\"}\r\n\n"
                .to_vec(),
            b"plain text\n\n  second para \n\xef\xbb\xbfbom\n".to_vec(),
            gz.finish().unwrap(),
            zstd::encode_all(&b"{\"text\":\"z\"}\n"[..], 1).unwrap(),
        ];
        let mut next = crate::test_rng(0x2545_f491_4f6c_dd1du64);
        let options = InputOptions {
            order_field: Some(FieldPath::new("d")),
            id_field: FieldPath::new("m.id"),
            ..InputOptions::default()
        };
        for round in 0..3000 {
            let mut data = seeds[round % seeds.len()].clone();
            for _ in 0..(next() % 6) {
                let at = (next() as usize) % (data.len() + 1);
                match next() % 4 {
                    0 if !data.is_empty() => {
                        data.remove(at.min(data.len() - 1));
                    }
                    1 => data.insert(at, next() as u8),
                    2 => data.insert(at, b"\"\\{}[]:,\n\r\xff\x00"[(next() % 12) as usize]),
                    _ => data.truncate(at),
                }
            }
            for (name, split) in [("f.jsonl", SplitMode::Line), ("f.txt", SplitMode::Blank)] {
                let params = Params {
                    split,
                    max_paragraph_bytes: 8,
                    ..Params::default()
                };
                let corpus = Corpus::from_bytes(&[(name, &data)], &options, &params);
                corpus
                    .check_consistency()
                    .unwrap_or_else(|e| panic!("{e}: {data:?}"));
                let plan = crate::dedup::Plan::default();
                let mut out = Vec::new();
                let tally = plan
                    .write_output(&corpus, &params, &options, &mut out, &|_| {})
                    .unwrap_or_else(|e| panic!("{e}: {data:?}"));
                assert!(tally.is_balanced(), "{tally:?}: {data:?}");
            }
        }
    }

    #[test]
    fn lines_and_offsets() {
        let c = Corpus::from_texts(&[("x", "\u{feff}a b\r\n\n  \n c d \n")], &Params::default());
        let got: Vec<_> = c
            .paragraphs
            .iter()
            .map(|p| (p.line, p.start, c.text(p)))
            .collect();
        assert_eq!(got, vec![(1, 3, "a b"), (4, 13, "c d")]);
    }
}
