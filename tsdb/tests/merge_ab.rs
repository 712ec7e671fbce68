//! The streaming block merge of `Db::compact` against the plain way (every series decoded
//! through the querier and re-encoded by `BlockWriter`, what `Db::compact` did before), in one
//! process, alternating, on copies of the same parents: both must give the same samples.
//! Two cases: overlapping blocks (vertical compaction) and adjacent blocks (leveled, where the
//! merge copies chunks). Prints the calling thread's CPU time of each, for `benches/README.md`;
//! `KAGARI_MERGE_SERIES` (default 200) and `KAGARI_MERGE_ROUNDS` (default 1) scale it:
//! `KAGARI_MERGE_SERIES=2000 KAGARI_MERGE_ROUNDS=5 cargo test --release -p kagari-tsdb --test
//! merge_ab -- --nocapture`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use kagari_model::Labels;
use kagari_testkit::copy_dir;
use kagari_tsdb::block::{open_blocks, Block, BlockWriter};
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::Querier;

const H: i64 = 3_600_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Parents: `series` series per block, one sample every 30 s, each block shifted by `shift`.
fn parents(dir: &Path, series: usize, ranges: &[(i64, i64, i64)]) {
    for &(mint, maxt, shift) in ranges {
        let mut w = BlockWriter::new();
        w.set_time_range(mint, maxt).unwrap();
        for i in 0..series {
            let l =
                Labels::from_pairs([("__name__", "kg_merge"), ("i", &format!("{i:05}"))]).unwrap();
            let s: Vec<(i64, f64)> = (0..)
                .map(|k| mint + shift + k * 30_000)
                .take_while(|&t| t < maxt)
                .map(|t| (t, ((t / 1000) % 1000) as f64 + i as f64))
                .collect();
            w.add_series(l, &s).unwrap();
        }
        w.write(dir).unwrap();
    }
}

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn samples_of(blocks: Vec<Arc<Block>>) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = Querier::new(None, blocks, i64::MIN, i64::MAX);
    q.select(&[])
        .unwrap()
        .into_iter()
        .map(|s| (s.labels().clone(), s.samples().unwrap()))
        .collect()
}

/// The plain merge: decode through the querier, re-encode with `BlockWriter`.
fn plain_merge(dir: &Path) -> u64 {
    let blocks: Vec<Arc<Block>> = open_blocks(dir)
        .unwrap()
        .into_iter()
        .map(Arc::new)
        .collect();
    let mint = blocks.iter().map(|b| b.meta().min_time).min().unwrap();
    let maxt = blocks.iter().map(|b| b.meta().max_time).max().unwrap();
    let cpu = thread_cpu_ns();
    let q = Querier::new(None, blocks, mint, maxt - 1);
    let mut w = BlockWriter::new();
    w.set_time_range(mint, maxt).unwrap();
    for s in q.select(&[]).unwrap() {
        w.add_series(s.labels().clone(), &s.samples().unwrap())
            .unwrap();
    }
    let out = dir.join("plain");
    std::fs::create_dir_all(&out).unwrap();
    w.write(&out).unwrap();
    thread_cpu_ns() - cpu
}

fn case(name: &str, ranges: &[(i64, i64, i64)]) {
    let series = env("KAGARI_MERGE_SERIES", 200);
    let rounds = env("KAGARI_MERGE_ROUNDS", 1);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    parents(&src, series, ranges);
    let want = samples_of(
        open_blocks(&src)
            .unwrap()
            .into_iter()
            .map(Arc::new)
            .collect(),
    );
    let n: usize = want.iter().map(|s| s.1.len()).sum();
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let a = work.path().join(format!("ours{r}"));
        copy_dir(&src, &a).unwrap();
        let db = Db::open(&a, Options::default()).unwrap();
        let t0 = (thread_cpu_ns(), Instant::now());
        let report = db.compact().unwrap();
        ours.push((thread_cpu_ns() - t0.0, t0.1.elapsed()));
        assert_eq!(report.blocks_merged.len(), 1, "{name}: {report:?}");
        assert_eq!(samples_of(db.blocks()), want, "{name}: merged samples");
        drop(db);

        let b = work.path().join(format!("plain{r}"));
        copy_dir(&src, &b).unwrap();
        plain.push(plain_merge(&b));
        let merged = open_blocks(&b.join("plain")).unwrap();
        assert_eq!(samples_of(merged.into_iter().map(Arc::new).collect()), want);
    }
    let med = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2] as f64 / 1e6
    };
    let mut ours_cpu: Vec<u64> = ours.iter().map(|x| x.0).collect();
    println!(
        "{name}: {n} samples, {rounds} rounds: streaming merge (Db::compact) {:.1} ms thread CPU (median), plain querier + BlockWriter {:.1} ms",
        med(&mut ours_cpu),
        med(&mut plain)
    );
}

#[test]
fn overlapping_blocks_merge_like_the_plain_way() {
    case("vertical", &[(0, 2 * H, 0), (0, 2 * H, 15_000)]);
}

#[test]
fn adjacent_blocks_merge_like_the_plain_way() {
    case(
        "leveled",
        &[
            (0, 2 * H, 0),
            (2 * H, 4 * H, 0),
            (4 * H, 6 * H, 0),
            (6 * H, 8 * H, 0),
        ],
    );
}
