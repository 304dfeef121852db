//! One module per subcommand.

mod mock;
mod pipeline;
mod run;
mod signal;

use crate::cli::Command;
use crate::exit::Exit;

pub fn dispatch(command: Command) -> Result<u8, Exit> {
    match command {
        Command::Mock(args) => mock::run(*args),
        Command::Run(args) => run::run(*args),
        Command::Pipeline(args) => pipeline::run(*args),
        Command::Report(_) => pending("report", "the HTML report"),
        Command::Compare(_) => pending("compare", "run comparison"),
        Command::Matrix(_) => pending("matrix", "the configuration matrix runner"),
        Command::Gate(_) => pending("gate", "the regression gate"),
        Command::Merge(_) => pending("merge", "segmented runs"),
    }
}

fn pending(name: &str, what: &str) -> Result<u8, Exit> {
    Err(Exit::usage(anyhow::anyhow!(
        "`genbench {name}` does not exist yet: it arrives with {what}. \
         Available now: `genbench mock` (see `genbench mock --help`)."
    )))
}
