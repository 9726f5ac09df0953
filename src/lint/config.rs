//! `.runtime-kit-lint.toml`: which rules run, at which severity, and when lint fails.
//!
//! ```toml
//! # Findings at or above this severity make `runtime-kit lint` exit 1:
//! # "error", "warning" (default), "info", "style" or "none" (never fail).
//! failure-threshold = "warning"
//! # Rules never reported (ids, names or hadolint ids).
//! ignore = ["RK113"]
//! # Rules that are off by default and should run.
//! enable = ["RK103"]
//! # Same as enable = ["RK103"]: every FROM must be pinned by digest.
//! require-digest = false
//! # The release matrix for the version-parity rules, relative to this file.
//! matrix = "runtime-matrix.toml"
//! # Paths skipped when walking directories, relative to this file.
//! exclude = ["tests/lint-corpus"]
//! # Severity overrides.
//! [severity]
//! RK144 = "warning"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::rules::{self, RuleId, Severity};

/// The default file name, looked up in the current directory.
pub const CONFIG_FILE: &str = ".runtime-kit-lint.toml";

/// Lint settings, from the config file and the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Findings at or above this severity fail the run; `None` never fails.
    pub failure_threshold: Option<Severity>,
    /// Rules never reported.
    pub ignore: BTreeSet<RuleId>,
    /// Rules that are off by default and turned on.
    pub enable: BTreeSet<RuleId>,
    /// Severity overrides.
    pub severity: BTreeMap<RuleId, Severity>,
    /// The matrix file named by the config (already resolved against the config's directory).
    pub matrix: Option<PathBuf>,
    /// Paths skipped when walking directories.
    pub exclude: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            failure_threshold: Some(Severity::Warning),
            ignore: BTreeSet::new(),
            enable: BTreeSet::new(),
            severity: BTreeMap::new(),
            matrix: None,
            exclude: Vec::new(),
        }
    }
}

/// A config file that cannot be used, with the place of the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    failure_threshold: Option<toml::Spanned<String>>,
    #[serde(default)]
    ignore: Vec<toml::Spanned<String>>,
    #[serde(default)]
    enable: Vec<toml::Spanned<String>>,
    require_digest: Option<bool>,
    matrix: Option<PathBuf>,
    #[serde(default)]
    exclude: Vec<PathBuf>,
    #[serde(default)]
    severity: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
}

impl Config {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::fsutil::read_input_string(path, crate::fsutil::DEFAULT_INPUT_LIMIT)
            .map_err(|e| ConfigError {
                file: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!("cannot read the lint configuration: {e}"),
            })?;
        Config::from_toml(&text, path)
    }

    /// Parses config text; `path` names the file in errors and anchors relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let at = |offset: usize, message: String| {
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            ConfigError {
                file: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_string())
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut config = Config::default();
        let rule_id = |s: &toml::Spanned<String>| {
            rules::lookup(s.get_ref()).map(|r| r.id).ok_or_else(|| {
                at(
                    s.span().start,
                    format!(
                        "unknown rule {:?}; expected a rule id like \"RK113\", a rule name or a mapped hadolint id (see `runtime-kit lint --list-rules`)",
                        s.get_ref()
                    ),
                )
            })
        };
        let severity = |s: &toml::Spanned<String>| {
            s.get_ref()
                .parse::<Severity>()
                .map_err(|e| at(s.span().start, e))
        };
        if let Some(t) = &raw.failure_threshold {
            config.failure_threshold = if t.get_ref() == "none" {
                None
            } else {
                Some(severity(t).map_err(|mut e| {
                    e.message = e
                        .message
                        .replace(" or \"style\"", ", \"style\" or \"none\"");
                    e
                })?)
            };
        }
        for s in &raw.ignore {
            config.ignore.insert(rule_id(s)?);
        }
        for s in &raw.enable {
            config.enable.insert(rule_id(s)?);
        }
        if raw.require_digest == Some(true) {
            config.enable.insert(rules::FROM_WITHOUT_DIGEST);
        }
        for (k, v) in &raw.severity {
            config.severity.insert(rule_id(k)?, severity(v)?);
        }
        config.matrix = raw.matrix.map(|m| base.join(m));
        config.exclude = raw.exclude.into_iter().map(|p| base.join(p)).collect();
        Ok(config)
    }

    /// Whether `rule` runs.
    pub fn is_enabled(&self, rule: RuleId) -> bool {
        !self.ignore.contains(&rule)
            && (rules::rule(rule).enabled_by_default || self.enable.contains(&rule))
    }

    /// The severity `rule` reports at.
    pub fn severity_of(&self, rule: RuleId) -> Severity {
        self.severity
            .get(&rule)
            .copied()
            .unwrap_or(rules::rule(rule).severity)
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(&self, severity: Severity) -> bool {
        self.failure_threshold.is_some_and(|t| severity >= t)
    }

    /// Whether a path found while walking a directory is excluded.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let clean = |p: &Path| -> PathBuf {
            p.components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect()
        };
        let path = clean(path);
        self.exclude.iter().any(|e| path.starts_with(clean(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let c = Config::from_toml(
            "failure-threshold = \"error\"\nignore = [\"DL3008\", \"pip-cache\"]\nrequire-digest = true\nmatrix = \"m.toml\"\nexclude = [\"corpus\"]\n[severity]\nRK144 = \"warning\"\n",
            Path::new("conf/.runtime-kit-lint.toml"),
        )
        .unwrap();
        assert_eq!(c.failure_threshold, Some(Severity::Error));
        assert!(c.ignore.contains(&rules::APT_UNPINNED) && c.ignore.contains(&rules::PIP_CACHE));
        assert!(c.is_enabled(rules::FROM_WITHOUT_DIGEST));
        assert!(!c.is_enabled(rules::APT_UNPINNED));
        assert_eq!(c.severity_of(rules::NO_USER), Severity::Warning);
        assert_eq!(c.matrix.as_deref(), Some(Path::new("conf/m.toml")));
        assert!(c.is_excluded(Path::new("./conf/corpus/x/Dockerfile")));
        assert!(!c.is_excluded(Path::new("conf/other/Dockerfile")));
        assert!(!Config::default().is_enabled(rules::FROM_WITHOUT_DIGEST));
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            (
                "ignore = [\"RK999\"]",
                "x.toml:1:11: unknown rule \"RK999\"",
            ),
            (
                "failure-threshold = \"loud\"",
                "x.toml:1:21: unknown severity \"loud\"",
            ),
            ("\n\nbogus = 1", "x.toml:3:1: unknown field `bogus`"),
            (
                "[severity]\nRK101 = \"fatal\"",
                "x.toml:2:9: unknown severity",
            ),
        ];
        for (text, want) in cases {
            let e = Config::from_toml(text, Path::new("x.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }
}
