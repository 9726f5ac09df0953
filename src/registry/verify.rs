//! `registry verify`: does the registry hold what the tag plan says?

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use futures::{StreamExt, TryStreamExt};

use super::{ImageInfo, Progress, RegistryClient, RegistryError, Repository};
use crate::model::{Digest, ImageTag, RuntimeVersion};
use crate::tags::{FloatingTag, ReleaseTags, TagPlan};

/// Label with the Runtime version of an image.
pub const LABEL_RUNTIME_VERSION: &str = "io.astronomer.docker.runtime.version";
/// Label with the Airflow version of an image.
pub const LABEL_AIRFLOW_VERSION: &str = "io.astronomer.docker.airflow.version";
/// Label saying `base` or `onbuild` (checked when present).
pub const LABEL_VARIANT: &str = "io.astronomer.docker.runtime.variant";

/// One difference between the registry and the plan.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Finding {
    /// A planned exact tag is not in the registry.
    Missing {
        /// The tag.
        tag: String,
        /// Its release.
        release: RuntimeVersion,
    },
    /// An image's label differs from the matrix.
    #[serde(rename_all = "camelCase")]
    LabelMismatch {
        /// The tag.
        tag: String,
        /// The label.
        label: String,
        /// What the matrix says.
        expected: String,
        /// What the image says (`None`: no such label).
        found: Option<String>,
    },
    /// A planned floating alias is not in the registry.
    AliasMissing {
        /// The alias.
        tag: String,
        /// The exact tag it should point at.
        target: String,
    },
    /// A floating alias points at another image than the plan says.
    #[serde(rename_all = "camelCase")]
    AliasStale {
        /// The alias.
        tag: String,
        /// The exact tag it should point at.
        target: String,
        /// The digest of that exact tag.
        expected: Digest,
        /// The digest the alias points at.
        found: Digest,
        /// The exact tag with the found digest, when one was checked.
        #[serde(skip_serializing_if = "Option::is_none")]
        found_tag: Option<String>,
    },
    /// A floating alias cannot be checked because its target is missing.
    AliasTargetMissing {
        /// The alias.
        tag: String,
        /// The missing exact tag.
        target: String,
    },
    /// A tag in the registry that the matrix does not plan (a warning unless denied).
    UnknownTag {
        /// The tag.
        tag: String,
    },
}

impl Finding {
    /// The tag the finding is about.
    pub fn tag(&self) -> &str {
        match self {
            Finding::Missing { tag, .. }
            | Finding::LabelMismatch { tag, .. }
            | Finding::AliasMissing { tag, .. }
            | Finding::AliasStale { tag, .. }
            | Finding::AliasTargetMissing { tag, .. }
            | Finding::UnknownTag { tag } => tag,
        }
    }

    /// True for everything but an unknown tag, which is reported as a warning.
    pub fn is_mismatch(&self) -> bool {
        !matches!(self, Finding::UnknownTag { .. })
    }

    /// A short name of the kind of finding.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Missing { .. } => "missing",
            Finding::LabelMismatch { .. } => "label-mismatch",
            Finding::AliasMissing { .. } => "alias-missing",
            Finding::AliasStale { .. } => "alias-stale",
            Finding::AliasTargetMissing { .. } => "alias-target-missing",
            Finding::UnknownTag { .. } => "unknown-tag",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Missing { tag, release } => {
                write!(f, "{tag}: not in the registry (an image of {release})")
            }
            Finding::LabelMismatch {
                tag,
                label,
                expected,
                found,
            } => match found {
                Some(found) => write!(
                    f,
                    "{tag}: label {label} is {found:?}, expected {expected:?}"
                ),
                None => write!(f, "{tag}: label {label} is absent, expected {expected:?}"),
            },
            Finding::AliasMissing { tag, target } => {
                write!(f, "{tag}: missing floating tag (should point at {target})")
            }
            Finding::AliasStale {
                tag,
                target,
                expected,
                found,
                found_tag,
            } => {
                write!(f, "{tag}: points at {found}")?;
                if let Some(t) = found_tag {
                    write!(f, " ({t})")?;
                }
                write!(f, ", expected {target} ({expected})")
            }
            Finding::AliasTargetMissing { tag, target } => {
                write!(
                    f,
                    "{tag}: cannot be checked: its target {target} is missing"
                )
            }
            Finding::UnknownTag { tag } => write!(f, "{tag}: not in the matrix"),
        }
    }
}

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// The repository checked.
    pub repository: Repository,
    /// Releases checked.
    pub releases: usize,
    /// Exact tags checked.
    pub exact_tags: usize,
    /// Floating aliases checked.
    pub aliases: usize,
    /// Tags the registry holds.
    pub registry_tags: usize,
    /// Whether tags unknown to the matrix were looked for (only when every release is checked).
    pub unknown_checked: bool,
    /// Every difference, in plan order, unknown tags last.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// The findings that are mismatches (everything but unknown tags).
    pub fn mismatches(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_mismatch())
    }

    /// True when nothing differs; `deny_unknown` counts unknown tags as differences too.
    pub fn is_clean(&self, deny_unknown: bool) -> bool {
        self.findings
            .iter()
            .all(|f| !(f.is_mismatch() || deny_unknown))
    }
}

enum Job<'p> {
    Exact(&'p ImageTag),
    Alias(&'p FloatingTag),
}

enum Answer<'p> {
    Exact(&'p ImageTag, Option<ImageInfo>),
    Alias(&'p FloatingTag, Option<Digest>),
}

/// Checks the registry against `plan`, for `versions` (every release when empty):
///
/// - every exact tag exists, and its image's labels [`LABEL_RUNTIME_VERSION`] and
///   [`LABEL_AIRFLOW_VERSION`] equal the release (and [`LABEL_VARIANT`], when present, says
///   `base` for `-base` tags and `onbuild` otherwise);
/// - every floating alias that points at one of these releases exists and has the digest of its
///   target;
/// - when every release is checked, tags the plan does not know are reported.
///
/// At most `options().jobs` requests run at once. A registry that fails (unreachable, an error
/// status after the retries, too slow) ends the check with that error rather than a report.
pub async fn verify(
    client: &RegistryClient,
    plan: &TagPlan,
    versions: &[RuntimeVersion],
    progress: &dyn Progress,
) -> Result<VerifyReport, RegistryError> {
    let scope = plan.only(versions)?;
    let present: BTreeSet<String> = client.tags().await?.into_iter().collect();

    let aliases = scope.aliases();
    let jobs: Vec<Job<'_>> = scope
        .exact_tags()
        .map(|(_, t)| Job::Exact(t))
        .chain(aliases.iter().map(|a| Job::Alias(a)))
        .collect();
    let to_fetch: Vec<Job<'_>> = jobs
        .into_iter()
        .filter(|j| match j {
            Job::Exact(t) => present.contains(&t.to_string()),
            Job::Alias(a) => present.contains(a.tag.as_str()),
        })
        .collect();

    progress.start("verifying", to_fetch.len() as u64);
    let answers: Vec<Answer<'_>> = futures::stream::iter(to_fetch)
        .map(|job| async move {
            let answer = match job {
                Job::Exact(t) => Answer::Exact(t, client.image(&t.to_string()).await?),
                Job::Alias(a) => Answer::Alias(a, client.digest(a.tag.as_str()).await?),
            };
            progress.advance(1);
            Ok::<_, RegistryError>(answer)
        })
        .buffer_unordered(client.options().jobs)
        .try_collect()
        .await?;
    progress.finish();

    let mut images: HashMap<String, ImageInfo> = HashMap::new();
    let mut alias_digests: HashMap<String, Digest> = HashMap::new();
    for answer in answers {
        match answer {
            Answer::Exact(t, Some(info)) => {
                images.insert(t.to_string(), info);
            }
            Answer::Alias(a, Some(d)) => {
                alias_digests.insert(a.tag.to_string(), d);
            }
            // Deleted between the tag list and the fetch: reported missing below.
            Answer::Exact(_, None) | Answer::Alias(_, None) => {}
        }
    }
    let by_digest: BTreeMap<&Digest, &str> = images
        .iter()
        .map(|(t, i)| (&i.digest, t.as_str()))
        .collect();

    let mut findings = Vec::new();
    for (release, tag) in scope.exact_tags() {
        let name = tag.to_string();
        match images.get(&name) {
            None => findings.push(Finding::Missing {
                tag: name,
                release: release.version.clone(),
            }),
            Some(info) => check_labels(&mut findings, release, tag, info),
        }
    }
    for alias in &aliases {
        let name = alias.tag.to_string();
        let target = alias.target.to_string();
        let Some(found) = alias_digests.get(&name) else {
            findings.push(Finding::AliasMissing { tag: name, target });
            continue;
        };
        let Some(expected) = images.get(&target).map(|i| &i.digest) else {
            findings.push(Finding::AliasTargetMissing { tag: name, target });
            continue;
        };
        if found != expected {
            findings.push(Finding::AliasStale {
                tag: name,
                target,
                expected: expected.clone(),
                found: found.clone(),
                found_tag: by_digest.get(found).map(|t| t.to_string()),
            });
        }
    }
    let unknown_checked = versions.is_empty();
    if unknown_checked {
        for tag in &present {
            if !plan.contains(tag) {
                findings.push(Finding::UnknownTag { tag: tag.clone() });
            }
        }
    }
    Ok(VerifyReport {
        repository: client.repository().clone(),
        releases: scope.releases().len(),
        exact_tags: scope.exact_tags().count(),
        aliases: aliases.len(),
        registry_tags: present.len(),
        unknown_checked,
        findings,
    })
}

pub(crate) fn check_labels(
    findings: &mut Vec<Finding>,
    release: &ReleaseTags,
    tag: &ImageTag,
    info: &ImageInfo,
) {
    let mut expect = |label: &str, expected: String, required: bool| {
        let found = info.labels.get(label);
        if found.is_none() && !required {
            return;
        }
        if found != Some(&expected) {
            findings.push(Finding::LabelMismatch {
                tag: tag.to_string(),
                label: label.to_string(),
                expected,
                found: found.cloned(),
            });
        }
    };
    expect(LABEL_RUNTIME_VERSION, release.version.to_string(), true);
    if let Some(airflow) = &release.airflow {
        // A vendor build of that Airflow (`3.3.1+astro.4`, Astronomer's own images) carries it.
        let vendor_build = info
            .labels
            .get(LABEL_AIRFLOW_VERSION)
            .and_then(|found| found.split_once('+'))
            .is_some_and(|(public, local)| public == airflow && local.starts_with("astro."));
        if !vendor_build {
            expect(LABEL_AIRFLOW_VERSION, airflow.clone(), true);
        }
    }
    let variant = if tag.variant.base { "base" } else { "onbuild" };
    expect(LABEL_VARIANT, variant.to_string(), false);
}
