//! Block compaction: merging adjacent blocks into larger aligned ranges (upstream's leveled
//! planner, without vertical compaction of overlapping blocks).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Db;
use crate::block::{Block, BlockDesc, BlockMeta, BlockWriter, Ulid};
use crate::error::Result;
use crate::querier::Querier;

/// Upstream's default cap on block duration: 31 days, or a tenth of the retention time.
fn max_block_duration(retention_time: i64) -> i64 {
    let month = 31 * 24 * 3_600_000;
    if retention_time > 0 {
        month.min(retention_time / 10)
    } else {
        month
    }
}

/// `ExponentialBlockRanges(min, 10, 3)` capped at the max block duration.
pub(super) fn block_ranges(min: i64, retention_time: i64) -> Vec<i64> {
    let max = max_block_duration(retention_time);
    let mut out = vec![min];
    let mut r = min;
    for _ in 1..10 {
        r = r.saturating_mul(3);
        if r > max {
            break;
        }
        out.push(r);
    }
    out
}

/// Upstream's `LeveledCompactor.Plan` (steps 1–2; no vertical or tombstone-driven rewrites):
/// the newest block is left alone; for each range above the smallest, blocks inside the same
/// aligned window are grouped, and the first group of two or more blocks that fills the window
/// or ends before the newest considered block starts is returned (indexes into `metas`, which
/// are sorted by min time).
pub(super) fn plan(metas: &[(i64, i64)], ranges: &[i64]) -> Option<Vec<usize>> {
    let considered = metas.len().checked_sub(1)?;
    let considered = metas.get(..considered)?;
    let high = considered.last()?.0;
    for &r in ranges.iter().skip(1) {
        let mut i = 0;
        while i < considered.len() {
            let (mint, maxt) = considered.get(i).copied()?;
            let window = mint.div_euclid(r).saturating_mul(r);
            if maxt > window.saturating_add(r) {
                i += 1; // does not fit any window of this range
                continue;
            }
            let mut j = i + 1;
            while considered
                .get(j)
                .is_some_and(|&(a, b)| a >= window && b <= window.saturating_add(r))
            {
                j += 1;
            }
            if j - i > 1 {
                let end = considered.get(j - 1).map_or(maxt, |x| x.1);
                if end - mint == r || end <= high {
                    return Some((i..j).collect());
                }
            }
            i = j;
        }
    }
    None
}

impl Db {
    /// Runs the block compaction planner until it has nothing to do; returns the new blocks.
    /// Called by [`Db::compact`](super::Db::compact) after the head was persisted.
    pub(super) fn compact_blocks(&self) -> Result<Vec<BlockMeta>> {
        let ranges = block_ranges(self.opts.block_range, self.opts.retention_time);
        let mut out = Vec::new();
        loop {
            let blocks = self.blocks();
            let metas: Vec<(i64, i64)> = blocks
                .iter()
                .map(|b| (b.meta().min_time, b.meta().max_time))
                .collect();
            let Some(group) = plan(&metas, &ranges) else {
                return Ok(out);
            };
            let parents: Vec<Arc<Block>> = group
                .iter()
                .filter_map(|&i| blocks.get(i).cloned())
                .collect();
            out.push(self.merge_blocks(&parents)?);
        }
    }

    /// Writes one block with every (non-deleted) sample of `parents`, then swaps it in and
    /// deletes the parents. A crash in between leaves overlapping blocks, which queries merge
    /// (equal timestamps are deduplicated) and the next open cleans up (parents listed in a
    /// block's meta are deleted).
    fn merge_blocks(&self, parents: &[Arc<Block>]) -> Result<BlockMeta> {
        let mint = parents.iter().map(|b| b.meta().min_time).min().unwrap_or(0);
        let maxt = parents.iter().map(|b| b.meta().max_time).max().unwrap_or(1);
        let q = Querier::new(None, parents.to_vec(), mint, maxt.saturating_sub(1));
        let mut w = BlockWriter::new();
        w.set_time_range(mint, maxt)?;
        for s in q.select(&[])? {
            w.add_series(s.labels().clone(), &s.samples()?)?;
        }
        let mut meta = w.write(&self.dir)?;
        let dir = self.dir.join(meta.ulid.to_string());
        let mut sources: Vec<Ulid> = parents
            .iter()
            .flat_map(|b| b.meta().compaction.sources.iter().copied())
            .collect();
        sources.sort();
        sources.dedup();
        meta.compaction.level = parents
            .iter()
            .map(|b| b.meta().compaction.level)
            .max()
            .unwrap_or(1)
            + 1;
        meta.compaction.sources = sources;
        meta.compaction.parents = parents
            .iter()
            .map(|b| BlockDesc {
                ulid: b.meta().ulid,
                min_time: b.meta().min_time,
                max_time: b.meta().max_time,
            })
            .collect();
        meta.write(&dir)?;
        let merged = Arc::new(Block::open(&dir)?);
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !parents.iter().any(|p| p.meta().ulid == b.meta().ulid));
            blocks.push(merged);
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        }
        for p in parents {
            super::retention::delete_block_dir(p.dir())?;
        }
        self.stats.block_compactions.fetch_add(1, Ordering::Relaxed);
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn ranges_follow_upstream_defaults() {
        assert_eq!(block_ranges(2 * H, 15 * 24 * H), vec![2 * H, 6 * H, 18 * H]);
        assert_eq!(block_ranges(2 * H, 0).len(), 6);
    }

    #[test]
    fn planner_groups_blocks_inside_one_window_and_spares_the_newest() {
        let r = [2 * H, 6 * H, 18 * H];
        // Three 2 h blocks filling [0, 6h) plus a newer one: the three are merged.
        let m = [(0, 2 * H), (2 * H, 4 * H), (4 * H, 6 * H), (6 * H, 8 * H)];
        assert_eq!(plan(&m, &r), Some(vec![0, 1, 2]));
        // Only two blocks, the second being the newest: nothing to do.
        assert_eq!(plan(&m[..2], &r), None);
        // An unaligned first block start (cut from the head) does not span the full window:
        // as upstream, the group waits until a considered block starts at its end.
        let m = [
            (H + 5, 2 * H),
            (2 * H, 4 * H),
            (4 * H, 6 * H),
            (6 * H, 8 * H),
        ];
        assert_eq!(plan(&m, &r), None);
        let m = [
            (H + 5, 2 * H),
            (2 * H, 4 * H),
            (4 * H, 6 * H),
            (6 * H, 8 * H),
            (8 * H, 10 * H),
        ];
        assert_eq!(plan(&m, &r), Some(vec![0, 1, 2]));
        // Two blocks of an unfinished window: merged only once a later block starts after them.
        let m = [(0, 2 * H), (2 * H, 4 * H), (4 * H, 5 * H)];
        assert_eq!(plan(&m, &r), None);
        let m = [(0, 2 * H), (2 * H, 4 * H), (6 * H, 8 * H), (8 * H, 10 * H)];
        assert_eq!(plan(&m, &r), Some(vec![0, 1]));
        // A merged 6 h block, then the next window fills up (the newest block is spared).
        let m = [
            (0, 6 * H),
            (6 * H, 8 * H),
            (8 * H, 10 * H),
            (10 * H, 12 * H),
        ];
        assert_eq!(plan(&m, &r), None);
        let m = [
            (0, 6 * H),
            (6 * H, 8 * H),
            (8 * H, 10 * H),
            (10 * H, 12 * H),
            (12 * H, 14 * H),
        ];
        assert_eq!(plan(&m, &r), Some(vec![1, 2, 3]));
    }
}
