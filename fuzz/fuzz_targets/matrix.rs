//! The matrix loader on arbitrary bytes as TOML: it accepts or returns located errors, never
//! panics. Accepted matrices are walked (releases, tags, variants); errors must point inside the
//! text. The comment-preserving editor (`cut`, `yank`, `pin-base`) changes no value by reading
//! and gives back text with the same values; setting a base-image digest changes that value and
//! nothing else.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime_kit::matrix::Matrix;
use runtime_kit::matrix::edit::MatrixDocument;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.split('\n').count();
    match Matrix::from_str_named(text, "fuzz.toml") {
        Ok(m) => {
            for r in m.releases() {
                for v in r.variants() {
                    let _ = r.python_of(&v);
                    let _ = r.packages_of(&v);
                }
                for t in r.tags() {
                    let _ = t.to_string();
                }
                let _ = m.indexes_for(r);
                assert!(m.release(&r.version).is_some(), "{} not found", r.version);
            }
            let _ = m.series().count();
        }
        Err(errors) => {
            assert!(!errors.errors().is_empty(), "an error without a problem");
            for e in errors.errors() {
                let at = &e.location;
                assert!(
                    at.line >= 1 && at.line <= lines && at.column >= 1,
                    "{at} is outside a text of {lines} lines: {e}"
                );
            }
            let _ = errors.to_string();
        }
    }
    edit(text);
});

/// The comment-preserving editor (`cut`, `yank`, `pin-base`): reading changes no value and is no
/// edit, and an edit changes exactly the value it means to change.
fn edit(text: &str) {
    let Ok(mut doc) = MatrixDocument::from_str_named(text, "fuzz.toml") else {
        return;
    };
    assert!(
        !doc.is_changed(),
        "reading the matrix for editing changed it"
    );
    // The loader (toml) refusing what the editor (toml_edit) read is fine: `save` validates
    // with the loader.
    let Some(before) = values(text) else {
        return;
    };
    let written = values(&doc.to_string()).expect("the editor wrote text that is not TOML");
    // Compared as debug text: a `nan` equals itself there.
    assert_eq!(
        format!("{written:?}"),
        format!("{before:?}"),
        "the editor's text changed a value"
    );

    const IMAGE: &str = "python:3.9-slim-bullseye";
    let digest = format!("sha256:{}", "0".repeat(64));
    if doc
        .set_base_image_digest(IMAGE, &digest.parse().unwrap())
        .is_ok()
    {
        let mut expected: toml::Table = before;
        let images = expected
            .entry("base-images")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        images
            .as_table_mut()
            .expect("the editor set a digest in a non-table")
            .insert(IMAGE.into(), toml::Value::String(digest));
        let after = values(&doc.to_string()).expect("the edited text is not TOML");
        assert_eq!(
            format!("{after:?}"),
            format!("{expected:?}"),
            "the edit changed another value"
        );
    }
}

fn values(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}
