//! Checkpoints: fold a range of old segments (plus the previous checkpoint) into
//! `checkpoint.NNNNNNNN/`, keeping only what a replay still needs.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::segment::{sync_dir, SegmentRange};
use super::{Compression, SyncPolicy, WalOptions, WalReader, WalWriter};
use crate::error::{Error, Result};
use crate::record::{self, HeadSeriesRef, RecordType, RefMetadata};

const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// Records are written to the checkpoint in batches of about this many bytes.
const BATCH_BYTES: usize = 1024 * 1024;

/// What a [`checkpoint`] kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// The checkpoint directory written.
    pub dir: PathBuf,
    /// Series definitions read / kept.
    pub total_series: usize,
    /// Series definitions dropped.
    pub dropped_series: usize,
    /// Samples read.
    pub total_samples: usize,
    /// Samples dropped (older than `mint`).
    pub dropped_samples: usize,
    /// Tombstone entries read.
    pub total_tombstones: usize,
    /// Tombstone entries dropped.
    pub dropped_tombstones: usize,
    /// Exemplars read.
    pub total_exemplars: usize,
    /// Exemplars dropped.
    pub dropped_exemplars: usize,
    /// Histogram samples (integer and float) read.
    pub total_histograms: usize,
    /// Histogram samples dropped (older than `mint`).
    pub dropped_histograms: usize,
    /// Metadata entries read.
    pub total_metadata: usize,
    /// Metadata entries dropped (superseded or of dropped series).
    pub dropped_metadata: usize,
    /// Records of unknown types copied unchanged.
    pub copied_other: usize,
    /// Records dropped because of their type (mmap markers belong to the WBL only).
    pub dropped_other: usize,
}

/// The newest `checkpoint.NNNNNNNN` directory in `wal_dir` and its number, if any.
///
/// `checkpoint.NNNNNNNN.tmp` directories (interrupted checkpoints) are ignored; a file (not a
/// directory) named like a checkpoint is an error, as in Prometheus.
pub fn last_checkpoint(wal_dir: &Path) -> Result<Option<(PathBuf, u32)>> {
    Ok(list_checkpoints(wal_dir)?
        .into_iter()
        .max_by_key(|(_, n)| *n))
}

fn list_checkpoints(wal_dir: &Path) -> Result<Vec<(PathBuf, u32)>> {
    let rd = fs::read_dir(wal_dir).map_err(|e| Error::io("read dir", wal_dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", wal_dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(num) = name.strip_prefix(CHECKPOINT_PREFIX) else {
            continue;
        };
        if num.len() < 8 || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue; // `.tmp` and other leftovers
        }
        let Ok(n) = num.parse::<u32>() else { continue };
        let path = entry.path();
        if !entry
            .file_type()
            .map_err(|e| Error::io("stat", &path, e))?
            .is_dir()
        {
            return Err(Error::InvalidInput {
                writer: "WAL checkpoint",
                reason: format!("checkpoint {} is not a directory", path.display()),
            });
        }
        out.push((path, n));
    }
    Ok(out)
}

/// Deletes every checkpoint numbered below `n`, and leftover `.tmp` checkpoint directories;
/// returns how many checkpoints were removed.
pub fn delete_checkpoints_before(wal_dir: &Path, n: u32) -> Result<usize> {
    let mut removed = 0;
    for (path, idx) in list_checkpoints(wal_dir)? {
        if idx < n {
            fs::remove_dir_all(&path).map_err(|e| Error::io("remove dir", &path, e))?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(wal_dir)?;
    }
    Ok(removed)
}

/// Which segments a head truncation should fold into a checkpoint, as Prometheus's
/// `truncateWAL` decides: given the closed segments `first..=last` (the writer has just
/// started a new segment after `last`), checkpoint `first..=first + (last - first) * 2 / 3`;
/// `None` when that range would end at or before `first` (not worth it).
pub fn checkpoint_range(first: u32, last: u32) -> Option<(u32, u32)> {
    let span = u64::from(last.checked_sub(first)?);
    let to = u64::from(first) + span * 2 / 3;
    let to = u32::try_from(to).ok()?;
    (to > first).then_some((first, to))
}

/// Writes `checkpoint.<to>` in `wal_dir` from the previous checkpoint (if any) and WAL
/// segments `from..=to`, uncompressed; see [`checkpoint_with`].
pub fn checkpoint(
    wal_dir: &Path,
    from: u32,
    to: u32,
    keep_series: impl Fn(HeadSeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats> {
    checkpoint_with(wal_dir, from, to, keep_series, mint, Compression::None)
}

/// Writes `checkpoint.<to>` in `wal_dir`, as Prometheus's `wlog.Checkpoint` does:
///
/// - Input: the newest existing checkpoint (if any; then reading starts at the segment after
///   it, and `from` may not leave a gap), then WAL segments `from..=to`.
/// - Series records keep the series for which `keep_series(ref)` is true.
/// - Samples and exemplars keep `t >= mint`; tombstones keep entries of kept series with
///   `maxt >= mint`; metadata keeps the latest entry per kept series, written last.
/// - Histogram samples keep `t >= mint`. Mmap markers are dropped. Records of unknown types
///   are copied unchanged (Prometheus 3.x drops them; copying loses nothing).
///
/// The checkpoint is written with the WAL segment format into `checkpoint.<to>.tmp`, synced and
/// renamed into place. Old segments and checkpoints are left alone: afterwards call
/// [`delete_segments_before`](super::delete_segments_before)`(wal_dir, to + 1)` and
/// [`delete_checkpoints_before`]`(wal_dir, to)`.
pub fn checkpoint_with(
    wal_dir: &Path,
    from: u32,
    to: u32,
    keep_series: impl Fn(HeadSeriesRef) -> bool,
    mint: i64,
    compression: Compression,
) -> Result<CheckpointStats> {
    let mut from = from;
    let mut readers = Vec::new();
    if let Some((dir, idx)) = last_checkpoint(wal_dir)? {
        let next = idx.saturating_add(1);
        if from > next {
            return Err(Error::InvalidInput {
                writer: "WAL checkpoint",
                reason: format!("gap to last checkpoint: expected segment {next}, got {from}"),
            });
        }
        from = next;
        readers.push(WalReader::open(&SegmentRange::all(dir))?);
    }
    readers.push(WalReader::open(&SegmentRange::new(
        wal_dir,
        Some(from),
        Some(to),
    ))?);

    let final_dir = wal_dir.join(format!("{CHECKPOINT_PREFIX}{to:08}"));
    let tmp_dir = wal_dir.join(format!("{CHECKPOINT_PREFIX}{to:08}.tmp"));
    if tmp_dir.exists() {
        fs::remove_dir_all(&tmp_dir).map_err(|e| Error::io("remove dir", &tmp_dir, e))?;
    }
    let opts = WalOptions {
        compression,
        sync: SyncPolicy::OnSegmentClose,
        ..WalOptions::default()
    };
    let res = write_checkpoint(&mut readers, &tmp_dir, opts, &keep_series, mint);
    let mut stats = match res {
        Ok(s) => s,
        Err(e) => {
            // Best effort: do not leave a half-written checkpoint behind.
            let _ = fs::remove_dir_all(&tmp_dir);
            return Err(e);
        }
    };
    sync_dir(&tmp_dir)?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir).map_err(|e| Error::io("remove dir", &final_dir, e))?;
    }
    fs::rename(&tmp_dir, &final_dir).map_err(|e| Error::io("rename", &tmp_dir, e))?;
    sync_dir(wal_dir)?;
    stats.dir = final_dir;
    Ok(stats)
}

/// Reusable decode buffers of the checkpoint loop.
#[derive(Debug, Default)]
struct Bufs {
    series: Vec<record::RefSeries>,
    samples: Vec<record::RefSample>,
    stones: Vec<record::Stone>,
    exemplars: Vec<record::RefExemplar>,
    metadata: Vec<RefMetadata>,
    histograms: Vec<record::RefHistogramSample>,
    float_histograms: Vec<record::RefFloatHistogramSample>,
}

fn write_checkpoint(
    readers: &mut [WalReader],
    tmp_dir: &Path,
    opts: WalOptions,
    keep: &dyn Fn(HeadSeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats> {
    let mut w = WalWriter::open(tmp_dir, opts)?;
    let mut st = CheckpointStats::default();
    let mut b = Bufs::default();
    let mut latest_meta: HashMap<HeadSeriesRef, RefMetadata> = HashMap::new();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut batch_bytes = 0usize;
    for r in readers.iter_mut() {
        while let Some(rec) = r.next_record()? {
            let mut out = Vec::new();
            match RecordType::of(rec) {
                RecordType::Series => {
                    b.series.clear();
                    record::decode_series(rec, &mut b.series)?;
                    st.total_series += b.series.len();
                    let before = b.series.len();
                    b.series.retain(|s| keep(s.series_ref));
                    st.dropped_series += before - b.series.len();
                    if !b.series.is_empty() {
                        record::encode_series(&b.series, &mut out);
                    }
                }
                RecordType::Samples => {
                    b.samples.clear();
                    record::decode_samples(rec, &mut b.samples)?;
                    st.total_samples += b.samples.len();
                    let before = b.samples.len();
                    b.samples.retain(|s| s.t >= mint);
                    st.dropped_samples += before - b.samples.len();
                    if !b.samples.is_empty() {
                        record::encode_samples(&b.samples, &mut out);
                    }
                }
                RecordType::Tombstones => {
                    b.stones.clear();
                    record::decode_tombstones(rec, &mut b.stones)?;
                    st.total_tombstones += b.stones.len();
                    let before = b.stones.len();
                    b.stones.retain(|s| {
                        keep(s.series_ref) && s.intervals.iter().any(|iv| iv.maxt >= mint)
                    });
                    st.dropped_tombstones += before - b.stones.len();
                    if !b.stones.is_empty() {
                        record::encode_tombstones(&b.stones, &mut out);
                    }
                }
                RecordType::Exemplars => {
                    b.exemplars.clear();
                    record::decode_exemplars(rec, &mut b.exemplars)?;
                    st.total_exemplars += b.exemplars.len();
                    let before = b.exemplars.len();
                    b.exemplars.retain(|e| e.t >= mint);
                    st.dropped_exemplars += before - b.exemplars.len();
                    if !b.exemplars.is_empty() {
                        record::encode_exemplars(&b.exemplars, &mut out);
                    }
                }
                RecordType::Metadata => {
                    b.metadata.clear();
                    record::decode_metadata(rec, &mut b.metadata)?;
                    st.total_metadata += b.metadata.len();
                    for m in b.metadata.drain(..) {
                        if keep(m.series_ref) {
                            if latest_meta.insert(m.series_ref, m).is_some() {
                                st.dropped_metadata += 1;
                            }
                        } else {
                            st.dropped_metadata += 1;
                        }
                    }
                }
                RecordType::HistogramSamples => {
                    b.histograms.clear();
                    record::decode_histogram_samples(rec, &mut b.histograms)?;
                    st.total_histograms += b.histograms.len();
                    let before = b.histograms.len();
                    b.histograms.retain(|s| s.t >= mint);
                    st.dropped_histograms += before - b.histograms.len();
                    if !b.histograms.is_empty() {
                        record::encode_histogram_samples(&b.histograms, &mut out);
                    }
                }
                RecordType::FloatHistogramSamples => {
                    b.float_histograms.clear();
                    record::decode_float_histogram_samples(rec, &mut b.float_histograms)?;
                    st.total_histograms += b.float_histograms.len();
                    let before = b.float_histograms.len();
                    b.float_histograms.retain(|s| s.t >= mint);
                    st.dropped_histograms += before - b.float_histograms.len();
                    if !b.float_histograms.is_empty() {
                        record::encode_float_histogram_samples(&b.float_histograms, &mut out);
                    }
                }
                RecordType::MmapMarkers => st.dropped_other += 1,
                RecordType::Unknown(_) => {
                    st.copied_other += 1;
                    out.extend_from_slice(rec);
                }
            }
            if !out.is_empty() {
                batch_bytes += out.len();
                batch.push(out);
            }
            if batch_bytes > BATCH_BYTES {
                w.log(&batch)?;
                batch.clear();
                batch_bytes = 0;
            }
        }
    }
    if !latest_meta.is_empty() {
        let mut all: Vec<RefMetadata> = latest_meta.into_values().collect();
        all.sort_by_key(|m| m.series_ref);
        let mut out = Vec::new();
        record::encode_metadata(&all, &mut out);
        batch.push(out);
    }
    if !batch.is_empty() {
        w.log(&batch)?;
    }
    w.close()?;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use kagari_model::Labels;

    use super::super::{delete_segments_before, segments};
    use super::*;
    use crate::record::{Record, RefSample, RefSeries};

    fn series(r: u64) -> RefSeries {
        let name = format!("m{r}");
        RefSeries {
            series_ref: r,
            labels: Labels::from_pairs([("__name__", name)]).unwrap(),
        }
    }

    fn read_dir_records(dir: &Path) -> Vec<Record> {
        let mut r = WalReader::open(&SegmentRange::all(dir)).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(record::decode(rec).unwrap());
        }
        out
    }

    #[test]
    fn checkpoint_keeps_live_series_and_recent_samples() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path();
        let mut w = WalWriter::open(wal, WalOptions::default()).unwrap();
        let mut buf = Vec::new();
        for seg in 0..3u64 {
            buf.clear();
            record::encode_series(&[series(seg * 2 + 1), series(seg * 2 + 2)], &mut buf);
            w.log_record(&buf).unwrap();
            buf.clear();
            let samples: Vec<RefSample> = (0..10)
                .map(|i| RefSample {
                    series_ref: seg * 2 + 1,
                    t: (seg * 10 + i) as i64,
                    v: 1.0,
                })
                .collect();
            record::encode_samples(&samples, &mut buf);
            w.log_record(&buf).unwrap();
            w.next_segment().unwrap();
        }
        w.close().unwrap();
        assert_eq!(segments(wal).unwrap(), vec![0, 1, 2, 3]);

        // Keep odd refs, samples from t = 5.
        let st = checkpoint(wal, 0, 1, |r| r % 2 == 1, 5).unwrap();
        assert_eq!((st.total_series, st.dropped_series), (4, 2));
        assert_eq!((st.total_samples, st.dropped_samples), (20, 5));
        assert_eq!(last_checkpoint(wal).unwrap().map(|(_, n)| n), Some(1));
        let recs = read_dir_records(&wal.join("checkpoint.00000001"));
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0], Record::Series(vec![series(1)]));
        let Record::Samples(s) = &recs[1] else {
            panic!("{:?}", recs[1])
        };
        assert_eq!(s.first().map(|s| s.t), Some(5));

        assert_eq!(delete_segments_before(wal, 2).unwrap(), 2);
        // The next checkpoint reads the previous one and continues at segment 2.
        let st = checkpoint(wal, 2, 2, |r| r != 1, 15).unwrap();
        assert_eq!(st.total_series, 2 + 2);
        assert_eq!(delete_checkpoints_before(wal, 2).unwrap(), 1);
        assert_eq!(last_checkpoint(wal).unwrap().map(|(_, n)| n), Some(2));
        let recs = read_dir_records(&wal.join("checkpoint.00000002"));
        let kept: Vec<u64> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Series(s) => Some(s.iter().map(|s| s.series_ref).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(kept, vec![3, 5, 6]);
        let samples: Vec<i64> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Samples(s) => Some(s.iter().map(|s| s.t).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(samples, (15..30).collect::<Vec<_>>());
    }

    #[test]
    fn checkpoint_range_follows_the_two_thirds_rule() {
        assert_eq!(checkpoint_range(0, 0), None);
        assert_eq!(checkpoint_range(0, 1), None);
        assert_eq!(checkpoint_range(0, 2), Some((0, 1)));
        assert_eq!(checkpoint_range(3, 9), Some((3, 7)));
        assert_eq!(checkpoint_range(5, 4), None);
    }

    #[test]
    fn gap_to_last_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path();
        let mut w = WalWriter::open(wal, WalOptions::default()).unwrap();
        for _ in 0..4 {
            w.next_segment().unwrap();
        }
        w.close().unwrap();
        checkpoint(wal, 0, 1, |_| true, 0).unwrap();
        assert!(checkpoint(wal, 3, 3, |_| true, 0).is_err());
        fs::write(wal.join("checkpoint.00000009"), b"").unwrap();
        assert!(last_checkpoint(wal).is_err());
    }

    #[test]
    fn metadata_keeps_latest_per_series_and_other_types_are_copied() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path();
        let mut w = WalWriter::open(wal, WalOptions::default()).unwrap();
        let md = |r: u64, help: &str| RefMetadata {
            series_ref: r,
            metric_type: record::MetricType::Gauge,
            unit: String::new(),
            help: help.to_string(),
        };
        let mut a = Vec::new();
        record::encode_metadata(&[md(1, "old"), md(2, "gone")], &mut a);
        let mut b = Vec::new();
        record::encode_metadata(&[md(1, "new")], &mut b);
        let hist = vec![42u8, 1, 2, 3];
        w.log(&[a, hist.clone(), b]).unwrap();
        w.close().unwrap();
        let st = checkpoint(wal, 0, 0, |r| r == 1, 0).unwrap();
        assert_eq!(
            (st.total_metadata, st.dropped_metadata, st.copied_other),
            (3, 2, 1)
        );
        let recs = read_dir_records(&st.dir);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1], Record::Metadata(vec![md(1, "new")]));
    }
}
