//! `runtime-kit validate`.

use std::io::Write;

use runtime_kit::matrix::{LoadError, Matrix};

use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Check runtime-matrix.toml.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match Matrix::load(&args.matrix.matrix) {
        Ok(m) => {
            let yanked = m.releases().iter().filter(|r| r.is_yanked()).count();
            let series = m.series().count();
            match args.format {
                Format::Json => print_json(&serde_json::json!({
                    "valid": true,
                    "file": m.path(),
                    "releases": m.releases().len(),
                    "series": series,
                    "yanked": yanked,
                    "policyExceptions": m.policy_exceptions().len(),
                    "errors": [],
                }))?,
                Format::Table => writeln!(
                    std::io::stdout(),
                    "{}: valid: {} in {series} series ({yanked} yanked, {})",
                    m.path().display(),
                    super::count(m.releases().len(), "release", "releases"),
                    super::count(
                        m.policy_exceptions().len(),
                        "recorded policy exception",
                        "recorded policy exceptions"
                    )
                )?,
            }
            ok()
        }
        Err(LoadError::Invalid(errors)) => {
            match args.format {
                Format::Json => print_json(&serde_json::json!({
                    "valid": false,
                    "file": args.matrix.matrix,
                    "errors": errors.errors().iter().map(|e| serde_json::json!({
                        "file": e.location.file,
                        "line": e.location.line,
                        "column": e.location.column,
                        "message": e.message,
                    })).collect::<Vec<_>>(),
                }))?,
                Format::Table => {
                    let mut err = std::io::stderr().lock();
                    for e in errors.errors() {
                        writeln!(err, "{e}")?;
                    }
                    writeln!(
                        err,
                        "{} found",
                        super::count(errors.errors().len(), "problem", "problems")
                    )?;
                }
            }
            failed()
        }
        // Not a finding about the matrix: the file could not be read (exit 2).
        Err(e) => Err(e.into()),
    }
}
