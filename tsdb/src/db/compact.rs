//! Head compaction: persist the head's oldest block range, truncate memory, checkpoint the WAL.

mod ooo;

use std::collections::HashSet;
use std::fs;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{retention, Db, WAL_DIR};
use crate::block::{Block, BlockMeta, BlockWriter, Ulid};
use crate::error::{Error, Result};
use crate::head::series::range_end;
use crate::wlog;

/// What one [`Db::compact`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Blocks written from the head.
    pub blocks_written: Vec<BlockMeta>,
    /// Blocks written by merging smaller blocks (leveled compaction).
    pub blocks_merged: Vec<BlockMeta>,
    /// Whether the WAL was checkpointed.
    pub checkpointed: bool,
    /// Blocks deleted by retention.
    pub blocks_deleted: usize,
    /// Block directories found in the data directory that were not open yet (a backfill
    /// into the live directory), opened before the blocks were compacted.
    pub blocks_loaded: usize,
    /// Blocks written from the out-of-order data a Prometheus left in `wbl/` and
    /// `chunks_head/` (hint `from-out-of-order`); see [`Db::import_out_of_order`].
    pub blocks_from_out_of_order: Vec<BlockMeta>,
    /// What that import skipped: damaged out-of-order chunks and WBL records (one each) and
    /// samples of series refs the WAL does not name.
    pub out_of_order_skipped: u64,
}

impl Db {
    /// Whether the head spans more than 1.5 block ranges (upstream's `compactable`).
    pub fn needs_compaction(&self) -> bool {
        let h = &self.head;
        let (mint, maxt) = (h.min_time(), h.max_time());
        mint != i64::MAX && maxt.saturating_sub(mint) > self.opts.block_range.saturating_mul(3) / 2
    }

    /// Persists the head's oldest range as a level-1 block while the head is compactable
    /// (`[head.min_time, next block-range boundary)`), truncating the head after each; then
    /// checkpoints the WAL (dropping samples before the last block's end and series no longer
    /// in the head), turns a Prometheus's out-of-order data (`wbl/`, 0x81 chunks) into
    /// blocks ([`Db::import_out_of_order`]), opens block
    /// directories that appeared since open (as upstream's reload does), merges overlapping blocks into one (vertical compaction) and then blocks into
    /// larger aligned ranges (2 h → 6 h → 18 h …, upstream's leveled planner) and applies
    /// retention. Idempotent and cheap when nothing is due.
    pub fn compact(&self) -> Result<CompactionReport> {
        let _m = self.maintenance.lock();
        let mut report = CompactionReport::default();
        let mut last_maxt = None;
        while self.needs_compaction() {
            let mint = self.head.min_time();
            let maxt = range_end(mint, self.opts.block_range);
            match self.persist_range(mint, maxt) {
                Ok(Some(meta)) => report.blocks_written.push(meta),
                Ok(None) => {}
                Err(e) => {
                    self.stats
                        .compaction_failures
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            }
            self.head.truncate(maxt);
            last_maxt = Some(maxt);
            if self.head.min_time() < maxt {
                break; // cannot happen (chunks never cross the boundary); avoid looping
            }
        }
        if let Some(maxt) = last_maxt {
            self.head.truncate_chunk_files()?;
            self.truncate_wal(maxt)?;
            report.checkpointed = true;
        }
        (report.blocks_from_out_of_order, report.out_of_order_skipped) =
            self.import_out_of_order_locked()?;
        report.blocks_loaded = self.load_new_blocks()?;
        report.blocks_merged = self.compact_blocks().inspect_err(|_| {
            self.stats
                .compaction_failures
                .fetch_add(1, Ordering::Relaxed);
        })?;
        report.blocks_deleted = retention::apply(self)?;
        Ok(report)
    }

    /// Opens every block directory (ULID name, finished: no temporary suffix) of the data
    /// directory that is not in the block list and adds it; returns how many. A directory
    /// that does not open as a block is an error, as in upstream's reload.
    fn load_new_blocks(&self) -> Result<usize> {
        let known: HashSet<Ulid> = self.blocks.read().iter().map(|b| b.meta().ulid).collect();
        let dir = &self.dir;
        let mut found = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
            let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
            let ulid = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<Ulid>().ok());
            if ulid.is_some_and(|u| !known.contains(&u)) && entry.path().is_dir() {
                found.push(Arc::new(Block::open(&entry.path())?));
            }
        }
        let n = found.len();
        if n > 0 {
            let mut blocks = self.blocks.write();
            blocks.extend(found);
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        }
        Ok(n)
    }

    /// Writes the head's samples in `[mint, maxt)` as a block and adds it to the block list.
    fn persist_range(&self, mint: i64, maxt: i64) -> Result<Option<BlockMeta>> {
        let data = self.head.collect_range(mint, maxt)?;
        if data.is_empty() {
            return Ok(None);
        }
        let mut w = BlockWriter::new();
        w.set_time_range(mint, maxt)?;
        for (labels, samples) in data {
            w.add_series(labels, &samples)?;
        }
        let meta = w.write(&self.dir)?;
        let block = Block::open(&self.dir.join(meta.ulid.to_string()))?;
        let mut blocks = self.blocks.write();
        blocks.push(Arc::new(block));
        blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        drop(blocks);
        self.stats.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(Some(meta))
    }

    /// Starts a new WAL segment, folds every older segment into a checkpoint keeping series
    /// still in the head and samples at or after `mint`, then deletes what it replaced.
    fn truncate_wal(&self, mint: i64) -> Result<()> {
        let wal_dir = self.dir.join(WAL_DIR);
        let Some(current) = self
            .head
            .with_wal(|w| w.map(|w| w.next_segment()))
            .transpose()?
        else {
            return Ok(());
        };
        let Some(to) = current.checked_sub(1) else {
            return Ok(());
        };
        let Some(&first) = wlog::segments(&wal_dir)?.first() else {
            return Ok(());
        };
        if first > to {
            return Ok(());
        }
        let head = self.head.clone();
        wlog::checkpoint_with(
            &wal_dir,
            first,
            to,
            |r| head.series_exists(r),
            mint,
            self.opts.wal_compression,
        )?;
        wlog::delete_segments_before(&wal_dir, to.saturating_add(1))?;
        wlog::delete_checkpoints_before(&wal_dir, to)?;
        self.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
