//! One module per subcommand.

pub mod dedup;
pub mod eval;
pub mod scan;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Dedup(args) => dedup::run(args),
    }
}
