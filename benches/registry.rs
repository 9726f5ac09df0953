//! Benchmark: `runtime-kit registry verify` over 500 tags of the shipped matrix on a loopback
//! registry, against a `skopeo inspect` loop over the same tags. Prints both times and the ratio.
//!
//! `cargo bench --bench registry` (or `scripts/bench-registry.sh`). Needs `docker-registry` and
//! `skopeo` (Debian packages).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/support/registry.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use runtime_kit::matrix::Matrix;
use runtime_kit::tags::TagPlan;

const TARGET: usize = 500;
const RUNS: usize = 3;

fn main() {
    let matrix = Matrix::load(common::shipped_matrix()).unwrap();
    let plan = TagPlan::new(&matrix).unwrap();
    // The oldest releases, until their tags (exact and the aliases that point at them) reach 500.
    let mut versions = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for r in plan.releases() {
        if tags.len() >= TARGET {
            break;
        }
        versions.push(r.version.to_string());
        tags.extend(r.tags.iter().map(ToString::to_string));
        tags.extend(r.aliases.iter().map(|a| a.tag.to_string()));
    }
    let scope = plan
        .only(
            &versions
                .iter()
                .map(|v| v.parse().unwrap())
                .collect::<Vec<_>>(),
        )
        .unwrap();

    let registry = support::Registry::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pusher = registry.pusher();
        let images = scope
            .exact_tags()
            .map(|(r, t)| {
                let mut l = support::labels(&r.version.to_string(), &r.airflow, t.variant.base);
                l.insert(
                    "org.opencontainers.image.title".into(),
                    format!("Runtime {t}"),
                );
                (t.to_string(), l)
            })
            .collect();
        pusher.push_all("runtime", images).await;
        for a in scope.aliases() {
            pusher
                .alias("runtime", a.tag.as_str(), &a.target.to_string())
                .await;
        }
    });
    let repo = registry.repo();
    println!(
        "{} tags ({} releases, {} exact, {} floating) on {repo}",
        tags.len(),
        versions.len(),
        scope.exact_tags().count(),
        scope.aliases().len()
    );

    let mut args = vec![
        "registry".to_string(),
        "verify".into(),
        "--repo".into(),
        repo.clone(),
    ];
    args.extend(versions.iter().cloned());
    let ours = best_of(RUNS, || {
        let out = Command::new(env!("CARGO_BIN_EXE_runtime-kit"))
            .args(&args)
            .current_dir(common::root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "verify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
    println!(
        "runtime-kit registry verify: {:.3} s (best of {RUNS}; one process, 16 requests in flight)",
        ours.as_secs_f64()
    );

    let skopeo = best_of(1, || {
        for tag in &tags {
            let out = Command::new("skopeo")
                .args(["inspect", "--no-tags", "--tls-verify=false"])
                .arg(format!("docker://{repo}:{tag}"))
                .output()
                .expect("skopeo runs (apt-get install -y skopeo)");
            assert!(out.status.success(), "skopeo inspect {tag}");
        }
    });
    println!(
        "skopeo inspect loop:         {:.3} s ({:.1} ms a tag)",
        skopeo.as_secs_f64(),
        skopeo.as_secs_f64() * 1000.0 / tags.len() as f64
    );
    println!(
        "ratio: {:.1}x faster (target: at least 10x)",
        skopeo.as_secs_f64() / ours.as_secs_f64()
    );
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}
