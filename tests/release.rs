//! The release workflow: cut, yank, notes and the feed, on copies of the shipped matrix.

mod common;

use std::path::{Path, PathBuf};

use runtime_kit::matrix::Matrix;
use runtime_kit::release::{feed, notes};

/// A scratch repository root holding a copy of the shipped matrix.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("runtime-matrix.toml");
    std::fs::copy(common::shipped_matrix(), &matrix).unwrap();
    (dir, matrix)
}

fn run_in(dir: &Path, args: &[&str]) -> common::Run {
    common::run_in(dir, args)
}

/// The only difference between two texts: lines inserted at one place.
fn inserted(before: &str, after: &str) -> (usize, Vec<String>) {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    assert_eq!(
        prefix + suffix,
        a.len(),
        "lines of the original changed or went missing"
    );
    (
        prefix + 1,
        b[prefix..b.len() - suffix]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
}

#[test]
fn notes_on_real_pairs() {
    for (a, b) in [
        ("5.0.5", "5.0.6"),
        ("7.6.0", "8.0.0"),
        ("3.0.4", "4.0.0"),
        ("11.7.0", "11.8.0"),
        // Across the eras: another registry, Debian, Python and provider set.
        ("13.11.0", "3.3-2"),
        // Within a line; the package sets are known on both sides.
        ("3.1-11", "3.1-12"),
    ] {
        let out = common::run(&["notes", a, b, "--on", "2024-06-01"]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        snap!(format!("notes_{a}_{b}"), out.stdout);
    }
    let json = common::run(&[
        "notes",
        "7.6.0",
        "8.0.0",
        "--on",
        "2024-06-01",
        "--format",
        "json",
    ]);
    snap!("notes_7.6.0_8.0.0_json", json.stdout);
}

#[test]
fn notes_order_packages_by_pep440() {
    let m = Matrix::load(common::shipped_matrix()).unwrap();
    let day = "2024-01-01".parse().unwrap();
    // 3.0.4 pins 1!2.0.0 epoch builds; 4.0.0's 2.x pins are lower in PEP 440 order.
    let n = notes::notes(
        &m,
        &"3.0.4".parse().unwrap(),
        &"4.0.0".parse().unwrap(),
        day,
    )
    .unwrap();
    assert!(
        n.downgraded.iter().any(|p| p.from.to_string() == "1!2.0.0"),
        "{:?}",
        n.downgraded
    );
    assert!(n.upgraded.iter().all(|p| p.to > p.from));
    let n = notes::notes(
        &m,
        &"7.6.0".parse().unwrap(),
        &"8.0.0".parse().unwrap(),
        day,
    )
    .unwrap();
    assert!(!n.removed.is_empty(), "providers were dropped in 8.0.0");
    assert_eq!(n.yanked.len(), 1, "8.0.0 was yanked");
    let err = notes::notes(
        &m,
        &"5.0.99".parse().unwrap(),
        &"8.0.0".parse().unwrap(),
        day,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "5.0.99 is not a release in the matrix");
}

#[test]
fn feed_is_deterministic_and_matches_its_schema() {
    let a = common::run(&["feed"]);
    let b = common::run(&["feed"]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
    let value: serde_json::Value = serde_json::from_str(&a.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("docs/feed.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A broken document fails the schema: the test can fail.
    let mut broken = value.clone();
    broken["runtimeVersions"]["5.0.6"]["metadata"]["releaseDate"] = serde_json::json!("July 2022");
    assert!(!validator.is_valid(&broken));

    let m = Matrix::load(common::shipped_matrix()).unwrap();
    let f = feed::feed(&m);
    assert_eq!(
        f.runtime_versions.len() + f.runtime_versions_v3.len(),
        m.releases().len()
    );
    let count = |key: &str| value[key].as_object().unwrap().len();
    assert_eq!(count("runtimeVersions"), f.runtime_versions.len());
    assert_eq!(count("runtimeVersionsV3"), f.runtime_versions_v3.len());
    assert!(
        count("runtimeVersionsV3") >= 34,
        "the Airflow 3 builds are in runtimeVersionsV3"
    );
    assert!(value["runtimeVersions"].get("3.1-12").is_none());
    assert!(value["runtimeVersionsV3"].get("13.11.0").is_none());
    let entry = &value["runtimeVersions"]["8.0.0"]["metadata"];
    assert_eq!(entry["yanked"], true);
    assert_eq!(entry["airflowVersion"], "2.6.0");
    // migrations.airflowDatabase: an Airflow release in between added a migration. The first
    // two agree with Astronomer's own feed (astro-cli's test data).
    for (version, migrates) in [
        ("9.1.0", false), // 2.7.0 -> 2.7.1
        ("11.0.0", true), // 2.8.4 -> 2.9.0
        ("4.2.4", false), // 2.2.4 -> 2.2.5
        ("5.0.6", true),  // 2.3.2 -> 2.3.3
        ("5.0.7", false), // 2.3.3 -> 2.3.3
        ("3.0.0", true),  // the first release
    ] {
        assert_eq!(
            value["runtimeVersions"][version]["migrations"]["airflowDatabase"], migrates,
            "{version}"
        );
    }
    // A release whose Airflow version or date the record lacks says null, never a guess.
    let partial = &value["runtimeVersionsV3"]["3.0-1"];
    assert_eq!(
        partial["metadata"]["airflowVersion"],
        serde_json::Value::Null
    );
    assert_eq!(partial["metadata"]["releaseDate"], serde_json::Value::Null);
    assert_eq!(
        partial["migrations"]["airflowDatabase"],
        serde_json::Value::Null
    );
    snap!(
        "feed_11.8.0",
        serde_json::to_string_pretty(&value["runtimeVersions"]["11.8.0"]).unwrap()
    );
}

/// Every entry of Astronomer's own feed as astro-cli's test data holds it (cut from
/// https://updates.astronomer.io/astronomer-runtime on 2026-09-25; its three synthetic entries
/// left out), field by field, against the feed runtime-kit writes from the matrix: the dates,
/// Pythons and migrations it derives must be the ones Astronomer publishes.
#[test]
fn feed_agrees_with_astronomers_feed() {
    let out = common::run(&["feed"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
        bool,
        Option<bool>,
    );
    // version, airflow, release date, yanked reason, end of maintenance/support, end of basic
    // support (Airflow 3 only), LTS, migrations.airflowDatabase (None: its predecessor's Airflow
    // version is not in the record, so runtime-kit says null).
    let v2: &[Row] = &[
        (
            "9.1.0",
            "2.7.1",
            "2023-09-07",
            Some("This version has issues with CeleryExecutor workers not terminating properly."),
            "2025-01-31",
            None,
            true,
            Some(false),
        ),
        (
            "11.0.0",
            "2.9.0",
            "2024-04-08",
            Some("This version has db migration issues when you have running triggers."),
            "2025-10-31",
            None,
            true,
            Some(true),
        ),
        (
            "12.12.0",
            "2.10.5",
            "2026-03-09",
            None,
            "2026-02-28",
            None,
            true,
            None,
        ),
        (
            "13.5.0",
            "2.11.1",
            "2026-02-23",
            Some(
                "Webserver throwing 500s for existing user sessions when upgrading from previous versions",
            ),
            "2027-04-30",
            None,
            true,
            None,
        ),
        (
            "13.10.0",
            "2.11.2",
            "2026-08-22",
            None,
            "2027-04-30",
            None,
            true,
            None,
        ),
        (
            "13.11.0",
            "2.11.2",
            "2026-09-17",
            None,
            "2027-04-30",
            None,
            true,
            Some(false),
        ),
    ];
    let v3: &[Row] = &[
        (
            "3.0-17",
            "3.0.6",
            "2026-08-26",
            None,
            "2027-04-30",
            Some("2027-10-30"),
            false,
            None,
        ),
        (
            "3.0-18",
            "3.0.6",
            "2026-09-15",
            None,
            "2027-04-30",
            Some("2027-10-30"),
            false,
            Some(false),
        ),
        (
            "3.1-8",
            "3.1.4",
            "2025-12-10",
            Some(
                "This version is based on Airflow 3.1.4, which has been yanked by Apache Airflow.",
            ),
            "2027-09-30",
            Some("2028-03-30"),
            false,
            None,
        ),
        (
            "3.1-21",
            "3.1.8",
            "2026-09-10",
            None,
            "2027-09-30",
            Some("2028-03-30"),
            false,
            None,
        ),
        (
            "3.2-1",
            "3.2.0",
            "2026-04-14",
            Some("This version has issues with environment manager connections not being found."),
            "2028-04-30",
            Some("2028-10-30"),
            false,
            Some(true),
        ),
        (
            "3.2-2",
            "3.2.0",
            "2026-04-16",
            None,
            "2028-04-30",
            Some("2028-10-30"),
            false,
            Some(false),
        ),
        (
            "3.2-10",
            "3.2.2",
            "2026-09-24",
            None,
            "2028-04-30",
            Some("2028-10-30"),
            false,
            None,
        ),
        (
            "3.3-1",
            "3.3.0",
            "2026-07-09",
            None,
            "2028-07-31",
            Some("2029-01-31"),
            false,
            Some(true),
        ),
        (
            "3.3-2",
            "3.3.0",
            "2026-07-09",
            None,
            "2028-07-31",
            Some("2029-01-31"),
            false,
            Some(false),
        ),
        (
            "3.3-8",
            "3.3.2",
            "2026-09-23",
            None,
            "2028-07-31",
            Some("2029-01-31"),
            false,
            Some(false),
        ),
    ];
    let pythons = |line: &str| -> (&str, Vec<&str>) {
        match line {
            "3.0" | "3.1" => ("3.12", vec!["3.11", "3.12"]),
            "3.2" => ("3.13", vec!["3.12", "3.13", "3.14"]),
            _ => ("3.14", vec!["3.12", "3.13", "3.14"]),
        }
    };
    for (key, rows) in [("runtimeVersions", v2), ("runtimeVersionsV3", v3)] {
        for (v, airflow, date, reason, eom, eobs, lts, migrates) in rows {
            let e = &value[key][v];
            let m = &e["metadata"];
            assert_eq!(m["airflowVersion"], *airflow, "{v}");
            assert_eq!(m["releaseDate"], *date, "{v}");
            assert_eq!(m["yanked"], reason.is_some(), "{v}");
            assert_eq!(m["yankedReason"].as_str(), *reason, "{v}");
            assert_eq!(m["endOfSupport"], *eom, "{v}");
            assert_eq!(m["LTS"], *lts, "{v}");
            assert_eq!(m["channel"], "stable", "{v}");
            assert_eq!(
                e["migrations"]["airflowDatabase"].as_bool(),
                *migrates,
                "{v}"
            );
            if key == "runtimeVersionsV3" {
                assert_eq!(m["endOfMaintenance"], *eom, "{v}");
                assert_eq!(m["endOfBasicSupport"].as_str(), *eobs, "{v}");
                let (default, all) = pythons(&v[..3]);
                assert_eq!(m["defaultPythonVersion"], default, "{v}");
                assert_eq!(m["pythonVersions"], serde_json::json!(all), "{v}");
            }
        }
    }
}

#[test]
fn cut_dry_run_writes_nothing() {
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "3.3.3",
            "--date",
            "2026-12-02",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), before);
    assert!(!dir.path().join("dockerfiles").exists() && !dir.path().join("locks").exists());
    // The next build of the 3.3 line, with the line's package set (not Airflow-2 content).
    assert!(
        out.stdout.starts_with("3.3-9 (from 3.3-8, patch bump)\n  rule: build: Airflow 3.3.2 -> 3.3.3 stays on line 3.3"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("packages: carried from 3.3-2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("+\"apache-airflow-providers-standard\" = \"1.15.0\""),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("+\"apache-airflow-providers-amazon\""));
    assert!(!out.stdout.contains("+python = "), "{}", out.stdout);
}

#[test]
fn cut_appends_a_release_and_changes_nothing_else() {
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "3.3.3",
            "--package",
            "apache-airflow-providers-standard==1.15.1",
            "--date",
            "2026-12-02",
            "--no-lock",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let after = std::fs::read_to_string(&matrix).unwrap();
    let (line, added) = inserted(&before, &after);
    assert_eq!(line, before.lines().count() + 1);
    snap!("cut_3.3-9_added_lines", added.join("\n"));
    let m = Matrix::load(&matrix).unwrap();
    let r = m.release(&"3.3-9".parse().unwrap()).unwrap();
    assert_eq!(r.airflow.as_ref().unwrap().to_string(), "3.3.3");
    assert_eq!(
        r.packages
            .get(&"apache-airflow-providers-standard".parse().unwrap())
            .unwrap()
            .to_string(),
        "1.15.1"
    );
    // The line's Python, images, Debian and registry.
    assert_eq!(r.python.to_string(), "3.14");
    assert_eq!(r.debian.to_string(), "bookworm");
    assert_eq!(r.repository, "astrocrpublic.azurecr.io/runtime");
    // Its build contexts were generated, and the tree is current.
    assert!(
        dir.path()
            .join("dockerfiles/3.3-9/base/Dockerfile")
            .is_file()
    );
    assert!(
        dir.path()
            .join("dockerfiles/3.3-9/python-3.12/Dockerfile")
            .is_file()
    );
    let check = run_in(dir.path(), &["generate", "--check"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
}

#[test]
fn cut_of_an_older_series_goes_in_version_order() {
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "2.8.5",
            "--from",
            "10.9.0",
            "--date",
            "2024-09-01",
            "--no-lock",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let after = std::fs::read_to_string(&matrix).unwrap();
    let (line, added) = inserted(&before, &after);
    let text_before_insert: Vec<&str> = after.lines().take(line - 1).collect();
    assert!(
        text_before_insert
            .iter()
            .any(|l| l.contains("version = \"10.9.0\""))
    );
    assert!(
        !text_before_insert
            .iter()
            .any(|l| l.contains("version = \"11.0.0\""))
    );
    assert!(
        added.iter().any(|l| l == "version = \"10.10.0\""),
        "{added:?}"
    );
    Matrix::load(&matrix).unwrap();
}

/// A cut that needs a new Airflow line starts it: the `[series."X.Y"]` table (channel, Python,
/// and what the line before gives its releases) goes after the last series table, the release
/// after the last release, its lifecycle is the policy's until published dates are recorded,
/// and nothing else in the file changes.
#[test]
fn cut_starts_a_new_line() {
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let args = [
        "cut",
        "--airflow",
        "3.4.0",
        "--date",
        "2026-12-02",
        "--no-lock",
    ];
    let out = run_in(dir.path(), &args);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.starts_with("3.4-1 (from 3.3-8, major bump)\n  rule: line: Airflow 3.3.2 -> 3.4.0 is a new Airflow minor version, which opens line 3.4 at build 1"),
        "{}",
        out.stdout
    );
    let after = std::fs::read_to_string(&matrix).unwrap();
    // Only insertions: every original line is there, in order.
    let mut lines = after.lines();
    for line in before.lines() {
        assert!(lines.any(|l| l == line), "{line:?} changed or went missing");
    }
    let m = Matrix::load(&matrix).unwrap();
    let series = m.series().find(|s| s.key.to_string() == "3.4").unwrap();
    assert_eq!(series.channel, runtime_kit::matrix::Channel::Stable);
    assert_eq!(series.python.unwrap().to_string(), "3.14");
    assert_eq!(
        series.repository.as_deref(),
        Some("astrocrpublic.azurecr.io/runtime")
    );
    let r = m.release(&"3.4-1".parse().unwrap()).unwrap();
    let variants: Vec<String> = r.python_variants.iter().map(|p| p.to_string()).collect();
    assert_eq!(variants, ["3.12", "3.13"]);
    let series_at = after.find("[series.\"3.4\"]").unwrap();
    assert!(series_at > after.find("[series.\"3.3\"]").unwrap());
    assert!(series_at < after.find("[[release]]").unwrap());
    let l = runtime_kit::policy::lifecycle::of_release(&m, &r.version).unwrap();
    assert_eq!(l.end_of_maintenance.to_string(), "2028-12-31");
    assert_eq!(l.end_of_basic_support.unwrap().to_string(), "2029-06-30");

    // A channel for a series that exists is refused, and changes nothing.
    let again = run_in(
        dir.path(),
        &["cut", "--airflow", "3.4.1", "--channel", "lts", "--no-lock"],
    );
    assert_eq!(again.code, 2, "{}", again.transcript());
    assert!(again.stderr.contains("already stable"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), after);
}

/// A new Airflow minor on the semantic scheme starts a major: `[series.N]` with the channel
/// given, the base's images; a series whose package sets are not in the record needs the new
/// release's pins.
#[test]
fn cut_starts_a_new_major() {
    let (dir, matrix) = scratch();
    let base = [
        "cut",
        "--from",
        "13.11.0",
        "--airflow",
        "2.12.0",
        "--channel",
        "lts",
        "--date",
        "2026-12-02",
        "--no-lock",
    ];
    let refused = run_in(dir.path(), &base);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(
        refused
            .stderr
            .contains("package set of 13.11.0 is not in the public record")
            && refused.stderr.contains("--new-package"),
        "{}",
        refused.stderr
    );
    let mut args = base.to_vec();
    args.extend(["--new-package", "apache-airflow-providers-celery==3.13.0"]);
    let out = run_in(dir.path(), &args);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.starts_with("14.0.0 (from 13.11.0, major bump)"),
        "{}",
        out.stdout
    );
    let m = Matrix::load(&matrix).unwrap();
    let series = m.series().find(|s| s.key.to_string() == "14").unwrap();
    assert_eq!(series.channel, runtime_kit::matrix::Channel::Lts);
    assert_eq!(series.debian.unwrap().to_string(), "bookworm");
    let r = m.release(&"14.0.0".parse().unwrap()).unwrap();
    assert!(r.slim && r.packages.len() == 1, "{r:?}");
    assert_eq!(r.repository, "quay.io/astronomer/astro-runtime");
}

/// A 13.x release after 13.11.0 (whose package set the record lacks): the next minor by policy
/// for a new Airflow patch, in series 13's images (Python 3.12 and its variants, slim, bookworm,
/// quay.io), with the pins given.
#[test]
fn cut_continues_series_13() {
    let (dir, matrix) = scratch();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "2.11.3",
            "--new-package",
            "apache-airflow-providers-celery==3.13.0",
            "--date",
            "2026-12-02",
            "--no-lock",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.starts_with("13.12.0 (from 13.11.0, minor bump)"),
        "{}",
        out.stdout
    );
    let m = Matrix::load(&matrix).unwrap();
    let r = m.release(&"13.12.0".parse().unwrap()).unwrap();
    let variants: Vec<String> = r.python_variants.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        (r.python.to_string(), variants, r.slim, r.debian.to_string()),
        (
            "3.12".to_string(),
            vec!["3.10".to_string(), "3.11".to_string()],
            true,
            "bookworm".to_string()
        )
    );
    assert!(
        dir.path()
            .join("dockerfiles/13.12.0/python-3.11-slim-base/Dockerfile")
            .is_file()
    );
    let base =
        std::fs::read_to_string(dir.path().join("dockerfiles/13.12.0/base/Dockerfile")).unwrap();
    assert!(
        base.contains("ARG BASE_IMAGE=python:3.12-slim-bookworm"),
        "{base}"
    );
    let onbuild =
        std::fs::read_to_string(dir.path().join("dockerfiles/13.12.0/onbuild/Dockerfile")).unwrap();
    assert!(
        onbuild.contains("ARG BASE_IMAGE=quay.io/astronomer/astro-runtime:13.12.0-base"),
        "{onbuild}"
    );
}

/// A cut that fails half-way puts back what it wrote: the matrix, `locks/` and `dockerfiles/`
/// are as they were.
#[test]
fn a_failed_cut_changes_nothing() {
    // The build contexts cannot be written (a file where the new release's directory goes).
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    std::fs::create_dir_all(dir.path().join("dockerfiles")).unwrap();
    std::fs::write(dir.path().join("dockerfiles/3.3-9"), "in the way").unwrap();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "3.3.3",
            "--date",
            "2026-12-02",
            "--no-lock",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("3.3-9"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), before);
    assert!(!dir.path().join("locks").exists());

    // The matrix cannot be written, after the locks and the tree were: both are put back.
    use runtime_kit::release::cut;
    use runtime_kit::render::{self, Templates};
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("blocker"), "a file, not a directory").unwrap();
    let unwritable = root.path().join("blocker/runtime-matrix.toml");
    let old = Matrix::from_str_named(&before, &unwritable).unwrap();
    let templates = Templates::load(None).unwrap();
    let out_dir = root.path().join(render::OUT_DIR);
    render::render_all(&templates, &old, root.path())
        .unwrap()
        .write(&out_dir)
        .unwrap();
    let tree_before = contents_under(&out_dir);
    let request = cut::CutRequest {
        airflow: "3.3.3".parse().unwrap(),
        packages: vec![],
        new_packages: vec![],
        python: None,
        breaking: false,
        date: "2026-12-02".parse().unwrap(),
        from: None,
        channel: None,
    };
    let new = cut::cut(&old, &request).unwrap();
    let lock = root.path().join("locks/3.3-9/python-3.14.txt");
    let pins =
        runtime_kit::lock::LockPlan::new(&new.matrix, new.release(), "3.14".parse().unwrap())
            .expect("a cut release can be locked")
            .requirements()
            .join("\n");
    let err = cut::write(&new, &old, &templates, root.path(), &[(lock.clone(), pins)]).unwrap_err();
    assert!(err.to_string().contains("runtime-matrix.toml"), "{err}");
    assert!(!lock.exists(), "the new lock was left behind");
    assert!(!root.path().join("locks/3.3-9").exists());
    assert_eq!(
        contents_under(&out_dir),
        tree_before,
        "the tree was not put back"
    );
}

/// A cut whose matrix write fails, and whose undo fails too, says so and names what is left,
/// rather than claiming all was restored; with the undo working, everything is put back.
#[test]
fn a_failed_undo_of_a_cut_is_reported_with_what_is_left() {
    use runtime_kit::release::cut::{self, CutStep};
    use runtime_kit::render::{self, Templates};
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let old = Matrix::load(&matrix).unwrap();
    let templates = Templates::load(None).unwrap();
    let out_dir = dir.path().join(render::OUT_DIR);
    render::render_all(&templates, &old, dir.path())
        .unwrap()
        .write(&out_dir)
        .unwrap();
    let tree_before = contents_under(&out_dir);
    let request = cut::CutRequest {
        airflow: "3.3.3".parse().unwrap(),
        packages: vec![],
        new_packages: vec![],
        python: None,
        breaking: false,
        date: "2026-12-02".parse().unwrap(),
        from: None,
        channel: None,
    };
    let new = cut::cut(&old, &request).unwrap();
    let lock = dir.path().join("locks/3.3-9/python-3.14.txt");
    let pins =
        runtime_kit::lock::LockPlan::new(&new.matrix, new.release(), "3.14".parse().unwrap())
            .unwrap()
            .requirements()
            .join("\n");
    let locks = [(lock.clone(), pins)];
    let injected = |fail: &'static [CutStep]| {
        move |step: CutStep, _: &Path| {
            if fail.contains(&step) {
                Err(std::io::Error::other(format!("{step:?} failed (injected)")))
            } else {
                Ok(())
            }
        }
    };

    // The matrix write fails; the undo works: nothing is left.
    let err = cut::write_with(
        &new,
        &old,
        &templates,
        dir.path(),
        &locks,
        &mut injected(&[CutStep::WriteMatrix]),
    )
    .unwrap_err();
    assert!(matches!(err, cut::WriteError::Matrix { .. }), "{err}");
    assert!(!lock.exists());
    assert_eq!(contents_under(&out_dir), tree_before);
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), before);

    // The matrix write fails, and so do both undo steps: the error says the cut is half done
    // and names the lock and the tree it could not put back, which are indeed left.
    let err = cut::write_with(
        &new,
        &old,
        &templates,
        dir.path(),
        &locks,
        &mut injected(&[CutStep::WriteMatrix, CutStep::UndoLock, CutStep::UndoTree]),
    )
    .unwrap_err();
    let text = err.to_string();
    let cut::WriteError::Undo { cause, left } = &err else {
        panic!("not an undo failure: {text}")
    };
    assert!(matches!(**cause, cut::WriteError::Matrix { .. }), "{text}");
    assert_eq!(left.len(), 2, "{text}");
    assert!(text.contains("half done"), "{text}");
    assert!(text.contains("locks/3.3-9/python-3.14.txt"), "{text}");
    assert!(text.contains("runtime-kit generate"), "{text}");
    assert!(lock.exists(), "the error says the lock is left");
    assert_ne!(
        contents_under(&out_dir),
        tree_before,
        "the error says the tree is left"
    );
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), before);
    // And what is left is what validate and generate --check name.
    let validate = run_in(dir.path(), &["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.transcript());
    assert!(validate.stderr.contains("3.3-9"), "{}", validate.stderr);
}

/// What a `cut` killed after writing its lock but before the matrix leaves: a lock directory
/// of a release the matrix does not hold. `validate` fails naming it (exit 1, table and JSON),
/// `generate --check` fails naming it, `generate` warns.
#[test]
fn an_orphan_lock_directory_is_named() {
    let (dir, _) = scratch();
    let orphan = dir.path().join("locks/3.3-9");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("python-3.12.txt"), "apache-airflow==3.3.3\n").unwrap();
    let stray = dir.path().join("locks/3.3-8");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join(".python-3.12.txt.tmp-77-1"), "half").unwrap();

    let table = run_in(dir.path(), &["validate"]);
    assert_eq!(table.code, 1, "{}", table.transcript());
    assert!(
        table.stderr.contains("locks/3.3-9: no release 3.3-9"),
        "{}",
        table.stderr
    );
    assert!(
        table.stderr.contains(".python-3.12.txt.tmp-77-1"),
        "{}",
        table.stderr
    );
    let json = run_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(json.code, 1, "{}", json.transcript());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");

    let first = run_in(dir.path(), &["generate"]);
    assert_eq!(first.code, 0, "{}", first.transcript());
    assert!(first.stderr.contains("warning: "), "{}", first.stderr);
    assert!(first.stderr.contains("3.3-9"), "{}", first.stderr);
    let check = run_in(dir.path(), &["generate", "--check", "--format", "json"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    let v: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(v["orphanLocks"].as_array().unwrap().len(), 2, "{v}");

    std::fs::remove_dir_all(&orphan).unwrap();
    std::fs::remove_file(stray.join(".python-3.12.txt.tmp-77-1")).unwrap();
    let clean = run_in(dir.path(), &["validate"]);
    assert_eq!(clean.code, 0, "{}", clean.transcript());
}

/// Every file under `dir` and its contents (not its times: an undo may rewrite a file with the
/// same bytes).
fn contents_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    common::snapshot_dir(dir)
        .into_iter()
        .map(|(path, (bytes, _, _))| (path, bytes))
        .collect()
}

/// A matrix kept with CRLF line endings (and a BOM) keeps them through `cut` and `yank`: the new
/// lines are CRLF too, and no other line changes.
#[test]
fn cut_and_yank_keep_crlf_lines_and_bom() {
    let (dir, matrix) = scratch();
    let lf = std::fs::read_to_string(&matrix).unwrap();
    let before = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    std::fs::write(&matrix, &before).unwrap();
    let cut = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "3.3.3",
            "--date",
            "2026-12-02",
            "--no-lock",
        ],
    );
    assert_eq!(cut.code, 0, "{}", cut.transcript());
    let yank = run_in(
        dir.path(),
        &["yank", "11.7.0", "--reason", "Breaks task logs"],
    );
    assert_eq!(yank.code, 0, "{}", yank.transcript());
    let after = std::fs::read_to_string(&matrix).unwrap();
    assert!(after.starts_with('\u{feff}'), "the BOM went missing");
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "a line without CR: {:?}",
        after.lines().find(|l| !l.ends_with('\r'))
    );
    assert!(after.contains("version = \"3.3-9\"\r\n"));
    assert!(after.contains("yanked-reason = \"Breaks task logs\"\r\n"));
    // Every original line is still there, in order.
    let mut new_lines = after.split("\r\n");
    for line in before.split("\r\n") {
        assert!(
            new_lines.any(|l| l == line),
            "{line:?} changed or went missing"
        );
    }
}

#[test]
fn invalid_cuts_are_refused_and_change_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (&["--airflow", "3.3.1"], "older than 3.3-8's Airflow 3.3.2"),
        (
            &[
                "--airflow",
                "3.3.3",
                "--package",
                "apache-airflow-providers-standrd==1.15.1",
            ],
            "is not a package of 3.3-8",
        ),
        (
            &[
                "--airflow",
                "3.3.3",
                "--new-package",
                "apache-airflow-providers-standard==1.16.0",
            ],
            "is already a package of 3.3-8",
        ),
        (
            &[
                "--airflow",
                "3.3.3",
                "--package",
                "apache-airflow-providers-standard==1.15.x",
            ],
            "expected a pin like",
        ),
        (
            &[
                "--airflow",
                "3.3.3",
                "--package",
                "apache-airflow-providers-standard=1.15.1",
            ],
            "it has no \"==\"",
        ),
        (
            &["--airflow", "2.3.5", "--from", "4.2.9"],
            "series 5 already exists",
        ),
        (
            &["--airflow", "3.2.3", "--from", "3.1-21"],
            "series 3.2 already exists",
        ),
        (
            &["--airflow", "2.3.5", "--from", "5.0.7"],
            "not the newest release of series 5",
        ),
        (
            &["--airflow", "2.11.3"],
            "package set of 13.11.0 is not in the public record",
        ),
        (
            &["--airflow", "2.11.3", "--from", "3.3-8"],
            "Airflow 2.11.3 cannot continue 3.3-8",
        ),
        (
            &["--airflow", "3.4.0", "--from", "13.11.0"],
            "Airflow 3.4.0 cannot continue 13.11.0",
        ),
        (
            &["--airflow", "3.3.3", "--date", "2020-01-01"],
            "before 3.3-8's date",
        ),
        (
            &["--airflow", "3.3.2", "--package", "apache-airflow==3.3.3"],
            "give its version with --airflow",
        ),
    ];
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    for (args, why) in cases {
        let mut all = vec!["cut", "--no-lock"];
        all.extend_from_slice(args);
        let out = run_in(dir.path(), &all);
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(out.stderr.contains(why), "{args:?}: {}", out.stderr);
        assert_eq!(
            std::fs::read_to_string(&matrix).unwrap(),
            before,
            "{args:?} changed the matrix"
        );
    }
    assert!(!dir.path().join("dockerfiles").exists());
    // A matrix that fails validation is never edited.
    let broken = before.replace("version = \"5.0.6\"", "version = \"5.0.66\"");
    std::fs::write(&matrix, &broken).unwrap();
    let out = run_in(dir.path(), &["cut", "--no-lock", "--airflow", "3.3.3"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), broken);
}

#[test]
fn yank_marks_a_release_keeping_the_file() {
    let (dir, matrix) = scratch();
    let before = std::fs::read_to_string(&matrix).unwrap();
    let dry = run_in(
        dir.path(),
        &[
            "yank",
            "11.7.0",
            "--reason",
            "Breaks task logs",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.transcript());
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), before);
    let out = run_in(
        dir.path(),
        &["yank", "11.7.0", "--reason", "Breaks task logs"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let after = std::fs::read_to_string(&matrix).unwrap();
    let (_, added) = inserted(&before, &after);
    assert_eq!(
        added,
        ["yanked = true", "yanked-reason = \"Breaks task logs\""]
    );
    let m = Matrix::load(&matrix).unwrap();
    assert_eq!(
        m.release(&"11.7.0".parse().unwrap())
            .unwrap()
            .yanked
            .as_deref(),
        Some("Breaks task logs")
    );
    // An Airflow 3 build, and the alias of its line moves off it.
    let out = run_in(
        dir.path(),
        &["yank", "3.3-8", "--reason", "Breaks the dag processor"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let m = Matrix::load(&matrix).unwrap();
    assert!(m.release(&"3.3-8".parse().unwrap()).unwrap().is_yanked());
    let plan = runtime_kit::tags::TagPlan::new(&m).unwrap();
    assert_eq!(plan.alias("3.3").unwrap().target.to_string(), "3.3-2");
    let after = std::fs::read_to_string(&matrix).unwrap();
    let unknown = run_in(dir.path(), &["yank", "11.7.9", "--reason", "x"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("11.7.9"), "{}", unknown.stderr);
    let empty = run_in(dir.path(), &["yank", "11.6.0", "--reason", " "]);
    assert_eq!(empty.code, 2, "{}", empty.transcript());
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), after);

    // A yanked release keeps its reason unless --force replaces it.
    let again = run_in(
        dir.path(),
        &["yank", "11.7.0", "--reason", "Another reason"],
    );
    assert_eq!(again.code, 2, "{}", again.transcript());
    assert!(
        again.stderr.contains(
            "11.7.0 is yanked already, with the reason \"Breaks task logs\"; pass --force"
        ),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), after);
    let same = run_in(
        dir.path(),
        &["yank", "11.7.0", "--reason", "Breaks task logs"],
    );
    assert_eq!(same.code, 0, "{}", same.transcript());
    let forced = run_in(
        dir.path(),
        &["yank", "11.7.0", "--reason", "Another reason", "--force"],
    );
    assert_eq!(forced.code, 0, "{}", forced.transcript());
    let m = Matrix::load(&matrix).unwrap();
    assert_eq!(
        m.release(&"11.7.0".parse().unwrap())
            .unwrap()
            .yanked
            .as_deref(),
        Some("Another reason")
    );
}

/// Free text from the matrix (a yanked reason) comes out as text in each format notes write:
/// escaped in Markdown (no live HTML, link or emphasis), exact in JSON.
#[test]
fn notes_escape_free_text_for_their_format() {
    let (dir, _matrix) = scratch();
    let reason = r#"Breaks <script>alert("x")</script> and [docs](javascript:alert(1)) \ *now*"#;
    let out = run_in(dir.path(), &["yank", "11.7.0", "--reason", reason]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let md = run_in(
        dir.path(),
        &["notes", "11.6.0", "11.8.0", "--on", "2024-06-01"],
    );
    assert_eq!(md.code, 0, "{}", md.transcript());
    let line = md
        .stdout
        .lines()
        .find(|l| l.contains("11.7.0 was yanked"))
        .unwrap();
    assert!(
        !line.contains("<script>") && !line.contains("](javascript"),
        "{line}"
    );
    assert!(line.contains("\\<script\\>"), "{line}");
    assert!(line.contains("\\[docs\\]\\(javascript:"), "{line}");
    let json = run_in(
        dir.path(),
        &[
            "notes",
            "11.6.0",
            "11.8.0",
            "--on",
            "2024-06-01",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.code, 0, "{}", json.transcript());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["yanked"][0]["reason"], reason);
}

/// `lock` refuses a resolver's output that does not pin the release's versions, and writes no
/// lock; a typo in the arguments is reported before a missing resolver.
#[test]
fn lock_refuses_a_lock_without_the_release_pins() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = scratch();
    let uv = dir.path().join("fake-uv");
    std::fs::write(
        &uv,
        "#!/bin/sh\ncase \"$1\" in --version) echo 'uv 0.0.0 (fake)';; *) cat >/dev/null; echo 'apache-airflow==1.0.0';; esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&uv, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_in(dir.path(), &["lock", "5.0.6", "--uv", uv.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("apache-airflow==2.3.3 (the lock has 1.0.0)"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("locks/5.0.6/python-3.9.txt").exists());

    let typo = run_in(dir.path(), &["lock", "99.0.0", "--uv", "/no/such/uv"]);
    assert_eq!(typo.code, 2, "{}", typo.transcript());
    assert!(
        typo.stderr.contains("99.0.0 is not a release"),
        "{}",
        typo.stderr
    );
    let zero = run_in(dir.path(), &["lock", "5.0.6", "--jobs", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.transcript());
}

/// Two commands from "Airflow 2.9.4 is out" to a validated entry with a real lock, regenerated
/// build contexts and release notes.
#[test]
fn cut_resolves_a_real_lock() {
    let uv = common::root().join(".venv/bin/uv");
    if !uv.is_file() {
        assert!(
            std::env::var_os("RUNTIME_KIT_REQUIRE_TOOLS").is_none(),
            "uv is required"
        );
        eprintln!("SKIPPED: uv not installed (scripts/setup-venv.sh)");
        return;
    }
    let (dir, _) = scratch();
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "2.3.4",
            "--from",
            "4.2.9",
            "--breaking",
            "--date",
            "2022-12-20",
            "--uv",
            uv.to_str().unwrap(),
        ],
    );
    // 4.2.9 + a breaking change needs a major, and series 5 exists: refused before resolving.
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = run_in(
        dir.path(),
        &[
            "cut",
            "--airflow",
            "2.2.5",
            "--from",
            "4.2.9",
            "--package",
            "apache-airflow-providers-amazon==3.4.0",
            "--date",
            "2022-12-20",
            "--uv",
            uv.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let lock = std::fs::read_to_string(dir.path().join("locks/4.3.0/python-3.9.txt")).unwrap();
    assert!(
        lock.contains("apache-airflow==2.2.5\n")
            && lock.contains("apache-airflow-providers-amazon==3.4.0\n"),
        "{lock}"
    );
    let constraints =
        std::fs::read_to_string(dir.path().join("dockerfiles/4.3.0/base/constraints.txt")).unwrap();
    assert_eq!(constraints, lock);
    let notes = run_in(
        dir.path(),
        &["notes", "4.2.9", "4.3.0", "--on", "2023-01-01"],
    );
    assert!(
        notes.stdout.contains("`apache-airflow-providers-amazon`"),
        "{}",
        notes.stdout
    );
}
