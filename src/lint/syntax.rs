//! The syntax tree the rules read: every instruction with its flags, arguments, source span and
//! line range, plus the comments between instructions.
//!
//! Parsing is done by [`parse_dockerfile`] (BuildKit's grammar: heredocs, parser directives, nested
//! ONBUILD, flags, exact byte spans); this module turns its borrowed tree into owned values with
//! the extra facts rules need (line continuations joined as BuildKit joins them, `KEY=value`
//! pairs split, a byte-offset map back to the source for precise carets).

use std::fmt;
use std::ops::Range;

use parse_dockerfile as pd;

use super::heredoc::{self, Found};
use super::source::{Position, Source};

/// An instruction keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)] // the variants are the Dockerfile keywords
pub enum Kind {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
}

impl Kind {
    /// Every keyword, in alphabetical order.
    pub const ALL: [Kind; 18] = [
        Kind::Add,
        Kind::Arg,
        Kind::Cmd,
        Kind::Copy,
        Kind::Entrypoint,
        Kind::Env,
        Kind::Expose,
        Kind::From,
        Kind::Healthcheck,
        Kind::Label,
        Kind::Maintainer,
        Kind::Onbuild,
        Kind::Run,
        Kind::Shell,
        Kind::Stopsignal,
        Kind::User,
        Kind::Volume,
        Kind::Workdir,
    ];

    /// The keyword in upper case, as the Dockerfile reference writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Add => "ADD",
            Kind::Arg => "ARG",
            Kind::Cmd => "CMD",
            Kind::Copy => "COPY",
            Kind::Entrypoint => "ENTRYPOINT",
            Kind::Env => "ENV",
            Kind::Expose => "EXPOSE",
            Kind::From => "FROM",
            Kind::Healthcheck => "HEALTHCHECK",
            Kind::Label => "LABEL",
            Kind::Maintainer => "MAINTAINER",
            Kind::Onbuild => "ONBUILD",
            Kind::Run => "RUN",
            Kind::Shell => "SHELL",
            Kind::Stopsignal => "STOPSIGNAL",
            Kind::User => "USER",
            Kind::Volume => "VOLUME",
            Kind::Workdir => "WORKDIR",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of text from the Dockerfile with its byte range in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The text, escapes and quotes as the parser left them.
    pub value: String,
    /// Byte range in the source.
    pub span: Range<usize>,
}

/// A `--name[=value]` flag of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// Name without the dashes.
    pub name: String,
    /// Value after `=`, if any.
    pub value: Option<String>,
    /// Byte range of the whole flag.
    pub span: Range<usize>,
}

/// A `key=value` pair of `ENV`, `LABEL` or `ARG` (quotes removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The key (variable or label name).
    pub key: String,
    /// The value; `None` for an `ARG` without default.
    pub value: Option<String>,
    /// Byte range of the pair in the source.
    pub span: Range<usize>,
    /// Byte range of the value in the source (the key's range when there is no value).
    pub value_span: Range<usize>,
}

/// Text of an instruction's arguments with line continuations joined the way BuildKit joins them
/// (escape character and newline removed, comment and blank lines inside a continuation dropped),
/// and the source offset of every byte of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    /// The joined text.
    pub text: String,
    offsets: Vec<usize>,
    end: usize,
}

impl Joined {
    /// The source byte offset of byte `i` of the joined text (the end of the source range past the
    /// end of the text).
    pub fn source_offset(&self, i: usize) -> usize {
        self.offsets.get(i).copied().unwrap_or(self.end)
    }

    /// The source byte range of a range of the joined text.
    pub fn source_range(&self, r: Range<usize>) -> Range<usize> {
        let start = self.source_offset(r.start);
        let end = if r.end > r.start {
            self.source_offset(r.end - 1) + 1
        } else {
            start
        };
        start..end.max(start)
    }

    /// Joins the source text in `range`, with `escape` as the line-continuation character.
    pub fn new(text: &str, range: Range<usize>, escape: char) -> Joined {
        let range = range.start.min(text.len())..range.end.min(text.len());
        let src = &text[range.clone()];
        let mut out = String::with_capacity(src.len());
        let mut offsets = Vec::with_capacity(src.len());
        let mut in_continuation = false;
        let mut pos = 0;
        while pos < src.len() {
            let line_end = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
            let next = (line_end + 1).min(src.len());
            let mut line = &src[pos..line_end];
            if let Some(l) = line.strip_suffix('\r') {
                line = l;
            }
            let trimmed = line.trim_start_matches([' ', '\t']);
            if in_continuation && (trimmed.is_empty() || trimmed.starts_with('#')) {
                pos = next;
                continue;
            }
            let body = line.trim_end_matches([' ', '\t']);
            let continues = line_end < src.len() && body.ends_with(escape) && {
                // An escaped escape character does not continue the line.
                let run = body.chars().rev().take_while(|&c| c == escape).count();
                run % 2 == 1
            };
            let keep = if continues {
                &body[..body.len() - escape.len_utf8()]
            } else if line_end < src.len() {
                &src[pos..next] // keep the newline (heredoc-free shell text may hold several lines)
            } else {
                line
            };
            out.push_str(keep);
            offsets.extend((0..keep.len()).map(|i| range.start + pos + i));
            in_continuation = continues;
            pos = next;
        }
        Joined {
            text: out,
            offsets,
            end: range.end,
        }
    }
}

/// The command of `RUN`, `CMD`, `ENTRYPOINT` or `HEALTHCHECK CMD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Exec form, a JSON array of words.
    Exec(Vec<Word>),
    /// Shell form, run by the `SHELL`.
    Shell(Joined),
}

impl Command {
    /// The command as one shell script: the shell form as written, the exec form's words joined
    /// with spaces (as hadolint reads it).
    pub fn script(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Command::Shell(j) => std::borrow::Cow::Borrowed(&j.text),
            Command::Exec(words) => std::borrow::Cow::Owned(
                words
                    .iter()
                    .map(|w| w.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

/// A here-document of `RUN`, `COPY` or `ADD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    /// Its content.
    pub body: String,
    /// Byte range of the content in the source.
    pub span: Range<usize>,
    /// Whether variables are expanded (the delimiter was not quoted).
    pub expand: bool,
}

/// A source of `COPY` or `ADD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSource {
    /// A path or URL.
    Path(Word),
    /// A here-document.
    Heredoc(Heredoc),
}

/// What follows an instruction's keyword and flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Args {
    /// `FROM image [AS name]`.
    From {
        /// The image reference as written.
        image: Word,
        /// The stage name.
        alias: Option<Word>,
    },
    /// `RUN`, `CMD`, `ENTRYPOINT`.
    Command {
        /// The command.
        command: Command,
        /// Here-documents (RUN only).
        heredocs: Vec<Heredoc>,
    },
    /// `HEALTHCHECK CMD ...` (`Some`) or `HEALTHCHECK NONE` (`None`).
    Healthcheck(Option<Command>),
    /// `COPY` and `ADD`.
    Files {
        /// Sources.
        sources: Vec<FileSource>,
        /// Destination.
        dest: Word,
    },
    /// `ENV`, `LABEL` and `ARG` pairs.
    Pairs(Vec<Pair>),
    /// `EXPOSE`, `VOLUME`, `SHELL`: a list of words.
    Words(Vec<Word>),
    /// `USER`, `WORKDIR`, `STOPSIGNAL`, `MAINTAINER`: one text.
    Text(Word),
    /// `ONBUILD <instruction>`.
    Onbuild(Box<Instruction>),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword.
    pub kind: Kind,
    /// Byte range of the keyword as written (`run`, `RUN`).
    pub keyword: Range<usize>,
    /// Byte range of the whole instruction, continuation lines and here-documents included.
    pub span: Range<usize>,
    /// First line (1-based).
    pub start_line: usize,
    /// Last line, here-document terminators included.
    pub end_line: usize,
    /// Flags (`--from`, `--mount`, `--chown`, `--platform`, ...).
    pub flags: Vec<Flag>,
    /// The arguments.
    pub args: Args,
}

impl Instruction {
    /// The value of flag `name` (the last one if repeated).
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// The instruction an `ONBUILD` triggers; `None` for other instructions.
    pub fn onbuild_inner(&self) -> Option<&Instruction> {
        match &self.args {
            Args::Onbuild(inner) => Some(inner),
            _ => None,
        }
    }

    /// The `ENV`/`LABEL`/`ARG` pairs; empty for other instructions.
    pub fn pairs(&self) -> &[Pair] {
        match &self.args {
            Args::Pairs(p) => p,
            _ => &[],
        }
    }
}

/// A comment line outside instructions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Its line.
    pub line: usize,
    /// Text after `#`, trimmed.
    pub text: String,
}

/// A parsed Dockerfile.
#[derive(Clone, Debug)]
pub struct Dockerfile {
    /// Instructions in file order.
    pub instructions: Vec<Instruction>,
    /// Comment lines between instructions (directives included).
    pub comments: Vec<Comment>,
    /// The escape character (`\` unless an `# escape=` directive says otherwise).
    pub escape: char,
}

/// A Dockerfile that does not parse: what was wrong and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// Where the parser stopped: the start of the offending text.
    pub position: Position,
    /// The end of the offending text (exclusive); `position` itself when there is no token to
    /// mark, such as a missing terminator.
    pub end: Position,
    /// What was expected.
    pub message: String,
}

impl SyntaxError {
    /// An error at one point of the file.
    pub fn at(position: Position, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            position,
            end: position,
            message: message.into(),
        }
    }

    /// An error on the bytes `range` of `source` (such as an instruction keyword).
    pub fn spanning(
        source: &Source,
        range: Range<usize>,
        message: impl Into<String>,
    ) -> SyntaxError {
        let region = source.region(range);
        SyntaxError {
            position: region.start,
            end: region.end,
            message: message.into(),
        }
    }
}

/// The keywords, for messages: `ADD, ARG, ..., WORKDIR`.
fn keyword_list() -> String {
    Kind::ALL.map(Kind::as_str).join(", ")
}

/// What to say about an instruction keyword `word` that is none of [`Kind::ALL`]: the closest
/// keyword when one is near (a typo such as `RUNN`), and the full list.
fn unknown_instruction(word: &str) -> String {
    let upper = word.to_ascii_uppercase();
    let near = Kind::ALL
        .iter()
        .map(|k| (edit_distance(&upper, k.as_str()), k.as_str()))
        .filter(|&(d, k)| d == 1 || (d == 2 && k.len() >= 7))
        .min();
    let hint = near.map_or(String::new(), |(_, k)| format!(" (did you mean {k}?)"));
    format!(
        "unknown instruction {word:?}{hint}; expected one of {}",
        keyword_list()
    )
}

/// Edit distance between two short words (insertions, deletions, substitutions and swaps of
/// neighbours, each counting 1: `RUNN` and `CPOY` are 1 away from `RUN` and `COPY`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The byte range of the word starting at `at` (up to whitespace); empty when `at` is not the
/// start of a character.
fn word_at(text: &str, at: usize) -> Range<usize> {
    let at = at.min(text.len());
    if !text.is_char_boundary(at) {
        return at..at;
    }
    let len = text[at..]
        .find(|c: char| c.is_whitespace())
        .unwrap_or(text.len() - at);
    at..at + len
}

/// The first word at or after byte `after` of `text` that is not in a blank or comment line: the
/// keyword of the instruction that follows.
fn next_keyword(text: &str, after: usize) -> Range<usize> {
    let mut at = after.min(text.len());
    while at < text.len() {
        let rest = &text[at..];
        let skipped = rest.len() - rest.trim_start().len();
        at += skipped;
        if text[at..].starts_with('#') {
            at = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            continue;
        }
        break;
    }
    word_at(text, at)
}

impl Dockerfile {
    /// Parses the text of `source`.
    pub fn parse(source: &Source) -> Result<Dockerfile, SyntaxError> {
        let text = source.text();
        // `Source` has dropped the byte-order mark. parse-dockerfile drops one more, and would
        // then place every instruction three bytes early; BuildKit, which drops one only, reads
        // a second one as part of the first instruction and refuses it.
        if text.starts_with('\u{feff}') {
            return Err(SyntaxError::at(
                Position { line: 1, column: 1 },
                "a second byte-order mark (U+FEFF) starts the file; expected an instruction or a comment",
            ));
        }
        let escape = escape_directive(text);
        // parse-dockerfile does not panic on any input we have found (tests/lint_corpus.rs fuzzes
        // it); a panic would still become a syntax error rather than abort a CI run.
        let (sites, masked) = heredoc::find(source, escape)?;
        let parse_text = masked.as_deref().unwrap_or(text);
        let parsed = std::panic::catch_unwind(|| {
            let iter = pd::parse_iter(parse_text)?;
            iter.collect::<Result<Vec<_>, _>>()
        });
        let parsed = match parsed {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(syntax_error(source, &e)),
            Err(_) => {
                return Err(SyntaxError::at(
                    Position { line: 1, column: 1 },
                    "the Dockerfile parser failed on this file (internal error)",
                ));
            }
        };
        let mut instructions: Vec<Instruction> = Vec::with_capacity(parsed.len());
        for i in &parsed {
            let after = instructions.last().map_or(0, |i| i.span.end);
            instructions.push(convert(source, parse_text, i, escape, after)?);
        }
        for site in &sites {
            if let Some(i) = instructions
                .iter_mut()
                .find(|i| i.keyword.start == site.start)
            {
                attach(source, i, &site.docs);
            }
        }
        // BuildKit refuses these triggers when it reads the file (parse-dockerfile does not).
        for i in &instructions {
            if let Args::Onbuild(inner) = &i.args
                && matches!(inner.kind, Kind::From | Kind::Maintainer)
            {
                return Err(SyntaxError::spanning(
                    source,
                    inner.keyword.clone(),
                    format!(
                        "{} isn't allowed as an ONBUILD trigger",
                        inner.kind.as_str()
                    ),
                ));
            }
        }
        let comments = comments(source, &instructions);
        Ok(Dockerfile {
            instructions,
            comments,
            escape,
        })
    }
}

/// Gives `instr` (or the instruction its ONBUILD triggers) the here-documents found for it.
fn attach(source: &Source, instr: &mut Instruction, docs: &[Found]) {
    let text = source.text();
    if let Args::Onbuild(inner) = &mut instr.args {
        attach(source, inner, docs);
    } else {
        let heredoc = |d: &Found| {
            let raw = &text[d.body.clone()];
            let body = if d.chomp {
                raw.split_inclusive('\n')
                    .map(|l| l.trim_start_matches('\t'))
                    .collect()
            } else {
                raw.to_string()
            };
            Heredoc {
                body,
                span: d.body.clone(),
                expand: d.expand,
            }
        };
        match &mut instr.args {
            Args::Command { heredocs, .. } => *heredocs = docs.iter().map(heredoc).collect(),
            Args::Files { sources, .. } => {
                for s in sources.iter_mut() {
                    let FileSource::Path(w) = s else { continue };
                    if let Some(d) = docs
                        .iter()
                        .find(|d| d.marker.start <= w.span.start && w.span.end <= d.marker.end)
                    {
                        *s = FileSource::Heredoc(heredoc(d));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(last) = docs.last() {
        instr.span.end = instr.span.end.max(last.terminator.end);
        instr.end_line = source.line_of(last.terminator.start);
    }
}

fn syntax_error(source: &Source, e: &pd::Error) -> SyntaxError {
    let message = format!("{e:#}");
    if e.line() == 0 {
        return SyntaxError::at(Position { line: 1, column: 1 }, message);
    }
    let at = source.line_range(e.line()).start + e.column().saturating_sub(1);
    // parse-dockerfile says `unknown instruction 'FOO'` at the keyword: mark the keyword and
    // list what was expected.
    if message.starts_with("unknown instruction") {
        let word = word_at(source.text(), at);
        if !word.is_empty() {
            let text = unknown_instruction(&source.text()[word.clone()]);
            return SyntaxError::spanning(source, word, text);
        }
    }
    SyntaxError::at(source.position(at), message)
}

/// The escape character set by an `# escape=` parser directive at the top of the file.
fn escape_directive(text: &str) -> char {
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if key.eq_ignore_ascii_case("escape") && value.trim() == "`" {
            return '`';
        }
    }
    '\\'
}

fn comments(source: &Source, instructions: &[Instruction]) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut next = instructions.iter().peekable();
    for line in 1..=source.line_count() {
        while next.peek().is_some_and(|i| i.end_line < line) {
            next.next();
        }
        if next
            .peek()
            .is_some_and(|i| i.start_line <= line && line <= i.end_line)
        {
            continue;
        }
        let text = source.line_text(line).trim_start();
        if let Some(c) = text.strip_prefix('#') {
            out.push(Comment {
                line,
                text: c.trim().to_string(),
            });
        }
    }
    out
}

struct Cx<'s> {
    source: &'s Source,
    escape: char,
    end: usize,
}

impl Cx<'_> {
    fn grow(&mut self, span: &Range<usize>) {
        self.end = self.end.max(span.end);
    }

    fn word(&mut self, s: &pd::UnescapedString<'_>) -> Word {
        self.grow(&s.span);
        Word {
            value: s.value.to_string(),
            span: s.span.clone(),
        }
    }

    fn flags<'f, 'a: 'f>(
        &mut self,
        flags: impl IntoIterator<Item = &'f pd::Flag<'a>>,
    ) -> Vec<Flag> {
        flags
            .into_iter()
            .map(|f| {
                let span = f.span();
                self.grow(&span);
                Flag {
                    name: f.name.value.to_string(),
                    value: f.value.as_ref().map(|v| v.value.to_string()),
                    span,
                }
            })
            .collect()
    }

    fn command(&mut self, c: &pd::Command<'_>) -> Command {
        match c {
            pd::Command::Exec(words) => {
                self.grow(&words.span);
                Command::Exec(words.value.iter().map(|w| self.word(w)).collect())
            }
            pd::Command::Shell(text) => {
                self.grow(&text.span);
                // parse-dockerfile starts a command that opens with a here-document after its
                // `<<` (`RUN <<EOF` reads as `EOF`): keep the `<<`, so the command reads as written.
                let before = &self.source.text()[..text.span.start.min(self.source.text().len())];
                let marker = ["<<-", "<<"]
                    .iter()
                    .find(|m| before.ends_with(*m))
                    .map_or(0, |m| m.len());
                Command::Shell(Joined::new(
                    self.source.text(),
                    text.span.start - marker..text.span.end,
                    self.escape,
                ))
            }
            // `Command` is non-exhaustive; an unknown form reads as an empty exec form.
            _ => Command::Exec(Vec::new()),
        }
    }

    fn heredoc(&mut self, h: &pd::HereDoc<'_>) -> Heredoc {
        // The content ends where the terminator line starts: the instruction ends with that line.
        let terminator = self.source.line_range(self.source.line_of(h.span.end));
        self.end = self.end.max(terminator.end.max(h.span.end));
        Heredoc {
            body: h.value.to_string(),
            span: h.span.clone(),
            expand: h.expand,
        }
    }

    fn pairs(&mut self, s: &pd::UnescapedString<'_>, kind: Kind) -> Vec<Pair> {
        self.grow(&s.span);
        let joined = Joined::new(self.source.text(), s.span.clone(), self.escape);
        split_pairs(&joined, kind)
    }
}

/// Converts one instruction of parse-dockerfile's tree. `parse_text` is the text it parsed and
/// `after` where the previous instruction ended, to find an instruction this module does not know.
fn convert(
    source: &Source,
    parse_text: &str,
    i: &pd::Instruction<'_>,
    escape: char,
    after: usize,
) -> Result<Instruction, SyntaxError> {
    let mut cx = Cx {
        source,
        escape,
        end: 0,
    };
    let (kind, keyword, flags, args) = match i {
        pd::Instruction::Add(a) => (
            Kind::Add,
            &a.add,
            cx.flags(&a.options),
            files(&mut cx, &a.src, &a.dest),
        ),
        pd::Instruction::Copy(a) => (
            Kind::Copy,
            &a.copy,
            cx.flags(&a.options),
            files(&mut cx, &a.src, &a.dest),
        ),
        pd::Instruction::Arg(a) => (
            Kind::Arg,
            &a.arg,
            Vec::new(),
            Args::Pairs(cx.pairs(&a.arguments, Kind::Arg)),
        ),
        pd::Instruction::Env(a) => (
            Kind::Env,
            &a.env,
            Vec::new(),
            Args::Pairs(cx.pairs(&a.arguments, Kind::Env)),
        ),
        pd::Instruction::Label(a) => (
            Kind::Label,
            &a.label,
            Vec::new(),
            Args::Pairs(cx.pairs(&a.arguments, Kind::Label)),
        ),
        pd::Instruction::Cmd(a) => (
            Kind::Cmd,
            &a.cmd,
            Vec::new(),
            Args::Command {
                command: cx.command(&a.arguments),
                heredocs: Vec::new(),
            },
        ),
        pd::Instruction::Entrypoint(a) => (
            Kind::Entrypoint,
            &a.entrypoint,
            Vec::new(),
            Args::Command {
                command: cx.command(&a.arguments),
                heredocs: Vec::new(),
            },
        ),
        pd::Instruction::Run(a) => {
            let flags = cx.flags(&a.options);
            let command = cx.command(&a.arguments);
            let heredocs = a.here_docs.iter().map(|h| cx.heredoc(h)).collect();
            (
                Kind::Run,
                &a.run,
                flags,
                Args::Command { command, heredocs },
            )
        }
        pd::Instruction::Expose(a) => (
            Kind::Expose,
            &a.expose,
            Vec::new(),
            Args::Words(a.arguments.iter().map(|w| cx.word(w)).collect()),
        ),
        pd::Instruction::From(a) => {
            let flags = cx.flags(&a.options);
            let image = cx.word(&a.image);
            let alias = a.as_.as_ref().map(|(k, name)| {
                cx.grow(&k.span);
                cx.word(name)
            });
            (Kind::From, &a.from, flags, Args::From { image, alias })
        }
        pd::Instruction::Healthcheck(a) => {
            let flags = cx.flags(&a.options);
            let args = match &a.arguments {
                pd::HealthcheckArguments::Cmd { cmd, arguments, .. } => {
                    cx.grow(&cmd.span);
                    Args::Healthcheck(Some(cx.command(arguments)))
                }
                pd::HealthcheckArguments::None { none, .. } => {
                    cx.grow(&none.span);
                    Args::Healthcheck(None)
                }
                _ => Args::Healthcheck(None),
            };
            (Kind::Healthcheck, &a.healthcheck, flags, args)
        }
        pd::Instruction::Maintainer(a) => (
            Kind::Maintainer,
            &a.maintainer,
            Vec::new(),
            Args::Text(cx.word(&a.name)),
        ),
        pd::Instruction::Onbuild(a) => {
            let inner = convert(
                source,
                parse_text,
                &a.instruction,
                escape,
                a.onbuild.span.end,
            )?;
            cx.end = cx.end.max(inner.span.end);
            (
                Kind::Onbuild,
                &a.onbuild,
                Vec::new(),
                Args::Onbuild(Box::new(inner)),
            )
        }
        pd::Instruction::Shell(a) => (
            Kind::Shell,
            &a.shell,
            Vec::new(),
            Args::Words(a.arguments.iter().map(|w| cx.word(w)).collect()),
        ),
        pd::Instruction::Stopsignal(a) => (
            Kind::Stopsignal,
            &a.stopsignal,
            Vec::new(),
            Args::Text(cx.word(&a.arguments)),
        ),
        pd::Instruction::User(a) => (
            Kind::User,
            &a.user,
            Vec::new(),
            Args::Text(cx.word(&a.arguments)),
        ),
        pd::Instruction::Volume(a) => {
            let words = match &a.arguments {
                pd::JsonOrStringArray::Json(w) => {
                    cx.grow(&w.span);
                    w.value.iter().map(|w| cx.word(w)).collect()
                }
                pd::JsonOrStringArray::String(w) => w.iter().map(|w| cx.word(w)).collect(),
            };
            (Kind::Volume, &a.volume, Vec::new(), Args::Words(words))
        }
        pd::Instruction::Workdir(a) => (
            Kind::Workdir,
            &a.workdir,
            Vec::new(),
            Args::Text(cx.word(&a.arguments)),
        ),
        // `Instruction` is non-exhaustive: a keyword added upstream that no rule knows is an
        // error at that keyword, not an instruction the rules would misread.
        _ => return Err(unsupported(source, parse_text, after)),
    };
    let keyword = keyword.span.clone();
    let end = cx.end.max(keyword.end);
    Ok(Instruction {
        kind,
        start_line: source.line_of(keyword.start),
        end_line: source.line_of(end.saturating_sub(1).max(keyword.start)),
        keyword: keyword.clone(),
        span: keyword.start..end,
        flags,
        args,
    })
}

/// The error for an instruction parse-dockerfile reads but [`Kind`] lacks, at its keyword: the
/// first word after byte `after` of `parse_text` outside blank and comment lines.
fn unsupported(source: &Source, parse_text: &str, after: usize) -> SyntaxError {
    let word = next_keyword(parse_text, after);
    let keyword = source.text().get(word.clone()).unwrap_or_default();
    SyntaxError::spanning(
        source,
        word.clone(),
        format!(
            "instruction {:?} is not supported by runtime-kit lint; expected one of {}",
            keyword.to_ascii_uppercase(),
            keyword_list()
        ),
    )
}

fn files(cx: &mut Cx<'_>, src: &[pd::Source<'_>], dest: &pd::UnescapedString<'_>) -> Args {
    let sources = src
        .iter()
        .filter_map(|s| match s {
            pd::Source::Path(p) => Some(FileSource::Path(cx.word(p))),
            pd::Source::HereDoc(h) => Some(FileSource::Heredoc(cx.heredoc(h))),
            _ => None,
        })
        .collect();
    let dest = cx.word(dest);
    Args::Files { sources, dest }
}

/// A word of a `KEY=value` list, quotes removed, with its range in the joined text.
struct RawWord {
    text: String,
    range: Range<usize>,
    /// Byte index in `text` of the first unquoted `=`, if any.
    eq: Option<usize>,
    /// Range in the joined text of what follows the first unquoted `=`.
    after_eq: Option<usize>,
}

/// Splits `ENV`/`LABEL`/`ARG` arguments into pairs the way BuildKit does: `KEY=value` words
/// (quotes removed), or the legacy `KEY value with spaces` form for ENV and LABEL.
fn split_pairs(joined: &Joined, kind: Kind) -> Vec<Pair> {
    let words = split_words(&joined.text);
    let legacy = kind != Kind::Arg && words.first().is_some_and(|w| w.eq.is_none());
    if legacy {
        let key = &words[0];
        let value_range = words.get(1).map_or(key.range.end..key.range.end, |w| {
            w.range.start..words[words.len() - 1].range.end
        });
        let value = joined.text[value_range.clone()].to_string();
        let span = joined.source_range(key.range.start..value_range.end);
        return vec![Pair {
            key: key.text.clone(),
            value: Some(unquote(&value)),
            span,
            value_span: joined.source_range(value_range),
        }];
    }
    words
        .into_iter()
        .map(|w| {
            let span = joined.source_range(w.range.clone());
            match (w.eq, w.after_eq) {
                (Some(eq), Some(after)) => Pair {
                    key: w.text[..eq].to_string(),
                    value: Some(w.text[eq + 1..].to_string()),
                    span,
                    value_span: joined.source_range(after..w.range.end),
                },
                _ => Pair {
                    key: w.text,
                    value: None,
                    span: span.clone(),
                    value_span: span,
                },
            }
        })
        .collect()
}

fn split_words(text: &str) -> Vec<RawWord> {
    let mut words = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let mut eq = None;
        let mut after_eq = None;
        let mut quote: Option<char> = None;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (Some('\''), c) => word.push(c),
                (_, '\\') => {
                    if let Some(&(j, n)) = chars.peek() {
                        // In double quotes only \" \\ \$ and \` are escapes.
                        if quote.is_none() || matches!(n, '"' | '\\' | '$' | '`') {
                            chars.next();
                            end = j + n.len_utf8();
                            word.push(n);
                        } else {
                            word.push('\\');
                        }
                    } else {
                        word.push('\\');
                    }
                }
                (None, '=') if eq.is_none() => {
                    eq = Some(word.len());
                    after_eq = Some(end);
                    word.push('=');
                }
                (_, c) => word.push(c),
            }
        }
        words.push(RawWord {
            text: word,
            range: start..end,
            eq,
            after_eq,
        });
    }
    words
}

fn unquote(s: &str) -> String {
    let words = split_words(s);
    if words.len() == 1 {
        words.into_iter().next().map(|w| w.text).unwrap_or_default()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Dockerfile {
        Dockerfile::parse(&Source::new(text).unwrap()).unwrap()
    }

    /// An instruction parse-dockerfile reads but `Kind` lacks (one added upstream) is an error
    /// on its own keyword, found past the previous instruction, comments and blank lines; never
    /// an instruction at 1:1.
    #[test]
    fn an_instruction_without_a_kind_is_an_error_at_its_keyword() {
        let text = "# escape=\\\nFROM a\nRUN x \\\n  y\n# comment\n\n  newkw --flag arg\n";
        let source = Source::new(text).unwrap();
        let df = parse(text.replace("newkw --flag", "LABEL").as_str());
        let after = df.instructions[1].span.end;
        let e = unsupported(&source, text, after);
        assert_eq!(
            (e.position.line, e.position.column, e.end.line, e.end.column),
            (7, 3, 7, 8),
            "{e:?}"
        );
        assert!(
            e.message.starts_with("instruction \"NEWKW\" is not supported by runtime-kit lint; expected one of ADD, ARG,"),
            "{}",
            e.message
        );
        // Inside ONBUILD the search starts after the ONBUILD keyword.
        let onbuild = "FROM a\nONBUILD newkw x\n";
        let e = unsupported(&Source::new(onbuild).unwrap(), onbuild, 14);
        assert_eq!(
            (e.position.line, e.position.column, e.end.column),
            (2, 9, 14)
        );
    }

    #[test]
    fn typos_get_the_nearest_keyword() {
        assert_eq!(edit_distance("RUNN", "RUN"), 1);
        assert_eq!(edit_distance("CPOY", "COPY"), 1);
        assert_eq!(edit_distance("ENTRYPIONT", "ENTRYPOINT"), 1);
        assert_eq!(edit_distance("FOOBAR", "FROM"), 4);
        assert!(unknown_instruction("ENTRYPONT").contains("(did you mean ENTRYPOINT?)"));
        assert!(unknown_instruction("exopse").contains("(did you mean EXPOSE?)"));
        assert!(!unknown_instruction("FOO").contains("did you mean"));
        assert!(!unknown_instruction("XYZ").contains("did you mean"));
        assert!(!unknown_instruction("HELLO").contains("did you mean"));
        assert!(unknown_instruction("WROKDIRR").contains("(did you mean WORKDIR?)"));
    }

    #[test]
    fn joins_continuations_like_buildkit() {
        let df = parse("FROM a\nRUN echo \\\n# comment\n  hi && \\\n\n  there\nRUN x\n");
        let run = &df.instructions[1];
        assert_eq!((run.start_line, run.end_line), (2, 6));
        let Args::Command {
            command: Command::Shell(j),
            ..
        } = &run.args
        else {
            panic!("{run:?}")
        };
        assert_eq!(j.text, "echo   hi &&   there");
        let at = j.text.find("there").unwrap();
        let src =
            Source::new("FROM a\nRUN echo \\\n# comment\n  hi && \\\n\n  there\nRUN x\n").unwrap();
        assert_eq!(src.position(j.source_offset(at)).line, 6);
    }

    #[test]
    fn heredoc_instructions_end_at_the_terminator() {
        let df = parse("FROM a\nRUN <<EOF bash\necho x\nEOF\nRUN y\n");
        assert_eq!(df.instructions[1].end_line, 4);
        assert_eq!(df.instructions[2].start_line, 5);
    }

    #[test]
    fn pairs_in_both_forms() {
        let df = parse(
            "FROM a\nLABEL a=b \"c d\"=\"e f\" \\\n  g='h i'\nENV OLD value with spaces\nARG X Y=1\n",
        );
        let keys = |i: usize| {
            df.instructions[i]
                .pairs()
                .iter()
                .map(|p| (p.key.clone(), p.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(1),
            [
                ("a".into(), Some("b".into())),
                ("c d".into(), Some("e f".into())),
                ("g".into(), Some("h i".into()))
            ]
        );
        assert_eq!(keys(2), [("OLD".into(), Some("value with spaces".into()))]);
        assert_eq!(
            keys(3),
            [("X".into(), None), ("Y".into(), Some("1".into()))]
        );
    }

    #[test]
    fn escape_directive_and_comments() {
        let df = parse("# escape=`\n# hadolint ignore=DL3008\nFROM a\nRUN a `\n  b\n");
        assert_eq!(df.escape, '`');
        assert_eq!(df.instructions[1].end_line, 5);
        let lines: Vec<usize> = df.comments.iter().map(|c| c.line).collect();
        assert_eq!(lines, [1, 2]);
    }
}
