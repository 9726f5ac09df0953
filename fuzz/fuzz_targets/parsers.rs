//! The version, tag and package parsers on arbitrary text.
//!
//! The whole input is parsed as every type, then its first three lines are, to compare values:
//! - nothing panics, whatever the text;
//! - a parsed `RuntimeVersion`, `ImageTag`, `PythonVersion`, `PackageVersion` or `AirflowVersion`
//!   prints back to exactly the text it was parsed from (they accept one spelling only), and a
//!   `PackageName` prints its normalised form, which parses to itself;
//! - ordering is a total order consistent with equality: `a < b` implies `!(b < a)`,
//!   `cmp` is antisymmetric, `Equal` means `==`, and it is transitive over three values;
//! - a refusal quotes the input, cut to 80 characters and marked `…` when it was longer.
#![no_main]

use std::cmp::Ordering;
use std::fmt::{Debug, Display};
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use runtime_kit::model::{
    AirflowVersion, DebianRelease, Digest, ImageTag, PackageName, PackageVersion, ParseError,
    PythonVersion, RuntimeVersion, VersionSpec,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').take(3).collect();

    check_exact::<RuntimeVersion>(text, &lines);
    check_exact::<ImageTag>(text, &lines);
    check_exact::<PythonVersion>(text, &lines);
    check_exact::<PackageVersion>(text, &lines);
    check_exact::<AirflowVersion>(text, &lines);
    check_names(text, &lines);
    check_specs(text, &lines);

    // Parsed for panics only: their printed form is not promised to be the input.
    for s in std::iter::once(text).chain(lines.iter().copied()) {
        if let Some(d) = parse::<DebianRelease>(s) {
            let _ = d.to_string();
        }
        if let Some(d) = parse::<Digest>(s) {
            let _ = d.to_string();
        }
    }
});

/// Parses `s`, checking the message of a refusal.
fn parse<T: FromStr<Err = ParseError>>(s: &str) -> Option<T> {
    match s.parse::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            let mut shown: String = s.chars().take(80).collect();
            if s.chars().count() > 80 {
                shown.push('…');
            }
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("invalid value {shown:?}: ")),
                "the message does not quote {shown:?}: {message}"
            );
            None
        }
    }
}

/// Types whose printed form is exactly the text they were parsed from.
fn check_exact<T>(text: &str, lines: &[&str])
where
    T: FromStr<Err = ParseError> + Display + Ord + Debug,
{
    let mut values = Vec::new();
    for s in std::iter::once(text).chain(lines.iter().copied()) {
        if let Some(v) = parse::<T>(s) {
            assert_eq!(
                v.to_string(),
                s,
                "{v:?} does not print as the text it came from"
            );
            values.push(v);
        }
    }
    check_order(&values);
}

/// Package names print normalised; the normalised form is a fixed point.
fn check_names(text: &str, lines: &[&str]) {
    let mut values = Vec::new();
    for s in std::iter::once(text).chain(lines.iter().copied()) {
        if let Some(n) = parse::<PackageName>(s) {
            let printed = n.to_string();
            let again: PackageName = printed
                .parse()
                .unwrap_or_else(|e| panic!("normalised name {printed:?} does not parse: {e}"));
            assert_eq!(again, n, "normalising {s:?} twice changes it");
            assert!(PackageName::is_normalised(&printed), "{printed:?}");
            values.push(n);
        }
    }
    check_order(&values);
}

/// Specs have no order or exact spelling; they must parse, print and match without panicking.
fn check_specs(text: &str, lines: &[&str]) {
    let probes: Vec<AirflowVersion> = ["2.3.3", "3.0.0rc1", "1.10.15.post1"]
        .iter()
        .map(|s| s.parse().unwrap())
        .chain(lines.iter().filter_map(|s| s.parse().ok()))
        .collect();
    for s in std::iter::once(text).chain(lines.iter().copied()) {
        if let Some(spec) = parse::<VersionSpec>(s) {
            let _ = spec.to_string();
            for v in &probes {
                let _ = spec.contains(v);
            }
        }
    }
}

fn check_order<T: Ord + Debug>(values: &[T]) {
    for a in values {
        assert_eq!(a.cmp(a), Ordering::Equal, "{a:?} is not equal to itself");
        for b in values {
            let ab = a.cmp(b);
            assert_eq!(
                ab,
                b.cmp(a).reverse(),
                "cmp of {a:?} and {b:?} is not antisymmetric"
            );
            if a < b {
                assert!(!(b < a), "{a:?} < {b:?} and {b:?} < {a:?}");
            }
            assert_eq!(
                ab == Ordering::Equal,
                a == b,
                "{a:?} vs {b:?}: cmp and == disagree"
            );
            for c in values {
                if a <= b && b <= c {
                    assert!(a <= c, "{a:?} <= {b:?} <= {c:?} but not {a:?} <= {c:?}");
                }
            }
        }
    }
}
