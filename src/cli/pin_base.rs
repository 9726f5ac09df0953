//! `runtime-kit pin-base`.

use std::io::Write;

use runtime_kit::matrix::edit::Saved;
use runtime_kit::registry::pin;

use super::registry::{ConnectArgs, env, runtime};
use super::table::Table;
use super::{Format, MatrixArg, Outcome, failed, ok, print_json};

/// Resolve the base images' tags to digests and pin them in [base-images] of the matrix.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    matrix: MatrixArg,
    /// Only these images (default: every `python:X.Y-slim-<debian>` the releases are built on).
    #[arg(value_name = "IMAGE")]
    images: Vec<String>,
    /// Resolve through this registry (HOST[:PORT]) instead of each image's own, keeping the
    /// image's path (`library/python`), as a registry mirror does.
    #[arg(long, value_name = "HOST")]
    mirror: Option<String>,
    /// Write nothing; exit 1 when a pinned digest is missing or differs from the registry.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let matrix = args.matrix.load()?;
    let images = if args.images.is_empty() {
        pin::base_images(&matrix)
    } else {
        args.images.clone()
    };
    let options = args.connect.options()?;
    let pins = runtime()?.block_on(pin::resolve(
        &matrix,
        &images,
        args.mirror.as_deref(),
        &options,
        env,
    ))?;
    let stale = pins.iter().filter(|p| !p.is_current()).count();
    let saved = if args.check {
        None
    } else {
        Some(pin::write(matrix.path(), &pins)?.1)
    };
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "file": matrix.path(),
            "check": args.check,
            "written": saved == Some(Saved::Written),
            "images": pins,
        }))?,
        Format::Table => {
            let mut table = Table::new(["IMAGE", "DIGEST", "STATUS"]);
            for p in &pins {
                let status = match (&p.pinned, p.is_current(), args.check) {
                    (_, true, _) => "pinned",
                    (None, false, true) => "not pinned",
                    (Some(_), false, true) => "stale",
                    (None, false, false) => "added",
                    (Some(_), false, false) => "updated",
                };
                table.row([p.image.clone(), p.digest.to_string(), status.to_string()]);
            }
            table.print()?;
            let file = matrix.path().display();
            let mut out = std::io::stdout().lock();
            match saved {
                Some(Saved::Written) => writeln!(out, "{file}: pinned {stale} base images")?,
                Some(Saved::Unchanged) => writeln!(out, "{file}: every base image already pinned")?,
                None if stale == 0 => writeln!(out, "{file}: every base image pinned")?,
                None => writeln!(
                    out,
                    "{file}: {stale} base images not pinned to their current digest; run pin-base"
                )?,
            }
        }
    }
    if args.check && stale > 0 {
        failed()
    } else {
        ok()
    }
}
