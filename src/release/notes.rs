//! Release notes between two releases, computed from the matrix.

use std::fmt::Write as _;

use jiff::civil::Date;
use serde::Serialize;

use crate::matrix::{Matrix, Release};
use crate::model::{AirflowVersion, PackageName, PackageVersion, PythonVersion, RuntimeVersion};
use crate::policy::lifecycle::{self, SeriesLifecycle, Status};

/// A package whose pin moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageMove {
    /// The package.
    pub name: PackageName,
    /// Its pin in the older release.
    pub from: PackageVersion,
    /// Its pin in the newer release.
    pub to: PackageVersion,
}

/// A package that is pinned in one release only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackagePin {
    /// The package.
    pub name: PackageName,
    /// Its pin.
    pub version: PackageVersion,
}

/// A yanked release in the range of the notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Yanked {
    /// The release.
    pub version: RuntimeVersion,
    /// Its published reason.
    pub reason: String,
}

/// What changed from release `from` to release `to`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notes {
    /// The older release.
    pub from: RuntimeVersion,
    /// The newer release.
    pub to: RuntimeVersion,
    /// Release date of `to` (`None` where the record lacks it).
    pub release_date: Option<Date>,
    /// For a `to` without a known date: the day it existed by.
    pub existed_by: Option<Date>,
    /// Airflow of `from` (`None` where the record lacks it).
    pub airflow_from: Option<AirflowVersion>,
    /// Airflow of `to` (`None` where the record lacks it).
    pub airflow_to: Option<AirflowVersion>,
    /// Debian release of `from`'s images.
    pub debian_from: crate::model::DebianRelease,
    /// Debian release of `to`'s images.
    pub debian_to: crate::model::DebianRelease,
    /// Repository of `from`'s images.
    pub repository_from: String,
    /// Repository of `to`'s images.
    pub repository_to: String,
    /// Default Python of `from`.
    pub python_from: PythonVersion,
    /// Default Python of `to`.
    pub python_to: PythonVersion,
    /// Pinned in `to`, not in `from`.
    pub added: Vec<PackagePin>,
    /// Pinned in `from`, not in `to`.
    pub removed: Vec<PackagePin>,
    /// Pinned higher in `to` (PEP 440 order).
    pub upgraded: Vec<PackageMove>,
    /// Pinned lower in `to` (PEP 440 order).
    pub downgraded: Vec<PackageMove>,
    /// Whether either side's package set is not in the public record (package changes unknown).
    pub packages_unknown: bool,
    /// Yanked releases in the range `(from, to]`, with their reasons.
    pub yanked: Vec<Yanked>,
    /// Lifecycle of `to`'s series.
    pub lifecycle: Option<SeriesLifecycle>,
    /// Status of `to` on the day asked about.
    pub status: Option<Status>,
}

/// Why notes cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotesError {
    /// A version is not in the matrix.
    #[error("{0} is not a release in the matrix")]
    Unknown(RuntimeVersion),
    /// Both sides are the same release.
    #[error("notes from {0} to itself: expected two different releases")]
    Same(RuntimeVersion),
}

/// The notes from `from` to `to` (either order is accepted; notes always read oldest to newest
/// as given), with the target's status on `on`.
pub fn notes(
    matrix: &Matrix,
    from: &RuntimeVersion,
    to: &RuntimeVersion,
    on: Date,
) -> Result<Notes, NotesError> {
    let a = matrix
        .release(from)
        .ok_or_else(|| NotesError::Unknown(from.clone()))?;
    let b = matrix
        .release(to)
        .ok_or_else(|| NotesError::Unknown(to.clone()))?;
    if a.version == b.version {
        return Err(NotesError::Same(a.version.clone()));
    }
    let (lo, hi) = if a.version <= b.version {
        (a, b)
    } else {
        (b, a)
    };
    let mut notes = Notes {
        from: a.version.clone(),
        to: b.version.clone(),
        release_date: b.date,
        existed_by: b.existed_by,
        airflow_from: a.airflow.clone(),
        airflow_to: b.airflow.clone(),
        debian_from: a.debian,
        debian_to: b.debian,
        repository_from: a.repository.clone(),
        repository_to: b.repository.clone(),
        python_from: a.python,
        python_to: b.python,
        added: Vec::new(),
        removed: Vec::new(),
        upgraded: Vec::new(),
        downgraded: Vec::new(),
        packages_unknown: !a.packages_known || !b.packages_known,
        yanked: matrix
            .releases()
            .iter()
            .filter(|r| r.version > lo.version && r.version <= hi.version)
            .filter_map(|r| {
                r.yanked.clone().map(|reason| Yanked {
                    version: r.version.clone(),
                    reason,
                })
            })
            .collect(),
        lifecycle: lifecycle::of_release(matrix, &b.version),
        status: None,
    };
    notes.status = notes.lifecycle.as_ref().map(|l| l.release_status_on(b, on));
    diff_packages(a, b, &mut notes);
    Ok(notes)
}

fn diff_packages(a: &Release, b: &Release, notes: &mut Notes) {
    for (name, old) in a.packages.iter() {
        match b.packages.get(name) {
            None => notes.removed.push(PackagePin {
                name: name.clone(),
                version: old.clone(),
            }),
            Some(new) if new > old => notes.upgraded.push(PackageMove {
                name: name.clone(),
                from: old.clone(),
                to: new.clone(),
            }),
            Some(new) if new < old => notes.downgraded.push(PackageMove {
                name: name.clone(),
                from: old.clone(),
                to: new.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, new) in b.packages.iter() {
        if !a.packages.contains(name) {
            notes.added.push(PackagePin {
                name: name.clone(),
                version: new.clone(),
            });
        }
    }
}

impl Notes {
    /// The notes as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Runtime {}\n", self.to);
        let released = match (self.release_date, self.existed_by) {
            (Some(d), _) => format!("Released {d}."),
            (None, Some(d)) => {
                format!("Release date not in the public record; it existed by {d}.")
            }
            (None, None) => "Release date not in the public record.".to_string(),
        };
        if self.from < self.to {
            let _ = writeln!(md, "Changes since Runtime {}. {released}\n", self.from);
        } else {
            let _ = writeln!(
                md,
                "Changes when going back from Runtime {} (a downgrade). {released}\n",
                self.from
            );
        }
        for Yanked { version, reason } in &self.yanked {
            let _ = writeln!(
                md,
                "> **Warning:** Runtime {version} was yanked: {}\n",
                markdown_text(reason)
            );
        }
        let _ = writeln!(md, "## Airflow\n");
        let text = |a: &Option<AirflowVersion>| {
            a.as_ref().map_or_else(
                || "(not in the public record)".to_string(),
                |a| a.to_string(),
            )
        };
        match (&self.airflow_from, &self.airflow_to) {
            (Some(a), Some(b)) if a == b => {
                let _ = writeln!(md, "Airflow {b} (unchanged).\n");
            }
            (a, b) => {
                let _ = writeln!(md, "Airflow {} → {}.\n", text(a), text(b));
            }
        }
        let _ = writeln!(md, "## Python\n");
        if self.python_from == self.python_to {
            let _ = writeln!(md, "Python {} (unchanged).\n", self.python_to);
        } else {
            let _ = writeln!(
                md,
                "Default Python {} → {}.\n",
                self.python_from, self.python_to
            );
        }
        if self.debian_from != self.debian_to || self.repository_from != self.repository_to {
            let _ = writeln!(md, "## Image\n");
            if self.debian_from != self.debian_to {
                let _ = writeln!(
                    md,
                    "Debian {} ({}) → {} ({}).\n",
                    self.debian_from.number(),
                    self.debian_from,
                    self.debian_to.number(),
                    self.debian_to
                );
            }
            if self.repository_from != self.repository_to {
                let _ = writeln!(
                    md,
                    "Published to `{}` (was `{}`).\n",
                    self.repository_to, self.repository_from
                );
            }
        }
        let _ = writeln!(md, "## Packages\n");
        if self.packages_unknown {
            let _ = writeln!(
                md,
                "The package set of one of these releases is not in the public record; package changes are not listed.\n"
            );
        } else if self.added.is_empty()
            && self.removed.is_empty()
            && self.upgraded.is_empty()
            && self.downgraded.is_empty()
        {
            let _ = writeln!(md, "No package changes.\n");
        } else {
            let table = |md: &mut String, title: &str, rows: Vec<String>| {
                if !rows.is_empty() {
                    let _ = writeln!(md, "### {title}\n");
                    for r in rows {
                        let _ = writeln!(md, "- {r}");
                    }
                    let _ = writeln!(md);
                }
            };
            table(
                &mut md,
                "Added",
                self.added
                    .iter()
                    .map(|p| format!("`{}` {}", p.name, p.version))
                    .collect(),
            );
            table(
                &mut md,
                "Removed",
                self.removed
                    .iter()
                    .map(|p| format!("`{}` {}", p.name, p.version))
                    .collect(),
            );
            table(
                &mut md,
                "Upgraded",
                self.upgraded
                    .iter()
                    .map(|p| format!("`{}` {} → {}", p.name, p.from, p.to))
                    .collect(),
            );
            table(
                &mut md,
                "Downgraded",
                self.downgraded
                    .iter()
                    .map(|p| format!("`{}` {} → {}", p.name, p.from, p.to))
                    .collect(),
            );
        }
        let _ = writeln!(md, "## Lifecycle\n");
        match (&self.lifecycle, self.status) {
            (Some(l), Some(status)) => {
                let _ = write!(
                    md,
                    "Series {} ({} channel): end of maintenance {}",
                    l.series, l.channel, l.end_of_maintenance
                );
                if let Some(b) = l.end_of_basic_support {
                    let _ = write!(md, ", end of basic support {b}");
                }
                let _ = writeln!(md, ". Status: {status}.");
            }
            _ => {
                let _ = writeln!(md, "No lifecycle recorded for this series.");
            }
        }
        md
    }
}

/// Free text (a yanked reason) as Markdown that shows it as written: every character that
/// could open a link, image, HTML tag, code span, emphasis, strikethrough or table cell is
/// backslash-escaped, so `<script>` or `](javascript:...)` stay text.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '!'
                | '|'
                | '~'
                | '#'
                | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_stays_text_in_markdown() {
        assert_eq!(
            markdown_text("<script>alert(1)</script>"),
            "\\<script\\>alert\\(1\\)\\</script\\>"
        );
        assert_eq!(
            markdown_text("see [docs](javascript:alert(1))"),
            "see \\[docs\\]\\(javascript:alert\\(1\\)\\)"
        );
        assert_eq!(markdown_text("plain, text. 2.3.4"), "plain, text. 2.3.4");
        assert_eq!(markdown_text("a\\b *c* `d`"), "a\\\\b \\*c\\* \\`d\\`");
    }
}
