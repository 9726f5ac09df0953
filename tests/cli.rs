//! CLI outputs of the matrix commands, as snapshots: one table of cases, one harness.

mod common;

use common::run;

/// (snapshot name, arguments, expected exit code)
const CASES: &[(&str, &[&str], i32)] = &[
    ("cli_validate", &["validate"], 0),
    ("cli_validate_json", &["validate", "--format", "json"], 0),
    (
        "cli_validate_broken",
        &[
            "validate",
            "--matrix",
            "tests/data/broken/airflow-minor-in-series.toml",
        ],
        1,
    ),
    (
        "cli_validate_broken_json",
        &[
            "validate",
            "--matrix",
            "tests/data/broken/policy-patch-bump.toml",
            "--format",
            "json",
        ],
        1,
    ),
    (
        "cli_validate_missing_file",
        &["validate", "--matrix", "no/such/file.toml"],
        2,
    ),
    ("cli_lifecycle", &["lifecycle", "--on", "2024-01-15"], 0),
    (
        "cli_lifecycle_json",
        &["lifecycle", "--on", "2024-01-15", "--format", "json"],
        0,
    ),
    (
        "cli_lifecycle_all",
        &["lifecycle", "--all", "--on", "2023-06-01"],
        0,
    ),
    ("cli_query_airflow", &["query", "airflow", "5.0.6"], 0),
    (
        "cli_query_airflow_json",
        &["query", "airflow", "5.0.6", "--format", "json"],
        0,
    ),
    (
        "cli_query_airflow_unknown",
        &["query", "airflow", "5.0.99"],
        2,
    ),
    (
        "cli_query_runtimes_exact",
        &["query", "runtimes", "2.3.3"],
        0,
    ),
    (
        "cli_query_runtimes_series",
        &["query", "runtimes", "2.2"],
        0,
    ),
    (
        "cli_query_runtimes_range",
        &["query", "runtimes", ">=2.3,<2.5", "--format", "json"],
        0,
    ),
    ("cli_query_runtimes_none", &["query", "runtimes", "1.10"], 1),
    ("cli_query_latest", &["query", "latest"], 0),
    (
        "cli_query_latest_major",
        &["query", "latest", "--major", "9"],
        0,
    ),
    (
        "cli_query_latest_airflow",
        &["query", "latest", "--airflow", "2.3"],
        0,
    ),
    (
        "cli_query_upgrade_ok",
        &["query", "upgrade", "5.0.6", "5.0.13", "--on", "2023-06-01"],
        0,
    ),
    (
        "cli_query_upgrade_unknown",
        &["query", "upgrade", "5.0.6", "99.0.0"],
        2,
    ),
    (
        "cli_query_latest_none",
        &["query", "latest", "--major", "99"],
        1,
    ),
    (
        "cli_query_upgrade_downgrade",
        &["query", "upgrade", "6.0.4", "5.0.13", "--on", "2023-06-01"],
        1,
    ),
    (
        "cli_query_upgrade_yanked",
        &["query", "upgrade", "7.6.0", "8.0.0", "--on", "2023-06-01"],
        1,
    ),
    (
        "cli_query_upgrade_eol",
        &[
            "query",
            "upgrade",
            "5.0.6",
            "5.0.13",
            "--on",
            "2025-01-01",
            "--format",
            "json",
        ],
        1,
    ),
    ("cli_query_bad_version", &["query", "airflow", "5.0"], 2),
    ("cli_lint_no_dockerfile", &["lint", "tests/data/broken"], 2),
    ("cli_lint_stdin_twice", &["lint", "-", "-"], 2),
    (
        "cli_next_patch_of_airflow",
        &["next", "--airflow", "2.9.4"],
        0,
    ),
    ("cli_next_new_minor", &["next", "--airflow", "2.12.0"], 0),
    (
        "cli_next_patch_of_13",
        &["next", "--airflow", "2.11.3", "--format", "json"],
        0,
    ),
    (
        "cli_next_build_of_a_line",
        &["next", "--airflow", "3.3.3"],
        0,
    ),
    ("cli_next_new_line", &["next", "--airflow", "3.4.0"], 0),
    (
        "cli_next_backport_build",
        &["next", "--airflow", "3.0.7", "--from", "3.0-18"],
        0,
    ),
    (
        "cli_next_across_eras",
        &["next", "--airflow", "2.11.3", "--from", "3.3-8"],
        2,
    ),
    (
        "cli_query_airflow_of_a_build",
        &["query", "airflow", "3.1-12"],
        0,
    ),
    (
        "cli_query_airflow_not_in_record",
        &["query", "airflow", "3.0-4", "--format", "json"],
        1,
    ),
    ("cli_query_runtimes_line", &["query", "runtimes", "3.2"], 0),
    (
        "cli_query_latest_line",
        &["query", "latest", "--series", "3.1"],
        0,
    ),
    (
        "cli_query_latest_airflow2",
        &["query", "latest", "--airflow", "<3"],
        0,
    ),
    (
        "cli_query_upgrade_across_eras",
        &[
            "query",
            "upgrade",
            "13.11.0",
            "3.3-8",
            "--on",
            "2026-12-02",
            "--format",
            "json",
        ],
        1,
    ),
    (
        "cli_query_upgrade_airflow3_from_11",
        &["query", "upgrade", "11.8.0", "3.3-8", "--on", "2026-12-02"],
        1,
    ),
    (
        "cli_query_upgrade_line_out_of_maintenance",
        &["query", "upgrade", "3.1-8", "3.1-21", "--on", "2027-09-30"],
        1,
    ),
    (
        "cli_lifecycle_today",
        &["lifecycle", "--on", "2026-12-02"],
        0,
    ),
    (
        "cli_lifecycle_all_json_line",
        &[
            "lifecycle",
            "--all",
            "--on",
            "2026-12-02",
            "--format",
            "json",
        ],
        0,
    ),
    ("cli_next_same", &["next", "--airflow", "2.9.3"], 0),
    (
        "cli_next_breaking",
        &[
            "next",
            "--airflow",
            "2.11.2",
            "--breaking",
            "--format",
            "json",
        ],
        0,
    ),
    (
        "cli_next_airflow3_downgrade",
        &["next", "--airflow", "3.0.1"],
        2,
    ),
    ("cli_next_downgrade", &["next", "--airflow", "2.9.2"], 2),
    (
        "cli_next_not_newest",
        &["next", "--airflow", "2.3.5", "--from", "5.0.7"],
        2,
    ),
    (
        "cli_next_from_series_tip",
        &["next", "--airflow", "2.3.5", "--from", "5.5.0"],
        0,
    ),
    (
        "cli_next_major_taken",
        &["next", "--airflow", "2.4.0", "--from", "5.5.0"],
        2,
    ),
];

#[test]
fn cli_snapshots() {
    for (name, args, code) in CASES {
        let out = run(args);
        assert_eq!(out.code, *code, "{name}: {}", out.transcript());
        snap!(
            *name,
            format!("$ runtime-kit {}\n{}", args.join(" "), out.transcript())
        );
    }
}

/// A password written into `--repo` is refused and never repeated, by us or by clap.
#[test]
fn credentials_in_the_repository_are_not_echoed() {
    for cmd in [&["registry", "verify"][..], &["registry", "promote"][..]] {
        let mut args = cmd.to_vec();
        args.extend([
            "--repo",
            "alice:S3cr3t-P4ss@127.0.0.1:5000/runtime",
            "5.0.13",
        ]);
        let out = run(&args);
        assert_eq!(out.code, 2, "{}", out.transcript());
        assert!(
            out.stderr.contains("it holds credentials"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stdout.contains("S3cr3t") && !out.stderr.contains("S3cr3t"),
            "{}",
            out.transcript()
        );
    }
}

#[test]
fn help_lists_every_command() {
    let out = run(&["--help"]);
    assert_eq!(out.code, 0);
    for cmd in ["validate", "lifecycle", "query", "next", "generate", "lock"] {
        assert!(out.stdout.contains(cmd), "{cmd} missing from --help");
    }
}
