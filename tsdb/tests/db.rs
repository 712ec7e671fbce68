//! Db scenarios: WAL replay, block cutting, querying across blocks and head, retention,
//! tombstone deletes, snapshots.

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::wlog::{self, PAGE_SIZE};
use kagari_tsdb::Error;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn series(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "metric"),
        ("job", if i % 2 == 0 { "even" } else { "odd" }),
        ("i", &i.to_string()),
    ])
    .unwrap()
}

fn eq(n: &str, v: &str) -> Matcher {
    Matcher::new(MatchType::Equal, n, v).unwrap()
}

fn value(i: usize, t: i64) -> f64 {
    (i as f64) * 1000.0 + (t / MIN) as f64
}

/// Appends `n` series, one sample per minute in `[from, to)`, one commit per timestamp.
fn fill(db: &Db, n: usize, from: i64, to: i64) {
    let mut refs = vec![None; n];
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for (i, r) in refs.iter_mut().enumerate() {
            *r = Some(app.append(*r, &series(i), t, value(i, t)).unwrap());
        }
        app.commit().unwrap();
        t += MIN;
    }
}

fn all_samples(db: &Db, mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, f64)>)> {
    db.querier(mint, maxt)
        .select(&[])
        .unwrap()
        .iter()
        .map(|s| (s.labels().clone(), s.samples().unwrap()))
        .collect()
}

fn expected(n: usize, from: i64, to: i64) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out: Vec<_> = (0..n)
        .map(|i| {
            let samples = (0..)
                .map(|k| from + k * MIN)
                .take_while(|t| *t < to)
                .map(|t| (t, value(i, t)))
                .collect();
            (series(i), samples)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn reopen_replays_committed_samples_but_not_rolled_back_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 10, 0, 30 * MIN);
        let mut app = db.appender();
        app.append(None, &series(0), 31 * MIN, 42.0).unwrap();
        app.append(None, &series(99), 31 * MIN, 42.0).unwrap();
        app.rollback();
        // Dropped without commit: same as rollback.
        let mut app = db.appender();
        app.append(None, &series(1), 32 * MIN, 42.0).unwrap();
        drop(app);
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.replay_stats().samples, 300);
    assert_eq!(
        all_samples(&db, i64::MIN, i64::MAX),
        expected(10, 0, 30 * MIN)
    );
    assert!(db.head().series_ref(&series(99)).is_none());
    // Appends continue after the replayed data, and rules still hold.
    let mut app = db.appender();
    assert!(matches!(
        app.append(None, &series(0), 28 * MIN, 1.0),
        Err(Error::OutOfOrderSample { .. })
    ));
    app.append(None, &series(0), 30 * MIN, value(0, 30 * MIN))
        .unwrap();
    app.commit().unwrap();
}

#[test]
fn stale_markers_survive_replay_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let stale = f64::from_bits(0x7FF0_0000_0000_0002);
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut app = db.appender();
        app.append(None, &series(0), 1000, 1.0).unwrap();
        app.append(None, &series(0), 2000, stale).unwrap();
        app.append(None, &series(0), 3000, f64::NAN).unwrap();
        app.commit().unwrap();
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let s = all_samples(&db, 0, 10_000);
    let bits: Vec<u64> = s[0].1.iter().map(|(_, v)| v.to_bits()).collect();
    assert_eq!(
        bits,
        vec![1.0f64.to_bits(), 0x7FF0_0000_0000_0002, f64::NAN.to_bits()]
    );
}

#[test]
fn corrupt_wal_tail_is_repaired_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        fill(&db, 3, 0, 10 * MIN);
    }
    // Append garbage that looks like a torn record to the newest segment.
    let wal = dir.path().join("wal");
    let last = *wlog::segments(&wal).unwrap().last().unwrap();
    let p = wlog::segment_path(&wal, last);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(&[2, 0, 50, 1, 2, 3, 4, 5, 6]); // FIRST fragment, then EOF
    std::fs::write(&p, &bytes).unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.replay_stats().repaired_at.is_some());
    assert_eq!(db.stats().wal_repairs(), 1);
    assert_eq!(
        all_samples(&db, i64::MIN, i64::MAX),
        expected(3, 0, 10 * MIN)
    );
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.replay_stats().repaired_at.is_none());
}

#[test]
fn head_is_cut_into_blocks_and_queries_merge_blocks_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        wal_segment_size: 4 * PAGE_SIZE,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    // 10 series over 7 h: the head spans > 3 h, so blocks [0,2h), [2h,4h) are cut.
    fill(&db, 10, 0, 7 * HOUR);
    assert!(db.needs_compaction());
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_written.len(), 2);
    assert!(report.checkpointed);
    assert!(!db.needs_compaction());
    let ranges: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect();
    assert_eq!(ranges, vec![(0, 2 * HOUR), (2 * HOUR, 4 * HOUR)]);
    assert_eq!(db.head().min_time(), 4 * HOUR);
    assert_eq!(db.stats().compactions(), 2);
    assert_eq!(db.stats().checkpoints(), 1);
    // Samples before the last block's end are now out of bounds.
    let mut app = db.appender();
    assert!(matches!(
        app.append(None, &series(0), 4 * HOUR - 1, 0.0),
        Err(Error::OutOfBounds { .. })
    ));
    drop(app);

    let want = expected(10, 0, 7 * HOUR);
    assert_eq!(all_samples(&db, i64::MIN, i64::MAX), want);
    // A range across the block/head boundary, and matchers.
    let q = db.querier(3 * HOUR, 5 * HOUR - 1);
    let odd = q
        .select(&[
            eq("job", "odd"),
            Matcher::new(MatchType::Regex, "i", "1|3").unwrap(),
        ])
        .unwrap();
    assert_eq!(odd.len(), 2);
    assert_eq!(odd[0].labels(), &series(1));
    let s = odd[0].samples().unwrap();
    assert_eq!(s.first().unwrap().0, 3 * HOUR);
    assert_eq!(s.last().unwrap().0, 5 * HOUR - MIN);
    assert_eq!(s.len(), 120);
    // Seek across sources.
    let mut it = odd[1].iter();
    assert_eq!(
        it.seek(4 * HOUR + 30 * MIN),
        kagari_tsdb::chunkenc::ValueType::Float
    );
    assert_eq!(
        it.at(),
        (4 * HOUR + 30 * MIN, value(3, 4 * HOUR + 30 * MIN))
    );
    assert_eq!(q.label_values("job", &[]).unwrap(), vec!["even", "odd"]);
    assert_eq!(
        q.label_names(&[eq("i", "3")]).unwrap(),
        vec!["__name__", "i", "job"]
    );

    // After reopening (checkpoint + remaining WAL + blocks) everything is still there once.
    drop(q);
    drop(odd);
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(all_samples(&db, i64::MIN, i64::MAX), want);
}

#[test]
fn retention_by_time_deletes_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        retention_time: 4 * HOUR,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    fill(&db, 2, 0, 11 * HOUR);
    let report = db.compact().unwrap();
    // Blocks end at 2,4,6,8 h; newest end 8 h: blocks ending 4 h before or more go.
    assert_eq!(report.blocks_written.len(), 4);
    assert_eq!(report.blocks_deleted, 2);
    let ends: Vec<i64> = db.blocks().iter().map(|b| b.meta().max_time).collect();
    assert_eq!(ends, vec![6 * HOUR, 8 * HOUR]);
    assert_eq!(db.stats().blocks_deleted(), 2);
    let s = all_samples(&db, i64::MIN, i64::MAX);
    assert_eq!(s[0].1.first().unwrap().0, 4 * HOUR);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "wal" && n != "chunks_head")
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn retention_by_size_deletes_oldest_blocks_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 20, 0, 9 * HOUR);
    db.compact().unwrap();
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 3);
    let size = |b: &kagari_tsdb::Block| -> u64 { walk(b.dir()) };
    let newest_two: u64 = blocks[1..].iter().map(|b| size(b)).sum();
    drop(blocks);
    drop(db);
    let wal = walk(&dir.path().join("wal"));
    let chunks_head = walk(&dir.path().join("chunks_head"));
    // Budget: WAL + head chunk files (the head's size, as upstream) + the two newest blocks
    // (+ slack smaller than a block).
    let opts = Options {
        retention_size: wal + chunks_head + newest_two + 100,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_deleted, 1);
    let starts: Vec<i64> = db.blocks().iter().map(|b| b.meta().max_time).collect();
    assert_eq!(starts, vec![4 * HOUR, 6 * HOUR]);
}

fn walk(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

#[test]
fn delete_writes_tombstones_in_blocks_and_head_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 4, 0, 7 * HOUR);
    db.compact().unwrap();
    // Delete [1h, 5h] of the even series: spans a block and the head.
    let n = db.delete(&[eq("job", "even")], HOUR, 5 * HOUR).unwrap();
    assert_eq!(n, 2 * 2 + 2); // 2 series in each of 2 blocks, 2 in the head
    let check = |db: &Db| {
        for (labels, samples) in all_samples(db, i64::MIN, i64::MAX) {
            let deleted = samples
                .iter()
                .filter(|(t, _)| (HOUR..=5 * HOUR).contains(t));
            if labels.get("job") == Some("even") {
                assert_eq!(deleted.count(), 0);
                assert_eq!(samples.len(), 7 * 60 - (4 * 60 + 1));
            } else {
                assert_eq!(samples.len(), 7 * 60);
            }
        }
    };
    check(&db);
    let blocks = db.blocks();
    assert_eq!(blocks[0].meta().stats.num_tombstones, 2);
    assert_eq!(blocks[0].tombstones().num_intervals(), 2);
    drop(blocks);
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.replay_stats().tombstones, 2);
    check(&db);
}

#[test]
fn snapshot_contains_blocks_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let snap = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 3, 0, 5 * HOUR);
    db.compact().unwrap();
    let ulids = db.snapshot(snap.path()).unwrap();
    assert_eq!(ulids.len(), db.blocks().len() + 1);
    let copy = Db::open(snap.path(), Options::default()).unwrap();
    assert_eq!(copy.head().num_series(), 0);
    assert_eq!(
        all_samples(&copy, i64::MIN, i64::MAX),
        all_samples(&db, i64::MIN, i64::MAX)
    );
    assert_eq!(
        all_samples(&copy, i64::MIN, i64::MAX),
        expected(3, 0, 5 * HOUR)
    );
}

#[test]
fn adjacent_blocks_are_merged_into_a_6h_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 5, 0, 11 * HOUR);
    db.delete(&[eq("i", "0")], 30 * MIN, 90 * MIN).unwrap();
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_written.len(), 4);
    assert_eq!(report.blocks_merged.len(), 1);
    let blocks = db.blocks();
    let ranges: Vec<(i64, i64, u32)> = blocks
        .iter()
        .map(|b| {
            (
                b.meta().min_time,
                b.meta().max_time,
                b.meta().compaction.level,
            )
        })
        .collect();
    assert_eq!(ranges, vec![(0, 6 * HOUR, 2), (6 * HOUR, 8 * HOUR, 1)]);
    let merged = blocks[0].meta();
    assert_eq!(merged.compaction.sources.len(), 3);
    assert_eq!(merged.compaction.parents.len(), 3);
    assert_eq!(db.stats().block_compactions(), 1);
    for p in &merged.compaction.parents {
        assert!(!dir.path().join(p.ulid.to_string()).exists());
    }
    drop(blocks);
    // The deleted interval (head tombstone at delete time) is gone from the merged block.
    let check = |db: &Db| {
        let mut want = expected(5, 0, 11 * HOUR);
        want[0]
            .1
            .retain(|(t, _)| !(30 * MIN..=90 * MIN).contains(t));
        assert_eq!(want[0].0, series(0));
        assert_eq!(all_samples(db, i64::MIN, i64::MAX), want);
    };
    check(&db);
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), 2);
    check(&db);
}
