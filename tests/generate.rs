//! The generator: snapshots of each variant kind, the drift check, byte-identical reruns,
//! all-or-nothing writes, and the generated tree checked by a parser and by hadolint.

mod common;

use std::path::{Path, PathBuf};

use runtime_kit::matrix::Matrix;
use runtime_kit::model::ImageTag;
use runtime_kit::render::{self, Templates, context_dir};

fn shipped() -> Matrix {
    Matrix::load(common::shipped_matrix()).unwrap()
}

fn tree() -> render::Tree {
    render::render_all(&Templates::load(None).unwrap(), &shipped(), &common::root()).unwrap()
}

fn file<'t>(tree: &'t render::Tree, tag: &str, name: &str) -> &'t str {
    let tag: ImageTag = tag.parse().unwrap();
    let path = context_dir(&tag).join(name);
    &tree
        .get(&path)
        .unwrap_or_else(|| panic!("{} not generated", path.display()))
        .contents
}

/// A base and an ONBUILD Dockerfile of a release of each major series, and each variant kind.
#[test]
fn snapshots_of_each_series_and_variant_kind() {
    let tree = tree();
    let tags = [
        "3.0.3-base",
        "3.0.3",
        "4.2.9-base",
        "4.2.9",
        "5.0.13-base",
        "5.0.13",
        "5.0.11-base",
        "6.0.4-base",
        "6.0.4",
        "7.6.0-base",
        "7.6.0",
        "8.8.0-base",
        "8.8.0",
        "9.17.0-base",
        "9.17.0",
        "9.17.0-python-3.10-base",
        "9.17.0-python-3.10",
        "10.9.0-base",
        "10.9.0",
        "11.8.0-base",
        "11.8.0",
        "11.8.0-slim-base",
        "11.8.0-slim",
        "11.8.0-python-3.12-slim-base",
        "11.8.0-python-3.12-slim",
        "12.12.0-base",
        "12.12.0-python-3.11-slim",
        "13.11.0-base",
        "3.1-12-base",
        "3.1-12",
        "3.1-12-python-3.11-base",
        "3.3-2-base",
        "3.3-2-python-3.12",
    ];
    for tag in tags {
        snap!(format!("dockerfile_{tag}"), file(&tree, tag, "Dockerfile"));
    }
    snap!("pip_conf_11.8.0", file(&tree, "11.8.0-base", "pip.conf"));
    snap!("pip_conf_5.0.13", file(&tree, "5.0.13-base", "pip.conf"));
    snap!(
        "entrypoint_5.0.13",
        file(&tree, "5.0.13-base", "entrypoint.sh")
    );
    snap!(
        "entrypoint_3.1-12",
        file(&tree, "3.1-12-base", "entrypoint.sh")
    );
    snap!("pip_conf_3.1-12", file(&tree, "3.1-12-base", "pip.conf"));
    snap!(
        "airflow_constraint_3.1-12",
        file(&tree, "3.1-12-base", "airflow-constraint.txt")
    );
}

/// The layout maps one-to-one to tags: every tag of every release has its context, and every
/// context directory names a tag.
#[test]
fn layout_maps_one_to_one_to_tags() {
    let m = shipped();
    let tree = tree();
    let dirs: std::collections::BTreeSet<PathBuf> = tree
        .files()
        .filter_map(|f| f.path.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    let mut tags = 0;
    let mut unbuildable = 0;
    for r in m.releases() {
        if r.airflow.is_none() {
            // A release whose Airflow version is not in the record has no contexts at all.
            unbuildable += 1;
            for tag in r.tags() {
                assert!(!dirs.contains(&context_dir(&tag)), "{tag} has a context");
            }
            continue;
        }
        for tag in r.tags() {
            tags += 1;
            let dir = context_dir(&tag);
            assert!(dirs.contains(&dir), "{tag} has no context");
            assert_eq!(render::tag_of_context_dir(&dir), Some(tag.clone()));
            assert!(tree.get(&dir.join("Dockerfile")).is_some());
            if tag.variant.base {
                for f in [
                    "constraints.txt",
                    "pip.conf",
                    "entrypoint.sh",
                    "airflow-constraint.txt",
                ] {
                    assert!(tree.get(&dir.join(f)).is_some(), "{tag}: {f}");
                }
            }
        }
    }
    assert_eq!(dirs.len(), tags);
    assert!(unbuildable > 40, "{unbuildable}");
}

/// Every generated Dockerfile parses, carries the matrix's Airflow version in its labels and
/// (base images) pins Airflow and every package of its variant, with COPY sources that exist in
/// its context.
#[test]
fn every_dockerfile_parses_and_pins_the_matrix() {
    let m = shipped();
    let tree = tree();
    let mut checked = 0;
    for r in m.releases() {
        let Some(airflow) = &r.airflow else {
            continue;
        };
        for tag in r.tags() {
            let dir = context_dir(&tag);
            let text = &tree.get(&dir.join("Dockerfile")).unwrap().contents;
            let parsed = parse_dockerfile::parse(text).unwrap_or_else(|e| panic!("{tag}: {e}"));
            assert!(!parsed.instructions.is_empty());
            assert!(
                text.contains(&format!(
                    "io.astronomer.docker.airflow.version=\"{airflow}\""
                )),
                "{tag}"
            );
            assert!(
                text.contains(&format!(
                    "io.astronomer.docker.runtime.version=\"{}\"",
                    r.version
                )),
                "{tag}"
            );
            if tag.variant.base {
                assert!(
                    text.contains(&format!("        apache-airflow=={airflow} \\\n")),
                    "{tag}"
                );
                for (name, version) in r.packages_of(&tag.variant).iter() {
                    assert!(
                        text.contains(&format!("        {name}=={version} \\\n")),
                        "{tag}: {name}"
                    );
                }
                for line in text.lines().filter(|l| l.starts_with("COPY ")) {
                    let src = line.split_whitespace().nth(1).unwrap();
                    assert!(
                        tree.get(&dir.join(src)).is_some(),
                        "{tag}: COPY {src} has no file in its context"
                    );
                }
            } else {
                assert!(
                    text.contains(&format!(
                        ":{}-base\n",
                        r.version.to_string() + &tag.variant.suffix()
                    )),
                    "{tag}"
                );
                assert!(text.contains("ONBUILD"), "{tag}");
            }
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

/// The drift check lists missing, stale, extra and unowned files and never writes; generate
/// fixes drift, removes only what it owns and is byte-identical on rerun.
#[test]
fn drift_check_and_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dockerfiles");
    let outs = out.to_str().unwrap();
    let first = common::run(&["generate", "--out", outs]);
    assert_eq!(first.code, 0, "{}", first.transcript());
    let clean = common::run(&["generate", "--check", "--out", outs]);
    assert_eq!(clean.code, 0, "{}", clean.transcript());
    let before = common::snapshot_dir(&out);
    // Rerun: nothing changes, not even a modification time.
    let again = common::run(&["generate", "--out", outs, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(report["changes"].as_array().unwrap().len(), 0);
    assert_eq!(common::snapshot_dir(&out), before);

    // Drift of every kind.
    let stale = out.join("5.0.13/base/Dockerfile");
    let edited = std::fs::read_to_string(&stale)
        .unwrap()
        .replace("apache-airflow==2.3.4", "apache-airflow==2.3.5");
    std::fs::write(&stale, edited).unwrap();
    std::fs::remove_file(out.join("7.6.0/onbuild/Dockerfile")).unwrap();
    std::fs::write(out.join("7.6.0/base/notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(out.join("99.0.0/base")).unwrap();
    std::fs::write(out.join("99.0.0/base/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(out.join("README.md"), "not generated\n").unwrap();
    let manifest = out.join(render::tree::MANIFEST);
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("99.0.0/base/Dockerfile\n");
    std::fs::write(&manifest, m).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        out.join("5.0.13/base/entrypoint.sh"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    let drifted = common::snapshot_dir(&out);
    let check = common::run(&["generate", "--check", "--out", outs]);
    assert_eq!(check.code, 1);
    assert_eq!(
        common::snapshot_dir(&out),
        drifted,
        "--check wrote something"
    );
    let listed = check.stdout.replace(outs, "OUT");
    snap!("generate_check_drift", listed);

    let fix = common::run(&["generate", "--out", outs]);
    assert_eq!(
        fix.code,
        1,
        "an unowned file in a context is reported: {}",
        fix.transcript()
    );
    assert!(
        !out.join("99.0.0").exists(),
        "the extra generated directory is removed"
    );
    assert!(
        out.join("README.md").exists(),
        "files generate does not own are never touched"
    );
    assert!(out.join("7.6.0/base/notes.txt").exists());
    assert!(
        fix.stderr
            .contains("2 files were not written by `runtime-kit generate`"),
        "{}",
        fix.stderr
    );
    std::fs::remove_file(out.join("7.6.0/base/notes.txt")).unwrap();
    let left = common::run(&["generate", "--check", "--out", outs]);
    assert_eq!(
        left.code,
        1,
        "README.md is not generated: {}",
        left.transcript()
    );
    std::fs::remove_file(out.join("README.md")).unwrap();
    let clean = common::run(&["generate", "--check", "--out", outs]);
    assert_eq!(clean.code, 0, "{}", clean.transcript());

    // A repository root that is not there is an error, not a tree without locks.
    let root = common::run(&[
        "generate",
        "--check",
        "--out",
        outs,
        "--root",
        "/no/such/root",
    ]);
    assert_eq!(root.code, 2, "{}", root.transcript());
    assert!(root.stderr.contains("/no/such/root"), "{}", root.stderr);
}

/// A write that fails half-way leaves the previous tree exactly as it was.
#[test]
fn failed_write_leaves_previous_tree_intact() {
    let m = shipped();
    let templates = Templates::load(None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dockerfiles");
    render::render_all(&templates, &m, &common::root())
        .unwrap()
        .write(&out)
        .unwrap();
    // Change the templates so every file is stale, then fail the write after 100 files.
    let over = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(over.path().join("partials")).unwrap();
    std::fs::write(
        over.path().join("partials/header.hbs"),
        "# Generated by runtime-kit (new header) {{tag}}\n",
    )
    .unwrap();
    let changed = render::render_all(
        &Templates::load(Some(over.path())).unwrap(),
        &m,
        &common::root(),
    )
    .unwrap();
    let before = common::snapshot_dir(&out);
    let mut n = 0;
    let err = changed
        .write_with(&out, &mut |_, _| {
            n += 1;
            if n > 100 {
                Err(std::io::Error::other("disk full (injected)"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(err.to_string().contains("disk full (injected)"), "{err}");
    assert_eq!(
        common::snapshot_dir(&out),
        before,
        "the previous tree changed"
    );
    // A real I/O error: a file where a context directory must go.
    let blocked = tmp.path().join("blocked");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("5.0.13"), "a file, not a directory").unwrap();
    let err = changed.write(&blocked).unwrap_err();
    assert!(err.to_string().contains("5.0.13"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&blocked)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "nothing but the blocking file: {left:?}");
}

/// The old tree of the step-by-step tests: one file to keep, two to replace, one to remove.
fn small_trees() -> (render::Tree, render::Tree) {
    use render::GeneratedFile as F;
    let old = render::Tree::new(vec![
        F::new("a/Dockerfile".into(), "FROM old\n".into()),
        F::new("a/keep.txt".into(), "same\n".into()),
        F::new("b/entrypoint".into(), "#!/bin/sh\nold\n".into()).executable(),
        F::new("gone/Dockerfile".into(), "FROM gone\n".into()),
    ]);
    let new = render::Tree::new(vec![
        F::new("a/Dockerfile".into(), "FROM new\n".into()),
        F::new("a/keep.txt".into(), "same\n".into()),
        F::new("b/entrypoint".into(), "#!/bin/sh\nnew\n".into()).executable(),
        F::new("c/d/Dockerfile".into(), "FROM created\n".into()),
    ]);
    (old, new)
}

/// generate is all-or-nothing: a failure injected at every single step (staging each file,
/// backing up each, renaming each into place, removing each extra) leaves the previous tree
/// byte for byte, with its modes and times, and no temporary or backup file behind.
#[test]
fn a_failure_at_any_step_leaves_the_previous_tree() {
    let (old, new) = small_trees();
    let tmp = tempfile::tempdir().unwrap();
    // Count the steps of a write that succeeds.
    let probe = tmp.path().join("probe");
    old.write(&probe).unwrap();
    let mut steps = Vec::new();
    new.write_with(&probe, &mut |step, path| {
        steps.push((step, path.to_path_buf()));
        Ok(())
    })
    .unwrap();
    assert!(new.diff(&probe).unwrap().is_empty());
    use render::WriteStep as S;
    for kind in [S::Stage, S::Backup, S::Replace, S::Remove] {
        assert!(
            steps.iter().any(|(s, _)| *s == kind),
            "no {kind:?} step: {steps:?}"
        );
    }
    for (fail_at, (step, path)) in steps.iter().enumerate() {
        let out = tmp.path().join(format!("out-{fail_at}"));
        old.write(&out).unwrap();
        let before = common::snapshot_dir(&out);
        let mut n = 0;
        let err = new
            .write_with(&out, &mut |_, _| {
                n += 1;
                if n > fail_at {
                    Err(std::io::Error::other("injected"))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(err.left().is_empty(), "step {fail_at}: {err}");
        assert!(err.to_string().contains("injected"), "{err}");
        assert_eq!(
            common::snapshot_dir(&out),
            before,
            "failing at step {fail_at} ({step:?} {}) changed the tree",
            path.display()
        );
        assert!(
            !out.join("c").exists(),
            "step {fail_at}: a new directory stays"
        );
    }
}

/// A file that cannot be replaced for real (immutable, as `chattr +i` makes it): generate
/// fails naming it and every other file stays as it was.
#[test]
fn an_immutable_file_fails_the_write_and_changes_nothing() {
    let (old, new) = small_trees();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    old.write(&out).unwrap();
    let pinned = out.join("b/entrypoint");
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&pinned)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !chattr("+i") {
        eprintln!("skipped: chattr +i is not available here (needs root and ext4 or alike)");
        return;
    }
    let before = common::snapshot_dir(&out);
    let result = new.write(&out);
    let after = common::snapshot_dir(&out);
    chattr("-i");
    let err = result.unwrap_err();
    assert!(err.to_string().contains("b/entrypoint"), "{err}");
    assert!(err.left().is_empty(), "{err}");
    assert_eq!(after, before, "the tree changed");
}

/// The temporary files of a killed run are drift: `generate --check` names them and exits 1,
/// `generate` removes them.
#[test]
fn leftovers_of_a_killed_run_are_drift_and_removed() {
    let tmp = common::scratch_repo();
    let dir = tmp.path().join("dockerfiles/5.0.13/base");
    let leftovers = [
        dir.join(".Dockerfile.tmp-4242"),
        dir.join(".Dockerfile.tmp-4242-17"),
        dir.join(".entrypoint.sh.bak-4242-3"),
    ];
    for path in &leftovers {
        std::fs::write(path, "half a file").unwrap();
    }
    let check = common::run_in(tmp.path(), &["generate", "--check"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    for path in &leftovers {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            check.stdout.contains("leftover") && check.stdout.contains(name),
            "{name} not reported: {}",
            check.transcript()
        );
    }
    let json = common::run_in(tmp.path(), &["generate", "--check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "leftover")
            .count(),
        3
    );
    let clean = common::run_in(tmp.path(), &["generate"]);
    assert_eq!(clean.code, 0, "{}", clean.transcript());
    assert!(clean.stdout.contains("removed"), "{}", clean.transcript());
    for path in &leftovers {
        assert!(!path.exists(), "{} stays", path.display());
    }
    let again = common::run_in(tmp.path(), &["generate", "--check"]);
    assert_eq!(again.code, 0, "{}", again.transcript());
}

/// The entrypoint makes the Local executor the default once the environment configures a
/// database that can run it, and leaves a bare container (SQLite) and an explicit executor alone.
#[test]
fn entrypoint_defaults_to_the_local_executor() {
    let tree = tree();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("entrypoint.sh");
    std::fs::write(&script, file(&tree, "5.0.13-base", "entrypoint.sh")).unwrap();
    let executor = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(&script)
            .arg("printenv")
            .arg("AIRFLOW__CORE__EXECUTOR");
        for key in [
            "AIRFLOW__CORE__EXECUTOR",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "AIRFLOW__CORE__SQL_ALCHEMY_CONN",
        ] {
            cmd.env_remove(key);
        }
        cmd.envs(env.iter().copied());
        let out = cmd.output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let postgres = "postgresql://airflow:airflow@postgres/airflow";
    assert_eq!(executor(&[]), "");
    assert_eq!(
        executor(&[("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:////tmp/a.db")]),
        ""
    );
    assert_eq!(
        executor(&[("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", postgres)]),
        "LocalExecutor"
    );
    assert_eq!(
        executor(&[("AIRFLOW__CORE__SQL_ALCHEMY_CONN", postgres)]),
        "LocalExecutor"
    );
    assert_eq!(
        executor(&[
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", postgres),
            ("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
        ]),
        "CeleryExecutor"
    );
}

/// A committed lock must hold the release's own pins: a hand edit (or a lock of another entry)
/// stops the render with the lock's path and what differs, before anything is written.
#[test]
fn a_lock_that_lost_a_release_pin_stops_the_render() {
    let m = shipped();
    let templates = Templates::load(None).unwrap();
    let release = m.release(&"5.0.6".parse().unwrap()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let lock = root.path().join("locks/5.0.6/python-3.9.txt");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let good = std::fs::read_to_string(common::root().join("locks/5.0.6/python-3.9.txt")).unwrap();
    std::fs::write(&lock, &good).unwrap();
    render::render_release(&templates, &m, release, root.path()).expect("the committed lock");

    let cases = [
        (
            good.replace("apache-airflow==2.3.3\n", "apache-airflow==1.0.0\n"),
            "apache-airflow==2.3.3 (the lock has 1.0.0)",
        ),
        (
            good.replace("apache-airflow-providers-amazon==4.0.0\n", ""),
            "apache-airflow-providers-amazon==4.0.0 (not in the lock)",
        ),
        (
            "# empty\n".to_string(),
            "apache-airflow==2.3.3 (not in the lock)",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&lock, &text).unwrap();
        let err = render::render_release(&templates, &m, release, root.path())
            .expect_err(expected)
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("locks/5.0.6/python-3.9.txt"), "{err}");
        assert!(err.contains("runtime-kit lock 5.0.6 --python 3.9"), "{err}");
    }
    // The same versions written another PEP 440 way are the same pins.
    std::fs::write(
        &lock,
        good.replace("apache-airflow==2.3.3", "Apache_Airflow==2.3.3.0"),
    )
    .unwrap();
    render::render_release(&templates, &m, release, root.path()).expect("an equal pin");
}

/// Template overrides work, and strict mode turns a misspelt key into an error, never empty text.
#[test]
fn template_overrides_and_strict_mode() {
    let over = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(over.path().join("partials")).unwrap();
    std::fs::write(
        over.path().join("partials/labels.hbs"),
        "LABEL custom=\"{{airflow}}\"\n",
    )
    .unwrap();
    let m = shipped();
    let t = Templates::load(Some(over.path())).unwrap();
    let r = m.release(&"5.0.13".parse().unwrap()).unwrap();
    let files = render::render_release(&t, &m, r, &common::root()).unwrap();
    assert!(files[0].contents.contains("LABEL custom=\"2.3.4\"\n"));

    std::fs::write(
        over.path().join("partials/labels.hbs"),
        "LABEL x=\"{{airflwo}}\"\n",
    )
    .unwrap();
    let t = Templates::load(Some(over.path())).unwrap();
    let err = render::render_release(&t, &m, r, &common::root())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("airflwo") && err.contains("for 5.0.13"),
        "{err}"
    );

    std::fs::write(over.path().join("base.Dockerfile.hbs"), "{{#if}}").unwrap();
    let err = Templates::load(Some(over.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("base.Dockerfile"), "{err}");
    assert!(
        err.contains(&over.path().display().to_string()),
        "names the override: {err}"
    );

    // A misspelt override, or a directory that is not there, is an error: never silently the
    // embedded templates.
    std::fs::remove_file(over.path().join("base.Dockerfile.hbs")).unwrap();
    std::fs::write(over.path().join("partials/lables.hbs"), "LABEL x=1\n").unwrap();
    let err = Templates::load(Some(over.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("partials/lables.hbs overrides no template")
            && err.contains("partials/labels.hbs"),
        "{err}"
    );
    let missing = common::run(&["generate", "--check", "--templates", "/no/such/templates"]);
    assert_eq!(missing.code, 2, "{}", missing.transcript());
    assert!(
        missing.stderr.contains("/no/such/templates"),
        "{}",
        missing.stderr
    );
}

/// The committed tree is exactly what generate makes from the committed matrix and locks.
#[test]
fn committed_tree_is_current() {
    let out = common::run(&["generate", "--check"]);
    assert_eq!(
        out.code,
        0,
        "dockerfiles/ is out of date:\n{}",
        out.transcript()
    );
}

fn hadolint() -> Option<PathBuf> {
    let path = common::root().join(".venv/bin/hadolint");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("RUNTIME_KIT_REQUIRE_TOOLS").is_none(),
        "hadolint is required (scripts/setup-venv.sh installs it)"
    );
    eprintln!("SKIPPED: hadolint not installed (scripts/setup-venv.sh)");
    None
}

/// hadolint reports nothing on the whole committed tree (ignores carry reasons in .hadolint.yaml).
#[test]
fn hadolint_is_clean_on_the_generated_tree() {
    let Some(hadolint) = hadolint() else { return };
    let root = common::root();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.join("dockerfiles")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "Dockerfile") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 500);
    let out = std::process::Command::new(hadolint)
        .arg("--config")
        .arg(root.join(".hadolint.yaml"))
        .args(["--format", "json", "--failure-threshold", "style"])
        .args(&files)
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 0, "{findings:#}");
    assert!(out.status.success());
}

/// Runs `runtime-kit ARGS` at the repository root with `dir` mounted read-only (a bind mount in a
/// private mount namespace, so nothing outlives the command). `None` where this machine cannot
/// (not root, no `unshare`): the caller skips visibly, or fails under RUNTIME_KIT_REQUIRE_TOOLS.
fn run_read_only(dir: &Path, args: &[&str]) -> Option<common::Run> {
    const MOUNTED: &str = "runtime-kit-test: read-only mount in place\n";
    let d = dir.display().to_string();
    let script = format!(
        "mount --bind \"$1\" \"$1\" && mount -o remount,ro,bind \"$1\" \"$1\" || exit 97; printf '{}' >&2; shift; exec \"$@\"",
        MOUNTED.trim_end()
    );
    let out = std::process::Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
            &d,
        ])
        .arg(env!("CARGO_BIN_EXE_runtime-kit"))
        .args(args)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Without the marker the mount (or unshare itself) failed: this machine cannot do it.
    let stderr = stderr.strip_prefix(MOUNTED.trim_end())?.to_string();
    Some(common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    })
}

fn skip_or_fail(what: &str) {
    let msg = format!("SKIPPED {what}: needs root and unshare for a read-only bind mount");
    assert!(
        std::env::var_os("RUNTIME_KIT_REQUIRE_TOOLS").is_none(),
        "{msg}"
    );
    eprintln!("{msg}");
}

/// `--check` never writes, even to report drift, and runs on a read-only tree; `generate` on a
/// read-only tree fails naming the place and leaves it as it was.
#[test]
fn read_only_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dockerfiles");
    tree().write(&out).unwrap();
    let outs = out.to_str().unwrap();

    let Some(clean) = run_read_only(&out, &["generate", "--check", "--out", outs]) else {
        return skip_or_fail("read_only_tree");
    };
    assert_eq!(clean.code, 0, "{}", clean.transcript());

    // Drift: one stale Dockerfile, one missing file.
    std::fs::write(out.join("5.0.13/base/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::remove_file(out.join("4.2.9/onbuild/Dockerfile")).unwrap();
    let before = common::snapshot_dir(&out);
    let check = run_read_only(&out, &["generate", "--check", "--out", outs]).unwrap();
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(
        check.stdout.contains("5.0.13/base/Dockerfile")
            && check.stdout.contains("4.2.9/onbuild/Dockerfile"),
        "{}",
        check.transcript()
    );
    assert_eq!(common::snapshot_dir(&out), before);

    let write = run_read_only(&out, &["generate", "--out", outs]).unwrap();
    assert_eq!(write.code, 2, "{}", write.transcript());
    assert!(
        write.stderr.contains(outs) && write.stderr.to_lowercase().contains("read-only"),
        "the error names the tree and the cause: {}",
        write.transcript()
    );
    assert_eq!(
        common::snapshot_dir(&out),
        before,
        "a failed generate changed the tree"
    );
}

/// Two `generate` runs at once with different templates: the directory lock makes them take
/// turns, so the tree ends up exactly as one of them renders it, never a mixture.
#[test]
fn concurrent_runs_do_not_interleave() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dockerfiles");
    let outs = out.to_str().unwrap().to_string();
    let mut overrides = Vec::new();
    for name in ["first", "second"] {
        let dir = tmp.path().join(format!("templates-{name}"));
        std::fs::create_dir_all(dir.join("partials")).unwrap();
        std::fs::write(
            dir.join("partials/header.hbs"),
            format!("# Generated by runtime-kit ({name} run) {{{{tag}}}}\n"),
        )
        .unwrap();
        overrides.push((name, dir));
    }
    for round in 0..3 {
        let children: Vec<_> = overrides
            .iter()
            .map(|(_, dir)| {
                std::process::Command::new(env!("CARGO_BIN_EXE_runtime-kit"))
                    .args(["generate", "--out", &outs, "--templates"])
                    .arg(dir)
                    .current_dir(common::root())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success() || o.status.code() == Some(1),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // Every Dockerfile carries the header of the same run.
        let mut headers = std::collections::BTreeSet::new();
        let mut dockerfiles = 0;
        for (path, _) in common::snapshot_dir(&out) {
            if path.file_name().is_some_and(|n| n == "Dockerfile") {
                dockerfiles += 1;
                let text = std::fs::read_to_string(out.join(&path)).unwrap();
                let first = text.lines().next().unwrap_or("").to_string();
                headers.insert(first.split(" run)").next().unwrap_or("").to_string());
            }
        }
        assert!(dockerfiles > 500, "{dockerfiles} Dockerfiles");
        assert_eq!(headers.len(), 1, "round {round}: a mixed tree: {headers:?}");
    }
}
