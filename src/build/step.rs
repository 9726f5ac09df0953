//! The builder's own progress lines: which Dockerfile step is running, and whether it came from
//! the layer cache.

use std::fmt;

/// A Dockerfile step as the builder announces it: `STEP 7/19: RUN apt-get update ...` (buildah),
/// `Step 7/19 : RUN ...` (docker's classic builder) or `#9 [7/19] RUN ...` (BuildKit, plain
/// progress).
///
/// ```
/// use runtime_kit::build::Step;
/// let step = Step::parse("STEP 7/19: RUN apt-get update").unwrap();
/// assert_eq!((step.number, step.total), (7, Some(19)));
/// assert_eq!(step.instruction, "RUN apt-get update");
/// assert_eq!(step.to_string(), "STEP 7/19: RUN apt-get update");
/// assert!(Step::parse("Get:1 http://deb.debian.org/debian bullseye InRelease").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based number of the step.
    pub number: u32,
    /// Number of steps, when the builder says.
    pub total: Option<u32>,
    /// The instruction, e.g. `RUN pip install ...` (an ONBUILD trigger shows as the instruction it
    /// runs).
    pub instruction: String,
}

impl Step {
    /// Recognises a step line of buildah, docker's classic builder or BuildKit.
    pub fn parse(line: &str) -> Option<Step> {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("STEP ") {
            // buildah: "STEP 7/19: RUN ..." (older releases: "STEP 7: RUN ...").
            let (counter, instruction) = rest.split_once(": ")?;
            return Step::from_counter(counter, instruction);
        }
        if let Some(rest) = line.strip_prefix("Step ") {
            // docker, classic builder: "Step 7/19 : RUN ...".
            let (counter, instruction) = rest.split_once(" : ")?;
            return Step::from_counter(counter, instruction);
        }
        if let Some(rest) = line.strip_prefix('#') {
            // BuildKit: "#9 [7/19] RUN ..." or "#9 [stage-0 7/19] RUN ...".
            let (id, rest) = rest.split_once(' ')?;
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let rest = rest.strip_prefix('[')?;
            let (bracket, instruction) = rest.split_once("] ")?;
            let counter = bracket.rsplit(' ').next()?;
            return Step::from_counter(counter, instruction);
        }
        None
    }

    fn from_counter(counter: &str, instruction: &str) -> Option<Step> {
        let (number, total) = match counter.split_once('/') {
            Some((n, t)) => (n.trim().parse().ok()?, Some(t.trim().parse().ok()?)),
            None => (counter.trim().parse().ok()?, None),
        };
        let instruction = instruction.trim();
        (!instruction.is_empty()).then(|| Step {
            number,
            total,
            instruction: instruction.to_string(),
        })
    }

    /// The instruction cut to `max` characters (with `…`), for one-line messages.
    pub fn short_instruction(&self, max: usize) -> String {
        let flat = self
            .instruction
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if flat.chars().count() <= max {
            flat
        } else {
            let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
            s.push('…');
            s
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.total {
            Some(t) => write!(f, "STEP {}/{t}: {}", self.number, self.instruction),
            None => write!(f, "STEP {}: {}", self.number, self.instruction),
        }
    }
}

/// Whether a builder line says the step before it was taken from the layer cache
/// (`--> Using cache <id>` in buildah, ` ---> Using cache` in docker, `#9 CACHED` in BuildKit).
pub fn is_cache_hit(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("--> Using cache")
        || line.starts_with("---> Using cache")
        || (line.starts_with('#') && line.ends_with(" CACHED"))
}

/// Whether a line is the builder's own report of a failure rather than output of the step
/// (`Error: building at STEP ...`, `subprocess exited with status 1`, log records).
pub(crate) fn is_builder_noise(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || line.starts_with("Error: building at STEP")
        || line.starts_with("error building at STEP")
        || line.starts_with("subprocess exited with status")
        || line.starts_with("time=\"")
        || line.starts_with("The command '")
        || line.starts_with("ERROR: failed to solve")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_builder_format() {
        let cases = [
            (
                "STEP 1/7: FROM ${BASE_IMAGE}",
                1,
                Some(7),
                "FROM ${BASE_IMAGE}",
            ),
            ("STEP 12: COPY . .", 12, None, "COPY . ."),
            (
                "Step 3/9 : RUN pip install x",
                3,
                Some(9),
                "RUN pip install x",
            ),
            (
                "#7 [2/5] RUN apt-get update",
                2,
                Some(5),
                "RUN apt-get update",
            ),
            (
                "#12 [stage-0 4/6] COPY pip.conf /etc/pip.conf",
                4,
                Some(6),
                "COPY pip.conf /etc/pip.conf",
            ),
        ];
        for (line, n, t, instruction) in cases {
            let step = Step::parse(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(step.number, n, "{line}");
            assert_eq!(step.total, t, "{line}");
            assert_eq!(step.instruction, instruction, "{line}");
        }
    }

    #[test]
    fn ignores_other_lines() {
        for line in [
            "",
            "STEP",
            "STEP x/7: RUN",
            "STEP 1/7:",
            "#7 DONE 0.4s",
            "#5 [internal] load build definition from Dockerfile",
            "#abc [1/2] RUN x",
            "Step right up : now",
            "  STEP 1/2: RUN indented output of a step is not a step",
        ] {
            assert!(Step::parse(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn cache_hits() {
        assert!(is_cache_hit(
            "--> Using cache 9434e0bca16cded5e035b6584d05269470405eea"
        ));
        assert!(is_cache_hit(" ---> Using cache"));
        assert!(is_cache_hit("#9 CACHED"));
        assert!(!is_cache_hit("--> 9434e0bca16"));
    }

    #[test]
    fn short_instruction_flattens_and_cuts() {
        let step =
            Step::parse("STEP 3/4: RUN apt-get update     && apt-get install -y tini").unwrap();
        assert_eq!(
            step.short_instruction(200),
            "RUN apt-get update && apt-get install -y tini"
        );
        assert_eq!(step.short_instruction(10), "RUN apt-g…");
    }
}
