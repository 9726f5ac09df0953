//! The version feed: every release in the shape Astronomer's CLI reads from its runtime-versions
//! endpoint (`runtimeVersions` keyed by version, each with `metadata` and `migrations`), extended
//! with the lifecycle and yanked fields the in-Airflow version check needs. Documented in
//! `docs/feed.md`, with a JSON Schema in `docs/feed.schema.json`.
//!
//! The feed is deterministic: versions appear in ascending version order, and nothing in it
//! depends on the day it is made.

use jiff::civil::Date;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::matrix::{Matrix, Release};
use crate::model::{AirflowVersion, PythonVersion, RuntimeVersion};
use crate::policy::lifecycle::{self, SeriesLifecycle};

/// The whole feed.
#[derive(Clone, Debug)]
pub struct Feed {
    /// Semantic-version releases (Airflow 2 era), ascending.
    pub runtime_versions: Vec<(RuntimeVersion, FeedEntry)>,
    /// `X.Y-Z` releases (Airflow 3 era), ascending; the CLI reads them from `runtimeVersionsV3`.
    pub runtime_versions_v3: Vec<(RuntimeVersion, FeedEntry)>,
}

/// One release in the feed.
#[derive(Clone, Debug, Serialize)]
pub struct FeedEntry {
    /// What the release is.
    pub metadata: Metadata,
    /// What upgrading to it involves.
    pub migrations: Migrations,
}

/// The `metadata` of a release.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The Airflow version it carries (`null` where the public record lacks it).
    pub airflow_version: Option<AirflowVersion>,
    /// `stable` for releases (every major is on the stable channel), `beta` for pre-releases.
    pub channel: &'static str,
    /// Whether its major series is long-term support (`LTS`, as the CLI's feed spells it).
    #[serde(rename = "LTS")]
    pub lts: bool,
    /// Release date, `YYYY-MM-DD` (`null` where the public record lacks it).
    pub release_date: Option<Date>,
    /// Whether it was withdrawn.
    pub yanked: bool,
    /// The published reason, when yanked.
    pub yanked_reason: Option<String>,
    /// Last day of maintenance of its series.
    pub end_of_maintenance: Option<Date>,
    /// The same day, under the name the CLI reads for Airflow 2 releases (`endOfSupport`).
    pub end_of_support: Option<Date>,
    /// Last day of basic support of its series, when it has one.
    pub end_of_basic_support: Option<Date>,
    /// The Python of the default image.
    pub default_python_version: PythonVersion,
    /// Every Python an image was published for, ascending (as Astronomer's feed lists them).
    pub python_versions: Vec<PythonVersion>,
}

/// The `migrations` of a release.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Migrations {
    /// Whether upgrading from the previous release migrates the Airflow metadata database: an
    /// Airflow release between the two added a migration (`[airflow] db-migrations` of the
    /// matrix; without it, any change of Airflow version counts). True for the first release;
    /// `null` where the Airflow version of either release is not in the record.
    pub airflow_database: Option<bool>,
}

/// Builds the feed of every release.
pub fn feed(matrix: &Matrix) -> Feed {
    let lifecycles = lifecycle::lifecycle(matrix);
    let mut feed = Feed {
        runtime_versions: Vec::new(),
        runtime_versions_v3: Vec::new(),
    };
    let mut previous: Option<&Release> = None;
    for r in matrix.releases() {
        let l: Option<&SeriesLifecycle> =
            lifecycles.iter().find(|l| l.series == r.version.series());
        let entry = FeedEntry {
            metadata: Metadata {
                airflow_version: r.airflow.clone(),
                channel: if r.version.is_prerelease() {
                    "beta"
                } else {
                    "stable"
                },
                lts: matrix
                    .series_of(r.version.series())
                    .is_some_and(|s| s.channel == crate::matrix::Channel::Lts),
                release_date: r.date,
                yanked: r.is_yanked(),
                yanked_reason: r.yanked.clone(),
                end_of_maintenance: l.map(|l| l.end_of_maintenance),
                end_of_support: l.map(|l| l.end_of_maintenance),
                end_of_basic_support: l.and_then(|l| l.end_of_basic_support),
                default_python_version: r.python,
                python_versions: {
                    let mut p: Vec<PythonVersion> = r.pythons().collect();
                    p.sort();
                    p
                },
            },
            migrations: Migrations {
                airflow_database: match previous {
                    None => Some(true),
                    Some(p) => p
                        .airflow
                        .as_ref()
                        .zip(r.airflow.as_ref())
                        .map(|(a, b)| matrix.migrates_database(a, b)),
                },
            },
        };
        match r.version {
            RuntimeVersion::Semver(_) => feed.runtime_versions.push((r.version.clone(), entry)),
            RuntimeVersion::Build(_) => feed.runtime_versions_v3.push((r.version.clone(), entry)),
        }
        previous = Some(r);
    }
    feed
}

struct Ordered<'a>(&'a [(RuntimeVersion, FeedEntry)]);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (version, entry) in self.0 {
            map.serialize_entry(&version.to_string(), entry)?;
        }
        map.end()
    }
}

impl Serialize for Feed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("runtimeVersions", &Ordered(&self.runtime_versions))?;
        map.serialize_entry("runtimeVersionsV3", &Ordered(&self.runtime_versions_v3))?;
        map.end()
    }
}
