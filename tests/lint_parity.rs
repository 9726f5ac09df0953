//! Version parity: a Dockerfile in the generator's shape must agree with the release matrix, and a
//! hand edit (a pin, a label, a missing or extra package, ONBUILD in the wrong variant) is caught.
//! Fixtures: `tests/lint-data/dockerfiles/` (generated shape) and `tests/lint-data/matrix.toml`.

mod common;

use std::path::{Path, PathBuf};

use common::{root, run_in};

fn matrix() -> String {
    root()
        .join("tests/lint-data/matrix.toml")
        .to_string_lossy()
        .into_owned()
}

/// Copies fixture `rel` (under `tests/lint-data/`) to `dir/rel` with `edits` applied.
fn fixture(dir: &Path, rel: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("tests/lint-data").join(rel)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{rel} has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn rule_ids(stdout: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

const BASE: &str = "dockerfiles/5.0.6/base/Dockerfile";
const ONBUILD: &str = "dockerfiles/5.0.6/onbuild/Dockerfile";
const SLIM: &str = "dockerfiles/11.2.0/python-3.10-slim-base/Dockerfile";

#[test]
fn hand_edits_are_caught() {
    // (what, fixture, edits, the rules that must fire)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        ("generated base", BASE, &[], &[]),
        ("generated onbuild", ONBUILD, &[], &[]),
        ("generated slim python variant", SLIM, &[], &[]),
        (
            "hand-edited provider pin",
            BASE,
            &[("amazon==4.0.0", "amazon==4.0.1")],
            &["RK213"],
        ),
        (
            "hand-edited airflow pin",
            BASE,
            &[("apache-airflow==2.3.3", "apache-airflow==2.3.4")],
            &["RK212"],
        ),
        (
            "airflow pin removed",
            BASE,
            &[("apache-airflow==2.3.3 \\\n        ", "")],
            &["RK212"],
        ),
        (
            "pin loosened",
            BASE,
            &[("astronomer-providers==1.7.1", "astronomer-providers>=1.7")],
            &["RK213"],
        ),
        (
            "equal under PEP 440",
            BASE,
            &[("amazon==4.0.0", "amazon==4.0")],
            &[],
        ),
        (
            "name spelled differently",
            BASE,
            &[("astronomer-providers==", "Astronomer_Providers==")],
            &[],
        ),
        (
            "airflow label edited",
            BASE,
            &[("airflow.version=\"2.3.3\"", "airflow.version=\"2.3.4\"")],
            &["RK211"],
        ),
        (
            "airflow label removed",
            BASE,
            &[(
                "      io.astronomer.docker.airflow.version=\"2.3.3\" \\\n",
                "",
            )],
            &["RK211"],
        ),
        (
            "package added by hand",
            BASE,
            &[(
                "astronomer-providers==1.7.1",
                "astronomer-providers==1.7.1 \\\n        apache-airflow-providers-http==3.0.0",
            )],
            &["RK215"],
        ),
        (
            "package removed by hand",
            BASE,
            &[(" \\\n        astronomer-providers==1.7.1", "")],
            &["RK214"],
        ),
        (
            "release not in the matrix",
            BASE,
            &[("runtime.version=\"5.0.6\"", "runtime.version=\"5.0.99\"")],
            &["RK210"],
        ),
        (
            "label disagrees with the path",
            BASE,
            &[("runtime.version=\"5.0.6\"", "runtime.version=\"11.2.0\"")],
            &["RK210"],
        ),
        (
            "image-tag env disagrees with the path",
            BASE,
            &[("IMAGE_TAG=5.0.6-base", "IMAGE_TAG=5.0.6")],
            &["RK210"],
        ),
        (
            "ONBUILD in a base image",
            BASE,
            &[("USER 50000\n", "ONBUILD RUN echo hi\nUSER 50000\n")],
            &["RK201"],
        ),
        (
            "onbuild image on another release's base",
            ONBUILD,
            &[(":5.0.6-base", ":5.0.5-base")],
            &["RK203"],
        ),
        (
            "onbuild image on a python variant's base",
            ONBUILD,
            &[(":5.0.6-base", ":5.0.6-python-3.10-base")],
            &["RK203"],
        ),
        (
            "slim image installs a standard-only package",
            SLIM,
            &[(
                "celery==3.7.2",
                "celery==3.7.2 \\\n        astronomer-providers==1.19.1",
            )],
            &["RK215"],
        ),
        (
            "slim image with the wrong celery",
            SLIM,
            &[("celery==3.7.2", "celery==3.7.3")],
            &["RK213"],
        ),
        (
            "base image of another Python",
            SLIM,
            &[("python:3.10-slim-bullseye", "python:3.12-slim-bullseye")],
            &["RK216"],
        ),
        (
            "base image of another Debian release",
            BASE,
            &[("python:3.9-slim-bullseye", "python:3.9-slim-bookworm")],
            &["RK216"],
        ),
        (
            "onbuild image on a base from another repository",
            ONBUILD,
            &[(
                "quay.io/astronomer/astro-runtime:5.0.6-base",
                "docker.io/evil/whatever:5.0.6-base",
            )],
            &["RK216"],
        ),
        (
            "image version label edited",
            BASE,
            &[("image.version=\"5.0.6\"", "image.version=\"4.0.0\"")],
            &["RK217"],
        ),
        (
            "runtime version env edited",
            BASE,
            &[("RUNTIME_VERSION=5.0.6", "RUNTIME_VERSION=5.0.1")],
            &["RK217"],
        ),
        (
            "variant label of the onbuild image says base",
            ONBUILD,
            &[("variant=\"onbuild\"", "variant=\"base-ish\"")],
            &["RK217"],
        ),
        (
            "airflow installed without the lock",
            BASE,
            &[(" --constraint /usr/local/share/runtime/constraints.txt", "")],
            &["RK218"],
        ),
        (
            "onbuild image without the requirements steps",
            ONBUILD,
            &[
                ("ONBUILD COPY requirements.txt .\n", ""),
                (
                    "ONBUILD RUN pip install --no-cache-dir -r requirements.txt\n",
                    "",
                ),
            ],
            &["RK202"],
        ),
        (
            "onbuild image whose triggers end as root",
            ONBUILD,
            &[("ONBUILD USER 50000\n", "")],
            &["RK202"],
        ),
    ];
    for (what, rel, edits, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = fixture(dir.path(), rel, edits);
        let out = run_in(
            dir.path(),
            &[
                "lint",
                "--matrix",
                &matrix(),
                "--format",
                "json",
                path.to_str().unwrap(),
            ],
        );
        let mut got = rule_ids(&out.stdout);
        got.sort();
        assert_eq!(got, *want, "{what}: {}", out.stdout);
        assert_eq!(
            out.code,
            if want.is_empty() { 0 } else { 1 },
            "{what}: {}",
            out.transcript()
        );
    }
}

#[test]
fn onbuild_image_without_any_onbuild_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/lint-data").join(ONBUILD)).unwrap();
    let stripped: String = text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("ONBUILD") && !l.starts_with("            "))
        .collect();
    let path = dir.path().join(ONBUILD);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, stripped).unwrap();
    let out = run_in(
        dir.path(),
        &["lint", "--matrix", &matrix(), "--format", "json", ONBUILD],
    );
    assert_eq!(rule_ids(&out.stdout), ["RK202"], "{}", out.stdout);
}

#[test]
fn variant_the_release_does_not_publish() {
    let dir = tempfile::tempdir().unwrap();
    // 5.0.6 publishes no slim image.
    let text = std::fs::read_to_string(root().join("tests/lint-data").join(BASE)).unwrap();
    let rel = "dockerfiles/5.0.6/slim-base/Dockerfile";
    let path = dir.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        text.replace("IMAGE_TAG=5.0.6-base", "IMAGE_TAG=5.0.6-slim-base"),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["lint", "--matrix", &matrix(), "--format", "json", rel],
    );
    assert_eq!(rule_ids(&out.stdout), ["RK210"], "{}", out.stdout);
}

#[test]
fn hand_edited_pin_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), BASE, &[("amazon==4.0.0", "amazon==4.0.1")]);
    let out = run_in(dir.path(), &["lint", "--matrix", &matrix(), BASE]);
    let text = out
        .transcript()
        .replace(&matrix(), "tests/lint-data/matrix.toml");
    snap!("lint_parity_hand_edited_pin", text);
}

#[test]
fn without_a_matrix_parity_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), BASE, &[("amazon==4.0.0", "amazon==4.0.1")]);
    let out = run_in(dir.path(), &["lint", BASE]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stderr.contains(
            "without a release matrix: the version-parity rules (RK202's step checks, RK210-RK218) did not run"
        ),
        "{}",
        out.stderr
    );
    let out = run_in(dir.path(), &["lint", "--matrix", "missing.toml", BASE]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("missing.toml"), "{}", out.stderr);
}

/// The committed generated tree is clean against the shipped matrix (the "done when").
#[test]
fn generated_tree_is_clean() {
    let tree = root().join("dockerfiles");
    if !tree.is_dir() {
        eprintln!("skipped: no generated dockerfiles/ tree yet");
        return;
    }
    let out = common::run(&["lint", "dockerfiles", "--format", "json"]);
    let ids = rule_ids(&out.stdout);
    assert!(ids.is_empty() && out.code == 0, "{}", out.transcript());
    assert!(out.stdout.contains("\"files\""), "{}", out.stdout);
}
