//! `runtime-kit generate`.

use std::io::Write;
use std::path::PathBuf;

use runtime_kit::lock;
use runtime_kit::render::{self, ChangeKind, Templates};

use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Render every release's build contexts into dockerfiles/ (all-or-nothing), or check that the
/// committed tree equals a fresh generation.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Write nothing; exit 1 listing every missing, stale and extra file, and every file under
    /// the output directory that generate did not write.
    #[arg(long)]
    check: bool,
    /// Output directory.
    #[arg(long, default_value = render::OUT_DIR)]
    out: PathBuf,
    /// Directory of template overrides (same file names as templates/).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Repository root holding locks/.
    #[arg(long, value_name = "DIR", default_value = ".", alias = "locks")]
    root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    if !args.root.is_dir() {
        anyhow::bail!(
            "{}: not a directory; --root names the repository root that holds locks/",
            args.root.display()
        );
    }
    let templates = Templates::load(args.templates.as_deref())?;
    let tree = render::render_all(&templates, &matrix, &args.root)?;
    let unlocked: Vec<String> = matrix
        .releases()
        .iter()
        .flat_map(|r| r.pythons().map(move |p| (r, p)))
        .filter(|(r, p)| lock::LockPlan::new(&matrix, r, *p).is_some())
        .filter(|(r, p)| !lock::lock_path(&args.root, &r.version, *p).exists())
        .map(|(r, p)| format!("{} (Python {p})", r.version))
        .collect();
    // Releases whose Airflow version the public record lacks have no build contexts.
    let without_contexts: Vec<String> = matrix
        .releases()
        .iter()
        .filter(|r| r.airflow.is_none())
        .map(|r| r.version.to_string())
        .collect();
    let orphans = lock::orphans(&args.root, &matrix).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot list: {e}",
            args.root.join(lock::LOCKS_DIR).display()
        )
    })?;
    let changes = if args.check {
        tree.diff(&args.out)?
    } else {
        tree.write(&args.out)?
    };
    let problems: Vec<_> = changes
        .iter()
        .filter(|c| args.check || c.kind == ChangeKind::Unowned)
        .collect();
    // Locks no release owns: a warning when writing, a failure of the check.
    let orphans_fail = args.check && !orphans.is_empty();
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "out": args.out,
            "check": args.check,
            "files": tree.len(),
            "releases": matrix.releases().len(),
            "changes": changes,
            "unlocked": unlocked,
            "withoutContexts": without_contexts,
            "orphanLocks": orphans,
            "ok": problems.is_empty() && !orphans_fail,
        }))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            for c in &changes {
                let verb = match (args.check, c.kind) {
                    (true, k) => k.to_string(),
                    (false, ChangeKind::Missing) => "wrote".into(),
                    (false, ChangeKind::Stale) => "updated".into(),
                    (false, ChangeKind::Extra | ChangeKind::Leftover) => "removed".into(),
                    (false, ChangeKind::Unowned) => "unowned".into(),
                };
                writeln!(out, "{verb:>9} {}", args.out.join(&c.path).display())?;
            }
            if !without_contexts.is_empty() {
                writeln!(
                    err,
                    "note: {} without build contexts, the public record lacking their Airflow version (unknown = [\"airflow\"] in {}): {}",
                    super::count(without_contexts.len(), "release", "releases"),
                    matrix.path().display(),
                    first_few(&without_contexts),
                )?;
            }
            if !unlocked.is_empty() {
                writeln!(
                    err,
                    "note: {} without a lock, so their constraints.txt holds the release's own pins only: {} (make them with `runtime-kit lock --all --missing`)",
                    super::count(
                        unlocked.len(),
                        "release/Python pair",
                        "release/Python pairs"
                    ),
                    first_few(&unlocked),
                )?;
            }
            for o in &orphans {
                writeln!(
                    err,
                    "{}: {o} (`runtime-kit validate` fails on it)",
                    if args.check { "error" } else { "warning" }
                )?;
            }
            let unowned = changes
                .iter()
                .filter(|c| c.kind == ChangeKind::Unowned)
                .count();
            if unowned > 0 {
                writeln!(
                    err,
                    "{}: {} not written by `runtime-kit generate`, which never removes a file it did not write: remove {} by hand",
                    args.out.display(),
                    super::count(unowned, "file was", "files were"),
                    if unowned == 1 { "it" } else { "them" }
                )?;
            }
            if args.check {
                let differ = problems.len() - unowned;
                if problems.is_empty() && !orphans_fail {
                    writeln!(
                        out,
                        "{}: up to date ({}, {})",
                        args.out.display(),
                        super::count(tree.len(), "file", "files"),
                        super::count(matrix.releases().len(), "release", "releases")
                    )?;
                } else if differ > 0 {
                    writeln!(
                        err,
                        "{}: {} from a fresh generation; run `runtime-kit generate`",
                        args.out.display(),
                        super::count(differ, "file differs", "files differ"),
                    )?;
                }
            } else {
                writeln!(
                    out,
                    "{}: {} files for {} releases, {} changed",
                    args.out.display(),
                    tree.len(),
                    matrix.releases().len(),
                    changes
                        .iter()
                        .filter(|c| c.kind != ChangeKind::Unowned)
                        .count()
                )?;
            }
        }
    }
    if problems.is_empty() && !orphans_fail {
        ok()
    } else {
        failed()
    }
}

/// The first four of `items`, then how many more: `a, b, c, d and 9 more`.
fn first_few(items: &[String]) -> String {
    let shown = items[..items.len().min(4)].join(", ");
    match items.len().saturating_sub(4) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}
