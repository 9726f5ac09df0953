//! Running builds: the builder's output goes to a log file line by line while its step lines
//! are reported as progress events; a failure names the step and quotes its last output.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::step::{is_builder_noise, is_cache_hit};
use super::{BuildError, BuildPlan, Builder, CaBundle, ImageBuild, Mount, Step};

/// How many of the failed step's own output lines an error quotes.
const QUOTED_LINES: usize = 20;

/// Progress of a build, reported as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// An image build started.
    Started {
        /// 0-based position in the plan.
        index: usize,
        /// Number of builds in the plan.
        total: usize,
        /// The build.
        image: &'a ImageBuild,
        /// Where its output goes.
        log: &'a Path,
    },
    /// The builder started a Dockerfile step.
    Step {
        /// 0-based position in the plan.
        index: usize,
        /// The build.
        image: &'a ImageBuild,
        /// The step.
        step: &'a Step,
    },
    /// The step just announced was taken from the layer cache.
    Cached {
        /// 0-based position in the plan.
        index: usize,
        /// The build.
        image: &'a ImageBuild,
    },
    /// An image was built and tagged.
    Finished {
        /// 0-based position in the plan.
        index: usize,
        /// The result.
        built: &'a Built,
    },
}

/// A step of a finished build and whether it came from the layer cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// The step.
    pub step: Step,
    /// Taken from the cache.
    pub cached: bool,
}

/// A built and tagged image.
#[derive(Clone, Debug)]
pub struct Built {
    /// The build's name (its tag).
    pub name: String,
    /// The reference tagged.
    pub reference: String,
    /// The builder's full output.
    pub log: PathBuf,
    /// Wall time of the build.
    pub elapsed: Duration,
    /// Every step the builder announced, in order.
    pub steps: Vec<StepRecord>,
}

/// Runs builds with one builder, logging each to `<log dir>/<name>.log`, optionally trusting a
/// CA bundle inside them.
#[derive(Clone, Debug)]
pub struct Runner {
    builder: Builder,
    log_dir: PathBuf,
    ca: Option<CaBundle>,
}

impl Runner {
    /// Builds with `builder`, keeping logs in `log_dir` (made absolute).
    pub fn new(builder: Builder, log_dir: impl AsRef<Path>) -> Result<Self, BuildError> {
        Ok(Runner {
            builder,
            log_dir: super::ca::absolute(log_dir.as_ref())?,
            ca: None,
        })
    }

    /// Trusts `ca` inside every build (see [`CaBundle`]).
    pub fn with_ca_bundle(mut self, ca: CaBundle) -> Self {
        self.ca = Some(ca);
        self
    }

    /// The builder.
    pub fn builder(&self) -> &Builder {
        &self.builder
    }

    /// Where build logs go.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The mounts of every build.
    pub fn mounts(&self) -> Vec<Mount> {
        self.ca.as_ref().map(CaBundle::mounts).unwrap_or_default()
    }

    /// The log file of `image`.
    pub fn log_path(&self, image: &ImageBuild) -> PathBuf {
        let safe: String = image
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.log_dir.join(format!("{safe}.log"))
    }

    /// The exact command line of each build of `plan`, in order.
    pub fn command_lines(&self, plan: &BuildPlan) -> Vec<String> {
        let mounts = self.mounts();
        plan.images
            .iter()
            .map(|(_, b)| self.builder.command_line(b, &mounts))
            .collect()
    }

    /// Checks the settings and writes what the builds need (log directory, CA configuration).
    pub fn prepare(&self) -> Result<(), BuildError> {
        self.builder.check_settings(&self.mounts())?;
        std::fs::create_dir_all(&self.log_dir)
            .map_err(|e| BuildError::io("create", &self.log_dir, e))?;
        if let Some(ca) = &self.ca {
            ca.write_config()?;
        }
        Ok(())
    }

    /// Builds every image of `plan` in order, stopping at the first failure.
    pub fn build_plan(
        &self,
        plan: &BuildPlan,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Vec<Built>, BuildError> {
        self.prepare()?;
        let total = plan.images.len();
        let mut built = Vec::with_capacity(total);
        for (index, (_, image)) in plan.images.iter().enumerate() {
            built.push(self.run(index, total, image, on_event)?);
        }
        Ok(built)
    }

    /// Builds one image.
    pub fn build(
        &self,
        image: &ImageBuild,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Built, BuildError> {
        self.prepare()?;
        self.run(0, 1, image, on_event)
    }

    fn run(
        &self,
        index: usize,
        total: usize,
        image: &ImageBuild,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Built, BuildError> {
        let mounts = self.mounts();
        let log_path = self.log_path(image);
        let mut log =
            File::create(&log_path).map_err(|e| BuildError::io("create", &log_path, e))?;
        let io_err = |e| BuildError::io("write", &log_path, e);
        writeln!(
            log,
            "# runtime-kit build {} ({}), started {}\n# {}",
            image.name,
            image.reference,
            jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now()),
            self.builder.command_line(image, &mounts)
        )
        .map_err(io_err)?;
        on_event(Event::Started {
            index,
            total,
            image,
            log: &log_path,
        });

        let start = Instant::now();
        let spawn_err = |e| BuildError::spawn(self.builder.program_path(), e);
        let read_err = |e| BuildError::io("read", &log_path, e);
        // stdout and stderr share the log file's descriptor, so the log keeps the builder's
        // lines in the order it wrote them (two pipes read by two threads would not).
        let mut tail = Tail::open(&log_path).map_err(read_err)?;
        let stdout = log.try_clone().map_err(io_err)?;
        let stderr = log.try_clone().map_err(io_err)?;
        let mut child = self
            .builder
            .command(image, &mounts)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(spawn_err)?;
        let mut scan = Scan::default();
        let status = loop {
            let exited = child.try_wait().map_err(spawn_err)?;
            for line in tail.lines(exited.is_some()).map_err(read_err)? {
                scan.feed(line, index, image, on_event);
            }
            if let Some(status) = exited {
                break status;
            }
            std::thread::sleep(POLL);
        };
        let Scan {
            steps,
            step_output,
            builder_error,
        } = scan;
        let elapsed = start.elapsed();
        if !status.success() {
            let _ = writeln!(log, "# failed after {}: {status}", format_elapsed(elapsed));
            let step = steps.last().map(|r| r.step.clone());
            let status_text = match (&step, builder_error) {
                // buildah: `Error: building at STEP "RUN ...": exit status 1`.
                (Some(_), Some(e)) => e
                    .rsplit_once("\": ")
                    .map(|(_, tail)| tail.to_string())
                    .unwrap_or(e),
                (None, Some(e)) => e,
                (_, None) => status.to_string(),
            };
            return Err(BuildError::step_failed(
                &image.name,
                &image.reference,
                step,
                status_text,
                step_output.into_iter().collect(),
                &log_path,
            ));
        }
        writeln!(log, "# built in {}", format_elapsed(elapsed)).map_err(io_err)?;
        let built = Built {
            name: image.name.clone(),
            reference: image.reference.clone(),
            log: log_path.clone(),
            elapsed,
            steps,
        };
        on_event(Event::Finished {
            index,
            built: &built,
        });
        Ok(built)
    }
}

/// How often a running build's log is read for progress.
const POLL: Duration = Duration::from_millis(100);

/// What the builder's lines said so far: its steps, the current step's own output, its error.
#[derive(Default)]
struct Scan {
    steps: Vec<StepRecord>,
    step_output: VecDeque<String>,
    builder_error: Option<String>,
}

impl Scan {
    fn feed(
        &mut self,
        line: String,
        index: usize,
        image: &ImageBuild,
        on_event: &mut dyn FnMut(Event<'_>),
    ) {
        if let Some(step) = Step::parse(&line) {
            on_event(Event::Step {
                index,
                image,
                step: &step,
            });
            self.steps.push(StepRecord {
                step,
                cached: false,
            });
            self.step_output.clear();
        } else if is_cache_hit(&line) {
            if let Some(last) = self.steps.last_mut()
                && !last.cached
            {
                last.cached = true;
                on_event(Event::Cached { index, image });
            }
        } else if line.starts_with("Error: ") || line.starts_with("ERROR: failed to solve") {
            self.builder_error = Some(line.trim().to_string());
        } else if !is_builder_noise(&line) {
            if self.step_output.len() == QUOTED_LINES {
                self.step_output.pop_front();
            }
            self.step_output.push_back(line);
        }
    }
}

/// Reads the lines appended to a file since it was opened.
struct Tail {
    file: File,
    pending: Vec<u8>,
}

impl Tail {
    fn open(path: &Path) -> std::io::Result<Tail> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Tail {
            file,
            pending: Vec::new(),
        })
    }

    /// The complete lines appended since the last call (lossily decoded, without their end of
    /// line); with `last`, the unterminated rest too.
    fn lines(&mut self, last: bool) -> std::io::Result<Vec<String>> {
        self.file.read_to_end(&mut self.pending)?;
        let mut lines = Vec::new();
        while let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
            let rest = self.pending.split_off(at + 1);
            lines.push(decode(&self.pending));
            self.pending = rest;
        }
        if last && !self.pending.is_empty() {
            lines.push(decode(&std::mem::take(&mut self.pending)));
        }
        Ok(lines)
    }
}

/// A line of output as text: lossy UTF-8, no end of line, and of a line redrawn with carriage
/// returns (a terminal progress bar) only what was drawn last.
fn decode(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r']);
    text.rsplit('\r').next().unwrap_or(text).to_string()
}

/// A duration for people: `850ms`, `42.1s`, `3m12s`, `1h04m`.
///
/// ```
/// use std::time::Duration;
/// use runtime_kit::build::format_elapsed;
/// assert_eq!(format_elapsed(Duration::from_millis(850)), "850ms");
/// assert_eq!(format_elapsed(Duration::from_millis(42_140)), "42.1s");
/// assert_eq!(format_elapsed(Duration::from_secs(192)), "3m12s");
/// assert_eq!(format_elapsed(Duration::from_secs(3840)), "1h04m");
/// ```
pub fn format_elapsed(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}
