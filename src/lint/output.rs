//! Report formats: human (file:line:col, rule, message, the line with a caret), JSON, and SARIF
//! 2.1.0 as GitHub code scanning reads it.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::rules::{self, RULES, Severity};
use super::{Config, FileReport, Finding, Report};

/// Writes the findings for people: `file:line:col: severity[ID] message`, then the source line
/// with a caret under the offending text.
pub fn human(report: &Report, out: &mut impl Write) -> io::Result<()> {
    for (file, f) in report.findings() {
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            file.path.display(),
            f.region.start.line,
            f.region.start.column,
            f.severity,
            f.rule,
            f.message
        )?;
        if let Some(line) = file.line_text(f.region.start.line) {
            caret(out, line, f)?;
        }
    }
    Ok(())
}

fn caret(out: &mut impl Write, line: &str, f: &Finding) -> io::Result<()> {
    let number = f.region.start.line.to_string();
    let pad = " ".repeat(number.len());
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let len = shown.chars().count();
    let start = f.region.start.column.saturating_sub(1).min(len);
    let end = if f.region.end.line == f.region.start.line {
        f.region.end.column.saturating_sub(1).min(len)
    } else {
        len
    };
    let width = end.saturating_sub(start).max(1);
    writeln!(out, "{pad} |")?;
    writeln!(out, "{number} | {shown}")?;
    writeln!(out, "{pad} | {}{}", " ".repeat(start), "^".repeat(width))?;
    Ok(())
}

/// One line summing the run up, e.g. `3 findings (1 error, 2 warnings) in 2 files, 1 suppressed`.
pub fn summary(report: &Report) -> String {
    let counts = report.counts();
    let total: usize = counts.values().sum();
    let files = report.files.len();
    let files = format!("{files} file{}", if files == 1 { "" } else { "s" });
    let mut s = if total == 0 {
        format!("no findings in {files}")
    } else {
        let parts: Vec<String> = counts
            .iter()
            .rev()
            .map(|(sev, n)| {
                let plural = if *n == 1 || matches!(sev, Severity::Info | Severity::Style) {
                    ""
                } else {
                    "s"
                };
                format!("{n} {sev}{plural}")
            })
            .collect();
        format!(
            "{total} finding{} ({}) in {files}",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    if report.suppressed() > 0 {
        s.push_str(&format!(", {} suppressed by comments", report.suppressed()));
    }
    s
}

fn finding_json(file: &FileReport, f: &Finding) -> Value {
    let rule = rules::rule(f.rule);
    json!({
        "file": file.path,
        "line": f.region.start.line,
        "column": f.region.start.column,
        "endLine": f.region.end.line,
        "endColumn": f.region.end.column,
        "instructionLine": f.instruction_line,
        "rule": f.rule,
        "name": rule.name,
        "severity": f.severity,
        "message": f.message,
        "hadolint": rule.hadolint,
        "buildkit": rule.buildkit,
    })
}

/// The report as JSON: every finding with its file and region, and a summary.
pub fn json(report: &Report, config: &Config) -> Value {
    let findings: Vec<Value> = report
        .findings()
        .map(|(file, f)| finding_json(file, f))
        .collect();
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    json!({
        "findings": findings,
        "summary": {
            "files": report.files.len(),
            "findings": findings.len(),
            "bySeverity": counts,
            "suppressed": report.suppressed(),
            "failureThreshold": config.failure_threshold,
            "failed": report.fails(config),
            "notes": report.notes(),
        },
    })
}

/// The rule list as JSON (`--list-rules --format json`).
pub fn rules_json(config: &Config) -> Value {
    Value::Array(
        RULES
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.name,
                    "severity": config.severity_of(r.id),
                    "enabled": config.is_enabled(r.id),
                    "needsMatrix": r.needs_matrix,
                    "hadolint": r.hadolint,
                    "buildkit": r.buildkit,
                    "summary": r.summary,
                    "explanation": r.explanation,
                })
            })
            .collect(),
    )
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// A path as a URI reference: relative paths stay relative (forward slashes, percent-encoded), as
/// GitHub code scanning resolves them against the repository root; absolute paths become
/// `file://` URIs.
pub fn path_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if path.is_absolute() {
        format!("file://{out}")
    } else {
        out
    }
}

/// The report as a SARIF 2.1.0 log (one run, every rule described, one result per finding).
pub fn sarif(report: &Report, config: &Config) -> Value {
    let descriptors: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let mut help = r.explanation.to_string();
            if let Some(h) = r.hadolint {
                help.push_str(&format!(" (hadolint {h})"));
            }
            if let Some(b) = r.buildkit {
                help.push_str(&format!(" (BuildKit check {b})"));
            }
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "help": { "text": help },
                "defaultConfiguration": {
                    "level": level(config.severity_of(r.id)),
                    "enabled": config.is_enabled(r.id),
                },
                "properties": {
                    "tags": tags(r),
                    "problem.severity": match config.severity_of(r.id) {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info | Severity::Style => "recommendation",
                    },
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings()
        .map(|(file, f)| {
            let index = f.rule.index();
            let mut region = json!({
                "startLine": f.region.start.line,
                "startColumn": f.region.start.column,
                "endLine": f.region.end.line,
                "endColumn": f.region.end.column.max(f.region.start.column),
            });
            if f.region.end.line == f.region.start.line
                && f.region.end.column <= f.region.start.column
            {
                region["endColumn"] = json!(f.region.start.column + 1);
            }
            if let Some(line) = file.line_text(f.region.start.line) {
                region["snippet"] = json!({ "text": line });
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": path_uri(&file.path) },
                        "region": region,
                    }
                }],
            })
        })
        .collect();
    let artifacts: Vec<Value> = report
        .files
        .iter()
        .map(|f| json!({ "location": { "uri": path_uri(&f.path) } }))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "runtime-kit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": descriptors,
                }
            },
            "columnKind": "unicodeCodePoints",
            "artifacts": artifacts,
            "results": results,
            "invocations": [{ "executionSuccessful": true }],
        }],
    })
}

fn tags(r: &rules::Rule) -> Vec<&'static str> {
    let mut t = vec!["dockerfile"];
    if r.needs_matrix || r.id.as_str().starts_with("RK2") {
        t.push("runtime");
    }
    if r.id == rules::SECRET_IN_ARG_ENV {
        t.push("security");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            path_uri(Path::new("./dockerfiles/5.0.6/Dockerfile")),
            "dockerfiles/5.0.6/Dockerfile"
        );
        assert_eq!(
            path_uri(Path::new("a b/c:d.Dockerfile")),
            "a%20b/c%3Ad.Dockerfile"
        );
        assert_eq!(
            path_uri(Path::new("/abs/Dockerfile")),
            "file:///abs/Dockerfile"
        );
    }
}
