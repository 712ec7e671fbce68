//! Helpers shared by the WAL interop and fixture tests: decoding a whole WAL with sanity
//! checks, and starting real Prometheus peers.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kagari_model::Labels;
use kagari_tsdb::record::{self, Record, RefSample, RefSeries};
use kagari_tsdb::wlog::WalReader;

pub(crate) const PROMETHEUS: &str = "/usr/bin/prometheus";

/// The peers' `run` script: `$KAGARI_SHARED/peers/run`, else `shared/` beside the workspace
/// (as `scripts/test-all` assumes), else `/work/shared`.
pub(crate) fn run_script() -> PathBuf {
    let candidates = [
        std::env::var_os("KAGARI_SHARED").map(|s| PathBuf::from(s).join("peers/run")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/run")),
        Some(PathBuf::from("/work/shared/peers/run")),
    ];
    let found = candidates.iter().flatten().find(|p| p.exists()).cloned();
    found.unwrap_or_else(|| PathBuf::from("/work/shared/peers/run"))
}

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
    let ok = run.exists() && Path::new(PROMETHEUS).exists();
    if !ok {
        if std::env::var("KAGARI_REQUIRE_PEERS").as_deref() == Ok("true") {
            panic!(
                "{test}: peers required (KAGARI_REQUIRE_PEERS=true) but {} or {PROMETHEUS} is missing",
                run.display()
            );
        }
        eprintln!(
            "\n!!!!!!!! SKIP {test}: real Prometheus not available ({}, {PROMETHEUS}); NOT a pass !!!!!!!!\n",
            run.display()
        );
    }
    ok
}

pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A Prometheus started with `run`; stopped (SIGTERM, then SIGKILL) on drop.
pub(crate) struct Peer {
    pub(crate) pid: Option<u32>,
    pub(crate) port: u16,
}

impl Peer {
    pub(crate) fn start(data: &Path, config: Option<&Path>, extra: &[&str]) -> Peer {
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(run_script());
            cmd.arg("prometheus")
                .arg("--port")
                .arg(port.to_string())
                .arg("--data")
                .arg(data);
            if let Some(c) = config {
                cmd.arg("--config").arg(c);
            }
            cmd.args(extra);
            let out = cmd.output().expect("spawn run");
            if out.status.success() {
                let pid = String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("pid");
                return Peer {
                    pid: Some(pid),
                    port,
                };
            }
            last_err = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("could not start prometheus: {last_err}");
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(pid) = self.pid.take() {
            let st = Command::new("kill")
                .arg("-9")
                .arg(pid.to_string())
                .status()
                .expect("kill");
            assert!(st.success());
            // Wait until the process is gone (or a zombie) so the WAL is no longer written.
            for _ in 0..100 {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
                if stat.is_empty() || state == Some('Z') {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub(crate) fn get(&self, path_and_query: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            s,
            "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        resp.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new(run_script())
                .arg("stop")
                .arg(pid.to_string())
                .status();
        }
    }
}
