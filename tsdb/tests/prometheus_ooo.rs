//! Theirs → ours, live, with Prometheus 2.42's out-of-order window on
//! (`storage.tsdb.out_of_order_time_window: 1h`): a loopback exporter serves series with
//! explicit timestamps, `kg_in` moving forward and `kg_ooo` moving backward (every scrape after
//! the first is out of order). Prometheus is stopped once (so full out-of-order chunks, encoding
//! 0x81, reach `chunks_head/`), started again and SIGKILLed, leaving `wal/`, `wbl/` and
//! `chunks_head/`. A copy opened by kagari-tsdb with `Db::import_out_of_order` then holds
//! exactly what `promtool tsdb dump` prints for another copy; a copy whose `wbl/` is emptied
//! shows that the 0x81 chunks alone are read.
//!
//! Needs `prometheus`, `promtool` and `peers/run` (SKIP, or a failure under
//! `KAGARI_REQUIRE_PEERS=true`). Runs for about 35 s.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kagari_testkit::{copy_dir_except, Peer};
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{go_g, go_labels, peer_available, run};

const SERIES: usize = 4;
const LIVE_FILES: &[&str] = &["lock", "queries.active", "prometheus.log"];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Serves `kg_in{i}` at the current time and `kg_ooo{i}` at `base - 1 s × scrape number`.
fn exporter(stop: Arc<AtomicBool>, base: i64) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let scrapes = AtomicU64::new(0);
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
            let k = scrapes.fetch_add(1, Ordering::Relaxed) as i64 + 1;
            let now = now_ms();
            let mut body = String::from("# TYPE kg_in gauge\n");
            for i in 0..SERIES {
                body.push_str(&format!("kg_in{{i=\"{i}\"}} {k} {now}\n"));
            }
            body.push_str("# TYPE kg_ooo gauge\n");
            for i in 0..SERIES {
                let v = k as f64 * 10.0 + i as f64 / 4.0;
                body.push_str(&format!("kg_ooo{{i=\"{i}\"}} {v} {}\n", base - k * 1000));
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

/// Every sample of `db` in promtool's dump format, sorted.
fn dump(db: &Db) -> Vec<String> {
    let q = db.querier(i64::MIN, i64::MAX);
    let mut out = Vec::new();
    for s in q.select(&[]).unwrap() {
        let l = go_labels(s.labels());
        for (t, v) in s.samples().unwrap() {
            out.push(format!("{l} {} {t}", go_g(v)));
        }
    }
    out.sort_unstable();
    out
}

fn ooo_lines(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| l.starts_with("{__name__=\"kg_ooo\""))
        .count()
}

#[test]
fn a_killed_prometheus_with_out_of_order_data_dumps_like_promtool() {
    let test = "a_killed_prometheus_with_out_of_order_data_dumps_like_promtool";
    if !peer_available(test, "promtool", "--version")
        || !peer_available(test, "prometheus", "--version")
        || !kagari_testkit::peers_run_available(test)
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (exp_port, exp) = exporter(stop.clone(), now_ms());
    let config = work.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nstorage:\n  tsdb:\n    out_of_order_time_window: 1h\nscrape_configs:\n  - job_name: kg\n    static_configs:\n      - targets: ['127.0.0.1:{exp_port}']\n"
        ),
    )
    .unwrap();
    let args = [Path::new("--config"), &config, Path::new("--data"), &data];
    let mut peer = Peer::start("prometheus", args).unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_secs(15));
    peer.stop();
    let mut peer = Peer::start("prometheus", args).unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_secs(10));
    assert!(peer.kill9(), "kill -9 of prometheus");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    exp.join().unwrap();

    // What the killed server left: out-of-order chunks in chunks_head/, and wbl/.
    let chunks_copy = work.path().join("chunks_copy");
    copy_dir_except(&data.join("chunks_head"), &chunks_copy, LIVE_FILES).unwrap();
    let (m, rep) = ChunkDiskMapper::open(&chunks_copy).unwrap();
    // An out-of-order chunk is cut every 32 samples: ~3 s of scraping per series.
    assert!(rep.ooo_chunks > 0, "no 0x81 chunks in chunks_head/");
    let ooo = m.take_ooo_chunks();
    assert!(ooo.iter().all(|c| c.encoding == 0x81));
    let in_chunks: usize = ooo
        .iter()
        .map(|c| u16::from_be_bytes([c.chunk[0], c.chunk[1]]) as usize)
        .sum();
    assert!(data.join("wbl").is_dir());

    let theirs_dir = work.path().join("theirs");
    let ours_dir = work.path().join("ours");
    let chunks_only_dir = work.path().join("chunks_only");
    for d in [&theirs_dir, &ours_dir, &chunks_only_dir] {
        copy_dir_except(&data, d, LIVE_FILES).unwrap();
    }
    let out = run(Command::new("promtool")
        .args(["tsdb", "dump"])
        .arg(&theirs_dir));
    let mut theirs: Vec<String> = out.lines().map(str::to_string).collect();
    theirs.sort_unstable();
    assert!(
        ooo_lines(&theirs) > in_chunks,
        "promtool shows the out-of-order samples"
    );

    let db = Db::open(&ours_dir, Options::default()).unwrap();
    let before = ooo_lines(&dump(&db));
    let blocks = db.import_out_of_order().unwrap();
    assert!(!blocks.is_empty());
    assert!(blocks
        .iter()
        .all(|b| b.compaction.hints == ["from-out-of-order"]));
    assert!(!ours_dir.join("wbl").exists(), "wbl/ deleted once imported");
    let ours = dump(&db);
    assert!(
        before < ooo_lines(&ours),
        "the head alone lacks the out-of-order samples"
    );
    assert_eq!(ours.len(), theirs.len(), "line counts (ours, promtool)");
    let first_diff = ours.iter().zip(&theirs).find(|(a, b)| a != b);
    assert!(
        first_diff.is_none(),
        "first difference (ours, promtool): {first_diff:?}"
    );
    assert!(
        db.import_out_of_order().unwrap().is_empty(),
        "imported once"
    );
    db.close().unwrap();
    drop(db);
    let db = Db::open(&ours_dir, Options::default()).unwrap();
    assert!(dump(&db) == ours, "a reopen keeps every sample");
    drop(db);

    // Only the 0x81 chunks (wbl/ emptied): exactly their samples are added.
    for e in std::fs::read_dir(chunks_only_dir.join("wbl")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let db = Db::open(&chunks_only_dir, Options::default()).unwrap();
    let before: BTreeSet<String> = dump(&db).into_iter().collect();
    db.import_out_of_order().unwrap();
    let after: BTreeSet<String> = dump(&db).into_iter().collect();
    let theirs: BTreeSet<String> = theirs.into_iter().collect();
    assert!(
        after.is_subset(&theirs),
        "chunk samples are promtool's samples"
    );
    let added = after.len() - before.len();
    assert!(
        added > 0 && added <= in_chunks,
        "added {added} of {in_chunks} chunk samples"
    );
    println!(
        "killed Prometheus with OOO: {} 0x81 chunks ({in_chunks} samples), {} lines equal promtool's dump",
        ooo.len(),
        ours.len()
    );
}
