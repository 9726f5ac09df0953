//! Dockerfile lint: any Dockerfile against general rules (with hadolint and BuildKit equivalents),
//! and a generated Runtime Dockerfile against the release matrix (version parity).
//!
//! ```
//! use std::path::Path;
//! use runtime_kit::lint::{Config, Linter};
//!
//! let linter = Linter::new(Config::default());
//! let report = linter.lint_file(Path::new("Dockerfile"), b"FROM python\nRUN pip install flask\n");
//! let ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
//! // In source order: the FROM (no USER in the image), its image (no tag), the RUN, `flask`.
//! assert_eq!(ids, ["RK144", "RK101", "RK121", "RK120"]);
//! assert_eq!(report.findings[3].region.start.column, 17); // the caret is on `flask`
//! ```
//!
//! Findings carry a rule id (see [`rules::RULES`] and `runtime-kit lint --explain ID`), a
//! severity, a message saying what was expected, and a file:line:column region. Suppress one with
//! `# runtime-kit ignore=ID[,ID]` on the line(s) before the instruction (hadolint's
//! `# hadolint ignore=DLxxxx` works for the mapped rules), or configure rules in
//! [`CONFIG_FILE`](config::CONFIG_FILE).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::matrix::Matrix;

mod checks;
pub mod config;
mod heredoc;
pub mod image;
pub mod output;
pub mod rules;
pub mod shell;
mod source;
pub mod syntax;
mod walk;

pub use config::{CONFIG_FILE, Config, ConfigError};
pub use rules::{RULES, Rule, RuleId, Severity};
pub use source::{DecodeError, Position, Region, Source};
pub use walk::{Discovered, Input, discover};

/// One problem found in a Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Which rule.
    pub rule: RuleId,
    /// Its severity (the rule's default unless configured).
    pub severity: Severity,
    /// What is wrong and what was expected.
    pub message: String,
    /// Where: the exact token when there is one, otherwise the instruction's first line.
    pub region: Region,
    /// The first line of the instruction the finding belongs to (what ignore comments and
    /// hadolint refer to).
    pub instruction_line: usize,
}

/// The findings of one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file as named by the caller (`-` or `--stdin-filename` for standard input).
    pub path: PathBuf,
    /// Findings in line order.
    pub findings: Vec<Finding>,
    /// How many findings ignore comments suppressed.
    pub suppressed: usize,
    /// A Runtime Dockerfile linted without a matrix: the parity rules did not run.
    pub parity_skipped: bool,
    source: Option<Source>,
}

impl FileReport {
    /// The text of line `line` (1-based), when the file could be decoded.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.source.as_ref().map(|s| s.line_text(line))
    }
}

/// The findings of a whole run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every file linted, in the order given.
    pub files: Vec<FileReport>,
}

impl Report {
    /// Every finding with its file.
    pub fn findings(&self) -> impl Iterator<Item = (&FileReport, &Finding)> {
        self.files
            .iter()
            .flat_map(|f| f.findings.iter().map(move |x| (f, x)))
    }

    /// Number of findings per severity.
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut out = BTreeMap::new();
        for (_, f) in self.findings() {
            *out.entry(f.severity).or_insert(0) += 1;
        }
        out
    }

    /// Whether any finding is at or above the configured failure threshold.
    pub fn fails(&self, config: &Config) -> bool {
        self.findings().any(|(_, f)| config.fails(f.severity))
    }

    /// Findings suppressed by comments, in all files.
    pub fn suppressed(&self) -> usize {
        self.files.iter().map(|f| f.suppressed).sum()
    }

    /// Things the reader should know that are not findings (e.g. rules that could not run).
    pub fn notes(&self) -> Vec<String> {
        let skipped = self.files.iter().filter(|f| f.parity_skipped).count();
        let mut notes = Vec::new();
        if skipped > 0 {
            notes.push(format!(
                "{skipped} Runtime Dockerfile{} linted without a release matrix: the version-parity rules (RK202's step checks, RK210-RK218) did not run; pass --matrix runtime-matrix.toml",
                if skipped == 1 { "" } else { "s" }
            ));
        }
        notes
    }
}

/// Lints Dockerfiles with a configuration and, for the parity rules, a release matrix.
#[derive(Clone, Debug, Default)]
pub struct Linter {
    config: Config,
    matrix: Option<Matrix>,
    /// The largest input read ([`crate::fsutil::DEFAULT_INPUT_LIMIT`] unless set).
    max_input: Option<u64>,
}

impl Linter {
    /// A linter without matrix: the parity rules are skipped.
    pub fn new(config: Config) -> Linter {
        Linter {
            config,
            matrix: None,
            max_input: None,
        }
    }

    /// Enables the parity rules against `matrix`.
    pub fn with_matrix(mut self, matrix: Matrix) -> Linter {
        self.matrix = Some(matrix);
        self
    }

    /// Refuses inputs larger than `bytes` (default [`crate::fsutil::DEFAULT_INPUT_LIMIT`]).
    pub fn with_max_input(mut self, bytes: u64) -> Linter {
        self.max_input = Some(bytes);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The matrix, if any.
    pub fn matrix(&self) -> Option<&Matrix> {
        self.matrix.as_ref()
    }

    /// Lints the bytes of one file named `path` (the path also identifies generated Runtime
    /// Dockerfiles, `dockerfiles/<tag>/Dockerfile`). Never panics: unreadable text and syntax
    /// errors are findings of rule [`rules::SYNTAX_ERROR`].
    pub fn lint_file(&self, path: &Path, bytes: &[u8]) -> FileReport {
        let source = match Source::decode(bytes) {
            Ok(s) => s,
            Err(e) => {
                let (line, column) = match e {
                    DecodeError::NotUtf8 { line, column, .. }
                    | DecodeError::Binary { line, column } => (line, column),
                };
                let at = Position { line, column };
                let region = Region { start: at, end: at };
                return self.syntax_error(path, None, region, e.to_string());
            }
        };
        let df = match syntax::Dockerfile::parse(&source) {
            Ok(df) => df,
            Err(e) => {
                let region = Region {
                    start: e.position,
                    end: e.end,
                };
                return self.syntax_error(path, Some(source), region, e.message);
            }
        };
        let mut ctx = checks::Ctx {
            source: &source,
            df: &df,
            config: &self.config,
            runtime_repositories: self.matrix.as_ref().map_or_else(
                || vec![crate::matrix::DEFAULT_REPOSITORY],
                |m| {
                    let mut r = m.repositories();
                    if !r.contains(&m.defaults().repository.as_str()) {
                        r.push(&m.defaults().repository);
                    }
                    r
                },
            ),
            findings: Vec::new(),
            parity_skipped: false,
        };
        checks::run_all(&mut ctx);
        checks::runtime::check(&mut ctx, path, self.matrix.as_ref());
        let parity_skipped = ctx.parity_skipped;
        let mut findings = ctx.findings;
        let ignores = Ignores::read(&df, &source, &self.config, &mut findings);
        let before = findings.len();
        findings.retain(|f| !ignores.suppresses(f));
        let suppressed = before - findings.len();
        findings.sort_by(|a, b| {
            (a.region.start, a.rule.as_str(), &a.message).cmp(&(
                b.region.start,
                b.rule.as_str(),
                &b.message,
            ))
        });
        findings.dedup();
        FileReport {
            path: path.to_path_buf(),
            findings,
            suppressed,
            parity_skipped,
            source: Some(source),
        }
    }

    fn syntax_error(
        &self,
        path: &Path,
        source: Option<Source>,
        region: Region,
        message: String,
    ) -> FileReport {
        let findings = if self.config.is_enabled(rules::SYNTAX_ERROR) {
            vec![Finding {
                rule: rules::SYNTAX_ERROR,
                severity: self.config.severity_of(rules::SYNTAX_ERROR),
                message,
                region,
                instruction_line: region.start.line,
            }]
        } else {
            Vec::new()
        };
        FileReport {
            path: path.to_path_buf(),
            findings,
            suppressed: 0,
            parity_skipped: false,
            source,
        }
    }

    /// Lints every input (files and standard input) in order. Reading errors are returned, not
    /// reported as findings: they are the caller's problem, not the Dockerfile's.
    pub fn lint_inputs(&self, inputs: &[Input]) -> std::io::Result<Report> {
        let mut report = Report::default();
        let limit = self.max_input.unwrap_or(crate::fsutil::DEFAULT_INPUT_LIMIT);
        for input in inputs {
            let (name, bytes) = input.read(limit)?;
            report.files.push(self.lint_file(&name, &bytes));
        }
        Ok(report)
    }
}

/// Ignore comments of one file.
struct Ignores {
    /// Rules ignored for the instruction starting on a line.
    by_line: BTreeMap<usize, BTreeSet<RuleId>>,
    /// Rules ignored in the whole file (`# hadolint global ignore=`).
    global: BTreeSet<RuleId>,
}

impl Ignores {
    fn read(
        df: &syntax::Dockerfile,
        source: &Source,
        config: &Config,
        findings: &mut Vec<Finding>,
    ) -> Ignores {
        let mut out = Ignores {
            by_line: BTreeMap::new(),
            global: BTreeSet::new(),
        };
        for c in &df.comments {
            if let Some((global, ids)) = hadolint_pragma(&c.text) {
                let rules = ids
                    .iter()
                    .filter_map(|id| RULES.iter().find(|r| r.hadolint == Some(id.as_str())))
                    .map(|r| r.id);
                if global {
                    out.global.extend(rules);
                } else {
                    // hadolint applies the comment to the line right after it.
                    out.by_line.entry(c.line + 1).or_default().extend(rules);
                }
            } else if let Some(ids) = own_pragma(&c.text) {
                // Ours applies to the next instruction, across comment and blank lines.
                let next = df
                    .instructions
                    .iter()
                    .find(|i| i.start_line > c.line)
                    .filter(|i| {
                        (c.line + 1..i.start_line).all(|l| {
                            let t = source.line_text(l).trim();
                            t.is_empty() || t.starts_with('#')
                        })
                    });
                for id in ids {
                    let named: Vec<&Rule> = rules::lookup_all(&id).collect();
                    match named.first() {
                        Some(_) => {
                            if let Some(i) = next {
                                let at = out.by_line.entry(i.start_line).or_default();
                                at.extend(named.iter().map(|r| r.id));
                            }
                        }
                        None if config.is_enabled(rules::UNKNOWN_RULE_IN_IGNORE) => {
                            let line = source.line_range(c.line);
                            let at = source.text()[line.clone()]
                                .find(&id)
                                .map_or(line.start, |i| line.start + i);
                            findings.push(Finding {
                                rule: rules::UNKNOWN_RULE_IN_IGNORE,
                                severity: config.severity_of(rules::UNKNOWN_RULE_IN_IGNORE),
                                message: format!("unknown rule {id:?} in ignore comment; expected a rule id like RK113, a rule name or a mapped hadolint id"),
                                region: source.region(at..at + id.len()),
                                instruction_line: c.line,
                            });
                        }
                        None => {}
                    }
                }
            }
        }
        out
    }

    fn suppresses(&self, f: &Finding) -> bool {
        f.rule != rules::UNKNOWN_RULE_IN_IGNORE
            && (self.global.contains(&f.rule)
                || self
                    .by_line
                    .get(&f.instruction_line)
                    .is_some_and(|s| s.contains(&f.rule)))
    }
}

/// `hadolint [global] ignore=DL3008,DL3015` (hadolint's grammar: spaces and tabs only).
fn hadolint_pragma(text: &str) -> Option<(bool, Vec<String>)> {
    let rest = text.strip_prefix("hadolint")?;
    let rest = rest
        .strip_prefix([' ', '\t'])?
        .trim_start_matches([' ', '\t']);
    let (global, rest) = match rest.strip_prefix("global") {
        Some(r) => (
            true,
            r.strip_prefix([' ', '\t'])?.trim_start_matches([' ', '\t']),
        ),
        None => (false, rest),
    };
    let list = rest.strip_prefix("ignore")?.trim_start_matches([' ', '\t']);
    let list = list.strip_prefix('=')?;
    let list = list.split('#').next().unwrap_or("");
    let ids: Vec<String> = list
        .split(',')
        .map(|s| s.trim_matches([' ', '\t']).to_string())
        .collect();
    if ids
        .iter()
        .all(|s| !s.is_empty() && s.chars().all(|c| "DLSC0123456789".contains(c)))
    {
        Some((global, ids))
    } else {
        None
    }
}

/// `runtime-kit ignore=RK113,pip-cache [reason]`.
fn own_pragma(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix("runtime-kit")?.trim_start();
    let list = rest
        .strip_prefix("ignore")?
        .trim_start()
        .strip_prefix('=')?;
    let list = list.trim_start();
    // The list ends at the first space that does not follow a comma: the rest is a reason.
    let mut end = list.len();
    let mut prev = ',';
    for (i, c) in list.char_indices() {
        if c.is_whitespace() && prev != ',' {
            end = i;
            break;
        }
        if !c.is_whitespace() {
            prev = c;
        }
    }
    let ids: Vec<String> = list[..end]
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    (!ids.is_empty()).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pragmas() {
        assert_eq!(
            hadolint_pragma("hadolint ignore=DL3008, DL3015 # why"),
            Some((false, vec!["DL3008".into(), "DL3015".into()]))
        );
        assert_eq!(
            hadolint_pragma("hadolint global ignore=DL3006"),
            Some((true, vec!["DL3006".into()]))
        );
        assert_eq!(hadolint_pragma("hadolint ignore=apt"), None);
        assert_eq!(hadolint_pragma("hadolintignore=DL3008"), None);
        assert_eq!(
            own_pragma("runtime-kit ignore=RK113, pip-cache  Debian pins move"),
            Some(vec!["RK113".into(), "pip-cache".into()])
        );
        assert_eq!(own_pragma("runtime-kit ignore="), None);
        assert_eq!(own_pragma("runtime-kit: ignore=RK1"), None);
    }

    /// A here-document the shell runs is the script every RUN rule reads, whatever form opens
    /// it; one fed to another program is not shell.
    #[test]
    fn heredoc_scripts_are_linted_in_every_form() {
        let linter = Linter::default();
        let forms = [
            "RUN <<EOF",
            "RUN <<'EOF'",
            "RUN <<\"EOF\"",
            "RUN <<-EOF",
            "RUN <<EOF sh",
            "RUN <<EOF bash -e",
            "RUN bash <<EOF",
            "RUN --mount=type=cache,target=/root/.cache <<EOF",
            "ONBUILD RUN <<EOF",
            "run <<EOF",
        ];
        for form in forms {
            let text = format!("FROM debian:11\n{form}\nsudo true\nEOF\nUSER 1\n");
            let r = linter.lint_file(Path::new("Dockerfile"), text.as_bytes());
            let at: Vec<(&str, usize)> = r
                .findings
                .iter()
                .map(|f| (f.rule.as_str(), f.region.start.line))
                .collect();
            assert!(at.contains(&("RK130", 3)), "{form}: {at:?}");
        }
        let python = "FROM debian:11\nRUN python3 <<EOF\nsudo = 1\nEOF\nUSER 1\n";
        let r = linter.lint_file(Path::new("Dockerfile"), python.as_bytes());
        assert!(
            r.findings.iter().all(|f| f.rule.as_str() != "RK130"),
            "{:?}",
            r.findings
        );
    }

    /// Triggers BuildKit refuses are syntax errors at the trigger; a BuildKit check name that
    /// covers two rules names both.
    #[test]
    fn refused_onbuild_triggers_and_buildkit_names() {
        let linter = Linter::default();
        for (text, message) in [
            (
                "FROM a:1\nONBUILD FROM b:1\n",
                "FROM isn't allowed as an ONBUILD trigger",
            ),
            (
                "FROM a:1\nonbuild maintainer me\n",
                "MAINTAINER isn't allowed as an ONBUILD trigger",
            ),
        ] {
            let r = linter.lint_file(Path::new("Dockerfile"), text.as_bytes());
            assert_eq!(r.findings.len(), 1, "{text}: {:?}", r.findings);
            let f = &r.findings[0];
            assert_eq!(
                (f.rule.as_str(), f.region.start.line, f.region.start.column),
                ("RK001", 2, 9)
            );
            assert!(f.message.contains(message), "{}", f.message);
        }
        let ids: Vec<&str> = rules::lookup_all("multipleinstructionsdisallowed")
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["RK145", "RK146"]);
    }

    /// An instruction the parser does not know is a syntax error on its own keyword (line,
    /// column and width), saying which keywords were expected, with the nearest one for a typo.
    #[test]
    fn unknown_instructions_are_syntax_errors_at_their_keyword() {
        let linter = Linter::default();
        let expected = "expected one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR";
        let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        for (body, (line, column, end), head) in [
            ("FOOBAR x\n", (2, 1, 7), "unknown instruction \"FOOBAR\";"),
            (
                "  RUNN echo hi\n",
                (2, 3, 7),
                "unknown instruction \"RUNN\" (did you mean RUN?);",
            ),
            (
                "ONBUILD cpoy a b\n",
                (2, 9, 13),
                "unknown instruction \"cpoy\" (did you mean COPY?);",
            ),
            (
                "RUN <<EOF\necho hi\nEOF\n# note\n\nworkdri /app\n",
                (7, 1, 8),
                "unknown instruction \"workdri\" (did you mean WORKDIR?);",
            ),
            ("HELLO\n", (2, 1, 6), "unknown instruction \"HELLO\";"),
        ] {
            let text = format!("FROM debian:bookworm@{digest}\n{body}");
            let r = linter.lint_file(Path::new("Dockerfile"), text.as_bytes());
            assert_eq!(r.findings.len(), 1, "{body:?}: {:?}", r.findings);
            let f = &r.findings[0];
            assert_eq!(f.rule, rules::SYNTAX_ERROR, "{body:?}");
            assert_eq!(
                (
                    f.region.start.line,
                    f.region.start.column,
                    f.region.end.line,
                    f.region.end.column,
                    f.instruction_line
                ),
                (line, column, line, end, line),
                "{body:?}: {f:?}"
            );
            assert!(f.message.starts_with(head), "{body:?}: {}", f.message);
            assert!(f.message.ends_with(expected), "{body:?}: {}", f.message);
        }
    }

    /// A project built on a Runtime image runs as its unprivileged user: no USER needed.
    #[test]
    fn a_project_on_a_runtime_image_needs_no_user() {
        let linter = Linter::default();
        let ids = |text: &str| -> Vec<&'static str> {
            linter
                .lint_file(Path::new("Dockerfile"), text.as_bytes())
                .findings
                .iter()
                .map(|f| f.rule.as_str())
                .collect()
        };
        assert!(!ids("FROM quay.io/astronomer/astro-runtime:5.0.13\n").contains(&"RK144"));
        assert!(
            !ids("FROM quay.io/astronomer/astro-runtime:9.1.0-base\nCOPY dags dags\n")
                .contains(&"RK144")
        );
        assert!(ids("FROM python:3.11-slim-bullseye\n").contains(&"RK144"));
        assert!(ids("FROM quay.io/other/astro-runtime:5.0.13\n").contains(&"RK144"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let linter = Linter::default();
        let inputs: &[&[u8]] = &[
            b"",
            b"\xef\xbb\xbf",
            b"\x00\x01\x02",
            b"\xff\xfe",
            b"FROM",
            b"FROM a\nRUN <<EOF\n",
            b"FROM a\nRUN [\"unterminated\n",
            b"FROM a\r\nRUN echo \\\r\n",
            b"\n\n\n# only comments\n",
            b"FROM a\nONBUILD ONBUILD RUN x\n",
            b"FROM a\nLABEL \"\n",
            b"FROM a\nRUN $(((((\n",
        ];
        for bytes in inputs {
            let r = linter.lint_file(Path::new("Dockerfile"), bytes);
            for f in &r.findings {
                assert!(
                    f.region.start.line >= 1 && f.region.start.column >= 1,
                    "{f:?}"
                );
            }
        }
    }
}
