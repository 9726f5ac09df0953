//! The rule catalogue: stable ids, names, default severities, the equivalent hadolint and BuildKit
//! checks, and the paragraph `runtime-kit lint --explain ID` prints.
//!
//! Ids never change meaning and are never reused: `RK0xx` are about the file itself, `RK1xx` are
//! general Dockerfile rules, `RK2xx` are specific to Runtime images and the release matrix.

use std::fmt;
use std::str::FromStr;

/// How serious a finding is. Ordered from least to most serious.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Style: taste, never a failure by default.
    Style,
    /// Info: worth knowing; fails only with a low threshold.
    Info,
    /// Warning: likely a problem.
    Warning,
    /// Error: wrong, or breaks the build or the release.
    Error,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Style => "style",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "style" => Ok(Severity::Style),
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!(
                "unknown severity {s:?}; expected \"error\", \"warning\", \"info\" or \"style\""
            )),
        }
    }
}

macro_rules! rule_ids {
    ($($(#[$doc:meta])* $variant:ident = $id:literal, $konst:ident;)*) => {
        /// A rule id, such as `RK113`: one variant per rule of [`RULES`], so an id names a rule
        /// by construction ([`rule`] never fails). Displays and serializes as its `RK` string;
        /// parse one from user text with [`str::parse`] (the exact id) or [`lookup`] (ids, names,
        /// hadolint ids and BuildKit checks).
        ///
        /// ```
        /// use runtime_kit::lint::rules::{self, RuleId};
        /// assert_eq!(rules::APT_UNPINNED, RuleId::AptUnpinned);
        /// assert_eq!(RuleId::AptUnpinned.to_string(), "RK113");
        /// assert_eq!("RK113".parse::<RuleId>(), Ok(RuleId::AptUnpinned));
        /// assert_eq!(rules::rule(RuleId::AptUnpinned).name, "apt-get-unpinned");
        /// ```
        ///
        /// An id outside the catalogue cannot be made:
        ///
        /// ```compile_fail
        /// let id = runtime_kit::lint::RuleId("RK999");
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($(#[$doc])* $variant,)*
        }

        impl RuleId {
            /// Every id, in catalogue order (the order of [`RULES`]).
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The id as written in findings and ignore comments, such as `"RK113"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }

        $($(#[$doc])* pub const $konst: RuleId = RuleId::$variant;)*
    };
}

rule_ids! {
    /// The file does not parse.
    SyntaxError = "RK001", SYNTAX_ERROR;
    /// An ignore comment names a rule that does not exist.
    UnknownRuleInIgnore = "RK002", UNKNOWN_RULE_IN_IGNORE;
    /// `FROM` without a tag.
    FromUntagged = "RK101", FROM_UNTAGGED;
    /// `FROM ...:latest`.
    FromLatest = "RK102", FROM_LATEST;
    /// `FROM` without a digest.
    FromWithoutDigest = "RK103", FROM_WITHOUT_DIGEST;
    /// `FROM` with an invalid image reference.
    FromInvalidReference = "RK104", FROM_INVALID_REFERENCE;
    /// `apt-get install` without `-y`.
    AptWithoutYes = "RK110", APT_WITHOUT_YES;
    /// `apt-get install` without `--no-install-recommends`.
    AptRecommends = "RK111", APT_RECOMMENDS;
    /// apt lists not deleted.
    AptLists = "RK112", APT_LISTS;
    /// `apt-get install` of unpinned packages.
    AptUnpinned = "RK113", APT_UNPINNED;
    /// `pip install` of unpinned packages.
    PipUnpinned = "RK120", PIP_UNPINNED;
    /// `pip install` without `--no-cache-dir`.
    PipCache = "RK121", PIP_CACHE;
    /// `sudo`.
    Sudo = "RK130", SUDO;
    /// `cd` in RUN.
    Cd = "RK131", CD;
    /// Pipe without pipefail.
    Pipefail = "RK132", PIPEFAIL;
    /// Relative WORKDIR.
    RelativeWorkdir = "RK140", RELATIVE_WORKDIR;
    /// ADD for local files.
    AddLocal = "RK141", ADD_LOCAL;
    /// Shell-form CMD/ENTRYPOINT.
    ShellForm = "RK142", SHELL_FORM;
    /// Last USER root.
    LastUserRoot = "RK143", LAST_USER_ROOT;
    /// No USER.
    NoUser = "RK144", NO_USER;
    /// Several CMD.
    MultipleCmd = "RK145", MULTIPLE_CMD;
    /// Several ENTRYPOINT.
    MultipleEntrypoint = "RK146", MULTIPLE_ENTRYPOINT;
    /// MAINTAINER.
    Maintainer = "RK147", MAINTAINER;
    /// Duplicate stage names.
    DuplicateStage = "RK150", DUPLICATE_STAGE;
    /// `COPY --from` an unknown stage.
    CopyFromUnknown = "RK151", COPY_FROM_UNKNOWN;
    /// Secrets in ARG/ENV.
    SecretInArgEnv = "RK152", SECRET_IN_ARG_ENV;
    /// ONBUILD in a base variant.
    OnbuildInBase = "RK201", ONBUILD_IN_BASE;
    /// No ONBUILD in the ONBUILD variant.
    OnbuildMissing = "RK202", ONBUILD_MISSING;
    /// The ONBUILD variant is not built on its own base image.
    OnbuildWrongBase = "RK203", ONBUILD_WRONG_BASE;
    /// The runtime label or path names no release of the matrix.
    ReleaseUnknown = "RK210", RELEASE_UNKNOWN;
    /// The Airflow label differs from the matrix.
    AirflowLabel = "RK211", AIRFLOW_LABEL;
    /// The apache-airflow pin differs from the matrix.
    AirflowPin = "RK212", AIRFLOW_PIN;
    /// A package pin differs from the matrix.
    PackagePin = "RK213", PACKAGE_PIN;
    /// A matrix package is not installed.
    PackageMissing = "RK214", PACKAGE_MISSING;
    /// A package not in the matrix is installed.
    PackageExtra = "RK215", PACKAGE_EXTRA;
    /// The base image (Python, Debian, digest, repository) differs from the matrix.
    BaseImageMismatch = "RK216", BASE_IMAGE_MISMATCH;
    /// A version label or ENV differs from the matrix.
    MetadataMismatch = "RK217", METADATA_MISMATCH;
    /// Airflow installed without the release's constraints.
    ConstraintsMissing = "RK218", CONSTRAINTS_MISSING;
}

impl RuleId {
    /// The position of this rule in [`RULES`] (and in SARIF's `tool.driver.rules`).
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = String;

    /// Reads an exact id (`RK113`, ASCII case ignored). Names and hadolint ids are read by
    /// [`lookup`].
    fn from_str(s: &str) -> Result<Self, String> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown rule id {s:?}; expected one of {} to {} (see `runtime-kit lint --list-rules`)",
                    RuleId::ALL[0],
                    RuleId::ALL[RuleId::ALL.len() - 1]
                )
            })
    }
}

/// One rule of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Whether the rule runs without being enabled in the configuration.
    pub enabled_by_default: bool,
    /// Whether the rule needs the release matrix.
    pub needs_matrix: bool,
    /// The equivalent hadolint check, if any (its `# hadolint ignore=` comments are honoured).
    pub hadolint: Option<&'static str>,
    /// The equivalent BuildKit check, if any.
    pub buildkit: Option<&'static str>,
    /// One line.
    pub summary: &'static str,
    /// One paragraph: what, why, how to fix.
    pub explanation: &'static str,
}

macro_rules! rule {
    (@opt) => { None };
    (@opt $x:literal) => { Some($x) };
    (@flag) => { false };
    (@flag $x:literal) => { $x };
    ($id:ident, $name:literal, $sev:ident, $summary:literal, $explain:literal
     $(, hadolint = $h:literal)? $(, buildkit = $b:literal)? $(, off = $off:literal)? $(, matrix = $m:literal)?) => {
        Rule {
            id: $id,
            name: $name,
            severity: Severity::$sev,
            enabled_by_default: !rule!(@flag $($off)?),
            needs_matrix: rule!(@flag $($m)?),
            hadolint: rule!(@opt $($h)?),
            buildkit: rule!(@opt $($b)?),
            summary: $summary,
            explanation: $explain,
        }
    };
}

/// Every rule, in the order of [`RuleId::ALL`].
pub static RULES: &[Rule] = &TABLE;

// One entry per id, in id order: the length is the number of ids, and the check below fails the
// build when an entry is out of place, so `RULES[id.index()]` is the rule of `id`.
const TABLE: [Rule; RuleId::ALL.len()] = [
    rule!(
        SYNTAX_ERROR,
        "syntax-error",
        Error,
        "The file is not a Dockerfile BuildKit can build",
        "The file could not be read as a Dockerfile: it is not UTF-8 text, holds binary data, or breaks the Dockerfile grammar (an unknown instruction, an instruction before the first FROM, an unterminated here-document or quote, invalid JSON in an exec-form argument list, ONBUILD ONBUILD, no FROM at all). The message says what the parser expected and where it stopped. BuildKit refuses such a file when building, so nothing else is checked until it parses."
    ),
    rule!(
        UNKNOWN_RULE_IN_IGNORE,
        "unknown-rule-in-ignore",
        Warning,
        "An ignore comment names a rule that does not exist",
        "A `# runtime-kit ignore=` comment lists an id or name that is not in the catalogue (`runtime-kit lint --list-rules`). The comment then suppresses nothing for that entry, which is usually a typo that lets a real finding through. Fix the id, or remove the entry."
    ),
    rule!(
        FROM_UNTAGGED,
        "from-untagged",
        Warning,
        "FROM an image without a tag",
        "`FROM python` means `FROM python:latest`: whatever the registry serves today. The build is not reproducible and breaks when the image moves to a new major version. Name the version you tested with (`FROM python:3.11-slim-bookworm`), or pin a digest. Build arguments (`FROM ${BASE_IMAGE}`), earlier stages and `scratch` are not checked.",
        hadolint = "DL3006"
    ),
    rule!(
        FROM_LATEST,
        "from-latest",
        Warning,
        "FROM an image tagged latest",
        "The `latest` tag moves with every release of the image, so the same Dockerfile builds different images on different days. Use a release tag (`python:3.11.9-slim`) or a digest. A reference that also carries a digest is pinned and not reported.",
        hadolint = "DL3007"
    ),
    rule!(
        FROM_WITHOUT_DIGEST,
        "from-without-digest",
        Info,
        "FROM an image without a digest",
        "A tag can be re-pushed; only a digest (`python:3.9-slim@sha256:...`) names exactly one image. This rule is off by default and enabled by `require-digest = true` in `.runtime-kit-lint.toml` or `--require-digest`. Build-argument images are resolved with their `ARG` defaults, so `ARG BASE_IMAGE=python:3.9-slim@sha256:...` / `FROM ${BASE_IMAGE}` passes. `runtime-kit pin-base` writes digests into the matrix for the generated Dockerfiles.",
        off = true
    ),
    rule!(
        FROM_INVALID_REFERENCE,
        "from-invalid-reference",
        Error,
        "FROM names an invalid image reference",
        "The image of a FROM instruction must be an OCI reference: `[registry[:port]/]repository[:tag][@digest]` with a lowercase repository. An invalid reference fails when BuildKit resolves it. The message says which part is wrong."
    ),
    rule!(
        APT_WITHOUT_YES,
        "apt-get-without-yes",
        Warning,
        "apt-get install without -y",
        "`apt-get install` asks for confirmation and, without a terminal, aborts. Pass `-y` (or `--yes`, `--assume-yes`, `-qq`).",
        hadolint = "DL3014"
    ),
    rule!(
        APT_RECOMMENDS,
        "apt-get-install-recommends",
        Info,
        "apt-get install without --no-install-recommends",
        "By default apt installs every recommended package too, which makes images larger and pulls in software nobody asked for. Pass `--no-install-recommends` (or `-o APT::Install-Recommends=false`) and name what you need.",
        hadolint = "DL3015"
    ),
    rule!(
        APT_LISTS,
        "apt-lists-not-deleted",
        Info,
        "apt-get update without deleting /var/lib/apt/lists",
        "`apt-get update` downloads package lists into `/var/lib/apt/lists`; if the same RUN does not remove them (`rm -rf /var/lib/apt/lists/*`) they stay in the layer, adding tens of megabytes. Only the final stage (and stages used as a base later) is reported, and a cache or tmpfs mount on the lists directory counts as cleanup.",
        hadolint = "DL3009"
    ),
    rule!(
        APT_UNPINNED,
        "apt-get-unpinned",
        Warning,
        "apt-get install of packages without a version",
        "Without `package=version` apt installs whatever the mirror has today, so two builds of the same Dockerfile differ. Pin versions (`curl=7.74.0-1.3+deb11u7`) or install a local `.deb`. Runtime images install their system packages from the release's Debian suite, where pinning is not practical; ignore the rule there with a reason.",
        hadolint = "DL3008"
    ),
    rule!(
        PIP_UNPINNED,
        "pip-unpinned",
        Warning,
        "pip install of packages without a version",
        "`pip install flask` installs the newest release today and a different one tomorrow. Pin (`flask==2.1.2`), install from a requirements file, or pass a constraints file (`--constraint` / `-c`), which counts as pinning. Runtime images install Airflow against the release's constraints file for this reason.",
        hadolint = "DL3013"
    ),
    rule!(
        PIP_CACHE,
        "pip-cache",
        Warning,
        "pip install without --no-cache-dir",
        "pip keeps every downloaded wheel in `~/.cache/pip`, which ends up in the image layer. Pass `--no-cache-dir`, set `ENV PIP_NO_CACHE_DIR=1`, or use a cache mount (`RUN --mount=type=cache,target=/root/.cache/pip`).",
        hadolint = "DL3042"
    ),
    rule!(
        SUDO,
        "sudo",
        Error,
        "sudo in RUN",
        "RUN steps already run as the current USER; `sudo` needs a tty and a sudoers entry, behaves differently across images and keeps the suid binary in the image. Switch with `USER root` ... `USER app` around the step, or use `gosu` in an entrypoint.",
        hadolint = "DL3004"
    ),
    rule!(
        CD,
        "cd-instead-of-workdir",
        Warning,
        "cd in RUN instead of WORKDIR",
        "A `cd` only lasts for its RUN step, which makes later steps depend on where the previous one happened to be. Use `WORKDIR /path` to set the directory for the following instructions.",
        hadolint = "DL3003"
    ),
    rule!(
        PIPEFAIL,
        "pipe-without-pipefail",
        Warning,
        "RUN with a pipe and no pipefail",
        "`/bin/sh -c 'curl ... | sh'` succeeds when the last command succeeds, even if `curl` failed, so a broken download builds a broken image. Set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before RUN steps that use pipes. A SHELL with a non-POSIX shell (pwsh, cmd) disables the rule for its stage.",
        hadolint = "DL4006"
    ),
    rule!(
        RELATIVE_WORKDIR,
        "relative-workdir",
        Error,
        "WORKDIR with a relative path",
        "A relative WORKDIR is resolved against the previous WORKDIR, which is set by the base image and can change under you. Use an absolute path (or a variable holding one, such as `$AIRFLOW_HOME`).",
        hadolint = "DL3000",
        buildkit = "WorkdirRelativePath"
    ),
    rule!(
        ADD_LOCAL,
        "add-local-files",
        Error,
        "ADD used to copy local files",
        "ADD also fetches URLs and unpacks archives, so `ADD file /dest` does something surprising as soon as the file is a tarball. Use COPY for files and directories; keep ADD for remote URLs and archives you mean to unpack.",
        hadolint = "DL3020"
    ),
    rule!(
        SHELL_FORM,
        "shell-form-command",
        Warning,
        "CMD, ENTRYPOINT or HEALTHCHECK in shell form",
        "In shell form the command runs under `/bin/sh -c`, so the process is not PID 1 and never receives SIGTERM: containers take the full stop timeout to die and cannot shut down cleanly. Use the JSON form `CMD [\"airflow\", \"webserver\"]`.",
        hadolint = "DL3025",
        buildkit = "JSONArgsRecommended"
    ),
    rule!(
        LAST_USER_ROOT,
        "last-user-root",
        Warning,
        "The last USER of a stage is root",
        "A stage that ends as root runs its container as root, so any escape from the application is root on the container. Switch back to an unprivileged user (the Runtime images use `astro`, UID 50000) after steps that need root.",
        hadolint = "DL3002"
    ),
    rule!(
        NO_USER,
        "no-user",
        Info,
        "The final stage never sets USER",
        "The image runs as whatever user its base image set, usually root. Create an unprivileged user and switch to it with USER. Not reported when the final stage is built on a build argument (`FROM ${BASE_IMAGE}`), on an earlier stage that sets USER, or on a Runtime image (a repository of the matrix, `quay.io/astronomer/astro-runtime` without a matrix), since the user is then inherited: the Runtime images run as UID 50000."
    ),
    rule!(
        MULTIPLE_CMD,
        "multiple-cmd",
        Warning,
        "More than one CMD in a stage",
        "Only the last CMD of a stage takes effect; the others are dead code that misleads readers. Keep one.",
        hadolint = "DL4003",
        buildkit = "MultipleInstructionsDisallowed"
    ),
    rule!(
        MULTIPLE_ENTRYPOINT,
        "multiple-entrypoint",
        Error,
        "More than one ENTRYPOINT in a stage",
        "Only the last ENTRYPOINT of a stage takes effect; the others are dead code that misleads readers. Keep one.",
        hadolint = "DL4004",
        buildkit = "MultipleInstructionsDisallowed"
    ),
    rule!(
        MAINTAINER,
        "maintainer",
        Error,
        "MAINTAINER is deprecated",
        "MAINTAINER has been deprecated since Docker 1.13. Use `LABEL org.opencontainers.image.authors=\"...\"`.",
        hadolint = "DL4000",
        buildkit = "MaintainerDeprecated"
    ),
    rule!(
        DUPLICATE_STAGE,
        "duplicate-stage-name",
        Error,
        "Two stages have the same name",
        "`FROM ... AS name` must be unique: `COPY --from=name` and `--target name` then refer to one stage only. BuildKit refuses to build a file with duplicate stage names.",
        hadolint = "DL3024",
        buildkit = "DuplicateStageName"
    ),
    rule!(
        COPY_FROM_UNKNOWN,
        "copy-from-unknown-stage",
        Warning,
        "COPY --from names no earlier stage",
        "`COPY --from=name` copies from an earlier stage called `name`; if there is none, BuildKit pulls an image called `name` from Docker Hub instead, which is almost never what was meant. Name an earlier stage, a stage index, or a full image reference with a tag.",
        hadolint = "DL3022"
    ),
    rule!(
        SECRET_IN_ARG_ENV,
        "secret-in-arg-or-env",
        Warning,
        "A secret passed through ARG or ENV",
        "ARG and ENV values are stored in the image's history and configuration, where anyone who pulls the image can read them. A variable whose name contains a word such as password, token, secret, key or auth looks like a secret: pass it with `RUN --mount=type=secret` instead. Names that also contain public, file or version are not reported.",
        buildkit = "SecretsUsedInArgOrEnv"
    ),
    rule!(
        ONBUILD_IN_BASE,
        "onbuild-in-base-variant",
        Error,
        "ONBUILD in a -base image",
        "The `-base` Runtime images are meant to be built on with a Dockerfile of your own, so they must not carry ONBUILD triggers: those would run in every downstream build. Only the default (ONBUILD) variant has them. The variant is read from the path (`dockerfiles/<version>/<variant>/Dockerfile`, or a directory named after the tag), else from `ENV ASTRONOMER_RUNTIME_IMAGE_TAG`, else from the `io.astronomer.docker.runtime.variant` label."
    ),
    rule!(
        ONBUILD_MISSING,
        "onbuild-missing",
        Error,
        "The ONBUILD variant lacks the ONBUILD steps a project needs",
        "The default Runtime image (tag without `-base`) installs a user's project through ONBUILD steps: `packages.txt` with apt-get, `requirements.txt` with pip, then the project copied as the astro user. Without them `FROM runtime:<version>` silently ignores the project. With a matrix, the steps are checked one by one (`COPY packages.txt`, `COPY requirements.txt`, `RUN pip install -r requirements.txt`), and a last `ONBUILD USER root` is reported: the project's image would run as root."
    ),
    rule!(
        ONBUILD_WRONG_BASE,
        "onbuild-wrong-base",
        Error,
        "The ONBUILD variant is not built on its own release's base image",
        "The default Runtime image must be `FROM` the same release's `-base` image of the same variant (`5.0.6` on `5.0.6-base`, `9.1.0-python-3.10` on `9.1.0-python-3.10-base`). Anything else ships another release's Airflow under this release's tag. The base is read from the FROM image or the default of the build argument it uses."
    ),
    rule!(
        RELEASE_UNKNOWN,
        "runtime-release-unknown",
        Error,
        "The Runtime version or variant is not in the matrix",
        "A generated Runtime Dockerfile names its release in the `io.astronomer.docker.runtime.version` label, in its path `dockerfiles/<version>/<variant>/Dockerfile` and in `ENV ASTRONOMER_RUNTIME_IMAGE_TAG`. The label must be present, all three must agree, and name a release of `runtime-matrix.toml` that publishes this variant (Python and slim). Otherwise the file is stale or was written by hand; regenerate with `runtime-kit generate`.",
        matrix = true
    ),
    rule!(
        AIRFLOW_LABEL,
        "airflow-label-mismatch",
        Error,
        "The Airflow label differs from the matrix",
        "`io.astronomer.docker.airflow.version` is read by tooling to tell which Airflow an image carries; it must equal the Airflow version of the release in `runtime-matrix.toml`. A difference means the Dockerfile was edited by hand or the matrix changed without regenerating.",
        matrix = true
    ),
    rule!(
        AIRFLOW_PIN,
        "airflow-pin-mismatch",
        Error,
        "The apache-airflow pin differs from the matrix",
        "The base image installs `apache-airflow==<version>`; that version must be the release's Airflow in `runtime-matrix.toml`. Each Runtime version carries exactly one Airflow version, so a different pin ships the wrong Airflow under this tag. Regenerate with `runtime-kit generate`.",
        matrix = true
    ),
    rule!(
        PACKAGE_PIN,
        "package-pin-mismatch",
        Error,
        "A package pin differs from the matrix",
        "Every `name==version` the image installs must equal the pin of that package for this release and variant in `runtime-matrix.toml` (the `slim-packages` set for `-slim` images). This is the check that catches a hand-edited pin: change the matrix, then regenerate.",
        matrix = true
    ),
    rule!(
        PACKAGE_MISSING,
        "package-missing",
        Error,
        "A package of the matrix is not installed",
        "The release's entry in `runtime-matrix.toml` pins a package that no `pip install` of the base image installs. The image would not contain a package the release promises. Regenerate with `runtime-kit generate`.",
        matrix = true
    ),
    rule!(
        PACKAGE_EXTRA,
        "package-extra",
        Error,
        "A package not in the matrix is installed",
        "A `pip install` of the image installs a package that the release's entry in `runtime-matrix.toml` does not list (for this variant). Add it to the matrix, or remove it, then regenerate.",
        matrix = true
    ),
    rule!(
        BASE_IMAGE_MISMATCH,
        "base-image-mismatch",
        Error,
        "The image is built on another base than the matrix says",
        "A `-base` image starts from the official Python image of the release's Python and Debian release (`python:3.10-slim-bullseye` for `11.8.0-python-3.10-base`), pinned by digest when `[base-images]` of `runtime-matrix.toml` has one; the default (ONBUILD) image starts from the same release's `-base` image in the matrix's repository. The base is read from the FROM image or the default of the build argument it uses (`ARG BASE_IMAGE=...`), so a builder can still override it with `--build-arg`. Another Python or Debian release ships different system libraries under this tag.",
        matrix = true
    ),
    rule!(
        METADATA_MISMATCH,
        "runtime-metadata-mismatch",
        Error,
        "A version label or variable differs from the matrix",
        "Besides the Runtime and Airflow labels, a generated Dockerfile records its release in `org.opencontainers.image.version`, its variant in `io.astronomer.docker.runtime.variant` (`base` or `onbuild`) and, in a `-base` image, `ENV ASTRONOMER_RUNTIME_VERSION` (the Airflow UI shows it). Each must equal what the matrix gives for this image.",
        matrix = true
    ),
    rule!(
        CONSTRAINTS_MISSING,
        "airflow-without-constraints",
        Error,
        "Airflow is installed without the release's constraints file",
        "The `pip install` of `apache-airflow` in a `-base` image must pass `--constraint` with the release's lock (`/usr/local/share/runtime/constraints.txt`, copied from `locks/`): without it, pip resolves Airflow's dependencies to today's versions, and an old Airflow breaks on new libraries.",
        matrix = true
    ),
];

const _: () = {
    let mut i = 0;
    while i < TABLE.len() {
        assert!(
            TABLE[i].id.index() == i && RuleId::ALL[i].index() == i,
            "the rule table is not in RuleId order"
        );
        i += 1;
    }
};

/// The rule with id `id`.
pub fn rule(id: RuleId) -> &'static Rule {
    &RULES[id.index()]
}

/// Finds a rule by id (`RK113`), name (`apt-get-unpinned`), hadolint id (`DL3008`) or BuildKit
/// check name (`MultipleInstructionsDisallowed`), ignoring ASCII case.
///
/// ```
/// use runtime_kit::lint::rules::lookup;
/// assert_eq!(lookup("dl3008").unwrap().id.as_str(), "RK113");
/// assert_eq!(lookup("apt-get-unpinned").unwrap().id.as_str(), "RK113");
/// assert!(lookup("RK999").is_none());
/// ```
pub fn lookup(key: &str) -> Option<&'static Rule> {
    lookup_all(key).next()
}

/// Every rule `key` names, as [`lookup`] reads it: one, except for a BuildKit check that covers
/// several rules (`MultipleInstructionsDisallowed`: RK145 and RK146).
pub fn lookup_all(key: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    let key = key.trim();
    RULES.iter().filter(move |r| {
        r.id.as_str().eq_ignore_ascii_case(key)
            || r.name.eq_ignore_ascii_case(key)
            || r.hadolint.is_some_and(|h| h.eq_ignore_ascii_case(key))
            || r.buildkit.is_some_and(|b| b.eq_ignore_ascii_case(key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        ids.sort();
        names.sort();
        let n = RULES.len();
        ids.dedup();
        names.dedup();
        assert_eq!((ids.len(), names.len()), (n, n));
        for r in RULES {
            assert!(
                r.id.as_str().len() == 5 && r.id.as_str().starts_with("RK"),
                "{}",
                r.id
            );
            assert!(
                r.explanation.len() > 80,
                "{} needs a real explanation",
                r.id
            );
            assert_eq!(rule(r.id), r);
        }
    }

    /// Ids are a closed set: every id has exactly one entry of the table, every entry's id is
    /// unique, and reading an id back gives the same id; an id outside the set is refused.
    #[test]
    fn every_id_has_exactly_one_table_entry() {
        assert_eq!(RuleId::ALL.len(), RULES.len());
        for (i, &id) in RuleId::ALL.iter().enumerate() {
            let entries: Vec<&Rule> = RULES.iter().filter(|r| r.id == id).collect();
            assert_eq!(entries.len(), 1, "{id} has {} table entries", entries.len());
            assert_eq!(rule(id).id, id, "rule({id}) gives another rule's settings");
            assert_eq!(id.index(), i);
            assert_eq!(id.as_str().parse::<RuleId>(), Ok(id));
            assert_eq!(id.as_str().to_lowercase().parse::<RuleId>(), Ok(id));
        }
        let mut seen: Vec<RuleId> = RULES.iter().map(|r| r.id).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, RuleId::ALL, "table ids are unique and in id order");
        assert!(
            RuleId::ALL
                .windows(2)
                .all(|w| w[0].as_str() < w[1].as_str()),
            "ids sort as their strings do"
        );
        for bad in ["RK999", "RK00", "", "apt-get-unpinned"] {
            let e = bad.parse::<RuleId>().unwrap_err();
            assert!(e.contains("expected one of RK001 to RK218"), "{bad:?}: {e}");
        }
        // The constants name the rules they say.
        assert_eq!(rule(SYNTAX_ERROR).name, "syntax-error");
        assert_eq!(rule(APT_UNPINNED).name, "apt-get-unpinned");
        assert_eq!(
            rule(CONSTRAINTS_MISSING).name,
            "airflow-without-constraints"
        );
    }
}
