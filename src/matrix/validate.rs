//! Checks across releases: uniqueness, order, Airflow parity within series, dates, and the release
//! policy on every consecutive pair (less the recorded exceptions).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use super::load::Collector;
use super::{PolicyException, Release, Series};
use crate::model::{RuntimeVersion, SeriesKey};
use crate::policy::release::check_pair;

/// Where a release's checked fields are in the file.
pub(super) struct ReleaseSpans {
    pub(super) version: Range<usize>,
    pub(super) airflow: Range<usize>,
    pub(super) date: Range<usize>,
}

/// Runs every cross-release check on `releases` (in file order).
pub(super) fn check(
    c: &mut Collector<'_>,
    releases: &[(Release, ReleaseSpans)],
    series: &BTreeMap<SeriesKey, Series>,
    exceptions: &[PolicyException],
    exception_spans: &[Range<usize>],
) {
    // Unique versions, listed in ascending order.
    let mut seen: HashMap<&RuntimeVersion, &Range<usize>> = HashMap::new();
    for (i, (r, s)) in releases.iter().enumerate() {
        if let Some(first) = seen.insert(&r.version, &s.version) {
            let line = c.map.locate(first.start).line;
            c.push(
                &s.version,
                format!("version {} is recorded twice (first at line {line}); expected every version once", r.version),
            );
        } else if let Some((prev, _)) = i.checked_sub(1).map(|p| &releases[p])
            && prev.version > r.version
        {
            c.push(
                &s.version,
                format!(
                    "release {} is listed after {}; expected releases in ascending version order",
                    r.version, prev.version
                ),
            );
        }
    }

    let mut sorted: Vec<&(Release, ReleaseSpans)> = releases.iter().collect();
    sorted.sort_by(|a, b| a.0.version.cmp(&b.0.version));
    sorted.dedup_by(|a, b| a.0.version == b.0.version);

    // Within a series: one Airflow minor, Airflow never backwards; dates never backwards within
    // a minor series. Releases whose Airflow version or date the record lacks are skipped for
    // that comparison (the known neighbours are compared with each other).
    for key in series.keys() {
        let members: Vec<_> = sorted
            .iter()
            .filter(|(r, _)| r.version.series() == *key)
            .collect();
        let with_airflow: Vec<_> = members
            .iter()
            .filter_map(|(r, s)| r.airflow.as_ref().map(|a| (r, s, a)))
            .collect();
        for pair in with_airflow.windows(2) {
            let ((a, _, aa), (b, bs, ba)) = (pair[0], pair[1]);
            if ba < aa {
                c.push(
                    &bs.airflow,
                    format!("Airflow goes backwards: {} has Airflow {ba} but the earlier {} has {aa}; expected Airflow never to go down as the Runtime goes up within a series", b.version, a.version),
                );
            }
        }
        let dated: Vec<_> = members
            .iter()
            .filter_map(|(r, s)| r.date.map(|d| (r, s, d)))
            .collect();
        for pair in dated.windows(2) {
            let ((a, _, ad), (b, bs, bd)) = (pair[0], pair[1]);
            if a.version.minor_series() == b.version.minor_series() && bd < ad {
                c.push(
                    &bs.date,
                    format!("release date goes backwards: {} is dated {bd} but the earlier {} is dated {ad}; expected dates never to go back within a minor series", b.version, a.version),
                );
            }
        }
        let Some((first, _, first_airflow)) = with_airflow.first() else {
            continue;
        };
        for (r, s, airflow) in &with_airflow {
            match key {
                SeriesKey::Major(m) => {
                    if airflow.major() >= 3 {
                        c.push(
                            &s.airflow,
                            format!("{} carries Airflow {airflow}, but Runtimes for Airflow 3 and later use X.Y-Z versions; expected an Airflow 2 version, or the release as {}.{}-N", r.version, airflow.major(), airflow.minor()),
                        );
                    } else if airflow.minor_series() != first_airflow.minor_series() {
                        c.push(
                            &s.airflow,
                            format!("series {m} carries Airflow {}.{} (from {}), but {} has Airflow {airflow}; expected one Airflow minor per major series (a new Airflow minor needs a new major)",
                                first_airflow.major(), first_airflow.minor(), first.version, r.version),
                        );
                    }
                }
                SeriesKey::Airflow(x, y) => {
                    if airflow.minor_series() != (*x, *y) {
                        c.push(
                            &s.airflow,
                            format!("{} names Airflow {x}.{y} but carries Airflow {airflow}; expected an Airflow {x}.{y}.* version", r.version),
                        );
                    }
                }
            }
        }
    }

    // The release policy on consecutive pairs (pre-releases aside), less recorded exceptions.
    let mut used = vec![false; exceptions.len()];
    let finals: Vec<_> = sorted
        .iter()
        .filter(|(r, _)| !r.version.is_prerelease() && r.airflow.is_some())
        .collect();
    for pair in finals.windows(2) {
        let ((a, _), (b, bs)) = (pair[0], pair[1]);
        if let Err(violation) = check_pair(a, b) {
            match exceptions.iter().position(|e| e.release == b.version) {
                Some(i) => used[i] = true,
                None => c.push(
                    &bs.version,
                    format!("{} -> {}: {violation}; expected a {} release, or a recorded [policy] exception for {}", a.version, b.version, violation.required.bump, b.version),
                ),
            }
        }
    }
    for ((e, span), used) in exceptions.iter().zip(exception_spans).zip(used) {
        if sorted.iter().all(|(r, _)| r.version != e.release) {
            c.push(
                span,
                format!(
                    "policy exception names {}, which is not a release in the matrix",
                    e.release
                ),
            );
        } else if !used {
            c.push(span, format!("policy exception for {} is not needed: the step to it follows the policy; expected exceptions only where the history breaks it", e.release));
        }
    }
}
