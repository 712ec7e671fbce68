//! Rebuilding the head from the newest checkpoint and the WAL segments after it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::series::{check_order, SeriesRef, Verdict};
use super::{Head, MmappedBySeries};
use crate::error::{Error, Result};
use crate::record::{self, RecordType, RefSample, RefSeries, Stone};
use crate::wlog::{self, WalReader};

/// What a replay read and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Series records entries read.
    pub series: u64,
    /// Samples applied.
    pub samples: u64,
    /// Samples skipped (unknown series, older than the minimum valid time, out of order).
    pub skipped_samples: u64,
    /// Tombstone entries read.
    pub tombstones: u64,
    /// Records of other types ignored.
    pub other_records: u64,
    /// `Some((segment, offset))` when a corrupt tail was cut off by `wlog::repair`.
    pub repaired_at: Option<(u32, u64)>,
}

/// Replays `wal_dir` (checkpoint, then segments) into `head`. A damaged record in the WAL
/// proper ends the replay and the WAL is repaired (cut at that record), as Prometheus does;
/// damage inside the checkpoint is an error.
///
/// `mmapped` holds the chunks read from `chunks_head/` (upstream replays them first): a
/// series record that creates a series attaches its chunks, and WAL samples at or before the
/// last of them are skipped. Chunks of series the WAL never names are left in the map.
pub(crate) fn replay(
    head: &Head,
    wal_dir: &Path,
    mmapped: &mut MmappedBySeries,
) -> Result<ReplayStats> {
    let mut stats = ReplayStats::default();
    if !wal_dir.exists() {
        return Ok(stats);
    }
    let mut reader = WalReader::open_replay(wal_dir)?;
    let mut aliases: HashMap<SeriesRef, SeriesRef> = HashMap::new();
    let mut series: Vec<RefSeries> = Vec::new();
    let mut samples: Vec<RefSample> = Vec::new();
    let mut stones: Vec<Stone> = Vec::new();
    let chunk_range = head.options().chunk_range;
    loop {
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                let repairable = match &e {
                    Error::WalCorruption { dir, reason, .. } => {
                        dir.as_path() == wal_dir && reason.is_repairable()
                    }
                    _ => false,
                };
                let Some((seg, off)) = e.wal_corruption_position().filter(|_| repairable) else {
                    return Err(e);
                };
                wlog::repair(wal_dir, seg, off)?;
                stats.repaired_at = Some((seg, off));
                break;
            }
        };
        match RecordType::of(rec) {
            RecordType::Series => {
                series.clear();
                record::decode_series(rec, &mut series)?;
                for s in series.drain(..) {
                    stats.series += 1;
                    let (m, created) = head.get_or_create(&s.labels, Some(s.series_ref));
                    m.logged.store(true, Ordering::Release);
                    if let Some(chunks) = mmapped.remove(&s.series_ref).filter(|_| created) {
                        head.attach_mmapped(&m, chunks);
                    }
                    if m.series_ref != s.series_ref {
                        aliases.insert(s.series_ref, m.series_ref);
                    }
                }
            }
            RecordType::Samples => {
                samples.clear();
                record::decode_samples(rec, &mut samples)?;
                let min_valid = head.min_valid_time.load(Ordering::Acquire);
                let (mut mint, mut maxt, mut applied, mut cut) = (i64::MAX, i64::MIN, 0, 0);
                for s in &samples {
                    let r = aliases.get(&s.series_ref).copied().unwrap_or(s.series_ref);
                    let Some(m) = head.series(r).filter(|_| s.t >= min_valid) else {
                        stats.skipped_samples += 1;
                        continue;
                    };
                    let mut st = m.state.lock();
                    match check_order(r, st.max_t, st.last_bits, s.t, s.v) {
                        Ok(Verdict::Append) => {
                            if st.append(s.t, s.v, chunk_range)? {
                                cut += 1;
                                head.mmap_closed(r, &mut st);
                            }
                            mint = mint.min(s.t);
                            maxt = maxt.max(s.t);
                            applied += 1;
                        }
                        _ => stats.skipped_samples += 1,
                    }
                }
                if applied > 0 {
                    head.observe_time(mint, maxt);
                }
                stats.samples += applied;
                let hs = head.head_stats();
                hs.samples_appended.fetch_add(applied, Ordering::Relaxed);
                hs.chunks_created.fetch_add(cut, Ordering::Relaxed);
            }
            RecordType::Tombstones => {
                stones.clear();
                record::decode_tombstones(rec, &mut stones)?;
                for s in &mut stones {
                    stats.tombstones += 1;
                    if let Some(&r) = aliases.get(&s.series_ref) {
                        s.series_ref = r;
                    }
                }
                head.add_tombstones(&stones);
            }
            _ => stats.other_records += 1,
        }
    }
    Ok(stats)
}
