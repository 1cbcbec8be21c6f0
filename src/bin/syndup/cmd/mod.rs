//! One module per subcommand.

pub mod check;
pub mod dedup;
pub mod eval;
pub mod generate;
pub mod index;
pub mod scan;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Check(args) => check::run(args),
        Command::Index(args) => index::run(args),
        Command::Dedup(args) => dedup::run(args),
    }
}
