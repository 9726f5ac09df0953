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
    // a minor series.
    for key in series.keys() {
        let members: Vec<_> = sorted
            .iter()
            .filter(|(r, _)| r.version.series() == *key)
            .collect();
        let Some((first, _)) = members.first() else {
            continue;
        };
        for pair in members.windows(2) {
            let ((a, _), (b, bs)) = (pair[0], pair[1]);
            if b.airflow < a.airflow {
                c.push(
                    &bs.airflow,
                    format!("Airflow goes backwards: {} has Airflow {} but the earlier {} has {}; expected Airflow never to go down as the Runtime goes up within a series", b.version, b.airflow, a.version, a.airflow),
                );
            }
            if a.version.minor_series() == b.version.minor_series() && b.date < a.date {
                c.push(
                    &bs.date,
                    format!("release date goes backwards: {} is dated {} but the earlier {} is dated {}; expected dates never to go back within a minor series", b.version, b.date, a.version, a.date),
                );
            }
        }
        for (r, s) in &members {
            match key {
                SeriesKey::Major(m) => {
                    if r.airflow.minor_series() != first.airflow.minor_series() {
                        c.push(
                            &s.airflow,
                            format!("series {m} carries Airflow {}.{} (from {}), but {} has Airflow {}; expected one Airflow minor per major series (a new Airflow minor needs a new major)",
                                first.airflow.major(), first.airflow.minor(), first.version, r.version, r.airflow),
                        );
                    }
                }
                SeriesKey::Airflow(x, y) => {
                    if r.airflow.minor_series() != (*x, *y) {
                        c.push(
                            &s.airflow,
                            format!("{} names Airflow {x}.{y} but carries Airflow {}; expected an Airflow {x}.{y}.* version", r.version, r.airflow),
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
        .filter(|(r, _)| !r.version.is_prerelease())
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
