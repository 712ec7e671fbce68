//! `chunks_head/`: cut head chunks are written there, read back at open before the WAL,
//! repaired when damaged, deleted after head truncation, and read by real promtool 2.42.
//!
//! The promtool part needs `promtool` on PATH; when missing it prints a SKIP line unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::record::RecordType;
use kagari_tsdb::wlog::{WalOptions, WalReader, WalWriter};

mod promtool_common;
use promtool_common::{dump_lines, peer_available, run};

/// A multiple of 2 h, so the first head chunks are the steady 120-sample ones.
const T0: i64 = 1_700_006_400_000;
const STEP: i64 = 15_000;

type Data = BTreeMap<Labels, Vec<(i64, f64)>>;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "kg_test"),
        ("instance", &format!("host-{i}:9100")),
    ])
    .unwrap()
}

/// Appends `n` samples (every 15 s from `from`) to each of `series` series.
fn fill(db: &Db, series: usize, from: i64, n: usize, want: &mut Data) {
    let ls: Vec<Labels> = (0..series).map(labels).collect();
    let mut refs = vec![None; series];
    for k in 0..n {
        let t = from + k as i64 * STEP;
        let mut app = db.appender();
        for (i, (l, r)) in ls.iter().zip(refs.iter_mut()).enumerate() {
            let v = ((t / STEP) % 97) as f64 * (i + 1) as f64 / 4.0;
            *r = Some(app.append(*r, l, t, v).unwrap());
            want.entry(l.clone()).or_default().push((t, v));
        }
        app.commit().unwrap();
    }
}

fn all(db: &Db) -> Data {
    let q = db.querier(i64::MIN, i64::MAX);
    q.select(&[Matcher::new(MatchType::Regex, "__name__", ".+").unwrap()])
        .unwrap()
        .iter()
        .map(|s| (s.labels().clone(), s.samples().unwrap()))
        .collect()
}

/// Chunks in a copy of `chunks_head/` (so the original is not touched).
fn count_chunks(data_dir: &Path) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(data_dir.join("chunks_head")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let (_m, rep) = ChunkDiskMapper::open(tmp.path()).unwrap();
    assert!(rep.repaired.is_none());
    rep.chunks.len()
}

/// Rewrites `wal/` with its series records only: afterwards the samples of closed chunks
/// exist in `chunks_head/` alone.
fn strip_wal_samples(data_dir: &Path) {
    let wal = data_dir.join("wal");
    let mut keep: Vec<Vec<u8>> = Vec::new();
    {
        let mut r = WalReader::open_replay(&wal).unwrap();
        while let Some(rec) = r.next_record().unwrap() {
            if RecordType::of(rec) == RecordType::Series {
                keep.push(rec.to_vec());
            }
        }
    }
    std::fs::remove_dir_all(&wal).unwrap();
    let mut w = WalWriter::open(&wal, WalOptions::default()).unwrap();
    for rec in &keep {
        w.log_record(rec).unwrap();
    }
    w.close().unwrap();
}

#[test]
fn cut_chunks_are_mapped_and_reloaded_before_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        // 2.5 h at 15 s: four 120-sample chunks cut per series in the first 2 h.
        fill(&db, 50, T0, 600, &mut want);
        let (heap, mapped) = db.head().chunk_bytes();
        let m = db.head().chunk_mapper().unwrap();
        assert_eq!(m.stats().chunks_written(), 50 * 4);
        assert_eq!(m.stats().write_failures(), 0);
        assert!(mapped > 4 * heap, "heap {heap} B, mapped {mapped} B");
        assert_eq!(all(&db), want);
        db.close().unwrap();
    }
    assert_eq!(count_chunks(dir.path()), 200);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.chunks_head_repair().is_none());
    assert_eq!(all(&db), want);
    // The WAL samples already in mapped chunks were skipped, not appended twice.
    assert_eq!(db.replay_stats().skipped_samples, 50 * 480);
    assert_eq!(db.replay_stats().samples, 50 * 120);
    // Appending continues after the reloaded chunks.
    let mut more = want.clone();
    fill(&db, 50, T0 + 600 * STEP, 10, &mut more);
    assert_eq!(all(&db), more);
}

#[test]
fn samples_only_in_chunks_head_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 20, T0, 600, &mut want);
        // End as a crash would: the head chunk file keeps its preallocated zero tail.
        db.head().take_wal().unwrap().close().unwrap();
        std::mem::forget(db);
    }
    let len = std::fs::metadata(dir.path().join("chunks_head/000001"))
        .unwrap()
        .len();
    assert_eq!(len, 1 << 20);
    strip_wal_samples(dir.path());
    // Only the 4 closed chunks (480 samples) per series remain.
    let expected: Data = want
        .iter()
        .map(|(l, s)| (l.clone(), s[..480].to_vec()))
        .collect();
    let copy = tempfile::tempdir().unwrap();
    kagari_testkit::copy_dir(dir.path(), copy.path()).unwrap();
    let db = Db::open(copy.path(), Options::default()).unwrap();
    assert_eq!(all(&db), expected);
    drop(db);

    // Real promtool reads our chunks_head (the WAL holds no sample any more).
    if !peer_available(
        "samples_only_in_chunks_head_are_recovered",
        "promtool",
        "--version",
    ) {
        return;
    }
    let dump = run(Command::new("promtool")
        .args(["tsdb", "dump", "--min-time=0", "--max-time=4000000000000"])
        .arg(dir.path()));
    let ours = dump_lines(&expected);
    assert_eq!(dump.lines().count(), 20 * 480);
    // promtool prints head series in its postings order, not sorted by labels.
    let mut theirs: Vec<&str> = dump.lines().collect();
    let mut ours: Vec<&str> = ours.lines().collect();
    theirs.sort_unstable();
    ours.sort_unstable();
    let first_diff = theirs.iter().zip(&ours).find(|(a, b)| a != b);
    assert!(
        first_diff.is_none(),
        "promtool's dump of our chunks_head differs; first (promtool, ours): {first_diff:?}"
    );
}

#[test]
fn a_damaged_record_is_cut_off_and_the_wal_fills_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 30, T0, 600, &mut want);
        db.close().unwrap();
    }
    let f = dir.path().join("chunks_head").join("000001");
    let mut b = std::fs::read(&f).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x5A;
    std::fs::write(&f, &b).unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let rep = db.chunks_head_repair().expect("repair reported");
    assert_eq!(rep.file, 1);
    assert!(rep.offset < mid as u64 && rep.offset >= 8, "{rep:?}");
    assert!(std::fs::metadata(&f).unwrap().len() == rep.offset);
    assert_eq!(all(&db), want);
    drop(db);
    // And the repaired directory opens cleanly again.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.chunks_head_repair().is_none());
    assert_eq!(all(&db), want);
}

#[test]
fn a_crash_leaves_a_preallocated_tail_that_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 10, T0, 500, &mut want);
    // Flush the WAL as a commit does on segment close, but leave chunks_head untrimmed (as a
    // SIGKILL would): the file keeps its preallocated zero tail.
    db.head().take_wal().unwrap().close().unwrap();
    std::mem::forget(db);
    let len = std::fs::metadata(dir.path().join("chunks_head/000001"))
        .unwrap()
        .len();
    assert_eq!(len, 1 << 20, "file still at its preallocated size");
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.chunks_head_repair().is_none());
    assert_eq!(all(&db), want);
}

#[test]
fn head_truncation_deletes_files_no_chunk_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 10, T0, 400, &mut want); // 0 – 1h40
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 10, T0 + 400 * STEP, 800, &mut want); // up to 5 h
    let files = |d: &Db| d.head().chunk_mapper().unwrap().file_numbers();
    assert_eq!(files(&db), vec![1, 2]);
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_written.len(), 1);
    // File 1 held only chunks before 2 h (now in the block); file 2 is still written to.
    assert_eq!(files(&db), vec![2]);
    assert!(!dir.path().join("chunks_head/000001").exists());
    assert_eq!(all(&db), want);
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(all(&db), want);
    drop(db);

    // promtool reads the truncated directory (block, checkpoint, chunks_head from 000002).
    if !peer_available(
        "head_truncation_deletes_files_no_chunk_refers_to",
        "promtool",
        "--version",
    ) {
        return;
    }
    let copy = tempfile::tempdir().unwrap();
    kagari_testkit::copy_dir(dir.path(), copy.path()).unwrap();
    let dump = run(Command::new("promtool")
        .args(["tsdb", "dump", "--min-time=0", "--max-time=4000000000000"])
        .arg(copy.path()));
    let mut theirs: Vec<&str> = dump.lines().collect();
    theirs.sort_unstable();
    let ours = dump_lines(&want);
    let mut ours: Vec<&str> = ours.lines().collect();
    ours.sort_unstable();
    assert_eq!(theirs.len(), ours.len());
    assert!(theirs == ours, "promtool's dump differs from what we wrote");
}

#[test]
fn prometheus_serves_samples_that_only_our_chunks_head_holds() {
    let test = "prometheus_serves_samples_that_only_our_chunks_head_holds";
    if !peer_available(test, "prometheus", "--version") {
        return;
    }
    if !kagari_testkit::peers_run_available(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut want = Data::new();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 20, T0, 600, &mut want);
        db.close().unwrap();
    }
    strip_wal_samples(dir.path());
    let mut peer = kagari_testkit::Peer::start("prometheus", [Path::new("--data"), dir.path()])
        .unwrap_or_else(|e| panic!("{e}"));
    // 480 samples per series in the 4 closed chunks; the open chunk's 120 were only in the
    // (now stripped) WAL.
    let at = (T0 + 600 * STEP) / 1000;
    let get = |path: &str| {
        let (_, body) = kagari_testkit::http_get(&format!("{}{path}", peer.url()))
            .unwrap_or_else(|e| panic!("{e}"));
        body
    };
    let body = get(&format!(
        "/api/v1/query?query=count_over_time(kg_test%5B3h%5D)&time={at}"
    ));
    let metrics = get("/metrics");
    peer.stop();
    assert_eq!(body.matches("\"480\"").count(), 20, "{body}");
    let corruptions = metrics
        .lines()
        .find(|l| l.starts_with("prometheus_tsdb_mmap_chunk_corruptions_total "))
        .expect("corruption counter exported");
    assert!(corruptions.ends_with(" 0"), "{corruptions}");
}

#[test]
fn refs_of_series_with_chunks_on_disk_are_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A chunk of a series the WAL no longer knows (e.g. garbage-collected).
        let (m, _) = ChunkDiskMapper::open(dir.path().join("chunks_head")).unwrap();
        let mut c = kagari_tsdb::chunkenc::XorChunk::new();
        c.append(T0, 1.0).unwrap();
        m.write_chunk(1000, T0, T0, c.bytes()).unwrap();
        m.close().unwrap();
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut app = db.appender();
    let r = app.append(None, &labels(1), T0 + STEP, 2.0).unwrap();
    app.commit().unwrap();
    assert!(r > 1000, "new series got ref {r}");
    assert_eq!(all(&db).values().flatten().count(), 1);
}

#[test]
fn files_rotate_at_128_mib() {
    use kagari_tsdb::chunks_head::MAX_HEAD_CHUNK_FILE_SIZE;
    let dir = tempfile::tempdir().unwrap();
    let chunks_dir = dir.path().join("chunks_head");
    // Records of 256 KiB + 35 bytes: 511 fit in a 128 MiB file, the 512th starts file 2.
    let data = |i: u64| -> Vec<u8> {
        let mut d = vec![(i % 251) as u8; 256 * 1024];
        d[..8].copy_from_slice(&i.to_be_bytes());
        d
    };
    let record = 256 * 1024 + 8 + 8 + 8 + 1 + 3 + 4;
    {
        let (m, _) = ChunkDiskMapper::open(&chunks_dir).unwrap();
        let mut refs = Vec::new();
        for i in 0..600u64 {
            let c = m.write_chunk(i + 1, i as i64, i as i64, &data(i)).unwrap();
            refs.push(c.chunk_ref());
        }
        let per_file = ((MAX_HEAD_CHUNK_FILE_SIZE - 8) / record) as usize;
        assert_eq!(per_file, 511);
        assert_eq!(refs[per_file - 1].file(), 1);
        assert_eq!((refs[per_file].file(), refs[per_file].offset()), (2, 8));
        m.close().unwrap();
    }
    let len1 = std::fs::metadata(chunks_dir.join("000001")).unwrap().len();
    assert_eq!(len1, 8 + 511 * record);
    assert!(len1 <= MAX_HEAD_CHUNK_FILE_SIZE);
    let (_m, rep) = ChunkDiskMapper::open(&chunks_dir).unwrap();
    assert!(rep.repaired.is_none());
    assert_eq!(rep.chunks.len(), 600);
    for (i, c) in rep.chunks.iter().enumerate() {
        assert_eq!(c.series_ref, i as u64 + 1);
        assert!(*c.chunk == data(i as u64)[..], "chunk {i}");
    }
}
