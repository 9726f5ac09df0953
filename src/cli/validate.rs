//! `runtime-kit validate`.

use std::io::Write;
use std::path::{Path, PathBuf};

use runtime_kit::lock;
use runtime_kit::matrix::{LoadError, Matrix};

use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Check runtime-matrix.toml, and that every lock under locks/ belongs to one of its releases.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Repository root holding locks/ [default: the matrix file's directory]
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match Matrix::load(&args.matrix.matrix) {
        Ok(m) => {
            let root = match &args.root {
                Some(r) => r.clone(),
                None => match m.path().parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                },
            };
            let orphans = lock::orphans(&root, &m).map_err(|e| {
                anyhow::anyhow!("{}: cannot list: {e}", root.join(lock::LOCKS_DIR).display())
            })?;
            if !orphans.is_empty() {
                return report_orphans(&args, &m, &orphans);
            }
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

/// Lock files no release owns make the repository invalid (exit 1): `generate` would never
/// copy them, and they hide a half-done `cut`.
fn report_orphans(args: &Args, m: &Matrix, orphans: &[lock::Orphan]) -> anyhow::Result<Outcome> {
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "valid": false,
            "file": m.path(),
            "errors": orphans.iter().map(|o| serde_json::json!({
                "file": o.path,
                "message": o.reason,
            })).collect::<Vec<_>>(),
        }))?,
        Format::Table => {
            let mut err = std::io::stderr().lock();
            for o in orphans {
                writeln!(err, "{o}")?;
            }
            writeln!(
                err,
                "{} under {} that no release of {} owns",
                super::count(orphans.len(), "entry", "entries"),
                orphan_dir(orphans).display(),
                m.path().display()
            )?;
        }
    }
    failed()
}

fn orphan_dir(orphans: &[lock::Orphan]) -> &Path {
    orphans
        .first()
        .and_then(|o| o.path.ancestors().find(|a| a.ends_with(lock::LOCKS_DIR)))
        .unwrap_or(Path::new(lock::LOCKS_DIR))
}
