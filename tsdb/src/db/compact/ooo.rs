//! Out-of-order data left by Prometheus (config `storage.tsdb.out_of_order_time_window`,
//! 2.39 and later): out-of-order chunks in `chunks_head/` (encoding 0x81) and the write-behind
//! log `wbl/`. Kagari's head holds in-order data only, so this data becomes blocks, as
//! Prometheus's own out-of-order compaction does: one block per aligned block range, hint
//! `from-out-of-order`, which vertical compaction later merges with the blocks it overlaps.
//!
//! The samples taken are the union of every out-of-order chunk found at open and every
//! float sample of `wbl/` (equal timestamps are kept once); the labels of a series ref come
//! from the WAL's series records (the head's as a fallback). Mmap markers are not needed for
//! a union. Histogram samples of the WBL are not read (native histograms are not supported).
//! After the blocks are written, `wbl/` is deleted: its data is in the blocks, and the
//! out-of-order chunks left in `chunks_head/` are ignored when no `wbl/` exists (a later
//! open does not import them again).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use kagari_model::Labels;

use super::super::{Db, WAL_DIR};
#[cfg(doc)]
use super::CompactionReport;
use crate::block::{Block, BlockMeta, BlockWriter};
use crate::chunkenc::{ValueType, XorIterator};
use crate::chunks_head::LoadedChunk;
use crate::error::{Error, Result};
use crate::record::{self, RecordType, RefSample, RefSeries};
use crate::wlog::WalReader;

/// The write-behind log directory inside a data directory.
pub(crate) const WBL_DIR: &str = "wbl";
/// The meta.json hint of a block built from out-of-order data.
pub(crate) const HINT_FROM_OUT_OF_ORDER: &str = "from-out-of-order";

/// Samples by series ref.
type ByRef = HashMap<u64, Vec<(i64, f64)>>;

/// The out-of-order samples found, by series labels, sorted by time, one per timestamp.
#[derive(Debug, Default)]
struct OooData {
    series: BTreeMap<Labels, Vec<(i64, f64)>>,
}

/// The start of the aligned block range holding `t`.
fn window(t: i64, range: i64) -> i64 {
    t.div_euclid(range).saturating_mul(range)
}

/// Adds the samples of out-of-order chunks; a chunk whose data does not decode to the end
/// (its CRC matched) counts one in `skipped`.
fn add_chunks(chunks: &[LoadedChunk], by_ref: &mut ByRef, skipped: &mut u64) {
    let mut it = XorIterator::new(&[]);
    for c in chunks {
        it.reset(&c.chunk);
        let out = by_ref.entry(c.series_ref).or_default();
        while it.next() == ValueType::Float {
            out.push(it.at());
        }
        if it.take_err().is_some() {
            *skipped += 1; // the samples before the damage are kept
        }
    }
}

/// Adds the float samples of the WBL. Reading stops at the first damaged segment data, as a
/// Prometheus replay of a killed server's WBL (whose tail may be torn) repairs it there; a
/// samples record that does not decode counts one in `skipped`.
fn add_wbl(wbl: &Path, by_ref: &mut ByRef, skipped: &mut u64) -> Result<()> {
    let mut reader = WalReader::open_replay(wbl)?;
    let mut samples: Vec<RefSample> = Vec::new();
    while let Ok(Some(rec)) = reader.next_record() {
        if RecordType::of(rec) == RecordType::Samples {
            samples.clear();
            if record::decode_samples(rec, &mut samples).is_err() {
                *skipped += 1;
                continue;
            }
            for s in &samples {
                by_ref.entry(s.series_ref).or_default().push((s.t, s.v));
            }
        }
    }
    Ok(())
}

/// The labels of the series refs in `wanted`, from the series records of the WAL. Reading
/// stops at the end or at a record it cannot read (the segment being written).
fn labels_from_wal(wal: &Path, wanted: &ByRef) -> Result<HashMap<u64, Labels>> {
    let mut out = HashMap::new();
    if !wal.exists() {
        return Ok(out);
    }
    let mut reader = WalReader::open_replay(wal)?;
    let mut series: Vec<RefSeries> = Vec::new();
    while let Ok(Some(rec)) = reader.next_record() {
        if RecordType::of(rec) == RecordType::Series {
            series.clear();
            if record::decode_series(rec, &mut series).is_err() {
                continue; // its refs' samples are counted as unlabelled
            }
            for s in series.drain(..) {
                if wanted.contains_key(&s.series_ref) {
                    out.entry(s.series_ref).or_insert(s.labels);
                }
            }
        }
    }
    Ok(out)
}

impl Db {
    /// Reads the out-of-order samples by series ref: the out-of-order chunks `chunks_head/`
    /// held at open (the mapper keeps them) and `wbl/`. `None` when there is no `wbl/`.
    /// Damaged chunks and records are counted in `skipped`.
    fn read_out_of_order(&self, skipped: &mut u64) -> Result<Option<ByRef>> {
        let wbl = self.dir.join(WBL_DIR);
        if !wbl.is_dir() {
            return Ok(None);
        }
        let chunks = self
            .head
            .chunk_mapper()
            .map(|m| m.ooo_chunks())
            .unwrap_or_default();
        let mut by_ref = ByRef::new();
        add_chunks(&chunks, &mut by_ref, skipped);
        drop(chunks);
        add_wbl(&wbl, &mut by_ref, skipped)?;
        Ok(Some(by_ref))
    }

    /// Gives the samples their labels (samples of refs without labels are dropped), sorted
    /// by time, one per timestamp.
    /// Samples of refs without labels are counted in `skipped`.
    fn label_out_of_order(&self, by_ref: ByRef, skipped: &mut u64) -> Result<OooData> {
        let labels = labels_from_wal(&self.dir.join(WAL_DIR), &by_ref)?;
        let mut data = OooData::default();
        for (r, samples) in by_ref {
            let l = labels
                .get(&r)
                .cloned()
                .or_else(|| self.head.series(r).map(|s| s.labels.clone()));
            match l {
                Some(l) => data.series.entry(l).or_default().extend(samples),
                None => *skipped += samples.len() as u64,
            }
        }
        for s in data.series.values_mut() {
            s.sort_by_key(|x| x.0); // stable: the first of equal timestamps stays
            s.dedup_by_key(|x| x.0);
        }
        Ok(data)
    }

    /// The import [`Db::compact`] does (the caller holds the maintenance lock). Returns the
    /// new blocks and what was skipped: damaged chunks and WBL records (each counts one) and
    /// samples of series refs without labels.
    pub(super) fn import_out_of_order_locked(&self) -> Result<(Vec<BlockMeta>, u64)> {
        let mut skipped = 0;
        let Some(by_ref) = self.read_out_of_order(&mut skipped)? else {
            return Ok((Vec::new(), 0));
        };
        let data = self.label_out_of_order(by_ref, &mut skipped)?;
        Ok((self.persist_out_of_order(data)?, skipped))
    }

    /// Writes `data` as blocks (one per aligned block range, hint `from-out-of-order`), adds
    /// them to the block list, deletes `wbl/` and releases the mapper's out-of-order chunks.
    /// Returns the blocks' metas.
    fn persist_out_of_order(&self, data: OooData) -> Result<Vec<BlockMeta>> {
        let range = self.opts.block_range.max(1);
        let mut windows: BTreeMap<i64, BlockWriter> = BTreeMap::new();
        for (labels, samples) in &data.series {
            let mut rest = samples.as_slice();
            while let Some(&(t, _)) = rest.first() {
                let w = window(t, range);
                let end = w.saturating_add(range);
                let n = rest.partition_point(|s| s.0 < end);
                let (part, tail) = rest.split_at(n);
                let writer = match windows.entry(w) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let mut bw = BlockWriter::new();
                        bw.set_time_range(w, end)?;
                        e.insert(bw)
                    }
                };
                writer.add_series(labels.clone(), part)?;
                rest = tail;
            }
        }
        let mut metas = Vec::new();
        let mut opened = Vec::new();
        for (_, w) in windows {
            let mut meta = w.write(&self.dir)?;
            meta.compaction.hints = vec![HINT_FROM_OUT_OF_ORDER.to_string()];
            let dir = self.dir.join(meta.ulid.to_string());
            meta.write(&dir)?;
            opened.push(Arc::new(Block::open(&dir)?));
            metas.push(meta);
        }
        {
            let mut blocks = self.blocks.write();
            blocks.extend(opened);
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        }
        let wbl = self.dir.join(WBL_DIR);
        if wbl.exists() {
            fs::remove_dir_all(&wbl).map_err(|e| Error::io("remove dir", &wbl, e))?;
        }
        if let Some(m) = self.head.chunk_mapper() {
            drop(m.take_ooo_chunks());
        }
        Ok(metas)
    }

    /// Imports the out-of-order data of a Prometheus data directory now: the out-of-order
    /// chunks `chunks_head/` held at open and every float sample of `wbl/` become blocks with
    /// the hint `from-out-of-order` (one per aligned block range), `wbl/` is deleted, and the
    /// blocks are queryable at once; the next [`Db::compact`] merges them with the blocks
    /// they overlap. Returns the new blocks (none without `wbl/`, or on a second call).
    /// Damaged out-of-order chunks or WBL records, and samples of series the WAL does not
    /// name, are skipped (counted in [`CompactionReport::out_of_order_skipped`] when
    /// [`Db::compact`] imports). [`Db::compact`] does this on its own first; [`Db::open`] leaves these blocks out of the
    /// head's minimum valid time, as Prometheus does, so the head keeps its older samples.
    pub fn import_out_of_order(&self) -> Result<Vec<BlockMeta>> {
        let _m = self.maintenance.lock();
        Ok(self.import_out_of_order_locked()?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned() {
        assert_eq!(window(0, 10), 0);
        assert_eq!(window(19, 10), 10);
        assert_eq!(window(-1, 10), -10);
    }
}
