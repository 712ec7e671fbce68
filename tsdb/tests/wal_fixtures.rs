//! Read compatibility without peers: WAL data written by Prometheus 2.42, checked in under
//! `testdata/wal/` (see the README there), decodes with our reader and codecs.

mod wal_common;

use std::path::{Path, PathBuf};

use kagari_tsdb::wlog::{WalOptions, WalWriter};
use wal_common::{check_self_scrape, decode_wal};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wal/prometheus-2.42-selfscrape")
}

#[test]
fn checked_in_prometheus_segment_decodes() {
    let d = decode_wal(&fixture_dir());
    let ups = check_self_scrape(&d);
    assert!(ups >= 3, "{ups} up samples");
    // The fixture was written with 2.42's default compression: snappy-flagged fragments.
    assert!(d.records >= 5);
}

/// `mint` of the checkpoint fixture, from the Prometheus log line that created it.
const FIXTURE_CHECKPOINT_MINT: i64 = 1_795_320_720_000;

#[test]
fn checked_in_prometheus_checkpoint_decodes_and_refolds() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/wal/prometheus-2.42-checkpoint/checkpoint.00000001");
    let d = decode_wal(&src);
    assert!(d.series.len() > 50, "only {} series", d.series.len());
    assert!(
        d.series.values().any(|l| l.metric_name() == Some("up")),
        "no `up` series"
    );
    assert!(
        d.samples.iter().all(|s| s.t >= FIXTURE_CHECKPOINT_MINT),
        "a checkpoint keeps only samples at or after its mint"
    );

    // Our checkpoint code reads Prometheus's checkpoint as its base and keeps every series.
    let tmp = tempfile::tempdir().expect("tempdir");
    let wal = tmp.path().join("wal");
    let dst = wal.join("checkpoint.00000001");
    std::fs::create_dir_all(&dst).expect("mkdir");
    std::fs::copy(src.join("00000000"), dst.join("00000000")).expect("copy");
    let w = WalWriter::open(&wal, WalOptions::default()).expect("writer");
    assert_eq!(w.segment(), 0);
    w.close().expect("close");
    std::fs::rename(wal.join("00000000"), wal.join("00000002")).expect("rename");
    let st = kagari_tsdb::wlog::checkpoint(&wal, 2, 2, |_| true, 0).expect("checkpoint");
    assert_eq!(st.total_series, d.series.len());
    assert_eq!(st.dropped_series, 0);
    assert_eq!(
        kagari_tsdb::wlog::delete_checkpoints_before(&wal, 2).expect("delete"),
        1
    );
    let again = decode_wal(&wal.join("checkpoint.00000002"));
    assert_eq!(again.series, d.series);
    assert_eq!(again.samples.len(), d.samples.len());
}

#[test]
fn checked_in_prometheus_checkpoint_plus_segment_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wal/prometheus-2.42-checkpoint");
    let seg = std::fs::read(dir.join("00000002")).expect("fixture");
    // The fixture's point: a record written by Prometheus as first + last fragments.
    assert_eq!(
        seg.first(),
        Some(&0x09),
        "starts with a snappy full fragment"
    );
    assert!(seg.len() > 32 * 1024, "spans a page boundary");
    assert_eq!(
        seg.get(32 * 1024).map(|b| b & 0x07),
        Some(4),
        "last fragment opens page 2"
    );

    let d = decode_wal(&dir);
    assert_eq!(
        d.records,
        2 + 19,
        "two series records from the checkpoint, 19 from segment 2"
    );
    let ups = check_self_scrape(&d);
    assert!(ups >= 1, "{ups} up samples");
    // Segment 2 defines no series: every sample's series came from the checkpoint
    // (`decode_wal` checks that each sample's series was defined before it).
    assert_eq!(d.series.len(), 360);
}
