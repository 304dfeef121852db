//! One module per subcommand.

mod ab;
mod compare;
pub(crate) mod exposure;
mod gate;
mod k8s;
mod matrix;
mod merge;
mod mock;
mod pipeline;
mod record;
mod report;
mod run;
mod signal;

use crate::cli::Command;
use crate::exit::Exit;

pub fn dispatch(command: Command) -> Result<u8, Exit> {
    match command {
        Command::Mock(args) => mock::run(*args),
        Command::Run(args) => run::run(*args),
        Command::Pipeline(args) => pipeline::run(*args),
        Command::Report(args) => report::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Matrix(args) => matrix::run(*args),
        Command::Gate(args) => gate::run(args),
        Command::Ab(args) => ab::run(*args),
        Command::Merge(args) => merge::run(args),
        Command::K8s(args) => k8s::run(args),
        Command::Record(args) => record::run(args),
    }
}
