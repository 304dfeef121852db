//! The `genbench` command: CLI, run orchestration and (from the engine issue
//! on) the load engine. It is the only crate that depends on all the others,
//! and nothing depends on it; clap types stay here and are turned into the
//! other crates' validated configs before anything runs.

mod cli;
mod cmd;
mod collect;
pub mod engine;
mod exit;
#[doc(hidden)]
pub mod fuzzing;
mod k8s;
mod live;
pub mod net;
mod output;
mod run;
mod target;
use genbench_traffic::timefmt;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use exit::Exit;

/// Parses `args` and runs the subcommand; returns the process exit code
/// (0 ok, 1 thresholds or gate failed, 2 usage or configuration error,
/// 3 run could not start or was interrupted; an `[abort]` exits 1).
pub fn main_with<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::USAGE
            } else {
                Exit::OK
            });
        }
    };
    init_tracing(cli.verbose);
    target::exit_with_parent();
    match cmd::dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {:#}", e.error);
            ExitCode::from(e.code)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GENBENCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // stdout carries results; diagnostics go to stderr.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
