//! The `genbench` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    genbench::main_with(std::env::args_os())
}
