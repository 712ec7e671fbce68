//! Block compaction, as upstream's `LeveledCompactor`: overlapping blocks are merged first
//! (vertical compaction: a backfill into a live directory, a block cut from out-of-order data),
//! then adjacent blocks are merged into larger aligned ranges (2 h → 6 h → 18 h …).
//!
//! A merge (`merge`) streams the parents' series in label order: chunks that overlap no other
//! chunk of their series are copied as they are, runs of overlapping chunks are merged keeping
//! one sample per timestamp (the one from the block with the lowest `(min_time, ulid)`;
//! upstream keeps one too, without a defined winner) and re-encoded (at most 120 samples per
//! chunk); with tombstones in a parent, every series is re-encoded without deleted samples.

mod merge;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Db;
use crate::block::{Block, BlockMeta};
use crate::error::Result;

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

/// Upstream's `selectOverlappingDirs`: in `metas` (sorted by min time), the first run of
/// blocks that each start before the largest end seen so far, together with the block just
/// before the run. The newest block is not spared. `None` when no two blocks overlap.
pub(super) fn overlapping(metas: &[(i64, i64)]) -> Option<Vec<usize>> {
    let (&(_, first_max), rest) = metas.split_first()?;
    let mut global_max = first_max;
    let mut out = Vec::new();
    for (i, &(mint, maxt)) in rest.iter().enumerate() {
        if mint < global_max {
            if out.is_empty() {
                out.push(i);
            }
            out.push(i + 1);
        } else if !out.is_empty() {
            break;
        }
        global_max = global_max.max(maxt);
    }
    (!out.is_empty()).then_some(out)
}

/// Upstream's `LeveledCompactor.Plan` after its overlap check (no tombstone-driven rewrites):
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
    /// Runs the block compaction planner until it has nothing to do: overlapping blocks first
    /// ([`overlapping`]), then aligned ranges ([`plan`]); returns the new blocks. Called by
    /// [`Db::compact`](super::Db::compact) after the head was persisted.
    pub(super) fn compact_blocks(&self) -> Result<Vec<BlockMeta>> {
        let ranges = block_ranges(self.opts.block_range, self.opts.retention_time);
        let mut out = Vec::new();
        loop {
            let blocks = self.blocks();
            let metas: Vec<(i64, i64)> = blocks
                .iter()
                .map(|b| (b.meta().min_time, b.meta().max_time))
                .collect();
            let Some(group) = overlapping(&metas).or_else(|| plan(&metas, &ranges)) else {
                return Ok(out);
            };
            let parents: Vec<Arc<Block>> = group
                .iter()
                .filter_map(|&i| blocks.get(i).cloned())
                .collect();
            if parents.len() < 2 {
                return Ok(out); // cannot happen: both planners return two or more indexes
            }
            if let Some(meta) = self.merge_blocks(&parents)? {
                out.push(meta);
            }
        }
    }

    /// Writes one block with every (non-deleted) sample of `parents`, then swaps it in and
    /// deletes the parents. A crash in between leaves overlapping blocks, which queries merge
    /// (equal timestamps are deduplicated) and the next open cleans up (parents listed in a
    /// block's meta are deleted). When no sample is left (all deleted), no block is written
    /// and the parents are deleted, as upstream does; the result is then `None`.
    fn merge_blocks(&self, parents: &[Arc<Block>]) -> Result<Option<BlockMeta>> {
        let Some((meta, _)) = merge::write_merged(&self.dir, parents)? else {
            self.swap_blocks(parents, None)?;
            return Ok(None);
        };
        let merged = Arc::new(Block::open(&self.dir.join(meta.ulid.to_string()))?);
        self.swap_blocks(parents, Some(merged))?;
        self.stats.block_compactions.fetch_add(1, Ordering::Relaxed);
        Ok(Some(meta))
    }

    /// Replaces `parents` by `merged` in the block list, then deletes the parents' directories.
    fn swap_blocks(&self, parents: &[Arc<Block>], merged: Option<Arc<Block>>) -> Result<()> {
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !parents.iter().any(|p| p.meta().ulid == b.meta().ulid));
            blocks.extend(merged);
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        }
        for p in parents {
            super::retention::delete_block_dir(p.dir())?;
        }
        Ok(())
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
    fn overlapping_blocks_are_picked_first_as_upstream() {
        let r = [2 * H, 6 * H, 18 * H];
        // No overlap (touching ends do not overlap: max time is exclusive).
        assert_eq!(overlapping(&[(0, 2 * H), (2 * H, 4 * H)]), None);
        assert_eq!(overlapping(&[(0, 2 * H)]), None);
        assert_eq!(overlapping(&[]), None);
        // Two blocks, the second (newest) overlapping: both, although plan spares the newest.
        let m = [(0, 2 * H), (H, 3 * H)];
        assert_eq!(overlapping(&m), Some(vec![0, 1]));
        assert_eq!(plan(&m, &r), None);
        // The run continues while blocks start before the largest end so far, even when they
        // do not overlap their direct predecessor; it stops at the first gap.
        let m = [
            (0, 2 * H),
            (2 * H, 10 * H),
            (3 * H, 4 * H),
            (9 * H, 12 * H),
            (12 * H, 14 * H),
            (13 * H, 15 * H),
        ];
        assert_eq!(overlapping(&m), Some(vec![1, 2, 3]));
        // A block contained in another, with the same start.
        let m = [(0, 6 * H), (0, 2 * H), (6 * H, 8 * H)];
        assert_eq!(overlapping(&m), Some(vec![0, 1]));
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
