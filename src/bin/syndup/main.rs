//! The `syndup` command: parses flags, calls the library, maps outcomes to exit codes.

mod cli;
mod cmd;
mod exit;
mod progress;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cmd::dispatch(cli) {
        Ok(code) => code.into(),
        Err(err) if exit::is_broken_pipe(&err) => exit::Exit::Clean.into(),
        Err(err) => {
            eprintln!("syndup: {err:#}");
            exit::Exit::Error.into()
        }
    }
}
