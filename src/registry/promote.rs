//! `registry promote`: move floating aliases to the images the tag plan says, by copying
//! manifests.
//!
//! Safety, in order:
//!
//! 1. [`plan`] only reads. It fetches, for every alias, the manifest of its target and the
//!    manifest it points at now, and the labels of every target an alias would move to. If any
//!    target is missing, or carries labels other than the matrix's, it fails naming them all,
//!    before anything is written.
//! 2. [`apply`] writes one alias at a time, new aliases first, then aliases that move. If a write
//!    fails, every alias it already moved is put back on the manifest it had (kept from step 1),
//!    so existing aliases are never left half-moved. New aliases that were created before the
//!    failure already point at their planned image (the Distribution API cannot delete a tag),
//!    which a rerun would do anyway.
//! 3. Rerunning is idempotent: aliases already in place are left alone.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use futures::{StreamExt, TryStreamExt};

use super::client::RawManifest;
use super::{Progress, RegistryClient, RegistryError, Repository};
use crate::model::{Digest, ImageTag};
use crate::tags::{Tag, TagPlan};

/// One alias to create or move.
#[derive(Clone, Debug)]
pub struct AliasMove {
    /// The alias.
    pub alias: Tag,
    /// The exact tag it must point at.
    pub target: ImageTag,
    /// What it points at now (`None`: it does not exist yet).
    pub from: Option<Digest>,
    /// The digest of the target.
    pub to: Digest,
    manifest: RawManifest,
    previous: Option<RawManifest>,
}

/// An alias that already points at its target.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InPlace {
    /// The alias.
    pub alias: Tag,
    /// Its target.
    pub target: ImageTag,
    /// The digest both point at.
    pub digest: Digest,
}

/// The writes that bring every alias to the plan, checked to be possible.
#[derive(Clone, Debug)]
pub struct Promotion {
    /// The repository.
    pub repository: Repository,
    /// Aliases to create (first) or move, in the order they will be written.
    pub moves: Vec<AliasMove>,
    /// Aliases already in place.
    pub in_place: Vec<InPlace>,
}

impl Promotion {
    /// True when every alias is already in place.
    pub fn is_noop(&self) -> bool {
        self.moves.is_empty()
    }
}

/// What [`apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Aliases created.
    pub created: usize,
    /// Aliases moved.
    pub moved: usize,
}

/// Reads what every alias of `plan` points at and fetches every target manifest. Fails, naming
/// each one, when a target is not in the registry; nothing is written either way.
pub async fn plan(
    client: &RegistryClient,
    plan: &TagPlan,
    progress: &dyn Progress,
) -> Result<Promotion, RegistryError> {
    let aliases = plan.aliases();
    // Several aliases share a target (`5`, `5.5` -> 5.5.0): each manifest is read once.
    let names: BTreeSet<String> = aliases
        .iter()
        .flat_map(|a| [a.target.to_string(), a.tag.to_string()])
        .collect();
    progress.start("reading", names.len() as u64);
    let manifests: HashMap<String, Option<RawManifest>> = futures::stream::iter(names)
        .map(|name| async move {
            let manifest = client.manifest(&name).await?;
            progress.advance(1);
            Ok::<_, RegistryError>((name, manifest))
        })
        .buffer_unordered(client.options().jobs)
        .try_collect()
        .await?;
    progress.finish();
    let fetched: Vec<_> = aliases
        .iter()
        .map(|a| {
            (
                *a,
                manifests[&a.target.to_string()].clone(),
                manifests[a.tag.as_str()].clone(),
            )
        })
        .collect();

    let missing: Vec<String> = fetched
        .iter()
        .filter(|(_, target, _)| target.is_none())
        .map(|(a, ..)| a.target.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        return Err(RegistryError::message(format!(
            "cannot promote: {} image(s) the floating tags must point at are not in {}: {}. Nothing was changed; push them first.",
            missing.len(),
            client.repository(),
            missing.join(", ")
        )));
    }

    let mut creates = Vec::new();
    let mut moves = Vec::new();
    let mut in_place = Vec::new();
    for (alias, target, current) in fetched {
        let target = target.expect("checked above");
        if current.as_ref().is_some_and(|c| c.digest == target.digest) {
            in_place.push(InPlace {
                alias: alias.tag.clone(),
                target: alias.target.clone(),
                digest: target.digest,
            });
            continue;
        }
        let m = AliasMove {
            alias: alias.tag.clone(),
            target: alias.target.clone(),
            from: current.as_ref().map(|c| c.digest.clone()),
            to: target.digest.clone(),
            manifest: target,
            previous: current,
        };
        if m.from.is_none() {
            creates.push(m);
        } else {
            moves.push(m);
        }
    }
    creates.extend(moves);
    check_targets(client, plan, &creates, progress).await?;
    Ok(Promotion {
        repository: client.repository().clone(),
        moves: creates,
        in_place,
    })
}

/// Refuses a promotion onto an image whose labels are not the matrix's (what `registry verify`
/// would report for that tag): a floating tag must never move to a wrong image. Reads each
/// target's configuration once; writes nothing.
async fn check_targets(
    client: &RegistryClient,
    plan: &TagPlan,
    moves: &[AliasMove],
    progress: &dyn Progress,
) -> Result<(), RegistryError> {
    let targets: BTreeSet<&ImageTag> = moves.iter().map(|m| &m.target).collect();
    progress.start("checking labels", targets.len() as u64);
    let infos: Vec<(&ImageTag, Option<super::ImageInfo>)> = futures::stream::iter(targets)
        .map(|t| async move {
            let info = client.image(&t.to_string()).await?;
            progress.advance(1);
            Ok::<_, RegistryError>((t, info))
        })
        .buffer_unordered(client.options().jobs)
        .try_collect()
        .await?;
    progress.finish();
    let mut findings = Vec::new();
    for (tag, info) in &infos {
        let (Some(release), Some(info)) = (plan.release(&tag.version), info) else {
            continue; // a target that vanished since it was read fails on its write
        };
        super::verify::check_labels(&mut findings, release, tag, info);
    }
    if findings.is_empty() {
        return Ok(());
    }
    let mut listed: Vec<String> = findings.iter().map(ToString::to_string).collect();
    listed.sort();
    Err(RegistryError::message(format!(
        "cannot promote: {} of the images the floating tags must point at carry labels other than the matrix's:\n  {}\nNothing was changed; push the right images first (`registry verify` lists them).",
        listed.len(),
        listed.join("\n  ")
    )))
}

/// Writes the moves of `promotion`, one at a time. On a failed write, the aliases already moved
/// are put back (see the module docs) and the error says what state each one is in.
pub async fn apply(
    client: &RegistryClient,
    promotion: &Promotion,
    progress: &dyn Progress,
) -> Result<Applied, RegistryError> {
    progress.start("promoting", promotion.moves.len() as u64);
    let mut done: Vec<&AliasMove> = Vec::new();
    for m in &promotion.moves {
        if let Err(e) = client.put_manifest(m.alias.as_str(), &m.manifest).await {
            progress.finish();
            return Err(roll_back(client, &done, m, e).await);
        }
        done.push(m);
        progress.advance(1);
    }
    progress.finish();
    Ok(Applied {
        created: done.iter().filter(|m| m.from.is_none()).count(),
        moved: done.iter().filter(|m| m.from.is_some()).count(),
    })
}

/// Puts every moved alias back, newest write first, and describes the outcome.
async fn roll_back(
    client: &RegistryClient,
    done: &[&AliasMove],
    failed: &AliasMove,
    cause: RegistryError,
) -> RegistryError {
    let mut restored = Vec::new();
    let mut created = Vec::new();
    let mut stuck = Vec::new();
    for m in done.iter().rev() {
        match &m.previous {
            None => created.push(m.alias.to_string()),
            Some(previous) => match client.put_manifest(m.alias.as_str(), previous).await {
                Ok(()) => restored.push(m.alias.to_string()),
                Err(e) => stuck.push(format!(
                    "{} (now {}, was {}): {e}",
                    m.alias, m.to, previous.digest
                )),
            },
        }
    }
    let mut msg = format!("promotion stopped at {}: {cause}", failed.alias);
    if !restored.is_empty() {
        let _ = write!(
            msg,
            "\n  moved back to their previous images: {}",
            restored.join(", ")
        );
    }
    if !created.is_empty() {
        let _ = write!(
            msg,
            "\n  created before the failure (already at their planned images): {}",
            created.join(", ")
        );
    }
    if !stuck.is_empty() {
        let _ = write!(
            msg,
            "\n  could not be moved back:\n    {}",
            stuck.join("\n    ")
        );
    }
    let _ = write!(
        msg,
        "\n  {}; run promote --apply again once the registry is healthy",
        if stuck.is_empty() {
            "no floating tag is half-moved"
        } else {
            "the tags above are at their planned images, the others unchanged"
        }
    );
    RegistryError::message(msg)
}
