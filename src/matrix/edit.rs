//! Editing `runtime-matrix.toml` in place, keeping its comments and layout.
//!
//! The matrix is edited by people and by commands (`pin-base` today; `cut` and `yank` use the same
//! document). A [`MatrixDocument`] is the file as a `toml_edit` document: a command changes only
//! the values it means to change, then [`MatrixDocument::save`] re-validates the whole edited text
//! with [`Matrix::from_str_named`] and replaces the file all-or-nothing (temporary sibling, then
//! rename), provided the file still holds the text the document was read from: of two edits made
//! at the same time, the later save fails and writes nothing instead of losing the other. An edit
//! that would leave an invalid matrix is refused and the file is untouched; a save without a
//! change never writes.
//!
//! Lines are written back with the file's line endings (`\r\n` or `\n`). What toml_edit itself
//! cannot keep is normalised on the first real edit: the missing newline of a last line, and
//! spacing inside a `[[release]]` header that differs from the first one's.
//!
//! ```
//! use runtime_kit::matrix::edit::{Change, MatrixDocument};
//!
//! let text = "schema = 1\n# pinned by hand\n[base-images]\n";
//! let mut doc = MatrixDocument::from_str_named(text, "m.toml").unwrap();
//! let digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
//! assert_eq!(doc.set_base_image_digest("python:3.9-slim-bullseye", &digest).unwrap(), Change::Added);
//! let matrix = doc.validate().unwrap();
//! assert_eq!(matrix.base_image_digests()["python:3.9-slim-bullseye"], digest);
//! assert!(doc.to_string().contains("# pinned by hand"));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use super::text_style::TextStyle;
use super::{Matrix, MatrixErrors};
use crate::fsutil;
use crate::model::{Digest, RuntimeVersion};

/// The key of the base-image table.
const BASE_IMAGES: &str = "base-images";
/// The key of the release array of tables.
const RELEASE: &str = "release";

/// The matrix file as an editable TOML document.
#[derive(Clone, Debug)]
pub struct MatrixDocument {
    path: PathBuf,
    /// The document as toml_edit wrote it before any edit: what [`is_changed`](Self::is_changed)
    /// compares with. It equals the file for every file but a few: toml_edit ends the last line
    /// with a newline, and gives every `[[release]]` header the spacing of the first.
    unedited: String,
    /// The text as read: [`save`](Self::save) replaces the file only while it still holds it.
    read: String,
    /// The file's BOM and line endings, which toml_edit does not keep.
    style: TextStyle,
    doc: DocumentMut,
}

/// What an edit did to one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The key was not there; it was added.
    Added,
    /// The key held another value (given here).
    Updated {
        /// The value it held before, as TOML text.
        previous: String,
    },
    /// The key already held this value.
    Unchanged,
}

/// What [`MatrixDocument::save`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The edited text differed from the file; the file was replaced.
    Written,
    /// Nothing changed; the file was not touched.
    Unchanged,
}

/// An edit that could not be made or saved.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct EditError {
    kind: EditErrorKind,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
enum EditErrorKind {
    #[error("{path}: cannot read the matrix: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml_edit::TomlError>,
    },
    #[error("{path}: `{key}` must be a table, found {found}")]
    NotATable {
        path: PathBuf,
        key: String,
        found: &'static str,
    },
    #[error("{path}: no [[release]] with version = \"{version}\"")]
    UnknownRelease { path: PathBuf, version: String },
    #[error("the edited matrix would not be valid, so {path} was left as it was:\n{source}")]
    Invalid { path: PathBuf, source: MatrixErrors },
    #[error("{path}: cannot write the matrix: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl EditError {
    fn new(kind: EditErrorKind) -> Self {
        EditError { kind }
    }

    /// The matrix errors, when the edit was refused because the result would be invalid.
    pub fn matrix_errors(&self) -> Option<&MatrixErrors> {
        match &self.kind {
            EditErrorKind::Invalid { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl MatrixDocument {
    /// Reads the matrix at `path` for editing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, EditError> {
        let path = path.as_ref();
        let text = crate::fsutil::read_input_string(path, crate::fsutil::DEFAULT_INPUT_LIMIT)
            .map_err(|source| {
                EditError::new(EditErrorKind::Read {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
        Self::from_str_named(&text, path)
    }

    /// Parses matrix text for editing; `name` is where [`save`](Self::save) writes it, which it
    /// does only while the file there holds `text`.
    pub fn from_str_named(text: &str, name: impl AsRef<Path>) -> Result<Self, EditError> {
        let path = name.as_ref().to_path_buf();
        let doc = text.parse::<DocumentMut>().map_err(|source| {
            EditError::new(EditErrorKind::Parse {
                path: path.clone(),
                source: Box::new(source),
            })
        })?;
        Ok(MatrixDocument {
            path,
            unedited: doc.to_string(),
            read: text.to_string(),
            style: TextStyle::of(text),
            doc,
        })
    }

    /// The file this document was read from and is saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an edit changed the document since it was read.
    pub fn is_changed(&self) -> bool {
        // Against toml_edit's own rendering of the file, not the file's bytes: where the two
        // differ (a missing final newline, CRLF lines, spacing inside a repeated header) no edit
        // was made, and a no-op edit must not rewrite the file.
        self.doc.to_string() != self.unedited
    }

    /// The document as text, with the BOM and line endings of the file it was read from (the
    /// style of its first line ending, when a file mixes them).
    fn render(&self) -> String {
        self.style.apply(&self.doc.to_string())
    }

    /// Sets the digest `image` (e.g. `python:3.9-slim-bullseye`) is pinned to in `[base-images]`,
    /// adding the table before the first `[[release]]` when it is missing. A trailing comment on
    /// an existing entry is kept.
    pub fn set_base_image_digest(
        &mut self,
        image: &str,
        digest: &Digest,
    ) -> Result<Change, EditError> {
        let table = self.base_images_mut()?;
        let new = digest.as_str();
        match table.get_mut(image) {
            Some(item) => {
                let old = item.as_value().and_then(Value::as_str);
                if old == Some(new) {
                    return Ok(Change::Unchanged);
                }
                let previous = item
                    .as_value()
                    .map(|v| {
                        let mut bare = v.clone();
                        bare.decor_mut().clear();
                        bare.to_string()
                    })
                    .unwrap_or_default();
                let mut value = Value::from(new);
                if let Some(old) = item.as_value() {
                    *value.decor_mut() = old.decor().clone();
                }
                *item = Item::Value(value);
                Ok(Change::Updated { previous })
            }
            None => {
                table.insert(image, toml_edit::value(new));
                Ok(Change::Added)
            }
        }
    }

    /// The `[[release]]` table of `version`, to change its keys (e.g. mark it yanked).
    pub fn release_mut(&mut self, version: &RuntimeVersion) -> Result<&mut Table, EditError> {
        let wanted = version.to_string();
        let path = self.path.clone();
        let unknown = || {
            EditError::new(EditErrorKind::UnknownRelease {
                path: path.clone(),
                version: wanted.clone(),
            })
        };
        let releases = self
            .doc
            .get_mut(RELEASE)
            .and_then(Item::as_array_of_tables_mut)
            .ok_or_else(unknown)?;
        releases
            .iter_mut()
            .find(|t| t.get("version").and_then(Item::as_str) == Some(wanted.as_str()))
            .ok_or_else(unknown)
    }

    /// Appends a `[[release]]` table after the last one (e.g. a new release by `cut`).
    pub fn push_release(&mut self, release: Table) -> Result<(), EditError> {
        let path = self.path.clone();
        let item = self
            .doc
            .entry(RELEASE)
            .or_insert_with(|| Item::ArrayOfTables(Default::default()));
        let found = item.type_name();
        let releases = item.as_array_of_tables_mut().ok_or_else(|| {
            EditError::new(EditErrorKind::NotATable {
                path,
                key: RELEASE.into(),
                found,
            })
        })?;
        releases.push(release);
        Ok(())
    }

    /// The underlying document, for edits this type has no method for.
    pub fn document_mut(&mut self) -> &mut DocumentMut {
        &mut self.doc
    }

    /// Parses and validates the edited text as a matrix.
    pub fn validate(&self) -> Result<Matrix, EditError> {
        Matrix::from_str_named(&self.render(), &self.path).map_err(|source| {
            EditError::new(EditErrorKind::Invalid {
                path: self.path.clone(),
                source,
            })
        })
    }

    /// Validates the edited matrix and, when it changed, replaces the file all-or-nothing,
    /// provided the file still holds what was read: an edit made meanwhile by another process
    /// is never overwritten (this save fails instead, writing nothing). Returns the validated
    /// matrix and whether the file was written.
    pub fn save(&self) -> Result<(Matrix, Saved), EditError> {
        let matrix = self.validate()?;
        if !self.is_changed() {
            return Ok((matrix, Saved::Unchanged));
        }
        fsutil::replace_if_unchanged(&self.path, self.read.as_bytes(), self.render().as_bytes())
            .map_err(|source| {
                EditError::new(EditErrorKind::Write {
                    path: self.path.clone(),
                    source,
                })
            })?;
        Ok((matrix, Saved::Written))
    }

    fn base_images_mut(&mut self) -> Result<&mut dyn toml_edit::TableLike, EditError> {
        if self.doc.get(BASE_IMAGES).is_none() {
            let mut table = Table::new();
            table.decor_mut().set_prefix(
                "\n# Base images pinned by digest (written by `runtime-kit pin-base`).\n",
            );
            // Place it just before the first [[release]], where the schema documents it.
            let first_release = self
                .doc
                .get(RELEASE)
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.get(0))
                .and_then(Table::position);
            if let Some(pos) = first_release {
                table.set_position(Some(pos - 1));
            }
            self.doc.insert(BASE_IMAGES, Item::Table(table));
        }
        let path = self.path.clone();
        let item = self.doc.get_mut(BASE_IMAGES).expect("inserted above");
        let found = item.type_name();
        item.as_table_like_mut().ok_or_else(|| {
            EditError::new(EditErrorKind::NotATable {
                path,
                key: BASE_IMAGES.into(),
                found,
            })
        })
    }
}

impl fmt::Display for MatrixDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATRIX: &str = r#"# The matrix.
schema = 1

[series.5]   # five
channel = "stable"
python = "3.9"

# Releases follow.
[[release]]
version = "5.0.5"
airflow = "2.3.3"
date = 2022-07-12
unknown = ["packages"]

[[release]]
version = "5.0.6"
airflow = "2.3.3"
date = 2022-07-21
unknown = ["packages"]
"#;

    fn digest(c: char) -> Digest {
        format!("sha256:{}", c.to_string().repeat(64))
            .parse()
            .unwrap()
    }

    #[test]
    fn adds_the_table_before_the_releases() {
        let mut doc = MatrixDocument::from_str_named(MATRIX, "m.toml").unwrap();
        let change = doc
            .set_base_image_digest("python:3.9-slim-bullseye", &digest('a'))
            .unwrap();
        assert_eq!(change, Change::Added);
        let text = doc.to_string();
        let table = text.find("[base-images]").unwrap();
        assert!(table < text.find("# Releases follow.").unwrap(), "{text}");
        assert!(table > text.find("[series.5]   # five").unwrap(), "{text}");
        assert!(text.contains(&format!(
            "\"python:3.9-slim-bullseye\" = \"{}\"",
            digest('a')
        )));
        // Everything else is byte for byte the same.
        let without: String = text
            .lines()
            .filter(|l| {
                !l.contains("base-images")
                    && !l.contains("python:3.9-slim")
                    && !l.contains("pin-base")
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(without.replace("\n\n\n", "\n\n"), MATRIX.trim_end());
        doc.validate().unwrap();
    }

    #[test]
    fn updates_keep_comments() {
        let text = MATRIX.replace(
            "# Releases follow.",
            &format!(
                "[base-images]\n\"python:3.9-slim-bullseye\" = \"{}\"  # pinned 2024-01-01\n\n# Releases follow.",
                digest('a')
            ),
        );
        let mut doc = MatrixDocument::from_str_named(&text, "m.toml").unwrap();
        assert_eq!(
            doc.set_base_image_digest("python:3.9-slim-bullseye", &digest('a'))
                .unwrap(),
            Change::Unchanged
        );
        assert!(!doc.is_changed());
        let change = doc
            .set_base_image_digest("python:3.9-slim-bullseye", &digest('b'))
            .unwrap();
        assert_eq!(
            change,
            Change::Updated {
                previous: format!("\"{}\"", digest('a'))
            }
        );
        assert_eq!(
            doc.to_string(),
            text.replace(digest('a').as_str(), digest('b').as_str())
        );
    }

    #[test]
    fn releases_can_be_edited_and_appended() {
        let mut doc = MatrixDocument::from_str_named(MATRIX, "m.toml").unwrap();
        let v: RuntimeVersion = "5.0.5".parse().unwrap();
        let r = doc.release_mut(&v).unwrap();
        r.insert("yanked", toml_edit::value(true));
        // Invalid: a yanked release needs a reason.
        let e = doc.validate().unwrap_err();
        assert!(e.matrix_errors().is_some(), "{e}");
        doc.release_mut(&v)
            .unwrap()
            .insert("yanked-reason", toml_edit::value("broken"));
        let m = doc.validate().unwrap();
        assert!(m.release(&v).unwrap().is_yanked());

        let mut t = Table::new();
        t.insert("version", toml_edit::value("5.0.7"));
        t.insert("airflow", toml_edit::value("2.3.3"));
        t.insert(
            "date",
            toml_edit::value("2022-08-01".parse::<toml_edit::Datetime>().unwrap()),
        );
        let mut unknown = toml_edit::Array::new();
        unknown.push("packages");
        t.insert("unknown", toml_edit::value(unknown));
        doc.push_release(t).unwrap();
        assert_eq!(doc.validate().unwrap().releases().len(), 3);
        assert!(doc.release_mut(&"9.9.9".parse().unwrap()).is_err());
    }
}
