//! Runtime-specific rules: ONBUILD belongs to the default variant only, and the version parity
//! check CI runs to catch hand edits: the labels, the `apache-airflow` pin and every package pin
//! of a generated Dockerfile must equal the release's entry in the matrix.
//!
//! A Dockerfile is a Runtime Dockerfile when it has the `io.astronomer.docker.runtime.version`
//! label, or lives under a `dockerfiles/` directory at a path naming an image tag. Its image tag
//! comes from the path (`dockerfiles/<version>/<variant>/Dockerfile`, the generator's layout with
//! `onbuild` for the suffix-less tag, or `.../<tag>/Dockerfile`), else from the
//! `ASTRONOMER_RUNTIME_IMAGE_TAG` environment variable, else from the labels (an `...variant` label
//! containing `onbuild` marks the ONBUILD image, `slim` a slim image).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use super::general::{global_args, resolve_args, split_image};
use super::{Ctx, run_script, stages};
use crate::lint::rules::*;
use crate::lint::shell::ShellWord;
use crate::lint::syntax::{Args, FileSource, Instruction, Kind, Pair};
use crate::matrix::{Matrix, Release};
use crate::model::{AirflowVersion, ImageTag, PackageName, RuntimeVersion, Variant};
use crate::render::ImageContext;

/// The label naming the Runtime version.
pub const RUNTIME_LABEL: &str = "io.astronomer.docker.runtime.version";
/// The label naming the Airflow version.
pub const AIRFLOW_LABEL_KEY: &str = "io.astronomer.docker.airflow.version";

/// What a Runtime Dockerfile says about itself.
struct Identity<'a> {
    /// The tag from the path, else from the image-tag ENV.
    path_tag: Option<ImageTag>,
    env_tag: Option<(&'a Instruction, &'a Pair)>,
    label: Option<(&'a Instruction, &'a Pair)>,
    airflow: Option<(&'a Instruction, &'a Pair)>,
    variant: Variant,
}

/// The image tag a path names: `dockerfiles/<version>/<variant>/Dockerfile` (the generator's
/// layout, `onbuild` for the suffix-less tag) or `.../<tag>/Dockerfile`.
pub(crate) fn tag_of_path(path: &Path) -> Option<ImageTag> {
    let parent = path.parent()?;
    let dir = parent.file_name()?.to_str()?;
    if let Ok(tag) = dir.parse::<ImageTag>() {
        return Some(tag);
    }
    let version = parent.parent()?.file_name()?.to_str()?;
    version.parse::<RuntimeVersion>().ok()?;
    let tag = if dir == "onbuild" {
        version.to_string()
    } else {
        format!("{version}-{dir}")
    };
    tag.parse().ok()
}

/// The ENV naming the image tag in generated Dockerfiles.
pub const IMAGE_TAG_ENV: &str = "ASTRONOMER_RUNTIME_IMAGE_TAG";

fn identify<'a>(ctx: &Ctx<'a>, path: &Path) -> Option<Identity<'a>> {
    let path_tag = tag_of_path(path);
    let under_dockerfiles = path
        .ancestors()
        .any(|a| a.file_name().is_some_and(|n| n == "dockerfiles"));
    let all = stages(ctx.df);
    let last = all.last()?;
    let labels: Vec<(&Instruction, &Pair)> = last
        .body
        .iter()
        .filter(|i| i.kind == Kind::Label)
        .flat_map(|i| i.pairs().iter().map(move |p| (i, p)))
        .collect();
    let find = |key: &str| labels.iter().rev().find(|(_, p)| p.key == key).copied();
    let label = find(RUNTIME_LABEL);
    if label.is_none() && !(under_dockerfiles && path_tag.is_some()) {
        return None;
    }
    let marker = |word: &str| {
        labels.iter().any(|(_, p)| {
            p.key.contains("variant") && p.value.as_deref().is_some_and(|v| v.contains(word))
        })
    };
    let env_tag = last
        .body
        .iter()
        .filter(|i| i.kind == Kind::Env)
        .flat_map(|i| i.pairs().iter().map(move |p| (i, p)))
        .rfind(|(_, p)| p.key == IMAGE_TAG_ENV);
    let tag = path_tag
        .clone()
        .or_else(|| env_tag.and_then(|(_, p)| p.value.as_deref()?.parse::<ImageTag>().ok()));
    let variant = match &tag {
        Some(t) => t.variant,
        None => Variant {
            python: None,
            slim: marker("slim"),
            base: !marker("onbuild"),
        },
    };
    Some(Identity {
        path_tag: tag,
        env_tag,
        label,
        airflow: find(AIRFLOW_LABEL_KEY),
        variant,
    })
}

/// Runs the Runtime rules on a file at `path`; `matrix` enables the parity rules.
pub(crate) fn check(ctx: &mut Ctx<'_>, path: &Path, matrix: Option<&Matrix>) {
    let Some(id) = identify(ctx, path) else {
        return;
    };
    let all = stages(ctx.df);
    let Some(final_from) = all.last().map(|s| s.from) else {
        return;
    };
    let onbuilds: Vec<&Instruction> = ctx
        .df
        .instructions
        .iter()
        .filter(|i| i.kind == Kind::Onbuild)
        .collect();
    let what = id
        .path_tag
        .as_ref()
        .map_or_else(|| "this base image".to_string(), |t| t.to_string());
    if id.variant.base {
        for o in &onbuilds {
            ctx.report_instr(
                ONBUILD_IN_BASE,
                o,
                format!("{what} is a -base image and must not carry ONBUILD triggers; they belong to the default (ONBUILD) variant"),
            );
        }
    } else if onbuilds.is_empty() {
        ctx.report_instr(
            ONBUILD_MISSING,
            final_from,
            "the ONBUILD variant has no ONBUILD instruction, so a user's packages.txt, requirements.txt and project are ignored",
        );
    }

    // The version: the label, checked against the path.
    let label_version = id.label.map(|(i, p)| {
        let text = p.value.clone().unwrap_or_default();
        (i, p, text.parse::<RuntimeVersion>().map_err(|e| (text, e)))
    });
    let version: Option<RuntimeVersion> = match (&label_version, &id.path_tag) {
        (Some((_, _, Ok(v))), _) => Some(v.clone()),
        (_, Some(t)) => Some(t.version.clone()),
        _ => None,
    };
    if !id.variant.base
        && let Some(v) = &version
    {
        wrong_base(
            ctx,
            final_from,
            &ImageTag::new(v.clone(), id.variant.as_base()),
        );
    }
    let Some(matrix) = matrix else {
        ctx.parity_skipped = true;
        return;
    };
    // The label, the path and the image-tag ENV must agree before anything is compared.
    let mut consistent = true;
    match (&label_version, &id.path_tag) {
        (None, Some(t)) => {
            consistent = false;
            ctx.report_instr(
                RELEASE_UNKNOWN,
                final_from,
                format!("the generated Dockerfile for {t} has no {RUNTIME_LABEL} label"),
            );
        }
        (Some((i, p, Err((text, e)))), _) => {
            consistent = false;
            ctx.report(
                RELEASE_UNKNOWN,
                i,
                p.value_span.clone(),
                format!("{RUNTIME_LABEL}={text:?} is not a Runtime version: {e}"),
            );
        }
        (Some((i, p, Ok(v))), Some(t)) if *v != t.version => {
            consistent = false;
            ctx.report(
                RELEASE_UNKNOWN,
                i,
                p.value_span.clone(),
                format!("{RUNTIME_LABEL}={v} but the file is the Dockerfile of {t}"),
            );
        }
        _ => {}
    }
    if let (Some((i, p)), Some(t)) = (id.env_tag, &id.path_tag) {
        let value = p.value.clone().unwrap_or_default();
        if value != t.to_string() {
            consistent = false;
            ctx.report(
                RELEASE_UNKNOWN,
                i,
                p.value_span.clone(),
                format!("{IMAGE_TAG_ENV}={value} but the file is the Dockerfile of {t}"),
            );
        }
    }
    if !consistent {
        return;
    }
    let Some(version) = version else {
        return;
    };
    let anchor: (&Instruction, Range<usize>) = match id.label {
        Some((i, p)) => (i, p.value_span.clone()),
        None => (final_from, super::first_line(ctx.source, final_from)),
    };
    let Some(release) = matrix.release(&version) else {
        ctx.report(
            RELEASE_UNKNOWN,
            anchor.0,
            anchor.1,
            format!(
                "Runtime {version} is not a release of {}",
                matrix.path().display()
            ),
        );
        return;
    };
    if !release.has_variant(&id.variant) {
        ctx.report(
            RELEASE_UNKNOWN,
            anchor.0,
            anchor.1,
            format!(
                "Runtime {version} publishes no {} image according to {}",
                ImageTag::new(version.clone(), id.variant),
                matrix.path().display()
            ),
        );
        return;
    }
    let Some(airflow) = &release.airflow else {
        ctx.report(
            RELEASE_UNKNOWN,
            anchor.0,
            anchor.1,
            format!(
                "the Airflow version of Runtime {version} is not in the public record ({} says unknown = [\"airflow\"]), so it has no build context to compare with",
                matrix.path().display()
            ),
        );
        return;
    };
    match id.airflow {
        None => ctx.report(
            AIRFLOW_LABEL,
            anchor.0,
            anchor.1,
            format!("no {AIRFLOW_LABEL_KEY} label; Runtime {version} carries Airflow {airflow}"),
        ),
        Some((i, p)) => {
            let value = p.value.clone().unwrap_or_default();
            if !same_version(&value, airflow.as_package_version().pep440()) {
                ctx.report(
                    AIRFLOW_LABEL,
                    i,
                    p.value_span.clone(),
                    format!(
                        "{AIRFLOW_LABEL_KEY}={value} but Runtime {version} carries Airflow {airflow}"
                    ),
                );
            }
        }
    }
    pins(ctx, release, airflow, &id, final_from);
    let Some(expected) = ImageContext::new(matrix, release, id.variant) else {
        return; // reported above: the Airflow version is known here
    };
    base_image(ctx, final_from, &expected);
    metadata(ctx, &expected, id.variant);
    if id.variant.base {
        constraints(ctx, &expected);
    } else {
        onbuild_steps(ctx, &onbuilds, final_from);
    }
}

/// RK216: the base image, resolved through the build argument's default, is the one the
/// generator writes: the release's Python and Debian (and digest) for a `-base` image, the
/// matrix's repository for the ONBUILD image (whose tag RK203 checks).
fn base_image(ctx: &mut Ctx<'_>, from: &Instruction, expected: &ImageContext) {
    let Args::From { image, .. } = &from.args else {
        return;
    };
    let Some(resolved) = resolve_args(&image.value, &global_args(ctx)) else {
        return;
    };
    let (found, want) = if expected.variant == "base" {
        (resolved.as_str(), expected.base_image.as_str())
    } else {
        (
            split_image(&resolved).0,
            split_image(&expected.base_image).0,
        )
    };
    if found != want {
        let message = if expected.variant == "base" {
            format!(
                "the image is built on {resolved}, but {} is Python {} on Debian {}: expected {want}",
                expected.tag, expected.python, expected.debian
            )
        } else {
            format!(
                "the image is built on {resolved}, expected the base image in the matrix's repository {want}"
            )
        };
        ctx.report(BASE_IMAGE_MISMATCH, from, image.span.clone(), message);
    }
}

/// RK217: the version and variant labels and the version ENV equal the matrix.
fn metadata(ctx: &mut Ctx<'_>, expected: &ImageContext, variant: Variant) {
    let Some(last) = stages(ctx.df).pop() else {
        return;
    };
    let wanted: [(Kind, &str, &str); 3] = [
        (
            Kind::Label,
            "org.opencontainers.image.version",
            &expected.version,
        ),
        (
            Kind::Label,
            "io.astronomer.docker.runtime.variant",
            expected.variant,
        ),
        (Kind::Env, "ASTRONOMER_RUNTIME_VERSION", &expected.version),
    ];
    for (kind, key, want) in wanted {
        let found = last
            .body
            .iter()
            .filter(|i| i.kind == kind)
            .flat_map(|i| i.pairs().iter().map(move |p| (i, p)))
            .rfind(|(_, p)| p.key == key);
        match found {
            Some((i, p)) if p.value.as_deref() != Some(want) => ctx.report(
                METADATA_MISMATCH,
                i,
                p.value_span.clone(),
                format!(
                    "{key}={} but {} expects {key}={want}",
                    p.value.as_deref().unwrap_or(""),
                    expected.tag
                ),
            ),
            // The ONBUILD image inherits the version ENV from its base image.
            None if kind == Kind::Label || variant.base => ctx.report_instr(
                METADATA_MISMATCH,
                last.from,
                format!("no {key}={want} for {}", expected.tag),
            ),
            _ => {}
        }
    }
}

/// RK218: the pip install that installs Airflow passes the release's constraints file.
fn constraints(ctx: &mut Ctx<'_>, expected: &ImageContext) {
    let df = ctx.df;
    for instr in df.instructions.iter().filter(|i| i.kind == Kind::Run) {
        let Some(script) = run_script(instr) else {
            continue;
        };
        for c in script.script.commands.iter().filter(|c| c.is_pip_install()) {
            let words: Vec<&str> = c.arg_texts().collect();
            let installs_airflow = words
                .iter()
                .any(|w| w.starts_with("apache-airflow==") || *w == "apache-airflow");
            if !installs_airflow {
                continue;
            }
            let path = expected.constraints_path;
            let constrained = words
                .windows(2)
                .any(|w| matches!(w[0], "-c" | "--constraint") && w[1] == path)
                || words.iter().any(|w| {
                    w.strip_prefix("--constraint=")
                        .or_else(|| w.strip_prefix("-c"))
                        .is_some_and(|v| v == path)
                });
            if !constrained {
                ctx.report_instr(
                    CONSTRAINTS_MISSING,
                    instr,
                    format!(
                        "apache-airflow is installed without --constraint {path}: its dependencies would resolve to today's versions instead of {}'s lock",
                        expected.version
                    ),
                );
            }
        }
    }
}

/// RK202, for an ONBUILD image that has triggers: the ones a user's project relies on are there,
/// and the last `ONBUILD USER` does not leave the project's image running as root.
fn onbuild_steps(ctx: &mut Ctx<'_>, onbuilds: &[&Instruction], final_from: &Instruction) {
    if onbuilds.is_empty() {
        return; // reported above
    }
    let triggers: Vec<(&Instruction, &Instruction)> = onbuilds
        .iter()
        .filter_map(|&o| match &o.args {
            Args::Onbuild(i) => Some((o, i.as_ref())),
            _ => None,
        })
        .collect();
    let copies = |name: &str| {
        triggers.iter().any(|(_, i)| {
            i.kind == Kind::Copy
                && matches!(&i.args, Args::Files { sources, .. }
                    if sources.iter().any(|s| matches!(s, FileSource::Path(w) if w.value == name)))
        })
    };
    let installs_requirements = triggers.iter().any(|(_, i)| {
        run_script(i).is_some_and(|s| {
            s.script.commands.iter().any(|c| {
                c.is_pip_install()
                    && c.args.windows(2).any(|w| {
                        matches!(w[0].text.as_str(), "-r" | "--requirement")
                            && w[1].text == "requirements.txt"
                    })
            })
        })
    });
    let mut missing = Vec::new();
    if !copies("packages.txt") {
        missing.push("COPY packages.txt");
    }
    if !copies("requirements.txt") {
        missing.push("COPY requirements.txt");
    }
    if !installs_requirements {
        missing.push("RUN pip install -r requirements.txt");
    }
    if !missing.is_empty() {
        ctx.report_instr(
            ONBUILD_MISSING,
            final_from,
            format!(
                "the ONBUILD variant has no ONBUILD {}, so a user's project is not installed as documented",
                missing.join(", no ONBUILD ")
            ),
        );
    }
    let last_user = triggers.iter().rev().find(|(_, i)| i.kind == Kind::User);
    if let Some((o, i)) = last_user {
        let user = match &i.args {
            Args::Text(w) => w.value.as_str(),
            _ => "",
        };
        let name = user.split(':').next().unwrap_or("").trim();
        if name == "root" || name == "0" {
            ctx.report_instr(
                ONBUILD_MISSING,
                o,
                "the last ONBUILD USER is root, so a project built on this image runs as root; end the triggers with ONBUILD USER 50000",
            );
        }
    }
}

fn same_version(text: &str, want: &pep440_rs::Version) -> bool {
    pep440_rs::Version::from_str(text).is_ok_and(|v| v == *want)
}

/// RK203: the ONBUILD image must be built on the same release's base tag.
fn wrong_base(ctx: &mut Ctx<'_>, from: &Instruction, want: &ImageTag) {
    let Args::From { image, .. } = &from.args else {
        return;
    };
    let Some(resolved) = resolve_args(&image.value, &global_args(ctx)) else {
        return;
    };
    let (_, tag, _) = split_image(&resolved);
    if tag.and_then(|t| t.parse::<ImageTag>().ok()).as_ref() != Some(want) {
        ctx.report(
            ONBUILD_WRONG_BASE,
            from,
            image.span.clone(),
            format!("the ONBUILD image is built on {resolved}, expected the release's base image <repository>:{want}"),
        );
    }
}

/// A package named by a `pip install`.
struct Pin<'a> {
    at: &'a Instruction,
    name: PackageName,
    /// The exact version after `==`; `None` when unpinned or pinned by a range.
    version: Option<String>,
    span: Range<usize>,
    spec: String,
}

/// Flags of pip install whose value is not a package.
const PIP_VALUE_FLAGS: &[&str] = &[
    "c",
    "constraint",
    "r",
    "requirement",
    "e",
    "editable",
    "i",
    "index-url",
    "extra-index-url",
    "f",
    "find-links",
    "t",
    "target",
    "prefix",
    "root",
    "src",
    "trusted-host",
    "platform",
    "python-version",
    "implementation",
    "abi",
    "progress-bar",
    "proxy",
    "upgrade-strategy",
    "b",
    "build",
    "python",
    "root-user-action",
    "no-binary",
    "only-binary",
    "cache-dir",
    "log",
];

fn pin_of<'a>(at: &'a Instruction, w: &ShellWord, span: Range<usize>) -> Option<Pin<'a>> {
    let t = w.text.as_str();
    if t.contains('/') || t.contains('$') || t.starts_with('.') || t.ends_with(".whl") {
        return None;
    }
    let name_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(t.len());
    let name: PackageName = t[..name_end].parse().ok()?;
    let mut rest = &t[name_end..];
    if rest.starts_with('[') {
        rest = rest.find(']').map_or("", |i| &rest[i + 1..]);
    }
    let rest = rest.split(';').next().unwrap_or("").trim();
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(str::trim)
        // Exact means one PEP 440 version (epochs `1!2.0.0` included): not a wildcard or a list.
        .filter(|v| v.parse::<pep440_rs::Version>().is_ok())
        .map(str::to_string);
    Some(Pin {
        at,
        name,
        version,
        span,
        spec: t.to_string(),
    })
}

fn pins(
    ctx: &mut Ctx<'_>,
    release: &Release,
    airflow: &AirflowVersion,
    id: &Identity<'_>,
    final_from: &Instruction,
) {
    let df = ctx.df;
    let mut found: Vec<Pin<'_>> = Vec::new();
    let mut installs: Vec<&Instruction> = Vec::new();
    for instr in df.instructions.iter().filter(|i| i.kind == Kind::Run) {
        let Some(script) = run_script(instr) else {
            continue;
        };
        for c in script.script.commands.iter().filter(|c| {
            c.is_pip_install() || (c.name() == "uv" && c.arg_texts().take(2).eq(["pip", "install"]))
        }) {
            installs.push(instr);
            found.extend(
                c.args_no_flags(PIP_VALUE_FLAGS)
                    .into_iter()
                    .skip_while(|w| w.text != "install")
                    .skip(1)
                    .filter_map(|w| pin_of(instr, w, script.span(w))),
            );
        }
    }
    let airflow_name: PackageName = "apache-airflow".parse().expect("a valid package name");
    let want = release.packages_of(&id.variant);
    let mut seen: BTreeMap<PackageName, ()> = BTreeMap::new();
    for pin in &found {
        seen.insert(pin.name.clone(), ());
        let expected = if pin.name == airflow_name {
            Some((AIRFLOW_PIN, airflow.as_package_version()))
        } else {
            want.get(&pin.name).map(|v| (PACKAGE_PIN, v))
        };
        match expected {
            Some((rule, v)) => {
                let ok = pin
                    .version
                    .as_deref()
                    .is_some_and(|got| same_version(got, v.pep440()));
                if !ok {
                    let tag = ImageTag::new(release.version.clone(), id.variant);
                    let got = pin.version.as_deref().map_or_else(
                        || format!("{} is not pinned exactly", pin.spec),
                        |g| format!("{}=={g}", pin.name),
                    );
                    ctx.report(
                        rule,
                        pin.at,
                        pin.span.clone(),
                        format!("{got}, but the matrix pins {}=={v} for {tag}", pin.name),
                    );
                }
            }
            None => {
                let tag = ImageTag::new(release.version.clone(), id.variant);
                ctx.report(
                    PACKAGE_EXTRA,
                    pin.at,
                    pin.span.clone(),
                    format!(
                        "{} is installed but the matrix has no {} for {tag}",
                        pin.spec, pin.name
                    ),
                );
            }
        }
    }
    if !id.variant.base {
        return; // the ONBUILD image inherits its packages from the base image
    }
    // Missing packages are reported where Airflow is installed (or the last pip install).
    let anchor = found
        .iter()
        .find(|p| p.name == airflow_name)
        .map(|p| p.at)
        .or(installs.last().copied())
        .unwrap_or(final_from);
    let tag = ImageTag::new(release.version.clone(), id.variant);
    let missing_airflow = !seen.contains_key(&airflow_name);
    if missing_airflow {
        ctx.report_instr(
            AIRFLOW_PIN,
            anchor,
            format!("no pip install of apache-airflow=={airflow} for {tag}"),
        );
    }
    for (name, v) in want.iter() {
        if !seen.contains_key(name) {
            ctx.report_instr(
                PACKAGE_MISSING,
                anchor,
                format!("{name}=={v} is pinned by the matrix for {tag} but not installed"),
            );
        }
    }
}
