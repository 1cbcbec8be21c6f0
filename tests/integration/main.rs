//! End-to-end tests of the `syndup` binary: each test runs the real executable
//! (`CARGO_BIN_EXE_syndup`) on the bundled corpus or on files made in a temporary directory and
//! checks its output, exit code and messages.

mod bad_input;
mod check;
mod dedup;
mod determinism;
mod gold;
mod index_api;
mod index_cli;
mod scan;
mod util;
