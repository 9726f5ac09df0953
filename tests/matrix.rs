//! The shipped matrix loads, validates and matches the documented parity table; broken matrices
//! each fail with their own clear error at the right place.

mod common;

use runtime_kit::matrix::Matrix;
use runtime_kit::model::{RuntimeVersion, VersionSpec};
use runtime_kit::query;

fn shipped() -> Matrix {
    Matrix::load(common::shipped_matrix()).unwrap_or_else(|e| panic!("shipped matrix: {e}"))
}

fn v(s: &str) -> RuntimeVersion {
    s.parse().unwrap()
}

#[test]
fn shipped_matrix_validates() {
    let m = shipped();
    assert!(m.releases().len() >= 120, "{}", m.releases().len());
    assert_eq!(m.releases().first().unwrap().version, v("3.0.0"));
    assert!(m.release(&v("11.8.0")).is_some());
    // Every release resolves to a complete set: either pins, or an explicit "unknown".
    for r in m.releases() {
        assert!(
            !r.packages.is_empty() || !r.packages_known,
            "{} has neither pins nor unknown = [\"packages\"]",
            r.version
        );
        assert!(
            r.slim != r.slim_packages.is_empty() || !r.packages_known,
            "{}",
            r.version
        );
    }
}

/// The parity table of the public documentation (as of 5.0.x).
#[test]
fn documented_parity_table() {
    let m = shipped();
    let airflows = |prefix: &str| -> Vec<String> {
        let mut a: Vec<String> = m
            .releases()
            .iter()
            .filter(|r| r.version.to_string().starts_with(prefix))
            .map(|r| r.airflow_text())
            .collect();
        a.dedup();
        a
    };
    assert_eq!(airflows("4.1."), ["2.2.4"]);
    assert_eq!(airflows("4.2."), ["2.2.4", "2.2.5"]);
    let early_5: Vec<String> = [
        "5.0.0", "5.0.1", "5.0.2", "5.0.3", "5.0.4", "5.0.5", "5.0.6", "5.0.7",
    ]
    .iter()
    .map(|s| m.release(&v(s)).unwrap().airflow_text())
    .collect();
    assert!(
        early_5
            .iter()
            .all(|a| a.starts_with("2.3.") && a.as_str() <= "2.3.3"),
        "{early_5:?}"
    );
    assert_eq!(early_5.first().unwrap(), "2.3.0");
    assert_eq!(early_5.last().unwrap(), "2.3.3");
    // Later 5.0.x releases moved to 2.3.4.
    assert_eq!(m.release(&v("5.0.8")).unwrap().airflow_text(), "2.3.4");
    // And the queries answer from it.
    let spec: VersionSpec = "2.2.4".parse().unwrap();
    let carrying: Vec<String> = query::runtimes_for(&m, &spec)
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert!(
        carrying.contains(&"4.1.0".to_string()) && carrying.contains(&"4.2.0".to_string()),
        "{carrying:?}"
    );
}

#[test]
fn recorded_history_breaks_the_policy_only_where_declared() {
    let m = shipped();
    let exceptions: Vec<String> = m
        .policy_exceptions()
        .iter()
        .map(|e| e.release.to_string())
        .collect();
    for known in ["4.2.4", "5.0.3"] {
        assert!(
            exceptions.contains(&known.to_string()),
            "{known} missing from {exceptions:?}"
        );
    }
    // Removing one exception makes validation fail at that release.
    let text = std::fs::read_to_string(common::shipped_matrix()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("release = \"4.2.4\""))
        .unwrap();
    let edited = text.replace(&format!("{line}\n"), "");
    let err = Matrix::from_str_named(&edited, "edited.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("4.2.1 -> 4.2.4") && err.contains("breaks the release policy"),
        "{err}"
    );
}

/// Each broken matrix fails with its own error, at file:line:col, saying what was expected.
#[test]
fn broken_matrices() {
    let cases: &[(&str, &str)] = &[
        (
            "duplicate-version",
            "version 5.0.1 is recorded twice (first at line 9)",
        ),
        ("airflow-downgrade", "Airflow goes backwards"),
        (
            "newline-in-package-version",
            "contains a character that is not a letter",
        ),
        ("unknown-key", "unknown field `pyhton`"),
        ("bad-date", "invalid date, expected day between 01 and 28"),
        ("date-as-string", "expected"),
        (
            "yanked-without-reason",
            "a yanked release needs its published reason",
        ),
        (
            "airflow-minor-in-series",
            "expected one Airflow minor per major series",
        ),
        (
            "policy-patch-bump",
            "5.0.1 -> 5.0.2: a patch bump breaks the release policy",
        ),
        (
            "unneeded-exception",
            "policy exception for 5.1.0 is not needed",
        ),
        ("date-backwards", "release date goes backwards"),
        ("shell-in-package-name", "expected a package name"),
        (
            "quote-in-airflow",
            "contains a character that is not a letter",
        ),
        ("missing-series", "there is no [series.6] table"),
        ("unsorted", "expected releases in ascending version order"),
        (
            "no-packages",
            "expected its pins, or unknown = [\"packages\"]",
        ),
        (
            "airflow-pinned-in-packages",
            "apache-airflow is pinned by the release's `airflow` key",
        ),
        (
            "not-normalised-name",
            "in its normalised form \"astronomer-providers\"",
        ),
        ("bad-channel", "expected a channel"),
        (
            "airflow-migrations-unsorted",
            "2.3.1 is not above the version before it",
        ),
        (
            "newline-in-yanked-reason",
            "yanked-reason holds a line break or control character",
        ),
        ("bad-toml", "unclosed array table, expected `]`"),
        ("wrong-schema", "expected schema = 1"),
        (
            "airflow-missing",
            "release has no airflow; expected airflow = \"X.Y.Z\", or unknown = [\"airflow\"]",
        ),
        (
            "airflow-given-and-unknown",
            "airflow is given but unknown lists \"airflow\"",
        ),
        (
            "existed-by-with-date",
            "existed-by on a release with a date",
        ),
        (
            "unknown-misspelt",
            "unknown: \"package\" is not a fact a release may lack",
        ),
        (
            "semver-carries-airflow3",
            "Runtimes for Airflow 3 and later use X.Y-Z versions",
        ),
        (
            "slim-pin-differs",
            "slim-packages: apache-airflow-providers-http = \"4.9.0\" differs from packages' \"4.10.0\"",
        ),
        (
            "series-repository-with-tag",
            "series 3.1 repository \"astrocrpublic.azurecr.io/runtime:3.1\": it has a tag or digest; give the repository only",
        ),
    ];
    let dir = common::root().join("tests/data/broken");
    let mut transcript = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, expected) in cases {
        let path = dir.join(format!("{name}.toml"));
        let rel = format!("tests/data/broken/{name}.toml");
        let err = Matrix::load(rel_to_root(&rel)).expect_err(name);
        let errors = err.matrix_errors().expect("read, but invalid").errors();
        // One fault, one error: no cascade of errors that follow from the first. (An Airflow
        // minor inside a major breaks two rules: the series' Airflow minor and the release
        // policy, and both say so.)
        let expected_count = if *name == "airflow-minor-in-series" {
            2
        } else {
            1
        };
        assert_eq!(errors.len(), expected_count, "{name}: {err}");
        let first = &errors[0];
        let text = err.to_string();
        assert!(path.exists());
        assert!(
            text.contains(expected),
            "{name}: expected {expected:?} in:\n{text}"
        );
        assert!(
            first.location.line >= 1 && first.location.column >= 1,
            "{name}"
        );
        assert!(text.starts_with(&rel), "{name}: {text}");
        assert!(
            seen.insert(first.message.clone()),
            "{name} repeats another case's error"
        );
        transcript.push_str(&format!("{text}\n"));
    }
    // Every file of the corpus is covered by a case.
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, cases.len());
    snap!("broken_matrices", transcript);
}

fn rel_to_root(rel: &str) -> std::path::PathBuf {
    // Paths are given relative to the repository root so messages name them that way.
    std::env::set_current_dir(common::root()).unwrap();
    std::path::PathBuf::from(rel)
}

/// `defaults.repository` and a series' `repository` accept exactly what the registry commands
/// accept as `--repo` (one parser), registries with a port included, and a refusal names the
/// file, line and column and what was expected.
#[test]
fn repository_keys_take_what_the_registry_takes() {
    let values = [
        ("127.0.0.1:5000/runtime", true),
        ("registry.example.com:5000/runtime", true),
        ("localhost/a/b", true),
        ("[::1]:5000/runtime", true),
        ("quay.io/astronomer/astro-runtime", true),
        ("Quay.io/astronomer/Runtime", false),
        ("astronomer/astro-runtime", false),
        ("runtime", false),
        ("quay.io/astro-runtime:5.0.0", false),
        ("https://quay.io/runtime", false),
        ("bob:pw@quay.io/runtime", false),
    ];
    for (value, valid) in values {
        for (key_line, table) in [(3, "defaults"), (5, "series.5")] {
            let (defaults, series) = if table == "defaults" {
                (format!("repository = {value:?}\n"), String::new())
            } else {
                (String::new(), format!("repository = {value:?}\n"))
            };
            let text = format!(
                "schema = 1\n[defaults]\n{defaults}debian = \"bullseye\"\n[series.5]\n{series}channel = \"stable\"\npython = \"3.9\"\n\n[[release]]\nversion = \"5.0.1\"\nairflow = \"2.3.0\"\ndate = 2022-05-01\n[release.packages]\n\"apache-airflow-providers-http\" = \"4.10.0\"\n"
            );
            let loaded = Matrix::from_str_named(&text, "m.toml");
            let registry = value.parse::<runtime_kit::registry::Repository>();
            assert_eq!(loaded.is_ok(), valid, "{table} {value}: {loaded:?}");
            assert_eq!(registry.is_ok(), valid, "registry {value}: {registry:?}");
            if let Err(e) = loaded {
                let text = e.to_string();
                assert!(text.starts_with(&format!("m.toml:{key_line}:")), "{text}");
                assert!(text.contains("expected a repository like"), "{text}");
                assert!(!text.contains("pw@"), "a password was repeated: {text}");
            }
        }
    }
}
