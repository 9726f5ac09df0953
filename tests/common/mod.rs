//! The one test harness: run the `runtime-kit` binary, capture its output, snapshot it into the
//! top-level `snapshots/` directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped matrix.
pub fn shipped_matrix() -> PathBuf {
    root().join("runtime-matrix.toml")
}

/// The output of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr as one text for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `runtime-kit ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_runtime-kit"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `runtime-kit ARGS` at the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(&root(), args)
}

/// Snapshots `value` under `name` in the top-level `snapshots/` directory.
#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

/// Every file under `dir` (relative path) with its contents, mode and modification time.
pub fn snapshot_dir(
    dir: &Path,
) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, u32, std::time::SystemTime)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    (
                        std::fs::read(e.path()).unwrap(),
                        meta.permissions().mode(),
                        meta.modified().unwrap(),
                    ),
                );
            }
        }
    }
    out
}

/// Copies the files under `from` into `to`, with their modes.
pub fn copy_tree(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for (rel, (bytes, mode, _)) in snapshot_dir(from) {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A repository root of its own: a copy of the shipped matrix and locks, with `dockerfiles/`
/// generated from them.
pub fn scratch_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root().join("locks"), &tmp.path().join("locks"));
    std::fs::copy(shipped_matrix(), tmp.path().join("runtime-matrix.toml")).unwrap();
    let first = run_in(tmp.path(), &["generate"]);
    assert_eq!(first.code, 0, "{}", first.transcript());
    tmp
}

/// The output of one run under [`run_bounded`].
#[derive(Debug)]
pub struct Bounded {
    /// The exit code; `None` when a signal ended the run (an abort past the memory bound).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: std::time::Duration,
}

/// Runs `runtime-kit ARGS` in `dir` with no input, under a bound on time (killed after 20 s,
/// which fails the test) and on memory (an address-space limit of 1 GiB set with `prlimit`, so
/// a read or an allocation without bound aborts the run). A panic fails the test too.
pub fn run_bounded(dir: &Path, args: &[&str]) -> Bounded {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = Command::new("prlimit")
        .arg("--as=1073741824")
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_runtime-kit"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs");
    let start = Instant::now();
    let drain = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let took = start.elapsed();
            let stderr = stderr.join().unwrap();
            assert!(
                !stderr.contains("panicked at"),
                "runtime-kit {args:?} panicked: {stderr}"
            );
            return Bounded {
                code: status.code(),
                stdout: stdout.join().unwrap(),
                stderr,
                took,
            };
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runtime-kit {args:?} still ran after 20 s: it blocks or reads without bound");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
