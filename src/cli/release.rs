//! `runtime-kit cut`, `yank`, `notes` and `feed`: the release engineer's workflow.

use std::io::Write;

use anyhow::Context;
use std::path::PathBuf;

use jiff::civil::Date;
use runtime_kit::lock::{LockPlan, Resolver, lock_path};
use runtime_kit::matrix::Channel;
use runtime_kit::matrix::edit::MatrixDocument;
use runtime_kit::model::{AirflowVersion, PythonVersion, RuntimeVersion};
use runtime_kit::release::cut::{self, CutRequest, Pin};
use runtime_kit::release::{feed, notes};
use runtime_kit::render::{self, ChangeKind, Templates};

use super::lifecycle::today;
use super::{MatrixArg, Outcome, ok, print_json};

/// Add the next release to the matrix (version by policy), resolve its lock and regenerate its
/// build contexts.
#[derive(Debug, clap::Args)]
pub struct CutArgs {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Airflow version of the new release.
    #[arg(long)]
    airflow: AirflowVersion,
    /// Move a package the release already pins: NAME==VERSION (repeatable).
    #[arg(long = "package", value_name = "NAME==VERSION")]
    packages: Vec<Pin>,
    /// Add a package the release does not pin yet: NAME==VERSION (repeatable).
    #[arg(long = "new-package", value_name = "NAME==VERSION")]
    new_packages: Vec<Pin>,
    /// Another default Python (a breaking change).
    #[arg(long)]
    python: Option<PythonVersion>,
    /// The release makes a backwards-incompatible change.
    #[arg(long)]
    breaking: bool,
    /// Release date (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<Date>,
    /// The release to continue (default: the newest release of the series carrying --airflow's
    /// line: its X.Y line for Airflow 3, its major for Airflow 2).
    #[arg(long)]
    from: Option<RuntimeVersion>,
    /// Channel of the series the release starts (a new major or Airflow line): `stable`
    /// (default) or `lts`.
    #[arg(long, value_name = "CHANNEL")]
    channel: Option<Channel>,
    /// Write nothing; print the change to the matrix and what would be generated.
    #[arg(long)]
    dry_run: bool,
    /// Do not resolve the new release's lock (its constraints then hold its own pins only).
    #[arg(long)]
    no_lock: bool,
    /// Repository root (holding locks/ and dockerfiles/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The uv executable for the lock.
    #[arg(long)]
    uv: Option<PathBuf>,
}

/// A unified diff of `old` to `new` (three lines of context), empty when they are equal.
fn diff(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, name)
        .to_string()
}

pub fn cut(args: CutArgs) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let request = CutRequest {
        airflow: args.airflow,
        packages: args.packages,
        new_packages: args.new_packages,
        python: args.python,
        breaking: args.breaking,
        date: args.date.unwrap_or_else(today),
        from: args.from,
        channel: args.channel,
    };
    let cut = cut::cut(&matrix, &request)?;
    let release = cut.release();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} (from {}, {} bump)\n  rule: {}",
        cut.next.version, cut.next.from, cut.next.bump, cut.next.rule
    )?;
    if let Some(v) = &cut.packages_from {
        writeln!(
            out,
            "  packages: carried from {v}, the newest release of the series whose package set is in the record ({}'s is not); move pins with --package",
            cut.next.from
        )?;
    }
    let change = diff(
        &matrix.path().display().to_string(),
        matrix.text(),
        &cut.text,
    );

    let templates = Templates::load(None)?;
    let out_dir = args.root.join(render::OUT_DIR);
    if args.dry_run {
        write!(out, "\n{change}")?;
        let files = render::render_release(&templates, &cut.matrix, release, &args.root)?;
        writeln!(
            out,
            "\nwould resolve {} and write {} under {}",
            super::count(release.pythons().count(), "lock", "locks"),
            super::count(files.len(), "file", "files"),
            out_dir.join(release.version.to_string()).display()
        )?;
        return ok();
    }

    // Resolve first: a lock that cannot be made stops the cut before anything is written.
    let mut locks = Vec::new();
    if !args.no_lock {
        let resolver = args
            .uv
            .map(Resolver::new)
            .unwrap_or_else(|| Resolver::discover(&args.root));
        for python in release.pythons() {
            let plan = LockPlan::new(&cut.matrix, release, python)
                .expect("a cut release has an Airflow version and a date");
            writeln!(out, "resolving the lock for Python {python}...")?;
            locks.push((
                lock_path(&args.root, &release.version, python),
                resolver.resolve(&plan)?,
            ));
        }
    }
    // Locks, build contexts, then the matrix; a failure puts back what was written.
    let changes = cut::write(&cut, &matrix, &templates, &args.root, &locks)?;
    writeln!(out, "\n{change}")?;
    for (path, _) in &locks {
        writeln!(out, "    wrote {}", path.display())?;
    }
    for c in changes.iter().filter(|c| c.kind != ChangeKind::Unowned) {
        let verb = match c.kind {
            ChangeKind::Missing => "wrote",
            ChangeKind::Stale => "updated",
            _ => "removed",
        };
        writeln!(out, "{verb:>9} {}", out_dir.join(&c.path).display())?;
    }
    ok()
}

/// Mark a release yanked, with its published reason.
#[derive(Debug, clap::Args)]
pub struct YankArgs {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The release.
    #[arg(value_name = "VERSION")]
    release: RuntimeVersion,
    /// Why it was withdrawn (published with the feed).
    #[arg(long)]
    reason: String,
    /// Write nothing; print the change.
    #[arg(long)]
    dry_run: bool,
    /// Replace the reason of a release that is yanked already.
    #[arg(long)]
    force: bool,
}

pub fn yank(args: YankArgs) -> anyhow::Result<Outcome> {
    // The matrix must be valid before it is edited.
    let matrix = args.matrix.load()?;
    let reason = args.reason.trim();
    if reason.is_empty() || reason.chars().any(char::is_control) {
        anyhow::bail!(
            "--reason {:?}: expected the published reason, one line of text",
            args.reason
        );
    }
    if let Some(previous) = matrix
        .release(&args.release)
        .and_then(|r| r.yanked.as_deref())
        && previous != reason
        && !args.force
    {
        anyhow::bail!(
            "{} is yanked already, with the reason {previous:?}; pass --force to replace it with {reason:?}",
            args.release
        );
    }
    let mut doc = MatrixDocument::open(matrix.path())?;
    cut::yank(&mut doc, &args.release, reason)?;
    let new = doc.validate()?;
    let change = diff(
        &matrix.path().display().to_string(),
        matrix.text(),
        &doc.to_string(),
    );
    let mut out = std::io::stdout().lock();
    if change.is_empty() {
        writeln!(out, "{} is already yanked with that reason", args.release)?;
        return ok();
    }
    if !args.dry_run {
        doc.save()?;
    }
    write!(out, "{change}")?;
    let r = new
        .release(&args.release)
        .expect("the yanked release is in the matrix");
    writeln!(
        out,
        "{} is yanked: it gets no floating tag and upgrades to it are flagged",
        r.version
    )?;
    ok()
}

/// Release notes from one release to another.
#[derive(Debug, clap::Args)]
pub struct NotesArgs {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The earlier release.
    from: RuntimeVersion,
    /// The later release.
    to: RuntimeVersion,
    /// Day the target's support status is given for (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<Date>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = NotesFormat::Markdown)]
    format: NotesFormat,
}

/// Output format of `notes`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NotesFormat {
    /// Markdown for a release page.
    Markdown,
    /// JSON for programs.
    Json,
}

pub fn notes(args: NotesArgs) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let n = notes::notes(&matrix, &args.from, &args.to, args.on.unwrap_or_else(today))?;
    match args.format {
        NotesFormat::Markdown => write!(std::io::stdout(), "{}", n.to_markdown())?,
        NotesFormat::Json => print_json(&n)?,
    }
    ok()
}

/// The version feed (JSON) in the shape Astronomer's CLI reads.
#[derive(Debug, clap::Args)]
pub struct FeedArgs {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Write to this file (all-or-nothing) instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Output format (the feed is JSON).
    #[arg(long, value_enum, default_value_t = FeedFormat::Json)]
    format: FeedFormat,
}

/// Output format of `feed`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FeedFormat {
    /// JSON, in the shape of Astronomer's runtime-versions feed.
    Json,
}

pub fn feed(args: FeedArgs) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let FeedFormat::Json = args.format;
    let f = feed::feed(&matrix);
    match args.output {
        Some(path) => {
            let text = serde_json::to_string_pretty(&f)? + "\n";
            runtime_kit::fsutil::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write the feed to {}", path.display()))?;
        }
        None => print_json(&f)?,
    }
    ok()
}
