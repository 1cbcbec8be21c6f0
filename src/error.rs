//! Typed errors of the library.
//!
//! Fatal problems are [`Error`] values; every variant names the file (and, where there is one, the
//! line) it is about. Problems with one record of input are not errors: they become
//! [`Skipped`](crate::input::Skipped) entries that reach the report, so nothing is lost silently.

use std::path::PathBuf;

/// A fatal error of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: cannot read", .path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A gold file has a line that does not parse.
    #[error("{}:{line}: {reason}", .path.display())]
    Gold {
        /// The gold file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A parameter is out of range or inconsistent with another.
    #[error("invalid parameter `{name}`: {reason}")]
    Param {
        /// The parameter's name, as in [`Params`](crate::Params).
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A configuration file (`syndup.toml`) does not parse or holds an unusable value.
    #[error("{}: {reason}", .path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong (with the line and column where the parser knows them).
        reason: String,
    },
    /// A `check` baseline file is not one, or has an unknown version.
    #[error("{}: {reason}", .path.display())]
    Baseline {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong, and how to fix it.
        reason: String,
    },
    /// An allow-list pattern is not a valid regular expression.
    #[error("allow pattern `{pattern}`: {reason}")]
    Allow {
        /// The pattern as given.
        pattern: String,
        /// The regex compiler's explanation.
        reason: String,
    },
    /// A reference corpus for `check --against` cannot be used.
    #[error("{}: {reason}", .path.display())]
    Reference {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A file could not be written.
    #[error("{}: cannot write", .path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing output failed.
    #[error("cannot write output")]
    Write(#[source] std::io::Error),
    /// The file is not a syndup index (its first bytes are not the index magic).
    #[error("{}: not a syndup index (no SYNDUPIX magic bytes)", .path.display())]
    NotAnIndex {
        /// The file.
        path: PathBuf,
    },
    /// The index file was written in another format version.
    #[error(
        "{}: index format v{got}, this syndup reads v1 to v{expected}; rebuild it with `syndup index build`",
        .path.display()
    )]
    IndexVersion {
        /// The file.
        path: PathBuf,
        /// The newest version this syndup reads (it reads every earlier one too).
        expected: u32,
        /// The file's version.
        got: u32,
    },
    /// The index file is damaged: truncated, checksum mismatch, or inconsistent contents.
    #[error("{}: corrupt index: {reason}", .path.display())]
    IndexCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The index was built with other parameters than the ones asked for.
    #[error("{}: the index was built with other parameters: {differences}", .path.display())]
    ParamsMismatch {
        /// The file.
        path: PathBuf,
        /// Each differing parameter, as `name: index VALUE, given VALUE`, separated by `; `.
        differences: String,
    },
    /// Writing an index file failed (the previous file, if any, is left as it was).
    #[error("{}: cannot write the index", .path.display())]
    IndexWrite {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a named output file failed.
    #[error("{}: cannot write", .path.display())]
    WriteTo {
        /// The output file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The output path is one of the inputs (compared as canonical paths).
    #[error("{}: is an input file; refusing to overwrite it (choose another path)", .path.display())]
    WouldOverwrite {
        /// The output path.
        path: PathBuf,
    },
    /// An input was different when read the second time (it must not change during a run).
    #[error("{}:{line}: input changed while syndup was reading it: {reason}", .path.display())]
    InputChanged {
        /// The input.
        path: PathBuf,
        /// 1-based line where the difference was found.
        line: u64,
        /// What differed.
        reason: String,
    },
    /// A temporary file (for data kept out of memory during a run) could not be made, written
    /// or read.
    #[error("{}: cannot use a temporary file in this directory", .dir.display())]
    TempFile {
        /// The directory of the temporary file.
        dir: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The inputs cannot be written to one output (e.g. plain text mixed with JSON Lines).
    #[error("{reason}")]
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A whole file read as UTF-8 text (a gold file, a baseline, a config file): an
/// [`Error::Read`] naming the file when it cannot be read, and, when it is not UTF-8, the line
/// and byte where it stops being so.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String> {
    let read = |source: std::io::Error| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("invalid UTF-8 at line {line} (byte {at})"),
        ))
    })
}
