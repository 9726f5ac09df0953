//! The semantic-versioning release policy: which bump a change needs, and the next version.
//!
//! - **major**: a new Airflow major or minor version, or a backwards-incompatible change;
//! - **minor**: functional changes, including a new Airflow *patch* version, or a package moving
//!   to a new major or minor version, or a package added;
//! - **patch**: bug and security fixes, including new patch versions of the packages.
//!
//! For `X.Y-Z` versions (Airflow 3 era) the version names the Airflow minor, so a new Airflow minor
//! starts a new line at build 1 and anything else is a new build.

use std::fmt;

use crate::matrix::{Matrix, Release};
use crate::model::{
    AirflowVersion, BuildVersion, PackageName, PackageSet, PackageVersion, RuntimeVersion,
    SemverVersion, SeriesKey,
};

/// Size of a version step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Only the pre-release part changed (or the versions are equal).
    None,
    /// `x.y.Z` (or a new build `X.Y-Z`).
    Patch,
    /// `x.Y.0`.
    Minor,
    /// `X.0.0` (or a new Airflow line `X.Y-1`).
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "no",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// The step from `a` to `b` (`b` above `a`).
pub fn bump_between(a: &RuntimeVersion, b: &RuntimeVersion) -> Bump {
    match (a, b) {
        (RuntimeVersion::Semver(a), RuntimeVersion::Semver(b)) => {
            if b.major != a.major {
                Bump::Major
            } else if b.minor != a.minor {
                Bump::Minor
            } else if b.patch != a.patch {
                Bump::Patch
            } else {
                Bump::None
            }
        }
        (RuntimeVersion::Build(a), RuntimeVersion::Build(b)) => {
            if (a.airflow_major, a.airflow_minor) != (b.airflow_major, b.airflow_minor) {
                Bump::Major
            } else if a.build != b.build {
                Bump::Patch
            } else {
                Bump::None
            }
        }
        _ => Bump::Major,
    }
}

/// What a change requires, and the rule that says so.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Requirement {
    /// The smallest bump allowed.
    pub bump: Bump,
    /// The rule of the policy that decided it, in words.
    pub rule: String,
}

/// The change a new release makes relative to its predecessor.
#[derive(Clone, Debug, Default)]
pub struct Change<'a> {
    /// The new Airflow version.
    pub airflow: Option<&'a AirflowVersion>,
    /// Packages pinned at a new version (or added).
    pub packages: Vec<(&'a PackageName, &'a PackageVersion)>,
    /// A backwards-incompatible change.
    pub breaking: bool,
    /// The package set `packages` are compared with, when it is not `prev`'s own (a base whose
    /// set the record lacks continues the newest known set of its series).
    pub relative_to: Option<&'a PackageSet>,
}

/// The bump the policy requires for `change` on top of `prev`.
pub fn required_bump(prev: &Release, change: &Change<'_>) -> Requirement {
    let mut req = Requirement {
        bump: Bump::Patch,
        rule: "patch: bug and security fixes, and new patch versions of packages, need a patch release".into(),
    };
    let mut raise = |bump: Bump, rule: String| {
        if bump > req.bump {
            req = Requirement { bump, rule };
        }
    };
    let prev_packages = change.relative_to.unwrap_or(&prev.packages);
    for (name, version) in &change.packages {
        match prev_packages.get(name) {
            None => raise(
                Bump::Minor,
                format!(
                    "minor: {name} {version} is a new package, a functional change that needs a minor release"
                ),
            ),
            Some(old) if (old.part(0), old.part(1)) != (version.part(0), version.part(1)) => {
                let what = if *version < old {
                    "moves a package back to an older minor version"
                } else if old.part(0) != version.part(0) {
                    "is a new major version of a package"
                } else {
                    "is a new minor version of a package"
                };
                raise(
                    Bump::Minor,
                    format!(
                        "minor: {name} {old} -> {version} {what}, a functional change that needs a minor release"
                    ),
                )
            }
            Some(_) => {}
        }
    }
    if let (Some(airflow), Some(prev_airflow)) = (change.airflow, &prev.airflow) {
        if airflow.minor_series() != prev_airflow.minor_series() {
            raise(
                Bump::Major,
                format!(
                    "major: Airflow {prev_airflow} -> {airflow} is a new Airflow minor version, which needs a major release"
                ),
            );
        } else if airflow != prev_airflow {
            raise(
                Bump::Minor,
                format!(
                    "minor: Airflow {prev_airflow} -> {airflow} is a new Airflow patch version, which needs at least a minor release"
                ),
            );
        }
    }
    if change.breaking {
        raise(
            Bump::Major,
            "major: a backwards-incompatible change needs a major release".into(),
        );
    }
    req
}

/// A consecutive pair of releases that breaks the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What the change required.
    pub required: Requirement,
    /// The bump actually made.
    pub actual: Bump,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} bump breaks the release policy ({})",
            self.actual, self.required.rule
        )
    }
}

/// Checks the step from `prev` to `next` (consecutive in version order) against the policy.
/// Only the Airflow rule is applied to the recorded history: package changes of the past were
/// not classified when they were released.
pub fn check_pair(prev: &Release, next: &Release) -> Result<(), Violation> {
    let actual = bump_between(&prev.version, &next.version);
    let required = match (&prev.version, &next.version) {
        (RuntimeVersion::Build(_), _) | (_, RuntimeVersion::Build(_)) => return Ok(()),
        _ => required_bump(
            prev,
            &Change {
                airflow: next.airflow.as_ref(),
                ..Change::default()
            },
        ),
    };
    if actual >= required.bump || required.bump == Bump::Patch {
        Ok(())
    } else {
        Err(Violation { required, actual })
    }
}

/// Why a next version cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NextError {
    /// The matrix has no release to continue from.
    #[error("the matrix has no release to continue from")]
    Empty,
    /// `--from` names a version that is not recorded.
    #[error("{0} is not a release in the matrix")]
    Unknown(RuntimeVersion),
    /// `--from` is not the newest release of its series.
    #[error(
        "{from} is not the newest release of series {series} ({newest} is); a new release continues a series from its newest release"
    )]
    NotNewest {
        /// Requested base.
        from: RuntimeVersion,
        /// Its series.
        series: SeriesKey,
        /// The newest release of that series.
        newest: RuntimeVersion,
    },
    /// The new Airflow version is below the base release's.
    #[error(
        "Airflow {to} is older than {from}'s Airflow {airflow}; Airflow never goes backwards within a series"
    )]
    Downgrade {
        /// Base release.
        from: RuntimeVersion,
        /// Its Airflow.
        airflow: AirflowVersion,
        /// The requested Airflow.
        to: AirflowVersion,
    },
    /// A major bump (or a new line) is needed but that series already exists.
    #[error(
        "{rule}, but series {major} already exists; cut from the newest release of that series instead"
    )]
    MajorTaken {
        /// The rule that required the major bump.
        rule: String,
        /// The series that would be created.
        major: SeriesKey,
    },
    /// The next number does not fit (a version such as `11.18446744073709551615.0`).
    #[error("{0} has no next version: a number of it is at its largest")]
    Overflow(RuntimeVersion),
    /// An Airflow version that cannot be expressed in the version scheme.
    #[error("Airflow {0} cannot follow an X.Y-Z Runtime with a lower Airflow line")]
    Scheme(AirflowVersion),
    /// An Airflow 3 (or later) version on a semantic-version base, or an Airflow 2 version on an
    /// `X.Y-Z` base, given with `--from`.
    #[error(
        "Airflow {airflow} cannot continue {from}: Runtimes for Airflow 2 use semantic versions and Runtimes for Airflow 3 and later use X.Y-Z versions; cut from a release of the same era, or leave out --from"
    )]
    Era {
        /// The base release.
        from: RuntimeVersion,
        /// The requested Airflow.
        airflow: AirflowVersion,
    },
    /// The base release's Airflow version is not in the record, so no rule can be applied to it.
    #[error(
        "the Airflow version of {0} is not in the public record, so the release policy cannot be applied to a release after it; record it in the matrix first"
    )]
    BaseAirflowUnknown(RuntimeVersion),
}

/// Refuses to continue `base` with `airflow` across the eras: Airflow 2 continues semantic
/// versions; Airflow 3 continues `X.Y-Z` lines, and starts the first line from a semantic version
/// only while there is no line yet.
pub fn check_era(
    matrix: &Matrix,
    base: &Release,
    airflow: &AirflowVersion,
) -> Result<(), NextError> {
    let build_base = matches!(base.version, RuntimeVersion::Build(_));
    let lines_exist = matrix
        .releases()
        .iter()
        .any(|r| matches!(r.version, RuntimeVersion::Build(_)));
    let crosses = if airflow.major() >= 3 {
        !build_base && lines_exist
    } else {
        build_base
    };
    if crosses {
        return Err(NextError::Era {
            from: base.version.clone(),
            airflow: airflow.clone(),
        });
    }
    Ok(())
}

/// The release a new release carrying `airflow` continues by default: for an Airflow 3 (or later)
/// version, the newest release of its `X.Y` line, else of the newest lower line, else the newest
/// semantic version (the first `X.Y-Z` line starts there); for an Airflow 2 version, the newest
/// semantic version of the series that carries its Airflow minor, else the newest semantic
/// version. Without an Airflow version, the newest release.
pub fn default_base<'m>(
    matrix: &'m Matrix,
    airflow: Option<&AirflowVersion>,
) -> Option<&'m Release> {
    let releases = matrix.releases();
    let Some(airflow) = airflow else {
        return releases.last();
    };
    let semver = || {
        releases
            .iter()
            .rev()
            .find(|r| matches!(r.version, RuntimeVersion::Semver(_)))
    };
    if airflow.major() >= 3 {
        let line = airflow.minor_series();
        releases
            .iter()
            .rev()
            .find(|r| matches!(&r.version, RuntimeVersion::Build(b) if (b.airflow_major, b.airflow_minor) <= line))
            .or_else(semver)
            .or_else(|| releases.last())
    } else {
        let series = releases
            .iter()
            .filter(|r| matches!(r.version, RuntimeVersion::Semver(_)))
            .filter(|r| {
                r.airflow
                    .as_ref()
                    .is_some_and(|a| a.minor_series() == airflow.minor_series())
            })
            .map(|r| r.version.series())
            .next_back();
        match series {
            Some(key) => matrix.releases_in(key).next_back(),
            // With no semantic version at all, the newest release (the era check refuses it).
            None => semver().or_else(|| releases.last()),
        }
    }
}

/// The next version the policy requires, with the rule that decided it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Next {
    /// The release the new one continues.
    pub from: RuntimeVersion,
    /// The new version.
    pub version: RuntimeVersion,
    /// The bump made.
    pub bump: Bump,
    /// The rule that decided it.
    pub rule: String,
}

/// Computes the version that must follow `from` (default: the newest release of the newest
/// series) for `change`.
pub fn next_version(
    matrix: &Matrix,
    from: Option<&RuntimeVersion>,
    change: &Change<'_>,
) -> Result<Next, NextError> {
    let base = match from {
        Some(v) => matrix
            .release(v)
            .ok_or_else(|| NextError::Unknown(v.clone()))?,
        None => default_base(matrix, change.airflow).ok_or(NextError::Empty)?,
    };
    let series = base.version.series();
    let newest = matrix
        .releases_in(series)
        .next_back()
        .expect("the base release is in its own series");
    if newest.version != base.version {
        return Err(NextError::NotNewest {
            from: base.version.clone(),
            series,
            newest: newest.version.clone(),
        });
    }
    // The rules compare Airflow versions: with the base's, or where the record lacks it, with
    // the newest earlier release of the series that has one (the rule says so).
    let Some(known) = matrix
        .releases_in(series)
        .rev()
        .find(|r| r.airflow.is_some() && r.version <= base.version)
    else {
        return Err(NextError::BaseAirflowUnknown(base.version.clone()));
    };
    let base_airflow = known
        .airflow
        .as_ref()
        .expect("found by its Airflow version");
    if let Some(airflow) = change.airflow {
        check_era(matrix, base, airflow)?;
        if airflow < base_airflow {
            return Err(NextError::Downgrade {
                from: known.version.clone(),
                airflow: base_airflow.clone(),
                to: airflow.clone(),
            });
        }
    }
    let req = required_bump(known, change);
    let (version, rule) = match &base.version {
        RuntimeVersion::Semver(v) => match change.airflow {
            Some(a) if a.major() >= 3 => (
                RuntimeVersion::Build(BuildVersion {
                    airflow_major: a.major(),
                    airflow_minor: a.minor(),
                    build: 1,
                }),
                format!(
                    "line: Airflow {base_airflow} -> {a} moves to Airflow {}, whose Runtimes use X.Y-Z versions (Airflow X.Y, build Z): the first build of line {}.{}",
                    a.major(),
                    a.major(),
                    a.minor()
                ),
            ),
            _ => {
                let bumped = bump_semver(v, req.bump)?;
                if req.bump == Bump::Major
                    && matrix
                        .releases_in(SeriesKey::Major(bumped.major))
                        .next()
                        .is_some()
                {
                    return Err(NextError::MajorTaken {
                        rule: req.rule,
                        major: SeriesKey::Major(bumped.major),
                    });
                }
                (RuntimeVersion::Semver(bumped), req.rule)
            }
        },
        RuntimeVersion::Build(b) => {
            let line = (b.airflow_major, b.airflow_minor);
            let (x, y) = change.airflow.map_or(line, |a| a.minor_series());
            if (x, y) < line {
                return Err(NextError::Scheme(change.airflow.cloned().expect("checked")));
            }
            if (x, y) == line {
                let build = b
                    .build
                    .checked_add(1)
                    .ok_or_else(|| NextError::Overflow(base.version.clone()))?;
                let what = match change.airflow {
                    Some(a) if a != base_airflow => {
                        format!("Airflow {base_airflow} -> {a} stays on line {x}.{y}")
                    }
                    _ => format!("Airflow {base_airflow} stays"),
                };
                let version = RuntimeVersion::Build(BuildVersion {
                    airflow_major: x,
                    airflow_minor: y,
                    build,
                });
                let rule = format!(
                    "build: {what}; in the X.Y-Z scheme every change on a line (Airflow patch, packages, fixes) is its next build: {} -> {version}",
                    base.version
                );
                (version, rule)
            } else {
                if matrix
                    .releases_in(SeriesKey::Airflow(x, y))
                    .next()
                    .is_some()
                {
                    return Err(NextError::MajorTaken {
                        rule: format!("line: Airflow {x}.{y} has its own line"),
                        major: SeriesKey::Airflow(x, y),
                    });
                }
                let a = change.airflow.expect("a new line comes from the change");
                let version = RuntimeVersion::Build(BuildVersion {
                    airflow_major: x,
                    airflow_minor: y,
                    build: 1,
                });
                let rule = format!(
                    "line: Airflow {base_airflow} -> {a} is a new Airflow minor version, which opens line {x}.{y} at build 1: {version}"
                );
                (version, rule)
            }
        }
    };
    let bump = bump_between(&base.version, &version);
    let rule = if known.version == base.version {
        rule
    } else {
        format!(
            "{rule} (Airflow compared with {}, the newest release of series {series} whose Airflow version is in the record; {}'s is not)",
            known.version, base.version
        )
    };
    Ok(Next {
        from: base.version.clone(),
        version,
        bump,
        rule,
    })
}

fn bump_semver(v: &SemverVersion, bump: Bump) -> Result<SemverVersion, NextError> {
    let overflow = || NextError::Overflow(RuntimeVersion::Semver(v.clone()));
    let (major, minor, patch) = match bump {
        Bump::Major => (v.major.checked_add(1).ok_or_else(overflow)?, 0, 0),
        Bump::Minor => (v.major, v.minor.checked_add(1).ok_or_else(overflow)?, 0),
        Bump::Patch | Bump::None => (
            v.major,
            v.minor,
            v.patch.checked_add(1).ok_or_else(overflow)?,
        ),
    };
    Ok(SemverVersion {
        major,
        minor,
        patch,
        pre: Vec::new(),
    })
}

/// Packages of `new` that differ from `old` (added or at another version).
pub fn changed_packages<'a>(
    old: &PackageSet,
    new: &'a PackageSet,
) -> Vec<(&'a PackageName, &'a PackageVersion)> {
    new.iter().filter(|(n, v)| old.get(n) != Some(*v)).collect()
}
