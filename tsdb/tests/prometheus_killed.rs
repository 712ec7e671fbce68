//! Theirs → ours, live: real Prometheus 2.42 scrapes a loopback exporter (100 ms interval) on
//! a data directory holding promtool-backfilled blocks; it is stopped once (so its head chunks
//! reach `chunks_head/`), started again, and SIGKILLed. Then a copy of the directory opened by
//! kagari-tsdb (`chunks_head/` first, then the WAL) dumps exactly what `promtool tsdb dump`
//! prints for another copy, sorted.
//!
//! Needs `prometheus`, `promtool` and `peers/run`; when one is missing the test prints a SKIP
//! line unless `KAGARI_REQUIRE_PEERS=true`, in which case it fails. Runs for about a minute.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kagari_model::{MatchType, Matcher};
use kagari_testkit::{copy_dir_except, Peer};
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{go_g, go_labels, peer_available, run};

const SERIES: usize = 50;
/// Files of a running Prometheus that a copy of its data directory leaves out.
const LIVE_FILES: &[&str] = &["lock", "queries.active", "prometheus.log"];

/// Serves `SERIES` gauges whose values change every 100 ms until `stop` is set.
fn exporter(stop: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Ok((mut c, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let _ = c.set_nonblocking(false);
            let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let tick = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                / 100;
            let mut body = String::new();
            for i in 0..SERIES {
                let v = (tick % 97) as f64 * (i + 1) as f64 / 4.0;
                body.push_str(&format!("kg_live{{i=\"{i}\"}} {v}\n"));
            }
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, h)
}

#[test]
fn a_killed_prometheus_directory_dumps_like_promtool() {
    let test = "a_killed_prometheus_directory_dumps_like_promtool";
    if !peer_available(test, "promtool", "--version")
        || !peer_available(test, "prometheus", "--version")
    {
        return;
    }
    if !kagari_testkit::peers_run_available(test) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();

    // Blocks: promtool backfills two hours ending three hours ago.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = (now - 5 * 3600) / 3600 * 3600;
    let mut om = String::from("# TYPE kg_backfilled gauge\n");
    for s in ["a", "b", "c"] {
        for i in 0..120u64 {
            om.push_str(&format!(
                "kg_backfilled{{series=\"{s}\"}} {}.5 {}\n",
                i % 7,
                start + i * 60
            ));
        }
    }
    om.push_str("# EOF\n");
    let om_file = work.path().join("backfill.om");
    std::fs::write(&om_file, om).unwrap();
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om_file)
        .arg(&data));

    let stop = Arc::new(AtomicBool::new(false));
    let (exp_port, exp) = exporter(stop.clone());
    let config = work.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nscrape_configs:\n  - job_name: kg\n    static_configs:\n      - targets: ['127.0.0.1:{exp_port}']\n"
        ),
    )
    .unwrap();
    let args = [Path::new("--config"), &config, Path::new("--data"), &data];
    let mut peer = Peer::start("prometheus", args).unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_secs(25));
    peer.stop();
    let mut peer = Peer::start("prometheus", args).unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_secs(15));
    assert!(peer.kill9(), "kill -9 of prometheus");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    exp.join().unwrap();

    // What the killed server left: blocks, chunks_head records, WAL segments.
    let blocks = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("meta.json").exists())
        .count();
    assert!(blocks >= 1);
    let chunks_copy = work.path().join("chunks_copy");
    copy_dir_except(&data.join("chunks_head"), &chunks_copy, LIVE_FILES).unwrap();
    let (_m, rep) = ChunkDiskMapper::open(&chunks_copy).unwrap();
    // Usually about one chunk per series per 12 s of scraping; a loaded machine that misses
    // scrapes cuts fewer, so only require that chunks_head is not empty.
    assert!(!rep.chunks.is_empty(), "no head chunks on disk");
    assert!(std::fs::read_dir(data.join("wal")).unwrap().count() >= 1);

    // promtool may replay or repair what it opens: each reader gets its own copy.
    let theirs_dir = work.path().join("theirs");
    let ours_dir = work.path().join("ours");
    copy_dir_except(&data, &theirs_dir, LIVE_FILES).unwrap();
    copy_dir_except(&data, &ours_dir, LIVE_FILES).unwrap();
    let dump = run(Command::new("promtool")
        .args(["tsdb", "dump"])
        .arg(&theirs_dir));
    let mut theirs: Vec<&str> = dump.lines().collect();
    theirs.sort_unstable();

    let db = Db::open(&ours_dir, Options::default()).unwrap();
    let q = db.querier(i64::MIN, i64::MAX);
    let mut ours = Vec::new();
    for s in q
        .select(&[Matcher::new(MatchType::Regex, "__name__", ".+").unwrap()])
        .unwrap()
    {
        let l = go_labels(s.labels());
        for (t, v) in s.samples().unwrap() {
            ours.push(format!("{l} {} {t}", go_g(v)));
        }
    }
    ours.sort_unstable();
    assert!(
        db.head().chunk_bytes().1 > 0,
        "Prometheus's head chunks attached"
    );
    assert_eq!(ours.len(), theirs.len(), "line counts (ours, promtool)");
    let first_diff = ours.iter().zip(&theirs).find(|(a, b)| a != *b);
    assert!(
        first_diff.is_none(),
        "first difference (ours, promtool): {first_diff:?}"
    );
    println!(
        "killed Prometheus: {blocks} blocks, {} head chunks, {} samples; our dump equals promtool's",
        rep.chunks.len(),
        ours.len()
    );
}
