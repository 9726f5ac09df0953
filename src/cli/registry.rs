//! `runtime-kit registry verify|promote`, and the connection flags `pin-base` shares.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use runtime_kit::matrix::Matrix;
use runtime_kit::model::RuntimeVersion;
use runtime_kit::registry::verify::{self, VerifyReport};
use runtime_kit::registry::{
    ClientOptions, Credentials, NoProgress, Progress, RegistryClient, RegistryError, Repository,
    promote,
};
use runtime_kit::tags::TagPlan;

use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Check and move what a registry holds against the tag plan.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every planned tag exists with the matrix's labels; floating tags point where the plan
    /// says; tags the matrix does not know are reported. Exit 1 on any mismatch.
    Verify(VerifyArgs),
    /// Move floating tags to the plan by copying manifests (dry run unless --apply).
    Promote(PromoteArgs),
}

/// How to reach a registry: shared by `registry` and `pin-base`.
#[derive(Clone, Debug, clap::Args)]
pub struct ConnectArgs {
    /// Allow plain HTTP for a registry that is not on loopback (loopback hosts may always use
    /// it; HTTPS is tried first).
    #[arg(long)]
    insecure: bool,
    /// Trust this certificate authority (PEM) too; repeatable.
    #[arg(long, value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
    /// Longest wait for one request.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,
    /// Retries of a request that failed transiently (unreachable, timed out, HTTP 5xx or 429).
    #[arg(long, value_name = "N", default_value_t = 2)]
    retries: u32,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    jobs: usize,
}

impl ConnectArgs {
    /// The client options these flags ask for.
    pub fn options(&self) -> anyhow::Result<ClientOptions> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            anyhow::bail!("--timeout must be a positive number of seconds");
        }
        let mut ca_certs = Vec::new();
        for path in &self.ca_cert {
            ca_certs.push(
                runtime_kit::fsutil::read_input(path, runtime_kit::fsutil::DEFAULT_INPUT_LIMIT)
                    .with_context(|| format!("cannot read --ca-cert {}", path.display()))?,
            );
        }
        Ok(ClientOptions {
            insecure: self.insecure,
            ca_certs,
            timeout: Duration::from_secs_f64(self.timeout),
            retries: self.retries,
            jobs: self.jobs.max(1),
            ..ClientOptions::default()
        })
    }
}

#[derive(Debug, clap::Args)]
struct RepoArgs {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The repository, HOST/PATH (default: `repository` of the matrix's [defaults]).
    // Parsed after clap: clap's own error would repeat a password someone put in the value.
    #[arg(long, value_name = "HOST/REPO")]
    repo: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: RepoArgs,
    /// Count tags the matrix does not know as mismatches (they are warnings otherwise).
    #[arg(long)]
    deny_unknown: bool,
    /// Only these releases (and the floating tags that point at them).
    #[arg(value_name = "VERSION")]
    versions: Vec<RuntimeVersion>,
}

#[derive(Debug, clap::Args)]
struct PromoteArgs {
    #[command(flatten)]
    common: RepoArgs,
    /// Write: without it, only print what would move.
    #[arg(long)]
    apply: bool,
    /// Only the floating tags that point at these releases (e.g. the release just pushed).
    #[arg(value_name = "VERSION")]
    versions: Vec<RuntimeVersion>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Verify(a) => run_verify(a),
        Command::Promote(a) => run_promote(a),
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The environment, for credentials.
pub fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub fn progress() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bar(ProgressBar::hidden()))
    } else {
        Box::new(NoProgress)
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        self.0.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        self.0.set_message(phase.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The repository to talk to, and the releases to check there: `--repo` (a test registry, a
/// mirror), or the repository the selected releases are published to. Without a selection, a
/// repository of the matrix means the releases published there (the matrix publishes Airflow 2
/// and Airflow 3 Runtimes to different repositories).
fn scope(
    common: &RepoArgs,
    matrix: &Matrix,
    versions: &[RuntimeVersion],
) -> anyhow::Result<(Repository, Vec<RuntimeVersion>)> {
    let published_to = |repo: &str| -> Vec<RuntimeVersion> {
        matrix
            .releases()
            .iter()
            .filter(|r| r.repository == repo)
            .map(|r| r.version.clone())
            .collect()
    };
    let text = match &common.repo {
        Some(r) => r.clone(),
        None => {
            let mut repos: Vec<&str> = Vec::new();
            for r in matrix.releases() {
                if (versions.is_empty() || versions.contains(&r.version))
                    && !repos.contains(&r.repository.as_str())
                {
                    repos.push(&r.repository);
                }
            }
            match repos.as_slice() {
                [one] => one.to_string(),
                [] => matrix.defaults().repository.clone(),
                many => anyhow::bail!(
                    "the selected releases are published to {} repositories ({}); pass --repo, or name releases of one",
                    many.len(),
                    many.join(", ")
                ),
            }
        }
    };
    let repo: Repository = if common.repo.is_some() {
        // The parser's own error: it never repeats credentials written into --repo.
        text.parse::<Repository>().map_err(RegistryError::from)?
    } else {
        text.parse().with_context(|| {
            format!("the matrix's repository {text:?} is not HOST/PATH; pass --repo")
        })?
    };
    let versions = if versions.is_empty() && matrix.repositories().len() > 1 {
        let mine = published_to(&text);
        if mine.is_empty() {
            anyhow::bail!(
                "{text} is none of the repositories the matrix publishes to ({}), and their plans share tag names; name the releases to check there",
                matrix.repositories().join(", ")
            );
        }
        mine
    } else {
        versions.to_vec()
    };
    Ok((repo, versions))
}

async fn connect(common: &RepoArgs, repo: Repository) -> anyhow::Result<RegistryClient> {
    // The Docker config and the CA files are read with blocking calls: off the async workers.
    let host = repo.host().to_string();
    let args = common.connect.clone();
    let (credentials, options) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        Ok((Credentials::discover(&host, true, env)?, args.options()?))
    })
    .await
    .context("reading the registry credentials and options")??;
    Ok(RegistryClient::connect(repo, credentials, options).await?)
}

fn run_verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let matrix = args.common.matrix.load()?;
    let plan = TagPlan::new(&matrix)?;
    // Unknown versions are an error before any request.
    plan.only(&args.versions)?;
    let (repo, versions) = scope(&args.common, &matrix, &args.versions)?;
    // Releases chosen by their repository make the plan of that repository: any other tag
    // there is one the matrix does not plan.
    let (plan, versions) = if args.versions.is_empty() && !versions.is_empty() {
        (plan.only(&versions)?, Vec::new())
    } else {
        (plan, versions)
    };
    let progress = progress();
    let report = runtime()?.block_on(async {
        let client = connect(&args.common, repo).await?;
        anyhow::Ok(verify::verify(&client, &plan, &versions, progress.as_ref()).await?)
    })?;
    let clean = report.is_clean(args.deny_unknown);
    match args.common.format {
        Format::Json => {
            let mut value = serde_json::to_value(&report)?;
            value["ok"] = clean.into();
            print_json(&value)?;
        }
        Format::Table => print_report(&report, args.deny_unknown)?,
    }
    if clean { ok() } else { failed() }
}

fn print_report(report: &VerifyReport, deny_unknown: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for f in &report.findings {
        let level = if f.is_mismatch() || deny_unknown {
            "error"
        } else {
            "warning"
        };
        writeln!(out, "{level}: {}: {f}", f.kind())?;
    }
    let mismatches = report.mismatches().count();
    let unknown = report.findings.len() - mismatches;
    writeln!(
        out,
        "{}: {}, {} and {} checked ({} in the registry): {}",
        report.repository,
        super::count(report.releases, "release", "releases"),
        super::count(report.exact_tags, "exact tag", "exact tags"),
        super::count(report.aliases, "floating tag", "floating tags"),
        super::count(report.registry_tags, "tag", "tags"),
        match (mismatches, unknown) {
            (0, 0) => "all as planned".to_string(),
            (m, 0) => super::count(m, "mismatch", "mismatches"),
            (m, u) => format!(
                "{}, {} not in the matrix",
                super::count(m, "mismatch", "mismatches"),
                super::count(u, "tag", "tags")
            ),
        }
    )?;
    Ok(())
}

fn run_promote(args: PromoteArgs) -> anyhow::Result<Outcome> {
    let matrix = args.common.matrix.load()?;
    // Unknown versions are an error before any request.
    TagPlan::new(&matrix)?.only(&args.versions)?;
    let (repo, versions) = scope(&args.common, &matrix, &args.versions)?;
    let plan = TagPlan::new(&matrix)?.only(&versions)?;
    let progress = progress();
    let (promotion, applied) = runtime()?.block_on(async {
        let client = connect(&args.common, repo).await?;
        let promotion = promote::plan(&client, &plan, progress.as_ref()).await?;
        let applied = if args.apply && !promotion.is_noop() {
            Some(promote::apply(&client, &promotion, progress.as_ref()).await?)
        } else {
            None
        };
        anyhow::Ok((promotion, applied))
    })?;
    let creates = promotion.moves.iter().filter(|m| m.from.is_none()).count();
    let moves = promotion.moves.len() - creates;
    match args.common.format {
        Format::Json => print_json(&serde_json::json!({
            "repository": promotion.repository,
            "apply": args.apply,
            "moves": promotion.moves.iter().map(|m| serde_json::json!({
                "action": if m.from.is_some() { "move" } else { "create" },
                "tag": m.alias,
                "target": m.target,
                "from": m.from,
                "to": m.to,
            })).collect::<Vec<_>>(),
            "inPlace": promotion.in_place.len(),
            "applied": applied,
        }))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            for m in &promotion.moves {
                match &m.from {
                    None => writeln!(out, "create {} -> {} ({})", m.alias, m.target, m.to)?,
                    Some(from) => writeln!(
                        out,
                        "move   {} -> {} ({}, was {from})",
                        m.alias, m.target, m.to
                    )?,
                }
            }
            let summary = if promotion.is_noop() {
                format!(
                    "all {} floating tags are in place; nothing to do",
                    promotion.in_place.len()
                )
            } else if applied.is_some() {
                format!(
                    "created {creates} and moved {moves} floating tags ({} already in place)",
                    promotion.in_place.len()
                )
            } else {
                format!(
                    "would create {creates} and move {moves} floating tags ({} already in place); dry run, pass --apply to write",
                    promotion.in_place.len()
                )
            };
            writeln!(out, "{}: {summary}", promotion.repository)?;
        }
    }
    ok()
}
