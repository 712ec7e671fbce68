//! `kagari-tool tsdb dump` of a directory left behind by a SIGKILLed Prometheus 2.42 (blocks,
//! `chunks_head/`, WAL; the fixture in `tsdb/testdata/prometheus_killed`) prints exactly what
//! `promtool tsdb dump` printed for it (`promtool_dump.txt`, sorted). No peer needed; the live
//! version of this check is `kagari-tsdb`'s `prometheus_killed` test. The same for a Prometheus
//! with an out-of-order window (`tsdb/tests/fixtures/prometheus_ooo`: 0x81 chunks, `wbl/`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tsdb/testdata/prometheus_killed")
}

#[test]
fn dump_of_a_killed_prometheus_equals_promtools() {
    assert_dump_equals_promtools(&fixture());
}

#[test]
fn dump_of_a_killed_prometheus_with_out_of_order_data_equals_promtools() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tsdb/tests/fixtures/prometheus_ooo");
    let lines = assert_dump_equals_promtools(&fixture);
    assert!(lines > 700, "{lines} lines");
}

/// Dumps a copy of `fixture/data` and compares it with `fixture/promtool_dump.txt`; returns the
/// number of lines.
fn assert_dump_equals_promtools(fixture: &Path) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    kagari_testkit::copy_dir(&fixture.join("data"), tmp.path()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kagari-tool"))
        .args(["tsdb", "dump"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap();
    let mut ours: Vec<&str> = ours.lines().collect();
    ours.sort_unstable();
    let want = std::fs::read_to_string(fixture.join("promtool_dump.txt")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(ours.len(), want.len(), "line counts (ours, promtool)");
    let first_diff = ours.iter().zip(&want).find(|(a, b)| a != b);
    assert!(
        first_diff.is_none(),
        "first difference (ours, promtool): {first_diff:?}"
    );
    // The directory itself is never written to.
    assert!(tmp.path().join("wbl").is_dir() == fixture.join("data/wbl").is_dir());
    want.len()
}
