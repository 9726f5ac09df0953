//! Rules about the commands `RUN` executes: apt-get, pip, sudo, cd, pipes.
//!
//! Each follows hadolint 2.15 (see the ids in [`crate::lint::rules`]): the same command
//! recognition, the same flags, and the same choice of which rules also look inside `ONBUILD RUN`
//! (sudo, apt-get and pip do; cd and pipefail do not).

use std::collections::HashMap;

use super::general::split_image;
use super::{Ctx, RunScript, first_line, run_script};
use crate::lint::rules::*;
use crate::lint::shell::{self, SimpleCommand};
use crate::lint::syntax::{Args, Instruction, Kind};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut stage = StageState::default();
    let mut apt_lists = AptLists::default();
    let mut onbuild_apt_lists = Vec::new();
    let mut onbuild_no_cache = false;
    let mut stage_count = 0usize;
    for instr in &ctx.df.instructions {
        match instr.kind {
            Kind::From => {
                stage_count += 1;
                stage.enter(instr);
                apt_lists.enter(instr, stage_count);
            }
            Kind::Shell => stage.shell(instr),
            Kind::Env => stage.env(instr),
            Kind::Run => {
                let Some(script) = run_script(instr) else {
                    continue;
                };
                run_rules(ctx, instr, instr, &script, true);
                pipefail(ctx, instr, &script, stage.pipefail);
                if forgot_apt_cleanup(&script) && !mounts_apt_lists(instr) {
                    apt_lists.forgot(instr);
                }
                if !stage.no_cache() {
                    pip_cache(ctx, instr, instr, &script);
                }
            }
            Kind::Onbuild => {
                let Some(inner) = instr.onbuild_inner() else {
                    continue;
                };
                match inner.kind {
                    Kind::Run => {
                        let Some(script) = run_script(inner) else {
                            continue;
                        };
                        run_rules(ctx, instr, inner, &script, false);
                        if forgot_apt_cleanup(&script) && !mounts_apt_lists(inner) {
                            onbuild_apt_lists.push(instr);
                        }
                        if !onbuild_no_cache {
                            pip_cache(ctx, instr, inner, &script);
                        }
                    }
                    Kind::Env => {
                        onbuild_no_cache |= inner.pairs().iter().any(|p| {
                            p.key == "PIP_NO_CACHE_DIR" && p.value.as_deref().is_none_or(truthy)
                        });
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let lists: Vec<&Instruction> = apt_lists
        .failures()
        .into_iter()
        .chain(onbuild_apt_lists)
        .collect();
    for instr in lists {
        ctx.report_instr(
            APT_LISTS,
            instr,
            "apt-get update without rm -rf /var/lib/apt/lists/* in the same RUN leaves the package lists in the image",
        );
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v,
        "1" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "yes" | "Yes" | "YES"
    )
}

/// State that lives for one stage.
#[derive(Default)]
struct StageState {
    pipefail: bool,
    /// hadolint DL3042: `ENV PIP_NO_CACHE_DIR` per stage, inherited by stages built on it.
    no_cache: HashMap<String, bool>,
    current: Option<String>,
}

impl StageState {
    fn enter(&mut self, from: &Instruction) {
        self.pipefail = false;
        let Args::From { image, alias } = &from.args else {
            return;
        };
        let name = split_image(&image.value).0.to_string();
        let inherited = self.no_cache.get(&name).copied().unwrap_or(false);
        let key = alias.as_ref().map_or(name, |a| a.value.clone());
        self.no_cache.insert(key.clone(), inherited);
        self.current = Some(key);
    }

    fn shell(&mut self, instr: &Instruction) {
        let Args::Words(words) = &instr.args else {
            return;
        };
        let text = words
            .iter()
            .map(|w| w.value.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let non_posix = ["pwsh", "powershell", "cmd"]
            .iter()
            .any(|s| text.starts_with(s));
        let valid = ["/bin/bash", "/bin/zsh", "/bin/ash", "bash", "zsh", "ash"];
        self.pipefail = non_posix
            || shell::parse(&text)
                .commands
                .iter()
                .any(|c| valid.contains(&c.name()) && c.has_flag("o") && c.has_arg("pipefail"));
    }

    fn env(&mut self, instr: &Instruction) {
        let set = instr
            .pairs()
            .iter()
            .any(|p| p.key == "PIP_NO_CACHE_DIR" && p.value.as_deref().is_none_or(truthy));
        if set && let Some(c) = &self.current {
            self.no_cache.insert(c.clone(), true);
        }
    }

    fn no_cache(&self) -> bool {
        self.current
            .as_ref()
            .and_then(|c| self.no_cache.get(c))
            .copied()
            .unwrap_or(false)
    }
}

/// Identity of a stage's FROM: image text, alias, platform.
type StageId = (String, Option<String>, Option<String>);

/// hadolint DL3009's bookkeeping: a forgotten cleanup is reported only in the last stage and in
/// stages used as a base later.
#[derive(Default)]
struct AptLists<'a> {
    /// Identity of the current stage's FROM.
    current: Option<StageId>,
    /// Image names used by any FROM.
    bases: Vec<String>,
    forgotten: Vec<(&'a Instruction, StageId, usize)>,
    stage: usize,
}

impl<'a> AptLists<'a> {
    fn enter(&mut self, from: &Instruction, stage: usize) {
        let Args::From { image, alias } = &from.args else {
            return;
        };
        self.bases.push(split_image(&image.value).0.to_string());
        self.current = Some((
            image.value.clone(),
            alias.as_ref().map(|a| a.value.clone()),
            from.flag("platform").and_then(|f| f.value.clone()),
        ));
        self.stage = stage;
    }

    fn forgot(&mut self, run: &'a Instruction) {
        let id = self.current.clone().unwrap_or_default();
        self.forgotten.push((run, id, self.stage));
    }

    fn failures(self) -> Vec<&'a Instruction> {
        let last = self.current.unwrap_or_default();
        self.forgotten
            .into_iter()
            .filter(|(_, id, _)| {
                *id == last || id.1.as_ref().is_some_and(|a| self.bases.contains(a))
            })
            .map(|(i, _, _)| i)
            .collect()
    }
}

fn forgot_apt_cleanup(script: &RunScript<'_>) -> bool {
    let cmds = &script.script.commands;
    let update = cmds.iter().any(|c| {
        c.is("apt", &["update"]) || c.is("apt-get", &["update"]) || c.is("aptitude", &["update"])
    });
    update
        && !cmds
            .iter()
            .any(|c| c.is("rm", &["-rf", "/var/lib/apt/lists/*"]))
}

/// Targets of `--mount=type=cache|tmpfs,target=...` flags.
fn cache_mount_targets(run: &Instruction) -> Vec<String> {
    run.flags
        .iter()
        .filter(|f| f.name == "mount")
        .filter_map(|f| f.value.as_deref())
        .filter_map(|v| {
            let mut kind = None;
            let mut target = None;
            for part in v.split(',') {
                match part.split_once('=') {
                    Some(("type", t)) => kind = Some(t),
                    Some(("target" | "dst" | "destination", t)) => target = Some(t),
                    _ => {}
                }
            }
            matches!(kind, Some("cache" | "tmpfs")).then(|| target.map(str::to_string))?
        })
        .collect()
}

fn mounts_apt_lists(run: &Instruction) -> bool {
    let targets = cache_mount_targets(run);
    let has = |frag: &str| targets.iter().any(|t| t.contains(frag));
    has("/var/lib/apt/lists") || (has("/var/lib/apt") && has("/var/cache/apt"))
}

/// Rules that run on `RUN` and (`top_level == false`) on `ONBUILD RUN`.
fn run_rules(
    ctx: &mut Ctx<'_>,
    at: &Instruction,
    run: &Instruction,
    script: &RunScript<'_>,
    top_level: bool,
) {
    let cmds = &script.script.commands;
    if top_level && let Some(cd) = cmds.iter().find(|c| c.name() == "cd") {
        ctx.report(
            CD,
            at,
            script.span(&cd.name),
            "cd only lasts for this RUN; use WORKDIR to change directory",
        );
    }
    if let Some(sudo) = cmds.iter().find(|c| c.name() == "sudo") {
        ctx.report(
            SUDO,
            at,
            script.span(&sudo.name),
            "sudo in RUN is unpredictable (tty, sudoers, suid binary); use USER, or gosu in an entrypoint",
        );
    }
    for c in cmds.iter().filter(|c| c.is("apt-get", &["install"])) {
        let yes = c.has_any_flag(&["y", "yes", "qq", "assume-yes"])
            || c.count_flag("q") == 2
            || c.count_flag("quiet") == 2
            || c.has_arg("-q=2");
        if !yes {
            ctx.report(
                APT_WITHOUT_YES,
                at,
                script.span(&c.name),
                "apt-get install without -y waits for confirmation; add -y",
            );
        }
        if !(c.has_flag("no-install-recommends") || c.has_arg("APT::Install-Recommends=false")) {
            ctx.report(
                APT_RECOMMENDS,
                at,
                script.span(&c.name),
                "apt-get install without --no-install-recommends also installs recommended packages; add --no-install-recommends",
            );
        }
    }
    let unpinned: Vec<_> = cmds
        .iter()
        .filter(|c| c.is("apt-get", &["install"]))
        .flat_map(|c| c.args_no_flags(&["t", "target-release"]))
        .filter(|w| w.text != "install")
        .filter(|w| !(w.text.contains('=') || w.text.contains('/') || w.text.ends_with(".deb")))
        .collect();
    if let Some(first) = unpinned.first() {
        let names: Vec<&str> = unpinned.iter().map(|w| w.text.as_str()).collect();
        ctx.report(
            APT_UNPINNED,
            at,
            script.span(first),
            format!(
                "apt-get install without versions: {}; pin them as package=version",
                names.join(", ")
            ),
        );
    }
    let unpinned: Vec<_> = cmds.iter().flat_map(pip_unpinned).collect();
    if let Some(first) = unpinned.first() {
        let names: Vec<&str> = unpinned.iter().map(|w| w.text.as_str()).collect();
        ctx.report(
            PIP_UNPINNED,
            at,
            script.span(first),
            format!("pip install without versions: {}; pin them as package==version or pass a constraints file", names.join(", ")),
        );
    }
    let _ = run;
}

/// Flags of `pip install` that take a value (hadolint's list).
const PIP_VALUE_FLAGS: &[&str] = &[
    "abi",
    "b",
    "build",
    "e",
    "editable",
    "extra-index-url",
    "f",
    "find-links",
    "i",
    "index-url",
    "implementation",
    "no-binary",
    "only-binary",
    "platform",
    "prefix",
    "progress-bar",
    "proxy",
    "python",
    "python-version",
    "root",
    "root-user-action",
    "src",
    "t",
    "target",
    "trusted-host",
    "upgrade-strategy",
];

const VCS: &[&str] = &[
    "git+file",
    "git+https",
    "git+ssh",
    "git+http",
    "git+git",
    "git",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+svn",
    "svn+http",
    "svn+https",
    "svn+ssh",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
];

/// The packages of a `pip install` that are not pinned (hadolint DL3013).
fn pip_unpinned(c: &SimpleCommand) -> Vec<&shell::ShellWord> {
    if !c.is_pip_install()
        || c.has_flag("constraint")
        || c.has_flag("c")
        || ["--requirement", "-r", "."].iter().any(|a| c.has_arg(a))
    {
        return Vec::new();
    }
    let fixed = |p: &str| {
        let vcs = VCS.iter().any(|v| p.starts_with(v));
        ["==", ">=", "<=", ">", "<", "!=", "~=", "==="]
            .iter()
            .any(|s| p.contains(s))
            || (vcs && p.contains('@'))
            || p.ends_with(".whl")
            || p.ends_with(".tar.gz")
            || (!vcs && p.contains('/'))
    };
    c.args_no_flags(PIP_VALUE_FLAGS)
        .into_iter()
        .skip_while(|w| w.text != "install")
        .skip_while(|w| w.text == "install")
        .filter(|w| !fixed(&w.text))
        .collect()
}

fn pip_cache(ctx: &mut Ctx<'_>, at: &Instruction, run: &Instruction, script: &RunScript<'_>) {
    // `PIP_NO_CACHE_DIR=<truthy>` anywhere in the command (hadolint reads the text).
    if let Some(at_var) = script.text.find("PIP_NO_CACHE_DIR=") {
        let after = &script.text[at_var..];
        let value = after.split_once('=').map_or("", |(_, v)| v);
        if [
            "1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES",
        ]
        .iter()
        .any(|t| value.starts_with(t))
        {
            return;
        }
    }
    let wrapper = |c: &SimpleCommand| {
        let n = c.name();
        let args: Vec<&str> = c.arg_texts().collect();
        ["pipx", "pipenv"].iter().any(|w| {
            n.contains(w) || (n.starts_with("python") && args.windows(2).any(|a| a == ["-m", *w]))
        })
    };
    let Some(bad) = script
        .script
        .commands
        .iter()
        .find(|c| c.is_pip_install() && !c.has_arg("--no-cache-dir") && !wrapper(c))
    else {
        return;
    };
    if cache_mount_targets(run)
        .iter()
        .any(|t| t.contains(".cache/pip"))
    {
        return;
    }
    ctx.report(
        PIP_CACHE,
        at,
        script.span(&bad.name),
        "pip install without --no-cache-dir keeps its download cache in the image; add --no-cache-dir",
    );
}

fn pipefail(ctx: &mut Ctx<'_>, run: &Instruction, script: &RunScript<'_>, set: bool) {
    if !set && script.script.has_pipe {
        let span = first_line(ctx.source, run);
        ctx.report(
            PIPEFAIL,
            run,
            span,
            "RUN uses a pipe but the shell has no pipefail, so a failing command before | goes unnoticed; set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
        );
    }
}
