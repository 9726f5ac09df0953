//! From TOML text to a typed [`Matrix`]: every value parsed once, each error with its place.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use super::error::SourceMap;
use super::validate::{self, ReleaseSpans};
use super::{
    Channel, Defaults, Matrix, MatrixErrors, PackageIndex, PolicyException, Release, Series,
};
use crate::model::{
    AirflowVersion, DebianRelease, Digest, PackageName, PackageSet, ParseError, PythonVersion,
    RuntimeVersion, SeriesKey,
};

/// The schema version this code reads.
pub const SCHEMA: i64 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMatrix {
    schema: Spanned<i64>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    indexes: BTreeMap<String, Spanned<RawIndex>>,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    series: BTreeMap<Spanned<String>, Spanned<RawSeries>>,
    #[serde(default)]
    base_images: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    airflow: RawAirflow,
    #[serde(default)]
    release: Vec<Spanned<RawRelease>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAirflow {
    db_migrations: Option<Vec<Spanned<String>>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDefaults {
    debian: Option<Spanned<String>>,
    repository: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIndex {
    url: Spanned<String>,
    #[serde(default)]
    packages: Vec<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    exceptions: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawException {
    release: Spanned<String>,
    reason: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSeries {
    channel: Spanned<String>,
    python: Option<Spanned<String>>,
    python_variants: Option<Vec<Spanned<String>>>,
    slim: Option<Spanned<bool>>,
    debian: Option<Spanned<String>>,
    repository: Option<Spanned<String>>,
    index: Option<Spanned<String>>,
    end_of_maintenance: Option<Spanned<toml::value::Datetime>>,
    end_of_basic_support: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRelease {
    version: Spanned<String>,
    airflow: Option<Spanned<String>>,
    date: Option<Spanned<toml::value::Datetime>>,
    existed_by: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    unknown: Vec<Spanned<String>>,
    python: Option<Spanned<String>>,
    python_variants: Option<Vec<Spanned<String>>>,
    slim: Option<Spanned<bool>>,
    debian: Option<Spanned<String>>,
    yanked: Option<Spanned<bool>>,
    yanked_reason: Option<Spanned<String>>,
    #[serde(default)]
    packages: BTreeMap<Spanned<String>, Spanned<String>>,
    slim_packages: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    index: Option<Spanned<String>>,
}

/// Collects conversion errors so one run reports every bad value, not just the first.
pub(super) struct Collector<'a> {
    pub(super) map: &'a SourceMap,
    pub(super) errors: Vec<super::MatrixError>,
}

impl Collector<'_> {
    pub(super) fn push(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.errors.push(self.map.error(span, message));
    }

    fn parse<T: FromStr<Err = ParseError>>(
        &mut self,
        what: &str,
        raw: &Spanned<String>,
    ) -> Option<T> {
        match raw.get_ref().parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(&raw.span(), format!("{what}: {e}"));
                None
            }
        }
    }

    /// An image repository without tag or digest.
    /// Parsed as the registry commands parse `--repo`, so the matrix holds only repositories
    /// they accept.
    fn repository(&mut self, what: &str, raw: &Spanned<String>) -> Option<String> {
        match raw.get_ref().parse::<crate::model::Repository>() {
            Ok(r) => Some(r.to_string()),
            Err(e) => {
                self.push(
                    &raw.span(),
                    format!(
                        "{what} {:?}: {}; expected {}",
                        e.input(),
                        e.why(),
                        e.expected()
                    ),
                );
                None
            }
        }
    }

    /// The name of an `[indexes.NAME]` table.
    fn index_name(
        &mut self,
        what: &str,
        raw: &Spanned<String>,
        indexes: &[PackageIndex],
    ) -> Option<String> {
        if indexes.iter().any(|x| &x.name == raw.get_ref()) {
            Some(raw.get_ref().clone())
        } else {
            self.push(
                &raw.span(),
                format!(
                    "{what} {:?} is not defined; expected the name of an [indexes.NAME] table",
                    raw.get_ref()
                ),
            );
            None
        }
    }

    /// A list of Pythons, each once.
    fn pythons(&mut self, what: &str, raw: &[Spanned<String>]) -> Vec<PythonVersion> {
        let mut out: Vec<PythonVersion> = Vec::new();
        for p in raw {
            if let Some(pv) = self.parse(what, p) {
                if out.contains(&pv) {
                    self.push(&p.span(), format!("{what}: {pv} is listed twice"));
                }
                out.push(pv);
            }
        }
        out
    }

    fn date(&mut self, what: &str, raw: &Spanned<toml::value::Datetime>) -> Option<Date> {
        let dt = raw.get_ref();
        let expected = "expected a date like 2022-07-21";
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => match Date::new(d.year as i16, d.month as i8, d.day as i8) {
                Ok(date) => Some(date),
                Err(_) => {
                    self.push(
                        &raw.span(),
                        format!("{what}: {dt} is not a day of the calendar; {expected}"),
                    );
                    None
                }
            },
            _ => {
                self.push(
                    &raw.span(),
                    format!("{what}: {dt} is not a plain date; {expected}"),
                );
                None
            }
        }
    }

    fn packages(
        &mut self,
        what: &str,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> PackageSet {
        let mut set = PackageSet::new();
        for (name, version) in raw {
            let Some(n) = self.parse::<PackageName>(&format!("{what} name"), name) else {
                continue;
            };
            if n.as_str() != name.get_ref() {
                self.push(
                    &name.span(),
                    format!(
                        "{what}: write package {:?} in its normalised form {:?}",
                        name.get_ref(),
                        n.as_str()
                    ),
                );
                continue;
            }
            if n.as_str() == "apache-airflow" {
                self.push(
                    &name.span(),
                    format!("{what}: apache-airflow is pinned by the release's `airflow` key, not in its packages; a release carries exactly one Airflow version"),
                );
                continue;
            }
            let Some(v) = self.parse(&format!("{what} {n}"), version) else {
                continue;
            };
            set.insert(n, v);
        }
        set
    }
}

/// Parses and validates matrix text.
pub(super) fn parse(text: &str, name: &Path) -> Result<Matrix, MatrixErrors> {
    let map = SourceMap::new(name, text);
    let raw: RawMatrix = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().replace('\n', " ");
        MatrixErrors(vec![map.error(&span, message.to_string())])
    })?;
    let mut c = Collector {
        map: &map,
        errors: Vec::new(),
    };

    if *raw.schema.get_ref() != SCHEMA {
        c.push(
            &raw.schema.span(),
            format!(
                "schema {} is not supported; expected schema = {SCHEMA}",
                raw.schema.get_ref()
            ),
        );
    }

    let debian = match &raw.defaults.debian {
        Some(d) => c
            .parse("defaults.debian", d)
            .unwrap_or(DebianRelease::Bullseye),
        None => DebianRelease::Bullseye,
    };
    let repository = match &raw.defaults.repository {
        Some(r) => c.repository("defaults.repository", r).unwrap_or_default(),
        None => super::DEFAULT_REPOSITORY.to_string(),
    };
    let source = raw.defaults.source.as_ref().and_then(|s| {
        if is_index_url(s.get_ref()) {
            Some(s.get_ref().clone())
        } else {
            c.push(&s.span(), format!("defaults.source {:?}: expected an http(s) URL made of letters, digits and the characters -._~/:", s.get_ref()));
            None
        }
    });
    let defaults = Defaults {
        debian,
        repository,
        source,
    };

    let mut indexes = Vec::new();
    for (name, index) in &raw.indexes {
        let index = index.get_ref();
        let url = index.url.get_ref();
        if !is_index_url(url) {
            c.push(
                &index.url.span(),
                format!("index {name}: url {url:?} is not valid; expected an http(s) URL made of letters, digits and the characters -._~/:"),
            );
        }
        let packages = index
            .packages
            .iter()
            .filter_map(|p| c.parse(&format!("index {name} package"), p))
            .collect();
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            c.push(
                &index.url.span(),
                format!("index name {name:?}: expected letters, digits and '-'"),
            );
        }
        indexes.push(PackageIndex {
            name: name.clone(),
            url: url.clone(),
            packages,
        });
    }

    let mut exceptions = Vec::new();
    let mut exception_spans = Vec::new();
    for e in &raw.policy.exceptions {
        let e_ref = e.get_ref();
        if e_ref.reason.get_ref().trim().is_empty() {
            c.push(
                &e_ref.reason.span(),
                "policy exception: the reason is empty; expected why the history broke the policy",
            );
        }
        if let Some(release) = c.parse::<RuntimeVersion>("policy exception release", &e_ref.release)
        {
            exceptions.push(PolicyException {
                release,
                reason: e_ref.reason.get_ref().clone(),
            });
            exception_spans.push(e_ref.release.span());
        }
    }

    let mut series = BTreeMap::new();
    for (key, s) in &raw.series {
        let Some(series_key) = parse_series_key(&mut c, key) else {
            continue;
        };
        let s_ref = s.get_ref();
        let channel = c.parse::<Channel>(
            &format!("series {key}", key = key.get_ref()),
            &s_ref.channel,
        );
        let name = key.get_ref();
        let python = s_ref
            .python
            .as_ref()
            .and_then(|p| c.parse(&format!("series {name} python"), p));
        let python_variants = s_ref
            .python_variants
            .as_ref()
            .map(|v| c.pythons(&format!("series {name} python-variants"), v));
        let debian = s_ref
            .debian
            .as_ref()
            .and_then(|d| c.parse(&format!("series {name} debian"), d));
        let series_repository = s_ref
            .repository
            .as_ref()
            .and_then(|r| c.repository(&format!("series {name} repository"), r));
        let index = s_ref
            .index
            .as_ref()
            .and_then(|i| c.index_name(&format!("series {name} index"), i, &indexes));
        let eom = s_ref
            .end_of_maintenance
            .as_ref()
            .and_then(|d| c.date("end-of-maintenance", d));
        let eobs = s_ref
            .end_of_basic_support
            .as_ref()
            .and_then(|d| c.date("end-of-basic-support", d));
        if let (Some(m), Some(b), Some(span)) = (eom, eobs, s_ref.end_of_basic_support.as_ref())
            && b < m
        {
            c.push(&span.span(), format!("series {}: end of basic support {b} is before end of maintenance {m}; expected a date on or after it", key.get_ref()));
        }
        // A series whose channel does not parse is still recorded (the error is): its releases
        // are then checked too, rather than each reported as having no series.
        {
            series.insert(
                series_key,
                Series {
                    key: series_key,
                    channel: channel.unwrap_or(Channel::Stable),
                    python,
                    python_variants,
                    slim: s_ref.slim.as_ref().map(|s| *s.get_ref()),
                    debian,
                    repository: series_repository,
                    index,
                    end_of_maintenance: eom,
                    end_of_basic_support: eobs,
                },
            );
        }
    }

    let mut base_images = BTreeMap::new();
    for (image, digest) in &raw.base_images {
        if !is_image_reference(image.get_ref()) {
            c.push(&image.span(), format!("base image {:?}: expected an image reference like \"python:3.9-slim-bullseye\" (letters, digits and ._-/: only)", image.get_ref()));
            continue;
        }
        if let Some(d) = c.parse::<Digest>(&format!("digest of {}", image.get_ref()), digest) {
            base_images.insert(image.get_ref().clone(), d);
        }
    }

    let db_migrations = raw.airflow.db_migrations.as_ref().map(|list| {
        let mut versions: Vec<AirflowVersion> = Vec::new();
        for raw in list {
            if let Some(v) = c.parse::<AirflowVersion>("airflow.db-migrations", raw) {
                if versions.last().is_some_and(|last| *last >= v) {
                    c.push(
                        &raw.span(),
                        format!("airflow.db-migrations: {v} is not above the version before it; expected ascending versions, each once"),
                    );
                }
                versions.push(v);
            }
        }
        versions
    });

    let mut releases = Vec::new();
    for raw_release in &raw.release {
        if let Some(pair) = convert_release(
            &mut c,
            raw_release.get_ref(),
            &raw_release.span(),
            &series,
            &defaults,
            &indexes,
        ) {
            releases.push(pair);
        }
    }

    validate::check(&mut c, &releases, &series, &exceptions, &exception_spans);

    if !c.errors.is_empty() {
        let mut errors = c.errors;
        errors.sort_by(|a, b| a.location.cmp(&b.location));
        errors.dedup();
        return Err(MatrixErrors(errors));
    }
    let releases = {
        let mut r: Vec<Release> = releases.into_iter().map(|(r, _)| r).collect();
        r.sort_by(|a, b| a.version.cmp(&b.version));
        r
    };
    Ok(Matrix {
        path: name.to_path_buf(),
        text: text.to_string(),
        defaults,
        indexes,
        exceptions,
        series,
        base_images,
        db_migrations,
        releases,
    })
}

fn parse_series_key(c: &mut Collector<'_>, key: &Spanned<String>) -> Option<SeriesKey> {
    match key.get_ref().parse::<SeriesKey>() {
        Ok(k) => Some(k),
        Err(_) => {
            c.push(&key.span(), format!("series key {:?}: expected a major version like \"5\" or, for X.Y-Z versions, an Airflow minor like \"3.1\"", key.get_ref()));
            None
        }
    }
}

/// The facts a release may leave out where the public record lacks them (`unknown = [...]`).
const UNKNOWABLE: [&str; 3] = ["airflow", "date", "packages"];

fn convert_release(
    c: &mut Collector<'_>,
    raw: &RawRelease,
    span: &Range<usize>,
    series: &BTreeMap<SeriesKey, Series>,
    defaults: &Defaults,
    indexes: &[PackageIndex],
) -> Option<(Release, ReleaseSpans)> {
    let errors_before = c.errors.len();
    let version: Option<RuntimeVersion> = c.parse("version", &raw.version);

    // What the record lacks is said, so that a missing key is never a typo taken for a gap.
    let mut unknown: Vec<&str> = Vec::new();
    // A misspelt entry is the fault reported; what it meant to mark is not reported as missing.
    let mut misspelt = false;
    for u in &raw.unknown {
        match UNKNOWABLE.iter().find(|k| **k == u.get_ref().as_str()) {
            Some(k) if unknown.contains(k) => {
                c.push(&u.span(), format!("unknown: {k:?} is listed twice"))
            }
            Some(k) => unknown.push(k),
            None => {
                misspelt = true;
                c.push(
                    &u.span(),
                    format!(
                        "unknown: {:?} is not a fact a release may lack; expected \"airflow\", \"date\" or \"packages\"",
                        u.get_ref()
                    ),
                )
            }
        }
    }
    let says = |k: &str| unknown.contains(&k);
    let unknown_span = raw
        .unknown
        .first()
        .map_or_else(|| raw.version.span(), |u| u.span());
    // A fact is given, or listed as unknown: exactly one of the two.
    let mut fact = |key: &str, given: Option<Range<usize>>, missing: &str| -> bool {
        match (given, says(key)) {
            (Some(_), false) => true,
            (None, true) => false,
            (Some(span), true) => {
                c.push(
                    &span,
                    format!(
                        "{key} is given but unknown lists \"{key}\"; expected one or the other"
                    ),
                );
                false
            }
            (None, false) => {
                if !misspelt {
                    c.push(
                        &raw.version.span(),
                        format!("release has no {key}; expected {missing}"),
                    );
                }
                false
            }
        }
    };
    let airflow_given = fact(
        "airflow",
        raw.airflow.as_ref().map(|a| a.span()),
        "airflow = \"X.Y.Z\", or unknown = [\"airflow\"] where the public record lacks it",
    );
    let date_given = fact(
        "date",
        raw.date.as_ref().map(|d| d.span()),
        "date = YYYY-MM-DD, or unknown = [\"date\"] (with existed-by = the day of its earliest public trace, where there is one)",
    );
    let airflow = raw
        .airflow
        .as_ref()
        .filter(|_| airflow_given)
        .and_then(|a| c.parse("airflow", a));
    let date = raw
        .date
        .as_ref()
        .filter(|_| date_given)
        .and_then(|d| c.date("date", d));
    let existed_by = raw.existed_by.as_ref().and_then(|d| {
        if raw.date.is_some() {
            c.push(&d.span(), "existed-by on a release with a date; expected existed-by only where the release date is unknown");
            None
        } else {
            c.date("existed-by", d)
        }
    });
    let series_entry = version.as_ref().and_then(|v| {
        let found = series.get(&v.series());
        if found.is_none() {
            c.push(
                &raw.version.span(),
                format!(
                    "release {}: there is no {} table; expected one giving the series' channel",
                    v,
                    v.series().table_header()
                ),
            );
        }
        found
    });
    let python = match &raw.python {
        Some(p) => c.parse("python", p),
        None => {
            let p = series_entry.and_then(|s| s.python);
            if p.is_none() && series_entry.is_some() {
                c.push(
                    &raw.version.span(),
                    "release has no python and its series gives none; expected python = \"X.Y\"",
                );
            }
            p
        }
    };
    let mut python_variants = match &raw.python_variants {
        Some(v) => c.pythons("python-variants", v),
        None => series_entry
            .and_then(|s| s.python_variants.clone())
            .unwrap_or_default(),
    };
    // A series' variants never include the release's own default Python.
    if raw.python_variants.is_none() {
        python_variants.retain(|p| Some(*p) != python);
    }
    let debian = match &raw.debian {
        Some(d) => c.parse("debian", d),
        None => Some(
            series_entry
                .and_then(|s| s.debian)
                .unwrap_or(defaults.debian),
        ),
    };
    let repository = series_entry
        .and_then(|s| s.repository.clone())
        .unwrap_or_else(|| defaults.repository.clone());
    let yanked = match (
        raw.yanked.as_ref().map(|y| *y.get_ref()),
        &raw.yanked_reason,
    ) {
        (Some(true), Some(reason)) if !reason.get_ref().trim().is_empty() => {
            // One line of text: it is printed in notes, the feed and upgrade checks.
            if reason.get_ref().chars().any(char::is_control) {
                c.push(
                    &reason.span(),
                    "yanked-reason holds a line break or control character; expected one line of text",
                );
                None
            } else {
                Some(reason.get_ref().clone())
            }
        }
        (Some(true), reason) => {
            let at = reason.as_ref().map_or_else(
                || {
                    raw.yanked
                        .as_ref()
                        .map(|y| y.span())
                        .unwrap_or(span.clone())
                },
                |r| r.span(),
            );
            c.push(
                &at,
                "a yanked release needs its published reason; expected yanked-reason = \"...\"",
            );
            None
        }
        (_, Some(reason)) => {
            c.push(&reason.span(), "yanked-reason on a release that is not yanked; expected yanked = true with it, or no reason");
            None
        }
        (_, None) => None,
    };
    let slim = match &raw.slim {
        Some(s) => *s.get_ref(),
        None => series_entry.and_then(|s| s.slim).unwrap_or(false),
    };
    let packages = c.packages("packages", &raw.packages);
    let packages_known = !says("packages");
    let slim_packages = match (&raw.slim_packages, slim && packages_known) {
        (Some(sp), true) => {
            let set = c.packages("slim-packages", sp.get_ref());
            // One lock serves a release's standard and slim images: a package both pin must
            // be pinned alike, or the slim pin would be silently lost.
            for (name, version) in sp.get_ref() {
                let standard = raw
                    .packages
                    .iter()
                    .find(|(n, _)| n.get_ref() == name.get_ref());
                if let Some((_, theirs)) = standard
                    && theirs.get_ref() != version.get_ref()
                {
                    c.push(
                        &version.span(),
                        format!(
                            "slim-packages: {} = {:?} differs from packages' {:?}; expected the same pin (one lock serves the standard and the slim images)",
                            name.get_ref(),
                            version.get_ref(),
                            theirs.get_ref()
                        ),
                    );
                }
            }
            set
        }
        (Some(sp), false) if !slim => {
            c.push(
                &sp.span(),
                "slim-packages on a release without slim images; expected slim = true with it",
            );
            PackageSet::new()
        }
        (Some(sp), false) => {
            c.push(
                &sp.span(),
                "slim-packages on a release whose packages are unknown; expected one or the other",
            );
            PackageSet::new()
        }
        (None, true) => {
            c.push(
                &raw.slim.as_ref().map_or(span.clone(), |s| s.span()),
                "slim = true but no [release.slim-packages] table; expected the slim image's pins",
            );
            PackageSet::new()
        }
        (None, false) => PackageSet::new(),
    };
    match (packages_known, raw.packages.is_empty()) {
        (false, false) => c.push(&unknown_span, "unknown lists \"packages\" on a release that lists packages; expected one or the other"),
        (true, true) if !misspelt => c.push(&raw.version.span(), "release has no [release.packages]; expected its pins, or unknown = [\"packages\"] where the public record lacks them"),
        _ => {}
    }
    let index = match &raw.index {
        Some(i) => c.index_name("index", i, indexes),
        None => series_entry.and_then(|s| s.index.clone()),
    };
    if c.errors.len() != errors_before {
        return None;
    }
    let release = Release {
        version: version?,
        airflow,
        date,
        existed_by,
        python: python?,
        python_variants,
        slim,
        debian: debian?,
        repository,
        yanked,
        packages,
        slim_packages,
        packages_known,
        index,
    };
    let spans = ReleaseSpans {
        version: raw.version.span(),
        airflow: raw
            .airflow
            .as_ref()
            .map_or_else(|| raw.version.span(), |a| a.span()),
        date: raw
            .date
            .as_ref()
            .map_or_else(|| raw.version.span(), |d| d.span()),
    };
    Some((release, spans))
}

/// An index URL: http(s), then only characters that are safe in a pip configuration and shell.
fn is_index_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && r.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':')
            })
    })
}

/// An image reference without digest: registry/repository:tag characters only.
pub(crate) fn is_image_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b':'))
}
