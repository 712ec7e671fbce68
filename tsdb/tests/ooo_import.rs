//! Out-of-order data in a Prometheus-style directory (0x81 chunks in `chunks_head/`, samples
//! and mmap markers in `wbl/`, series in `wal/`), built with our writers: `Db::compact` and
//! `Db::import_out_of_order` turn it into `from-out-of-order` blocks, once.

use std::collections::BTreeMap;
use std::path::Path;

use kagari_model::Labels;
use kagari_tsdb::chunkenc::XorChunk;
use kagari_tsdb::chunks_head::{ChunkDiskMapper, CHUNKS_HEAD_DIR};
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::record::{self, RefMmapMarker, RefSample, RefSeries};
use kagari_tsdb::wlog::{WalOptions, WalWriter};

const M: i64 = 60_000;
const H: i64 = 60 * M;

type Data = BTreeMap<Labels, Vec<(i64, f64)>>;

fn labels(s: &str) -> Labels {
    Labels::from_pairs([("__name__", "kg_ooo"), ("s", s)]).unwrap()
}

fn every(from: i64, n: i64, step: i64) -> Vec<(i64, f64)> {
    (0..n).map(|i| (from + i * step, (i % 13) as f64)).collect()
}

fn samples_record(r: u64, s: &[(i64, f64)]) -> Vec<u8> {
    let v: Vec<RefSample> = s
        .iter()
        .map(|&(t, v)| RefSample {
            series_ref: r,
            t,
            v,
        })
        .collect();
    let mut buf = Vec::new();
    record::encode_samples(&v, &mut buf);
    buf
}

/// What a Prometheus with an out-of-order window leaves: `wal/` with the series and their
/// in-order samples, one 0x81 chunk per `chunk` entry and `wbl/` with the `wbl` samples (an
/// mmap marker after the chunked ones, as Prometheus logs it), plus one damaged record.
fn write_dir(
    dir: &Path,
    series: &[(u64, &str)],
    in_order: &[(u64, Vec<(i64, f64)>)],
    chunk: &[(u64, Vec<(i64, f64)>)],
    wbl: &[(u64, Vec<(i64, f64)>)],
) {
    let mut wal = WalWriter::open(dir.join("wal"), WalOptions::default()).unwrap();
    let rs: Vec<RefSeries> = series
        .iter()
        .map(|&(r, s)| RefSeries {
            series_ref: r,
            labels: labels(s),
        })
        .collect();
    let mut buf = Vec::new();
    record::encode_series(&rs, &mut buf);
    wal.log_record(&buf).unwrap();
    for (r, s) in in_order {
        wal.log_record(&samples_record(*r, s)).unwrap();
    }
    wal.close().unwrap();

    let (m, _) = ChunkDiskMapper::open(dir.join(CHUNKS_HEAD_DIR)).unwrap();
    let mut markers = Vec::new();
    for (r, s) in chunk {
        let mut c = XorChunk::new();
        for &(t, v) in s {
            c.append(t, v).unwrap();
        }
        let mc = m
            .write_chunk_encoded(*r, s[0].0, s[s.len() - 1].0, 0x81, c.bytes())
            .unwrap();
        markers.push(RefMmapMarker {
            series_ref: *r,
            mmap_ref: mc.chunk_ref().0,
        });
    }
    m.close().unwrap();

    let mut w = WalWriter::open(dir.join("wbl"), WalOptions::default()).unwrap();
    for (r, s) in chunk.iter().chain(wbl) {
        w.log_record(&samples_record(*r, s)).unwrap();
    }
    let mut buf = Vec::new();
    record::encode_mmap_markers(&markers, &mut buf);
    w.log_record(&buf).unwrap();
    // A samples record cut short: skipped, and counted.
    w.log_record(&[2, 1, 2, 3]).unwrap();
    w.close().unwrap();
}

fn read_all(db: &Db) -> Data {
    let q = db.querier(i64::MIN, i64::MAX);
    q.select(&[])
        .unwrap()
        .into_iter()
        .map(|s| (s.labels().clone(), s.samples().unwrap()))
        .collect()
}

fn merged(parts: &[(&str, &[(i64, f64)])]) -> Data {
    let mut out: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
    for (s, samples) in parts {
        for &(t, v) in *samples {
            out.entry(labels(s)).or_default().entry(t).or_insert(v);
        }
    }
    out.into_iter()
        .map(|(l, m)| (l, m.into_iter().collect()))
        .collect()
}

#[test]
fn compact_imports_out_of_order_data_before_the_head_range() {
    let dir = tempfile::tempdir().unwrap();
    let a_in = every(2 * H, 30, M);
    let b_in = every(2 * H + 10_000, 1, M);
    // Series a: a full 32-sample out-of-order chunk in [1h, 1h32m), then WBL-only samples
    // (the first two repeat chunk timestamps). Series b: WBL only. Ref 99 has no series.
    let a_chunk = every(H, 32, M);
    let a_wbl = every(H + 30 * M, 10, M);
    let b_wbl = every(H + 30 * M, 5, 7 * M);
    write_dir(
        dir.path(),
        &[(1, "a"), (2, "b")],
        &[(1, a_in.clone()), (2, b_in.clone())],
        &[(1, a_chunk.clone())],
        &[(1, a_wbl.clone()), (2, b_wbl.clone()), (99, every(H, 3, M))],
    );
    let want = merged(&[
        ("a", &a_chunk),
        ("a", &a_wbl),
        ("a", &a_in),
        ("b", &b_wbl),
        ("b", &b_in),
    ]);

    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(
        read_all(&db),
        merged(&[("a", &a_in), ("b", &b_in)]),
        "the head holds the in-order samples only"
    );
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_from_out_of_order.len(), 1, "{report:?}");
    // Ref 99's 3 samples (no series record) and the damaged record.
    assert_eq!(report.out_of_order_skipped, 3 + 1);
    let meta = &report.blocks_from_out_of_order[0];
    assert_eq!((meta.min_time, meta.max_time), (0, 2 * H));
    assert_eq!(meta.compaction.hints, ["from-out-of-order"]);
    assert_eq!(meta.stats.num_samples, (32 + 8 + 5) as u64);
    assert!(!dir.path().join("wbl").exists());
    assert_eq!(read_all(&db), want);
    assert!(db.compact().unwrap().blocks_from_out_of_order.is_empty());
    db.close().unwrap();
    drop(db);

    // A reopen keeps everything (the block ends where the head starts) and imports nothing
    // again, although the 0x81 chunk may still be in chunks_head/.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(read_all(&db), want);
    assert!(db.compact().unwrap().blocks_from_out_of_order.is_empty());
    assert_eq!(db.blocks().len(), 1);
}

#[test]
fn out_of_order_data_inside_the_head_range_is_imported_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let a_in = every(2 * H, 30, M);
    // Out-of-order samples between in-order ones: inside the head's block range.
    let a_ooo = every(2 * H + 30_000, 33, M);
    write_dir(
        dir.path(),
        &[(1, "a")],
        &[(1, a_in.clone())],
        &[(1, a_ooo[..32].to_vec())],
        &[(1, a_ooo[32..].to_vec())],
    );
    let want = merged(&[("a", &a_in), ("a", &a_ooo)]);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(read_all(&db), merged(&[("a", &a_in)]));
    let blocks = db.import_out_of_order().unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!((blocks[0].min_time, blocks[0].max_time), (2 * H, 4 * H));
    assert_eq!(read_all(&db), want);
    assert!(db.import_out_of_order().unwrap().is_empty());
    assert!(db.compact().unwrap().blocks_from_out_of_order.is_empty());
    db.close().unwrap();
    drop(db);
    // The block overlaps the head's range; it does not bound the head at open (it is
    // from out-of-order data), so the WAL's in-order samples are all replayed.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(read_all(&db), want);
    assert!(db.head().min_valid_time() < 2 * H);
}

#[test]
fn a_directory_without_wbl_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a_in = every(2 * H, 5, M);
    write_dir(
        dir.path(),
        &[(1, "a")],
        &[(1, a_in.clone())],
        &[(1, every(H, 32, M))],
        &[],
    );
    std::fs::remove_dir_all(dir.path().join("wbl")).unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.import_out_of_order().unwrap().is_empty());
    assert!(db.compact().unwrap().blocks_from_out_of_order.is_empty());
    assert_eq!(read_all(&db), merged(&[("a", &a_in)]));
}
