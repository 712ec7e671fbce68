//! Repairing a WAL after a crash: cut it at the first damaged record.

use std::fs::{self, OpenOptions};
use std::path::Path;

use super::segment::{segment_path, segments, sync_dir};
use crate::error::{Error, Result};

/// What [`repair`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairStats {
    /// Segments after the damaged one that were deleted.
    pub deleted_segments: usize,
    /// Bytes cut from the end of the damaged segment.
    pub truncated_bytes: u64,
}

/// Repairs the WAL in `dir` after a [`WalReader`](super::WalReader) reported
/// [`Error::WalCorruption`] at `segment`/`offset`: deletes every later segment and truncates
/// `segment` to `offset` (the end of its last intact record), then fsyncs.
///
/// Prometheus does the same (it rewrites the damaged segment with the records before the
/// damage, which yields the same bytes). A truncated segment is legal: readers treat the rest
/// of its last page as padding. Records after the damage are lost; everything before it is
/// kept. Pass the numbers from the error; [`Error::wal_corruption_position`] extracts them.
/// Check [`CorruptionReason::is_repairable`](super::CorruptionReason::is_repairable) first: a
/// zstd-compressed record is not damage.
///
/// Replay and repair before opening a [`WalWriter`](super::WalWriter) on `dir`: the writer's
/// fresh segment is numbered after the damaged one and would be deleted with the others.
pub fn repair(dir: &Path, segment: u32, offset: u64) -> Result<RepairStats> {
    let all = segments(dir)?;
    if !all.contains(&segment) {
        return Err(Error::InvalidInput {
            writer: "WAL repair",
            reason: format!("segment {segment} does not exist in {}", dir.display()),
        });
    }
    let mut deleted_segments = 0;
    // Delete newest first so that a crash half-way still leaves a contiguous WAL.
    for &s in all.iter().rev().filter(|&&s| s > segment) {
        let p = segment_path(dir, s);
        fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
        deleted_segments += 1;
    }
    let p = segment_path(dir, segment);
    let f = OpenOptions::new()
        .write(true)
        .open(&p)
        .map_err(|e| Error::io("open", &p, e))?;
    let len = f.metadata().map_err(|e| Error::io("stat", &p, e))?.len();
    let truncated_bytes = len.saturating_sub(offset);
    if truncated_bytes > 0 {
        f.set_len(offset)
            .map_err(|e| Error::io("truncate", &p, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &p, e))?;
    }
    sync_dir(dir)?;
    Ok(RepairStats {
        deleted_segments,
        truncated_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{SegmentRange, WalOptions, WalReader, WalWriter, PAGE_SIZE};
    use super::*;

    #[test]
    fn repair_cuts_at_damage_and_drops_later_segments() {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            segment_size: PAGE_SIZE,
            ..WalOptions::default()
        };
        let mut w = WalWriter::open(dir.path(), opts).unwrap();
        for i in 0..10u8 {
            w.log_record(&[i; 10_000]).unwrap();
        }
        w.close().unwrap();
        assert_eq!(segments(dir.path()).unwrap(), vec![0, 1, 2, 3]);
        // Damage the second record of segment 1.
        let p = segment_path(dir.path(), 1);
        let mut bytes = fs::read(&p).unwrap();
        bytes[10_007 + 100] ^= 1;
        fs::write(&p, &bytes).unwrap();

        let mut r = WalReader::open(&SegmentRange::all(dir.path())).unwrap();
        let mut good = Vec::new();
        let err = loop {
            match r.next_record() {
                Ok(Some(rec)) => good.push(rec[0]),
                Ok(None) => panic!("corruption not detected"),
                Err(e) => break e,
            }
        };
        assert_eq!(good, vec![0, 1, 2, 3]);
        let (seg, off) = err.wal_corruption_position().unwrap();
        assert_eq!((seg, off), (1, 10_007));
        let stats = repair(dir.path(), seg, off).unwrap();
        assert_eq!(stats.deleted_segments, 2);
        assert_eq!(segments(dir.path()).unwrap(), vec![0, 1]);

        let mut r = WalReader::open(&SegmentRange::all(dir.path())).unwrap();
        let mut after = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            after.push(rec[0]);
        }
        assert_eq!(after, good);
        // A writer continues after the repaired segment.
        let w = WalWriter::open(dir.path(), opts).unwrap();
        assert_eq!(w.segment(), 2);
    }
}
