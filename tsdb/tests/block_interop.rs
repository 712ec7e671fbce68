//! Interoperability with real promtool 2.42: it reads our blocks, we read its blocks.
//!
//! Needs `promtool` on PATH (and `/work/shared/bench/gen-openmetrics` for the backfill test).
//! When a peer is missing the test prints a SKIP line and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kagari_model::Labels;
use kagari_tsdb::block::{open_blocks, Block, BlockWriter};
use kagari_tsdb::chunks::ChunkWriter;
use kagari_tsdb::index::{IndexReader, IndexWriter};

mod promtool_common;
use promtool_common::{dump_lines, go_g, go_labels, peer_available, run, shared_path};

fn promtool_dump(data_dir: &Path) -> String {
    std::fs::create_dir_all(data_dir.join("wal")).unwrap();
    run(Command::new("promtool")
        .args(["tsdb", "dump", "--min-time=0", "--max-time=4000000000000"])
        .arg(data_dir))
}

#[test]
fn go_formatting_helpers() {
    let cases = [
        (1234567.0, "1.234567e+06"),
        (1e21, "1e+21"),
        (0.00001, "1e-05"),
        (123456789012.0, "1.23456789012e+11"),
        (100000.0, "100000"),
        (0.0001, "0.0001"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (f64::NEG_INFINITY, "-Inf"),
    ];
    for (v, want) in cases {
        assert_eq!(go_g(v), want);
    }
    let l = Labels::from_pairs([("__name__", "m"), ("v", "a\"b")]).unwrap();
    assert_eq!(go_labels(&l), r#"{__name__="m", v="a\"b"}"#);
}

/// (1) promtool lists and dumps a block written by Kagari, and the dump is exactly our data.
#[test]
fn promtool_reads_our_block() {
    if !peer_available("promtool_reads_our_block", "promtool", "--version") {
        return;
    }
    let mut data: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    let base = 1_700_000_000_000i64;
    for s in 0..40 {
        let labels = Labels::from_pairs([
            (
                "__name__",
                ["node_cpu_seconds_total", "up", "http_requests_total", "a"][s % 4],
            ),
            ("instance", &format!("10.0.{}.{}:9100", s / 10, s % 10)),
            ("mode", if s % 3 == 0 { "idle" } else { "user" }),
        ])
        .unwrap();
        let n = 10 + s * 13;
        let mut t = base + s as i64 * 7;
        let mut samples = Vec::with_capacity(n);
        for k in 0..n {
            t += [15_000, 15_000, 14_999, 30_001, 1, 600_000][k % 6];
            let v = match (s + k) % 11 {
                0 => (k * k) as f64 * 1234.5,
                1 => -(k as f64) / 3.0,
                2 => 1e-7 * k as f64,
                3 => f64::NAN,
                _ => (s * 1000 + k) as f64,
            };
            samples.push((t, v));
        }
        data.insert(labels, samples);
    }
    // Label values that need quoting or sort by UTF-8 bytes.
    for (i, v) in [
        "quote\"back\\slash",
        "ünïcödé",
        "tab\there",
        "Zebra",
        "zebra",
        "日本",
    ]
    .iter()
    .enumerate()
    {
        let labels = Labels::from_pairs([("__name__", "odd_values"), ("v", v)]).unwrap();
        data.insert(
            labels,
            vec![(base + i as i64, i as f64), (base + 1_000_000, -0.5)],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    // Small chunk segments so that references into files 2, 3, ... are exercised too.
    w.set_segment_size(4096);
    for (l, s) in &data {
        w.add_series(l.clone(), s).unwrap();
    }
    let meta = w.write(dir.path()).unwrap();
    let total: usize = data.values().map(Vec::len).sum();
    let chunk_dir = dir.path().join(meta.ulid.to_string()).join("chunks");
    let segments = std::fs::read_dir(chunk_dir).unwrap().count();
    assert!(
        segments > 3,
        "expected several chunk segments, got {segments}"
    );

    let list = run(Command::new("promtool")
        .args(["tsdb", "list"])
        .arg(dir.path()));
    let row = list
        .lines()
        .find(|l| l.starts_with(&meta.ulid.to_string()))
        .unwrap_or_else(|| panic!("block not listed:\n{list}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], meta.min_time.to_string(), "{row}");
    assert_eq!(cols[2], meta.max_time.to_string(), "{row}");
    assert!(cols.contains(&total.to_string().as_str()), "{row}");
    assert!(cols.contains(&data.len().to_string().as_str()), "{row}");

    // `analyze` walks the whole index (postings, label values).
    let analyze = run(Command::new("promtool")
        .args(["tsdb", "analyze", "--extended"])
        .arg(dir.path()));
    assert!(
        analyze.contains(&format!("Series: {}", data.len())),
        "{analyze}"
    );

    let dump = promtool_dump(dir.path());
    let want = dump_lines(&data);
    assert_eq!(dump.lines().count(), total);
    if dump != want {
        let diff = dump.lines().zip(want.lines()).find(|(a, b)| a != b);
        panic!(
            "promtool dump differs from what we wrote; first difference (promtool, ours): {diff:?}"
        );
    }
    eprintln!(
        "promtool dump of our block matched {total} samples of {} series",
        data.len()
    );
}

/// (2) promtool backfills an OpenMetrics file into blocks; we read them and compare every sample
/// with `promtool tsdb dump` of the same directory.
#[test]
fn we_read_promtool_backfilled_blocks() {
    let gen_openmetrics = shared_path("bench/gen-openmetrics");
    let gen_openmetrics = gen_openmetrics.to_str().unwrap();
    if !peer_available(
        "we_read_promtool_backfilled_blocks",
        "promtool",
        "--version",
    ) || !peer_available(
        "we_read_promtool_backfilled_blocks",
        gen_openmetrics,
        "--help",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("in.om");
    let data_dir = dir.path().join("data");
    run(Command::new(gen_openmetrics)
        .args(["--series", "50", "--hours", "3", "--out"])
        .arg(&om));
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&data_dir));

    let blocks = open_blocks(&data_dir).unwrap();
    assert!(
        blocks.len() >= 2,
        "3 hours from a 2 h boundary should give at least 2 blocks, got {}",
        blocks.len()
    );
    let mut ours: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    let mut total = 0u64;
    for b in &blocks {
        let mut n = 0u64;
        for s in b.select(&[]).unwrap() {
            let s = s.unwrap();
            let samples = s.samples().unwrap();
            n += samples.len() as u64;
            assert!(samples
                .iter()
                .all(|(t, _)| *t >= b.meta().min_time && *t < b.meta().max_time));
            ours.entry(s.labels.clone()).or_default().extend(samples);
        }
        assert_eq!(n, b.meta().stats.num_samples, "block {}", b.meta().ulid);
        total += n;
    }
    for s in ours.values_mut() {
        s.sort_by_key(|(t, _)| *t);
    }
    assert!(total > 10_000, "only {total} samples");
    let dump = promtool_dump(&data_dir);
    let want = dump_lines(&ours);
    assert_eq!(dump.lines().count() as u64, total);
    if dump != want {
        let diff = dump.lines().zip(want.lines()).find(|(a, b)| a != b);
        panic!(
            "our reading differs from promtool dump; first difference (promtool, ours): {diff:?}"
        );
    }
    eprintln!(
        "read {} promtool blocks: {total} samples of {} series match promtool dump",
        blocks.len(),
        ours.len()
    );
    for b in &blocks {
        rewrite_and_compare(b, dir.path());
    }
    eprintln!("rewriting them with our writers gives the same chunk bytes and index sections");
}

fn align4(x: u64) -> usize {
    x.div_ceil(4) as usize * 4
}

/// Copies a promtool block through our low-level writers (same symbols, series, chunk bytes)
/// and checks that the chunk files are byte-identical and that the index differs only by the
/// legacy sections 2.42 writes: header, symbols, series and every postings list are the same bytes.
fn rewrite_and_compare(b: &Block, tmp: &Path) {
    let out = tmp.join(format!("copy-{}", b.meta().ulid));
    let mut cw = ChunkWriter::new(&out.join("chunks")).unwrap();
    let mut series = Vec::new();
    for s in b.select(&[]).unwrap() {
        let s = s.unwrap();
        for c in &s.chunks {
            let (enc, data) = b.chunks().chunk(c.chunk_ref).unwrap();
            assert_eq!(
                cw.write_chunk(enc, data).unwrap(),
                c.chunk_ref,
                "chunk placement differs"
            );
        }
        series.push((s.labels.clone(), s.chunks.clone()));
    }
    cw.finish().unwrap();
    let theirs = std::fs::read(b.dir().join("chunks/000001")).unwrap();
    assert_eq!(
        std::fs::read(out.join("chunks/000001")).unwrap(),
        theirs,
        "chunk file bytes differ"
    );

    let mut iw = IndexWriter::new(&out.join("index")).unwrap();
    let symbols: Vec<&str> = b.index().symbols().collect::<Result<_, _>>().unwrap();
    iw.add_symbols(symbols.iter().copied()).unwrap();
    for (l, c) in &series {
        iw.add_series(l, c).unwrap();
    }
    iw.finish().unwrap();
    let ours_path = out.join("index");
    let ours = std::fs::read(&ours_path).unwrap();
    let theirs = std::fs::read(b.dir().join("index")).unwrap();
    let (ot, tt) = (
        IndexReader::open(&ours_path).unwrap().toc(),
        b.index().toc(),
    );
    assert_eq!((ot.symbols, ot.series), (tt.symbols, tt.series));
    let series_end = ot.label_indices as usize;
    assert_eq!(
        ours[..series_end],
        theirs[..series_end],
        "header, symbols or series bytes differ"
    );
    let our_postings = &ours[align4(ot.postings)..ot.postings_offset_table as usize];
    let their_postings = &theirs[align4(tt.postings)..tt.label_offset_table as usize];
    assert_eq!(our_postings, their_postings, "postings lists differ");
}

/// (3) a real Prometheus 2.42 server loads our block and answers queries over it.
#[test]
fn prometheus_server_queries_our_block() {
    if !peer_available(
        "prometheus_server_queries_our_block",
        "prometheus",
        "--version",
    ) || !kagari_testkit::peers_run_available("prometheus_server_queries_our_block")
    {
        return;
    }
    let base = 1_700_000_000_000i64; // 2023-11-14T22:13:20Z
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    let mut w = BlockWriter::new();
    for s in 0..5usize {
        let l = Labels::from_pairs([("__name__", "kagari_test"), ("s", &s.to_string())]).unwrap();
        let n = 100 + 50 * s;
        let samples: Vec<(i64, f64)> = (0..n)
            .map(|k| (base + k as i64 * 10_000, (k * s) as f64))
            .collect();
        w.add_series(l, &samples).unwrap();
        want.insert(s.to_string(), n);
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    w.write(&data).unwrap();
    let cfg = dir.path().join("empty.yml");
    std::fs::write(&cfg, "global: {}\n").unwrap();
    // `run` returns once the peer answers `/-/ready`; it logs to `data/prometheus.log`.
    let peer = kagari_testkit::Peer::start(
        "prometheus",
        [
            "--config".as_ref(),
            cfg.as_os_str(),
            "--data".as_ref(),
            data.as_os_str(),
            "--storage.tsdb.retention.time=100y".as_ref(),
        ],
    )
    .unwrap_or_else(|e| panic!("could not start prometheus: {e}"));
    let log = || std::fs::read_to_string(data.join("prometheus.log")).unwrap_or_default();
    let http_get = |path_and_query: &str| {
        kagari_testkit::http_get(&format!("{}{path_and_query}", peer.url()))
            .ok()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
    };
    let at = (base + 3_600_000) / 1000;
    let body = http_get(&format!(
        "/api/v1/query?query=count_over_time(kagari_test%5B2h%5D)&time={at}"
    ))
    .expect("query failed");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for r in v["data"]["result"].as_array().unwrap() {
        let s = r["metric"]["s"].as_str().unwrap().to_string();
        got.insert(s, r["value"][1].as_str().unwrap().parse().unwrap());
    }
    assert_eq!(got, want, "{body}");
    assert!(!log().contains("corrupt"), "{}", log());
    eprintln!(
        "prometheus 2.42 served our block: count_over_time matches for {} series",
        got.len()
    );
}
