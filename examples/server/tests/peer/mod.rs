//! The real Prometheus beside kagari on the same backfilled data: the shared kit
//! (`gen-openmetrics`, `promtool`, `peers/run`), a data directory made by promtool, and both
//! servers started on copies of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{self, Server};

const ROOT_FROM_CRATE: &str = "../..";

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT_FROM_CRATE)
}

/// The shared kit: `$KAGARI_SHARED` (relative to the workspace root), then `../shared` beside
/// the checkout, then `/work/shared`.
pub(crate) fn shared() -> Option<PathBuf> {
    let root = root();
    let mut candidates = Vec::new();
    if let Ok(s) = std::env::var("KAGARI_SHARED") {
        candidates.push(root.join(s));
    }
    candidates.push(root.join("../shared"));
    candidates.push(PathBuf::from("/work/shared"));
    candidates
        .into_iter()
        .find(|d| d.join("peers/run").exists() && d.join("bench/gen-openmetrics").exists())
}

/// The kit if it and the peers are installed; otherwise a loud SKIP (`None`), or a panic
/// under `KAGARI_REQUIRE_PEERS=true`.
pub(crate) fn kit_or_skip(test: &str) -> Option<PathBuf> {
    let found = shared().filter(|_| {
        Path::new("/usr/bin/prometheus").exists() && Path::new("/usr/bin/promtool").exists()
    });
    if found.is_none() {
        if std::env::var("KAGARI_REQUIRE_PEERS").as_deref() == Ok("true") {
            panic!(
                "KAGARI_REQUIRE_PEERS=true but the shared kit or prometheus/promtool is missing"
            );
        }
        eprintln!("\n*** SKIP {test}: shared kit or Prometheus peer not installed ***\n");
    }
    found
}

/// Runs a command, panicking with its stderr on failure.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generates `gen-openmetrics --series N --hours H` and backfills it with promtool into
/// `dir/blocks`; returns that directory.
pub(crate) fn backfill(kit: &Path, dir: &Path, series: u32, hours: u32) -> PathBuf {
    let om = dir.join("data.om");
    run(Command::new(kit.join("bench/gen-openmetrics"))
        .args([
            "--series",
            &series.to_string(),
            "--hours",
            &hours.to_string(),
        ])
        .arg("--out")
        .arg(&om));
    let blocks = dir.join("blocks");
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&blocks));
    blocks
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// A running Prometheus peer, stopped by PID on drop.
pub(crate) struct Prometheus {
    run: PathBuf,
    pid: String,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new(&self.run).args(["stop", &self.pid]).status();
    }
}

impl Prometheus {
    /// Starts Prometheus on `data` (no scrape jobs, retention 100y, so backfilled data stays).
    pub(crate) fn start(kit: &Path, data: &Path, extra: &[&str]) -> Prometheus {
        let run = kit.join("peers/run");
        for _ in 0..3 {
            let port = common::free_port();
            let out = Command::new(&run)
                .args(["prometheus", "--port", &port.to_string()])
                .arg("--data")
                .arg(data)
                .arg("--storage.tsdb.retention.time=100y")
                .args(extra)
                .output()
                .unwrap();
            if out.status.success() {
                let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
                return Prometheus { run, pid, port };
            }
            eprintln!(
                "peer start failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!("could not start the Prometheus peer");
    }

    /// Its base URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The PID (for RSS readings).
    pub(crate) fn pid(&self) -> &str {
        &self.pid
    }
}

/// Starts kagari on a copy of `blocks` with no scrape jobs and retention 100y.
pub(crate) fn start_kagari(blocks: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(blocks, &dir.path().join("data"));
    Server::start_custom(
        dir,
        |_| "global:\n  scrape_interval: 1m\nscrape_configs: []\n".to_string(),
        &["--storage.tsdb.retention.time=100y"],
    )
}

/// GET → (status, JSON).
pub(crate) fn get_json(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    (status, v)
}

/// The queries of `testdata/bench/queries.txt` (one per line, `#` comments).
pub(crate) fn bench_queries() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("testdata/bench/queries.txt")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}
