//! End to end: `runtime-kit build` of real releases from the committed `dockerfiles/` tree with
//! buildah, then checks from inside the images; a sample project built `FROM` the ONBUILD image;
//! the layer cache on a DAG-only edit.
//!
//! The real builds need root, buildah and debootstrap (Debian: `apt-get install buildah
//! debootstrap uidmap`). Where they are missing each test prints a visible `SKIPPED e2e` line and
//! passes, unless `RUNTIME_KIT_REQUIRE_TOOLS=1` (CI), where a missing tool fails it. The base
//! images (a debootstrap bullseye root and a `python:3.9-slim-bullseye` stand-in, see
//! `scripts/e2e-base-images.sh`) are made once per run and kept across runs in `.cache/e2e/`,
//! with the suite's own buildah store. Figures (build times) are appended to
//! `.cache/e2e/figures.tsv`. See docs/build.md.
//!
//! The dry-run snapshots need no tools.

mod common;
#[path = "support/registry.rs"]
mod registry;
#[path = "e2e/support.rs"]
mod support;

use std::process::Command;
use std::time::Instant;

use runtime_kit::build::{ImageBuild, format_elapsed};
use runtime_kit::matrix::{Matrix, Release};
use runtime_kit::model::{ImageTag, RuntimeVersion, Variant};
use runtime_kit::render::{ImageContext, USER_NAME, USER_UID};

use support::{
    Env, PYTHON_BASE, PYTHON_BASE_BOOKWORM, Report, TAG_PREFIX, copy_dir, env, exclusive, say,
};

/// The Airflow 2 releases built for real: the newest 5.0.x, and a Python 3.9 release of another
/// major series whose lock exists and whose packages are all on PyPI.
const RELEASES: &[&str] = &["5.0.13", "4.2.9"];

/// The Airflow 3 release built for real: 3.1-12, the newest build of a line that publishes a
/// Python the bookworm stand-in has (3.11) whose Airflow version and package set are in the
/// record. Its one vendor-only package (astronomer-providers-logging) is left out of the build
/// (`--skip-vendor-packages`): Astronomer's index cannot be reached here.
const AIRFLOW3_RELEASE: &str = "3.1-12";

// ---- dry runs ---------------------------------------------------------------------------------

/// Runs `runtime-kit ARGS` at the repository root without the builder variables of this
/// environment, the root path replaced by `[ROOT]`.
fn dry(args: &[&str]) -> String {
    let root = common::root();
    let out = Command::new(env!("CARGO_BIN_EXE_runtime-kit"))
        .args(args)
        .current_dir(&root)
        .env_remove("STORAGE_DRIVER")
        .env_remove("BUILDAH_ISOLATION")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let run = common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.transcript()
        .replace(&root.display().to_string(), "[ROOT]")
}

#[test]
fn build_dry_runs() {
    let cases: &[(&str, &[&str])] = &[
        ("build_dry_run_default", &["build", "5.0.13", "--dry-run"]),
        (
            "build_dry_run_local",
            &[
                "build",
                "5.0.13",
                "--dry-run",
                "--base-image",
                PYTHON_BASE,
                "--tag-prefix",
                "localhost/runtime",
                "--ca-bundle",
                "tests/e2e/test-ca.pem",
                "--storage-driver",
                "vfs",
                "--isolation",
                "chroot",
                "--log-dir",
                "target/build-logs",
            ],
        ),
        (
            "build_dry_run_python_variant",
            &["build", "11.8.0", "--dry-run", "--python", "3.10"],
        ),
        (
            "build_dry_run_onbuild_only",
            &[
                "build",
                "4.2.9",
                "--dry-run",
                "--variant",
                "onbuild",
                "--no-cache",
            ],
        ),
        (
            "build_dry_run_docker",
            &["build", "5.0.13", "--dry-run", "--builder", "docker"],
        ),
        (
            "build_error_docker_ca_bundle",
            &[
                "build",
                "5.0.13",
                "--dry-run",
                "--builder",
                "docker",
                "--ca-bundle",
                "tests/e2e/test-ca.pem",
            ],
        ),
        (
            "build_error_base_image_many_pythons",
            &["build", "11.8.0", "--dry-run", "--base-image", PYTHON_BASE],
        ),
        (
            "build_error_base_image_onbuild_only",
            &[
                "build",
                "5.0.13",
                "--dry-run",
                "--variant",
                "onbuild",
                "--base-image",
                PYTHON_BASE,
            ],
        ),
        (
            "build_error_python_not_published",
            &["build", "5.0.13", "--dry-run", "--python", "3.11"],
        ),
        (
            "build_error_unknown_release",
            &["build", "5.0.99", "--dry-run"],
        ),
        (
            "build_error_no_context",
            &["build", "5.0.13", "--dry-run", "--contexts", "tests/e2e"],
        ),
        (
            "build_error_bad_ca_bundle",
            &["build", "5.0.13", "--dry-run", "--ca-bundle", "Cargo.toml"],
        ),
        (
            "build_error_bad_tag_prefix",
            &["build", "5.0.13", "--dry-run", "--tag-prefix", "Not A Repo"],
        ),
    ];
    for (name, args) in cases {
        snap!(*name, dry(args));
    }
}

// ---- a stand-in builder: progress, cache hits, failures (no tools needed) ---------------------

/// Writes an executable script that prints like buildah and exits with `code`.
fn fake_builder(dir: &std::path::Path, lines: &[&str], code: i32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-buildah");
    let mut script =
        String::from("#!/bin/sh\n# Prints like buildah bud; the arguments go to args.txt.\n");
    script.push_str(&format!(
        "printf '%s\\n' \"$@\" > '{}/args.txt'\n",
        dir.display()
    ));
    for line in lines {
        // Lines starting with "!" go to stderr, as buildah's error lines do.
        match line.strip_prefix('!') {
            Some(l) => script.push_str(&format!("echo '{}' >&2\n", l.replace('\'', r"'\''"))),
            None => script.push_str(&format!("echo '{}'\n", line.replace('\'', r"'\''"))),
        }
    }
    script.push_str(&format!("exit {code}\n"));
    std::fs::write(&path, script).expect("write fake builder");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn runner_reports_steps_cache_hits_and_the_failing_step() {
    use runtime_kit::build::{Builder, BuilderKind, Event, Runner};
    let dir = tempfile::tempdir().expect("tempdir");
    let image = ImageBuild::new("1.0.0-base", "localhost/x:1.0.0-base", dir.path())
        .build_arg("BASE_IMAGE", "localhost/python:3.9-slim-bullseye");

    // Success: every step seen, cache hits attributed to their step, the log kept.
    let ok = fake_builder(
        dir.path(),
        &[
            "STEP 1/3: FROM localhost/python:3.9-slim-bullseye",
            "STEP 2/3: RUN apt-get update",
            "--> Using cache 2be26c2bc722ac9d4edb3c65c90fcfc9eebee0db9c6de1f75570e5aea787f94a",
            "--> 2be26c2bc72",
            "STEP 3/3: COPY . .",
            "--> 0a5807387ff",
            "COMMIT localhost/x:1.0.0-base",
        ],
        0,
    );
    let runner = Runner::new(
        Builder::new(BuilderKind::Buildah).program(&ok),
        dir.path().join("logs"),
    )
    .expect("runner");
    let mut events = Vec::new();
    let built = runner
        .build(&image, &mut |e| {
            events.push(match e {
                Event::Started { .. } => "started".to_string(),
                Event::Step { step, .. } => format!("step {}", step.number),
                Event::Cached { .. } => "cached".to_string(),
                Event::Finished { .. } => "finished".to_string(),
            })
        })
        .expect("the fake build succeeds");
    assert_eq!(
        events,
        [
            "started", "step 1", "step 2", "cached", "step 3", "finished"
        ]
    );
    let cached: Vec<bool> = built.steps.iter().map(|s| s.cached).collect();
    assert_eq!(cached, [false, true, false]);
    let args = std::fs::read_to_string(dir.path().join("args.txt")).expect("args");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "bud",
            "--format",
            "docker",
            "--layers",
            "--tag",
            "localhost/x:1.0.0-base",
            "--build-arg",
            "BASE_IMAGE=localhost/python:3.9-slim-bullseye",
            &dir.path().display().to_string(),
        ]
    );
    let log = std::fs::read_to_string(&built.log).expect("log");
    assert!(
        log.contains("STEP 2/3: RUN apt-get update\n--> Using cache"),
        "{log}"
    );
    assert!(
        log.starts_with("# runtime-kit build 1.0.0-base (localhost/x:1.0.0-base)"),
        "{log}"
    );

    // Failure: the last step announced, its own output (not buildah's error lines), the log.
    let failing = fake_builder(
        dir.path(),
        &[
            "STEP 1/3: FROM localhost/python:3.9-slim-bullseye",
            "STEP 2/3: RUN pip install -r requirements.txt",
            "Collecting apache-airflow==9.9.9",
            "!ERROR: No matching distribution found for apache-airflow==9.9.9",
            "!subprocess exited with status 1",
            "!Error: building at STEP \"RUN pip install -r requirements.txt\": exit status 1",
        ],
        1,
    );
    let runner = Runner::new(
        Builder::new(BuilderKind::Buildah).program(&failing),
        dir.path().join("logs"),
    )
    .expect("runner");
    let err = runner
        .build(&image, &mut |_| {})
        .expect_err("the fake build fails");
    let step = err.failed_step().expect("a failed step");
    assert_eq!((step.number, step.total), (2, Some(3)));
    assert_eq!(step.instruction, "RUN pip install -r requirements.txt");
    assert_eq!(
        err.step_output(),
        [
            "Collecting apache-airflow==9.9.9",
            "ERROR: No matching distribution found for apache-airflow==9.9.9"
        ]
    );
    let log = err.log().expect("log").to_path_buf();
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "building 1.0.0-base (localhost/x:1.0.0-base) failed at STEP 2/3: RUN pip install -r requirements.txt (exit status 1)\n  \
             last output of that step:\n  | Collecting apache-airflow==9.9.9\n  \
             | ERROR: No matching distribution found for apache-airflow==9.9.9\n  \
             full builder output: {}",
            log.display()
        )
    );

    // A builder that is not installed.
    let runner = Runner::new(
        Builder::new(BuilderKind::Buildah).program(dir.path().join("no-such-buildah")),
        dir.path().join("logs"),
    )
    .expect("runner");
    let err = runner.build(&image, &mut |_| {}).expect_err("no builder");
    assert!(err.is_builder_missing(), "{err}");
    assert!(err.to_string().contains("is it installed"), "{err}");
}

// ---- a tiny hand-made release: order, CA mounts, a failing step ---------------------------------

const TINY_MATRIX: &str = r#"schema = 1
[defaults]
debian = "bullseye"
[series.1]
channel = "stable"
python = "3.9"
[[release]]
version = "1.0.0"
airflow = "2.3.4"
date = 2022-12-12
unknown = ["packages"]
"#;

#[test]
fn tiny_release_builds_in_order_trusts_the_ca_and_names_a_failing_step() {
    let Some(env) = env("tiny release") else {
        return;
    };
    let _builds = exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    let matrix = dir.path().join("runtime-matrix.toml");
    std::fs::write(&matrix, TINY_MATRIX).expect("write matrix");
    let contexts = dir.path().join("dockerfiles");
    let base = contexts.join("1.0.0/base");
    let onbuild = contexts.join("1.0.0/onbuild");
    std::fs::create_dir_all(&base).expect("mkdir");
    std::fs::create_dir_all(&onbuild).expect("mkdir");
    // With a CA bundle, pip and apt inside the build see it; apt fetches over HTTPS with it.
    let ca_checks = if env.ca_bundle.is_some() {
        "RUN test -s /run/runtime-kit/ca.crt \\\n    && grep -q 'cert = /run/runtime-kit/ca.crt' /etc/xdg/pip/pip.conf \\\n    && grep -q 'CAInfo \"/run/runtime-kit/ca.crt\"' /etc/apt/apt.conf.d/99runtime-kit-ca\nRUN echo 'deb https://deb.debian.org/debian bullseye main' > /etc/apt/sources.list \\\n    && apt-get update --error-on=any -qq && rm -rf /var/lib/apt/lists/*\n"
    } else {
        ""
    };
    let base_dockerfile = format!(
        "ARG BASE_IMAGE=python:3.9-slim-bullseye\nFROM ${{BASE_IMAGE}}\nLABEL io.astronomer.docker.runtime.version=\"1.0.0\"\n{ca_checks}RUN echo base > /built\n"
    );
    std::fs::write(base.join("Dockerfile"), &base_dockerfile).expect("write");
    std::fs::write(
        onbuild.join("Dockerfile"),
        "ARG BASE_IMAGE=localhost/e2e-tiny:1.0.0-base\nFROM ${BASE_IMAGE}\nONBUILD RUN cat /built\n",
    )
    .expect("write");
    let matrix_arg = matrix.display().to_string();
    let contexts_arg = contexts.display().to_string();
    let common_args = [
        "--matrix",
        &matrix_arg,
        "--contexts",
        &contexts_arg,
        "--base-image",
        "localhost/debian:bullseye-slim",
        "--tag-prefix",
        "localhost/e2e-tiny",
    ];

    let mut report = Report::default();
    let out = env
        .runtime_kit(&["build", "1.0.0"])
        .args(common_args)
        .output()
        .expect("runtime-kit runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    report.expect(out.status.success(), || {
        format!("the tiny build succeeds:\n{stderr}")
    });
    report.expect(
        stdout.lines().collect::<Vec<_>>()
            == ["localhost/e2e-tiny:1.0.0-base", "localhost/e2e-tiny:1.0.0"],
        || format!("the base is built before the ONBUILD image, each tagged exactly: {stdout:?}"),
    );
    if out.status.success() {
        let config = env.inspect("localhost/e2e-tiny:1.0.0");
        report.expect(
            config["Docker"]["config"]["OnBuild"] == serde_json::json!(["RUN cat /built"]),
            || {
                format!(
                    "the ONBUILD image keeps its trigger (Docker format): {}",
                    config["Docker"]["config"]["OnBuild"]
                )
            },
        );
    }

    // A step that fails: the error names it, quotes its output and points at the log.
    std::fs::write(
        base.join("Dockerfile"),
        format!("{base_dockerfile}RUN echo 'the tiny build broke here' >&2; exit 7\n"),
    )
    .expect("write");
    let out = env
        .runtime_kit(&["build", "1.0.0", "--variant", "base"])
        .args(common_args)
        .output()
        .expect("runtime-kit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let steps = base_dockerfile
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("ARG"))
        .count()
        + 1;
    let expected_step = format!(
        "failed at STEP {steps}/{steps}: RUN echo 'the tiny build broke here' >&2; exit 7 (exit status 7)"
    );
    report.expect(out.status.code() == Some(2), || {
        format!("a failed build exits 2, got {:?}", out.status.code())
    });
    report.expect(stderr.contains(&expected_step), || {
        format!("the error names the step ({expected_step:?}):\n{stderr}")
    });
    report.expect(stderr.contains("| the tiny build broke here"), || {
        format!("the error quotes the step's output:\n{stderr}")
    });
    let log = env.cache.join("logs/1.0.0-base.log");
    report.expect(
        stderr.contains(&format!("full builder output: {}", log.display())),
        || format!("the error names the log {}:\n{stderr}", log.display()),
    );
    report.expect(
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("the tiny build broke here")),
        || format!("the log {} holds the builder's output", log.display()),
    );
    report.finish("tiny release");
}

// ---- real releases ----------------------------------------------------------------------------

#[test]
fn release_5_0_13() {
    check_release(RELEASES[0], &Build::default(), true);
}

#[test]
fn release_4_2_9() {
    check_release(RELEASES[1], &Build::default(), false);
}

#[test]
fn release_3_1_12() {
    check_release(
        AIRFLOW3_RELEASE,
        &Build {
            python: Some("3.11"),
            skip_vendor: true,
        },
        false,
    );
}

/// An Airflow 2 release on bookworm: 12.12.0, the newest 12.x with a recorded Airflow version
/// (2.10.5; its package set is not in the record, so its images pin Airflow only), as its
/// `-python-3.11` images on the bookworm stand-in.
#[test]
fn release_12_12_0() {
    check_release(
        "12.12.0",
        &Build {
            python: Some("3.11"),
            skip_vendor: false,
        },
        false,
    );
}

/// How a release is built: the default Python on the bullseye stand-in, or another Python (on
/// the bookworm stand-in), and whether the vendor-only packages are left out.
#[derive(Default)]
struct Build {
    python: Option<&'static str>,
    skip_vendor: bool,
}

/// Builds and checks one release; with `publish`, also pushes its images to a real registry,
/// verifies them there, promotes their floating tags and verifies again.
fn check_release(version: &str, build: &Build, publish: bool) {
    let Some(env) = env(&format!("release {version}")) else {
        return;
    };
    let _builds = exclusive();
    let matrix = Matrix::load(env.root.join("runtime-matrix.toml")).expect("the shipped matrix");
    let version: RuntimeVersion = version.parse().expect("version");
    let release = matrix.release(&version).expect("release in the matrix");
    let mut report = Report::default();

    // Build the base and ONBUILD images with the command a release engineer runs.
    let start = Instant::now();
    let stand_in = if build.python.is_some() {
        PYTHON_BASE_BOOKWORM
    } else {
        PYTHON_BASE
    };
    let mut args = vec![
        "build".to_string(),
        version.to_string(),
        "--base-image".into(),
        stand_in.into(),
        "--tag-prefix".into(),
        TAG_PREFIX.into(),
    ];
    if let Some(p) = build.python {
        args.extend(["--python".into(), p.into()]);
    }
    if build.skip_vendor {
        args.push("--skip-vendor-packages".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.runtime_kit(&args).output().expect("runtime-kit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "runtime-kit build {version} failed:\n{stderr}"
    );
    env.record(
        &format!("{version}: runtime-kit build (base + onbuild)"),
        start.elapsed(),
    );
    let python = build.python.map(|p| p.parse().expect("a Python version"));
    let variant = Variant {
        python: python.filter(|p| *p != release.python),
        ..Variant::default()
    };
    let base_tag = ImageTag::new(version.clone(), variant.as_base());
    let onbuild_tag = ImageTag::new(version.clone(), variant);
    let base_ref = format!("{TAG_PREFIX}:{base_tag}");
    let onbuild_ref = format!("{TAG_PREFIX}:{onbuild_tag}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every image of that Python, each base before its ONBUILD image (slim ones after).
    let mut expected: Vec<Variant> = release
        .variants()
        .into_iter()
        .filter(|v| release.python_of(v) == release.python_of(&variant))
        .collect();
    expected.sort_by_key(|v| (v.slim, !v.base));
    let expected: Vec<String> = expected
        .iter()
        .map(|v| format!("{TAG_PREFIX}:{}", ImageTag::new(version.clone(), *v)))
        .collect();
    report.expect(stdout.lines().collect::<Vec<_>>() == expected, || {
        format!("built, in order, exactly {expected:?}: {stdout:?}")
    });
    if build.skip_vendor {
        report.expect(stderr.contains("--skip-vendor-packages"), || {
            format!("the build says the vendor-only packages are left out:\n{stderr}")
        });
    }

    check_labels(
        env,
        &mut report,
        &matrix,
        release,
        variant.as_base(),
        &base_ref,
    );
    check_labels(env, &mut report, &matrix, release, variant, &onbuild_ref);
    check_base_image(
        env,
        &mut report,
        &matrix,
        release,
        variant.as_base(),
        &base_ref,
    );
    check_projects(env, &mut report, release, &onbuild_ref);
    if publish {
        check_registry(env, &mut report, release, &[&base_ref, &onbuild_ref]);
    }
    // The store keeps one release at a time: its images go once they are checked.
    let sample = format!("localhost/e2e-project:{version}-sample");
    let pins = format!("localhost/e2e-project:{version}-pins-airflow");
    let mut done: Vec<&str> = vec![&sample, &pins];
    done.extend(stdout.lines());
    env.remove_images(&done);
    report.finish(&format!("release {version}"));
}

/// Pushes the built images (`references`, tagged `TAG_PREFIX:<exact tag>`) to a real
/// `docker-registry` on loopback, then: `registry verify` finds the exact tags with the matrix's
/// labels and reports the floating tags missing; `registry promote --apply VERSION` creates them;
/// `registry verify` is clean.
fn check_registry(env: &Env, report: &mut Report, release: &Release, references: &[&str]) {
    let registry = registry::Registry::start();
    let repo = format!("{}/runtime", registry.host());
    let start = Instant::now();
    for reference in references {
        let tag = reference.rsplit_once(':').map_or("", |(_, t)| t);
        let out = env.buildah(&[
            "push",
            "--tls-verify=false",
            reference,
            &format!("docker://{repo}:{tag}"),
        ]);
        assert!(
            out.status.success(),
            "buildah push {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    env.record(
        &format!(
            "{}: buildah push of the two images to a loopback registry",
            release.version
        ),
        start.elapsed(),
    );
    let version = release.version.to_string();
    let verify = |what: &str| {
        let out = env
            .command(env!("CARGO_BIN_EXE_runtime-kit"))
            .args([
                "registry", "verify", "--repo", &repo, "--format", "json", &version,
            ])
            .output()
            .expect("runtime-kit runs");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "registry verify ({what}) printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code(), json)
    };
    let kinds = |json: &serde_json::Value| -> Vec<String> {
        json["findings"]
            .as_array()
            .map(|f| {
                f.iter()
                    .map(|x| {
                        format!(
                            "{} {}",
                            x["kind"].as_str().unwrap_or("?"),
                            x["tag"].as_str().unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    // Before promotion: the exact tags are there with the right labels, the aliases are not.
    let (code, json) = verify("before promote");
    let mut found = kinds(&json);
    found.sort();
    let minor = format!(
        "{}.{}",
        version.split('.').next().unwrap_or(""),
        version.split('.').nth(1).unwrap_or("")
    );
    report.expect(
        code == Some(1)
            && found == [format!("alias-missing {minor}"), format!("alias-missing {minor}-base")],
        || format!("registry verify {version} before promote: exit 1 with only the floating tags {minor} and {minor}-base missing: exit {code:?}, {json}"),
    );

    let out = env
        .command(env!("CARGO_BIN_EXE_runtime-kit"))
        .args(["registry", "promote", "--repo", &repo, "--apply", &version])
        .output()
        .expect("runtime-kit runs");
    report.expect(out.status.success(), || {
        format!(
            "registry promote --apply {version}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });

    let (code, json) = verify("after promote");
    report.expect(code == Some(0) && kinds(&json).is_empty(), || {
        format!("registry verify {version} after promote: clean: exit {code:?}, {json}")
    });
}

/// The labels equal the matrix (for Airflow 3 also the Python and task-SDK labels the real
/// images carry); the image runs as the astro user; the ONBUILD image has its triggers, in the
/// order of its era.
fn check_labels(
    env: &Env,
    report: &mut Report,
    matrix: &Matrix,
    release: &Release,
    variant: Variant,
    reference: &str,
) {
    let config = env.inspect(reference);
    let labels = &config["OCIv1"]["config"]["Labels"];
    let ctx = ImageContext::new(matrix, release, variant).expect("a buildable release");
    let mut expected = vec![
        (
            "io.astronomer.docker.runtime.version",
            release.version.to_string(),
        ),
        ("io.astronomer.docker.airflow.version", ctx.airflow.clone()),
        (
            "io.astronomer.docker.runtime.variant",
            ctx.variant.to_string(),
        ),
        (
            "org.opencontainers.image.version",
            release.version.to_string(),
        ),
        ("org.opencontainers.image.title", ctx.title.clone()),
        (
            "org.opencontainers.image.description",
            ctx.description.clone(),
        ),
    ];
    if let Some(source) = &matrix.defaults().source {
        expected.push(("org.opencontainers.image.source", source.clone()));
    }
    if ctx.airflow3 {
        expected.push(("io.astronomer.docker.python.version", ctx.python.clone()));
        // The task SDK the lock resolved, which pip installed.
        let lock =
            runtime_kit::lock::read_lock(&env.root, &release.version, release.python_of(&variant))
                .expect("read the lock")
                .expect("the Airflow 3 release built for real has a lock");
        let sdk = runtime_kit::render::LockFacts::of(&lock)
            .task_sdk
            .expect("the lock pins apache-airflow-task-sdk");
        expected.push(("io.astronomer.docker.airflow-task-sdk.version", sdk));
    }
    for (key, value) in &expected {
        report.expect(labels[key] == serde_json::json!(value), || {
            format!(
                "{reference}: label {key} = {value:?}, found {}",
                labels[key]
            )
        });
    }
    let user = &config["OCIv1"]["config"]["User"];
    report.expect(*user == serde_json::json!(USER_UID.to_string()), || {
        format!("{reference}: runs as {USER_UID}, configured user {user}")
    });
    let triggers: Vec<String> = config["Docker"]["config"]["OnBuild"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| t.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    report.expect(variant.base == triggers.is_empty(), || {
        format!(
            "{reference}: {} ONBUILD trigger(s); expected them only without -base",
            triggers.len()
        )
    });
    if !variant.base {
        // The order a project's build runs them in.
        let kinds: Vec<String> = triggers
            .iter()
            .map(|t| {
                let mut words = t.split_whitespace();
                let first = words.next().unwrap_or("").to_string();
                match first.as_str() {
                    "COPY" => format!(
                        "COPY {}",
                        t.split_whitespace()
                            .find(|w| !w.starts_with("--") && *w != "COPY")
                            .unwrap_or("")
                    ),
                    "USER" => format!("USER {}", words.next().unwrap_or("")),
                    other => other.to_string(),
                }
            })
            .collect();
        let want: &[&str] = if ctx.airflow3 {
            &[
                "COPY packages.txt",
                "USER root",
                "RUN",
                "COPY requirements.txt",
                "RUN",
                "USER astro",
                "COPY .",
            ]
        } else {
            &[
                "USER root",
                "COPY packages.txt",
                "RUN",
                "COPY requirements.txt",
                "RUN",
                "COPY .",
                "USER 50000",
            ]
        };
        report.expect(kinds == want, || {
            format!("{reference}: ONBUILD triggers in the order {want:?}, found {kinds:?}")
        });
    }
}

/// Inside the base image: Airflow's version, every pin, the user, the constraint; for Airflow 3
/// its component commands and task SDK; the vendor-only packages left out where the build
/// skipped them.
fn check_base_image(
    env: &Env,
    report: &mut Report,
    matrix: &Matrix,
    release: &Release,
    variant: Variant,
    reference: &str,
) {
    let airflow = release
        .airflow
        .as_ref()
        .expect("a buildable release")
        .to_string();
    let ctx = ImageContext::new(matrix, release, variant).expect("a buildable release");
    let c = env.container(reference);
    let id = c.sh("id -u");
    report.expect(id.stdout.trim() == USER_UID.to_string(), || {
        format!("{reference}: runs as UID {USER_UID}: {}", id.both())
    });
    let python = c.sh("python -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'");
    report.expect(python.stdout.trim() == ctx.python, || {
        format!("{reference}: Python {}: {}", ctx.python, python.both())
    });

    // As `docker run IMAGE airflow version` would: the image's own environment, no database.
    let version = c.sh("airflow version");
    let printed = version
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    report.expect(printed == airflow, || {
        let hint = if version.stderr.contains("cannot use sqlite with the") {
            "\n  (the image configures an executor that needs a database server, so Airflow refuses \
             to start without one: see templates/base.Dockerfile.hbs)"
        } else {
            ""
        };
        format!("{reference}: `airflow version` prints {airflow}: {}{hint}", version.both())
    });
    if ctx.airflow3 {
        // Airflow 3's components, through the entrypoint as a deployment runs them.
        for command in ["api-server", "dag-processor", "scheduler", "triggerer"] {
            let help = c.sh(&format!("/entrypoint {command} --help"));
            report.expect(
                help.code == 0 && help.stdout.contains(&format!("airflow {command}")),
                || {
                    format!(
                        "{reference}: `{command} --help` runs airflow {command}: {}",
                        help.both()
                    )
                },
            );
        }
        let webserver = c.sh("airflow webserver --help 2>&1");
        report.expect(webserver.code != 0, || {
            format!(
                "{reference}: Airflow 3 has no webserver command: {}",
                webserver.both()
            )
        });
    }

    let freeze = c.sh("pip freeze");
    let installed: std::collections::BTreeMap<String, String> = freeze
        .stdout
        .lines()
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| (normalise(n), v.trim().to_string()))
        .collect();
    let skipped: Vec<String> = ctx.vendor.iter().map(|v| v.requirement.clone()).collect();
    let pins = std::iter::once(("apache-airflow".to_string(), airflow.clone())).chain(
        release
            .packages_of(&variant)
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    for (name, version) in pins {
        let found = installed.get(&normalise(&name));
        if skipped.contains(&format!("{name}=={version}")) {
            report.expect(found.is_none(), || {
                format!("{reference}: {name} is left out (--skip-vendor-packages), found {found:?}")
            });
            continue;
        }
        report.expect(found.is_some_and(|f| same_version(f, &version)), || {
            format!("{reference}: pip freeze has {name}=={version}, found {found:?}")
        });
    }
    if !skipped.is_empty() {
        let listed = c.sh(&format!("cat {}", runtime_kit::render::VENDOR_SKIPPED_PATH));
        let lines: Vec<&str> = listed.stdout.lines().collect();
        report.expect(lines == skipped, || {
            format!(
                "{reference}: the skipped vendor packages are listed in {}: {}",
                runtime_kit::render::VENDOR_SKIPPED_PATH,
                listed.both()
            )
        });
    }

    let other = another_airflow(&airflow);
    let refused = c.sh(&format!(
        "pip install --no-cache-dir apache-airflow=={other} 2>&1"
    ));
    let constraint = format!("(constraint) apache-airflow=={airflow}");
    report.expect(refused.code != 0 && refused.stdout.contains(&constraint), || {
        format!(
            "{reference}: `pip install apache-airflow=={other}` is refused by the image's constraint \
             ({constraint:?}): {}",
            refused.both()
        )
    });
}

/// The sample project FROM the ONBUILD image: cold build, its checks, a warm rebuild after a
/// DAG edit that reuses every layer but the final copy, and a project pinning Airflow refused.
fn check_projects(env: &Env, report: &mut Report, release: &Release, onbuild_ref: &str) {
    let version = release.version.to_string();
    let airflow = release
        .airflow
        .as_ref()
        .expect("a buildable release")
        .to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let airflow3 = airflow.starts_with("3.");
    let project = dir.path().join("sample");
    let sample = if airflow3 {
        "sample-airflow3"
    } else {
        "sample"
    };
    copy_dir(&env.root.join("tests/e2e/projects").join(sample), &project);
    std::fs::write(project.join("Dockerfile"), format!("FROM {onbuild_ref}\n"))
        .expect("Dockerfile");
    let image = |phase: &str| {
        ImageBuild::new(
            format!("{version}-sample-project-{phase}"),
            format!("localhost/e2e-project:{version}-sample"),
            &project,
        )
    };

    // Cold: every step built afresh.
    let cold = env.runner(true).build(&image("cold"), &mut |_| {});
    let cold = match cold {
        Ok(b) => b,
        Err(e) => {
            report.expect(false, || {
                format!("the sample project builds FROM {onbuild_ref}: {e}")
            });
            return;
        }
    };
    env.record(
        &format!("{version}: sample project, cold build"),
        cold.elapsed,
    );

    let c = env.container(&cold.reference);
    // The suite runs no database server: a throwaway SQLite database, which Airflow 2 only
    // accepts with the SequentialExecutor (a local environment brings Postgres instead); Airflow
    // 3's Local executor runs on it, and lists the DAGs its parser serialized into it.
    let dags = if airflow3 {
        c.sh_with(
            &[("AIRFLOW__CORE__LOAD_EXAMPLES", "False")],
            "airflow db migrate >/dev/null 2>&1; airflow dags reserialize >/dev/null 2>&1; airflow dags list 2>&1",
        )
    } else {
        c.sh_with(
            &[
                ("AIRFLOW__CORE__EXECUTOR", "SequentialExecutor"),
                ("AIRFLOW__CORE__LOAD_EXAMPLES", "False"),
            ],
            "airflow db init >/dev/null 2>&1; airflow dags list 2>&1",
        )
    };
    report.expect(dags.stdout.contains("e2e_sample"), || {
        format!(
            "{version} project: `airflow dags list` shows e2e_sample: {}",
            dags.both()
        )
    });
    let python_pkg = c.sh("pip show emoji 2>&1");
    report.expect(python_pkg.stdout.contains("Version: 2.2.0"), || {
        format!(
            "{version} project: emoji 2.2.0 from requirements.txt is installed: {}",
            python_pkg.both()
        )
    });
    let debian_pkg = c.sh("dpkg-query -W -f='${Status}' jq && jq --version");
    report.expect(debian_pkg.stdout.contains("install ok installed"), || {
        format!(
            "{version} project: jq from packages.txt is installed: {}",
            debian_pkg.both()
        )
    });
    // Airflow 3 images copy the project owned by astro:0, Airflow 2 images by astro:astro.
    let group = if airflow3 {
        "0".to_string()
    } else {
        USER_UID.to_string()
    };
    let owners = c.sh("stat -c '%U:%u:%g %n' dags/e2e_sample.py requirements.txt packages.txt");
    report.expect(
        owners.code == 0
            && owners
                .stdout
                .lines()
                .all(|l| l.starts_with(&format!("{USER_NAME}:{USER_UID}:{group} "))),
        || {
            format!(
                "{version} project: files owned by {USER_NAME}:{group}: {}",
                owners.both()
            )
        },
    );
    drop(c);

    // Warm: only the DAG changed, so only the final COPY runs again.
    let dag = project.join("dags/e2e_sample.py");
    let mut text = std::fs::read_to_string(&dag).expect("read DAG");
    // A new text each run: an edit made by an earlier run is already in the store's layer cache.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    text.push_str(&format!("\n# edited by the layer-cache check ({nanos})\n"));
    std::fs::write(&dag, text).expect("edit DAG");
    match env.runner(false).build(&image("warm"), &mut |_| {}) {
        Ok(warm) => {
            env.record(
                &format!("{version}: sample project, warm rebuild after a DAG edit"),
                warm.elapsed,
            );
            let copy = warm
                .steps
                .iter()
                .rposition(|s| s.step.instruction.starts_with("COPY --chown="));
            let steps: Vec<String> = warm
                .steps
                .iter()
                .map(|s| format!("{}{}", s.step, if s.cached { " (cached)" } else { "" }))
                .collect();
            let ok = copy.is_some_and(|i| {
                !warm.steps[i].cached
                    && warm.steps[..i]
                        .iter()
                        .all(|s| s.cached || s.step.instruction.starts_with("FROM "))
                    && warm.steps[i + 1..].iter().all(|s| {
                        !s.step.instruction.starts_with("RUN ")
                            && !s.step.instruction.starts_with("COPY ")
                    })
            });
            report.expect(ok, || {
                format!(
                    "{version} project: a DAG edit reuses every layer but the final copy:\n  {}",
                    steps.join("\n  ")
                )
            });
            say(&format!(
                "e2e: {version}: cold {} -> warm {}",
                format_elapsed(cold.elapsed),
                format_elapsed(warm.elapsed)
            ));
        }
        Err(e) => report.expect(false, || format!("{version} project: warm rebuild: {e}")),
    }

    // A project that pins Airflow is refused, saying why.
    let pins = dir.path().join("pins-airflow");
    copy_dir(&env.root.join("tests/e2e/projects/pins-airflow"), &pins);
    std::fs::write(pins.join("Dockerfile"), format!("FROM {onbuild_ref}\n")).expect("Dockerfile");
    let refused = ImageBuild::new(
        format!("{version}-pins-airflow-project"),
        format!("localhost/e2e-project:{version}-pins-airflow"),
        &pins,
    );
    match env.runner(false).build(&refused, &mut |_| {}) {
        Ok(_) => report.expect(false, || {
            format!("{version}: a project pinning apache-airflow must not build")
        }),
        Err(e) => {
            let text = e.to_string();
            say(&format!(
                "e2e: {version}: the project pinning Airflow is refused:\n{text}"
            ));
            let message = format!(
                "requirements.txt pins apache-airflow; this Runtime image fixes Airflow at {airflow}"
            );
            report.expect(
                e.failed_step().is_some_and(|s| s.instruction.contains("requirements.txt"))
                    && text.contains(&message),
                || format!("{version}: the pinning project fails naming the step and saying why ({message:?}):\n{text}"),
            );
        }
    }
}

/// PEP 503 name normalisation.
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether two PEP 440 versions are equal (`1.10` == `1.10.0`).
fn same_version(a: &str, b: &str) -> bool {
    match (
        a.parse::<pep440_rs::Version>(),
        b.parse::<pep440_rs::Version>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Another released Airflow version of the same minor series (the previous patch, or the next).
fn another_airflow(airflow: &str) -> String {
    let parts: Vec<u32> = airflow.split('.').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [major, minor, patch] if *patch > 0 => format!("{major}.{minor}.{}", patch - 1),
        [major, minor, patch] => format!("{major}.{minor}.{}", patch + 1),
        _ => "2.0.0".into(),
    }
}

#[test]
fn helpers() {
    assert_eq!(
        normalise("Apache_Airflow.Providers--Amazon"),
        "apache-airflow-providers-amazon"
    );
    assert!(same_version("1.10", "1.10.0"));
    assert_eq!(another_airflow("2.3.4"), "2.3.3");
    assert_eq!(another_airflow("2.3.0"), "2.3.1");
}
