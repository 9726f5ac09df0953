//! What toml_edit does not keep of a file's text: a byte-order mark and `\r\n` line endings. The
//! editor notes them when it reads a file and gives them back when it writes it, so an edit of a
//! file made on Windows changes only the lines it edits.

/// The byte-order mark and line-ending style of a TOML text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TextStyle {
    bom: bool,
    crlf: bool,
}

const BOM: char = '\u{feff}';

impl TextStyle {
    /// The style of `text`: a leading BOM, and `\r\n` endings when its first line ends so.
    pub(crate) fn of(text: &str) -> Self {
        let body = text.strip_prefix(BOM).unwrap_or(text);
        TextStyle {
            bom: body.len() != text.len(),
            crlf: body.find('\n').is_some_and(|i| body[..i].ends_with('\r')),
        }
    }

    /// `text` (as toml_edit writes it: no BOM, `\n` endings) in this style. Newlines inside
    /// multi-line strings are part of a value and stay as they are.
    pub(crate) fn apply(self, text: &str) -> String {
        let lines = self.line_endings(text);
        if self.bom {
            format!("{BOM}{lines}")
        } else {
            lines
        }
    }

    /// `text` with this style's line endings (and no BOM): for a piece of text inserted into a
    /// file of this style.
    pub(crate) fn line_endings(self, text: &str) -> String {
        if !self.crlf {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + text.len() / 32);
        let mut lexer = Lexer::Normal;
        let bytes = text.as_bytes();
        let (mut i, mut start) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'\n'
                && lexer.outside_multiline_string()
                && (i == 0 || bytes[i - 1] != b'\r')
            {
                out.push_str(&text[start..i]);
                out.push('\r');
                start = i;
            }
            let (next, consumed) = lexer.step(&bytes[i..]);
            lexer = next;
            i += consumed;
        }
        out.push_str(&text[start..]);
        out
    }
}

/// Where a TOML lexer is: enough of TOML's grammar to tell a newline between values from one
/// inside a multi-line string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lexer {
    Normal,
    Comment,
    Basic,
    Literal,
    MultilineBasic,
    MultilineLiteral,
}

impl Lexer {
    fn outside_multiline_string(self) -> bool {
        !matches!(self, Lexer::MultilineBasic | Lexer::MultilineLiteral)
    }

    /// The state after the token at the start of `rest`, and how many bytes it took (at least
    /// one; never splits a UTF-8 character, as every byte it stops after is ASCII or the end).
    fn step(self, rest: &[u8]) -> (Lexer, usize) {
        let c = rest[0];
        let run = |q: u8| rest.iter().take_while(|&&b| b == q).count();
        match self {
            Lexer::Normal => match c {
                b'#' => (Lexer::Comment, 1),
                b'"' | b'\'' => match run(c) {
                    // `""` is an empty string; three or more open a multi-line one.
                    2 => (Lexer::Normal, 2),
                    n if n >= 3 => (
                        if c == b'"' {
                            Lexer::MultilineBasic
                        } else {
                            Lexer::MultilineLiteral
                        },
                        3,
                    ),
                    _ => (
                        if c == b'"' {
                            Lexer::Basic
                        } else {
                            Lexer::Literal
                        },
                        1,
                    ),
                },
                _ => (Lexer::Normal, 1),
            },
            Lexer::Comment => (
                if c == b'\n' {
                    Lexer::Normal
                } else {
                    Lexer::Comment
                },
                1,
            ),
            Lexer::Basic => match c {
                b'\\' => (Lexer::Basic, 2.min(rest.len())),
                b'"' | b'\n' => (Lexer::Normal, 1),
                _ => (Lexer::Basic, 1),
            },
            Lexer::Literal => match c {
                b'\'' | b'\n' => (Lexer::Normal, 1),
                _ => (Lexer::Literal, 1),
            },
            Lexer::MultilineBasic | Lexer::MultilineLiteral => {
                let quote = if self == Lexer::MultilineBasic {
                    b'"'
                } else {
                    b'\''
                };
                if c == b'\\' && quote == b'"' {
                    // An escape; a line-ending backslash's newline is trimmed from the value,
                    // so leaving it as it is changes nothing.
                    return (self, 2.min(rest.len()));
                }
                if c == quote {
                    // Up to two quotes before the closing three belong to the string.
                    let n = run(quote);
                    return if n >= 3 {
                        (Lexer::Normal, n.min(5))
                    } else {
                        (self, n)
                    };
                }
                (self, 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_of_a_text() {
        let cases: &[(&str, bool, bool)] = &[
            ("a = 1\n", false, false),
            ("a = 1\r\nb = 2\n", false, true),
            ("a = 1\nb = 2\r\n", false, false),
            ("\u{feff}a = 1\r\n", true, true),
            ("\u{feff}", true, false),
            ("", false, false),
        ];
        for &(text, bom, crlf) in cases {
            assert_eq!(TextStyle::of(text), TextStyle { bom, crlf }, "{text:?}");
        }
    }

    #[test]
    fn crlf_outside_multiline_strings_only() {
        let crlf = TextStyle {
            bom: false,
            crlf: true,
        };
        let cases: &[(&str, &str)] = &[
            ("a = 1\nb = 2\n", "a = 1\r\nb = 2\r\n"),
            ("a = 1\r\nb = 2\n", "a = 1\r\nb = 2\r\n"),
            ("# it's \"quoted\n[t]\n", "# it's \"quoted\r\n[t]\r\n"),
            (
                "s = \"\"\"x\ny\"\"\"\nz = 1\n",
                "s = \"\"\"x\ny\"\"\"\r\nz = 1\r\n",
            ),
            ("s = '''x\ny'''\nz = 1\n", "s = '''x\ny'''\r\nz = 1\r\n"),
            (
                "s = \"\"\"x\"\"\"\"\"\nz = '''\n'''\n",
                "s = \"\"\"x\"\"\"\"\"\r\nz = '''\n'''\r\n",
            ),
            (
                "e = \"\"\na = [\n  1,\n]\n",
                "e = \"\"\r\na = [\r\n  1,\r\n]\r\n",
            ),
            (
                "s = \"a\\\"b\"\nt = 'c\\'\nu = 1\n",
                "s = \"a\\\"b\"\r\nt = 'c\\'\r\nu = 1\r\n",
            ),
            ("s = \"\"\"a \\\n b\"\"\"\n", "s = \"\"\"a \\\n b\"\"\"\r\n"),
            ("k = \"é\"\n", "k = \"é\"\r\n"),
        ];
        for &(text, want) in cases {
            assert_eq!(crlf.apply(text), want, "{text:?}");
        }
        let bom = TextStyle {
            bom: true,
            crlf: false,
        };
        assert_eq!(bom.apply("a = 1\n"), "\u{feff}a = 1\n");
    }
}
