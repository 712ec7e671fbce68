//! Helpers shared by the WAL interop and fixture tests: decoding a whole WAL with sanity
//! checks, and starting real Prometheus peers.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use kagari_model::Labels;
use kagari_tsdb::record::{self, Record, RefSample, RefSeries};
use kagari_tsdb::wlog::WalReader;

pub(crate) use kagari_testkit::{free_port, run_script};

pub(crate) const PROMETHEUS: &str = "/usr/bin/prometheus";

/// What a WAL decoded to, with the sanity checks every Prometheus WAL must pass.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) series: HashMap<u64, Labels>,
    pub(crate) samples: Vec<RefSample>,
    pub(crate) records: usize,
    pub(crate) other: usize,
}

pub(crate) fn decode_wal(dir: &Path) -> Decoded {
    // Newest checkpoint (if any), then the segments after it: what a replay reads.
    let mut r = WalReader::open_replay(dir).expect("open WAL");
    let mut d = Decoded::default();
    while let Some(rec) = r.next_record().expect("read record") {
        d.records += 1;
        match record::decode(rec).expect("decode record") {
            Record::Series(s) => {
                for RefSeries { series_ref, labels } in s {
                    d.series.insert(series_ref, labels);
                }
            }
            Record::Samples(s) => {
                for smp in &s {
                    assert!(
                        d.series.contains_key(&smp.series_ref),
                        "sample for ref {} before its series record",
                        smp.series_ref
                    );
                }
                d.samples.extend(s);
            }
            _ => d.other += 1,
        }
    }
    d
}

/// Checks a WAL of a Prometheus scraping itself: `up` exists, timestamps increase per
/// series, values are plausible. Returns the number of `up` samples.
pub(crate) fn check_self_scrape(d: &Decoded) -> usize {
    assert!(d.series.len() > 50, "only {} series", d.series.len());
    assert!(!d.samples.is_empty(), "no samples");
    let up: Vec<u64> = d
        .series
        .iter()
        .filter(|(_, l)| l.metric_name() == Some("up"))
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(up.len(), 1, "exactly one `up` series");
    let up_ref = up[0];
    let up_labels = &d.series[&up_ref];
    assert!(
        up_labels.get("job").is_some() && up_labels.get("instance").is_some(),
        "{up_labels}"
    );

    let mut last_t: HashMap<u64, i64> = HashMap::new();
    for s in &d.samples {
        if let Some(prev) = last_t.insert(s.series_ref, s.t) {
            assert!(
                s.t > prev,
                "timestamps of ref {} do not increase: {prev} then {}",
                s.series_ref,
                s.t
            );
        }
    }
    // Plausible timestamps: after 2020-01-01, and all within one hour of each other (the runs
    // behind these WALs are minutes long). Not compared with the clock, so fixtures keep passing.
    let min_t = d.samples.iter().map(|s| s.t).min().unwrap_or(0);
    let max_t = d.samples.iter().map(|s| s.t).max().unwrap_or(0);
    assert!(min_t > 1_577_836_800_000, "implausible timestamp {min_t}");
    assert!(
        max_t - min_t < 3_600_000,
        "timestamps span {min_t}..{max_t}"
    );
    let up_samples: Vec<f64> = d
        .samples
        .iter()
        .filter(|s| s.series_ref == up_ref)
        .map(|s| s.v)
        .collect();
    assert!(
        up_samples.iter().all(|v| *v == 1.0),
        "up values {up_samples:?}"
    );
    let names: HashSet<&str> = d.series.values().filter_map(|l| l.metric_name()).collect();
    assert!(
        names.contains("prometheus_build_info"),
        "missing prometheus_build_info"
    );
    up_samples.len()
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether the peers are installed; prints SKIP (or panics when they are required).
pub(crate) fn peers_available(test: &str) -> bool {
    let run = run_script();
    kagari_testkit::available(
        run.exists() && Path::new(PROMETHEUS).exists(),
        test,
        &format!(
            "real Prometheus not available ({}, {PROMETHEUS})",
            run.display()
        ),
    )
}

/// A Prometheus started with `run` (through `kagari-testkit`); stopped on drop. The fields are
/// public so a test can adopt a PID it started by hand.
pub(crate) struct Peer {
    pub(crate) pid: Option<u32>,
    pub(crate) port: u16,
}

impl Peer {
    pub(crate) fn start(data: &Path, config: Option<&Path>, extra: &[&str]) -> Peer {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--data".as_ref(), data.as_os_str()];
        if let Some(c) = config {
            args.extend(["--config".as_ref(), c.as_os_str()]);
        }
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let peer = kagari_testkit::Peer::start("prometheus", args)
            .unwrap_or_else(|e| panic!("could not start prometheus: {e}"));
        let port = peer.port();
        Peer {
            pid: peer.into_pid(),
            port,
        }
    }

    /// SIGKILL, then wait until the process is gone (or a zombie) so the WAL is no longer
    /// written.
    pub(crate) fn kill9(&mut self) {
        if let Some(pid) = self.pid.take() {
            assert!(kagari_testkit::kill9(pid), "kill -9 {pid}");
        }
    }

    pub(crate) fn get(&self, path_and_query: &str) -> String {
        let url = format!("http://127.0.0.1:{}{path_and_query}", self.port);
        kagari_testkit::http_get(&url)
            .unwrap_or_else(|e| panic!("{e}"))
            .1
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            kagari_testkit::stop_pid(pid);
        }
    }
}
