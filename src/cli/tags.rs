//! `runtime-kit tags`.

use runtime_kit::model::RuntimeVersion;
use runtime_kit::tags::TagPlan;

use super::table::Table;
use super::{Format, MatrixArg, Outcome, ok, print_json};

/// Print the tag plan: every exact tag and floating alias of the given releases.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Only these releases (every release when none is given).
    #[arg(value_name = "VERSION")]
    versions: Vec<RuntimeVersion>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let plan = TagPlan::new(&matrix)?.only(&args.versions)?;
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "releases": plan.releases().iter().map(|r| serde_json::json!({
                "version": r.version,
                "airflow": r.airflow,
                "yanked": r.yanked,
                "prerelease": r.prerelease,
                "tags": r.tags,
                "aliases": r.aliases.iter().map(|a| serde_json::json!({
                    "tag": a.tag, "level": a.level, "series": a.series, "target": a.target,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }))?,
        Format::Table => {
            let mut table = Table::new(["TAG", "KIND", "RELEASE", "POINTS AT"]);
            for r in plan.releases() {
                let kind = match (r.yanked, r.prerelease) {
                    (true, _) => "exact (yanked)",
                    (_, true) => "exact (pre-release)",
                    _ => "exact",
                };
                for t in &r.tags {
                    table.row([t.to_string(), kind.into(), r.version.to_string(), "".into()]);
                }
                for a in &r.aliases {
                    table.row([
                        a.tag.to_string(),
                        a.level.to_string(),
                        r.version.to_string(),
                        a.target.to_string(),
                    ]);
                }
            }
            table.print()?;
        }
    }
    ok()
}
