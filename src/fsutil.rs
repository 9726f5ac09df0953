//! File writes that never leave a half-written file behind, and reads of user files that never
//! block on a FIFO or device nor read without bound.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The largest user file runtime-kit reads (a matrix, a Dockerfile, a lock, a template, a
/// configuration): 16 MiB. The shipped matrix is about 150 KB, a generated Dockerfile a few KB.
/// `runtime-kit lint --max-input-size` raises it for the files it lints.
pub const DEFAULT_INPUT_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads the user file at `path`: refused, without opening it, when it is not a regular file (a
/// FIFO would block, a device such as `/dev/zero` never ends), and refused past `limit` bytes.
/// Errors say which (the caller names the file).
pub fn read_input(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file; expected a file to read",
                file_kind(&meta.file_type())
            ),
        ));
    }
    read_limited(File::open(path)?, limit)
}

/// [`read_input`] as UTF-8 text.
pub fn read_input_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_input(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "it is not UTF-8 text; expected a text file",
        )
    })
}

/// Reads `reader` to its end, refused past `limit` bytes (never more is held in memory).
pub fn read_limited(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than the input limit of {}; expected a smaller file",
                human_bytes(limit)
            ),
        ));
    }
    Ok(buf)
}

/// `16 MiB`, `512 KiB`, `100 bytes`.
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// What a file that is not a regular file is, for messages.
pub fn file_kind(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// A temporary sibling of `path` (same directory, so the final rename stays on one filesystem),
/// unique to this process and this write: `.<name>.tmp-<pid>-<n>`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    sibling(path, "tmp")
}

/// A backup sibling of `path`, as [`temp_path`] but `.<name>.bak-<pid>-<n>`.
pub(crate) fn backup_path(path: &Path) -> PathBuf {
    sibling(path, "bak")
}

fn sibling(path: &Path, kind: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{kind}-{}-{n}", std::process::id()))
}

/// True for the name of a temporary or backup file that a write of this crate makes and
/// removes ([`temp_path`], [`backup_path`]): one still present was left by a killed run.
pub fn is_leftover_name(name: &str) -> bool {
    if !name.starts_with('.') {
        return false;
    }
    [".tmp-", ".bak-"].iter().any(|marker| {
        name.rfind(marker).is_some_and(|at| {
            let rest = &name[at + marker.len()..];
            rest.starts_with(|c: char| c.is_ascii_digit())
                && rest.chars().all(|c| c.is_ascii_digit() || c == '-')
        })
    })
}

/// Writes `bytes` to a temporary sibling of `path`, flushed to disk; returns its path. The
/// caller renames it into place (or removes it).
pub(crate) fn stage(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir)?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Replaces `path` with `bytes` all-or-nothing: readers see the old file or the new one.
///
/// When `path` is a symbolic link, the file it points to is replaced and the link stays; an
/// existing file keeps its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve_links(path)?;
    let permissions = match fs::metadata(&target) {
        Ok(m) => Some(m.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let tmp = stage(&target, bytes)?;
    let result = match permissions {
        Some(p) => fs::set_permissions(&tmp, p),
        None => Ok(()),
    }
    .and_then(|()| fs::rename(&tmp, &target));
    result.inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// [`write_atomic`], but only if `path` still holds `expected` (what the caller read before
/// computing `bytes`): a compare-and-swap, so that of two edits of one file made at the same
/// time neither is lost; the later one fails and writes nothing. The compare and the replace
/// run under an exclusive lock on the file's directory, which every writer through here
/// takes.
pub fn replace_if_unchanged(path: &Path, expected: &[u8], bytes: &[u8]) -> io::Result<()> {
    let target = resolve_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let guard = File::open(&dir)?;
    guard.lock()?;
    let limit = (expected.len() as u64).max(DEFAULT_INPUT_LIMIT);
    let current = match read_input(&target, limit) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if current.as_deref() != Some(expected) {
        return Err(io::Error::other(
            "it changed on disk since it was read (another edit at the same time?); nothing was written: run the command again",
        ));
    }
    write_atomic(&target, bytes)
}

/// The file a chain of symbolic links at `path` ends at (`path` itself when it is no link, or
/// does not exist yet). A link to a missing file resolves to that file, so it is created.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // As many hops as Linux follows before it gives up with ELOOP.
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_unique_per_write_and_known_as_leftovers() {
        let a = temp_path(Path::new("d/Dockerfile"));
        let b = temp_path(Path::new("d/Dockerfile"));
        assert_ne!(a, b);
        for p in [a, b, backup_path(Path::new("d/Dockerfile"))] {
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(is_leftover_name(name), "{name}");
        }
        for name in [
            "Dockerfile",
            ".dockerignore",
            ".Dockerfile.tmp-",
            ".Dockerfile.tmp-x1",
            "Dockerfile.tmp-12",
            ".runtime-kit-manifest",
        ] {
            assert!(!is_leftover_name(name), "{name}");
        }
        assert!(is_leftover_name(".Dockerfile.tmp-4242"));
    }

    #[test]
    fn user_files_are_bounded_and_regular() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "12345").unwrap();
        assert_eq!(read_input(&file, 5).unwrap(), b"12345");
        let e = read_input(&file, 4).unwrap_err().to_string();
        assert!(e.contains("larger than the input limit of 4 bytes"), "{e}");
        // A device is refused before anything is read (reading /dev/zero never ends).
        let e = read_input(Path::new("/dev/zero"), DEFAULT_INPUT_LIMIT)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a character device, not a regular file"), "{e}");
        let e = read_input(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        // A FIFO is refused without opening it (opening one blocks until a writer comes).
        let fifo = dir.path().join("p");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read_input(&fifo, 10).unwrap_err().to_string();
            assert!(e.contains("a FIFO (named pipe), not a regular file"), "{e}");
        }
        assert_eq!(human_bytes(DEFAULT_INPUT_LIMIT), "16 MiB");
        assert_eq!(human_bytes(1536), "1536 bytes");
        fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(
            read_input_string(&file, 10)
                .unwrap_err()
                .to_string()
                .contains("not UTF-8")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_kept_and_its_target_replaced_with_the_same_mode() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real").join("matrix.toml");
        fs::create_dir(real.parent().unwrap()).unwrap();
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.toml");
        symlink("real/matrix.toml", &link).unwrap();
        let chain = dir.path().join("chain.toml");
        symlink("link.toml", &chain).unwrap();

        write_atomic(&chain, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&chain)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // Nothing was left beside it.
        assert_eq!(fs::read_dir(real.parent().unwrap()).unwrap().count(), 1);

        // A file that does not exist yet is created.
        let fresh = dir.path().join("fresh.txt");
        write_atomic(&fresh, b"x").unwrap();
        assert_eq!(fs::read_to_string(&fresh).unwrap(), "x");

        // A loop is an error, not a hang.
        symlink("loop-b", dir.path().join("loop-a")).unwrap();
        symlink("loop-a", dir.path().join("loop-b")).unwrap();
        assert!(write_atomic(&dir.path().join("loop-a"), b"x").is_err());
    }
}
