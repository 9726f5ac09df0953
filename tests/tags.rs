//! The tag plan: exact tags and floating aliases, on the shipped matrix and on small matrices
//! that pin each rule down.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{run, run_in, shipped_matrix};
use runtime_kit::matrix::Matrix;
use runtime_kit::tags::{AliasLevel, Tag, TagPlan};

fn plan_of(text: &str) -> Result<TagPlan, String> {
    let m = Matrix::from_str_named(text, "m.toml").map_err(|e| e.to_string())?;
    TagPlan::new(&m).map_err(|e| e.to_string())
}

/// `alias -> target` of a plan.
fn aliases(plan: &TagPlan) -> BTreeMap<String, String> {
    plan.aliases()
        .into_iter()
        .map(|a| (a.tag.to_string(), a.target.to_string()))
        .collect()
}

const HEAD: &str = r#"schema = 1
[series.3]
channel = "stable"
python = "3.9"
[series.5]
channel = "stable"
python = "3.9"
[series.9]
channel = "stable"
python = "3.11"
"#;

fn release(version: &str, airflow: &str, extra: &str) -> String {
    format!(
        "[[release]]\nversion = \"{version}\"\nairflow = \"{airflow}\"\ndate = 2023-01-01\nunknown = [\"packages\"]\n{extra}\n"
    )
}

#[test]
fn the_shipped_matrix() {
    let matrix = Matrix::load(shipped_matrix()).unwrap();
    let plan = TagPlan::new(&matrix).unwrap();
    let exact = plan.exact_tags().count();
    let all = plan.aliases();
    assert_eq!((exact, all.len(), plan.len()), (1082, 724, 1806));
    // An Airflow 3 line: `3.1` and `3.1-base` on its newest build, no `-python-X.Y` alias, no `3`.
    assert_eq!(plan.alias("3.1").unwrap().target.to_string(), "3.1-21");
    assert_eq!(
        plan.alias("3.1-base").unwrap().target.to_string(),
        "3.1-21-base"
    );
    assert!(plan.alias("3.1-python-3.11").is_none());
    assert_eq!(plan.alias("3.3").unwrap().target.to_string(), "3.3-8");
    // Runtime 3 (Airflow 2.1, quay.io) has `3` and `3.0`; the Airflow 3 lines'
    // repository has its own `3.0`, and no `3`.
    let quay = "quay.io/astronomer/astro-runtime";
    let azure = "astrocrpublic.azurecr.io/runtime";
    assert_eq!(
        plan.alias_in(quay, "3").unwrap().target.to_string(),
        "3.0.4"
    );
    assert!(plan.alias_in(azure, "3").is_none());
    assert_eq!(
        plan.alias_in(quay, "3.0").unwrap().target.to_string(),
        "3.0.4"
    );
    assert_eq!(
        plan.alias_in(azure, "3.0").unwrap().target.to_string(),
        "3.0-18"
    );
    assert!(plan.alias_in(quay, "3.1").is_none());
    // Airflow 2: 13 and its Python aliases.
    assert_eq!(plan.alias("13").unwrap().target.to_string(), "13.11.0");
    assert_eq!(
        plan.alias("13-python-3.11-slim")
            .unwrap()
            .target
            .to_string(),
        "13.11.0-python-3.11-slim"
    );
    assert!(
        plan.contains("13.11.0-slim-python-3.11"),
        "the other suffix order is read too"
    );

    // Every tag is a valid OCI tag, and none is planned twice in one repository.
    let mut seen = HashSet::new();
    for (repo, name) in plan
        .exact_tags()
        .map(|(r, t)| (r.repository.clone(), t.to_string()))
        .chain(
            all.iter()
                .map(|a| (a.repository.clone(), a.tag.to_string())),
        )
    {
        name.parse::<Tag>().unwrap();
        assert!(
            seen.insert((repo.clone(), name.clone())),
            "{repo}:{name} twice"
        );
    }

    // Every alias points at the newest eligible release of its series that has the variant,
    // computed here the plain way.
    for a in &all {
        let eligible: Vec<_> = matrix
            .releases()
            .iter()
            .filter(|r| !r.is_yanked() && !r.version.is_prerelease())
            .filter(|r| r.repository == a.repository)
            .filter(|r| r.has_variant(&a.variant))
            .filter(|r| {
                let (x, y) = r.version.minor_series();
                match a.level {
                    AliasLevel::Major => x.to_string() == a.series,
                    AliasLevel::Minor => format!("{x}.{y}") == a.series,
                }
            })
            .collect();
        let newest = eligible.last().expect("an alias has a target");
        assert_eq!(a.target.version, newest.version, "{}", a.tag);
        assert_eq!(a.target.variant, a.variant);
        assert_eq!(
            a.tag.to_string(),
            format!("{}{}", a.series, a.variant.suffix())
        );
    }
    // Yanked releases receive none.
    for r in plan.releases().iter().filter(|r| r.yanked) {
        assert!(r.aliases.is_empty(), "{} is yanked", r.version);
    }
    let a = aliases(&plan);
    assert_eq!(a["9"], "9.21.0");
    assert_eq!(a["9-python-3.8-base"], "9.21.0-python-3.8-base");
    assert_eq!(
        a["11-python-3.12-slim-base"],
        "11.8.0-python-3.12-slim-base"
    );
    assert!(!a.contains_key("9.0"), "9.0.0 is yanked and alone in 9.0");
    assert!(
        !a.contains_key("11-python-3.11"),
        "3.11 is 11's default, not a variant"
    );
}

#[test]
fn aliases_follow_the_newest_release_that_has_the_variant() {
    let text = [
        HEAD.to_string(),
        release("9.0.0", "2.7.0", "python-variants = [\"3.8\", \"3.10\"]"),
        release("9.1.0", "2.7.1", "python-variants = [\"3.10\"]"),
        release(
            "9.2.0",
            "2.7.2",
            "python-variants = [\"3.10\", \"3.12\"]\nyanked = true\nyanked-reason = \"bad\"",
        ),
    ]
    .concat();
    let plan = plan_of(&text).unwrap();
    let a = aliases(&plan);
    // 9.2.0 is yanked: nothing points at it, not even its new -python-3.12.
    assert_eq!(a["9"], "9.1.0");
    assert_eq!(a["9-python-3.10-base"], "9.1.0-python-3.10-base");
    // 9.1.0 dropped Python 3.8: the alias stays on the last release that had it.
    assert_eq!(a["9-python-3.8"], "9.0.0-python-3.8");
    assert_eq!(a["9.0-python-3.8"], "9.0.0-python-3.8");
    assert!(!a.contains_key("9.1-python-3.8"));
    assert!(!a.keys().any(|k| k.contains("3.12")), "{a:?}");
    assert!(!a.contains_key("9.2"));
    assert_eq!(
        plan.release(&"9.0.0".parse().unwrap())
            .unwrap()
            .aliases
            .len(),
        8,
        "9-python-3.8 and 9.0, each with -base; 9.0-python-3.8 and 9.0-python-3.10, each with -base"
    );
}

#[test]
fn prereleases_and_the_build_scheme() {
    let text = [
        HEAD.to_string(),
        release("3.0.0", "2.1.1", ""),
        release("3.0.1", "2.1.1", ""),
        release("5.0.0-rc1", "2.3.0", ""),
        release("5.0.0", "2.3.0", ""),
        release("5.0.1-rc1", "2.3.0", ""),
        "[series.\"3.0\"]\nchannel = \"stable\"\npython = \"3.12\"\n".to_string(),
        release("3.0-1", "3.0.1", ""),
        release("3.0-2", "3.0.2", ""),
    ]
    .concat();
    let plan = match plan_of(&text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let a = aliases(&plan);
    // A pre-release gets exact tags only.
    assert_eq!(a["5"], "5.0.0");
    assert_eq!(a["5.0-base"], "5.0.0-base");
    let rc = plan.release(&"5.0.1-rc1".parse().unwrap()).unwrap();
    assert!(rc.prerelease && rc.aliases.is_empty());
    assert_eq!(rc.tags[1].to_string(), "5.0.1-rc1-base");
    // `3.0` names both the 3.0.x line and the Airflow 3.0 builds: the builds are newer.
    assert_eq!(a["3.0"], "3.0-2");
    assert_eq!(a["3.0-base"], "3.0-2-base");
    // The semantic major `3` stays on 3.0.1: a build version never takes a major alias.
    assert_eq!(a["3"], "3.0.1");
}

#[test]
fn a_tag_longer_than_the_grammar_allows_is_refused() {
    let long = format!("5.0.0-rc{}", "1".repeat(118));
    let text = [HEAD.to_string(), release(&long, "2.3.0", "")].concat();
    let e = plan_of(&text).unwrap_err();
    assert!(
        e.starts_with(&format!(
            "release {long}: tag \"{long}-base\" is not a valid OCI tag"
        )),
        "{e}"
    );
    assert!(e.contains("it is 131 characters long"), "{e}");
}

#[test]
fn cli() {
    let run1 = run(&["tags", "5.0.13", "9.1.0", "11.8.0"]);
    assert_eq!(run1.code, 0, "{}", run1.transcript());
    snap!("tags_cli_table", run1.transcript());
    let json = run(&["tags", "5.0.13", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.transcript());
    snap!("tags_cli_json", json.transcript());
    let all = run(&["tags"]);
    assert_eq!(all.code, 0);
    assert_eq!(all.stdout.lines().count(), 1 + 1806);

    let bad = run(&["tags", "99.0.0"]);
    assert_eq!(bad.code, 2, "{}", bad.transcript());
    assert_eq!(bad.stderr, "error: 99.0.0 is not a release in the matrix\n");
    let bad = run(&["tags", "5.0"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("expected a Runtime version like"),
        "{}",
        bad.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["tags"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read the matrix"), "{}", r.stderr);
}
