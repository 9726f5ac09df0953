//! The template render of an arbitrary valid-looking release: an injection oracle.
//!
//! The fuzzer picks a release's shape (how many packages, Python variants, indexes, whether it
//! has slim images, a source label, a pinned base image...) and, for every field, a value: a
//! known-good one, a known-good one with fuzzer text spliced in, or raw fuzzer text. The values
//! are written into matrix text as escaped TOML strings, so anything (newlines, quotes, `\`,
//! `$(...)`) reaches the loader. When the loader accepts the matrix, every file of the release is
//! rendered and compared with a baseline: the same shape with known-good values. Each file must
//! have the baseline's *shape* (its text with every run of value characters replaced by one
//! placeholder: so the same lines, quotes, spaces, `$` and `\`), and every Dockerfile must parse
//! with `parse_dockerfile` into the baseline's instruction kinds. A value that slipped a newline,
//! quote or shell metacharacter through validation changes the shape.
#![no_main]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::Path;
use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use runtime_kit::matrix::Matrix;
use runtime_kit::render::{self, Templates};

/// A field's value: a known-good value of its kind, or fuzzer text.
#[derive(Arbitrary, Clone, Debug)]
enum Field {
    /// The first known-good value (what the baseline uses).
    Canonical,
    /// Another known-good value.
    Pick(u8),
    /// The canonical value with fuzzer text inserted at a character position.
    Splice(u8, String),
    /// Fuzzer text alone.
    Raw(String),
}

#[derive(Arbitrary, Clone, Debug)]
struct Pin {
    name: Field,
    version: Field,
}

#[derive(Arbitrary, Clone, Debug)]
struct Index {
    name: Field,
    url: Field,
    /// Whether this index (the i-th) lists the i-th pinned package. Two indexes never list the
    /// same package: which of them serves it would depend on their names' order, a difference
    /// in shape that is not an injection.
    serves: bool,
}

/// One release and the matrix around it. Vectors are cut to a few items when written.
#[derive(Arbitrary, Clone, Debug)]
struct Input {
    version: Field,
    airflow: Field,
    series_python: Field,
    python: Option<Field>,
    python_variants: Vec<Field>,
    debian: Option<Field>,
    default_debian: Option<Field>,
    repository: Option<Field>,
    source: Option<Field>,
    packages: Vec<Pin>,
    slim_packages: Option<Vec<Pin>>,
    packages_unknown: bool,
    indexes: Vec<Index>,
    /// The release's own index (modulo the number of indexes).
    own_index: Option<u8>,
    yanked: Option<Field>,
    base_image: Option<(Field, Field)>,
}

const VERSIONS: &[&str] = &["5.0.6", "11.2.0", "5.0.0-rc1", "3.1-12", "0.0.0"];
const AIRFLOWS: &[&str] = &["2.3.3", "2.10.5", "3.1.0", "2.3.0rc1", "2.3.3.post1"];
const PYTHONS: &[&str] = &["3.9", "3.10", "3.11", "3.12", "2.7"];
const VARIANTS: &[&[&str]] = &[&["3.10", "3.8"], &["3.11", "3.12"]];
const DEBIANS: &[&str] = &["bullseye", "bookworm", "buster"];
const REPOSITORIES: &[&str] = &[
    "quay.io/astronomer/astro-runtime",
    "localhost:5000/runtime",
    "runtime",
];
const SOURCES: &[&str] = &["https://example.com/runtime", "http://127.0.0.1:8080/src"];
const NAMES: &[&[&str]] = &[
    &[
        "astronomer-providers",
        "apache-airflow-providers-amazon",
        "a",
    ],
    &["apache-airflow-providers-celery", "x.y", "b2"],
    &["astro-sdk-python", "z", "c_d"],
];
const PINS: &[&str] = &["1.7.1", "1!2.0.0", "7.0.0+astro.2", "2.0.0rc1", "1.0.post1"];
const INDEX_NAMES: &[&[&str]] = &[&["vendor", "a-1"], &["second", "B"]];
const URLS: &[&str] = &[
    "https://pip.example.com/simple/",
    "http://localhost:8080/~x/",
];
const REASONS: &[&str] = &["withdrawn: a broken provider", "x"];
const IMAGES: &[&str] = &["python:3.9-slim-bullseye", "python:3.10-slim-bookworm"];
const DIGESTS: &[&str] =
    &["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"];

impl Field {
    fn value(&self, good: &[&str]) -> String {
        match self {
            Field::Canonical => good[0].to_string(),
            Field::Pick(i) => good[usize::from(*i) % good.len()].to_string(),
            Field::Splice(at, text) => {
                let mut s = good[0].to_string();
                let at = s
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([s.len()])
                    .nth(usize::from(*at) % (s.chars().count() + 1))
                    .unwrap_or(s.len());
                s.insert_str(at, text);
                s
            }
            Field::Raw(text) => text.clone(),
        }
    }
}

impl Input {
    /// The same shape with every field at its canonical value. Two classes of value choose what
    /// a release's files are, not only what they print, and keep their class: an Airflow 3
    /// version (its images run other commands, in another ONBUILD order) and a pin in a vendor
    /// build's form (`1!2.0.0`, `7.0.0+astro.2`, installed in a step of its own on a release
    /// with an index).
    fn canonical(&self) -> Input {
        let c = |_: &Field| Field::Canonical;
        // Pin names are renamed one to one, so the same names stay the same (an index serves the
        // package of that name, a name twice stays a duplicate) and different ones different.
        let mut seen: Vec<String> = Vec::new();
        let mut rename = |name: String| -> Field {
            let i = seen.iter().position(|n| *n == name).unwrap_or_else(|| {
                seen.push(name);
                seen.len() - 1
            });
            Field::Raw(format!("canon-{i}"))
        };
        let version = |p: &Pin| {
            if p.version.value(PINS).contains(['!', '+']) {
                Field::Pick(1) // 1!2.0.0
            } else {
                Field::Canonical
            }
        };
        let packages: Vec<Pin> = self
            .packages
            .iter()
            .take(3)
            .enumerate()
            .map(|(i, p)| Pin {
                name: rename(p.name.value(NAMES[i])),
                version: version(p),
            })
            .collect();
        let slim_packages: Option<Vec<Pin>> = self.slim_packages.as_ref().map(|v| {
            v.iter()
                .take(2)
                .enumerate()
                .map(|(i, p)| Pin {
                    name: rename(p.name.value(NAMES[i])),
                    version: version(p),
                })
                .collect()
        });
        let airflow3 = self
            .airflow
            .value(AIRFLOWS)
            .split('.')
            .next()
            .and_then(|m| m.parse::<u64>().ok())
            .is_some_and(|m| m >= 3);
        let (version, airflow) = if airflow3 {
            (Field::Pick(3), Field::Pick(2)) // 3.1-12, 3.1.0
        } else {
            (Field::Canonical, Field::Canonical)
        };
        Input {
            version,
            airflow,
            series_python: Field::Canonical,
            python: self.python.as_ref().map(c),
            python_variants: self.python_variants.iter().map(c).collect(),
            debian: self.debian.as_ref().map(c),
            default_debian: self.default_debian.as_ref().map(c),
            repository: self.repository.as_ref().map(c),
            source: self.source.as_ref().map(c),
            packages,
            slim_packages,
            packages_unknown: self.packages_unknown,
            indexes: self
                .indexes
                .iter()
                .map(|i| Index {
                    name: Field::Canonical,
                    url: Field::Canonical,
                    serves: i.serves,
                })
                .collect(),
            own_index: self.own_index,
            yanked: self.yanked.as_ref().map(c),
            base_image: self
                .base_image
                .as_ref()
                .map(|_| (Field::Canonical, Field::Canonical)),
        }
    }

    /// The matrix text, every value an escaped TOML string.
    fn matrix_text(&self) -> String {
        let packages: Vec<(String, String)> = self
            .packages
            .iter()
            .take(3)
            .enumerate()
            .map(|(i, p)| (p.name.value(NAMES[i]), p.version.value(PINS)))
            .collect();
        let indexes: Vec<(String, String, Option<&str>)> = self
            .indexes
            .iter()
            .take(2)
            .enumerate()
            .map(|(i, x)| {
                let served = packages.get(i).filter(|_| x.serves).map(|p| p.0.as_str());
                (x.name.value(INDEX_NAMES[i]), x.url.value(URLS), served)
            })
            .collect();
        let version = self.version.value(VERSIONS);
        // The series table follows the version, so most versions find theirs.
        let series = version
            .parse::<runtime_kit::model::RuntimeVersion>()
            .map_or_else(|_| "5".to_string(), |v| v.series().to_string());

        let mut t = String::from("schema = 1\n[defaults]\n");
        if let Some(d) = &self.default_debian {
            let _ = writeln!(t, "debian = {}", q(&d.value(DEBIANS)));
        }
        if let Some(r) = &self.repository {
            let _ = writeln!(t, "repository = {}", q(&r.value(REPOSITORIES)));
        }
        if let Some(s) = &self.source {
            let _ = writeln!(t, "source = {}", q(&s.value(SOURCES)));
        }
        for (name, url, served) in &indexes {
            let _ = writeln!(t, "[indexes.{}]\nurl = {}", q(name), q(url));
            if let Some(p) = served {
                let _ = writeln!(t, "packages = [{}]", q(p));
            }
        }
        let _ = writeln!(
            t,
            "[series.{}]\nchannel = \"stable\"\npython = {}",
            q(&series),
            q(&self.series_python.value(PYTHONS))
        );
        if let Some((image, digest)) = &self.base_image {
            let _ = writeln!(
                t,
                "[base-images]\n{} = {}",
                q(&image.value(IMAGES)),
                q(&digest.value(DIGESTS))
            );
        }
        let _ = writeln!(
            t,
            "[[release]]\nversion = {}\nairflow = {}\ndate = 2022-07-21",
            q(&version),
            q(&self.airflow.value(AIRFLOWS))
        );
        if let Some(p) = &self.python {
            let _ = writeln!(t, "python = {}", q(&p.value(PYTHONS)));
        }
        if !self.python_variants.is_empty() {
            let list: Vec<String> = self
                .python_variants
                .iter()
                .take(2)
                .enumerate()
                .map(|(i, p)| q(&p.value(VARIANTS[i])))
                .collect();
            let _ = writeln!(t, "python-variants = [{}]", list.join(", "));
        }
        if let Some(d) = &self.debian {
            let _ = writeln!(t, "debian = {}", q(&d.value(DEBIANS)));
        }
        if let Some(r) = &self.yanked {
            let _ = writeln!(t, "yanked = true\nyanked-reason = {}", q(&r.value(REASONS)));
        }
        if let (Some(i), false) = (self.own_index, indexes.is_empty()) {
            let _ = writeln!(
                t,
                "index = {}",
                q(&indexes[usize::from(i) % indexes.len()].0)
            );
        }
        if self.packages_unknown {
            t.push_str("unknown = [\"packages\"]\n");
        }
        if self.slim_packages.is_some() {
            t.push_str("slim = true\n");
        }
        t.push_str("[release.packages]\n");
        for (name, pin) in &packages {
            let _ = writeln!(t, "{} = {}", q(name), q(pin));
        }
        if let Some(slim) = &self.slim_packages {
            t.push_str("[release.slim-packages]\n");
            for (i, p) in slim.iter().take(2).enumerate() {
                let _ = writeln!(
                    t,
                    "{} = {}",
                    q(&p.name.value(NAMES[i])),
                    q(&p.version.value(PINS))
                );
            }
        }
        t
    }
}

/// `s` as a TOML basic string (also a quoted key).
fn q(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// What a rendered file must look like: per (base image?, slim?, file name), the file's shape
/// and, for a Dockerfile, its instruction kinds.
type Expected = BTreeMap<(bool, bool, String), (String, Vec<String>)>;

static TEMPLATES: LazyLock<Templates> =
    LazyLock::new(|| Templates::load(None).expect("the embedded templates compile"));

thread_local! {
    /// Baselines by the canonical matrix text (one per shape the fuzzer has tried).
    static BASELINES: RefCell<HashMap<String, Option<Expected>>> = RefCell::new(HashMap::new());
}

/// The text with every run of characters a value may hold replaced by `w`: what is left is the
/// template's own punctuation, quoting, spacing and line structure.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut in_word = false;
    for c in text.chars() {
        let word = c.is_ascii_alphanumeric() || "._-+!/:~@=".contains(c);
        if word && !in_word {
            out.push('w');
        } else if !word {
            out.push(c);
        }
        in_word = word;
    }
    out
}

/// Renders the one release of `text`; `None` when the loader refuses the matrix.
fn render(text: &str) -> Option<Expected> {
    let matrix = Matrix::from_str_named(text, "fuzz.toml").ok()?;
    let [release] = matrix.releases() else {
        panic!("one [[release]] loaded as {}", matrix.releases().len());
    };
    let files = render::render_release(&TEMPLATES, &matrix, release, Path::new("/nonexistent"))
        .unwrap_or_else(|e| panic!("an accepted matrix does not render: {e}\n{text}"));
    let mut out = Expected::new();
    for f in files {
        let dir = f.path.parent().expect("files are in a context directory");
        let tag = render::tag_of_context_dir(dir)
            .unwrap_or_else(|| panic!("{} is not a context directory", dir.display()));
        let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
        let kinds = if name == "Dockerfile" {
            let parsed = parse_dockerfile::parse(&f.contents).unwrap_or_else(|e| {
                panic!(
                    "generated {} does not parse: {e}\n{}",
                    f.path.display(),
                    f.contents
                )
            });
            parsed
                .instructions
                .iter()
                .map(|i| format!("{:?}", std::mem::discriminant(i)))
                .collect()
        } else {
            Vec::new()
        };
        let key = (tag.variant.base, tag.variant.slim, name);
        let value = (shape(&f.contents), kinds);
        // Every Python variant of the same kind of image has the same shape.
        if let Some(seen) = out.get(&key) {
            assert_eq!(
                seen,
                &value,
                "{} differs from its siblings",
                f.path.display()
            );
        }
        out.insert(key, value);
    }
    Some(out)
}

fuzz_target!(|input: Input| {
    let text = input.matrix_text();
    let Some(got) = render(&text) else {
        return;
    };
    let canonical = input.canonical().matrix_text();
    let want = BASELINES.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() > 4096 {
            b.clear();
        }
        b.entry(canonical.clone())
            .or_insert_with(|| render(&canonical))
            .clone()
    });
    // Known-good values never make a matrix the loader refuses where fuzzer values pass.
    let want = want.unwrap_or_else(|| panic!("baseline refused:\n{canonical}\naccepted:\n{text}"));
    for (key, (shape, kinds)) in &got {
        let (want_shape, want_kinds) = want
            .get(key)
            .unwrap_or_else(|| panic!("{key:?} is not in the baseline\n{text}"));
        assert_eq!(
            kinds, want_kinds,
            "{key:?}: instruction kinds differ from the baseline's\n{text}"
        );
        assert_eq!(
            shape, want_shape,
            "{key:?}: the file's shape differs from the baseline's\n{text}"
        );
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "a different set of files\n{text}"
    );
});
