//! [`Db`]: a data directory with a WAL-backed head (full chunks memory-mapped in
//! `chunks_head/`) and persisted blocks.
//!
//! * `compact`: persisting the head's oldest range as a block, truncating the head and
//!   checkpointing the WAL.
//! * `leveled`: merging adjacent blocks into larger aligned ranges (upstream's planner).
//! * `retention`: deleting blocks by time and size, tombstone deletes, snapshots.
//!
//! The `Db` has no background thread: the host calls [`Db::compact`] periodically (Prometheus
//! checks every minute) and after ingesting; it is cheap when there is nothing to do.

mod compact;
mod leveled;
mod retention;

pub use compact::CompactionReport;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kagari_model::Matcher;
use parking_lot::{Mutex, RwLock};

use crate::block::{open_blocks, Block};
use crate::chunks_head::{ChunkDiskMapper, CHUNKS_HEAD_DIR};
use crate::error::{Error, Result};
use crate::head::{Head, HeadAppender, HeadOptions, OwnedAppender, ReplayStats};
use crate::querier::Querier;
use crate::wlog::{Compression, SyncPolicy, WalOptions, WalWriter};

/// The WAL directory inside the data directory.
pub const WAL_DIR: &str = "wal";

/// Options of a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Minimum block duration in ms (2 h): the head chunk range and the span of cut blocks.
    pub block_range: i64,
    /// Delete blocks whose end is this far (ms) behind the newest block's end; 0 = off.
    pub retention_time: i64,
    /// Delete the oldest blocks while blocks plus WAL exceed this many bytes; 0 = off.
    pub retention_size: u64,
    /// WAL segment size in bytes (a multiple of 32 KiB).
    pub wal_segment_size: usize,
    /// WAL record compression.
    pub wal_compression: Compression,
    /// When the WAL fsyncs. [`SyncPolicy::OnSegmentClose`] (Prometheus's behaviour) keeps
    /// committed samples across a process crash; [`SyncPolicy::EveryLog`] also across a
    /// machine crash.
    pub wal_sync: SyncPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_range: 2 * 3_600_000,
            retention_time: 15 * 24 * 3_600_000,
            retention_size: 0,
            wal_segment_size: crate::wlog::DEFAULT_SEGMENT_SIZE,
            wal_compression: Compression::None,
            wal_sync: SyncPolicy::OnSegmentClose,
        }
    }
}

/// Counters for self-monitoring; all getters are cheap atomic loads.
#[derive(Debug, Default)]
pub struct DbStats {
    compactions: AtomicU64,
    block_compactions: AtomicU64,
    compaction_failures: AtomicU64,
    blocks_deleted: AtomicU64,
    checkpoints: AtomicU64,
    wal_repairs: AtomicU64,
}

impl DbStats {
    /// Blocks persisted from the head.
    pub fn compactions(&self) -> u64 {
        self.compactions.load(Ordering::Relaxed)
    }
    /// Blocks written by merging blocks into a larger range.
    pub fn block_compactions(&self) -> u64 {
        self.block_compactions.load(Ordering::Relaxed)
    }
    /// Failed head compactions.
    pub fn compaction_failures(&self) -> u64 {
        self.compaction_failures.load(Ordering::Relaxed)
    }
    /// Blocks deleted by retention.
    pub fn blocks_deleted(&self) -> u64 {
        self.blocks_deleted.load(Ordering::Relaxed)
    }
    /// WAL checkpoints written.
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.load(Ordering::Relaxed)
    }
    /// Times a corrupt WAL tail was cut off at open.
    pub fn wal_repairs(&self) -> u64 {
        self.wal_repairs.load(Ordering::Relaxed)
    }
}

/// A time-series database in one directory: `wal/`, and one directory per block.
///
/// ```
/// use kagari_model::{Labels, MatchType, Matcher};
/// use kagari_tsdb::db::{Db, Options};
///
/// let dir = tempfile::tempdir().unwrap();
/// let db = Db::open(dir.path(), Options::default()).unwrap();
/// let up = Labels::from_pairs([("__name__", "up"), ("job", "a")]).unwrap();
/// let mut app = db.appender();
/// app.append(None, &up, 1_000, 1.0).unwrap();
/// app.commit().unwrap();
/// db.close().unwrap();
///
/// let db = Db::open(dir.path(), Options::default()).unwrap(); // replays the WAL
/// let q = db.querier(0, 10_000);
/// let m = Matcher::new(MatchType::Equal, "job", "a").unwrap();
/// let series = q.select(&[m]).unwrap();
/// assert_eq!(series[0].samples().unwrap(), vec![(1_000, 1.0)]);
/// ```
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    opts: Options,
    head: Arc<Head>,
    blocks: RwLock<Vec<Arc<Block>>>,
    /// Serialises compaction, retention, deletes and snapshots.
    maintenance: Mutex<()>,
    stats: DbStats,
    replay: ReplayStats,
    chunks_repair: Option<ChunksHeadRepair>,
}

/// A damaged record found in `chunks_head/` at open: the file was cut at `offset` and later
/// files deleted; the samples are recovered from the WAL.
#[derive(Debug)]
pub struct ChunksHeadRepair {
    /// What was wrong.
    pub error: Error,
    /// The number of the damaged file.
    pub file: u32,
    /// Where its valid data ends now.
    pub offset: u64,
}

impl Db {
    /// Opens (creating if needed) the data directory: removes leftover temporary block
    /// directories, opens the blocks, replays the WAL into the head (cutting off a corrupt
    /// tail) and starts a new WAL segment.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create dir", &dir, e))?;
        retention::remove_tmp_dirs(&dir)?;
        let mut blocks: Vec<Arc<Block>> = open_blocks(&dir)?.into_iter().map(Arc::new).collect();
        // Parents of a merged block are left over from a compaction interrupted before it
        // deleted them: their data is in the merged block.
        let parents: Vec<crate::block::Ulid> = blocks
            .iter()
            .flat_map(|b| b.meta().compaction.parents.iter().map(|p| p.ulid))
            .collect();
        let (stale, live): (Vec<_>, Vec<_>) = blocks
            .into_iter()
            .partition(|b| parents.contains(&b.meta().ulid));
        for b in &stale {
            retention::delete_block_dir(b.dir())?;
        }
        blocks = live;
        let head = Head::new(HeadOptions {
            chunk_range: opts.block_range,
        });
        // As upstream's inOrderBlocksMaxTime: blocks built from out-of-order data do not
        // bound the head (they usually overlap it).
        if let Some(max) = blocks
            .iter()
            .filter(|b| {
                !b.meta()
                    .compaction
                    .hints
                    .iter()
                    .any(|h| h == "from-out-of-order")
            })
            .map(|b| b.meta().max_time)
            .max()
        {
            head.set_min_valid_time(max);
        }
        // As upstream: the chunks in `chunks_head/` first (a damaged tail is cut off), then
        // the WAL; series records attach their chunks and skip samples already in them.
        let (mapper, chunks_report) = ChunkDiskMapper::open(dir.join(CHUNKS_HEAD_DIR))?;
        let mut mmapped = head.prepare_mmapped(chunks_report.chunks);
        head.set_chunk_mapper(Arc::new(mapper));
        let wal_dir = dir.join(WAL_DIR);
        let replay = crate::head::replay(&head, &wal_dir, &mut mmapped)?;
        drop(mmapped);
        head.truncate_chunk_files()?;
        let wal = WalWriter::open(
            &wal_dir,
            WalOptions {
                segment_size: opts.wal_segment_size,
                compression: opts.wal_compression,
                sync: opts.wal_sync,
            },
        )?;
        head.set_wal(wal);
        let stats = DbStats::default();
        if replay.repaired_at.is_some() {
            stats.wal_repairs.fetch_add(1, Ordering::Relaxed);
        }
        let chunks_repair = chunks_report
            .repaired
            .map(|(error, file, offset)| ChunksHeadRepair {
                error,
                file,
                offset,
            });
        Ok(Db {
            dir,
            opts,
            head: Arc::new(head),
            blocks: RwLock::new(blocks),
            maintenance: Mutex::new(()),
            stats,
            replay,
            chunks_repair,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The head.
    pub fn head(&self) -> &Arc<Head> {
        &self.head
    }

    /// The open blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks.read().clone()
    }

    /// Counters.
    pub fn stats(&self) -> &DbStats {
        &self.stats
    }

    /// What the WAL replay at open did.
    pub fn replay_stats(&self) -> &ReplayStats {
        &self.replay
    }

    /// Set when open found (and cut off) a damaged tail in `chunks_head/`.
    pub fn chunks_head_repair(&self) -> Option<&ChunksHeadRepair> {
        self.chunks_repair.as_ref()
    }

    /// Bytes in `wal/` (segments and checkpoints).
    pub fn wal_size(&self) -> u64 {
        retention::dir_size(&self.dir.join(WAL_DIR))
    }

    /// A new append transaction on the head; see [`HeadAppender`].
    pub fn appender(&self) -> HeadAppender<'_> {
        self.head.appender()
    }

    /// A new append transaction that holds an `Arc` of the head instead of borrowing the
    /// `Db` (`'static + Send`, e.g. for a `Box<dyn …>` kept by a scrape loop); it behaves
    /// exactly like [`appender`](Self::appender)'s. Commits after [`close`](Self::close)
    /// (or after the `Db` is dropped) go to memory only, as with a borrowed appender.
    pub fn appender_owned(&self) -> OwnedAppender {
        self.head.appender_owned()
    }

    /// A querier over `[mint, maxt]` (inclusive) across the blocks and the head.
    pub fn querier(&self, mint: i64, maxt: i64) -> Querier {
        Querier::new(Some(self.head.clone()), self.blocks(), mint, maxt)
    }

    /// Deletes the samples in `[mint, maxt]` of the series matching `matchers`: tombstones in
    /// each overlapping block (its `tombstones` file is rewritten) and in the head (logged to
    /// the WAL). Returns the number of (block or head) series affected.
    pub fn delete(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<usize> {
        let _m = self.maintenance.lock();
        let mut n = 0;
        let blocks = self.blocks();
        let mut replaced = Vec::with_capacity(blocks.len());
        for b in blocks {
            let (count, nb) = retention::delete_in_block(&b, matchers, mint, maxt)?;
            n += count;
            replaced.push(nb.unwrap_or(b));
        }
        *self.blocks.write() = replaced;
        n += self.head.delete(matchers, mint, maxt)?;
        Ok(n)
    }

    /// Flushes and fsyncs the WAL and closes it; later commits are kept in memory only.
    pub fn close(&self) -> Result<()> {
        if let Some(m) = self.head.chunk_mapper() {
            m.close()?;
        }
        match self.head.take_wal() {
            Some(w) => w.close(),
            None => Ok(()),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(w) = self.head.take_wal() {
            let _ = w.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::Labels;

    #[test]
    fn replayed_series_reject_old_samples_at_append() {
        let dir = tempfile::tempdir().unwrap();
        let up = Labels::from_pairs([("__name__", "up")]).unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut app = db.appender_owned();
        app.append(None, &up, 1_000, 1.0).unwrap();
        app.commit().unwrap();
        db.close().unwrap();
        drop(db);

        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut app = db.appender_owned();
        assert!(matches!(
            app.append(None, &up, 500, 1.0),
            Err(Error::OutOfOrderSample {
                t: 500,
                max_t: 1_000,
                ..
            })
        ));
        assert!(matches!(
            app.append(None, &up, 1_000, 2.0),
            Err(Error::DuplicateSampleForTimestamp { t: 1_000, .. })
        ));
        app.append(None, &up, 1_000, 1.0).unwrap(); // same value: dropped silently
        app.append(None, &up, 2_000, 3.0).unwrap();
        assert_eq!(app.len(), 1);
        app.commit().unwrap();
        assert_eq!(db.head().max_time(), 2_000);
    }
}
