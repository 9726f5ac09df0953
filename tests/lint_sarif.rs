//! `runtime-kit lint --format sarif` is a valid SARIF 2.1.0 log (checked against the OASIS schema
//! vendored in `tests/lint-data/`, formats included) and carries what GitHub code scanning reads:
//! rule ids with descriptions, levels, relative artifact URIs and 1-based regions.

mod common;

use common::{root, run};
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(root().join("tests/lint-data/sarif-schema-2.1.0.json")).unwrap();
    // The published schema's pattern for `language` (of a run and of a message string) has a stray `]`, which is not a valid
    // ECMA-262 regular expression in Unicode mode, so a validator that checks the schema's own
    // formats refuses it. The vendored copy stays byte for byte; that pattern is mended here
    // (runtime-kit writes no `language`, so it cannot hide a defect of ours).
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(broken).count(), 2, "the schema's known defect");
    let text = text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn sarif(args: &[&str]) -> Value {
    let mut all = vec!["lint", "--no-config", "--no-matrix", "--format", "sarif"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(out.code == 0 || out.code == 1, "{}", out.transcript());
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn assert_valid(log: &Value) {
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    // The whole corpus: findings of every kind, syntax errors, CRLF, BOM, binary files.
    let log = sarif(&["tests/lint-corpus"]);
    assert_valid(&log);
    let run0 = &log["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert!(results.len() >= 50, "{} results", results.len());
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("tests/lint-corpus/"), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    for r in rules {
        assert!(r["shortDescription"]["text"].as_str().unwrap().len() > 10);
        assert!(r["help"]["text"].as_str().unwrap().len() > 50);
    }
}

#[test]
fn sarif_of_a_clean_run_validates_too() {
    let log = sarif(&["tests/lint-corpus/04-apt-good.Dockerfile"]);
    assert_valid(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn an_invalid_log_is_refused_by_the_schema() {
    // The validator is not vacuous: a log missing its version and with a bad level fails.
    let mut log = sarif(&["tests/lint-corpus/03-apt-bad.Dockerfile"]);
    log.as_object_mut().unwrap().remove("version");
    log["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator().is_valid(&log));
}
