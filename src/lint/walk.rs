//! Which files to lint: named files, directories walked recursively for `Dockerfile` and
//! `*.Dockerfile` (and buildah's `Containerfile`, `*.Containerfile`), and standard input.

use std::io;
use std::path::{Path, PathBuf};

use super::Config;

/// Something to lint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file on disk.
    File(PathBuf),
    /// Standard input, reported under `name` (which also identifies Runtime Dockerfiles).
    Stdin {
        /// The name findings are reported under.
        name: PathBuf,
    },
}

impl Input {
    /// The name findings are reported under.
    pub fn name(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Stdin { name } => name,
        }
    }

    /// Reads the bytes, refusing more than `limit` of them, and (for a file) anything but a
    /// regular file: a FIFO or device named on the command line is an error, not a hang.
    pub fn read(&self, limit: u64) -> io::Result<(PathBuf, Vec<u8>)> {
        match self {
            Input::File(p) => crate::fsutil::read_input(p, limit)
                .map(|b| (p.clone(), b))
                .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display()))),
            Input::Stdin { name } => crate::fsutil::read_limited(io::stdin().lock(), limit)
                .map(|b| (name.clone(), b))
                .map_err(|e| io::Error::new(e.kind(), format!("cannot read standard input: {e}"))),
        }
    }
}

/// Whether a file name is a Dockerfile's: `Dockerfile`, `*.Dockerfile`, or buildah's
/// `Containerfile` and `*.Containerfile`.
pub fn is_dockerfile_name(name: &str) -> bool {
    ["Dockerfile", "Containerfile"].iter().any(|base| {
        name == *base
            || name
                .strip_suffix(base)
                .is_some_and(|stem| stem.len() > 1 && stem.ends_with('.'))
    })
}

/// What [`discover`] found: the inputs, and the Dockerfile names a walk passed over because they
/// are not regular files (a FIFO, a socket, a device: never opened), each with what it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovered {
    /// What to lint, in order.
    pub inputs: Vec<Input>,
    /// Skipped while walking: (path, what it is).
    pub skipped: Vec<(PathBuf, &'static str)>,
}

/// The inputs named by `paths`: `-` is standard input (named `stdin_name`), a file is taken as
/// it is, a directory is walked (sorted, hidden directories and `config.exclude` skipped,
/// symbolic links to directories not followed, a Dockerfile name that is no regular file
/// skipped and reported). A path named on the command line is linted even where
/// `config.exclude` covers it: exclusion is for what a walk finds. A directory in which the
/// walk finds no Dockerfile, and `-` given twice, are errors.
pub fn discover(paths: &[PathBuf], stdin_name: &Path, config: &Config) -> io::Result<Discovered> {
    let mut found = Discovered::default();
    let out = &mut found.inputs;
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            if std::mem::replace(&mut stdin, true) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "`-` (standard input) is given twice; it can be read once",
                ));
            }
            out.push(Input::Stdin {
                name: stdin_name.to_path_buf(),
            });
            continue;
        }
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display())))?;
        if meta.is_dir() {
            let excluding = !config.is_excluded(p);
            let before = out.len();
            walk(p, config, excluding, out, &mut found.skipped)?;
            // A directory without a Dockerfile is most likely a wrong path: linting nothing
            // must not pass a CI job.
            if out.len() == before {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{}: no Dockerfile found (files named Dockerfile, *.Dockerfile, Containerfile or *.Containerfile, outside excluded paths)",
                        p.display()
                    ),
                ));
            }
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    config: &Config,
    excluding: bool,
    out: &mut Vec<Input>,
    skipped: &mut Vec<(PathBuf, &'static str)>,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", dir.display())))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if excluding && config.is_excluded(&path) {
            continue;
        }
        let kind = e.file_type()?;
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, config, excluding, out, skipped)?;
            }
        } else if is_dockerfile_name(&name) {
            // A link is followed to see what it is; one that leads nowhere (a loop, a missing
            // target) is skipped and reported.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => out.push(Input::File(path)),
                Ok(m) if !m.is_dir() => {
                    skipped.push((path, crate::fsutil::file_kind(&m.file_type())))
                }
                Ok(_) => {}
                Err(_) => skipped.push((
                    path,
                    "a symbolic link that leads to no file (a loop, or a missing target)",
                )),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_applies_to_walks_not_to_named_paths() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(corpus.join("bad.Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM x\n").unwrap();
        let config = Config {
            exclude: vec![corpus.clone()],
            ..Config::default()
        };
        let names = |paths: &[PathBuf]| -> Vec<PathBuf> {
            discover(paths, Path::new("-"), &config)
                .map(|d| d.inputs)
                .unwrap()
                .iter()
                .map(|i| i.name().to_path_buf())
                .collect()
        };
        // Walking the parent skips the excluded directory.
        assert_eq!(
            names(&[dir.path().to_path_buf()]),
            [dir.path().join("Dockerfile")]
        );
        // Naming it, or a file in it, lints it.
        assert_eq!(
            names(std::slice::from_ref(&corpus)),
            [corpus.join("bad.Dockerfile")]
        );
        assert_eq!(
            names(&[corpus.join("bad.Dockerfile")]),
            [corpus.join("bad.Dockerfile")]
        );
    }

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "base.Dockerfile",
            "Containerfile",
            "dev.Containerfile",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            ".Dockerfile",
            "Dockerfile.bak",
            "dockerfile",
            "README.md",
            ".Containerfile",
            "xContainerfile",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
