//! `runtime-kit lock`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use runtime_kit::lock::{LockPlan, Resolver, lock_path, write_lock};
use runtime_kit::model::{PythonVersion, RuntimeVersion};

use super::{MatrixArg, Outcome, ok};

/// Resolve the full pin set of releases (locks/<version>/python-X.Y.txt) with uv, as of each
/// release's date.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Releases to lock (at least one, or --all).
    #[arg(required_unless_present = "all")]
    versions: Vec<RuntimeVersion>,
    /// Lock every release.
    #[arg(long, conflicts_with = "versions")]
    all: bool,
    /// Only this Python (default: every Python the release was published for).
    #[arg(long)]
    python: Option<PythonVersion>,
    /// Skip locks that already exist.
    #[arg(long)]
    missing: bool,
    /// Locks resolved at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// The uv executable (default: $RUNTIME_KIT_UV, .venv/bin/uv, then uv on PATH).
    #[arg(long)]
    uv: Option<PathBuf>,
    /// Repository root holding locks/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let releases: Vec<_> = if args.all {
        matrix.releases().iter().collect()
    } else {
        args.versions
            .iter()
            .map(|v| {
                matrix.release(v).ok_or_else(|| {
                    anyhow::anyhow!("{v} is not a release in {}", matrix.path().display())
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut work = Vec::new();
    for r in releases {
        let pythons: Vec<PythonVersion> = match args.python {
            Some(p) if r.pythons().any(|x| x == p) => vec![p],
            Some(p) => anyhow::bail!("{} was not published for Python {p}", r.version),
            None => r.pythons().collect(),
        };
        for p in pythons {
            let path = lock_path(&args.root, &r.version, p);
            if args.missing && path.exists() {
                continue;
            }
            match LockPlan::new(&matrix, r, p) {
                Some(plan) => work.push((plan, path)),
                // --all skips them; naming one is an error.
                None if args.all => {}
                None => anyhow::bail!(
                    "{} cannot be locked: the public record lacks its {}",
                    r.version,
                    if r.airflow.is_none() {
                        "Airflow version"
                    } else {
                        "release date (and no earliest trace is recorded)"
                    }
                ),
            }
        }
    }
    // The arguments first, then the resolver: a typo is reported before a missing uv.
    let resolver = args
        .uv
        .map(Resolver::new)
        .unwrap_or_else(|| Resolver::discover(&args.root));
    resolver.version()?;
    let total = work.len();
    let queue = Mutex::new(work.into_iter().enumerate());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..args.jobs {
            s.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue lock").next();
                    let Some((i, (plan, path))) = next else { break };
                    let start = Instant::now();
                    let result = resolver
                        .resolve(&plan)
                        .and_then(|text| write_lock(&path, &text));
                    let mut err = std::io::stderr().lock();
                    match result {
                        Ok(()) => {
                            let _ = writeln!(
                                err,
                                "[{}/{total}] {} python {}: {} ({:.0?})",
                                i + 1,
                                plan.version,
                                plan.python,
                                path.display(),
                                start.elapsed()
                            );
                        }
                        Err(e) => {
                            let _ = writeln!(
                                err,
                                "[{}/{total}] {} python {}: FAILED",
                                i + 1,
                                plan.version,
                                plan.python
                            );
                            failures.lock().expect("failures lock").push(e.to_string());
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures lock");
    let mut err = std::io::stderr().lock();
    for f in &failures {
        writeln!(err, "error: {f}")?;
    }
    writeln!(err, "{} of {total} locks written", total - failures.len())?;
    if failures.is_empty() {
        ok()
    } else {
        // Not a check that found problems: locks could not be made (exit 2).
        Ok(Outcome(std::process::ExitCode::from(2)))
    }
}
