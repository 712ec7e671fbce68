//! Retention (whole blocks by time and size), tombstone deletes in blocks, and snapshots.

use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use kagari_model::Matcher;

use super::{Db, WAL_DIR};
use crate::block::{Block, BlockWriter, Ulid};
use crate::error::{Error, Result};
use crate::tombstones::Interval;

const TMP_CREATION: &str = ".tmp-for-creation";
const TMP_DELETION: &str = ".tmp-for-deletion";

/// Removes `<ulid>.tmp-for-creation` / `.tmp-for-deletion` leftovers of an interrupted write
/// or delete.
pub(super) fn remove_tmp_dirs(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(TMP_CREATION) || name.ends_with(TMP_DELETION) {
            let p = entry.path();
            fs::remove_dir_all(&p).map_err(|e| Error::io("remove dir", &p, e))?;
        }
    }
    Ok(())
}

/// Total size of the files under `path` (0 if missing).
pub(super) fn dir_size(path: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(path) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Deletes a block directory: rename to `.tmp-for-deletion`, then remove.
pub(super) fn delete_block_dir(dir: &Path) -> Result<()> {
    let mut tmp = dir.as_os_str().to_owned();
    tmp.push(TMP_DELETION);
    fs::rename(dir, &tmp).map_err(|e| Error::io("rename", dir, e))?;
    fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove dir", &tmp, e))
}

/// The ULIDs of blocks retention deletes, given `(ulid, max_time, size)` of each block.
fn select_expired(
    blocks: &mut [(Ulid, i64, u64)],
    retention_time: i64,
    retention_size: u64,
    head_size: u64,
) -> Vec<Ulid> {
    // Newest first by max time.
    blocks.sort_by_key(|b| std::cmp::Reverse(b.1));
    let mut out = Vec::new();
    let newest = blocks.first().map(|b| b.1);
    let mut total = head_size;
    let mut over = false;
    for &(ulid, max_t, size) in blocks.iter() {
        let by_time =
            retention_time > 0 && newest.is_some_and(|n| n.saturating_sub(max_t) >= retention_time);
        total = total.saturating_add(size);
        if retention_size > 0 && total > retention_size {
            over = true;
        }
        if by_time || over {
            out.push(ulid);
        }
    }
    out
}

/// Applies retention by time and by size; returns how many blocks were deleted.
pub(super) fn apply(db: &Db) -> Result<usize> {
    let mut list: Vec<(Ulid, i64, u64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().ulid, b.meta().max_time, dir_size(b.dir())))
        .collect();
    let head_size = if db.opts.retention_size > 0 {
        // As upstream: the head's size is the WAL plus the head chunk files.
        dir_size(&db.dir.join(WAL_DIR)) + db.head.chunk_mapper().map_or(0, |m| m.size())
    } else {
        0
    };
    let expired = select_expired(
        &mut list,
        db.opts.retention_time,
        db.opts.retention_size,
        head_size,
    );
    if expired.is_empty() {
        return Ok(0);
    }
    let removed: Vec<Arc<Block>> = {
        let mut blocks = db.blocks.write();
        let (gone, keep): (Vec<_>, Vec<_>) = blocks
            .drain(..)
            .partition(|b| expired.contains(&b.meta().ulid));
        *blocks = keep;
        gone
    };
    for b in &removed {
        // Open queriers keep their `Arc<Block>` (and its memory maps) valid.
        delete_block_dir(b.dir())?;
    }
    db.stats
        .blocks_deleted
        .fetch_add(removed.len() as u64, Ordering::Relaxed);
    Ok(removed.len())
}

/// Adds the interval `[mint, maxt]` as tombstones for the series of `block` matching
/// `matchers` that have chunks there; rewrites `tombstones` and `meta.json` and returns the
/// count and the reopened block (`None` if nothing changed).
pub(super) fn delete_in_block(
    block: &Block,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
) -> Result<(usize, Option<Arc<Block>>)> {
    let meta = block.meta();
    if meta.max_time <= mint || meta.min_time > maxt {
        return Ok((0, None));
    }
    let mut stones = block.tombstones().clone();
    let mut metas = Vec::new();
    let mut n = 0;
    for r in block.index().postings_for_matchers(matchers)? {
        block.index().series(r, &mut metas)?;
        if metas
            .iter()
            .any(|c| c.max_time >= mint && c.min_time <= maxt)
        {
            stones.add(
                r,
                Interval {
                    min_time: mint,
                    max_time: maxt,
                },
            );
            n += 1;
        }
    }
    if n == 0 {
        return Ok((0, None));
    }
    stones.write(block.dir())?;
    let mut meta = meta.clone();
    meta.stats.num_tombstones = stones.num_intervals();
    meta.write(block.dir())?;
    Ok((n, Some(Arc::new(Block::open(block.dir())?))))
}

fn link_or_copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io("create dir", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io("read dir", from, e))? {
        let entry = entry.map_err(|e| Error::io("read dir", from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let is_dir = entry
            .file_type()
            .map_err(|e| Error::io("stat", &src, e))?
            .is_dir();
        if is_dir {
            link_or_copy_dir(&src, &dst)?;
        } else if fs::hard_link(&src, &dst).is_err() {
            fs::copy(&src, &dst).map_err(|e| Error::io("copy", &src, e))?;
        }
    }
    Ok(())
}

impl Db {
    /// Writes a consistent copy of the database into `dir` (which must not be inside the data
    /// directory): every block (hard-linked, copied across file systems) plus the head's
    /// current contents as one more block. Returns the ULIDs written.
    pub fn snapshot(&self, dir: impl AsRef<Path>) -> Result<Vec<Ulid>> {
        let dir = dir.as_ref();
        let _m = self.maintenance.lock();
        fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        let mut out = Vec::new();
        for b in self.blocks() {
            let ulid = b.meta().ulid;
            link_or_copy_dir(b.dir(), &dir.join(ulid.to_string()))?;
            out.push(ulid);
        }
        let (mint, maxt) = (self.head.min_time(), self.head.max_time());
        if mint <= maxt {
            let data = self.head.collect_range(mint, maxt.saturating_add(1))?;
            if !data.is_empty() {
                let mut w = BlockWriter::new();
                for (labels, samples) in data {
                    w.add_series(labels, &samples)?;
                }
                out.push(w.write(dir)?.ulid);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_selects_by_time_relative_to_newest_and_by_cumulative_size() {
        let u = |n: u128| Ulid(n);
        let mut blocks = vec![(u(1), 10, 100), (u(2), 20, 100), (u(3), 30, 100)];
        assert_eq!(select_expired(&mut blocks, 11, 0, 0), vec![u(1)]);
        assert_eq!(select_expired(&mut blocks, 10, 0, 0), vec![u(2), u(1)]);
        assert_eq!(select_expired(&mut blocks, 0, 250, 0), vec![u(1)]);
        assert_eq!(select_expired(&mut blocks, 0, 250, 60), vec![u(2), u(1)]);
        assert!(select_expired(&mut blocks, 0, 0, 1_000).is_empty());
        assert_eq!(
            select_expired(&mut blocks, 0, 50, 0),
            vec![u(3), u(2), u(1)]
        );
    }
}
