//! Theirs → ours without a peer: `testdata/prometheus_killed/data` was left behind by a real
//! Prometheus 2.42 that was SIGKILLed while scraping (two backfilled blocks, `chunks_head/`
//! with 120-sample chunks, WAL segments); `promtool_dump.txt` is `promtool tsdb dump` of it,
//! sorted. `generate.sh` in that folder regenerates both.

use std::path::{Path, PathBuf};

use kagari_model::{MatchType, Matcher};
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{go_g, go_labels};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prometheus_killed")
}

/// Every sample of the database as promtool's dump lines, sorted.
fn sorted_dump(db: &Db) -> Vec<String> {
    let q = db.querier(i64::MIN, i64::MAX);
    let all = Matcher::new(MatchType::Regex, "__name__", ".+").unwrap();
    let mut lines = Vec::new();
    for s in q.select(&[all]).unwrap() {
        let l = go_labels(s.labels());
        for (t, v) in s.samples().unwrap() {
            lines.push(format!("{l} {} {t}", go_g(v)));
        }
    }
    lines.sort_unstable();
    lines
}

#[test]
fn fixture_has_blocks_chunks_head_and_wal() {
    let data = fixture().join("data");
    let blocks = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("meta.json").exists())
        .count();
    assert!(blocks >= 1);
    assert!(std::fs::read_dir(data.join("wal")).unwrap().count() >= 1);
    let tmp = tempfile::tempdir().unwrap();
    kagari_testkit::copy_dir(&data.join("chunks_head"), tmp.path()).unwrap();
    let (_m, rep) = ChunkDiskMapper::open(tmp.path()).unwrap();
    assert!(rep.repaired.is_none());
    assert!(rep.chunks.len() >= 10, "{} chunks", rep.chunks.len());
    assert!(rep.chunks.iter().all(|c| c.encoding == 1));
}

#[test]
fn our_dump_of_a_killed_prometheus_equals_promtools() {
    let tmp = tempfile::tempdir().unwrap();
    kagari_testkit::copy_dir(&fixture().join("data"), tmp.path()).unwrap();
    let db = Db::open(tmp.path(), Options::default()).unwrap();
    assert!(db.chunks_head_repair().is_none());
    // Prometheus's m-mapped chunks were attached, and the WAL samples they hold skipped.
    let (_heap, mapped) = db.head().chunk_bytes();
    assert!(mapped > 0);
    assert!(db.replay_stats().skipped_samples > 0);
    let ours = sorted_dump(&db);
    let want = std::fs::read_to_string(fixture().join("promtool_dump.txt")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(ours.len(), want.len(), "line counts differ");
    let first_diff = ours.iter().zip(&want).find(|(a, b)| a != *b);
    assert!(
        first_diff.is_none(),
        "first difference (ours, promtool): {first_diff:?}"
    );
}
