//! Errors in a matrix file, each with the place it was found.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in a matrix file: 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file, as named by the caller.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One problem in a matrix: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct MatrixError {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Every problem found in a matrix (at least one), in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct MatrixErrors(pub Vec<MatrixError>);

impl MatrixErrors {
    /// The problems, in file order.
    pub fn errors(&self) -> &[MatrixError] {
        &self.0
    }
}

impl fmt::Display for MatrixErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Why [`Matrix::load`](super::Matrix::load) gave no matrix: the file could not be read, or
/// it is not a valid matrix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read (missing, a directory, not UTF-8, no permission).
    #[error("{}: cannot read the matrix: {io}", path.display())]
    Read {
        /// The file, as named by the caller.
        path: PathBuf,
        /// What the system said.
        io: std::io::Error,
    },
    /// The file was read, and these are its problems.
    #[error(transparent)]
    Invalid(#[from] MatrixErrors),
}

impl LoadError {
    /// The matrix's problems, when the file was read but is not valid.
    pub fn matrix_errors(&self) -> Option<&MatrixErrors> {
        match self {
            LoadError::Invalid(e) => Some(e),
            LoadError::Read { .. } => None,
        }
    }
}

/// Turns byte offsets of one source text into locations.
#[derive(Clone, Debug)]
pub(crate) struct SourceMap {
    file: PathBuf,
    line_starts: Vec<usize>,
    text: String,
}

impl SourceMap {
    pub(crate) fn new(file: &Path, text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceMap {
            file: file.to_path_buf(),
            line_starts,
            text: text.to_string(),
        }
    }

    pub(crate) fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }

    pub(crate) fn error(&self, span: &Range<usize>, message: impl Into<String>) -> MatrixError {
        MatrixError {
            location: self.locate(span.start),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let map = SourceMap::new(Path::new("m.toml"), "ab\ncdé\nf");
        let at = |o| {
            let l = map.locate(o);
            (l.line, l.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(7), (2, 4));
        assert_eq!(at(8), (3, 1));
        assert_eq!(at(100), (3, 2));
        assert_eq!(map.locate(3).to_string(), "m.toml:2:1");
    }
}
