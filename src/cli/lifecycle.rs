//! `runtime-kit lifecycle`.

use jiff::civil::Date;
use runtime_kit::policy::lifecycle::{self, SeriesLifecycle};

use super::table::Table;
use super::{Format, MatrixArg, Outcome, ok, print_json};

/// Maintenance dates and support status of each series (or, with --all, each release).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The day to report status on (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<Date>,
    /// One row per release instead of per series.
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Today's date in UTC.
pub fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

fn basic(l: &SeriesLifecycle) -> String {
    match (l.end_of_basic_support, l.end_of_basic_support_source) {
        (Some(d), Some(lifecycle::DateSource::Published) | None) => d.to_string(),
        (Some(d), Some(source)) => format!("{d} ({source})"),
        (None, _) => "-".to_string(),
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let on = args.on.unwrap_or_else(today);
    let series = lifecycle::lifecycle(&matrix);
    if args.all {
        let rows: Vec<_> = matrix
            .releases()
            .iter()
            .filter_map(|r| {
                let l = series.iter().find(|l| l.series == r.version.series())?;
                Some((r, l, l.release_status_on(r, on)))
            })
            .collect();
        match args.format {
            Format::Json => print_json(&serde_json::json!({
                "on": on,
                "releases": rows.iter().map(|(r, l, status)| serde_json::json!({
                    "version": r.version,
                    "airflow": r.airflow,
                    "channel": l.channel,
                    "releaseDate": r.date,
                    "existedBy": r.existed_by,
                    "endOfMaintenance": l.end_of_maintenance,
                    "endOfMaintenanceSource": l.end_of_maintenance_source,
                    "endOfBasicSupport": l.end_of_basic_support,
                    "endOfBasicSupportSource": l.end_of_basic_support_source,
                    "status": status,
                    "yanked": r.is_yanked(),
                    "yankedReason": r.yanked,
                })).collect::<Vec<_>>(),
            }))?,
            Format::Table => {
                let mut t = Table::new([
                    "RUNTIME",
                    "AIRFLOW",
                    "CHANNEL",
                    "RELEASED",
                    "END OF MAINT.",
                    "END OF BASIC",
                    "STATUS",
                ]);
                for (r, l, status) in rows {
                    let status = if r.is_yanked() {
                        format!("{status} (yanked)")
                    } else {
                        status.to_string()
                    };
                    t.row([
                        r.version.to_string(),
                        r.airflow_text(),
                        l.channel.to_string(),
                        r.date_text(),
                        l.end_of_maintenance.to_string(),
                        basic(l),
                        status,
                    ]);
                }
                t.print()?;
            }
        }
        return ok();
    }
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "on": on,
            "series": series.iter().map(|l| serde_json::json!({
                "series": l.series.to_string(),
                "channel": l.channel,
                "firstRelease": l.first_release,
                "airflow": l.airflow,
                "releaseDate": l.release_date,
                "releaseDateKnown": l.release_date_known,
                "endOfMaintenance": l.end_of_maintenance,
                "endOfMaintenanceSource": l.end_of_maintenance_source,
                "endOfBasicSupport": l.end_of_basic_support,
                "endOfBasicSupportSource": l.end_of_basic_support_source,
                "status": l.status_on(on),
            })).collect::<Vec<_>>(),
        }))?,
        Format::Table => {
            let mut t = Table::new([
                "SERIES",
                "AIRFLOW",
                "CHANNEL",
                "RELEASED",
                "END OF MAINT.",
                "END OF BASIC",
                "STATUS",
            ]);
            for l in &series {
                let source = match l.end_of_maintenance_source {
                    lifecycle::DateSource::Published => String::new(),
                    other => format!(" ({other})"),
                };
                t.row([
                    l.series.to_string(),
                    l.airflow
                        .as_ref()
                        .map_or_else(|| "unknown".to_string(), ToString::to_string),
                    l.channel.to_string(),
                    if l.release_date_known {
                        l.release_date.to_string()
                    } else {
                        format!("by {}", l.release_date)
                    },
                    format!("{}{source}", l.end_of_maintenance),
                    basic(l),
                    l.status_on(on).to_string(),
                ]);
            }
            t.print()?;
        }
    }
    ok()
}
