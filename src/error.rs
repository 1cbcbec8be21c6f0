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
    /// Writing output failed.
    #[error("cannot write output")]
    Write(#[source] std::io::Error),
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
    #[error("{}: is an input file; refusing to overwrite it (choose another --output)", .path.display())]
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
    /// The inputs cannot be written to one output (e.g. plain text mixed with JSON Lines).
    #[error("{reason}")]
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
