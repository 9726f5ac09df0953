//! `runtime-kit build`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use runtime_kit::build::{
    BuildPlan, Builder, BuilderKind, CaBundle, Event, LOG_DIR, PlanOptions, Runner, Step,
    VENDOR_PACKAGES_ARG, VariantFilter, format_elapsed,
};
use runtime_kit::model::{PythonVersion, RuntimeVersion};
use runtime_kit::render;

use super::{MatrixArg, Outcome, ok};

/// Build a release's images from the generated contexts (dockerfiles/), base images before the
/// ONBUILD images built FROM them, tagged exactly as the tag plan says.
///
/// Prints each built reference on stdout; progress goes to stderr and each builder's full output
/// to <log-dir>/<tag>.log.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// The release to build.
    #[arg(value_name = "VERSION")]
    release: RuntimeVersion,
    /// Which images: `base` (no ONBUILD), `onbuild` (FROM an existing base tag) or `all`.
    #[arg(long, default_value_t = VariantFilter::All)]
    variant: VariantFilter,
    /// Only the images of this Python (default: every Python the release was published for).
    #[arg(long, value_name = "X.Y")]
    python: Option<PythonVersion>,
    /// The program that builds.
    #[arg(long, default_value_t = BuilderKind::Buildah)]
    builder: BuilderKind,
    /// Start the base images FROM this image (`--build-arg BASE_IMAGE=REF`) instead of the
    /// Dockerfile's python:X.Y-slim-<debian>.
    #[arg(long, value_name = "REF")]
    base_image: Option<String>,
    /// Repository to tag the images in (default: the release's repository).
    #[arg(long, value_name = "REPO")]
    tag_prefix: Option<String>,
    /// Leave out the packages only a vendor index serves (astronomer-providers-logging from
    /// Astronomer's index), for a builder that cannot reach that index: the images then lack
    /// them and list them in /usr/local/share/runtime/vendor-packages-skipped.txt.
    #[arg(long)]
    skip_vendor_packages: bool,
    /// Trust this CA bundle (PEM) for pip and apt inside the build, e.g. a TLS-intercepting
    /// proxy's; mounted for the build only, never copied into the image (buildah only).
    #[arg(long, value_name = "PATH")]
    ca_bundle: Option<PathBuf>,
    /// Print the exact builder commands and build nothing.
    #[arg(long)]
    dry_run: bool,
    /// buildah storage driver, e.g. `vfs` where overlayfs is unavailable (buildah reads the same
    /// variable).
    #[arg(long, env = "STORAGE_DRIVER", value_name = "DRIVER")]
    storage_driver: Option<String>,
    /// buildah isolation of RUN steps: `oci`, `rootless` or `chroot` (buildah reads the same
    /// variable).
    #[arg(long, env = "BUILDAH_ISOLATION", value_name = "ISOLATION")]
    isolation: Option<String>,
    /// Commit and reuse a layer per step with buildah (docker always does). With the vfs driver
    /// each layer is a full copy of the image: `--layers false` saves disk.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    layers: bool,
    /// Reuse no cached layer.
    #[arg(long)]
    no_cache: bool,
    /// The directory holding the generated build contexts.
    #[arg(long, value_name = "DIR", default_value = render::OUT_DIR)]
    contexts: PathBuf,
    /// Where builder logs (and the --ca-bundle configuration files) are written.
    #[arg(long, value_name = "DIR", default_value = LOG_DIR)]
    log_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let options = PlanOptions {
        variants: args.variant,
        python: args.python,
        base_image: args.base_image.clone(),
        tag_prefix: args.tag_prefix.clone(),
        contexts: args.contexts.clone(),
        skip_vendor_packages: args.skip_vendor_packages,
    };
    let plan = BuildPlan::new(&matrix, &args.release, &options)?;
    let builder = Builder::new(args.builder)
        .storage_driver(args.storage_driver.clone())
        .isolation(args.isolation.clone())
        .layers(args.layers)
        .no_cache(args.no_cache);
    let mut runner = Runner::new(builder, &args.log_dir)?;
    if let Some(bundle) = &args.ca_bundle {
        runner = runner.with_ca_bundle(CaBundle::new(bundle, args.log_dir.join("ca"))?);
    }
    runner.builder().check_settings(&runner.mounts())?;
    if args.skip_vendor_packages
        && plan
            .images
            .iter()
            .any(|(_, b)| b.build_args.iter().any(|(k, _)| k == VENDOR_PACKAGES_ARG))
    {
        writeln!(
            std::io::stderr(),
            "note: --skip-vendor-packages: the base images of {} are built without the packages only a vendor index serves",
            plan.version
        )?;
    }
    if let Some(reason) = matrix
        .release(&plan.version)
        .and_then(|r| r.yanked.as_deref())
    {
        writeln!(
            std::io::stderr(),
            "note: Runtime {} was yanked: {reason}",
            plan.version
        )?;
    }

    if args.dry_run {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# runtime-kit build {}: {} (each -base before the ONBUILD image built FROM it)",
            plan.version,
            count(plan.images.len())
        )?;
        if args.ca_bundle.is_some() {
            writeln!(
                out,
                "# with --ca-bundle, runtime-kit first writes {} and {}",
                runner.log_dir().join("ca/pip.conf").display(),
                runner.log_dir().join("ca/apt.conf").display()
            )?;
        }
        for line in runner.command_lines(&plan) {
            writeln!(out, "{line}")?;
        }
        return ok();
    }

    let version = runner.builder().version()?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "building {} of Runtime {} with {version}",
        count(plan.images.len()),
        plan.version
    )?;
    drop(err);
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let built = runner.build_plan(&plan, &mut |event| progress.on(event));
    progress.clear();
    let built = built?;
    let mut out = std::io::stdout().lock();
    for b in &built {
        writeln!(out, "{}", b.reference)?;
    }
    ok()
}

/// Progress on stderr: a spinner on a terminal, else one line per step.
struct Progress {
    bar: Option<ProgressBar>,
    terminal: bool,
    total: usize,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        Progress {
            bar: None,
            terminal,
            total: 0,
        }
    }

    fn label(&self, index: usize, name: &str) -> String {
        format!("[{}/{}] {name}", index + 1, self.total)
    }

    fn on(&mut self, event: Event<'_>) {
        match event {
            Event::Started {
                index,
                total,
                image,
                log,
            } => {
                self.total = total;
                let label = self.label(index, &image.name);
                eprintln!(
                    "{label}: building {} (log: {})",
                    image.reference,
                    shown(log)
                );
                if self.terminal {
                    let bar = ProgressBar::new_spinner();
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(label);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    self.bar = Some(bar);
                }
            }
            Event::Step { index, image, step } => match &self.bar {
                Some(bar) => bar.set_message(step_text(step)),
                None => eprintln!("{}: {}", self.label(index, &image.name), step_text(step)),
            },
            Event::Cached { .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{} (cached)", bar.message()));
                }
            }
            Event::Finished { index, built } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let cached = built.steps.iter().filter(|s| s.cached).count();
                let cache_note = if cached > 0 {
                    format!(" ({cached} of {} steps from the cache)", built.steps.len())
                } else {
                    String::new()
                };
                eprintln!(
                    "{}: built {} in {}{cache_note}",
                    self.label(index, &built.name),
                    built.reference,
                    format_elapsed(built.elapsed)
                );
            }
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn count(images: usize) -> String {
    super::count(images, "image", "images")
}

fn step_text(step: &Step) -> String {
    let counter = match step.total {
        Some(t) => format!("STEP {}/{t}", step.number),
        None => format!("STEP {}", step.number),
    };
    format!("{counter}: {}", step.short_instruction(100))
}

/// `path` relative to the working directory when it is under it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}
