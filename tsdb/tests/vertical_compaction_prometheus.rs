//! Vertical compaction, differential against Prometheus 2.42: real promtool backfills two
//! OpenMetrics files whose samples interleave (same series, timestamps 15 s apart) into one
//! directory, giving overlapping blocks. Real Prometheus compacts one copy (its first
//! compaction runs about a minute after start), `Db::compact` another. Both directories then
//! hold one block each, and `promtool tsdb dump` prints the same samples for both.
//!
//! Prints, for the benchmark table in `benches/README.md`: Prometheus's
//! `prometheus_tsdb_compaction_duration_seconds_sum`, our wall and thread-CPU time of
//! `compact()`, and the block sizes. `KAGARI_VC_SERIES` (default 100) sets the series per file.
//!
//! Needs `prometheus`, `promtool`, `peers/run` and `bench/gen-openmetrics` (SKIP, or a failure
//! under `KAGARI_REQUIRE_PEERS=true`). Runs for 60–90 s (Prometheus's compaction delay).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kagari_testkit::{copy_dir, http_get, Peer};
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{peer_available, run, shared_path};

fn block_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    v.sort();
    v
}

fn size(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        n += if p.is_dir() {
            size(&p)
        } else {
            p.metadata().unwrap().len()
        };
    }
    n
}

/// A metric's value in a Prometheus `/metrics` text (first line with that exact name).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// CPU time of the calling thread in ns (`/proc/thread-self/schedstat`), if readable.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

#[test]
fn our_vertical_compaction_equals_prometheus_on_promtool_backfills() {
    let test = "our_vertical_compaction_equals_prometheus_on_promtool_backfills";
    let gen = shared_path("bench/gen-openmetrics");
    if !peer_available(test, "promtool", "--version")
        || !peer_available(test, "prometheus", "--version")
        || !peer_available(test, gen.to_str().unwrap(), "--help")
        || !kagari_testkit::peers_run_available(test)
    {
        return;
    }
    let series: u32 = std::env::var("KAGARI_VC_SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (i, offset) in ["0", "15"].into_iter().enumerate() {
        let om = work.path().join(format!("in{i}.om"));
        run(Command::new(&gen)
            .args([
                "--series",
                &series.to_string(),
                "--hours",
                "2",
                "--interval",
                "30",
            ])
            .args(["--seed", "1", "--offset", offset, "--out"])
            .arg(&om));
        run(Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
            .arg(&om)
            .arg(&data));
    }
    let parents = block_dirs(&data);
    assert!(
        parents.len() >= 2,
        "two backfills, {} blocks",
        parents.len()
    );
    let theirs = work.path().join("theirs");
    let ours = work.path().join("ours");
    copy_dir(&data, &theirs).unwrap();
    copy_dir(&data, &ours).unwrap();

    let args = [
        Path::new("--data"),
        &theirs,
        Path::new("--storage.tsdb.retention.time=100y"),
    ];
    let mut peer = Peer::start("prometheus", args).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(240);
    let metrics = loop {
        let (_, text) = http_get(&format!("{}/metrics", peer.url())).unwrap();
        if metric(&text, "prometheus_tsdb_vertical_compactions_total").unwrap_or(0.0) >= 1.0
            && metric(&text, "prometheus_tsdb_compactions_total").unwrap_or(0.0) >= 1.0
        {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not compact in 240 s"
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    peer.stop();
    let prom_secs = metric(&metrics, "prometheus_tsdb_compaction_duration_seconds_sum");

    let db = Db::open(&ours, Options::default()).unwrap();
    let (cpu0, t0) = (thread_cpu_ns(), Instant::now());
    let report = db.compact().unwrap();
    let (wall, cpu1) = (t0.elapsed(), thread_cpu_ns());
    assert!(!report.blocks_merged.is_empty(), "{report:?}");
    drop(db);

    let (tb, ob) = (block_dirs(&theirs), block_dirs(&ours));
    assert_eq!((tb.len(), ob.len()), (1, 1), "one merged block each");
    let dump_t = run(Command::new("promtool").args(["tsdb", "dump"]).arg(&theirs));
    let dump_o = run(Command::new("promtool").args(["tsdb", "dump"]).arg(&ours));
    let lines = dump_t.lines().count();
    assert_eq!(
        dump_o.lines().count(),
        lines,
        "line counts (ours, Prometheus)"
    );
    if dump_o != dump_t {
        let d = dump_o.lines().zip(dump_t.lines()).find(|(a, b)| a != b);
        panic!("dumps differ; first (ours, Prometheus): {d:?}");
    }
    let cpu = cpu0.zip(cpu1).map(|(a, b)| (b - a) as f64 / 1e6);
    let (st, so) = (size(&tb[0]), size(&ob[0]));
    println!(
        "vertical compaction of {} blocks, {lines} samples: Prometheus {:.1} ms (compaction_duration_seconds_sum), ours {:.1} ms wall / {} ms thread CPU; block bytes Prometheus {st} ({:.3} B/sample), ours {so} ({:.3} B/sample)",
        parents.len(),
        prom_secs.unwrap_or(f64::NAN) * 1e3,
        wall.as_secs_f64() * 1e3,
        cpu.map_or("?".into(), |c| format!("{c:.1}")),
        st as f64 / lines as f64,
        so as f64 / lines as f64,
    );
}
