//! `runtime-kit lint`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;
use runtime_kit::lint::{self, CONFIG_FILE, Config, Linter, RULES, Severity, output, rules};
use runtime_kit::matrix::{DEFAULT_PATH, Matrix};

use super::{Outcome, failed, ok, print_json};

/// Lint Dockerfiles: general rules (hadolint/BuildKit equivalents) and version parity of
/// generated Runtime Dockerfiles with the release matrix.
///
/// Exit status: 0 no finding at or above the failure threshold, 1 findings, 2 usage or I/O error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dockerfiles, or directories searched recursively for `Dockerfile`, `*.Dockerfile`,
    /// `Containerfile` and `*.Containerfile`; `-` reads standard input. At least one, unless
    /// --explain or --list-rules is given.
    #[arg(value_name = "PATH", required_unless_present_any = ["explain", "list_rules"])]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: LintFormat,
    /// The release matrix for the version-parity rules [default: runtime-matrix.toml when it
    /// exists; without a matrix those rules are skipped].
    #[arg(long, value_name = "PATH")]
    matrix: Option<PathBuf>,
    /// Skip the version-parity rules even when a matrix exists.
    #[arg(long, conflicts_with = "matrix")]
    no_matrix: bool,
    /// Configuration file [default: .runtime-kit-lint.toml when it exists].
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Use no configuration file, only the defaults and the command line.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
    /// Exit 1 when a finding is at or above this severity (overrides the config file).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    failure_threshold: Option<Threshold>,
    /// Do not report this rule (id, name or mapped hadolint id); repeatable.
    #[arg(long = "ignore", value_name = "RULE")]
    ignore: Vec<String>,
    /// Require every FROM to be pinned by digest (enables RK103).
    #[arg(long)]
    require_digest: bool,
    /// The name standard input is reported under (a path like `dockerfiles/5.0.6/base/Dockerfile`
    /// also identifies the Runtime image, for the version-parity rules).
    #[arg(long, value_name = "NAME", default_value = "Dockerfile")]
    stdin_filename: PathBuf,
    /// Refuse a Dockerfile (or standard input) larger than this: bytes, or with a K, M or G
    /// suffix (KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size)]
    max_input_size: u64,
    /// Print what a rule checks and why, then exit.
    #[arg(long, value_name = "RULE", conflicts_with = "list_rules")]
    explain: Option<String>,
    /// List every rule, then exit.
    #[arg(long)]
    list_rules: bool,
}

/// Output format of `lint`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    /// file:line:col, rule, message and the source line with a caret.
    #[default]
    Human,
    /// JSON: every finding and a summary.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// `--failure-threshold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Threshold {
    Error,
    Warning,
    Info,
    Style,
    /// Never fail.
    None,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let config = load_config(&args)?;
    if let Some(key) = &args.explain {
        return explain(key, &config);
    }
    if args.list_rules {
        return list_rules(&config, args.format);
    }
    let matrix = load_matrix(&args, &config)?;
    let found = lint::discover(&args.paths, &args.stdin_filename, &config)?;
    for (path, what) in &found.skipped {
        writeln!(
            io::stderr(),
            "warning: {}: skipped, it is {what}, not a regular file",
            path.display()
        )?;
    }
    let inputs = found.inputs;
    let mut linter = Linter::new(config).with_max_input(args.max_input_size);
    if let Some(m) = matrix {
        linter = linter.with_matrix(m);
    }
    let report = linter.lint_inputs(&inputs)?;
    let config = linter.config();
    match args.format {
        LintFormat::Human => {
            output::human(&report, &mut io::stdout().lock())?;
            let mut err = io::stderr().lock();
            for note in report.notes() {
                writeln!(err, "note: {note}")?;
            }
            writeln!(err, "{}", output::summary(&report))?;
        }
        LintFormat::Json => print_json(&output::json(&report, config))?,
        LintFormat::Sarif => print_json(&output::sarif(&report, config))?,
    }
    if report.fails(config) { failed() } else { ok() }
}

fn load_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None if !args.no_config && Path::new(CONFIG_FILE).is_file() => {
            Config::load(Path::new(CONFIG_FILE))?
        }
        None => Config::default(),
    };
    if let Some(t) = args.failure_threshold {
        config.failure_threshold = match t {
            Threshold::Error => Some(Severity::Error),
            Threshold::Warning => Some(Severity::Warning),
            Threshold::Info => Some(Severity::Info),
            Threshold::Style => Some(Severity::Style),
            Threshold::None => None,
        };
    }
    for key in &args.ignore {
        let named: Vec<_> = rules::lookup_all(key).collect();
        if named.is_empty() {
            bail!(
                "--ignore {key}: unknown rule; expected a rule id like RK113, a rule name, a mapped hadolint id or BuildKit check (see --list-rules)"
            );
        }
        config.ignore.extend(named.iter().map(|r| r.id));
    }
    if args.require_digest {
        config.enable.insert(rules::FROM_WITHOUT_DIGEST);
    }
    Ok(config)
}

fn load_matrix(args: &Args, config: &Config) -> anyhow::Result<Option<Matrix>> {
    if args.no_matrix {
        return Ok(None);
    }
    let path = match (&args.matrix, &config.matrix) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) if Path::new(DEFAULT_PATH).is_file() => PathBuf::from(DEFAULT_PATH),
        (None, None) => return Ok(None),
    };
    let matrix = Matrix::load(&path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("the release matrix {} is needed for the version-parity rules (pass --no-matrix to skip them)", path.display()))?;
    Ok(Some(matrix))
}

fn explain(key: &str, config: &Config) -> anyhow::Result<Outcome> {
    let named: Vec<_> = rules::lookup_all(key).collect();
    if named.is_empty() {
        bail!(
            "unknown rule {key:?}; expected a rule id like RK113, a rule name, a mapped hadolint id or BuildKit check (see --list-rules)"
        );
    }
    let mut out = io::stdout().lock();
    for (n, r) in named.into_iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        explain_one(&mut out, r, config)?;
    }
    ok()
}

fn explain_one(out: &mut impl Write, r: &rules::Rule, config: &Config) -> anyhow::Result<()> {
    writeln!(out, "{} {} ({})", r.id, r.name, config.severity_of(r.id))?;
    writeln!(out, "{}", r.summary)?;
    let mut also = Vec::new();
    if let Some(h) = r.hadolint {
        also.push(format!("hadolint {h}"));
    }
    if let Some(b) = r.buildkit {
        also.push(format!("BuildKit check {b}"));
    }
    if !also.is_empty() {
        writeln!(out, "Equivalent: {}", also.join(", "))?;
    }
    if !config.is_enabled(r.id) {
        writeln!(out, "Not enabled in the current configuration.")?;
    }
    if r.needs_matrix {
        writeln!(out, "Needs the release matrix (--matrix).")?;
    }
    writeln!(out)?;
    for line in wrap(r.explanation, 100) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn list_rules(config: &Config, format: LintFormat) -> anyhow::Result<Outcome> {
    if format != LintFormat::Human {
        print_json(&output::rules_json(config))?;
        return ok();
    }
    let mut out = io::stdout().lock();
    let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in RULES {
        let also = [r.hadolint, r.buildkit]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        let off = if config.is_enabled(r.id) {
            ""
        } else {
            " [off]"
        };
        writeln!(
            out,
            "{}  {:width$}  {:7}  {}{}{}",
            r.id,
            r.name,
            config.severity_of(r.id).to_string(),
            r.summary,
            if also.is_empty() {
                String::new()
            } else {
                format!(" ({also})")
            },
            off,
        )?;
    }
    ok()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A size: bytes, or with a K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.trim_end_matches(['B', 'b', 'i']).char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s.trim_end_matches(['B', 'b']), ' '),
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("{s:?} is not a size; expected bytes like 1048576, or 512K, 16M, 1G")
    })?;
    let factor: u64 = match unit {
        ' ' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => return Err(format!("{s:?}: expected a K, M or G suffix")),
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size above zero that fits"))
}
