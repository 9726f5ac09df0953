//! The `runtime-kit` command line: a thin layer over the [`runtime_kit`] library.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
