//! Argument parsing and output formatting. Every command calls into the library; this layer only
//! parses flags, prints and chooses the exit code.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use runtime_kit::matrix::{DEFAULT_PATH, Matrix};

mod build;
mod generate;
mod lifecycle;
mod lint;
mod lock;
mod next;
#[cfg(feature = "registry")]
mod pin_base;
mod query;
#[cfg(feature = "registry")]
mod registry;
mod release;
mod table;
mod tags;
mod validate;

/// Release matrix, policy, Dockerfile generation, lint, builds and registry tooling for an Airflow
/// Runtime image distribution.
#[derive(Debug, Parser)]
#[command(name = "runtime-kit", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check runtime-matrix.toml: grammar, parity, dates, release policy.
    Validate(validate::Args),
    /// Maintenance dates and support status of each series (or release).
    Lifecycle(lifecycle::Args),
    /// Ask the matrix: Airflow of a Runtime, Runtimes of an Airflow, newest, upgrade checks.
    Query(query::Args),
    /// The version the release policy requires next.
    Next(next::Args),
    /// Lint Dockerfiles; version parity of generated ones with the matrix; SARIF for CI.
    Lint(lint::Args),
    /// Render every release's build contexts into dockerfiles/ (or --check them).
    Generate(generate::Args),
    /// Add the next release to the matrix, resolve its lock, regenerate its build contexts.
    Cut(release::CutArgs),
    /// Mark a release yanked with its published reason.
    Yank(release::YankArgs),
    /// Release notes between two releases (Markdown or JSON).
    Notes(release::NotesArgs),
    /// The version feed other tools read (JSON).
    Feed(release::FeedArgs),
    /// Resolve release locks (full pin sets) with uv, as of each release date.
    Lock(lock::Args),
    /// Build a release's images (base before ONBUILD) with buildah or docker.
    Build(build::Args),
    /// Every tag of each release: exact tags and the floating aliases that point at it.
    Tags(tags::Args),
    /// Verify a registry against the tag plan; promote floating tags.
    #[cfg(feature = "registry")]
    Registry(registry::Args),
    /// Resolve base images to digests and pin them in the matrix's [base-images].
    #[cfg(feature = "registry")]
    PinBase(pin_base::Args),
}

/// `--matrix PATH`, shared by every command that reads the matrix.
#[derive(Debug, clap::Args)]
pub struct MatrixArg {
    /// The release matrix.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PATH, global = true)]
    matrix: PathBuf,
}

impl MatrixArg {
    /// Loads and validates the matrix.
    pub fn load(&self) -> anyhow::Result<Matrix> {
        Matrix::load(&self.matrix).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Output format of commands that print data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
}

/// A command's outcome that is not an error but still sets the exit code (e.g. a failed check).
pub struct Outcome(pub ExitCode);

/// Parses the arguments, runs the command and maps the result to an exit code: 0 success,
/// 1 a check found problems, 2 an error (bad input, I/O).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome(code)) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Lifecycle(a) => lifecycle::run(a),
        Command::Query(a) => query::run(a),
        Command::Next(a) => next::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Lock(a) => lock::run(a),
        Command::Build(a) => build::run(a),
        Command::Tags(a) => tags::run(a),
        #[cfg(feature = "registry")]
        Command::Registry(a) => registry::run(a),
        #[cfg(feature = "registry")]
        Command::PinBase(a) => pin_base::run(a),
        Command::Cut(a) => release::cut(a),
        Command::Yank(a) => release::yank(a),
        Command::Notes(a) => release::notes(a),
        Command::Feed(a) => release::feed(a),
        Command::Generate(a) => generate::run(a),
    }
}

/// The error and its causes, `: `-separated, leaving out a cause whose text the message already
/// holds (many errors quote their source, and also expose it as their source).
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    // Serialised first, so a closed pipe is an `io::Error` (success) rather than a JSON error.
    let text = serde_json::to_string_pretty(value)?;
    writeln!(io::stdout().lock(), "{text}")?;
    Ok(())
}

/// `n` and the noun, singular or plural: `1 file`, `2 files`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Success, exit code 0.
pub fn ok() -> anyhow::Result<Outcome> {
    Ok(Outcome(ExitCode::SUCCESS))
}

/// A check found problems: exit code 1.
pub fn failed() -> anyhow::Result<Outcome> {
    Ok(Outcome(ExitCode::from(1)))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks every argument definition (unique names, valid defaults) of every subcommand.
    #[test]
    fn cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
