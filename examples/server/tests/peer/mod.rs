//! The real Prometheus beside kagari on the same backfilled data: the shared kit
//! (`gen-openmetrics`, `promtool`, `peers/run`), a data directory made by promtool, and both
//! servers started on copies of it.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::Server;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    kagari_testkit::workspace_root()
}

/// The shared kit if `peers/run` and `bench/gen-openmetrics` are in it.
pub(crate) fn shared() -> Option<PathBuf> {
    let dir = kagari_testkit::shared_dir();
    let complete =
        kagari_testkit::peers_run().is_some() && kagari_testkit::gen_openmetrics_path().exists();
    complete.then_some(dir)
}

/// The kit if it and the peers are installed; otherwise a loud SKIP (`None`), or a panic
/// under `KAGARI_REQUIRE_PEERS=true`.
pub(crate) fn kit_or_skip(test: &str) -> Option<PathBuf> {
    let found = shared().filter(|_| {
        Path::new("/usr/bin/prometheus").exists() && Path::new("/usr/bin/promtool").exists()
    });
    let have = kagari_testkit::available(
        found.is_some(),
        test,
        "the shared kit or the prometheus/promtool peer is not installed",
    );
    found.filter(|_| have)
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

/// Generates `gen-openmetrics --series N --hours H` (the kit's generator) and backfills it
/// with promtool into `dir/blocks`; returns that directory.
pub(crate) fn backfill(dir: &Path, series: u32, hours: u32) -> PathBuf {
    let om = dir.join("data.om");
    let (series, hours) = (series.to_string(), hours.to_string());
    let args: [&OsStr; 6] = [
        "--series".as_ref(),
        series.as_ref(),
        "--hours".as_ref(),
        hours.as_ref(),
        "--out".as_ref(),
        om.as_os_str(),
    ];
    let out = kagari_testkit::gen_openmetrics(args).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "gen-openmetrics failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blocks = dir.join("blocks");
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&blocks));
    blocks
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    kagari_testkit::copy_dir(from, to)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}

/// A running Prometheus peer, stopped on drop.
pub(crate) struct Prometheus {
    peer: kagari_testkit::Peer,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Prometheus {
    /// Starts Prometheus on `data` (no scrape jobs, retention 100y, so backfilled data stays).
    pub(crate) fn start(data: &Path, extra: &[&str]) -> Prometheus {
        let mut args = vec![
            OsString::from("--data"),
            data.into(),
            "--storage.tsdb.retention.time=100y".into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        let peer = kagari_testkit::Peer::start("prometheus", args)
            .unwrap_or_else(|e| panic!("could not start the Prometheus peer: {e}"));
        Prometheus {
            port: peer.port(),
            peer,
        }
    }

    /// Its base URL.
    pub(crate) fn url(&self) -> String {
        self.peer.url()
    }

    /// The PID (for RSS readings).
    pub(crate) fn pid(&self) -> String {
        self.peer.pid().map(|p| p.to_string()).unwrap_or_default()
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
