//! The text of one Dockerfile and the map from byte offsets to lines and columns.

use std::ops::Range;

/// A place in a Dockerfile: 1-based line and column (columns count Unicode characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// A range of a Dockerfile, start inclusive, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Region {
    /// First character.
    pub start: Position,
    /// Just past the last character.
    pub end: Position,
}

/// Why a byte sequence is not a Dockerfile we can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not UTF-8.
    #[error(
        "not UTF-8 text: invalid byte 0x{byte:02x} at line {line}, column {column}; expected a Dockerfile encoded as UTF-8"
    )]
    NotUtf8 {
        /// The first invalid byte.
        byte: u8,
        /// Its line.
        line: usize,
        /// Its column.
        column: usize,
    },
    /// The text contains NUL bytes, as binary files do.
    #[error("binary data: NUL byte at line {line}, column {column}; expected a text Dockerfile")]
    Binary {
        /// Line of the first NUL.
        line: usize,
        /// Column of the first NUL.
        column: usize,
    },
}

/// The decoded text of a Dockerfile (UTF-8, byte-order mark removed) and its line index.
///
/// ```
/// use runtime_kit::lint::Source;
/// let src = Source::decode(b"\xef\xbb\xbfFROM a\r\nRUN b\n").unwrap();
/// assert_eq!(src.text(), "FROM a\r\nRUN b\n");
/// assert_eq!(src.position(8).line, 2);
/// assert_eq!(src.line_text(1), "FROM a");
/// ```
#[derive(Clone, Debug)]
pub struct Source {
    text: String,
    line_starts: Vec<usize>,
}

const BOM: &str = "\u{feff}";

impl Source {
    /// Decodes `bytes`: UTF-8 only, a leading byte-order mark is dropped, NUL bytes are refused.
    pub fn decode(bytes: &[u8]) -> Result<Source, DecodeError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Source::new(text),
            // A NUL byte says binary file more plainly than the first byte that is not UTF-8.
            Err(_) if bytes.contains(&0) => {
                let at = bytes.iter().position(|&b| b == 0).unwrap_or_default();
                let (line, column) = line_col(&bytes[..at]);
                Err(DecodeError::Binary { line, column })
            }
            Err(e) => {
                let at = e.valid_up_to();
                let (line, column) = line_col(&bytes[..at]);
                Err(DecodeError::NotUtf8 {
                    byte: bytes[at],
                    line,
                    column,
                })
            }
        }
    }

    /// Wraps text that is already decoded; a leading byte-order mark is dropped.
    pub fn new(text: &str) -> Result<Source, DecodeError> {
        let text = text.strip_prefix(BOM).unwrap_or(text);
        if let Some(at) = text.find('\0') {
            let (line, column) = line_col(&text.as_bytes()[..at]);
            return Err(DecodeError::Binary { line, column });
        }
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Ok(Source {
            text: text.to_string(),
            line_starts,
        })
    }

    /// The text (without byte-order mark).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of lines (a final line without newline counts; an empty text has one empty line).
    pub fn line_count(&self) -> usize {
        if self.text.ends_with('\n') {
            self.line_starts.len() - 1
        } else {
            self.line_starts.len()
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Line and column of byte `offset` (clamped to the text, moved back to a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.line_starts[line - 1];
        Position {
            line,
            column: self.text[start..offset].chars().count() + 1,
        }
    }

    /// The region of a byte range.
    pub fn region(&self, range: Range<usize>) -> Region {
        Region {
            start: self.position(range.start),
            end: self.position(range.end.max(range.start)),
        }
    }

    /// Byte range of line `line` (1-based) without its line ending (`\n` or `\r\n`).
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len()..self.text.len();
        };
        let mut end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// The text of line `line` (1-based) without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        &self.text[self.line_range(line)]
    }
}

fn line_col(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let last = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&prefix[last..]).chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let src = Source::new("FROM a\r\nLABEL x=\"é\" y=1\nRUN z").unwrap();
        assert_eq!(src.line_count(), 3);
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        let y = src.text().find("y=").unwrap();
        assert_eq!(
            src.position(y),
            Position {
                line: 2,
                column: 13
            }
        );
        assert_eq!(src.line_text(1), "FROM a");
        assert_eq!(src.line_text(3), "RUN z");
        assert_eq!(src.line_text(9), "");
        assert_eq!(src.position(10_000).line, 3);
    }

    #[test]
    fn refuses_binary_and_non_utf8_with_a_location() {
        let e = Source::decode(b"FROM a\nRUN \xff\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not UTF-8 text: invalid byte 0xff at line 2, column 5; expected a Dockerfile encoded as UTF-8"
        );
        let e = Source::decode(b"FROM a\0").unwrap_err();
        assert!(
            e.to_string().contains("NUL byte at line 1, column 7"),
            "{e}"
        );
        assert_eq!(Source::decode(b"").unwrap().line_count(), 1);
    }
}
