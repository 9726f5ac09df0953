//! A small POSIX shell reader for `RUN` commands: which simple commands run (inside `&&`, `||`,
//! `;`, pipes, subshells, `$(...)`, `if`/`for`/`while` bodies), with which words, and whether a
//! pipe occurs.
//!
//! It reads commands the way hadolint does through ShellCheck's AST: the command name is the first
//! word after variable assignments, redirections are not arguments, and every word starting with
//! `-` is a flag (`-abc` is the flags `a`, `b`, `c`; `--name=value` is the flag `name`).

use std::ops::Range;

/// One word of a command, quotes removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellWord {
    /// The word with quotes removed (expansions are kept as written).
    pub text: String,
    /// Byte range of the word in the script.
    pub span: Range<usize>,
}

/// One simple command: its name and arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The program (first word after assignments).
    pub name: ShellWord,
    /// The words after the name.
    pub args: Vec<ShellWord>,
}

/// A flag as hadolint counts it: the argument index it came from and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FlagPart {
    arg: usize,
    name: String,
}

impl SimpleCommand {
    /// The program name.
    pub fn name(&self) -> &str {
        &self.name.text
    }

    /// Argument texts.
    pub fn arg_texts(&self) -> impl Iterator<Item = &str> {
        self.args.iter().map(|a| a.text.as_str())
    }

    fn flag_parts(&self) -> Vec<FlagPart> {
        let mut out = Vec::new();
        for (i, a) in self.args.iter().enumerate() {
            let t = a.text.as_str();
            if t == "--" || t == "-" {
                continue;
            }
            if let Some(long) = t.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or("");
                out.push(FlagPart {
                    arg: i,
                    name: name.to_string(),
                });
            } else if let Some(short) = t.strip_prefix('-') {
                out.extend(short.chars().map(|c| FlagPart {
                    arg: i,
                    name: c.to_string(),
                }));
            }
        }
        out
    }

    /// Whether a flag `name` is given (`y` matches `-y` and `-qy`; `yes` matches `--yes`).
    pub fn has_flag(&self, name: &str) -> bool {
        self.count_flag(name) > 0
    }

    /// Whether any of `names` is given as a flag.
    pub fn has_any_flag(&self, names: &[&str]) -> bool {
        self.flag_parts()
            .iter()
            .any(|f| names.contains(&f.name.as_str()))
    }

    /// How many times flag `name` is given.
    pub fn count_flag(&self, name: &str) -> usize {
        self.flag_parts().iter().filter(|f| f.name == name).count()
    }

    /// Whether argument `arg` is given verbatim.
    pub fn has_arg(&self, arg: &str) -> bool {
        self.args.iter().any(|a| a.text == arg)
    }

    /// Whether this is `name` with any of `args` among its arguments (hadolint's `cmdHasArgs`).
    pub fn is(&self, name: &str, args: &[&str]) -> bool {
        self.name() == name && self.args.iter().any(|a| args.contains(&a.text.as_str()))
    }

    /// The arguments that are not flags, after dropping the value that follows each flag in
    /// `flags_with_value` (written `-t value`, not `-t=value`).
    pub fn args_no_flags(&self, flags_with_value: &[&str]) -> Vec<&ShellWord> {
        let parts = self.flag_parts();
        let flag_args: Vec<usize> = parts.iter().map(|f| f.arg).collect();
        let dropped: Vec<usize> = parts
            .iter()
            .filter(|f| flags_with_value.contains(&f.name.as_str()))
            .filter(|f| !self.args[f.arg].text.contains('='))
            .map(|f| f.arg + 1)
            .collect();
        self.args
            .iter()
            .enumerate()
            .filter(|(i, _)| !flag_args.contains(i) && !dropped.contains(i))
            .map(|(_, a)| a)
            .collect()
    }

    /// Whether this is a `pip install`: `pip*` (not `pipenv`) with `install`, or
    /// `python* -m pip install`.
    pub fn is_pip_install(&self) -> bool {
        let n = self.name();
        let args: Vec<&str> = self.arg_texts().collect();
        (n.starts_with("pip") && !n.starts_with("pipenv") && args.contains(&"install"))
            || (n.starts_with("python") && args.windows(3).any(|w| w == ["-m", "pip", "install"]))
    }
}

/// What a script runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// Every simple command, in order, nested ones (subshells, `$(...)`) included.
    pub commands: Vec<SimpleCommand>,
    /// Whether the script has a pipe (`|` or `|&`) anywhere.
    pub has_pipe: bool,
}

impl Script {
    /// Whether any command is `program`.
    pub fn uses(&self, program: &str) -> bool {
        self.commands.iter().any(|c| c.name() == program)
    }
}

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "esac",
    "time",
];

/// Reads `script`.
///
/// ```
/// use runtime_kit::lint::shell::parse;
/// let s = parse("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl | tee log");
/// let names: Vec<&str> = s.commands.iter().map(|c| c.name()).collect();
/// assert_eq!(names, ["apt-get", "apt-get", "tee"]);
/// assert!(s.has_pipe && s.commands[1].has_flag("y"));
/// ```
pub fn parse(script: &str) -> Script {
    let mut out = Script::default();
    Reader {
        s: script,
        pos: 0,
        base: 0,
        depth: 0,
    }
    .script(&mut out, None);
    // A command substitution ends before the command around it: put commands in source order.
    out.commands.sort_by_key(|c| c.name.span.start);
    out
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
    /// Offset of `s` in the outermost script (for nested `$(...)` and backticks).
    base: usize,
    depth: usize,
}

enum Token {
    Word(ShellWord),
    /// A separator between commands: `;`, `&`, `&&`, `||`, newline, `(`, `)`.
    Sep,
    Pipe,
    /// A redirection operator; the next word is its target.
    Redirect,
    /// A `<<WORD` here-document operator; the next word is its delimiter.
    Heredoc {
        strip_tabs: bool,
    },
    End,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.s[self.pos..].chars();
        it.next();
        it.next()
    }

    fn script(&mut self, out: &mut Script, close: Option<char>) {
        let mut words: Vec<ShellWord> = Vec::new();
        let mut skip_next_word = false;
        let mut pending_heredocs: Vec<(String, bool)> = Vec::new();
        let mut in_for = false;
        loop {
            if close.is_some() && self.peek() == close {
                self.pos += 1;
                break;
            }
            let tok = self.token(out);
            match tok {
                Token::Word(w) => {
                    if skip_next_word {
                        skip_next_word = false;
                        continue;
                    }
                    if let Some(delim) = pending_heredocs.last_mut().filter(|d| d.0.is_empty()) {
                        delim.0 = w.text;
                        continue;
                    }
                    if in_for {
                        continue;
                    }
                    if words.is_empty() {
                        if RESERVED.contains(&w.text.as_str()) {
                            continue;
                        }
                        if w.text == "for" || w.text == "case" || w.text == "select" {
                            in_for = true;
                            continue;
                        }
                    }
                    words.push(w);
                }
                Token::Redirect => skip_next_word = true,
                Token::Heredoc { strip_tabs } => pending_heredocs.push((String::new(), strip_tabs)),
                Token::Pipe | Token::Sep | Token::End => {
                    if matches!(tok, Token::Pipe) {
                        out.has_pipe = true;
                    }
                    finish(&mut words, out);
                    skip_next_word = false;
                    if !matches!(tok, Token::Pipe) {
                        in_for = false;
                    }
                    if !pending_heredocs.is_empty() && self.at_line_start() {
                        for (delim, strip) in pending_heredocs.drain(..) {
                            self.skip_heredoc_body(&delim, strip);
                        }
                    }
                    if matches!(tok, Token::End) {
                        break;
                    }
                }
            }
        }
        finish(&mut words, out);
    }

    fn at_line_start(&self) -> bool {
        self.pos > 0 && self.s.as_bytes().get(self.pos - 1) == Some(&b'\n')
    }

    fn skip_heredoc_body(&mut self, delim: &str, strip_tabs: bool) {
        while self.pos < self.s.len() {
            let end = self.s[self.pos..]
                .find('\n')
                .map_or(self.s.len(), |i| self.pos + i);
            let line = &self.s[self.pos..end];
            self.pos = (end + 1).min(self.s.len());
            let line = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line.trim_end_matches('\r') == delim {
                break;
            }
        }
    }

    fn token(&mut self, out: &mut Script) -> Token {
        // Blanks and comments.
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.pos += 1,
                Some('\\') if self.peek2() == Some('\n') => self.pos += 2,
                Some('#') => {
                    let end = self.s[self.pos..]
                        .find('\n')
                        .map_or(self.s.len(), |i| self.pos + i);
                    self.pos = end;
                }
                _ => break,
            }
        }
        let Some(c) = self.peek() else {
            return Token::End;
        };
        let two = self.s[self.pos..].get(..2).unwrap_or("");
        match c {
            '\n' | ';' => {
                self.pos += 1;
                if self.peek() == Some(';') {
                    self.pos += 1;
                }
                Token::Sep
            }
            '&' => {
                if two == "&>" {
                    self.pos += 2;
                    if self.peek() == Some('>') {
                        self.pos += 1;
                    }
                    return Token::Redirect;
                }
                self.pos += if two == "&&" { 2 } else { 1 };
                Token::Sep
            }
            '|' => {
                if two == "||" {
                    self.pos += 2;
                    return Token::Sep;
                }
                self.pos += if two == "|&" { 2 } else { 1 };
                Token::Pipe
            }
            '(' => {
                self.pos += 1;
                if self.depth < 64 {
                    self.depth += 1;
                    self.script(out, Some(')'));
                    self.depth -= 1;
                }
                Token::Sep
            }
            ')' => {
                self.pos += 1;
                Token::Sep
            }
            '<' | '>' => self.redirect(),
            _ => {
                // A file-descriptor number directly before a redirection (`2>&1`).
                let digits = self.s[self.pos..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if digits > 0
                    && matches!(self.s.as_bytes().get(self.pos + digits), Some(b'<' | b'>'))
                {
                    self.pos += digits;
                    return self.redirect();
                }
                self.word(out)
            }
        }
    }

    fn redirect(&mut self) -> Token {
        let rest = &self.s[self.pos..];
        if let Some(r) = rest.strip_prefix("<<") {
            if r.starts_with('<') {
                self.pos += 3;
                return Token::Redirect;
            }
            let strip_tabs = r.starts_with('-');
            self.pos += if strip_tabs { 3 } else { 2 };
            return Token::Heredoc { strip_tabs };
        }
        for op in [">>", ">&", "<&", ">|", "<>", ">", "<"] {
            if rest.starts_with(op) {
                self.pos += op.len();
                break;
            }
        }
        Token::Redirect
    }

    fn word(&mut self, out: &mut Script) -> Token {
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | ')' => break,
                '(' if text.is_empty() => break,
                '\\' => {
                    self.pos += 1;
                    if let Some(n) = self.peek() {
                        self.pos += n.len_utf8();
                        if n != '\n' {
                            text.push(n);
                        }
                    }
                }
                '\'' => {
                    self.pos += 1;
                    let end = self.s[self.pos..]
                        .find('\'')
                        .map_or(self.s.len(), |i| self.pos + i);
                    text.push_str(&self.s[self.pos..end]);
                    self.pos = (end + 1).min(self.s.len());
                }
                '"' => {
                    self.pos += 1;
                    self.double_quoted(&mut text, out);
                }
                '$' => self.dollar(&mut text, out),
                '`' => {
                    self.pos += 1;
                    let end = self.s[self.pos..]
                        .find('`')
                        .map_or(self.s.len(), |i| self.pos + i);
                    self.nested(self.pos..end, out);
                    text.push_str("${VAR}");
                    self.pos = (end + 1).min(self.s.len());
                }
                _ => {
                    self.pos += c.len_utf8();
                    text.push(c);
                }
            }
        }
        if self.pos == start {
            // Not a word start we understand (a stray `(`): skip it rather than loop.
            self.pos += self.peek().map_or(1, char::len_utf8);
            return Token::Sep;
        }
        Token::Word(ShellWord {
            text,
            span: self.base + start..self.base + self.pos,
        })
    }

    fn double_quoted(&mut self, text: &mut String, out: &mut Script) {
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.pos += 1;
                    return;
                }
                '\\' => {
                    self.pos += 1;
                    if let Some(n) = self.peek() {
                        self.pos += n.len_utf8();
                        match n {
                            '"' | '\\' | '$' | '`' => text.push(n),
                            '\n' => {}
                            _ => {
                                text.push('\\');
                                text.push(n);
                            }
                        }
                    }
                }
                '$' => self.dollar(text, out),
                '`' => {
                    self.pos += 1;
                    let end = self.s[self.pos..]
                        .find('`')
                        .map_or(self.s.len(), |i| self.pos + i);
                    self.nested(self.pos..end, out);
                    text.push_str("${VAR}");
                    self.pos = (end + 1).min(self.s.len());
                }
                _ => {
                    self.pos += c.len_utf8();
                    text.push(c);
                }
            }
        }
    }

    /// `$name`, `${...}`, `$(...)`, `$((...))`; nested commands are read into `out`.
    fn dollar(&mut self, text: &mut String, out: &mut Script) {
        self.pos += 1;
        let rest = &self.s[self.pos..];
        if rest.starts_with("((") {
            let end = matching(rest, 0, '(', ')').map_or(self.s.len(), |e| self.pos + e + 1);
            self.pos = end;
            text.push_str("${VAR}");
        } else if rest.starts_with('(') {
            let end = matching(rest, 0, '(', ')').map_or(self.s.len(), |e| self.pos + e);
            self.nested(self.pos + 1..end, out);
            text.push_str("${VAR}");
            self.pos = (end + 1).min(self.s.len());
        } else if rest.starts_with('{') {
            let end = matching(rest, 0, '{', '}').map_or(self.s.len(), |e| self.pos + e);
            text.push('$');
            text.push_str(&self.s[self.pos..(end + 1).min(self.s.len())]);
            self.pos = (end + 1).min(self.s.len());
        } else {
            let n = rest
                .char_indices()
                .take_while(|&(i, c)| {
                    c.is_ascii_alphanumeric() || c == '_' || (i == 0 && "@*#?$!-".contains(c))
                })
                .last()
                .map_or(0, |(i, c)| i + c.len_utf8());
            text.push('$');
            text.push_str(&rest[..n]);
            self.pos += n;
        }
    }

    fn nested(&mut self, range: Range<usize>, out: &mut Script) {
        if self.depth >= 64 || range.start > range.end {
            return;
        }
        let mut inner = Reader {
            s: &self.s[range.clone()],
            pos: 0,
            base: self.base + range.start,
            depth: self.depth + 1,
        };
        inner.script(out, None);
    }
}

/// The byte index in `s` of the bracket that closes the one at `open_at`.
fn matching(s: &str, open_at: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s[open_at..].char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') if quote != Some('\'') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c == open => depth += 1,
            (None, c) if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(open_at + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_assignment(w: &str) -> bool {
    let Some((name, _)) = w.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn finish(words: &mut Vec<ShellWord>, out: &mut Script) {
    let mut it = std::mem::take(words)
        .into_iter()
        .skip_while(|w| is_assignment(&w.text));
    if let Some(name) = it.next() {
        out.commands.push(SimpleCommand {
            name,
            args: it.collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        parse(s)
            .commands
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    #[test]
    fn finds_commands_everywhere() {
        let cases: &[(&str, &[&str])] = &[
            ("a && b || c; d & e", &["a", "b", "c", "d", "e"]),
            ("X=1 Y=2 cmd arg", &["cmd"]),
            ("X=1", &[]),
            ("(cd /x && make) | tee", &["cd", "make", "tee"]),
            (
                "echo $(curl -s x | sh) `id -u`",
                &["echo", "curl", "sh", "id"],
            ),
            ("if [ -f x ]; then pip install y; fi", &["[", "pip"]),
            ("for p in a b; do echo $p; done", &["echo"]),
            ("echo 'a && b' \"c; d\" # e && f", &["echo"]),
            (
                "cat <<EOF > /x\nrm -rf /\nEOF\napt-get update",
                &["cat", "apt-get"],
            ),
            ("sudo -u x cmd 2>&1 >/dev/null", &["sudo"]),
            ("a \\\n && b", &["a", "b"]),
            ("", &[]),
            ("((((", &[]),
            // An unterminated substitution stays one word of unknown value.
            ("$(", &["${VAR}"]),
        ];
        for (script, want) in cases {
            assert_eq!(names(script), *want, "{script:?}");
        }
    }

    #[test]
    fn words_flags_and_pipes() {
        let s = parse("apt-get -qq install --no-install-recommends -t bullseye curl=7 'a b' > log");
        let c = &s.commands[0];
        assert!(!s.has_pipe);
        assert!(c.has_flag("q") && c.count_flag("q") == 2 && c.has_flag("no-install-recommends"));
        let rest: Vec<&str> = c
            .args_no_flags(&["t"])
            .iter()
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(rest, ["install", "curl=7", "a b"]);
        assert!(parse("a || b").commands.len() == 2 && !parse("a || b").has_pipe);
        assert!(parse("a |& b").has_pipe);
        assert!(c.is("apt-get", &["install"]));
        assert!(parse("python3 -m pip install x").commands[0].is_pip_install());
        assert!(!parse("pipenv install").commands[0].is_pip_install());
    }

    #[test]
    fn spans_point_into_the_script() {
        let script = "pip install  a==1 \"b==2\"";
        let s = parse(script);
        let spans: Vec<&str> = s.commands[0]
            .args
            .iter()
            .map(|w| &script[w.span.clone()])
            .collect();
        assert_eq!(spans, ["install", "a==1", "\"b==2\""]);
        let nested = "echo $(pip install c==3)";
        let s = parse(nested);
        let w = &s.commands[1].args[1];
        assert_eq!(&nested[w.span.clone()], "c==3");
    }
}
