//! `runtime-kit query`.

use std::io::Write;

use jiff::civil::Date;
use runtime_kit::model::{RuntimeVersion, SeriesKey, VersionSpec};
use runtime_kit::query::{self, Scope};

use super::table::Table;
use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Ask the matrix.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t, global = true)]
    format: Format,
    #[command(subcommand)]
    question: Question,
}

#[derive(Debug, clap::Subcommand)]
enum Question {
    /// The Airflow version a Runtime version carries.
    Airflow {
        /// Runtime version, e.g. 5.0.6.
        runtime: RuntimeVersion,
    },
    /// The Runtime versions that carry an Airflow version, series or range.
    Runtimes {
        /// `2.3.3`, `2.3` or a PEP 440 range such as `>=2.3,<2.5`.
        airflow: VersionSpec,
    },
    /// The newest non-yanked Runtime, overall, of a series or for an Airflow version.
    Latest {
        /// Only this major series (semantic versions).
        #[arg(long, conflicts_with_all = ["airflow", "series"])]
        major: Option<u64>,
        /// Only this series: a major (`13`) or an Airflow 3 line (`3.1`).
        #[arg(long, conflicts_with = "airflow")]
        series: Option<SeriesKey>,
        /// Only releases whose Airflow is in this version, series or range.
        #[arg(long)]
        airflow: Option<VersionSpec>,
    },
    /// Whether upgrading from one Runtime to another needs attention (exit 1 if so).
    Upgrade {
        /// Current Runtime version.
        from: RuntimeVersion,
        /// Target Runtime version.
        to: RuntimeVersion,
        /// The day the target must be maintained on (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<Date>,
    },
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let mut out = std::io::stdout().lock();
    match args.question {
        Question::Airflow { runtime } => {
            let Some(release) = matrix.release(&runtime) else {
                anyhow::bail!("{runtime} is not a release in {}", matrix.path().display());
            };
            match args.format {
                Format::Json => print_json(
                    &serde_json::json!({"runtime": runtime, "airflow": release.airflow}),
                )?,
                Format::Table => {
                    if let Some(airflow) = &release.airflow {
                        writeln!(out, "{airflow}")?;
                    }
                }
            }
            if release.airflow.is_none() {
                writeln!(
                    std::io::stderr(),
                    "the public record does not give the Airflow version of {runtime} (release date: {}); {} records it as unknown",
                    release.date_text(),
                    matrix.path().display()
                )?;
                return failed();
            }
        }
        Question::Runtimes { airflow } => {
            let found = query::runtimes_for(&matrix, &airflow);
            match args.format {
                Format::Json => print_json(&serde_json::json!({
                    "airflow": airflow.to_string(),
                    "runtimes": found.iter().map(|r| serde_json::json!({
                        "version": r.version, "airflow": r.airflow, "releaseDate": r.date, "existedBy": r.existed_by, "yanked": r.is_yanked(),
                    })).collect::<Vec<_>>(),
                }))?,
                Format::Table => {
                    let mut t = Table::new(["RUNTIME", "AIRFLOW", "RELEASED", "YANKED"]);
                    for r in &found {
                        t.row([
                            r.version.to_string(),
                            r.airflow_text(),
                            r.date_text(),
                            if r.is_yanked() {
                                "yes".into()
                            } else {
                                String::new()
                            },
                        ]);
                    }
                    t.print()?;
                }
            }
            if found.is_empty() {
                writeln!(
                    std::io::stderr(),
                    "no Runtime in {} carries Airflow {airflow}",
                    matrix.path().display()
                )?;
                return failed();
            }
        }
        Question::Latest {
            major,
            series,
            airflow,
        } => {
            let (scope, what) = match (major, series, airflow) {
                (Some(m), _, _) => (Scope::Series(SeriesKey::Major(m)), format!(" of major {m}")),
                (None, Some(s), _) => (Scope::Series(s), format!(" of series {s}")),
                (None, None, Some(spec)) => {
                    let what = format!(" carrying Airflow {spec}");
                    (Scope::Airflow(spec), what)
                }
                (None, None, None) => (Scope::All, String::new()),
            };
            let Some(r) = query::latest(&matrix, &scope) else {
                writeln!(
                    std::io::stderr(),
                    "no release{what} in {} that is not yanked",
                    matrix.path().display()
                )?;
                return failed();
            };
            match args.format {
                Format::Json => print_json(
                    &serde_json::json!({"runtime": r.version, "airflow": r.airflow, "releaseDate": r.date, "existedBy": r.existed_by}),
                )?,
                Format::Table => writeln!(out, "{}", r.version)?,
            }
        }
        Question::Upgrade { from, to, on } => {
            // An unknown version is bad input, not a finding about the upgrade.
            for v in [&from, &to] {
                if matrix.release(v).is_none() {
                    anyhow::bail!("{v} is not a release in {}", matrix.path().display());
                }
            }
            let on = on.unwrap_or_else(super::lifecycle::today);
            let issues = query::upgrade_check(&matrix, &from, &to, Some(on));
            match args.format {
                Format::Json => print_json(&serde_json::json!({
                    "from": from, "to": to, "ok": issues.is_empty(), "issues": issues,
                    "messages": issues.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }))?,
                Format::Table => {
                    if issues.is_empty() {
                        writeln!(out, "{from} -> {to}: ok")?;
                    }
                    for i in &issues {
                        writeln!(out, "{from} -> {to}: {i}")?;
                    }
                }
            }
            if !issues.is_empty() {
                return failed();
            }
        }
    }
    ok()
}
