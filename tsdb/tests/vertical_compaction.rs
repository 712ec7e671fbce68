//! Vertical compaction: overlapping blocks are merged into one block by `Db::compact`, one
//! sample kept per timestamp, the parents named in the new block's meta and deleted.
//!
//! The interop test needs `promtool` (a block backfilled by real promtool overlaps one of ours;
//! real promtool lists and dumps the merged block) and reads the result with `kagari-tool tsdb
//! dump` when the workspace's `target/debug/kagari-tool` is built (`scripts/test-all` builds it
//! first). A missing peer is a SKIP line, or a failure under `KAGARI_REQUIRE_PEERS=true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kagari_model::Labels;
use kagari_tsdb::block::{BlockWriter, Ulid};
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{dump_lines, peer_available, run};

const H: i64 = 3_600_000;

type Data = BTreeMap<Labels, Vec<(i64, f64)>>;

fn labels(s: &str) -> Labels {
    Labels::from_pairs([("__name__", "kg_vc"), ("s", s)]).unwrap()
}

/// A value that depends only on the timestamp, so duplicates from two sources agree.
fn value_at(t: i64) -> f64 {
    (t / 1000 % 1000) as f64 * 0.5
}

/// Samples every `step` ms in `[from, to)`.
fn samples(from: i64, to: i64, step: i64, value: impl Fn(i64) -> f64) -> Vec<(i64, f64)> {
    (0..)
        .map(|i| from + i * step)
        .take_while(|&t| t < to)
        .map(|t| (t, value(t)))
        .collect()
}

/// Writes a block over `[mint, maxt)` with `data` into `dir`; returns its ULID.
fn write_block(dir: &Path, mint: i64, maxt: i64, data: &Data) -> Ulid {
    let mut w = BlockWriter::new();
    w.set_time_range(mint, maxt).unwrap();
    for (l, s) in data {
        w.add_series(l.clone(), s).unwrap();
    }
    w.write(dir).unwrap().ulid
}

/// Merges sources in order: on equal timestamps the first source's sample stays.
fn merged(sources: &[&Data]) -> Data {
    let mut out: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
    for d in sources {
        for (l, s) in *d {
            let m = out.entry(l.clone()).or_default();
            for &(t, v) in s {
                m.entry(t).or_insert(v);
            }
        }
    }
    out.into_iter()
        .map(|(l, m)| (l, m.into_iter().collect()))
        .collect()
}

/// Every sample the database holds, per series.
fn read_all(db: &Db) -> Data {
    let q = db.querier(i64::MIN, i64::MAX);
    q.select(&[])
        .unwrap()
        .into_iter()
        .map(|s| (s.labels().clone(), s.samples().unwrap()))
        .collect()
}

fn block_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn two_overlapping_blocks_become_one_with_parents_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    // Block 1: [0, 2h), series a and b every 15 s. Block 2: [1h, 3h), series b (other values
    // at the shared timestamps: the earlier block wins) and c, every 10 s.
    let mut one = Data::new();
    one.insert(labels("a"), samples(0, 2 * H, 15_000, value_at));
    one.insert(labels("b"), samples(0, 2 * H, 15_000, value_at));
    let mut two = Data::new();
    two.insert(labels("b"), samples(H, 3 * H, 10_000, |t| -value_at(t)));
    two.insert(labels("c"), samples(H, 3 * H, 10_000, value_at));
    let u1 = write_block(dir.path(), 0, 2 * H, &one);
    let u2 = write_block(dir.path(), H, 3 * H, &two);
    let want = merged(&[&one, &two]);
    let dups = 2 * H / 15_000 + 2 * H / 10_000 - want[&labels("b")].len() as i64;
    assert_eq!(dups, H / 30_000, "shared timestamps of series b");

    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(read_all(&db), want, "queries merge before compaction");
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_merged.len(), 1, "{report:?}");
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 1);
    let meta = blocks[0].meta();
    assert_eq!((meta.min_time, meta.max_time), (0, 3 * H));
    assert_eq!(meta.compaction.level, 2);
    let mut parents: Vec<Ulid> = meta.compaction.parents.iter().map(|p| p.ulid).collect();
    parents.sort();
    let mut both = vec![u1, u2];
    both.sort();
    assert_eq!(parents, both);
    assert_eq!(meta.compaction.sources, both);
    let n: usize = want.values().map(Vec::len).sum();
    assert_eq!(meta.stats.num_samples, n as u64);
    assert_eq!(read_all(&db), want);
    assert_eq!(block_dirs(dir.path()).len(), 1, "parents deleted");
    assert_eq!(db.stats().block_compactions(), 1);
    // Nothing left to do; the result survives a reopen.
    assert!(db.compact().unwrap().blocks_merged.is_empty());
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(read_all(&db), want);
}

#[test]
fn a_chain_of_overlaps_is_one_group_and_disjoint_blocks_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Vec::new();
    // [0,2h) [1h,3h) [2h30m,4h): one chain. [10h,12h): apart (and the newest).
    for (mint, maxt) in [(0, 2 * H), (H, 3 * H), (5 * H / 2, 4 * H), (10 * H, 12 * H)] {
        let mut data = Data::new();
        data.insert(labels("x"), samples(mint, maxt, 60_000, value_at));
        write_block(dir.path(), mint, maxt, &data);
        d.push(data);
    }
    let want = merged(&d.iter().collect::<Vec<_>>());
    let db = Db::open(dir.path(), Options::default()).unwrap();
    db.compact().unwrap();
    let ranges: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect();
    assert_eq!(ranges, vec![(0, 4 * H), (10 * H, 12 * H)]);
    assert_eq!(db.blocks()[0].meta().compaction.parents.len(), 3);
    assert_eq!(read_all(&db), want);
}

#[test]
fn a_block_backfilled_into_a_live_directory_is_loaded_and_merged_with_the_head_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    // The head spans [0, 3h30m): compact cuts [0, 2h) into a block.
    let mut live = Data::new();
    live.insert(labels("a"), samples(0, 7 * H / 2, 30_000, value_at));
    let mut app = db.appender();
    for (l, s) in &live {
        for &(t, v) in s {
            app.append(None, l, t, v).unwrap();
        }
    }
    app.commit().unwrap();
    // A backfill of [0, 2h) written while the database is open: series a at other
    // timestamps (every 20 s, sharing every minute with the head) and a new series.
    let mut backfill = Data::new();
    backfill.insert(labels("a"), samples(0, 2 * H, 20_000, value_at));
    backfill.insert(labels("new"), samples(0, 2 * H, 20_000, value_at));
    write_block(dir.path(), 0, 2 * H, &backfill);

    let report = db.compact().unwrap();
    assert_eq!(report.blocks_written.len(), 1);
    assert_eq!(report.blocks_loaded, 1);
    assert_eq!(report.blocks_merged.len(), 1, "{report:?}");
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(
        (blocks[0].meta().min_time, blocks[0].meta().max_time),
        (0, 2 * H)
    );
    assert_eq!(read_all(&db), merged(&[&live, &backfill]));
    assert_eq!(block_dirs(dir.path()).len(), 1);
}

#[test]
fn overlapping_blocks_whose_samples_are_all_deleted_leave_no_block() {
    let dir = tempfile::tempdir().unwrap();
    for (mint, maxt) in [(0, 2 * H), (H, 2 * H)] {
        let mut data = Data::new();
        data.insert(labels("gone"), samples(mint, maxt, 60_000, value_at));
        write_block(dir.path(), mint, maxt, &data);
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let m = kagari_model::Matcher::new(kagari_model::MatchType::Equal, "s", "gone").unwrap();
    db.delete(&[m], i64::MIN, i64::MAX).unwrap();
    let report = db.compact().unwrap();
    assert!(report.blocks_merged.is_empty());
    assert!(db.blocks().is_empty());
    assert!(block_dirs(dir.path()).is_empty());
}

/// `target/debug/kagari-tool` of this workspace, if built.
fn kagari_tool() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| kagari_testkit::workspace_root().join("target"));
    let p = target.join("debug").join("kagari-tool");
    p.exists().then_some(p)
}

#[test]
fn a_promtool_block_and_ours_overlapping_merge_into_one_that_promtool_reads() {
    let test = "a_promtool_block_and_ours_overlapping_merge_into_one_that_promtool_reads";
    if !peer_available(test, "promtool", "--version") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Theirs: [T0, T0+2h) every 15 s for series a and b, backfilled by real promtool.
    let t0 = 1_700_000_000_000 / (2 * H) * (2 * H);
    let mut theirs = Data::new();
    theirs.insert(labels("a"), samples(t0, t0 + 2 * H, 15_000, value_at));
    theirs.insert(labels("b"), samples(t0, t0 + 2 * H, 15_000, value_at));
    let mut om = String::from("# TYPE kg_vc gauge\n");
    for (l, s) in &theirs {
        let name = l.get("s").unwrap();
        for (t, v) in s {
            om.push_str(&format!("kg_vc{{s=\"{name}\"}} {v} {}\n", t / 1000));
        }
    }
    om.push_str("# EOF\n");
    let om_file = work.path().join("in.om");
    std::fs::write(&om_file, om).unwrap();
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om_file)
        .arg(&data));
    assert_eq!(block_dirs(&data).len(), 1, "promtool wrote one 2 h block");
    // Ours: [T0+1h, T0+3h) every 10 s for b (shared timestamps every 30 s, equal values) and c.
    let mut ours = Data::new();
    ours.insert(labels("b"), samples(t0 + H, t0 + 3 * H, 10_000, value_at));
    ours.insert(labels("c"), samples(t0 + H, t0 + 3 * H, 10_000, value_at));
    write_block(&data, t0 + H, t0 + 3 * H, &ours);
    let want = dump_lines(&merged(&[&theirs, &ours]));

    let db = Db::open(&data, Options::default()).unwrap();
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_merged.len(), 1, "{report:?}");
    drop(db);
    let dirs = block_dirs(&data);
    assert_eq!(dirs.len(), 1, "one merged block left");
    let ulid = dirs[0].file_name().unwrap().to_str().unwrap().to_string();

    let list = run(Command::new("promtool").args(["tsdb", "list"]).arg(&data));
    let row = list
        .lines()
        .find(|l| l.starts_with(&ulid))
        .unwrap_or_else(|| panic!("promtool tsdb list lacks {ulid}:\n{list}"));
    let n = want.lines().count();
    assert!(
        row.split_whitespace().any(|f| f == n.to_string()),
        "promtool list row {row:?} lacks the sample count {n}"
    );
    let dump = run(Command::new("promtool").args(["tsdb", "dump"]).arg(&data));
    if dump != want {
        let diff = dump.lines().zip(want.lines()).find(|(a, b)| a != b);
        panic!(
            "promtool dump of the merged block differs ({} vs {} lines); first (promtool, want): {diff:?}",
            dump.lines().count(),
            n
        );
    }
    let Some(tool) = kagari_tool() else {
        kagari_testkit::skip(
            test,
            "target/debug/kagari-tool not built (cargo build -p kagari-tool)",
        );
        return;
    };
    let ours_dump = run(Command::new(tool).args(["tsdb", "dump"]).arg(&data));
    assert_eq!(ours_dump, want, "kagari-tool tsdb dump of the merged block");
    println!("merged a promtool block and ours: {n} samples, promtool and kagari-tool dumps equal");
}
