//! Stage 1: input. Paths in, sources and paragraphs out.
//!
//! Takes paths (files, directories walked recursively in sorted order, or `-` for standard
//! input) and gives a [`Corpus`]: the bytes of every source (memory-mapped where possible, read
//! otherwise), the byte span of every paragraph in them, and a [`Skipped`] entry for everything
//! that could not be used (an unreadable file, a binary file, a paragraph that is not valid UTF-8
//! or is too long). Nothing is dropped silently: every paragraph is either in
//! [`Corpus::paragraphs`] or covered by a [`Skipped`] entry.
//!
//! ```
//! use syndup::input::Corpus;
//! let corpus = Corpus::from_texts(&[("a.txt", "First paragraph.\n\nSecond one.\n")], &Default::default());
//! assert_eq!(corpus.paragraphs.len(), 2);
//! assert_eq!(corpus.paragraphs[1].line, 3);
//! assert_eq!(corpus.text(&corpus.paragraphs[1]), "Second one.");
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::params::Params;
use crate::segment;

/// File extensions read when walking a directory. Files named on the command line are always
/// read; inside directories other files (such as `gold.tsv`) are left out.
pub const WALK_EXTENSIONS: &[&str] = &["txt", "text", "md"];

/// The bytes of one input.
enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

/// One input file (or standard input), with its bytes.
pub struct Source {
    /// The path as given, or the given directory joined with the path below it; `-` for stdin.
    pub name: String,
    data: Data,
}

impl Source {
    /// The source's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }

    /// Whether the bytes are memory-mapped (rather than read into memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, Data::Mapped(_))
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

/// Everything read from the input paths.
#[derive(Default)]
pub struct Corpus {
    /// The sources, in input order (directories walked in sorted order).
    pub sources: Vec<Source>,
    /// Every usable paragraph, in source order then byte order.
    pub paragraphs: Vec<Paragraph>,
    /// What could not be used.
    pub skipped: Vec<Skipped>,
}

impl Corpus {
    /// Reads the given paths. Problems with a single file are recorded in [`Corpus::skipped`]
    /// rather than returned, so one bad file does not stop a scan.
    pub fn open<P: AsRef<Path>>(paths: &[P], params: &Params) -> Corpus {
        let mut corpus = Corpus::default();
        for path in paths {
            let path = path.as_ref();
            if path == Path::new("-") {
                let mut buf = Vec::new();
                match std::io::stdin().lock().read_to_end(&mut buf) {
                    Ok(_) => corpus.add("-".to_string(), Data::Owned(buf), params),
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
                        let name = file.display().to_string();
                        match load(&file) {
                            Ok(data) => corpus.add(name, data, params),
                            Err(e) => corpus.skip_file(&name, &e),
                        }
                    }
                    Err((p, e)) => corpus.skip_file(&p.display().to_string(), &e),
                }
            }
        }
        corpus
    }

    /// Builds a corpus from in-memory texts, as `(name, text)` pairs.
    pub fn from_texts(texts: &[(&str, &str)], params: &Params) -> Corpus {
        let mut corpus = Corpus::default();
        for (name, text) in texts {
            corpus.add(
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
        let bytes = &self.sources[p.source as usize].bytes()[p.start as usize..p.end as usize];
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The name of a paragraph's source.
    pub fn source_name(&self, p: &Paragraph) -> &str {
        &self.sources[p.source as usize].name
    }

    /// Total bytes of all sources.
    pub fn total_bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.bytes().len() as u64).sum()
    }

    fn skip_file(&mut self, name: &str, err: &std::io::Error) {
        self.skipped.push(Skipped {
            source: name.to_string(),
            line: 0,
            byte: 0,
            reason: format!("cannot read: {err}"),
        });
    }

    fn add(&mut self, name: String, data: Data, params: &Params) {
        let id = self.sources.len() as u32;
        self.sources.push(Source { name, data });
        let source = &self.sources[id as usize];
        let bytes = source.bytes();
        let head = &bytes[..bytes.len().min(8192)];
        if let Some(nul) = head.iter().position(|&b| b == 0) {
            let line = 1 + head[..nul].iter().filter(|&&b| b == b'\n').count() as u64;
            self.skipped.push(Skipped {
                source: source.name.clone(),
                line,
                byte: nul as u64,
                reason: "binary file (NUL byte); whole file skipped".into(),
            });
            return;
        }
        let (paragraphs_before, skipped_before) = (self.paragraphs.len(), self.skipped.len());
        let mut line = 1u64;
        let mut counted_to = 0usize;
        for span in segment::paragraphs(bytes, params.split) {
            line += bytes[counted_to..span.start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = span.start;
            let text = &bytes[span.start..span.end];
            if text.len() > params.max_paragraph_bytes {
                self.skipped.push(Skipped {
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
            if let Err(e) = std::str::from_utf8(text) {
                let bad_line = line
                    + text[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                self.skipped.push(Skipped {
                    source: source.name.clone(),
                    line: bad_line,
                    byte: (span.start + e.valid_up_to()) as u64,
                    reason: "invalid UTF-8; paragraph skipped".into(),
                });
                continue;
            }
            self.paragraphs.push(Paragraph {
                source: id,
                line,
                start: span.start as u64,
                end: span.end as u64,
            });
        }
        if self.paragraphs.len() == paragraphs_before && self.skipped.len() == skipped_before {
            self.skipped.push(Skipped {
                source: self.sources[id as usize].name.clone(),
                line: 0,
                byte: 0,
                reason: "empty: no paragraph in this input".into(),
            });
        }
    }
}

type WalkError = (PathBuf, std::io::Error);

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

/// Maps a file, falling back to reading it where mapping is impossible (empty files, pipes,
/// special files).
fn load(path: &Path) -> std::io::Result<Data> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only. If another process truncates the file while syndup
        // reads it, the process may receive SIGBUS; syndup documents that inputs must not be
        // modified during a run (the same contract as ripgrep's `--mmap`).
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            return Ok(Data::Mapped(map));
        }
    }
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    Ok(Data::Owned(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_paragraph_is_reported_not_dropped() {
        let mut corpus = Corpus::default();
        let bytes = b"good line\nbad \xff line\nanother good\n".to_vec();
        corpus.add("x".into(), Data::Owned(bytes), &Params::default());
        assert_eq!(corpus.paragraphs.len(), 2);
        assert_eq!(corpus.skipped.len(), 1);
        assert_eq!(corpus.skipped[0].line, 2);
        assert_eq!(corpus.skipped[0].byte, 14);
    }

    #[test]
    fn binary_file_is_skipped_whole() {
        let mut corpus = Corpus::default();
        corpus.add(
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
