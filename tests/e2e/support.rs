//! The end-to-end suite's environment: tools, a private buildah store under the cache directory,
//! the base images made once per run (and kept across runs), containers to look inside images.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use runtime_kit::build::{Builder, BuilderKind, CaBundle, Runner};

/// Tools the suite needs on `PATH`.
const TOOLS: &[&str] = &["buildah", "debootstrap"];

/// The stand-in for `python:3.9-slim-bullseye` that `scripts/e2e-base-images.sh` makes.
pub const PYTHON_BASE: &str = "localhost/python:3.9-slim-bullseye";

/// The stand-in for `python:3.11-slim-bookworm` that `scripts/e2e-base-images.sh` makes
/// (Debian 12's own Python 3.11).
pub const PYTHON_BASE_BOOKWORM: &str = "localhost/python:3.11-slim-bookworm";

/// The repository the suite tags release images in.
pub const TAG_PREFIX: &str = "localhost/e2e-runtime";

/// Everything the real builds share, made once per test process.
pub struct Env {
    /// The repository root.
    pub root: PathBuf,
    /// `.cache/e2e` (or `$RUNTIME_KIT_E2E_CACHE`).
    pub cache: PathBuf,
    /// The private store's configuration (`CONTAINERS_STORAGE_CONF`).
    pub storage_conf: PathBuf,
    /// Storage driver: `$RUNTIME_KIT_E2E_STORAGE_DRIVER`, else overlay where it works, else vfs.
    pub driver: String,
    /// Isolation of RUN steps: `$RUNTIME_KIT_E2E_ISOLATION`, else chroot.
    pub isolation: String,
    /// The CA bundle builds trust: `$RUNTIME_KIT_CA_BUNDLE`, else the host's.
    pub ca_bundle: Option<PathBuf>,
}

static ENV: OnceLock<Result<Env, String>> = OnceLock::new();
static BUILDS: Mutex<()> = Mutex::new(());

/// Writes past the test harness's output capture, so a skip is visible in a passing run.
pub fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// The suite's environment, or `None` (after a visible SKIPPED line) where the tools are
/// missing. With `RUNTIME_KIT_REQUIRE_TOOLS=1` a missing tool fails the test instead.
pub fn env(test: &str) -> Option<&'static Env> {
    let env = ENV.get_or_init(|| {
        let missing = missing_tools();
        if !missing.is_empty() {
            return Err(missing.join(", "));
        }
        Ok(Env::prepare())
    });
    match env {
        Ok(env) => Some(env),
        Err(missing) => {
            let why = format!(
                "{test}: needs {missing} (Debian: apt-get install buildah debootstrap uidmap; run as root)"
            );
            if std::env::var_os("RUNTIME_KIT_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
                panic!("RUNTIME_KIT_REQUIRE_TOOLS=1 and {why}");
            }
            say(&format!("SKIPPED e2e {why}"));
            None
        }
    }
}

/// Holds the builder for one test: builds run one at a time (2 cores, one store).
pub fn exclusive() -> MutexGuard<'static, ()> {
    BUILDS.lock().unwrap_or_else(|p| p.into_inner())
}

fn missing_tools() -> Vec<String> {
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .map(|t| t.to_string())
        .collect();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        missing.push("root (debootstrap)".into());
    }
    missing
}

impl Env {
    fn prepare() -> Env {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let cache = std::env::var_os("RUNTIME_KIT_E2E_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".cache/e2e"));
        std::fs::create_dir_all(&cache).expect("create the e2e cache directory");
        let isolation =
            std::env::var("RUNTIME_KIT_E2E_ISOLATION").unwrap_or_else(|_| "chroot".into());
        let driver = std::env::var("RUNTIME_KIT_E2E_STORAGE_DRIVER").unwrap_or_else(|_| {
            if overlay_works(&cache) {
                "overlay".into()
            } else {
                "vfs".into()
            }
        });
        let storage_conf = cache.join(format!("storage-{driver}.conf"));
        std::fs::write(
            &storage_conf,
            format!(
                "# Written by tests/e2e.rs: the suite's private buildah store.\n[storage]\ndriver = \"{driver}\"\ngraphroot = \"{}\"\nrunroot = \"/run/runtime-kit-e2e-{driver}\"\n",
                cache.join(format!("storage-{driver}")).display()
            ),
        )
        .expect("write storage.conf");
        let ca_bundle = std::env::var_os("RUNTIME_KIT_CA_BUNDLE")
            .map(PathBuf::from)
            .or_else(|| {
                let host = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
                host.is_file().then_some(host)
            });
        let env = Env {
            root,
            cache,
            storage_conf,
            driver,
            isolation,
            ca_bundle,
        };
        say(&format!(
            "e2e: buildah store {} ({} driver, {} isolation); cache {}",
            env.cache.join(format!("storage-{}", env.driver)).display(),
            env.driver,
            env.isolation,
            env.cache.display()
        ));
        env.clean_store();
        let start = Instant::now();
        let out = env
            .command(env.root.join("scripts/e2e-base-images.sh"))
            .output()
            .expect("run scripts/e2e-base-images.sh");
        assert!(
            out.status.success(),
            "scripts/e2e-base-images.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        say(&format!(
            "e2e: base images ready in {} ({PYTHON_BASE}, {PYTHON_BASE_BOOKWORM})",
            runtime_kit::build::format_elapsed(start.elapsed())
        ));
        env
    }

    /// Leftovers of earlier runs: working containers, and images no tag points at (the layers
    /// of earlier builds). Tagged images (the stand-ins) are kept; `RUNTIME_KIT_E2E_KEEP=1`
    /// keeps everything (faster reruns while iterating, more disk).
    fn clean_store(&self) {
        if std::env::var_os("RUNTIME_KIT_E2E_KEEP").is_some_and(|v| v == "1") {
            return;
        }
        let _ = self.buildah(&["rm", "--all"]);
        let _ = self.buildah(&["rmi", "--prune"]);
    }

    /// A process with the suite's buildah settings in its environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("CONTAINERS_STORAGE_CONF", &self.storage_conf)
            .env("STORAGE_DRIVER", &self.driver)
            .env("BUILDAH_ISOLATION", &self.isolation)
            .env("RUNTIME_KIT_E2E_CACHE", &self.cache)
            .current_dir(&self.root);
        if let Some(ca) = &self.ca_bundle {
            cmd.env("RUNTIME_KIT_CA_BUNDLE", ca);
        }
        cmd
    }

    /// Removes `references` and every image no tag points at any more (the layers of builds
    /// already checked), keeping the store's disk use to one release at a time.
    pub fn remove_images(&self, references: &[&str]) {
        for r in references {
            let _ = self.buildah(&["rmi", "--force", r]);
        }
        if std::env::var_os("RUNTIME_KIT_E2E_KEEP").is_none_or(|v| v != "1") {
            let _ = self.buildah(&["rmi", "--prune"]);
        }
    }

    /// Runs `buildah ARGS` and returns its output.
    pub fn buildah(&self, args: &[&str]) -> Output {
        self.command("buildah")
            .args(args)
            .output()
            .expect("run buildah")
    }

    /// `runtime-kit ARGS` with the suite's builder flags appended, at the repository root.
    /// With vfs, whose every layer is a full copy of the image, release builds commit one layer
    /// (`--layers false`): the suite checks the layer cache on the project builds only.
    pub fn runtime_kit(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_runtime-kit"));
        let layers = if self.driver == "vfs" {
            "false"
        } else {
            "true"
        };
        cmd.args(args)
            .args([
                "--storage-driver",
                &self.driver,
                "--isolation",
                &self.isolation,
                "--layers",
                layers,
            ])
            .arg("--log-dir")
            .arg(self.cache.join("logs"));
        if let Some(ca) = &self.ca_bundle {
            cmd.arg("--ca-bundle").arg(ca);
        }
        cmd
    }

    /// A library runner with the suite's builder settings; `no_cache` builds every step afresh.
    pub fn runner(&self, no_cache: bool) -> Runner {
        let builder = Builder::new(BuilderKind::Buildah)
            .env(
                "CONTAINERS_STORAGE_CONF",
                self.storage_conf.display().to_string(),
            )
            .storage_driver(Some(self.driver.clone()))
            .isolation(Some(self.isolation.clone()))
            .no_cache(no_cache);
        let mut runner = Runner::new(builder, self.cache.join("logs")).expect("log dir");
        if let Some(ca) = &self.ca_bundle {
            runner = runner.with_ca_bundle(
                CaBundle::new(ca, self.cache.join("logs/ca")).expect("the CA bundle is usable"),
            );
        }
        runner
    }

    /// The image's configuration as `buildah inspect` reports it.
    pub fn inspect(&self, reference: &str) -> serde_json::Value {
        let out = self.buildah(&["inspect", "--type", "image", reference]);
        assert!(
            out.status.success(),
            "buildah inspect {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("buildah inspect prints JSON")
    }

    /// A working container of `reference`, removed when dropped.
    pub fn container(&self, reference: &str) -> Container<'_> {
        let out = self.buildah(&["from", "--pull-never", reference]);
        assert!(
            out.status.success(),
            "buildah from {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Container { env: self, id }
    }

    /// Appends a measured figure to `<cache>/figures.tsv` and shows it.
    pub fn record(&self, what: &str, elapsed: Duration) {
        let line = format!(
            "{}\t{}\t{what}\t{:.1}",
            jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .expect("round"),
            self.driver,
            elapsed.as_secs_f64()
        );
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.cache.join("figures.tsv"))
        {
            let _ = writeln!(f, "{line}");
        }
        say(&format!(
            "e2e: {what}: {}",
            runtime_kit::build::format_elapsed(elapsed)
        ));
    }
}

/// Whether buildah's overlay driver works here (the kernel mounts overlayfs on the cache's file
/// system): far faster and smaller than vfs, whose every layer is a full copy.
fn overlay_works(cache: &Path) -> bool {
    let probe = cache.join("overlay-probe");
    let _ = std::fs::remove_dir_all(&probe);
    let conf = cache.join("overlay-probe.conf");
    let written = std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"/run/runtime-kit-e2e-probe\"\n",
            probe.display()
        ),
    );
    let ok = written.is_ok()
        && Command::new("buildah")
            .args(["info"])
            .env("CONTAINERS_STORAGE_CONF", &conf)
            .output()
            .is_ok_and(|o| o.status.success());
    let _ = std::fs::remove_dir_all(&probe);
    let _ = std::fs::remove_file(&conf);
    ok
}

/// The output of a command run in a container.
pub struct Ran {
    /// Exit code (-1 when killed).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    /// Output of both streams, for messages.
    pub fn both(&self) -> String {
        format!("exit {}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// A buildah working container.
pub struct Container<'a> {
    env: &'a Env,
    id: String,
}

impl Container<'_> {
    /// Runs `sh -c SCRIPT` in the container as the image's user, with the image's environment
    /// and the CA bundle mounted as in builds (pip may reach the index).
    pub fn sh(&self, script: &str) -> Ran {
        self.sh_with(&[], script)
    }

    /// Runs `sh -c SCRIPT` with extra environment variables.
    pub fn sh_with(&self, vars: &[(&str, &str)], script: &str) -> Ran {
        let mut cmd = self.env.command("buildah");
        cmd.args(["run", "--isolation", &self.env.isolation]);
        for (k, v) in vars {
            cmd.args(["--env", &format!("{k}={v}")]);
        }
        if let Some(ca) = &self.env.ca_bundle {
            let bundle = CaBundle::new(ca, self.env.cache.join("logs/ca")).expect("CA bundle");
            bundle.write_config().expect("CA configuration");
            for m in bundle.mounts() {
                cmd.args(["--volume", &m.volume_arg()]);
            }
        }
        let out = cmd
            .args([&self.id, "--", "sh", "-c", script])
            .output()
            .expect("run buildah run");
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.env.buildah(&["rm", &self.id]);
    }
}

/// Failed expectations of one test, reported together.
#[derive(Default)]
pub struct Report {
    failures: Vec<String>,
}

impl Report {
    /// Records `message` unless `ok`.
    pub fn expect(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(message());
        }
    }

    /// Panics listing every failed expectation.
    pub fn finish(self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} failed check(s):\n- {}",
            self.failures.len(),
            self.failures.join("\n- ")
        );
    }
}

/// Copies the directory `from` to `to` (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}
