//! The tag plan: every image tag the matrix says a registry should hold, and where each floating
//! alias must point.
//!
//! A release publishes one *exact* tag per image variant ([`Release::tags`]): `5.0.6`,
//! `5.0.6-base`, `9.1.0-python-3.10`, `11.2.0-python-3.10-slim-base`. On top of those, users pull
//! *floating* aliases that follow a series:
//!
//! - **major** `M<suffix>` (semantic versions only): the newest *eligible* release of major `M`
//!   that published the variant `<suffix>`;
//! - **minor** `X.Y<suffix>`: the newest eligible release whose minor series is `X.Y` and that
//!   published the variant. For Airflow-3-era versions (`3.1-12`) the minor series is the Airflow
//!   line `3.1`, the only alias such releases get (a major alias would cross Airflow minors, which
//!   the semantic scheme reserves for a new major; the record says `3` is not a published tag),
//!   and only for the default Python: `3.1`, `3.1-base`, never `3.1-python-3.11` (the record: a
//!   Python other than the default needs the exact build). Where an old `X.Y.Z` line and an
//!   `X.Y-Z` line share a name, the `X.Y-Z` line is newer by the version order and wins.
//!
//! *Eligible* means neither yanked nor a pre-release: a yanked release never receives an alias,
//! and neither does `5.0.0-rc1`. An alias with a suffix exists as soon as one eligible release of
//! its series published that variant, and it points at the newest such release: when a later
//! release drops `-python-3.8`, `9-python-3.8` stays on the last release that had it rather than
//! disappearing under users who pull it.
//!
//! Every tag is checked against the OCI tag grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, and no
//! tag may be planned twice.
//!
//! ```
//! use runtime_kit::matrix::Matrix;
//! use runtime_kit::tags::TagPlan;
//!
//! let matrix = Matrix::from_str_named(r#"
//! schema = 1
//! [series.5]
//! channel = "stable"
//! python = "3.9"
//! [[release]]
//! version = "5.0.5"
//! airflow = "2.3.3"
//! date = 2022-07-12
//! unknown = ["packages"]
//! [[release]]
//! version = "5.0.6"
//! airflow = "2.3.3"
//! date = 2022-07-21
//! unknown = ["packages"]
//! "#, "example.toml").unwrap();
//! let plan = TagPlan::new(&matrix).unwrap();
//! let alias = plan.alias("5.0-base").unwrap();
//! assert_eq!(alias.target.to_string(), "5.0.6-base");
//! assert!(plan.release(&"5.0.5".parse().unwrap()).unwrap().aliases.is_empty());
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use crate::matrix::{Matrix, Release};
use crate::model::{ImageTag, ParseError, RuntimeVersion, Variant};

/// A tag as the OCI distribution grammar allows it: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
///
/// ```
/// use runtime_kit::tags::Tag;
/// assert!("5.0-python-3.10-base".parse::<Tag>().is_ok());
/// assert!(".hidden".parse::<Tag>().is_err());
/// assert!("x".repeat(129).parse::<Tag>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const TAG_EXPECTED: &str =
    "an OCI tag: a letter, digit or '_' then up to 127 letters, digits, '.', '_' or '-'";

impl FromStr for Tag {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |why: &str| ParseError::new(s, TAG_EXPECTED, why);
        let first = s.bytes().next().ok_or_else(|| err("it is empty"))?;
        if !(first.is_ascii_alphanumeric() || first == b'_') {
            return Err(err("it starts with a character a tag cannot start with"));
        }
        if s.len() > 128 {
            return Err(err(&format!("it is {} characters long", s.len())));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(err(&format!("it contains {c:?}")));
        }
        Ok(Tag(s.to_string()))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Which series a floating alias follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AliasLevel {
    /// `5`, `5-base`: the newest release of a major version.
    Major,
    /// `5.0`, `3.1-python-3.12`: the newest release of a minor series (or Airflow line).
    Minor,
}

impl fmt::Display for AliasLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AliasLevel::Major => "major",
            AliasLevel::Minor => "minor",
        })
    }
}

/// A floating alias and the exact tag it must point at.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FloatingTag {
    /// The alias, e.g. `9-python-3.10-base`.
    pub tag: Tag,
    /// The repository it is a tag of (its releases' repository).
    pub repository: String,
    /// Major or minor alias.
    pub level: AliasLevel,
    /// The series it follows: `9`, `5.0`, `3.1`.
    pub series: String,
    /// The image variant (the tag suffix).
    #[serde(skip)]
    pub variant: Variant,
    /// The exact tag it points at, e.g. `9.1.0-python-3.10-base`.
    pub target: ImageTag,
}

/// The tags of one release: its exact tags and the aliases that point at it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseTags {
    /// The release.
    pub version: RuntimeVersion,
    /// The repository its images are published to.
    pub repository: String,
    /// The Airflow version it carries (the label the registry must show); `None` where the
    /// public record lacks it.
    pub airflow: Option<String>,
    /// Withdrawn: its exact tags stay published, it receives no alias.
    pub yanked: bool,
    /// A pre-release (`5.0.0-rc1`): exact tags only.
    pub prerelease: bool,
    /// Every exact tag, one per image variant.
    pub tags: Vec<ImageTag>,
    /// The floating aliases that point at one of this release's images.
    pub aliases: Vec<FloatingTag>,
}

/// Every tag the matrix plans, per release. Build it with [`TagPlan::new`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TagPlan {
    releases: Vec<ReleaseTags>,
}

/// A tag plan that cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct TagPlanError {
    kind: Box<TagPlanErrorKind>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
enum TagPlanErrorKind {
    #[error("release {release}: tag {tag:?} is not a valid OCI tag: {source}")]
    InvalidTag {
        release: RuntimeVersion,
        tag: String,
        source: ParseError,
    },
    #[error("tag {tag:?} is planned twice: as {first} and as {second}")]
    Duplicate {
        tag: String,
        first: String,
        second: String,
    },
    #[error("{0} is not a release in the matrix")]
    UnknownRelease(RuntimeVersion),
}

impl TagPlanError {
    fn new(kind: TagPlanErrorKind) -> Self {
        TagPlanError {
            kind: Box::new(kind),
        }
    }
}

impl TagPlan {
    /// The plan of every release of `matrix`.
    pub fn new(matrix: &Matrix) -> Result<TagPlan, TagPlanError> {
        let releases = matrix.releases();
        let mut plan: Vec<ReleaseTags> = releases
            .iter()
            .map(|r| ReleaseTags {
                version: r.version.clone(),
                repository: r.repository.clone(),
                airflow: r.airflow.as_ref().map(ToString::to_string),
                yanked: r.is_yanked(),
                prerelease: r.version.is_prerelease(),
                tags: r.tags(),
                aliases: Vec::new(),
            })
            .collect();
        for alias in floating_tags(releases)? {
            // Releases are in ascending order, so the target is found by binary search.
            let i = plan
                .binary_search_by(|r| r.version.cmp(&alias.target.version))
                .expect("an alias targets a release of the matrix");
            plan[i].aliases.push(alias);
        }
        let plan = TagPlan { releases: plan };
        plan.check_unique()?;
        Ok(plan)
    }

    /// The same plan restricted to `versions` (every alias that points at them stays; the rest
    /// are dropped). An empty list keeps every release.
    pub fn only(&self, versions: &[RuntimeVersion]) -> Result<TagPlan, TagPlanError> {
        if versions.is_empty() {
            return Ok(self.clone());
        }
        let mut releases = Vec::new();
        for v in versions {
            let r = self
                .release(v)
                .ok_or_else(|| TagPlanError::new(TagPlanErrorKind::UnknownRelease(v.clone())))?;
            if !releases.iter().any(|x: &ReleaseTags| x.version == *v) {
                releases.push(r.clone());
            }
        }
        releases.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(TagPlan { releases })
    }

    /// Every release's tags, in ascending version order.
    pub fn releases(&self) -> &[ReleaseTags] {
        &self.releases
    }

    /// The tags of release `version`.
    pub fn release(&self, version: &RuntimeVersion) -> Option<&ReleaseTags> {
        self.releases
            .binary_search_by(|r| r.version.cmp(version))
            .ok()
            .map(|i| &self.releases[i])
    }

    /// Every exact tag, with its release.
    pub fn exact_tags(&self) -> impl Iterator<Item = (&ReleaseTags, &ImageTag)> {
        self.releases
            .iter()
            .flat_map(|r| r.tags.iter().map(move |t| (r, t)))
    }

    /// Every floating alias, major aliases first, then minor, each by series.
    pub fn aliases(&self) -> Vec<&FloatingTag> {
        let mut out: Vec<&FloatingTag> = self.releases.iter().flat_map(|r| &r.aliases).collect();
        out.sort_by(|a, b| {
            (a.level, series_order(&a.series), a.variant).cmp(&(
                b.level,
                series_order(&b.series),
                b.variant,
            ))
        });
        out
    }

    /// The alias named `tag`, if planned.
    ///
    /// The matrix publishes Airflow 2 and Airflow 3 Runtimes to different repositories, where
    /// one name (`3.0`) can be an alias in each: this is the newest release's; [`Self::alias_in`]
    /// names the repository.
    pub fn alias(&self, tag: &str) -> Option<&FloatingTag> {
        self.releases
            .iter()
            .rev()
            .flat_map(|r| &r.aliases)
            .find(|a| a.tag.as_str() == tag)
    }

    /// The alias named `tag` in `repository`, if planned.
    pub fn alias_in(&self, repository: &str, tag: &str) -> Option<&FloatingTag> {
        self.releases
            .iter()
            .filter(|r| r.repository == repository)
            .flat_map(|r| &r.aliases)
            .find(|a| a.tag.as_str() == tag)
    }

    /// Whether `tag` (exact or alias) is planned.
    pub fn contains(&self, tag: &str) -> bool {
        self.alias(tag).is_some()
            || tag.parse::<ImageTag>().ok().is_some_and(|t| {
                self.release(&t.version)
                    .is_some_and(|r| r.tags.contains(&t))
            })
    }

    /// How many tags the plan holds: exact tags and aliases.
    pub fn len(&self) -> usize {
        self.releases
            .iter()
            .map(|r| r.tags.len() + r.aliases.len())
            .sum()
    }

    /// Whether the plan has no tag at all (an empty matrix).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// No name is planned twice in one repository.
    fn check_unique(&self) -> Result<(), TagPlanError> {
        let names = self.releases.iter().flat_map(|r| {
            r.tags
                .iter()
                .map(move |t| {
                    (
                        format!("{}:{t}", r.repository),
                        format!("an image of {}", r.version),
                    )
                })
                .chain(r.aliases.iter().map(|a| {
                    (
                        format!("{}:{}", a.repository, a.tag),
                        format!("the {} alias of {}", a.level, a.series),
                    )
                }))
        });
        unique(names)
    }
}

/// Fails on the first name given twice.
fn unique(names: impl IntoIterator<Item = (String, String)>) -> Result<(), TagPlanError> {
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, origin) in names {
        if let Some(first) = seen.get(&name) {
            return Err(TagPlanError::new(TagPlanErrorKind::Duplicate {
                tag: name,
                first: first.clone(),
                second: origin,
            }));
        }
        seen.insert(name, origin);
    }
    Ok(())
}

/// Orders series names numerically (`5` < `10`, `5.2` < `5.10`).
fn series_order(s: &str) -> Vec<u64> {
    s.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

/// The floating aliases of `releases` (ascending), checked against the tag grammar.
fn floating_tags(releases: &[Release]) -> Result<Vec<FloatingTag>, TagPlanError> {
    // (repository, level, series name) -> eligible releases, ascending. Aliases are names within
    // one repository: the Airflow 2 Runtime 3's `3.0` on quay.io and the Airflow 3 line's `3.0`
    // on astrocrpublic.azurecr.io are two aliases.
    type Key<'r> = (&'r str, AliasLevel, Vec<u64>, String);
    let mut groups: BTreeMap<Key<'_>, Vec<&Release>> = BTreeMap::new();
    for r in releases
        .iter()
        .filter(|r| !r.is_yanked() && !r.version.is_prerelease())
    {
        let repo = r.repository.as_str();
        if let Some(v) = r.version.as_semver() {
            let name = v.major.to_string();
            groups
                .entry((repo, AliasLevel::Major, series_order(&name), name))
                .or_default()
                .push(r);
        }
        let (x, y) = r.version.minor_series();
        let name = format!("{x}.{y}");
        groups
            .entry((repo, AliasLevel::Minor, series_order(&name), name))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for ((repository, level, _, series), members) in groups {
        // Variants in the order releases list them, newest release first.
        let mut variants: Vec<Variant> = Vec::new();
        for r in members.iter().rev() {
            for v in r.variants() {
                if !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
        for variant in variants {
            // An Airflow-3 line has no `-python-X.Y` alias: the record says a Python other than
            // the default needs the exact build (`3.1-12-python-3.11`).
            let line = members
                .last()
                .is_some_and(|r| matches!(r.version, RuntimeVersion::Build(_)));
            if line && variant.python.is_some() {
                continue;
            }
            let Some(target) = members.iter().rev().find(|r| r.has_variant(&variant)) else {
                continue;
            };
            let name = format!("{series}{}", variant.suffix());
            let tag = name.parse::<Tag>().map_err(|source| {
                TagPlanError::new(TagPlanErrorKind::InvalidTag {
                    release: target.version.clone(),
                    tag: name.clone(),
                    source,
                })
            })?;
            out.push(FloatingTag {
                tag,
                repository: repository.to_string(),
                level,
                series: series.clone(),
                variant,
                target: ImageTag::new(target.version.clone(), variant),
            });
        }
    }
    // Exact tags are checked here too, so a plan only exists once every tag is valid.
    for r in releases {
        for t in r.tags() {
            let text = t.to_string();
            if let Err(source) = text.parse::<Tag>() {
                return Err(TagPlanError::new(TagPlanErrorKind::InvalidTag {
                    release: r.version.clone(),
                    tag: text,
                    source,
                }));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_grammar() {
        let good = ["5", "5.0", "_x", "a-b.c_d", &"x".repeat(128)];
        for g in good {
            assert!(g.parse::<Tag>().is_ok(), "{g}");
        }
        let bad = [
            ("", "empty"),
            ("-5", "cannot start"),
            (".5", "cannot start"),
            ("5:0", "contains ':'"),
            ("5 0", "contains ' '"),
            ("5/0", "contains '/'"),
            ("é", "cannot start"),
            ("5é", "contains 'é'"),
        ];
        for (b, why) in bad {
            let e = b.parse::<Tag>().unwrap_err().to_string();
            assert!(e.contains(why), "{b:?}: {e}");
        }
        assert!("x".repeat(129).parse::<Tag>().is_err());
    }

    #[test]
    fn duplicates_are_refused() {
        let e = unique([
            ("5.0".to_string(), "the minor alias of 5.0".to_string()),
            ("5".to_string(), "the major alias of 5".to_string()),
            ("5.0".to_string(), "an image of 5.0".to_string()),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "tag \"5.0\" is planned twice: as the minor alias of 5.0 and as an image of 5.0"
        );
    }
}
