//! Exit codes, in one place (documented in the README).

/// The process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, and every input was used.
    Clean = 0,
    /// 1: a gate failed: `check` found new duplication over its budget (the findings are
    /// printed), or `eval`'s `--min-recall`/`--min-precision` was not met. An error outranks
    /// it: a run with skipped input exits 2 even when over budget.
    Findings = 1,
    /// 2: an error, bad usage, or some input was skipped (and listed).
    Error = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// Whether an error chain ends in a broken pipe (`syndup scan | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `code` once a report was written, or when its reader went away (a broken pipe: `syndup check
/// | head -1` still exits with the verdict, and a scan with skipped input with 2); the error
/// otherwise.
pub fn after_report(written: anyhow::Result<()>, code: Exit) -> anyhow::Result<Exit> {
    match written {
        Err(err) if !is_broken_pipe(&err) => Err(err),
        _ => Ok(code),
    }
}
