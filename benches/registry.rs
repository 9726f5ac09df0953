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

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this in test mode, where a
    // small smoke run checks the benchmark still works without taking CI's time.
    let full = std::env::args().any(|a| a == "--bench");
    let (target, runs) = if full { (500, 3) } else { (20, 1) };
    let matrix = Matrix::load(common::shipped_matrix()).unwrap();
    let plan = TagPlan::new(&matrix).unwrap();
    // The oldest releases, until their tags (exact and the aliases that point at them) reach 500.
    let mut versions = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for r in plan.releases() {
        if tags.len() >= target {
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
                let airflow = r.airflow.as_deref().unwrap_or("unknown");
                let mut l = support::labels(&r.version.to_string(), airflow, t.variant.base);
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
    // The machine's load says how far the registry (which both sides share) is slowed down.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average {} on {} cores",
        load.split(' ').take(3).collect::<Vec<_>>().join(" "),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
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
    let ours = best_of(runs, || {
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
        "runtime-kit registry verify: {:.3} s (best of {runs}; one process, 16 requests in flight)",
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
    let ratio = skopeo.as_secs_f64() / ours.as_secs_f64();
    if full {
        println!("ratio: {ratio:.1}x faster (target: at least 10x)");
    } else {
        println!("ratio: {ratio:.1}x (smoke run in a debug build; `cargo bench` for the figure)");
    }
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
