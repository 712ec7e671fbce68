//! Theirs → ours without a peer, out-of-order data: `tests/fixtures/prometheus_ooo/data` was
//! left behind by a real Prometheus 2.42 with `out_of_order_time_window: 1h` (stopped once,
//! then SIGKILLed): 0x81 chunks in `chunks_head/`, `wbl/` and `wal/`. `promtool_dump.txt` is
//! `promtool tsdb dump` of it, sorted; `generate.sh` in that folder regenerates both.

use std::path::{Path, PathBuf};

use kagari_testkit::copy_dir;
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::db::{Db, Options};

mod promtool_common;
use promtool_common::{go_g, go_labels};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prometheus_ooo")
}

fn sorted_dump(db: &Db) -> Vec<String> {
    let q = db.querier(i64::MIN, i64::MAX);
    let mut lines = Vec::new();
    for s in q.select(&[]).unwrap() {
        let l = go_labels(s.labels());
        for (t, v) in s.samples().unwrap() {
            lines.push(format!("{l} {} {t}", go_g(v)));
        }
    }
    lines.sort_unstable();
    lines
}

#[test]
fn fixture_has_out_of_order_chunks_and_a_wbl() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture().join("data/chunks_head"), tmp.path()).unwrap();
    let (m, rep) = ChunkDiskMapper::open(tmp.path()).unwrap();
    assert_eq!(rep.ooo_chunks, 4);
    assert!(rep.chunks.is_empty(), "no in-order chunk was full");
    let ooo = m.take_ooo_chunks();
    assert!(ooo
        .iter()
        .all(|c| c.encoding == 0x81 && c.is_out_of_order()));
    assert!(m.take_ooo_chunks().is_empty(), "taken once");
    assert!(fixture().join("data/wbl").is_dir());
}

#[test]
fn out_of_order_data_of_a_killed_prometheus_dumps_like_promtool() {
    let want: Vec<String> = std::fs::read_to_string(fixture().join("promtool_dump.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture().join("data"), tmp.path()).unwrap();
    let db = Db::open(tmp.path(), Options::default()).unwrap();
    let head_only = sorted_dump(&db);
    assert!(
        head_only.len() < want.len(),
        "the head alone lacks the out-of-order samples"
    );
    let blocks = db.import_out_of_order().unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].compaction.hints, ["from-out-of-order"]);
    let got = sorted_dump(&db);
    assert_eq!(got.len(), want.len(), "line counts (ours, promtool)");
    let first_diff = got.iter().zip(&want).find(|(a, b)| a != b);
    assert!(
        first_diff.is_none(),
        "first difference (ours, promtool): {first_diff:?}"
    );
    // Compaction merges nothing here (one block); a reopen keeps every sample (the block,
    // from out-of-order data, does not bound the head's WAL replay) and imports nothing again.
    db.compact().unwrap();
    db.close().unwrap();
    drop(db);
    let db = Db::open(tmp.path(), Options::default()).unwrap();
    assert!(db.import_out_of_order().unwrap().is_empty());
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(sorted_dump(&db), want, "after a reopen");
}
