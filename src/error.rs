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
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
