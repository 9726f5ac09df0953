//! The linter on arbitrary bytes as a Dockerfile, every rule enabled: it never panics (bad text
//! and syntax errors are findings), every finding's region lies inside the file and starts
//! before it ends, and the human, JSON and SARIF reports can be written.
//!
//! Most inputs are linted as a generated Runtime Dockerfile (`dockerfiles/<tag>/Dockerfile`)
//! against the shipped matrix, so the version-parity rules run too; one in eight as a plain
//! `Dockerfile` without a matrix.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use runtime_kit::lint::{self, Config, Linter, RULES, Report};
use runtime_kit::matrix::Matrix;
use runtime_kit::render;

struct Setup {
    config: Config,
    plain: Linter,
    runtime: Linter,
    paths: Vec<PathBuf>,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let matrix = Matrix::from_str_named(
        include_str!("../../runtime-matrix.toml"),
        "runtime-matrix.toml",
    )
    .expect("the shipped matrix loads");
    let paths = matrix
        .releases()
        .iter()
        .flat_map(|r| r.tags())
        .map(|t| {
            Path::new(render::OUT_DIR)
                .join(render::context_dir(&t))
                .join("Dockerfile")
        })
        .collect();
    let config = Config {
        enable: RULES.iter().map(|r| r.id).collect(),
        ..Config::default()
    };
    Setup {
        plain: Linter::new(config.clone()),
        runtime: Linter::new(config.clone()).with_matrix(matrix),
        config,
        paths,
    }
});

fuzz_target!(|data: &[u8]| {
    let setup = &*SETUP;
    let file = if data.len() % 8 == 0 {
        setup.plain.lint_file(Path::new("Dockerfile"), data)
    } else {
        let path = &setup.paths[data.len() % setup.paths.len()];
        setup.runtime.lint_file(path, data)
    };

    // A region may sit just past a final newline: one more line than the text has newlines.
    let last_line = data.iter().filter(|&&b| b == b'\n').count() + 1;
    for f in &file.findings {
        let r = &f.region;
        assert!(
            r.start.line >= 1 && r.start.column >= 1 && r.start <= r.end && r.end.line <= last_line,
            "{} finding at {r:?} outside a file of {last_line} lines: {}",
            f.rule.as_str(),
            f.message
        );
        assert!(
            f.instruction_line >= 1 && f.instruction_line <= last_line,
            "{} finding on instruction line {} of {last_line}",
            f.rule.as_str(),
            f.instruction_line
        );
    }

    let report = Report { files: vec![file] };
    let mut human = Vec::new();
    lint::output::human(&report, &mut human).expect("writing to memory");
    let _ = lint::output::summary(&report);
    // JSON and SARIF carry the rule table in every report: costly, so one input in 32 (by a
    // checksum, independent of the length that picked the path) writes them.
    if data.iter().fold(0u8, |a, &b| a.wrapping_add(b)) % 32 == 0 {
        let _ = lint::output::json(&report, &setup.config).to_string();
        let _ = lint::output::sarif(&report, &setup.config).to_string();
    }
});
