//! `runtime-matrix.toml`: the release history, loaded into typed values and validated.
//!
//! A [`Matrix`] only exists once its file parsed and passed every check of [`validate`], so code
//! holding one never re-checks it. The file format is documented in `docs/matrix-schema.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jiff::civil::Date;

use crate::model::{
    AirflowVersion, DebianRelease, Digest, ImageTag, PackageName, PackageSet, ParseError,
    PythonVersion, RuntimeVersion, SeriesKey, Variant,
};

pub mod edit;
mod error;
mod load;
pub(crate) mod text_style;
mod validate;

pub use error::{LoadError, Location, MatrixError, MatrixErrors};

/// The default file name of the matrix.
pub const DEFAULT_PATH: &str = "runtime-matrix.toml";

/// The release history: every Runtime release with its Airflow version, Python, Debian release,
/// dates, channel, yanked state and pinned packages.
#[derive(Clone, Debug)]
pub struct Matrix {
    path: PathBuf,
    text: String,
    defaults: Defaults,
    indexes: Vec<PackageIndex>,
    exceptions: Vec<PolicyException>,
    series: BTreeMap<SeriesKey, Series>,
    base_images: BTreeMap<String, Digest>,
    db_migrations: Option<Vec<AirflowVersion>>,
    releases: Vec<Release>,
}

/// Values every release takes unless it says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Defaults {
    /// Debian release of the images.
    pub debian: DebianRelease,
    /// Image repository the releases are published to (`quay.io/astronomer/astro-runtime`).
    pub repository: String,
    /// URL of the source the images are built from (the `org.opencontainers.image.source` label).
    pub source: Option<String>,
}

/// The repository images are published to when the matrix names none.
pub const DEFAULT_REPOSITORY: &str = "quay.io/astronomer/astro-runtime";

/// A package index other than PyPI, and the packages only it serves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PackageIndex {
    /// Name the matrix gives the index.
    pub name: String,
    /// Simple-API URL.
    pub url: String,
    /// Packages installed from this index.
    pub packages: Vec<PackageName>,
}

/// A release recorded as breaking the release policy against its predecessor.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PolicyException {
    /// The later release of the pair.
    pub release: RuntimeVersion,
    /// Why the history is as it is.
    pub reason: String,
}

/// Release channel of a major series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Stable: maintained 6 months, or 3 months after the next major, whichever is longer.
    Stable,
    /// Long-term support: maintained 18 months, or 6 months after the next LTS.
    Lts,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::Stable => "stable",
            Channel::Lts => "lts",
        })
    }
}

impl FromStr for Channel {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "stable" => Ok(Channel::Stable),
            "lts" => Ok(Channel::Lts),
            _ => Err(ParseError::new(
                s,
                "a channel: \"stable\" or \"lts\"",
                "it is not a known channel",
            )),
        }
    }
}

/// A series of releases (a semantic major, or an Airflow-3 line), its published lifecycle and
/// the values its releases take unless they say otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// Which series.
    pub key: SeriesKey,
    /// Stable or LTS.
    pub channel: Channel,
    /// Default Python of the series' releases.
    pub python: Option<PythonVersion>,
    /// Extra `-python-X.Y` images of the series' releases.
    pub python_variants: Option<Vec<PythonVersion>>,
    /// Whether the series' releases publish `-slim` images.
    pub slim: Option<bool>,
    /// Debian release of the series' images (else `defaults.debian`).
    pub debian: Option<DebianRelease>,
    /// Repository the series' images are published to (else `defaults.repository`).
    pub repository: Option<String>,
    /// Package index (a name from `[indexes]`) the series' releases install from, besides PyPI.
    pub index: Option<String>,
    /// Published end of maintenance (the first day out of it), overriding the computed one.
    pub end_of_maintenance: Option<Date>,
    /// Published end of basic support (the first day out of it).
    pub end_of_basic_support: Option<Date>,
}

/// One Runtime release, fully resolved (series defaults applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The Runtime version.
    pub version: RuntimeVersion,
    /// The one Airflow version it carries; `None` where the public record does not give it
    /// (`unknown = ["airflow"]`): such a release is ordered, tagged and reported, but has no build
    /// contexts.
    pub airflow: Option<AirflowVersion>,
    /// Release date; `None` where the public record does not give it (`unknown = ["date"]`).
    pub date: Option<Date>,
    /// For a release without a known date: the day of the earliest dated public trace of it (a
    /// commit pulling its image), which it was released on or before.
    pub existed_by: Option<Date>,
    /// Default Python.
    pub python: PythonVersion,
    /// Extra `-python-X.Y` images published.
    pub python_variants: Vec<PythonVersion>,
    /// Whether `-slim` images were published.
    pub slim: bool,
    /// Debian release of the images.
    pub debian: DebianRelease,
    /// Repository the images are published to (`quay.io/astronomer/astro-runtime`,
    /// `astrocrpublic.azurecr.io/runtime`).
    pub repository: String,
    /// The published reason, when the release was withdrawn.
    pub yanked: Option<String>,
    /// Exact pins of the default image besides Airflow.
    pub packages: PackageSet,
    /// Exact pins of the `-slim` images.
    pub slim_packages: PackageSet,
    /// False where the public record lacks the release's package set (`unknown = ["packages"]`):
    /// its images pin Airflow only.
    pub packages_known: bool,
    /// The package index (a name from `[indexes]`) the release's pins come from, besides PyPI.
    pub index: Option<String>,
}

impl Release {
    /// Whether the release was withdrawn.
    pub fn is_yanked(&self) -> bool {
        self.yanked.is_some()
    }

    /// The day the release is known to have existed by: its release date, else the day of its
    /// earliest public trace. Locks resolve as of this day.
    pub fn known_by(&self) -> Option<Date> {
        self.date.or(self.existed_by)
    }

    /// The facts the public record lacks for this release (`unknown = [...]` in the matrix), in
    /// the order `airflow`, `date`, `packages`.
    pub fn unknown(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.airflow.is_none() {
            out.push("airflow");
        }
        if self.date.is_none() {
            out.push("date");
        }
        if !self.packages_known {
            out.push("packages");
        }
        out
    }

    /// The Airflow version with a text for a release that does not record one.
    pub fn airflow_text(&self) -> String {
        self.airflow
            .as_ref()
            .map_or_else(|| "unknown".to_string(), ToString::to_string)
    }

    /// The release date as text (`2022-07-11`, `on or before 2025-04-29`, `unknown`).
    pub fn date_text(&self) -> String {
        match (self.date, self.existed_by) {
            (Some(d), _) => d.to_string(),
            (None, Some(d)) => format!("on or before {d}"),
            (None, None) => "unknown".to_string(),
        }
    }

    /// Every Python this release was published for: the default first, then the variants.
    pub fn pythons(&self) -> impl Iterator<Item = PythonVersion> + '_ {
        std::iter::once(self.python).chain(self.python_variants.iter().copied())
    }

    /// Every image variant published for this release: for each Python (default first) and
    /// package set (standard, then slim), the ONBUILD image and its base.
    pub fn variants(&self) -> Vec<Variant> {
        let pythons = std::iter::once(None).chain(self.python_variants.iter().map(|p| Some(*p)));
        let slims: &[bool] = if self.slim { &[false, true] } else { &[false] };
        let mut out = Vec::new();
        for python in pythons {
            for &slim in slims {
                for base in [false, true] {
                    out.push(Variant { python, slim, base });
                }
            }
        }
        out
    }

    /// Every exact tag of this release.
    pub fn tags(&self) -> Vec<ImageTag> {
        self.variants()
            .into_iter()
            .map(|v| ImageTag::new(self.version.clone(), v))
            .collect()
    }

    /// The Python an image variant is built on.
    pub fn python_of(&self, variant: &Variant) -> PythonVersion {
        variant.python.unwrap_or(self.python)
    }

    /// The pins of an image variant (the slim set for `-slim`).
    pub fn packages_of(&self, variant: &Variant) -> &PackageSet {
        if variant.slim {
            &self.slim_packages
        } else {
            &self.packages
        }
    }

    /// Whether `variant` was published for this release.
    pub fn has_variant(&self, variant: &Variant) -> bool {
        (!variant.slim || self.slim)
            && variant
                .python
                .is_none_or(|p| self.python_variants.contains(&p))
    }
}

impl Matrix {
    /// Reads, parses and validates the matrix at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Matrix, LoadError> {
        let path = path.as_ref();
        let text = crate::fsutil::read_input_string(path, crate::fsutil::DEFAULT_INPUT_LIMIT)
            .map_err(|io| LoadError::Read {
                path: path.to_path_buf(),
                io,
            })?;
        Ok(Self::from_str_named(&text, path)?)
    }

    /// Parses and validates matrix text; `name` is the file name used in error locations.
    pub fn from_str_named(text: &str, name: impl AsRef<Path>) -> Result<Matrix, MatrixErrors> {
        load::parse(text, name.as_ref())
    }

    /// The file the matrix was read from (as named by the caller).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The source text the matrix was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Defaults applied to every release.
    pub fn defaults(&self) -> &Defaults {
        &self.defaults
    }

    /// Every repository the releases are published to, in order of first use (the default
    /// first when a release uses it).
    pub fn repositories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.releases {
            if !out.contains(&r.repository.as_str()) {
                out.push(&r.repository);
            }
        }
        out
    }

    /// Every release, in ascending version order.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// The release `version`, if recorded.
    pub fn release(&self, version: &RuntimeVersion) -> Option<&Release> {
        self.releases
            .binary_search_by(|r| r.version.cmp(version))
            .ok()
            .map(|i| &self.releases[i])
    }

    /// Every major series, in order.
    pub fn series(&self) -> impl Iterator<Item = &Series> {
        self.series.values()
    }

    /// The series `key`.
    pub fn series_of(&self, key: SeriesKey) -> Option<&Series> {
        self.series.get(&key)
    }

    /// The releases of series `key`, ascending.
    pub fn releases_in(&self, key: SeriesKey) -> impl DoubleEndedIterator<Item = &Release> {
        self.releases
            .iter()
            .filter(move |r| r.version.series() == key)
    }

    /// Releases recorded as exceptions to the release policy.
    pub fn policy_exceptions(&self) -> &[PolicyException] {
        &self.exceptions
    }

    /// Package indexes other than PyPI.
    pub fn indexes(&self) -> &[PackageIndex] {
        &self.indexes
    }

    /// The index a package must be installed from, when it is not PyPI.
    pub fn index_of(&self, package: &PackageName) -> Option<&PackageIndex> {
        self.indexes.iter().find(|i| i.packages.contains(package))
    }

    /// The index named `name` in `[indexes]`.
    pub fn index(&self, name: &str) -> Option<&PackageIndex> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The non-PyPI indexes a release needs: its own `index`, and the index of every pinned
    /// package served only there.
    pub fn indexes_for(&self, release: &Release) -> Vec<&PackageIndex> {
        let mut out: Vec<&PackageIndex> = Vec::new();
        let own = release.index.as_deref().and_then(|n| self.index(n));
        let by_package = release
            .packages
            .iter()
            .chain(release.slim_packages.iter())
            .filter_map(|(name, _)| self.index_of(name));
        for index in own.into_iter().chain(by_package) {
            if !out.iter().any(|i| i.name == index.name) {
                out.push(index);
            }
        }
        out
    }

    /// Whether `package` of `release` is served by a non-PyPI index only: a package an index
    /// lists, or, on a release with its own `index`, a vendor build (a pin with an epoch such as
    /// `1!2.0.0` or a local label such as `7.0.0+astro.2`, which PyPI does not carry).
    pub fn is_vendor_package(&self, release: &Release, package: &PackageName) -> bool {
        if self.index_of(package).is_some() {
            return true;
        }
        release.index.is_some()
            && release
                .packages
                .get(package)
                .or_else(|| release.slim_packages.get(package))
                .is_some_and(|v| v.pep440().epoch() != 0 || !v.pep440().local().is_empty())
    }

    /// Base images pinned by digest, by image reference (`python:3.9-slim-bullseye`).
    pub fn base_image_digests(&self) -> &BTreeMap<String, Digest> {
        &self.base_images
    }

    /// The Airflow releases that added metadata-database migrations (`[airflow]
    /// db-migrations`), ascending; `None` when the matrix does not record them.
    pub fn airflow_db_migrations(&self) -> Option<&[AirflowVersion]> {
        self.db_migrations.as_deref()
    }

    /// Whether moving Airflow from `from` to `to` runs database migrations: some Airflow
    /// release in `(from, to]` added one (either direction: a downgrade reverts them). Without
    /// `[airflow] db-migrations`, any change of Airflow version counts.
    pub fn migrates_database(&self, from: &AirflowVersion, to: &AirflowVersion) -> bool {
        let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
        match &self.db_migrations {
            Some(versions) => versions.iter().any(|v| lo < v && v <= hi),
            None => from != to,
        }
    }
}
