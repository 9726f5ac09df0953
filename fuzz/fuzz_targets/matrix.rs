//! The matrix loader on arbitrary bytes as TOML: it accepts or returns located errors, never
//! panics. Accepted matrices are walked (releases, tags, variants); errors must point inside the
//! text. The comment-preserving editor (`cut`, `yank`, `pin-base`) gives back the text it read,
//! byte for byte, until it edits it.
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
    if let Ok(doc) = MatrixDocument::from_str_named(text, "fuzz.toml") {
        assert!(
            !doc.is_changed(),
            "reading the matrix for editing changed its text"
        );
    }
});
