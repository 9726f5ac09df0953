//! Hostile input from outside: files that never end, files that block, files past the size
//! limit. Each command must refuse them with exit 2, naming the file, and never hang: every run
//! here is killed after 20 seconds, which fails the test.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::run_bounded;

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn lint_refuses_devices_fifos_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // /dev/zero never ends: refused before a byte is read (it used to grow to 9 GB).
    let out = run_bounded(d, &["lint", "--no-config", "/dev/zero"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot read /dev/zero: it is a character device, not a regular file"),
        "{}",
        out.stderr
    );
    // A FIFO named on the command line would block on open: refused without opening it.
    let fifo = d.join("Dockerfile");
    assert!(mkfifo(&fifo), "mkfifo");
    let out = run_bounded(d, &["lint", "--no-config", "Dockerfile"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("it is a FIFO (named pipe), not a regular file"),
        "{}",
        out.stderr
    );
    // Met while walking a directory: skipped with a warning; the real Dockerfiles are linted.
    std::fs::create_dir(d.join("ctx")).unwrap();
    std::fs::write(d.join("ctx/a.Dockerfile"), "FROM scratch\n").unwrap();
    assert!(mkfifo(&d.join("ctx/Dockerfile")));
    let out = run_bounded(d, &["lint", "--no-config", "ctx"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: ctx/Dockerfile: skipped, it is a FIFO (named pipe)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("1 file"), "{}", out.stderr);
    // Past the size limit (a flag raises it).
    std::fs::write(
        d.join("big.Dockerfile"),
        format!("FROM scratch\n# {}\n", "x".repeat(2000)),
    )
    .unwrap();
    let out = run_bounded(
        d,
        &[
            "lint",
            "--no-config",
            "--max-input-size",
            "1K",
            "big.Dockerfile",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot read big.Dockerfile: it is larger than the input limit of 1 KiB"),
        "{}",
        out.stderr
    );
    let out = run_bounded(
        d,
        &[
            "lint",
            "--no-config",
            "--max-input-size",
            "4K",
            "big.Dockerfile",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = run_bounded(
        d,
        &[
            "lint",
            "--no-config",
            "--max-input-size",
            "lots",
            "big.Dockerfile",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("expected bytes like"), "{}", out.stderr);
}

#[test]
fn the_matrix_templates_and_the_tree_refuse_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["validate", "--matrix", "/dev/zero"][..],
        &["query", "--matrix", "/dev/zero", "latest"][..],
    ] {
        let out = run_bounded(d, args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("/dev/zero") && out.stderr.contains("not a regular file"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let fifo = d.join("runtime-matrix.toml");
    assert!(mkfifo(&fifo));
    let out = run_bounded(d, &["validate"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("a FIFO (named pipe)"), "{}", out.stderr);
    std::fs::remove_file(&fifo).unwrap();

    // A template override that is a FIFO.
    let matrix = "schema = 1\n[series.5]\nchannel = \"stable\"\npython = \"3.9\"\n[[release]]\nversion = \"5.0.6\"\nairflow = \"2.3.3\"\ndate = 2022-07-21\nunknown = [\"packages\"]\n";
    std::fs::write(d.join("runtime-matrix.toml"), matrix).unwrap();
    std::fs::create_dir(d.join("tpl")).unwrap();
    assert!(mkfifo(&d.join("tpl/pip.conf.hbs")));
    let out = run_bounded(d, &["generate", "--templates", "tpl"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("tpl/pip.conf.hbs"), "{}", out.stderr);
    std::fs::remove_file(d.join("tpl/pip.conf.hbs")).unwrap();

    // A FIFO where generate wrote a file: --check reports it stale (never opens it), and
    // generate replaces it.
    let out = run_bounded(d, &["generate"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let pip = d.join("dockerfiles/5.0.6/base/pip.conf");
    std::fs::remove_file(&pip).unwrap();
    assert!(mkfifo(&pip));
    let out = run_bounded(d, &["generate", "--check"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let out = run_bounded(d, &["generate"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(std::fs::metadata(&pip).unwrap().is_file());
    let out = run_bounded(d, &["generate", "--check"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// A resolver or builder whose `--version` fails, or prints nothing, is refused: a lock header
/// must not say "Resolved by  for", and a build must not start on a builder that cannot run.
#[test]
fn a_tool_whose_version_fails_is_refused() {
    use runtime_kit::build::{Builder, BuilderKind};
    use runtime_kit::lock::Resolver;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let silent = dir.path().join("silent");
    std::fs::write(&silent, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&silent, std::fs::Permissions::from_mode(0o755)).unwrap();
    for program in ["/bin/false", silent.to_str().unwrap()] {
        let err = Resolver::new(program).version().unwrap_err().to_string();
        assert!(err.contains(program), "{err}");
        assert!(err.contains("--version"), "{err}");
        let err = Builder::new(BuilderKind::Buildah)
            .program(program)
            .version()
            .unwrap_err()
            .to_string();
        assert!(err.contains(program), "{err}");
        assert!(err.contains("--version"), "{err}");
    }
    let err = Resolver::new("/bin/false")
        .version()
        .unwrap_err()
        .to_string();
    assert!(err.contains("exited with"), "{err}");
}

/// scripts/setup-system.sh, with another process holding apt's lock: it says it waits and for
/// whom, and gives up after its bound naming the holder, instead of failing at once.
#[test]
fn setup_waits_for_a_held_apt_lock_with_a_bound() {
    let lock = Path::new("/var/lib/apt/lists/lock");
    let root = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(lock)
        .is_ok();
    if !root || Command::new("python3").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("RUNTIME_KIT_REQUIRE_TOOLS").is_none(),
            "this test needs root (it holds apt's lock) and python3"
        );
        eprintln!("skipped: needs root and python3");
        return;
    }
    // An fcntl lock, as apt takes it, held for longer than the script waits.
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import fcntl,sys,time\nf=open(sys.argv[1],'a')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(30)",
            lock.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    let started = Instant::now();
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup-system.sh"))
        .env("SETUP_APT_WAIT", "3")
        .env("SETUP_SYSTEM_PACKAGES", "runtime-kit-no-such-package")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let who = format!("{} (python3) on {}", holder.id(), lock.display());
    assert!(
        stderr.contains(&format!("waiting for the apt/dpkg locks, held by: {who}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "gave up after 3s waiting for the apt/dpkg locks, held by: {who}"
        )),
        "{stderr}"
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}
