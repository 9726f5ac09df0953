//! `registry verify`, `registry promote` and `pin-base` against a real registry: Debian's
//! `docker-registry` on 127.0.0.1, started and stopped by each test, with a fault proxy for HTTP
//! 500s and slow answers, and htpasswd auth over TLS for credentials.

mod common;
#[path = "support/registry.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use runtime_kit::matrix::Matrix;
use runtime_kit::registry::verify;
use runtime_kit::registry::{
    ClientOptions, Credentials, ErrorKind, NoProgress, Progress, RegistryClient, RegistryError,
    Transport, promote,
};
use runtime_kit::tags::TagPlan;
use support::{
    Fault, FaultProxy, PASSWORD, Pusher, Registry, Setup, USER, labels, run_env, wait_down,
};

/// Two series; a yanked release; python and slim variants: 16 exact tags, 22 floating tags.
const MATRIX: &str = r#"# Registry test matrix.
schema = 1

[defaults]
debian = "bullseye"
repository = "registry.invalid/runtime"

[series.5]
channel = "stable"
python = "3.9"

[series.6]
channel = "stable"
python = "3.11"

[[release]]
version = "5.0.0"
airflow = "2.3.0"
date = 2022-04-30
unknown = ["packages"]

[[release]]
version = "5.0.1"
airflow = "2.3.0"
date = 2022-05-10
unknown = ["packages"]

[[release]]
version = "5.1.0"
airflow = "2.3.1"
date = 2022-06-01
unknown = ["packages"]

[[release]]
version = "5.1.1"
airflow = "2.3.1"
date = 2022-06-10
unknown = ["packages"]
yanked = true
yanked-reason = "broken scheduler"

[[release]]
version = "6.0.0"
airflow = "2.4.0"
date = 2022-09-20
python-variants = ["3.10"]
slim = true

[release.packages]
"apache-airflow-providers-celery" = "3.0.0"

[release.slim-packages]
"apache-airflow-providers-celery" = "3.0.0"
"#;

const REPO_PATH: &str = "runtime";

struct Fixture {
    _dir: tempfile::TempDir,
    matrix_path: PathBuf,
    plan: TagPlan,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let matrix_path = dir.path().join("runtime-matrix.toml");
    std::fs::write(&matrix_path, MATRIX).unwrap();
    let matrix = Matrix::load(&matrix_path).unwrap();
    Fixture {
        plan: TagPlan::new(&matrix).unwrap(),
        _dir: dir,
        matrix_path,
    }
}

impl Fixture {
    fn matrix(&self) -> &str {
        self.matrix_path.to_str().unwrap()
    }

    /// Every exact tag with the labels the matrix says, except `skip`; `airflow_of` overrides
    /// the Airflow label of one tag.
    fn images(
        &self,
        skip: &[&str],
        wrong: Option<(&str, &str)>,
    ) -> Vec<(String, BTreeMap<String, String>)> {
        self.plan
            .exact_tags()
            .filter(|(_, t)| !skip.contains(&t.to_string().as_str()))
            .map(|(r, t)| {
                let name = t.to_string();
                let airflow = match wrong {
                    Some((tag, airflow)) if tag == name => airflow.to_string(),
                    _ => r
                        .airflow
                        .clone()
                        .expect("the test matrix records every Airflow version"),
                };
                let mut l = labels(&r.version.to_string(), &airflow, t.variant.base);
                // Distinct configs: Distribution 2.8 can lose a blob uploaded twice at once.
                l.insert(
                    "org.opencontainers.image.title".into(),
                    format!("Runtime {name}"),
                );
                (name, l)
            })
            .collect()
    }

    /// Pushes every exact tag and points every alias at its target.
    async fn push_all(&self, pusher: &Pusher) {
        pusher.push_all(REPO_PATH, self.images(&[], None)).await;
        for a in self.plan.aliases() {
            pusher
                .alias(REPO_PATH, a.tag.as_str(), &a.target.to_string())
                .await;
        }
    }
}

fn cli(args: &[&str]) -> common::Run {
    run_env(args, &[])
}

async fn client(host: &str, options: ClientOptions) -> RegistryClient {
    RegistryClient::connect(
        format!("{host}/{REPO_PATH}").parse().unwrap(),
        Credentials::anonymous(),
        options,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_present_and_correct() {
    let registry = Registry::start();
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let repo = registry.repo();

    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains(
            "5 releases, 16 exact tags and 22 floating tags checked (38 tags in the registry): all as planned"
        ),
        "{}",
        run.transcript()
    );

    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["findings"], serde_json::json!([]));
    assert_eq!(json["exactTags"], 16);
    assert_eq!(json["aliases"], 22);

    // One release only: its tags and the aliases that point at it.
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "5.0.1",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("1 release, 2 exact tags and 2 floating tags checked"),
        "{}",
        run.transcript()
    );

    // Nothing to promote.
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("all 22 floating tags are in place; nothing to do"),
        "{}",
        run.transcript()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tag_and_a_wrong_label() {
    let registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    pusher
        .push_all(
            REPO_PATH,
            f.images(&["5.0.1-base"], Some(("6.0.0-python-3.10-slim", "2.4.1"))),
        )
        .await;
    for a in f.plan.aliases() {
        if a.target.to_string() != "5.0.1-base" {
            pusher
                .alias(REPO_PATH, a.tag.as_str(), &a.target.to_string())
                .await;
        }
    }
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &registry.repo(),
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "error: missing: 5.0.1-base: not in the registry (an image of 5.0.1)",
            "error: label-mismatch: 6.0.0-python-3.10-slim: label io.astronomer.docker.airflow.version is \"2.4.1\", expected \"2.4.0\"",
            "error: alias-missing: 5.0-base: missing floating tag (should point at 5.0.1-base)",
        ],
        "{}",
        run.transcript()
    );
    assert!(
        run.stdout.contains(": 3 mismatches"),
        "{}",
        run.transcript()
    );

    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &registry.repo(),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(
        json["findings"][1],
        serde_json::json!({
            "kind": "label-mismatch",
            "tag": "6.0.0-python-3.10-slim",
            "label": "io.astronomer.docker.airflow.version",
            "expected": "2.4.0",
            "found": "2.4.1",
        })
    );

    // Promote refuses: a target is missing, and nothing is written.
    let before = pusher.snapshot(REPO_PATH).await;
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &registry.repo(),
        "--apply",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("are not in")
            && run.stderr.contains("5.0.1-base")
            && run.stderr.contains("Nothing was changed"),
        "{}",
        run.transcript()
    );
    assert_eq!(pusher.snapshot(REPO_PATH).await, before);
}

/// Promote never moves a floating tag onto an image that `verify` would flag for its labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_refuses_a_target_with_wrong_labels() {
    let registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    pusher
        .push_all(
            REPO_PATH,
            f.images(&[], Some(("6.0.0-python-3.10-slim", "2.4.1"))),
        )
        .await;
    let before = pusher.snapshot(REPO_PATH).await;
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &registry.repo(),
        "--apply",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("carry labels other than the matrix's")
            && run.stderr.contains("6.0.0-python-3.10-slim: label io.astronomer.docker.airflow.version is \"2.4.1\", expected \"2.4.0\"")
            && run.stderr.contains("Nothing was changed"),
        "{}",
        run.transcript()
    );
    assert_eq!(pusher.snapshot(REPO_PATH).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_floating_tag_then_promote_then_verify_clean() {
    let registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    pusher.push_all(REPO_PATH, f.images(&[], None)).await;
    for a in f.plan.aliases() {
        // `5` and `5-base` still point at 5.0.1 (as before 5.1.0 was promoted); the yanked
        // 5.1.1 was wrongly promoted to `5.1`; `6-slim` does not exist yet.
        let target = match a.tag.as_str() {
            "5" => "5.0.1".to_string(),
            "5-base" => "5.0.1-base".to_string(),
            "5.1" => "5.1.1".to_string(),
            "6-slim" => continue,
            _ => a.target.to_string(),
        };
        pusher.alias(REPO_PATH, a.tag.as_str(), &target).await;
    }
    let repo = registry.repo();
    let verify = || {
        cli(&[
            "registry",
            "verify",
            "--matrix",
            f.matrix(),
            "--repo",
            &repo,
        ])
    };
    let run = verify();
    assert_eq!(run.code, 1, "{}", run.transcript());
    let found: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(found.len(), 4, "{}", run.transcript());
    assert!(
        found[0].starts_with("error: alias-stale: 5: points at sha256:"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains(" (5.0.1), expected 5.1.0 (sha256:"),
        "{}",
        found[0]
    );
    // Major aliases come before minor ones.
    assert_eq!(
        found[2],
        "error: alias-missing: 6-slim: missing floating tag (should point at 6.0.0-slim)"
    );
    assert!(
        found[3].contains("5.1: points at") && found[3].contains("(5.1.1)"),
        "{}",
        found[3]
    );

    // Dry run: says what would move, writes nothing.
    let before = pusher.snapshot(REPO_PATH).await;
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("create 6-slim -> 6.0.0-slim (sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        lines[1].starts_with("move   5 -> 5.1.0 (sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "would create 1 and move 3 floating tags (18 already in place); dry run, pass --apply to write"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(pusher.snapshot(REPO_PATH).await, before);

    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("created 1 and moved 3 floating tags"),
        "{}",
        run.stdout
    );
    let run = verify();
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        pusher.digest(REPO_PATH, "5").await,
        pusher.digest(REPO_PATH, "5.1.0").await
    );

    // Idempotent.
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["moves"], serde_json::json!([]));
    assert_eq!(json["inPlace"], 22);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tags_are_reported() {
    let registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    f.push_all(&pusher).await;
    pusher.alias(REPO_PATH, "latest", "6.0.0").await;
    pusher.alias(REPO_PATH, "5.0.2-base", "5.0.1-base").await;
    let args = [
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &registry.repo(),
    ];
    let run = cli(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("warning: unknown-tag: 5.0.2-base: not in the matrix\nwarning: unknown-tag: latest: not in the matrix\n"),
        "{}",
        run.transcript()
    );
    assert!(
        run.stdout
            .contains("0 mismatches, 2 tags not in the matrix"),
        "{}",
        run.stdout
    );
    let run = cli(&[&args[..], &["--deny-unknown"]].concat());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout.contains("error: unknown-tag: latest"),
        "{}",
        run.stdout
    );
    // With versions given, only those are checked: unknown tags are not looked for.
    let run = cli(&[&args[..], &["6.0.0"]].concat());
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(!run.stdout.contains("unknown"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_lists_are_followed_page_by_page() {
    let registry = Registry::start();
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let options = ClientOptions {
        page_size: 5,
        ..ClientOptions::default()
    };
    // Distribution 2.8 answers every tag at once, more than asked for: one request.
    let proxy = FaultProxy::start(registry.addr()).await;
    let c = client(&proxy.host(), options.clone()).await;
    assert_eq!(c.tags().await.unwrap().len(), 38);
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|(_, p)| p.contains("/tags/list"))
            .count(),
        1
    );

    // A registry that caps pages below what is asked: still every tag.
    let proxy = FaultProxy::start(registry.addr()).await;
    proxy.paginate(4);
    let c = client(&proxy.host(), options.clone()).await;
    assert_eq!(c.tags().await.unwrap().len(), 38);

    // A registry that pages (as the distribution spec says): followed to the end.
    let proxy = FaultProxy::start(registry.addr()).await;
    proxy.paginate(usize::MAX);
    let c = client(&proxy.host(), options).await;
    let tags = c.tags().await.unwrap();
    assert_eq!(tags.len(), 38);
    assert_eq!(
        tags,
        f.plan
            .exact_tags()
            .map(|(_, t)| t.to_string())
            .chain(f.plan.aliases().iter().map(|a| a.tag.to_string()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let pages: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|(_, p)| p.contains("/tags/list"))
        .map(|(_, p)| p)
        .collect();
    // 38 tags in pages of 5: 8 pages, each after the last tag of the one before, and the
    // empty one past the end.
    assert_eq!(pages.len(), 9, "{pages:?}");
    assert!(pages[0].ends_with("?n=5"), "{pages:?}");
    assert!(pages[1].contains("&last="), "{pages:?}");
    let report = verify::verify(&c, &f.plan, &[], &NoProgress).await.unwrap();
    assert!(report.is_clean(true), "{:?}", report.findings);
    // One manifest or blob request per check, plus the one /v2/ probe: the client does not ask
    // /v2/ again before every request of an anonymous session on an open registry.
    let requests = proxy.requests();
    assert_eq!(
        requests.iter().filter(|(_, p)| p == "/v2/").count(),
        1,
        "{requests:?}"
    );
    assert_eq!(requests.len(), 1 + 9 + 9 + 16 * 2 + 22, "{requests:?}");
}

/// Counts progress steps, and runs `hook` once after `after` steps.
struct Hook<F: Fn() + Send + Sync> {
    steps: AtomicU64,
    after: u64,
    hook: Mutex<Option<F>>,
}

impl<F: Fn() + Send + Sync> Progress for Hook<F> {
    fn advance(&self, n: u64) {
        let done = self.steps.fetch_add(n, Ordering::SeqCst) + n;
        if done >= self.after
            && let Some(hook) = self.hook.lock().unwrap().take()
        {
            hook();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_stopped_mid_run() {
    let registry = Registry::start();
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let addr = registry.addr();
    let c = client(
        &registry.host(),
        ClientOptions {
            jobs: 2,
            retries: 1,
            timeout: Duration::from_secs(5),
            ..ClientOptions::default()
        },
    )
    .await;
    let pid = registry.pid().unwrap();
    let registry_cell = Mutex::new(Some(registry));
    let hook = Hook {
        steps: AtomicU64::new(0),
        after: 5,
        hook: Mutex::new(Some(|| {
            // Stop the registry by its process id after 5 of 38 checks.
            let mut r = registry_cell.lock().unwrap();
            r.as_mut().unwrap().stop();
            support::wait_down(addr);
        })),
    };
    let e = verify::verify(&c, &f.plan, &[], &hook).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot reach the registry 127.0.0.1:{} while ",
            addr.port()
        )),
        "{msg}"
    );
    assert!(hook.steps.load(Ordering::SeqCst) < 38, "pid {pid}");

    // The CLI says the same with exit code 2, and no panic.
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &format!("127.0.0.1:{}/runtime", addr.port()),
        "--retries",
        "0",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .starts_with("error: cannot reach the registry 127.0.0.1:"),
        "{}",
        run.transcript()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.transcript());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_interrupted_by_a_stopped_registry_is_finished_by_a_rerun() {
    let mut registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    pusher.push_all(REPO_PATH, f.images(&[], None)).await;
    // Every alias exists but points at 5.0.0: all 22 must move.
    for a in f.plan.aliases() {
        pusher.alias(REPO_PATH, a.tag.as_str(), "5.0.0").await;
    }
    let c = client(
        &registry.host(),
        ClientOptions {
            retries: 0,
            ..ClientOptions::default()
        },
    )
    .await;
    let promotion = promote::plan(&c, &f.plan, &NoProgress).await.unwrap();
    assert_eq!(promotion.moves.len(), 22);
    let addr = registry.addr();
    {
        let cell = Mutex::new(&mut registry);
        let hook = Hook {
            steps: AtomicU64::new(0),
            after: 3,
            hook: Mutex::new(Some(|| {
                cell.lock().unwrap().stop();
                support::wait_down(addr);
            })),
        };
        let e = promote::apply(&c, &promotion, &hook).await.unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("promotion stopped at "), "{msg}");
        assert!(msg.contains("cannot reach the registry"), "{msg}");
        // The registry is gone, so the three moved aliases cannot be put back: the error says
        // which, with the digest each had.
        assert!(msg.contains("could not be moved back:"), "{msg}");
        assert_eq!(msg.matches(" (now sha256:").count(), 3, "{msg}");
    }

    registry.restart();
    let repo = registry.repo();
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout
            .contains("created 0 and moved 19 floating tags (3 already in place)"),
        "{}",
        run.stdout
    );
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_500() {
    let registry = Registry::start();
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let proxy = FaultProxy::start(registry.addr()).await;
    let repo = format!("{}/runtime", proxy.host());
    let args = [
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
    ];

    // A one-off 500 is retried.
    proxy.inject(
        Some("GET"),
        "/manifests/6.0.0-slim-base",
        Fault::Status(500),
        Some(1),
    );
    let run = cli(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());

    // A persistent one ends the check with a clear error.
    proxy.inject(
        Some("GET"),
        "/manifests/6.0.0-slim-base",
        Fault::Status(500),
        None,
    );
    let run = cli(&args);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        format!(
            "error: the registry {} answered HTTP 500 while fetching the manifest of {repo}:6.0.0-slim-base: {{\"errors\":[{{\"code\":\"UNKNOWN\",\"message\":\"injected fault\"}}]}}\n",
            proxy.host()
        )
    );
    let retried = proxy
        .requests()
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with("/manifests/6.0.0-slim-base"))
        .count();
    // 2 for the first run (500, then success), 3 for the second (the default 2 retries).
    assert_eq!(retried, 5);
    proxy.clear();

    // A 500 on the tag list.
    proxy.inject(None, "/tags/list", Fault::Status(503), None);
    let run = cli(&[&args[..], &["--retries", "0"]].concat());
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("answered HTTP 503 while listing the tags of"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_leaves_nothing_half_promoted() {
    let registry = Registry::start();
    let f = fixture();
    let pusher = registry.pusher();
    pusher.push_all(REPO_PATH, f.images(&[], None)).await;
    // Every alias exists, pointing at 5.0.0 (so every one must move).
    for a in f.plan.aliases() {
        pusher.alias(REPO_PATH, a.tag.as_str(), "5.0.0").await;
    }
    let before = pusher.snapshot(REPO_PATH).await;
    let proxy = FaultProxy::start(registry.addr()).await;
    let repo = format!("{}/runtime", proxy.host());
    // Writes of 6.0-base (well into the list) fail every time.
    proxy.inject(Some("PUT"), "/manifests/6.0-base", Fault::Status(500), None);
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .starts_with("error: promotion stopped at 6.0-base: the registry"),
        "{}",
        run.transcript()
    );
    assert!(run.stderr.contains("answered HTTP 500"), "{}", run.stderr);
    assert!(
        run.stderr.contains("moved back to their previous images: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no floating tag is half-moved"),
        "{}",
        run.stderr
    );
    assert_eq!(
        pusher.snapshot(REPO_PATH).await,
        before,
        "every alias is back where it was"
    );

    proxy.clear();
    let run = cli(&[
        "registry",
        "promote",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--apply",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers() {
    let registry = Registry::start();
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let proxy = FaultProxy::start(registry.addr()).await;
    let repo = format!("{}/runtime", proxy.host());
    let args = [
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--timeout",
        "1",
        "--retries",
        "0",
    ];
    // Slow but in time.
    proxy.inject(
        None,
        "/manifests/5.1.0-base",
        Fault::Delay(Duration::from_millis(300)),
        None,
    );
    let run = cli(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // Too slow.
    proxy.clear();
    proxy.inject(
        None,
        "/manifests/5.1.0-base",
        Fault::Delay(Duration::from_secs(5)),
        None,
    );
    let started = std::time::Instant::now();
    let run = cli(&args);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        format!(
            "error: the registry {} did not answer within 1s while fetching the manifest of {repo}:5.1.0-base\n",
            proxy.host()
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // A connection dropped without an answer.
    proxy.clear();
    proxy.inject(None, "/manifests/5.1.0-base", Fault::Drop, None);
    let run = cli(&args);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot reach the registry {} while fetching the manifest of {repo}:5.1.0-base: ",
            proxy.host()
        )),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_against_htpasswd_over_tls() {
    let registry = Registry::start_with(Setup {
        auth: true,
        tls: true,
    });
    let f = fixture();
    f.push_all(&registry.pusher()).await;
    let repo = registry.repo();
    let ca = registry.ca_cert();
    let ca = ca.to_str().unwrap();
    let args = [
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &repo,
        "--ca-cert",
        ca,
    ];

    // Right credentials from the environment.
    let good = [
        ("RUNTIME_KIT_REGISTRY_USERNAME", USER),
        ("RUNTIME_KIT_REGISTRY_PASSWORD", PASSWORD),
    ];
    let run = run_env(&args, &good);
    assert_eq!(run.code, 0, "{}", run.transcript());

    // Wrong password: a clear refusal that names the user and where the credentials came from,
    // never the password.
    let wrong = [
        ("RUNTIME_KIT_REGISTRY_USERNAME", USER),
        ("RUNTIME_KIT_REGISTRY_PASSWORD", "wrong-password-x"),
    ];
    let run = run_env(&args, &wrong);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(
        run.stderr,
        format!(
            "error: the registry {} refused the credentials of \"alice\" from RUNTIME_KIT_REGISTRY_USERNAME/RUNTIME_KIT_REGISTRY_PASSWORD while listing the tags of {repo} (HTTP 401)\n",
            registry.host()
        )
    );
    assert!(!run.stderr.contains("wrong-password-x") && !run.stdout.contains("wrong-password-x"));

    // No credentials at all: says how to give some.
    let run = run_env(&args, &[]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("refused anonymous access"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("set RUNTIME_KIT_REGISTRY_USERNAME"),
        "{}",
        run.stderr
    );

    // Half the environment is an error before any request.
    let run = run_env(&args, &[("RUNTIME_KIT_REGISTRY_PASSWORD", "x-secret-y")]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("set both"), "{}", run.stderr);
    assert!(!run.stderr.contains("x-secret-y"));

    // Docker's config.json.
    let docker = tempfile::tempdir().unwrap();
    let encode = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let config = |password: &str| {
        serde_json::json!({"auths": {registry.host(): {"auth": encode(&format!("{USER}:{password}"))}}})
            .to_string()
    };
    std::fs::write(docker.path().join("config.json"), config(PASSWORD)).unwrap();
    let docker_env = [("DOCKER_CONFIG", docker.path().to_str().unwrap())];
    let run = run_env(&args, &docker_env);
    assert_eq!(run.code, 0, "{}", run.transcript());
    std::fs::write(docker.path().join("config.json"), config("nope-nope")).unwrap();
    let run = run_env(&args, &docker_env);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains(&format!(
            "refused the credentials of \"alice\" from {}",
            docker.path().join("config.json").display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("nope-nope"));

    // HTTPS by default: without the CA, the certificate is refused (no fallback to plain HTTP
    // on a registry that speaks TLS).
    let run = run_env(&args[..6], &good);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("TLS with the registry"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--ca-cert"), "{}", run.stderr);

    // The library reports the transport it chose, and Debug never shows the password.
    let c = RegistryClient::connect(
        repo.parse().unwrap(),
        Credentials::basic(USER, PASSWORD),
        ClientOptions {
            ca_certs: vec![std::fs::read(ca).unwrap()],
            ..ClientOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(c.transport(), Transport::Https);
    let debug = format!("{c:?}");
    assert!(
        !debug.contains(PASSWORD) && debug.contains("<redacted>"),
        "{debug}"
    );
    // A plain-HTTP registry on loopback is reached over HTTP.
    let plain = Registry::start();
    let c = client(&plain.host(), ClientOptions::default()).await;
    assert_eq!(c.transport(), Transport::Http);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_base_writes_digests_keeping_the_file() {
    let registry = Registry::start();
    let pusher = registry.pusher();
    let f = fixture();
    // The base images, as a mirror of Docker Hub holds them.
    let d39 = pusher
        .push(
            "library/python",
            "3.9-slim-bullseye",
            &labels("3.9", "-", true),
        )
        .await;
    let d310 = pusher
        .push(
            "library/python",
            "3.10-slim-bullseye",
            &labels("3.10", "-", true),
        )
        .await;
    let d311 = pusher
        .push(
            "library/python",
            "3.11-slim-bullseye",
            &labels("3.11", "-", true),
        )
        .await;
    let host = registry.host();
    let pin = |extra: &[&str]| {
        cli(&[
            &["pin-base", "--matrix", f.matrix(), "--mirror", &host][..],
            extra,
        ]
        .concat())
    };

    let run = pin(&["--check"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout.contains("3 base images not pinned"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&f.matrix_path).unwrap(), MATRIX);

    let run = pin(&[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(&f.matrix_path).unwrap();
    let expected_table = format!(
        "\n# Base images pinned by digest (written by `runtime-kit pin-base`).\n[base-images]\n\"python:3.9-slim-bullseye\" = \"{d39}\"\n\"python:3.10-slim-bullseye\" = \"{d310}\"\n\"python:3.11-slim-bullseye\" = \"{d311}\"\n"
    );
    // Inserted before the first release; every other byte is unchanged.
    assert_eq!(
        text,
        MATRIX.replacen(
            "\n[[release]]",
            &format!("{expected_table}\n[[release]]"),
            1
        )
    );
    let matrix = Matrix::load(&f.matrix_path).unwrap();
    let release = matrix.release(&"6.0.0".parse().unwrap()).unwrap();
    let ctx = runtime_kit::render::ImageContext::new(
        &matrix,
        release,
        runtime_kit::model::Variant {
            python: None,
            slim: false,
            base: true,
        },
    )
    .expect("6.0.0 has an Airflow version");
    assert_eq!(ctx.base_image, format!("python:3.11-slim-bullseye@{d311}"));

    let run = pin(&["--check"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let run = pin(&[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("every base image already pinned"),
        "{}",
        run.stdout
    );

    // The tag moves upstream: --check fails, a rerun updates that one line only.
    let new = pusher
        .push(
            "library/python",
            "3.9-slim-bullseye",
            &labels("3.9.18", "-", true),
        )
        .await;
    let run = pin(&["--check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let run = pin(&[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("python:3.9-slim-bullseye") && run.stdout.contains("updated"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&f.matrix_path).unwrap(),
        text.replace(&d39, &new)
    );

    // A base image the registry lacks: an error, and the file is untouched.
    let before = std::fs::read_to_string(&f.matrix_path).unwrap();
    let run = pin(&["python:3.8-slim-bullseye"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("base image python:3.8-slim-bullseye: ")
            && run.stderr.contains("does not exist; nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&f.matrix_path).unwrap(), before);
}

#[test]
fn registry_errors_before_any_request() {
    let f = fixture();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--repo", "runtime"],
            "invalid repository \"runtime\": it has no registry host",
        ),
        (&["--repo", "https://quay.io/x"], "URL scheme"),
        (&["--timeout", "0"], "--timeout must be a positive number"),
        (
            &["--ca-cert", "/nonexistent.pem", "--repo", "127.0.0.1:1/x"],
            "cannot read --ca-cert /nonexistent.pem",
        ),
        (
            &["--repo", "127.0.0.1:1/x", "--retries", "0"],
            "error: cannot reach the registry 127.0.0.1:1 while connecting",
        ),
        (
            &["9.9.9", "--repo", "127.0.0.1:1/x"],
            "9.9.9 is not a release in the matrix",
        ),
    ];
    for (extra, expected) in cases {
        let run = cli(&[&["registry", "verify", "--matrix", f.matrix()][..], extra].concat());
        assert_eq!(run.code, 2, "{extra:?}: {}", run.transcript());
        assert!(
            run.stderr.contains(expected),
            "{extra:?}: {}",
            run.transcript()
        );
    }
}

/// This machine's address on its network, the one a datagram to a TEST-NET host leaves from
/// (nothing is sent): a host that is not loopback, so plain HTTP is not allowed with it.
fn network_address() -> Option<std::net::IpAddr> {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.254:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// The error `RegistryClient::connect` ends with (it must fail).
async fn connect_error(repo: &str, options: ClientOptions) -> RegistryError {
    match RegistryClient::connect(repo.parse().unwrap(), Credentials::anonymous(), options).await {
        Ok(c) => panic!("{repo}: connected over {:?}", c.transport()),
        Err(e) => e,
    }
}

/// A host that answers plain HTTP where HTTPS is required (any host but loopback without
/// `--insecure`) is named as such, not as a corrupt TLS message.
#[test]
fn plain_http_where_https_is_required() {
    use std::io::{Read, Write};
    let Some(ip) = network_address() else {
        eprintln!("SKIPPED: this machine has no non-loopback address to serve plain HTTP on");
        return;
    };
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(8) {
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let f = fixture();
    let run = cli(&[
        "registry",
        "verify",
        "--matrix",
        f.matrix(),
        "--repo",
        &format!("{addr}/runtime"),
        "--retries",
        "0",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("answered in plain HTTP, not HTTPS")
            && run.stderr.contains("--insecure"),
        "{}",
        run.transcript()
    );
}

/// The real registry, plain HTTP, reached through the fault proxy on this machine's network
/// address (not loopback): the registry answers the TLS hello in HTTP (400), rustls reads that
/// as a record of no content type, and the advice is `--insecure`; with it, plain HTTP is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_registry_answering_the_tls_hello() {
    let Some(ip) = network_address() else {
        eprintln!("SKIPPED: this machine has no non-loopback address to serve plain HTTP on");
        return;
    };
    let registry = Registry::start();
    let proxy = FaultProxy::start_on(ip, registry.addr()).await;
    proxy.pass_through(true);
    let repo = format!("{}/{REPO_PATH}", proxy.host());
    let options = ClientOptions {
        retries: 0,
        ..ClientOptions::default()
    };
    let e = connect_error(&repo, options.clone()).await;
    assert_eq!(e.kind(), ErrorKind::PlainHttp, "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "the registry {} answered in plain HTTP, not HTTPS, while connecting; pass --insecure to use plain HTTP with it (credentials and images then cross the network unencrypted)",
            proxy.host()
        )
    );
    assert!(!e.is_transient());
    let c = RegistryClient::connect(
        repo.parse().unwrap(),
        Credentials::anonymous(),
        ClientOptions {
            insecure: true,
            ..options
        },
    )
    .await
    .unwrap();
    assert_eq!(c.transport(), Transport::Http);
}

/// TLS through the fault proxy, end to end with the real registry and its test CA: an
/// untrusted issuer is told to pass `--ca-cert`; a certificate for another host name is not
/// (the CA is already trusted, another one would not help); a proxy that hangs up on the TLS
/// hello is a connection closed, not a certificate problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_failures_by_type() {
    let registry = Registry::start_with(Setup {
        auth: false,
        tls: true,
    });
    let ca = std::fs::read(registry.ca_cert()).unwrap();
    let trusting = ClientOptions {
        ca_certs: vec![ca],
        retries: 0,
        ..ClientOptions::default()
    };
    let proxy = FaultProxy::start(registry.addr()).await;
    proxy.pass_through(true);
    let repo = format!("{}/{REPO_PATH}", proxy.host());

    // With the CA, TLS through the proxy works (the certificate names 127.0.0.1).
    let c = RegistryClient::connect(
        repo.parse().unwrap(),
        Credentials::anonymous(),
        trusting.clone(),
    )
    .await
    .unwrap();
    assert_eq!(c.transport(), Transport::Https);

    // Without it: an unknown issuer.
    let e = connect_error(
        &repo,
        ClientOptions {
            retries: 0,
            ..ClientOptions::default()
        },
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::UntrustedCertificate, "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "TLS with the registry {} failed while connecting: ",
            proxy.host()
        )) && text.ends_with(" (pass --ca-cert FILE to trust a private certificate authority)"),
        "{text}"
    );

    // The same registry and CA at another loopback address, which the certificate does not name.
    let other = FaultProxy::start_on([127, 0, 0, 2].into(), registry.addr()).await;
    other.pass_through(true);
    let e = connect_error(&format!("{}/{REPO_PATH}", other.host()), trusting.clone()).await;
    assert_eq!(e.kind(), ErrorKind::InvalidCertificate, "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "TLS with the registry {} failed while connecting: ",
            other.host()
        )) && text.contains("127.0.0.2")
            && !text.contains("--ca-cert"),
        "{text}"
    );

    // The proxy hangs up on the TLS hello; the TLS registry answers plain HTTP with a 400: the
    // connection closed during the handshake, which no certificate explains.
    proxy.pass_through(false);
    let e = connect_error(&repo, trusting).await;
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.is_transient());
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach the registry {} while connecting: ",
            proxy.host()
        )) && !text.contains("--ca-cert"),
        "{text}"
    );
}

/// Nothing listening is a connection refused; a host that takes the connection and never
/// answers is a timeout (the HTTPS attempt hung up on by the proxy, plain HTTP delayed past
/// the timeout), not the hung-up handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_silent_registries() {
    let mut registry = Registry::start();
    let options = ClientOptions {
        retries: 0,
        timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    };
    let proxy = FaultProxy::start(registry.addr()).await;
    let repo = format!("{}/{REPO_PATH}", proxy.host());
    proxy.inject(None, "/v2/", Fault::Delay(Duration::from_secs(5)), None);
    let started = std::time::Instant::now();
    let e = connect_error(&repo, options.clone()).await;
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_timeout() && e.is_transient());
    assert_eq!(
        e.to_string(),
        format!(
            "the registry {} did not answer within 1s while connecting",
            proxy.host()
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // The registry answers the TLS hello in plain HTTP, and then drops the plain-HTTP request:
    // on loopback, where plain HTTP is allowed anyway, that is a connection closed, not advice
    // to pass --insecure.
    proxy.clear();
    proxy.pass_through(true);
    proxy.inject(None, "/v2/", Fault::Drop, None);
    let e = connect_error(&repo, options.clone()).await;
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(!e.to_string().contains("--insecure"), "{e}");

    // Stopped: refused over HTTPS and plain HTTP.
    let addr = registry.addr();
    registry.stop();
    wait_down(addr);
    let e = connect_error(&registry.repo(), options).await;
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.is_transient());
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach the registry {} while connecting: ",
            registry.host()
        )) && text.contains("refused"),
        "{text}"
    );
}
