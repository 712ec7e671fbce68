//! WAL scenarios: round trips across page and segment boundaries, repair of damaged tails,
//! and crash consistency of synced records.

use std::fs;
use std::path::Path;

use kagari_tsdb::record::{self, RefSample};
use kagari_tsdb::wlog::{
    self, Compression, SegmentRange, SyncPolicy, WalOptions, WalReader, WalWriter, PAGE_SIZE,
};
use kagari_tsdb::Error;
use proptest::prelude::*;

/// Deterministic record contents: `len` bytes derived from `seed`, compressible or not.
fn make_record(seed: u64, len: usize, compressible: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            if compressible {
                (seed as usize + i / 64) as u8
            } else {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            }
        })
        .collect()
}

/// Writes records one `log` call each; returns for each record the (segment, end offset).
fn write_records(dir: &Path, opts: WalOptions, records: &[Vec<u8>]) -> Vec<(u32, u64)> {
    let mut w = WalWriter::open(dir, opts).expect("open");
    let mut ends = Vec::new();
    for r in records {
        w.log_record(r).expect("log");
        ends.push((w.segment(), w.segment_offset()));
    }
    drop(w); // no close: like a process that died after its last write
    ends
}

/// The records read before an error, and the error.
type Partial = (Vec<Vec<u8>>, Error);

fn read_all(dir: &Path) -> Result<Vec<Vec<u8>>, Partial> {
    let mut r = WalReader::open(&SegmentRange::all(dir)).map_err(|e| (Vec::new(), e))?;
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push(rec.to_vec()),
            Ok(None) => return Ok(out),
            Err(e) => return Err((out, e)),
        }
    }
}

/// Reads, repairing at most a few times, and returns the records that survive.
fn read_with_repair(dir: &Path) -> Vec<Vec<u8>> {
    for _ in 0..4 {
        match read_all(dir) {
            Ok(recs) => return recs,
            Err((_, e)) => {
                let (seg, off) = e.wal_corruption_position().unwrap_or_else(|| panic!("{e}"));
                wlog::repair(dir, seg, off).expect("repair");
            }
        }
    }
    panic!("WAL still corrupt after repairs");
}

fn record_strategy() -> impl Strategy<Value = (usize, bool)> {
    let len = prop_oneof![
        4 => 0usize..200,
        3 => 200usize..8_000,
        2 => (PAGE_SIZE - 20)..(PAGE_SIZE + 20),
        1 => 8_000usize..(3 * PAGE_SIZE),
    ];
    (len, any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn records_round_trip_across_pages_and_segments(
        specs in prop::collection::vec(record_strategy(), 1..40),
        pages_per_segment in 1usize..4,
        snappy in any::<bool>(),
        batch in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = specs
            .iter()
            .enumerate()
            .map(|(i, &(len, c))| make_record(i as u64, len, c))
            .collect();
        let opts = WalOptions {
            segment_size: pages_per_segment * PAGE_SIZE,
            compression: if snappy { Compression::Snappy } else { Compression::None },
            sync: SyncPolicy::OnSegmentClose,
        };
        let mut w = WalWriter::open(dir.path(), opts).unwrap();
        for chunk in records.chunks(batch) {
            w.log(chunk).unwrap();
        }
        w.close().unwrap();
        let got = read_all(dir.path()).map_err(|(_, e)| e).unwrap();
        prop_assert_eq!(got.len(), records.len());
        prop_assert!(got == records);
        // Every closed segment is a whole number of pages.
        for s in wlog::segments(dir.path()).unwrap() {
            let len = fs::metadata(wlog::segment_path(dir.path(), s)).unwrap().len();
            prop_assert_eq!(len % PAGE_SIZE as u64, 0);
        }
    }

    #[test]
    fn damaged_tail_is_repaired_and_earlier_records_survive(
        specs in prop::collection::vec((1usize..12_000, any::<bool>()), 2..30),
        snappy in any::<bool>(),
        damage in prop_oneof![
            (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, m)| (i, Some(m))),
            any::<prop::sample::Index>().prop_map(|i| (i, None)),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = specs
            .iter()
            .enumerate()
            .map(|(i, &(len, c))| make_record(i as u64 + 1000, len, c))
            .collect();
        let opts = WalOptions {
            segment_size: 2 * PAGE_SIZE,
            compression: if snappy { Compression::Snappy } else { Compression::None },
            sync: SyncPolicy::OnSegmentClose,
        };
        let ends = write_records(dir.path(), opts, &records);
        let last = *wlog::segments(dir.path()).unwrap().last().unwrap();
        let path = wlog::segment_path(dir.path(), last);
        let mut bytes = fs::read(&path).unwrap();
        prop_assume!(!bytes.is_empty());
        let (idx, mask) = damage;
        let at = idx.index(bytes.len());
        match mask {
            Some(m) => bytes[at] ^= m,
            None => bytes.truncate(at),
        }
        fs::write(&path, &bytes).unwrap();

        // Records entirely before the damaged byte must survive.
        let intact = ends
            .iter()
            .take_while(|&&(seg, end)| seg < last || end <= at as u64)
            .count();
        let got = read_with_repair(dir.path());
        prop_assert!(got.len() >= intact, "{} < {}", got.len(), intact);
        prop_assert!(got.len() <= records.len());
        prop_assert!(got[..] == records[..got.len()], "survivors are not a prefix");
        // After repair, a new writer continues and everything reads cleanly.
        let mut w = WalWriter::open(dir.path(), opts).unwrap();
        w.log_record(b"after repair").unwrap();
        w.close().unwrap();
        let again = read_all(dir.path()).map_err(|(_, e)| e).unwrap();
        prop_assert_eq!(again.len(), got.len() + 1);
    }

    #[test]
    fn synced_records_survive_a_crash(
        specs in prop::collection::vec((1usize..10_000, any::<bool>()), 2..25),
        synced_frac in 0.0f64..1.0,
        cut_frac in 0.0f64..1.0,
        garbage in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // With `SyncPolicy::EveryLog` each `log` returning Ok means durable. A machine crash
        // may then lose or tear anything written after the last synced record; we simulate
        // that by cutting the file anywhere after the synced point and appending garbage.
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = specs
            .iter()
            .enumerate()
            .map(|(i, &(len, c))| make_record(i as u64 + 7, len, c))
            .collect();
        let opts = WalOptions {
            segment_size: 64 * PAGE_SIZE,
            compression: Compression::None,
            sync: SyncPolicy::EveryLog,
        };
        let ends = write_records(dir.path(), opts, &records);
        let synced = ((records.len() as f64 * synced_frac) as usize).clamp(1, records.len());
        let (seg, durable) = ends[synced - 1];
        prop_assert_eq!(seg, 0);
        let path = wlog::segment_path(dir.path(), 0);
        let mut bytes = fs::read(&path).unwrap();
        let cut = durable as usize + ((bytes.len() - durable as usize) as f64 * cut_frac) as usize;
        bytes.truncate(cut);
        bytes.extend_from_slice(&garbage);
        fs::write(&path, &bytes).unwrap();

        let got = read_with_repair(dir.path());
        prop_assert!(got.len() >= synced, "lost synced records: {} < {}", got.len(), synced);
        prop_assert!(got[..] == records[..got.len()]);
    }
}

#[test]
fn writer_dropped_without_close_keeps_every_logged_record() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (0..50)
        .map(|i| make_record(i, 3000 + i as usize * 7, false))
        .collect();
    write_records(dir.path(), WalOptions::default(), &records);
    assert_eq!(read_all(dir.path()).map_err(|(_, e)| e).unwrap(), records);
    // Reopening starts a new segment; the old, unpadded one still reads.
    let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(w.segment(), 1);
    w.log_record(b"x").unwrap();
    w.close().unwrap();
    assert_eq!(read_all(dir.path()).map_err(|(_, e)| e).unwrap().len(), 51);
}

#[test]
fn reader_over_a_sub_range_of_segments() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: PAGE_SIZE,
        ..WalOptions::default()
    };
    let mut w = WalWriter::open(dir.path(), opts).unwrap();
    for i in 0..4u8 {
        w.log_record(&[i; 100]).unwrap();
        w.next_segment().unwrap();
    }
    w.close().unwrap();
    let mut r = WalReader::open(&SegmentRange::new(dir.path(), Some(1), Some(2))).unwrap();
    let mut firsts = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        firsts.push(rec[0]);
    }
    assert_eq!(firsts, vec![1, 2]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn record_decoders_reject_garbage_without_panicking(
        ty in 0u8..10,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut rec = vec![ty];
        rec.extend_from_slice(&body);
        match record::decode(&rec) {
            Ok(_) | Err(Error::Record { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error kind {other}"),
        }
    }

    #[test]
    fn samples_round_trip_bit_exact(
        samples in prop::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..50),
    ) {
        let samples: Vec<RefSample> = samples
            .into_iter()
            .map(|(r, t, bits)| RefSample { series_ref: r, t, v: f64::from_bits(bits) })
            .collect();
        let mut buf = Vec::new();
        record::encode_samples(&samples, &mut buf);
        let mut out = Vec::new();
        record::decode_samples(&buf, &mut out).unwrap();
        prop_assert_eq!(out.len(), samples.len());
        for (a, b) in samples.iter().zip(&out) {
            prop_assert_eq!((a.series_ref, a.t, a.v.to_bits()), (b.series_ref, b.t, b.v.to_bits()));
        }
    }

    #[test]
    fn reader_reports_garbage_segments_as_corruption(
        bytes in prop::collection::vec(any::<u8>(), 1..(2 * PAGE_SIZE + 100)),
    ) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(wlog::segment_path(dir.path(), 0), &bytes).unwrap();
        match read_all(dir.path()) {
            Ok(_) => {}
            Err((_, Error::WalCorruption { segment: 0, offset, .. })) => {
                prop_assert!(offset <= bytes.len() as u64);
            }
            Err((_, other)) => prop_assert!(false, "unexpected error kind {other}"),
        }
    }
}

/// Env var that turns [`writer_killed_with_sigkill_keeps_acknowledged_records`] into the child
/// process that writes the WAL.
const CHILD_DIR_ENV: &str = "KAGARI_WAL_CRASH_CHILD_DIR";

#[test]
fn writer_killed_with_sigkill_keeps_acknowledged_records() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        // Child: log records forever (bounded), acknowledging each after `log` returned.
        let opts = WalOptions {
            segment_size: 4 * PAGE_SIZE,
            compression: Compression::Snappy,
            sync: SyncPolicy::EveryLog,
        };
        let mut w = WalWriter::open(Path::new(&dir), opts).expect("open");
        let mut out = std::io::stdout().lock();
        for i in 0..200_000u64 {
            w.log_record(&make_record(i, 500 + (i as usize * 37) % 9_000, i % 3 == 0))
                .expect("log");
            writeln!(out, "synced {i}").expect("stdout");
            out.flush().expect("flush");
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "writer_killed_with_sigkill_keeps_acknowledged_records",
            "--nocapture",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acked: Option<u64> = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(n) = line.strip_prefix("synced ") {
            acked = n.parse().ok();
            if acked >= Some(300) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
                           // Acknowledgements already in the pipe still count.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("synced ") {
            acked = n.parse().ok().or(acked);
        }
    }
    child.wait().unwrap();
    let acked = acked.expect("child acknowledged nothing");
    assert!(acked >= 300);

    let got = read_with_repair(dir.path());
    assert!(
        got.len() as u64 > acked,
        "lost acknowledged records: {} <= {acked}",
        got.len()
    );
    for (i, rec) in got.iter().enumerate() {
        let i = i as u64;
        assert!(
            *rec == make_record(i, 500 + (i as usize * 37) % 9_000, i % 3 == 0),
            "record {i}"
        );
    }
    assert!(
        wlog::segments(dir.path()).unwrap().len() > 1,
        "expected several segments"
    );
}
