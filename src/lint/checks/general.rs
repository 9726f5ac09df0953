//! Rules about instructions other than the commands RUN executes.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Ctx, drop_quotes, stages};
use crate::lint::image::ImageRef;
use crate::lint::rules::*;
use crate::lint::syntax::{Args, Command, FileSource, Instruction, Kind};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    from_rules(ctx);
    per_instruction(ctx);
    per_stage(ctx);
    users(ctx);
    secrets(ctx);
}

/// `name`, `tag`, `digest` of an image text, split the way hadolint splits it.
pub(crate) fn split_image(text: &str) -> (&str, Option<&str>, Option<&str>) {
    let (name_tag, digest) = match text.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (text, None),
    };
    let last = name_tag.rfind('/').map_or(0, |i| i + 1);
    match name_tag[last..].rfind(':') {
        Some(i) => (
            &name_tag[..last + i],
            Some(&name_tag[last + i + 1..]),
            digest,
        ),
        None => (name_tag, None, digest),
    }
}

/// The value of `${NAME}` / `$NAME` references in `text`, from the global `ARG` defaults.
pub(crate) fn resolve_args(text: &str, args: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            // `${NAME:-default}` and friends: take the name only.
            let name = inner[..end].split([':', '-', '+']).next()?;
            (name, end + 2)
        } else {
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..n], n)
        };
        out.push_str(args.get(name)?);
        rest = &after[len..];
    }
    out.push_str(rest);
    Some(out)
}

/// Defaults of the `ARG`s before the first FROM.
pub(crate) fn global_args(ctx: &Ctx<'_>) -> HashMap<String, String> {
    ctx.df
        .instructions
        .iter()
        .take_while(|i| i.kind != Kind::From)
        .flat_map(|i| i.pairs())
        .filter_map(|p| Some((p.key.clone(), p.value.clone()?)))
        .collect()
}

fn from_rules(ctx: &mut Ctx<'_>) {
    let globals = global_args(ctx);
    let mut aliases: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for instr in &ctx.df.instructions {
        let Args::From { image, alias } = &instr.args else {
            continue;
        };
        let text = image.value.as_str();
        let known: Vec<&str> = aliases.iter().map(String::as_str).collect();
        let parsed = ImageRef::parse(text, &known);
        let (name, tag, digest) = match &parsed {
            ImageRef::Image(i) => (text, i.tag(), i.digest()),
            _ => split_image(text),
        };
        let is_scratch = matches!(parsed, ImageRef::Scratch);
        if let ImageRef::Invalid { why, .. } = &parsed {
            ctx.report(
                FROM_INVALID_REFERENCE,
                instr,
                image.span.clone(),
                format!("{text:?} is not a valid image reference: {why}; expected [registry/]repository[:tag][@digest]"),
            );
        }
        // hadolint DL3006: untagged, unless scratch, digest-pinned, a variable or an earlier stage.
        if !is_scratch
            && digest.is_none()
            && tag.is_none()
            && !name.starts_with('$')
            && !aliases.iter().any(|a| a == name)
        {
            ctx.report(
                FROM_UNTAGGED,
                instr,
                image.span.clone(),
                format!("{text} has no tag, so it means {text}:latest; name the version explicitly, e.g. {text}:<version>"),
            );
        }
        if tag == Some("latest") && digest.is_none() {
            ctx.report(
                FROM_LATEST,
                instr,
                image.span.clone(),
                format!("{text} uses the moving tag latest; pin a release tag or a digest"),
            );
        }
        if ctx.config.is_enabled(FROM_WITHOUT_DIGEST) {
            let resolved = match &parsed {
                ImageRef::Variable(v) => {
                    resolve_args(v, &globals).map(|r| ImageRef::parse(&r, &known))
                }
                other => Some(other.clone()),
            };
            if let Some(ImageRef::Image(i)) = resolved
                && i.digest().is_none()
            {
                ctx.report(
                    FROM_WITHOUT_DIGEST,
                    instr,
                    image.span.clone(),
                    format!("{text} is not pinned by digest ({i}); append @sha256:<digest>"),
                );
            }
        }
        if let Some(a) = alias {
            if !seen.insert(a.value.clone()) {
                ctx.report(
                    DUPLICATE_STAGE,
                    instr,
                    a.span.clone(),
                    format!("stage name {:?} is already used by an earlier stage; stage names must be unique", a.value),
                );
            }
            aliases.push(a.value.clone());
        }
    }
}

const ARCHIVES: &[&str] = &[
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
    ".tpz", ".txz", ".xz",
];

fn per_instruction(ctx: &mut Ctx<'_>) {
    let mut aliases: Vec<String> = Vec::new();
    let mut stage_count = 0usize;
    for instr in &ctx.df.instructions {
        match (&instr.kind, &instr.args) {
            (Kind::From, Args::From { alias, .. }) => {
                stage_count += 1;
                if let Some(a) = alias {
                    aliases.push(a.value.clone());
                }
            }
            (Kind::Workdir, Args::Text(w)) => {
                let path = drop_quotes(&w.value);
                let mut chars = path.chars();
                let windows =
                    chars.next().is_some_and(char::is_alphabetic) && chars.next() == Some(':');
                if !(path.starts_with('$') || path.starts_with('/') || windows) {
                    ctx.report(
                        RELATIVE_WORKDIR,
                        instr,
                        w.span.clone(),
                        format!("WORKDIR {} is relative; use an absolute path", w.value),
                    );
                }
            }
            (Kind::Add, Args::Files { sources, .. }) => {
                let local: Vec<&str> = sources
                    .iter()
                    .filter_map(|s| match s {
                        FileSource::Path(p) => Some(p.value.as_str()),
                        FileSource::Heredoc(_) => None,
                    })
                    .filter(|p| {
                        let p = drop_quotes(p);
                        !(ARCHIVES.iter().any(|a| p.ends_with(a))
                            || p.starts_with("https://")
                            || p.starts_with("http://"))
                    })
                    .collect();
                if !local.is_empty() {
                    ctx.report_instr(
                        ADD_LOCAL,
                        instr,
                        format!("ADD copies local files ({}); use COPY, and keep ADD for URLs and archives", local.join(", ")),
                    );
                }
            }
            (
                Kind::Cmd | Kind::Entrypoint,
                Args::Command {
                    command: Command::Shell(_),
                    ..
                },
            )
            | (Kind::Healthcheck, Args::Healthcheck(Some(Command::Shell(_)))) => {
                ctx.report_instr(
                    SHELL_FORM,
                    instr,
                    format!("{} in shell form runs under /bin/sh and does not receive signals; use the JSON form [\"executable\", \"arg\"]", instr.kind),
                );
            }
            (Kind::Maintainer, _) => ctx.report_instr(
                MAINTAINER,
                instr,
                "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"...\"",
            ),
            (Kind::Copy, _) => {
                let Some(from) = instr.flag("from").and_then(|f| f.value.as_deref()) else {
                    continue;
                };
                let index_ok = from
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .fold(None, |acc: Option<usize>, d| {
                        Some(
                            acc.unwrap_or(0)
                                .saturating_mul(10)
                                .saturating_add(usize::from(d - b'0')),
                        )
                    })
                    .is_some_and(|n| n < stage_count);
                if !(drop_quotes(from).contains(':')
                    || aliases.iter().any(|a| a == from)
                    || index_ok)
                {
                    let span = instr
                        .flag("from")
                        .map_or(instr.keyword.clone(), |f| f.span.clone());
                    ctx.report(
                        COPY_FROM_UNKNOWN,
                        instr,
                        span,
                        format!("COPY --from={from} names no earlier stage; BuildKit would pull an image called {from:?} instead"),
                    );
                }
            }
            _ => {}
        }
    }
}

fn per_stage(ctx: &mut Ctx<'_>) {
    for stage in stages(ctx.df) {
        for (kind, rule) in [
            (Kind::Cmd, MULTIPLE_CMD),
            (Kind::Entrypoint, MULTIPLE_ENTRYPOINT),
        ] {
            let all: Vec<&Instruction> = stage.body.iter().filter(|i| i.kind == kind).collect();
            for instr in all.iter().skip(1) {
                ctx.report_instr(
                    rule,
                    instr,
                    format!("more than one {kind} in this stage (the first is on line {}); only the last takes effect", all[0].start_line),
                );
            }
        }
    }
}

fn is_root(user: &str) -> bool {
    user.starts_with("root:") || user.starts_with("0:") || user == "root" || user == "0"
}

fn users(ctx: &mut Ctx<'_>) {
    // hadolint DL3002: every stage whose last USER is root.
    let all = stages(ctx.df);
    let mut sets_user: BTreeMap<&str, bool> = BTreeMap::new();
    for stage in &all {
        let last_user = stage.body.iter().rev().find(|i| i.kind == Kind::User);
        if let Some(
            u @ Instruction {
                args: Args::Text(w),
                ..
            },
        ) = last_user
            && is_root(&w.value)
        {
            ctx.report(
                LAST_USER_ROOT,
                u,
                w.span.clone(),
                format!(
                    "the last USER of this stage is {}; switch to an unprivileged user",
                    w.value
                ),
            );
        }
        let inherits = sets_user.get(stage.image()).copied().unwrap_or(false);
        if let Some(a) = stage.alias() {
            sets_user.insert(a, inherits || last_user.is_some());
        }
    }
    // No USER in the final stage, on a base we know runs as root.
    if let Some(last) = all.last() {
        let image = last.image();
        let inherited = sets_user.get(image).copied().unwrap_or(false);
        let has_user = last.body.iter().any(|i| i.kind == Kind::User);
        let runtime = ctx.runtime_repositories.contains(&split_image(image).0);
        if !has_user
            && !inherited
            && !runtime
            && !image.contains('$')
            && !image.eq_ignore_ascii_case("scratch")
        {
            ctx.report_instr(
                NO_USER,
                last.from,
                format!("the final stage never sets USER, so the image runs as {image}'s user (usually root); add an unprivileged user"),
            );
        }
    }
}

const SECRET_WORDS: &[&str] = &[
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
];
const NOT_SECRET_WORDS: &[&str] = &["public", "file", "version"];

/// BuildKit's SecretsUsedInArgOrEnv test: an `_`-separated word of the name is a secret word and
/// none is an allowed word (case-insensitive).
pub(crate) fn looks_secret(name: &str) -> bool {
    let has = |words: &[&str]| {
        name.split('_')
            .any(|part| words.iter().any(|w| part.eq_ignore_ascii_case(w)))
    };
    has(SECRET_WORDS) && !has(NOT_SECRET_WORDS)
}

fn secrets(ctx: &mut Ctx<'_>) {
    for instr in &ctx.df.instructions {
        if !matches!(instr.kind, Kind::Arg | Kind::Env) {
            continue;
        }
        for pair in instr.pairs() {
            if looks_secret(&pair.key) {
                ctx.report(
                    SECRET_IN_ARG_ENV,
                    instr,
                    pair.span.clone(),
                    format!("{} {} looks like a secret and would be stored in the image; use RUN --mount=type=secret", instr.kind, pair.key),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_like_buildkit() {
        for yes in [
            "API_KEY",
            "password",
            "GITHUB_TOKEN",
            "secret_MESSAGE",
            "AUTH",
            "a_key_b",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "KEYBOARD",
            "PUBLIC_KEY",
            "KEY_FILE",
            "TOKEN_VERSION",
            "AIRFLOW_HOME",
            "MONKEY",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }

    #[test]
    fn images_split_and_resolve() {
        assert_eq!(
            split_image("a/b:1@sha256:x"),
            ("a/b", Some("1"), Some("sha256:x"))
        );
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000/app", None, None)
        );
        let args = HashMap::from([("B".to_string(), "python:3.9".to_string())]);
        assert_eq!(
            resolve_args("${B}-slim", &args).as_deref(),
            Some("python:3.9-slim")
        );
        assert_eq!(resolve_args("$B", &args).as_deref(), Some("python:3.9"));
        assert_eq!(resolve_args("${C}", &args), None);
    }
}
