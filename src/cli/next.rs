//! `runtime-kit next`.

use std::io::Write;

use runtime_kit::model::{AirflowVersion, RuntimeVersion};
use runtime_kit::policy::release::{Change, next_version};

use super::{Format, MatrixArg, Outcome, ok, print_json};

/// The version the release policy requires next.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The Airflow version the new release carries.
    #[arg(long)]
    airflow: AirflowVersion,
    /// The release to continue (default: the newest release of the series that carries the
    /// Airflow version's line: its X.Y line for Airflow 3, its major for Airflow 2).
    #[arg(long)]
    from: Option<RuntimeVersion>,
    /// The release makes a backwards-incompatible change.
    #[arg(long)]
    breaking: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let change = Change {
        airflow: Some(&args.airflow),
        packages: Vec::new(),
        breaking: args.breaking,
        ..Change::default()
    };
    let next = next_version(&matrix, args.from.as_ref(), &change)?;
    match args.format {
        Format::Json => print_json(&next)?,
        Format::Table => writeln!(
            std::io::stdout(),
            "{}\n  from {} ({} bump)\n  rule: {}",
            next.version,
            next.from,
            next.bump,
            next.rule
        )?,
    }
    ok()
}
