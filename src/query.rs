//! Questions other tools ask of the matrix: which Airflow a Runtime carries, which Runtimes carry
//! an Airflow version, the newest release, and whether an upgrade is safe.

use jiff::civil::Date;

use crate::matrix::{Matrix, Release};
use crate::model::{AirflowVersion, RuntimeVersion, SeriesKey, VersionSpec};
use crate::policy::lifecycle::{self, Status};

/// The Airflow version Runtime `version` carries: `None` when `version` is not a release of the
/// matrix, or the public record lacks its Airflow version ([`Release::airflow`]).
pub fn airflow_of<'m>(matrix: &'m Matrix, version: &RuntimeVersion) -> Option<&'m AirflowVersion> {
    matrix.release(version).and_then(|r| r.airflow.as_ref())
}

/// Every release whose Airflow version is in `spec`, ascending (releases whose Airflow version
/// the record lacks are not among them).
pub fn runtimes_for<'m>(matrix: &'m Matrix, spec: &VersionSpec) -> Vec<&'m Release> {
    matrix
        .releases()
        .iter()
        .filter(|r| r.airflow.as_ref().is_some_and(|a| spec.contains(a)))
        .collect()
}

/// The lowest Runtime an upgrade from Airflow 2 to Airflow 3 may start from: 12.0.0 (Airflow
/// 2.10.0). Astronomer's CLI refuses the upgrade from below it ("If upgrading from Airflow 2 to
/// Airflow 3, we require at least Runtime 12.0.0 (Airflow 2.10.0)", astro-cli
/// `cloud/deploy/deploy.go`).
pub fn airflow3_upgrade_minimum() -> RuntimeVersion {
    RuntimeVersion::new(12, 0, 0)
}

/// The Airflow major a release carries: its Airflow version's, else what its version scheme
/// says (`X.Y-Z` names Airflow `X`; semantic Runtime versions all carry Airflow 2).
pub fn airflow_major(release: &Release) -> u64 {
    match (&release.airflow, &release.version) {
        (Some(a), _) => a.major(),
        (None, RuntimeVersion::Build(b)) => b.airflow_major,
        (None, RuntimeVersion::Semver(_)) => 2,
    }
}

/// Which releases to pick the newest from.
#[derive(Clone, Debug)]
pub enum Scope {
    /// Every release.
    All,
    /// One major series.
    Series(SeriesKey),
    /// Releases whose Airflow is in a spec.
    Airflow(VersionSpec),
}

/// The newest non-yanked, non-pre-release release in `scope`.
pub fn latest<'m>(matrix: &'m Matrix, scope: &Scope) -> Option<&'m Release> {
    matrix
        .releases()
        .iter()
        .rev()
        .filter(|r| !r.is_yanked() && !r.version.is_prerelease())
        .find(|r| match scope {
            Scope::All => true,
            Scope::Series(k) => r.version.series() == *k,
            Scope::Airflow(spec) => r.airflow.as_ref().is_some_and(|a| spec.contains(a)),
        })
}

/// A reason an upgrade from one Runtime to another needs attention.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum UpgradeIssue {
    /// The version is not in the matrix.
    Unknown {
        /// The version asked about.
        version: RuntimeVersion,
    },
    /// The target is lower than the current version.
    Downgrade {
        /// Airflow of the current version (`unknown` where the record lacks it).
        from_airflow: String,
        /// Airflow of the target (`unknown` where the record lacks it).
        to_airflow: String,
    },
    /// The Airflow version goes down even though the Runtime goes up.
    AirflowDowngrade {
        /// Airflow of the current version.
        from_airflow: AirflowVersion,
        /// Airflow of the target.
        to_airflow: AirflowVersion,
    },
    /// The target moves to another Airflow major: DAGs need migration.
    AirflowMajorJump {
        /// Airflow major of the current version.
        from: u64,
        /// Airflow major of the target.
        to: u64,
    },
    /// An upgrade from Airflow 2 to Airflow 3 starts below the Runtime that allows it.
    Airflow3FromBelow {
        /// The lowest Runtime an Airflow 3 upgrade may start from.
        minimum: RuntimeVersion,
    },
    /// The target was withdrawn.
    YankedTarget {
        /// The published reason.
        reason: String,
    },
    /// The target is out of maintenance on the day asked about.
    TargetNotMaintained {
        /// The day.
        on: Date,
        /// Its status that day.
        status: Status,
        /// Its end of maintenance.
        end_of_maintenance: Date,
    },
}

impl std::fmt::Display for UpgradeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpgradeIssue::Unknown { version } => {
                write!(f, "{version} is not a release in the matrix")
            }
            UpgradeIssue::Downgrade {
                from_airflow,
                to_airflow,
            } => write!(
                f,
                "downgrade: the target is an older Runtime (Airflow {from_airflow} -> {to_airflow}); Airflow metadata databases cannot be downgraded in place"
            ),
            UpgradeIssue::AirflowDowngrade {
                from_airflow,
                to_airflow,
            } => write!(
                f,
                "the target carries an older Airflow ({from_airflow} -> {to_airflow})"
            ),
            UpgradeIssue::AirflowMajorJump { from, to } => write!(
                f,
                "Airflow major version changes ({from} -> {to}): DAGs and configuration need migration"
            ),
            UpgradeIssue::Airflow3FromBelow { minimum } => write!(
                f,
                "an upgrade from Airflow 2 to Airflow 3 starts from Runtime {minimum} (Airflow 2.10) or later: upgrade to {minimum}+ first"
            ),
            UpgradeIssue::YankedTarget { reason } => write!(f, "the target was yanked: {reason}"),
            UpgradeIssue::TargetNotMaintained {
                on,
                status,
                end_of_maintenance,
            } => write!(
                f,
                "on {on} the target is in {status} (maintenance ended {end_of_maintenance})"
            ),
        }
    }
}

/// Checks an upgrade from `from` to `to`; `on` adds the maintenance check for that day. An empty
/// list means the upgrade is fine.
pub fn upgrade_check(
    matrix: &Matrix,
    from: &RuntimeVersion,
    to: &RuntimeVersion,
    on: Option<Date>,
) -> Vec<UpgradeIssue> {
    let (Some(a), Some(b)) = (matrix.release(from), matrix.release(to)) else {
        return [from, to]
            .into_iter()
            .filter(|v| matrix.release(v).is_none())
            .map(|v| UpgradeIssue::Unknown { version: v.clone() })
            .collect();
    };
    let mut issues = Vec::new();
    let airflows = a.airflow.as_ref().zip(b.airflow.as_ref());
    if to < from {
        issues.push(UpgradeIssue::Downgrade {
            from_airflow: a.airflow_text(),
            to_airflow: b.airflow_text(),
        });
    } else if let Some((aa, ba)) = airflows
        && ba < aa
    {
        issues.push(UpgradeIssue::AirflowDowngrade {
            from_airflow: aa.clone(),
            to_airflow: ba.clone(),
        });
    }
    let (from_major, to_major) = (airflow_major(a), airflow_major(b));
    if from_major != to_major {
        issues.push(UpgradeIssue::AirflowMajorJump {
            from: from_major,
            to: to_major,
        });
    }
    let minimum = airflow3_upgrade_minimum();
    if from_major == 2 && to_major >= 3 && a.version < minimum {
        issues.push(UpgradeIssue::Airflow3FromBelow { minimum });
    }
    if let Some(reason) = &b.yanked {
        issues.push(UpgradeIssue::YankedTarget {
            reason: reason.clone(),
        });
    }
    if let Some(day) = on
        && let Some(l) = lifecycle::of_release(matrix, to)
    {
        let status = l.release_status_on(b, day);
        if status != Status::Maintained {
            issues.push(UpgradeIssue::TargetNotMaintained {
                on: day,
                status,
                end_of_maintenance: l.end_of_maintenance,
            });
        }
    }
    issues
}
