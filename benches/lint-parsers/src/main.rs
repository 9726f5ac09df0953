//! Compares Dockerfile parsers with BuildKit's on the lint corpus: which files each accepts, and
//! whether it finds the same instructions (keyword and line range) as BuildKit. Prints a Markdown
//! table for docs/lint.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// (keyword, first line, last line); lines are `None` when the parser has no positions.
type Instr = (String, Option<usize>, Option<usize>);

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn parse_dockerfile(text: &str) -> Result<Vec<Instr>, String> {
    use parse_dockerfile as pd;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let items = pd::parse_iter(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for i in items {
        let i = i.map_err(|e| e.to_string())?;
        // Keyword position only: the end line is what runtime-kit computes from the spans.
        let (kw, span) = keyword(&i);
        out.push((kw.to_string(), Some(line_of(text, span)), None));
    }
    Ok(out)
}

fn keyword(i: &parse_dockerfile::Instruction<'_>) -> (&'static str, usize) {
    use parse_dockerfile::Instruction as I;
    match i {
        I::Add(x) => ("ADD", x.add.span.start),
        I::Arg(x) => ("ARG", x.arg.span.start),
        I::Cmd(x) => ("CMD", x.cmd.span.start),
        I::Copy(x) => ("COPY", x.copy.span.start),
        I::Entrypoint(x) => ("ENTRYPOINT", x.entrypoint.span.start),
        I::Env(x) => ("ENV", x.env.span.start),
        I::Expose(x) => ("EXPOSE", x.expose.span.start),
        I::From(x) => ("FROM", x.from.span.start),
        I::Healthcheck(x) => ("HEALTHCHECK", x.healthcheck.span.start),
        I::Label(x) => ("LABEL", x.label.span.start),
        I::Maintainer(x) => ("MAINTAINER", x.maintainer.span.start),
        I::Onbuild(x) => ("ONBUILD", x.onbuild.span.start),
        I::Run(x) => ("RUN", x.run.span.start),
        I::Shell(x) => ("SHELL", x.shell.span.start),
        I::Stopsignal(x) => ("STOPSIGNAL", x.stopsignal.span.start),
        I::User(x) => ("USER", x.user.span.start),
        I::Volume(x) => ("VOLUME", x.volume.span.start),
        I::Workdir(x) => ("WORKDIR", x.workdir.span.start),
        _ => ("?", 0),
    }
}

fn dockerfile_parser(text: &str) -> Result<Vec<Instr>, String> {
    use dockerfile_parser::{Dockerfile, Instruction as I};
    let df = Dockerfile::parse(text).map_err(|e| e.to_string())?;
    Ok(df
        .instructions
        .iter()
        .map(|i| {
            let kw = match i {
                I::From(_) => "FROM".to_string(),
                I::Arg(_) => "ARG".to_string(),
                I::Label(_) => "LABEL".to_string(),
                I::Run(_) => "RUN".to_string(),
                I::Entrypoint(_) => "ENTRYPOINT".to_string(),
                I::Cmd(_) => "CMD".to_string(),
                I::Copy(_) => "COPY".to_string(),
                I::Env(_) => "ENV".to_string(),
                I::Misc(m) => m.instruction.content.to_uppercase(),
            };
            let span = i.span();
            (kw, Some(line_of(text, span.start)), Some(line_of(text, span.end.saturating_sub(1).max(span.start))))
        })
        .collect())
}

fn dockerfile_parser_rs(text: &str) -> Result<Vec<Instr>, String> {
    let df: dockerfile_parser_rs::Dockerfile = text.parse().map_err(|e| format!("{e:?}"))?;
    let json: serde_json::Value = serde_json::from_str(&df.to_json().map_err(|e| format!("{e:?}"))?).unwrap();
    Ok(json["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            let name = match i {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => o.keys().next()?.clone(),
                _ => return None,
            };
            (name != "Empty" && name != "Comment").then(|| (name.to_uppercase(), None, None))
        })
        .collect())
}

type Parser = fn(&str) -> Result<Vec<Instr>, String>;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = root.join("tests/lint-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("Dockerfile"))
        .collect();
    files.sort();
    let python = std::env::var("RUNTIME_KIT_PYTHON").unwrap_or_else(|_| root.join(".venv/bin/python").to_string_lossy().into_owned());
    let script = r#"
import json, sys, dockerfile
out = {}
for p in sys.argv[1:]:
    try:
        out[p] = [[c.cmd.upper(), c.start_line, c.end_line] for c in dockerfile.parse_file(p)]
    except Exception as e:
        out[p] = None
print(json.dumps(out))
"#;
    let bk = Command::new(&python).arg("-c").arg(script).args(&files).output().expect("python with PyPI dockerfile");
    let bk: BTreeMap<String, Option<Vec<(String, usize, usize)>>> = serde_json::from_slice(&bk.stdout).expect("BuildKit JSON");
    // Files BuildKit's parser accepts but its frontend refuses (see tests/lint_differential.rs).
    let frontend_rejects = ["42-unknown-instruction", "43-no-from", "46-onbuild-onbuild", "61-binary-garbage", "62-latin1"];
    let parsers: [(&str, Parser); 3] = [
        ("parse-dockerfile 0.1.9", parse_dockerfile),
        ("dockerfile-parser 0.9.0", dockerfile_parser),
        ("dockerfile-parser-rs 3.4.0", dockerfile_parser_rs),
    ];
    println!("| parser | BuildKit-valid files parsed | same instructions | same start lines | same line ranges | invalid files refused | panics | time for the corpus ×100 |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, parse) in parsers {
        let (mut valid, mut parsed, mut same_kw, mut same_start, mut same_range, mut invalid, mut refused, mut panics) = (0, 0, 0, 0, 0, 0, 0, 0);
        let mut failures = Vec::new();
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let want = bk.get(&f.to_string_lossy().into_owned()).cloned().flatten();
            let stem = f.file_stem().unwrap().to_string_lossy().replace(".Dockerfile", "");
            let ok_for_buildkit = want.is_some() && !frontend_rejects.iter().any(|r| stem.starts_with(r));
            let got = std::panic::catch_unwind(|| parse(&text));
            let got = match got {
                Ok(g) => g,
                Err(_) => {
                    panics += 1;
                    Err("panic".into())
                }
            };
            if !ok_for_buildkit {
                invalid += 1;
                refused += usize::from(got.is_err());
                continue;
            }
            valid += 1;
            let want = want.unwrap();
            let Ok(got) = got else {
                failures.push(format!("{stem}: {}", got.unwrap_err().lines().next().unwrap_or("")));
                continue;
            };
            parsed += 1;
            let kws = |v: &[Instr]| v.iter().map(|i| i.0.clone()).collect::<Vec<_>>();
            let want_kw: Vec<String> = want.iter().map(|w| w.0.clone()).collect();
            if kws(&got) == want_kw {
                same_kw += 1;
                if got.iter().zip(&want).all(|(g, w)| g.1 == Some(w.1)) {
                    same_start += 1;
                }
                if got.iter().zip(&want).all(|(g, w)| g.1 == Some(w.1) && g.2 == Some(w.2)) {
                    same_range += 1;
                }
            } else {
                failures.push(format!("{stem}: instructions {:?} vs BuildKit {:?}", kws(&got), want_kw));
            }
        }
        let texts: Vec<String> = files.iter().map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned()).collect();
        let start = Instant::now();
        for _ in 0..100 {
            for t in &texts {
                let _ = std::panic::catch_unwind(|| parse(t));
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let range = if name.starts_with("parse-dockerfile") { "(end from spans: see runtime-kit)".to_string() } else { format!("{same_range}/{valid}") };
        println!("| {name} | {parsed}/{valid} | {same_kw}/{valid} | {same_start}/{valid} | {range} | {refused}/{invalid} | {panics} | {ms:.0} ms |");
        for f in failures {
            eprintln!("  {name}: {f}");
        }
    }
}
