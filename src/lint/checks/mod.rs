//! The rules' implementations. Each walks the parsed file once and reports through [`Ctx`].
//!
//! Rules with a hadolint equivalent follow hadolint 2.15's semantics exactly (same instructions,
//! same lines, including its choices about ONBUILD and stages), so that the differential test in
//! `tests/lint_differential.rs` can hold them to it; where hadolint and BuildKit differ, the test
//! lists the difference.

use std::ops::Range;

use super::Finding;
use super::config::Config;
use super::rules::RuleId;
use super::source::Source;
use super::syntax::{Args, Command, Dockerfile, Instruction, Joined, Kind};
use crate::lint::shell::{self, Script, ShellWord};

mod general;
mod run;
pub(crate) mod runtime;

/// What every rule sees, and where findings go.
pub(crate) struct Ctx<'a> {
    pub source: &'a Source,
    pub df: &'a Dockerfile,
    pub config: &'a Config,
    /// The repositories of the Runtime images, which run as an unprivileged user: a project
    /// built `FROM` one needs no USER of its own.
    pub runtime_repositories: Vec<&'a str>,
    pub findings: Vec<Finding>,
    /// Set when a Runtime Dockerfile was linted without a matrix.
    pub parity_skipped: bool,
}

impl Ctx<'_> {
    /// Reports `rule` for `instr` at the byte range `span`.
    pub fn report(
        &mut self,
        rule: RuleId,
        instr: &Instruction,
        span: Range<usize>,
        message: impl Into<String>,
    ) {
        if !self.config.is_enabled(rule) {
            return;
        }
        self.findings.push(Finding {
            rule,
            severity: self.config.severity_of(rule),
            message: message.into(),
            region: self.source.region(span),
            instruction_line: instr.start_line,
        });
    }

    /// Reports `rule` on the first line of `instr`.
    pub fn report_instr(&mut self, rule: RuleId, instr: &Instruction, message: impl Into<String>) {
        let span = first_line(self.source, instr);
        self.report(rule, instr, span, message);
    }
}

/// The byte range of an instruction's first line, from its keyword to the end of the line.
pub(crate) fn first_line(source: &Source, instr: &Instruction) -> Range<usize> {
    let line = source.line_range(instr.start_line);
    let end = line.end.min(instr.span.end).max(instr.keyword.end);
    let text = &source.text()[instr.keyword.start..end];
    let trimmed = text.trim_end_matches([' ', '\t', '\\', '`']);
    instr.keyword.start..instr.keyword.start + trimmed.len().max(instr.keyword.len())
}

/// Runs every rule.
pub(crate) fn run_all(ctx: &mut Ctx<'_>) {
    general::check(ctx);
    run::check(ctx);
}

/// A stage: its FROM and the instructions up to the next FROM.
pub(crate) struct Stage<'a> {
    pub from: &'a Instruction,
    pub body: &'a [Instruction],
}

impl<'a> Stage<'a> {
    /// The stage name.
    pub fn alias(&self) -> Option<&'a str> {
        match &self.from.args {
            Args::From { alias, .. } => alias.as_ref().map(|a| a.value.as_str()),
            _ => None,
        }
    }

    /// The image text of the FROM.
    pub fn image(&self) -> &'a str {
        match &self.from.args {
            Args::From { image, .. } => image.value.as_str(),
            _ => "",
        }
    }
}

/// The stages of `df`, in order.
pub(crate) fn stages(df: &Dockerfile) -> Vec<Stage<'_>> {
    let starts: Vec<usize> = df
        .instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == Kind::From)
        .map(|(n, _)| n)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let end = starts.get(k + 1).copied().unwrap_or(df.instructions.len());
            Stage {
                from: &df.instructions[s],
                body: &df.instructions[s + 1..end],
            }
        })
        .collect()
}

/// The shell script a `RUN` executes, with the map from its words back to the source.
pub(crate) struct RunScript<'a> {
    pub script: Script,
    /// The original text (for hadolint's text-level checks).
    pub text: String,
    map: ScriptMap<'a>,
}

enum ScriptMap<'a> {
    Joined(&'a Joined),
    Offset(usize),
    Whole(Range<usize>),
}

impl RunScript<'_> {
    /// The source byte range of a word of the script.
    pub fn span(&self, w: &ShellWord) -> Range<usize> {
        match &self.map {
            ScriptMap::Joined(j) => j.source_range(w.span.clone()),
            ScriptMap::Offset(base) => base + w.span.start..base + w.span.end,
            ScriptMap::Whole(r) => r.clone(),
        }
    }
}

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "/bin/sh",
    "/bin/bash",
    "/bin/ash",
    "/bin/dash",
    "/bin/zsh",
    "/usr/bin/env",
];

/// The script of a `RUN` (or the command of `CMD`/`ENTRYPOINT`). A `RUN <<EOF` here-document run
/// by the shell (`RUN <<EOF`, `RUN bash <<EOF`) is its script; a here-document fed to another
/// program (`RUN python3 <<EOF`) is not shell and is not read.
pub(crate) fn run_script(instr: &Instruction) -> Option<RunScript<'_>> {
    let Args::Command { command, heredocs } = &instr.args else {
        return None;
    };
    match command {
        Command::Shell(j) => {
            if let Some(h) = heredocs.first() {
                let rest = strip_heredoc_markers(&j.text);
                let first = rest.split_whitespace().next();
                if first.is_none_or(|w| SHELLS.contains(&w)) {
                    let offset = if h.body.len() == h.span.len() {
                        ScriptMap::Offset(h.span.start)
                    } else {
                        ScriptMap::Whole(h.span.clone())
                    };
                    return Some(RunScript {
                        script: shell::parse(&h.body),
                        text: h.body.clone(),
                        map: offset,
                    });
                }
            }
            Some(RunScript {
                script: shell::parse(&j.text),
                text: j.text.clone(),
                map: ScriptMap::Joined(j),
            })
        }
        Command::Exec(words) => {
            let text = command.script().into_owned();
            let span = match (words.first(), words.last()) {
                (Some(a), Some(b)) => a.span.start..b.span.end,
                _ => instr.keyword.clone(),
            };
            Some(RunScript {
                script: shell::parse(&text),
                text,
                map: ScriptMap::Whole(span),
            })
        }
    }
}

fn strip_heredoc_markers(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("<<") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find(|c: char| c.is_whitespace())
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// hadolint's `dropQuotes`: strips quotes around a value.
pub(crate) fn drop_quotes(s: &str) -> &str {
    s.trim_matches(|c| c == '"' || c == '\'')
}
