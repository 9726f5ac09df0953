//! The release and lifecycle policies on small matrices written for each rule.

mod common;

use runtime_kit::matrix::Matrix;
use runtime_kit::model::{AirflowVersion, PackageName, PackageVersion, RuntimeVersion};
use runtime_kit::policy::lifecycle::{self, DateSource, Status};
use runtime_kit::policy::release::{Bump, Change, NextError, bump_between, next_version};
use runtime_kit::query;

fn release(version: &str, airflow: &str, date: &str) -> String {
    format!(
        "[[release]]\nversion = \"{version}\"\nairflow = \"{airflow}\"\ndate = {date}\n[release.packages]\n\"astronomer-providers\" = \"1.2.0\"\n\n"
    )
}

fn matrix(series: &[(&str, &str)], releases: &[(&str, &str, &str)]) -> Matrix {
    let mut text = String::from("schema = 1\n");
    for (key, channel) in series {
        text.push_str(&format!(
            "[series.\"{key}\"]\nchannel = \"{channel}\"\npython = \"3.9\"\n"
        ));
    }
    for (v, a, d) in releases {
        text.push_str(&release(v, a, d));
    }
    Matrix::from_str_named(&text, "test.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn v(s: &str) -> RuntimeVersion {
    s.parse().unwrap()
}

fn af(s: &str) -> AirflowVersion {
    s.parse().unwrap()
}

fn date(s: &str) -> jiff::civil::Date {
    s.parse().unwrap()
}

#[test]
fn bumps() {
    let cases = [
        ("5.0.6", "5.0.7", Bump::Patch),
        ("5.0.6", "5.1.0", Bump::Minor),
        ("5.0.6", "6.0.0", Bump::Major),
        ("5.0.0-rc1", "5.0.0", Bump::None),
        ("3.1-1", "3.1-2", Bump::Patch),
        ("3.1-9", "3.2-1", Bump::Major),
        ("11.8.0", "3.0-1", Bump::Major),
    ];
    for (a, b, bump) in cases {
        assert_eq!(bump_between(&v(a), &v(b)), bump, "{a} -> {b}");
    }
}

#[test]
fn next_version_table() {
    let m = matrix(
        &[("5", "stable"), ("6", "stable")],
        &[
            ("5.0.1", "2.3.0", "2022-05-01"),
            ("5.1.0", "2.3.1", "2022-06-01"),
            ("6.0.0", "2.4.0", "2022-09-19"),
        ],
    );
    let amazon: PackageName = "apache-airflow-providers-amazon".parse().unwrap();
    let p8: PackageVersion = "8.0.0".parse().unwrap();
    let astro: PackageName = "astronomer-providers".parse().unwrap();
    let a121: PackageVersion = "1.2.1".parse().unwrap();
    let a130: PackageVersion = "1.3.0".parse().unwrap();
    // (base, Airflow, package bumps, breaking, expected next version or error)
    type Case<'a> = (
        Option<&'a str>,
        &'a str,
        Vec<(&'a PackageName, &'a PackageVersion)>,
        bool,
        Result<&'a str, &'a str>,
    );
    let cases: Vec<Case> = vec![
        (None, "2.4.0", vec![], false, Ok("6.0.1")),
        (None, "2.4.0", vec![(&astro, &a121)], false, Ok("6.0.1")),
        (None, "2.4.0", vec![(&astro, &a130)], false, Ok("6.1.0")),
        (None, "2.4.0", vec![(&amazon, &p8)], false, Ok("6.1.0")),
        (None, "2.4.1", vec![], false, Ok("6.1.0")),
        (None, "2.5.0", vec![], false, Ok("7.0.0")),
        (None, "2.4.0", vec![], true, Ok("7.0.0")),
        (None, "3.0.0", vec![], false, Ok("3.0-1")),
        // Without --from, a release continues the series of its Airflow minor.
        (None, "2.3.9", vec![], false, Ok("5.2.0")),
        (
            None,
            "2.2.0",
            vec![],
            false,
            Err("older than 6.0.0's Airflow 2.4.0"),
        ),
        (Some("5.1.0"), "2.3.2", vec![], false, Ok("5.2.0")),
        (Some("5.1.0"), "2.3.1", vec![], false, Ok("5.1.1")),
        (
            Some("5.0.1"),
            "2.3.2",
            vec![],
            false,
            Err("not the newest release of series 5"),
        ),
        (
            Some("5.1.0"),
            "2.4.0",
            vec![],
            false,
            Err("series 6 already exists"),
        ),
        (Some("9.9.9"), "2.4.0", vec![], false, Err("not a release")),
    ];
    for (from, airflow, packages, breaking, expected) in cases {
        let a = af(airflow);
        let change = Change {
            airflow: Some(&a),
            packages,
            breaking,
            relative_to: None,
        };
        let from_v = from.map(v);
        let got = next_version(&m, from_v.as_ref(), &change);
        match (got, expected) {
            (Ok(next), Ok(want)) => assert_eq!(
                next.version.to_string(),
                want,
                "{from:?} {airflow}: {}",
                next.rule
            ),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{from:?} {airflow}: {e}"),
            (got, want) => panic!("{from:?} {airflow}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn next_on_build_scheme() {
    let m = matrix(
        &[("3.0", "stable"), ("3.1", "stable")],
        &[
            ("3.0-1", "3.0.1", "2025-04-22"),
            ("3.1-1", "3.1.0", "2025-09-25"),
        ],
    );
    let cases = [
        ("3.1.1", Ok("3.1-2")),
        ("3.2.0", Ok("3.2-1")),
        // A backport: the 3.0 line goes on after 3.1 exists.
        ("3.0.6", Ok("3.0-2")),
        ("3.0.0", Err("older than 3.0-1's Airflow 3.0.1")),
        ("2.9.0", Err("cannot continue 3.1-1")),
    ];
    for (airflow, want) in cases {
        let a = af(airflow);
        let change = Change {
            airflow: Some(&a),
            ..Change::default()
        };
        match (next_version(&m, None, &change), want) {
            (Ok(n), Ok(w)) => assert_eq!(n.version.to_string(), w, "{}", n.rule),
            (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{e}"),
            (g, w) => panic!("{airflow}: {g:?} vs {w:?}"),
        }
    }
    // An X.Y-Z version must carry Airflow X.Y.
    let text = "schema = 1\n[series.\"3.1\"]\nchannel = \"stable\"\npython = \"3.12\"\n"
        .to_string()
        + &release("3.1-1", "3.0.2", "2025-09-25");
    let err = Matrix::from_str_named(&text, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("3.1-1 names Airflow 3.1 but carries Airflow 3.0.2"),
        "{err}"
    );
}

#[test]
fn stable_lifecycle_computed_from_policy() {
    // Stable: 6 months, or 3 months after the next major, whichever is later; end of month.
    let m = matrix(
        &[("7", "stable"), ("8", "stable"), ("9", "stable")],
        &[
            ("7.0.0", "2.5.0", "2022-12-02"),
            ("8.0.0", "2.6.0", "2023-01-15"),
            ("9.0.0", "2.7.0", "2023-09-10"),
        ],
    );
    let l = lifecycle::lifecycle(&m);
    // 7: own 2023-06-02, next major +3 = 2023-04-15 -> June 2023.
    assert_eq!(l[0].end_of_maintenance, date("2023-06-30"));
    assert_eq!(l[0].end_of_maintenance_source, DateSource::Computed);
    // 8: own 2023-07-15, next major +3 = 2023-12-10 -> December 2023.
    assert_eq!(l[1].end_of_maintenance, date("2023-12-31"));
    // 9: no next major yet: 6 months, provisional.
    assert_eq!(l[2].end_of_maintenance, date("2024-03-31"));
    assert_eq!(l[2].end_of_maintenance_source, DateSource::Provisional);
    // The end of maintenance is the first day out of it.
    assert_eq!(l[1].status_on(date("2023-12-30")), Status::Maintained);
    assert_eq!(l[1].status_on(date("2023-12-31")), Status::EndOfLife);
    assert_eq!(l[1].status_on(date("2023-01-01")), Status::Unreleased);
}

#[test]
fn lts_lifecycle_and_published_override() {
    let text = "schema = 1\n\
        [series.5]\nchannel = \"lts\"\npython = \"3.9\"\n\
        [series.6]\nchannel = \"stable\"\npython = \"3.9\"\n\
        [series.7]\nchannel = \"lts\"\npython = \"3.9\"\n\
        [series.8]\nchannel = \"stable\"\npython = \"3.9\"\nend-of-maintenance = 2024-02-29\nend-of-basic-support = 2024-08-31\n"
        .to_string()
        + &release("5.0.0", "2.3.0", "2022-04-30")
        + &release("6.0.0", "2.4.0", "2022-09-19")
        + &release("7.0.0", "2.5.0", "2023-08-20")
        + &release("8.0.0", "2.6.0", "2023-09-01");
    let m = Matrix::from_str_named(&text, "t.toml").unwrap();
    let l = lifecycle::lifecycle(&m);
    // 5 (LTS): own 18 months = 2023-10-30; next LTS (7) + 6 = 2024-02-20 -> February 2024.
    assert_eq!(l[0].end_of_maintenance, date("2024-02-29"));
    // 6 (stable): own 2023-03-19; next major (7) + 3 = 2023-11-20 -> November 2023.
    assert_eq!(l[1].end_of_maintenance, date("2023-11-30"));
    // 8: published dates win, and basic support follows maintenance.
    assert_eq!(l[3].end_of_maintenance_source, DateSource::Published);
    assert_eq!(l[3].status_on(date("2024-02-28")), Status::Maintained);
    assert_eq!(l[3].status_on(date("2024-02-29")), Status::BasicSupport);
    assert_eq!(l[3].status_on(date("2024-05-01")), Status::BasicSupport);
    assert_eq!(l[3].status_on(date("2024-08-30")), Status::BasicSupport);
    assert_eq!(l[3].status_on(date("2024-08-31")), Status::EndOfLife);
}

/// The Airflow 3 lines: two years of maintenance from the first release to the end of that
/// month, then six months of basic support. Computed from the shipped matrix without its
/// published dates, the policy gives the dates the feed publishes wherever the line's first
/// release (or its earliest trace) falls in the month the line shipped; 3.1's earliest trace
/// (3.1-1, 2025-10-06) is in the month after, which is why published dates win.
#[test]
fn airflow3_lines_follow_the_published_policy() {
    let shipped = std::fs::read_to_string(common::shipped_matrix()).unwrap();
    let published = lifecycle::lifecycle(&Matrix::from_str_named(&shipped, "m.toml").unwrap());
    let mut in_line = false;
    let stripped: String = shipped
        .lines()
        .filter(|l| {
            if l.starts_with('[') {
                in_line = l.starts_with("[series.\"3.");
            }
            !(in_line && l.starts_with("end-of-"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let computed = lifecycle::lifecycle(&Matrix::from_str_named(&stripped, "m.toml").unwrap());
    for line in ["3.0", "3.1", "3.2", "3.3"] {
        let p = published
            .iter()
            .find(|l| l.series.to_string() == line)
            .unwrap();
        let c = computed
            .iter()
            .find(|l| l.series.to_string() == line)
            .unwrap();
        assert_eq!(p.end_of_maintenance_source, DateSource::Published, "{line}");
        assert_eq!(c.end_of_maintenance_source, DateSource::Computed, "{line}");
        assert_eq!(
            c.end_of_basic_support_source,
            Some(DateSource::Computed),
            "{line}"
        );
        if line == "3.1" {
            assert_eq!(c.end_of_maintenance, date("2027-10-31"));
            assert_eq!(p.end_of_maintenance, date("2027-09-30"));
        } else {
            assert_eq!(c.end_of_maintenance, p.end_of_maintenance, "{line}");
            assert_eq!(c.end_of_basic_support, p.end_of_basic_support, "{line}");
        }
    }
}

/// A status per day on the shipped matrix, read as Astronomer's version check reads the feed:
/// the end-of-maintenance date is the first day out of maintenance; `lifecycle --on` and
/// `query upgrade --on` agree.
#[test]
fn status_per_day_reads_end_dates_as_the_first_day_out() {
    let m = Matrix::load(common::shipped_matrix()).unwrap();
    let line = lifecycle::of_release(&m, &v("3.1-21")).unwrap();
    for (day, status) in [
        ("2027-09-29", Status::Maintained),
        ("2027-09-30", Status::BasicSupport),
        ("2028-03-29", Status::BasicSupport),
        ("2028-03-30", Status::EndOfLife),
    ] {
        assert_eq!(line.status_on(date(day)), status, "{day}");
        let issues = query::upgrade_check(&m, &v("3.1-8"), &v("3.1-21"), Some(date(day)));
        let not_maintained = issues
            .iter()
            .any(|i| matches!(i, query::UpgradeIssue::TargetNotMaintained { .. }));
        assert_eq!(not_maintained, status != Status::Maintained, "{day}");
        let out = common::run(&["lifecycle", "--on", day, "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let row = json["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["series"] == "3.1")
            .unwrap()
            .clone();
        assert_eq!(
            row["status"],
            serde_json::to_value(status).unwrap(),
            "lifecycle --on {day}"
        );
    }
    // Airflow 2 -> 3 starts from 12.0.0 or later, as Astronomer's CLI requires.
    let kinds = |a: &str, b: &str| -> Vec<String> {
        query::upgrade_check(&m, &v(a), &v(b), None)
            .iter()
            .map(|i| {
                serde_json::to_value(i).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        kinds("11.8.0", "3.3-8"),
        ["airflow-major-jump", "airflow3-from-below"]
    );
    assert_eq!(kinds("12.0.0", "3.3-8"), ["airflow-major-jump"]);
    assert_eq!(kinds("3.3-1", "3.3-8"), Vec::<String>::new());
    // Today, 2026-12-02: 12 is in basic support, 13 and every Airflow 3 line maintained.
    let today = date("2026-12-02");
    let status = |s: &str| {
        lifecycle::lifecycle(&m)
            .into_iter()
            .find(|l| l.series.to_string() == s)
            .unwrap()
            .status_on(today)
    };
    assert_eq!(status("11"), Status::EndOfLife);
    assert_eq!(status("12"), Status::BasicSupport);
    for s in ["13", "3.0", "3.1", "3.2", "3.3"] {
        assert_eq!(status(s), Status::Maintained, "{s}");
    }
}

#[test]
fn upgrade_checks() {
    let text = "schema = 1\n[series.2]\nchannel = \"stable\"\npython = \"3.9\"\n[series.5]\nchannel = \"stable\"\npython = \"3.9\"\nend-of-maintenance = 2023-01-31\n[series.6]\nchannel = \"stable\"\npython = \"3.9\"\n"
        .to_string()
        + &release("2.1.1", "1.10.15", "2021-05-01")
        + &release("5.0.1", "2.3.0", "2022-05-01")
        + &release("5.1.0", "2.3.1", "2022-06-01")
        + "[[release]]\nversion = \"6.0.0\"\nairflow = \"2.4.0\"\ndate = 2022-09-19\nyanked = true\nyanked-reason = \"logs broken\"\n[release.packages]\n\"x\" = \"1.0\"\n";
    let m = Matrix::from_str_named(&text, "t.toml").unwrap();
    let kinds = |a: &str, b: &str, on: Option<&str>| -> Vec<String> {
        query::upgrade_check(&m, &v(a), &v(b), on.map(date))
            .iter()
            .map(|i| {
                serde_json::to_value(i).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert!(kinds("5.0.1", "5.1.0", None).is_empty());
    assert_eq!(kinds("5.1.0", "5.0.1", None), ["downgrade"]);
    assert_eq!(kinds("5.1.0", "6.0.0", None), ["yanked-target"]);
    assert_eq!(kinds("2.1.1", "5.1.0", None), ["airflow-major-jump"]);
    assert_eq!(
        kinds("5.0.1", "5.1.0", Some("2023-06-01")),
        ["target-not-maintained"]
    );
    assert_eq!(kinds("5.0.1", "5.9.9", None), ["unknown"]);
    assert_eq!(
        query::latest(&m, &query::Scope::All)
            .map(|r| r.version.to_string())
            .as_deref(),
        Some("5.1.0"),
        "the yanked 6.0.0 is never the newest"
    );
}

/// A number at its largest has no successor: an error, never a wrapped (and taken) version.
#[test]
fn next_version_does_not_overflow() {
    let max = u64::MAX;
    let cases = [
        (format!("11.{max}.0"), "2.9.4"),
        (format!("11.0.{max}"), "2.9.3"),
        (format!("3.1-{max}"), "3.1.1"),
    ];
    for (base, airflow) in cases {
        let series = if base.contains('-') { "3.1" } else { "11" };
        let previous = if base.contains('-') { "3.1.0" } else { "2.9.3" };
        let m = matrix(&[(series, "stable")], &[(&base, previous, "2024-06-01")]);
        let change = Change {
            airflow: Some(&af(airflow)),
            packages: vec![],
            breaking: false,
            relative_to: None,
        };
        let err = next_version(&m, None, &change).unwrap_err();
        assert!(matches!(err, NextError::Overflow(_)), "{base}: {err}");
        assert!(err.to_string().contains(&base), "{err}");
    }
}
