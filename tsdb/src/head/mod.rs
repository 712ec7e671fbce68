//! The head block: recent samples in memory, indexed by series and by label postings.
//!
//! * `series`: one series' XOR chunks and upstream's chunk cutting and ordering rules.
//! * `postings`: the inverted index (label name → value → refs).
//! * `ref_table`: one stripe of the series-by-ref table, a dense array indexed by ref.
//! * `append`: the append transaction (validate, log to the WAL, apply): [`HeadAppender`]
//!   borrows the head, [`OwnedAppender`] holds an `Arc` of it.
//! * `replay`: rebuilding the head from a checkpoint and WAL segments.
//!
//! **Architecture Invariant**: a sample is in memory only after it is in the WAL (when the
//! head has one). A commit locks its series (see `append::lock_series`), validates and
//! encodes its records, writes them to the WAL under the append lock (which covers only the
//! WAL write), and applies the samples before releasing the series locks, so the WAL order
//! of each series' samples equals the order they were applied in. Commits hold the commit
//! gate shared throughout; truncation holds it exclusively, then takes the append lock and
//! series locks (never the reverse).

mod append;
mod chunks_disk;
mod hash;
mod postings;
mod ref_table;
mod replay;
pub(crate) mod series;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use kagari_model::{Labels, Matcher};
use parking_lot::{Mutex, RwLock};

pub use append::{HeadAppender, OwnedAppender, Transaction};
pub(crate) use chunks_disk::MmappedBySeries;
pub(crate) use replay::replay;
pub use replay::ReplayStats;
pub use series::SeriesRef;

use crate::record::{Interval as WalInterval, Stone};
use crate::tombstones::Interval;
use crate::wlog::WalWriter;
use hash::{Bucket, U64Map};
use postings::MemPostings;
use ref_table::{stripe_of, RefSlots};
use series::{ClosedChunk, MemSeries};

const STRIPES: usize = 256;
/// `Arc` clones of a series that no appender holds, while `truncate` looks at it: one in
/// each of the two maps and one in `truncate`'s own list. More means an open transaction
/// (or a reader, briefly) holds it, and it is not garbage-collected.
const UNPINNED_REFS: usize = 3;

type RefStripe = RwLock<RefSlots<Arc<MemSeries>>>;
type HashStripe = RwLock<U64Map<Bucket<Arc<MemSeries>>>>;
/// Samples of one series, for writing a block.
pub(crate) type SeriesSamples = (Labels, Vec<(i64, f64)>);

/// Head options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadOptions {
    /// Chunk range in milliseconds (the minimum block duration, 2 h): head chunks never cross
    /// a multiple of it, and samples older than `max_time − chunk_range / 2` are out of bounds.
    pub chunk_range: i64,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            chunk_range: 2 * 3_600_000,
        }
    }
}

/// Counters of the head, readable at any time.
#[derive(Debug, Default)]
pub struct HeadStats {
    pub(crate) series_created: AtomicU64,
    pub(crate) series_removed: AtomicU64,
    pub(crate) chunks_created: AtomicU64,
    pub(crate) chunks_removed: AtomicU64,
    pub(crate) samples_appended: AtomicU64,
    pub(crate) samples_dropped_on_commit: AtomicU64,
}

impl HeadStats {
    /// Series created since start (including replay).
    pub fn series_created(&self) -> u64 {
        self.series_created.load(Ordering::Relaxed)
    }
    /// Series garbage-collected since start.
    pub fn series_removed(&self) -> u64 {
        self.series_removed.load(Ordering::Relaxed)
    }
    /// Chunks in memory now.
    pub fn chunks(&self) -> u64 {
        self.chunks_created
            .load(Ordering::Relaxed)
            .saturating_sub(self.chunks_removed.load(Ordering::Relaxed))
    }
    /// Samples committed since start (replayed samples included).
    pub fn samples_appended(&self) -> u64 {
        self.samples_appended.load(Ordering::Relaxed)
    }
    /// Samples that were valid in `append` but no longer at `commit` (a concurrent commit or a
    /// truncation overtook them) and were dropped.
    pub fn samples_dropped_on_commit(&self) -> u64 {
        self.samples_dropped_on_commit.load(Ordering::Relaxed)
    }
}

/// State guarded by the append lock: the WAL writer.
#[derive(Debug, Default)]
pub(crate) struct AppendState {
    pub(crate) wal: Option<WalWriter>,
}

/// The in-memory head: series registry, postings, time bounds and deletions.
#[derive(Debug)]
pub struct Head {
    opts: HeadOptions,
    /// Series by ref, striped by blocks of refs, each stripe a dense array (see `ref_table`).
    by_ref: Box<[RefStripe]>,
    /// Series by `Labels::stable_hash`, striped by hash; collisions hold several series.
    by_hash: Box<[HashStripe]>,
    postings: RwLock<MemPostings>,
    next_ref: AtomicU64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    /// No sample older than this is accepted (the end of the newest persisted block).
    min_valid_time: AtomicI64,
    tombstones: RwLock<HashMap<SeriesRef, Vec<Interval>>>,
    pub(crate) append_lock: Mutex<AppendState>,
    /// Whether a WAL is attached (commits encode their records before taking the append lock).
    wal_attached: AtomicBool,
    /// Commits hold it shared from locking their series until they are applied; truncation
    /// holds it exclusively, so it never sees a commit half done.
    commit_gate: RwLock<()>,
    /// Idle transaction buffers (see `append::TxBuffers`).
    tx_pool: Mutex<Vec<append::TxBuffers>>,
    /// Next append transaction id.
    next_tx: AtomicU64,
    stats: HeadStats,
    /// Where cut chunks go (`chunks_head/`); see `chunks_disk`.
    chunk_mapper: std::sync::OnceLock<Arc<crate::chunks_head::ChunkDiskMapper>>,
}

/// A snapshot of one head series for reading: labels, chunks overlapping the requested
/// range, and its deleted intervals.
#[derive(Debug, Clone)]
pub(crate) struct HeadSeriesSnapshot {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<ClosedChunk>,
    pub(crate) deleted: Vec<Interval>,
}

impl Head {
    /// An empty head without a WAL.
    pub fn new(opts: HeadOptions) -> Self {
        Head {
            opts,
            by_ref: (0..STRIPES).map(|_| RwLock::new(RefSlots::new())).collect(),
            by_hash: (0..STRIPES).map(|_| RwLock::default()).collect(),
            postings: RwLock::new(MemPostings::default()),
            next_ref: AtomicU64::new(1),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            tombstones: RwLock::new(HashMap::new()),
            append_lock: Mutex::new(AppendState::default()),
            wal_attached: AtomicBool::new(false),
            commit_gate: RwLock::new(()),
            tx_pool: Mutex::new(Vec::new()),
            next_tx: AtomicU64::new(1),
            stats: HeadStats::default(),
            chunk_mapper: std::sync::OnceLock::new(),
        }
    }

    /// Attaches a WAL writer: from now on commits are logged before they are applied.
    pub fn set_wal(&self, mut wal: WalWriter) {
        wal.set_deferred(true);
        let mut st = self.append_lock.lock();
        st.wal = Some(wal);
        self.wal_attached.store(true, Ordering::Release);
    }

    /// Detaches and returns the WAL writer.
    pub fn take_wal(&self) -> Option<WalWriter> {
        let mut st = self.append_lock.lock();
        self.wal_attached.store(false, Ordering::Release);
        let mut wal = st.wal.take()?;
        drop(st);
        wal.set_deferred(false);
        Some(wal)
    }

    /// Runs `f` on the WAL writer under the append lock (no commit runs meanwhile).
    pub(crate) fn with_wal<T>(&self, f: impl FnOnce(Option<&mut WalWriter>) -> T) -> T {
        f(self.append_lock.lock().wal.as_mut())
    }

    /// The options.
    pub fn options(&self) -> HeadOptions {
        self.opts
    }

    /// A new append transaction borrowing the head.
    pub fn appender(&self) -> HeadAppender<'_> {
        HeadAppender::new(self)
    }

    /// A new append transaction holding an `Arc` of the head (`'static + Send`).
    pub fn appender_owned(self: &Arc<Self>) -> OwnedAppender {
        OwnedAppender::new(self.clone())
    }

    /// Counters.
    pub fn stats(&self) -> &HeadStats {
        &self.stats
    }

    /// Number of series in memory.
    pub fn num_series(&self) -> usize {
        self.by_ref.iter().map(|s| s.read().len()).sum()
    }

    /// Oldest sample time in the head (`i64::MAX` when empty).
    pub fn min_time(&self) -> i64 {
        self.min_time.load(Ordering::Acquire)
    }

    /// Newest sample time in the head (`i64::MIN` when empty).
    pub fn max_time(&self) -> i64 {
        self.max_time.load(Ordering::Acquire)
    }

    /// Samples older than this are rejected with [`Error::OutOfBounds`](crate::Error::OutOfBounds):
    /// `max(end of the newest persisted block, max_time − chunk_range / 2)`.
    pub fn min_valid_time(&self) -> i64 {
        let floor = self.min_valid_time.load(Ordering::Acquire);
        let max = self.max_time();
        if max == i64::MIN {
            return floor;
        }
        floor.max(max.saturating_sub(self.opts.chunk_range / 2))
    }

    /// Raises the floor of [`min_valid_time`](Self::min_valid_time) (never lowers it).
    pub(crate) fn set_min_valid_time(&self, t: i64) {
        self.min_valid_time.fetch_max(t, Ordering::AcqRel);
    }

    pub(crate) fn observe_time(&self, mint: i64, maxt: i64) {
        self.min_time.fetch_min(mint, Ordering::AcqRel);
        self.max_time.fetch_max(maxt, Ordering::AcqRel);
    }

    pub(crate) fn head_stats(&self) -> &HeadStats {
        &self.stats
    }

    fn stripe(x: u64) -> usize {
        (x % STRIPES as u64) as usize
    }

    /// The series with ref `r`.
    pub(crate) fn series(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        self.by_ref.get(stripe_of(r))?.read().get(&r).cloned()
    }

    /// Runs `f` on the series with ref `r` under its stripe's read lock (so a concurrent
    /// truncation cannot remove it meanwhile); `None` if there is no such series.
    #[inline]
    pub(crate) fn with_series<T>(
        &self,
        r: SeriesRef,
        f: impl FnOnce(&Arc<MemSeries>) -> T,
    ) -> Option<T> {
        let stripe = self.by_ref.get(stripe_of(r))?.read();
        stripe.get(&r).map(f)
    }

    /// A fresh append transaction id (never 0, never reused).
    pub(crate) fn next_tx_id(&self) -> u64 {
        self.next_tx.fetch_add(1, Ordering::Relaxed)
    }

    /// The series with exactly these labels.
    pub(crate) fn series_by_labels(&self, labels: &Labels) -> Option<Arc<MemSeries>> {
        let hash = labels.stable_hash();
        let stripe = self.by_hash.get(Self::stripe(hash))?.read();
        stripe
            .get(&hash)?
            .iter()
            .find(|s| s.labels == *labels)
            .cloned()
    }

    /// The ref of the series with these labels, if it exists.
    pub fn series_ref(&self, labels: &Labels) -> Option<SeriesRef> {
        self.series_by_labels(labels).map(|s| s.series_ref)
    }

    /// Returns the series with `labels`, creating it (with ref `want_ref` when given, for
    /// replay; else the next free ref). The bool tells whether it was created. The returned
    /// `Arc` is cloned under the stripe lock, so it pins the series against garbage
    /// collection (see [`Self::truncate`]) for as long as it is held.
    pub(crate) fn get_or_create(
        &self,
        labels: &Labels,
        want_ref: Option<SeriesRef>,
    ) -> (Arc<MemSeries>, bool) {
        let pinned = |s: &Arc<MemSeries>| s.clone();
        let hash = labels.stable_hash();
        let Some(stripe) = self.by_hash.get(Self::stripe(hash)) else {
            unreachable!("stripe index is reduced modulo the stripe count")
        };
        if let Some(s) = stripe
            .read()
            .get(&hash)
            .and_then(|v| v.iter().find(|s| s.labels == *labels))
        {
            return (pinned(s), false);
        }
        let mut w = stripe.write();
        if let Some(s) = w
            .get(&hash)
            .and_then(|b| b.iter().find(|s| s.labels == *labels))
        {
            return (pinned(s), false);
        }
        let r = match want_ref {
            Some(r) => {
                self.next_ref
                    .fetch_max(r.saturating_add(1), Ordering::AcqRel);
                r
            }
            None => self.next_ref.fetch_add(1, Ordering::AcqRel),
        };
        let s = Arc::new(MemSeries::new(r, labels.clone(), want_ref.is_some()));
        let s = pinned(&s);
        match w.get_mut(&hash) {
            Some(b) => b.push(s.clone()),
            None => {
                w.insert(hash, Bucket::One(s.clone()));
            }
        }
        if let Some(st) = self.by_ref.get(stripe_of(r)) {
            st.write().insert(r, s.clone());
        }
        self.postings.write().add(r, labels);
        drop(w);
        self.stats.series_created.fetch_add(1, Ordering::Relaxed);
        (s, true)
    }

    /// Refs of the series matching all matchers, ascending.
    pub(crate) fn select_refs(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        self.postings.read().select(matchers)
    }

    /// Snapshots of the series matching `matchers` that have samples in `[mint, maxt]`,
    /// sorted by labels. Closed chunks are shared; the open chunk is copied.
    pub(crate) fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<HeadSeriesSnapshot> {
        let refs = self.select_refs(matchers);
        let tombstones = self.tombstones.read();
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let Some(s) = self.series(r) else { continue };
            let mut chunks = Vec::new();
            s.state.lock().chunks_in(mint, maxt, &mut chunks);
            if chunks.is_empty() {
                continue;
            }
            out.push(HeadSeriesSnapshot {
                labels: s.labels.clone(),
                chunks,
                deleted: tombstones.get(&r).cloned().unwrap_or_default(),
            });
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// Sorted label names of all series in the head.
    pub fn label_names(&self) -> Vec<String> {
        self.postings.read().label_names()
    }

    /// Sorted values of label `name` over all series in the head.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.postings.read().label_values(name)
    }

    /// Records deleted intervals for head series (already logged to the WAL by the caller).
    pub(crate) fn add_tombstones(&self, stones: &[Stone]) {
        let mut t = self.tombstones.write();
        for s in stones {
            let list = t.entry(s.series_ref).or_default();
            for iv in &s.intervals {
                list.push(Interval {
                    min_time: iv.mint,
                    max_time: iv.maxt,
                });
            }
            list.sort();
        }
    }

    /// Deletes `[mint, maxt]` of every head series matching `matchers`: logs a tombstones
    /// record to the WAL, then records the intervals. Returns how many series were affected.
    pub fn delete(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> crate::Result<usize> {
        let refs = self.select_refs(matchers);
        if refs.is_empty() {
            return Ok(0);
        }
        let stones: Vec<Stone> = refs
            .iter()
            .map(|&r| Stone {
                series_ref: r,
                intervals: vec![WalInterval { mint, maxt }],
            })
            .collect();
        let mut st = self.append_lock.lock();
        if let Some(wal) = st.wal.as_mut() {
            let mut buf = Vec::new();
            crate::record::encode_tombstones(&stones, &mut buf);
            wal.log_record(&buf)?;
        }
        self.add_tombstones(&stones);
        drop(st);
        Ok(refs.len())
    }

    /// Whether a series with ref `r` is in the head.
    pub fn series_exists(&self, r: SeriesRef) -> bool {
        self.series(r).is_some()
    }

    /// All samples in `[mint, maxt)` of every series, sorted by labels, skipping deleted ones
    /// (input for writing a block).
    pub(crate) fn collect_range(&self, mint: i64, maxt: i64) -> crate::Result<Vec<SeriesSamples>> {
        let mut out = Vec::new();
        for snap in self.select(&[], mint, maxt.saturating_sub(1)) {
            let mut samples = Vec::new();
            for c in &snap.chunks {
                let mut it = crate::chunkenc::XorIterator::new(&c.data);
                while it.next() == crate::chunkenc::ValueType::Float {
                    let (t, v) = it.at();
                    if t >= mint && t < maxt && !snap.deleted.iter().any(|iv| iv.contains(t)) {
                        samples.push((t, v));
                    }
                }
                if let Some(e) = it.take_err() {
                    return Err(e);
                }
            }
            if !samples.is_empty() {
                out.push((snap.labels, samples));
            }
        }
        Ok(out)
    }

    /// Drops chunks ending before `mint`, garbage-collects series left without samples (and
    /// not held by an open appender), raises the minimum valid time to `mint` and recomputes
    /// the head's min time. Runs under the append lock.
    pub(crate) fn truncate(&self, mint: i64) -> usize {
        let _gate = self.commit_gate.write();
        let _guard = self.append_lock.lock();
        self.set_min_valid_time(mint);
        let mut removed = Vec::new();
        let mut new_min = i64::MAX;
        let mut dropped_chunks = 0u64;
        for stripe in self.by_ref.iter() {
            let all: Vec<Arc<MemSeries>> = stripe.read().values().cloned().collect();
            for s in all {
                let mut st = s.state.lock();
                dropped_chunks += st.truncate_before(mint) as u64;
                match st.min_time() {
                    Some(t) => new_min = new_min.min(t),
                    None => {
                        if Arc::strong_count(&s) <= UNPINNED_REFS {
                            removed.push(s.clone());
                        }
                    }
                }
            }
        }
        // Re-check under both stripe locks: appenders pin series (hold a clone of the `Arc`,
        // taken under one of these locks) so a series is either pinned before this check or
        // no longer findable after it. Unpinned: the two maps' clones and `removed`'s.
        removed.retain(|s| {
            let hash = s.labels.stable_hash();
            let (Some(hs), Some(rs)) = (
                self.by_hash.get(Self::stripe(hash)),
                self.by_ref.get(stripe_of(s.series_ref)),
            ) else {
                return false;
            };
            let mut hw = hs.write();
            let mut rw = rs.write();
            if Arc::strong_count(s) > UNPINNED_REFS || !s.state.lock().is_empty() {
                return false;
            }
            if let Some(b) = hw.remove(&hash) {
                if let Some(b) = b.retain(|x| x.series_ref != s.series_ref) {
                    hw.insert(hash, b);
                }
            }
            rw.remove(&s.series_ref);
            true
        });
        for s in &removed {
            self.postings.write().remove(s.series_ref, &s.labels);
        }
        {
            let mut t = self.tombstones.write();
            t.retain(|r, ivs| {
                ivs.retain(|iv| iv.max_time >= mint);
                !ivs.is_empty() && self.series(*r).is_some()
            });
        }
        self.min_time.store(new_min, Ordering::Release);
        if new_min == i64::MAX {
            self.max_time.store(i64::MIN, Ordering::Release);
        }
        self.stats
            .chunks_removed
            .fetch_add(dropped_chunks, Ordering::Relaxed);
        self.stats
            .series_removed
            .fetch_add(removed.len() as u64, Ordering::Relaxed);
        removed.len()
    }
}

impl Default for Head {
    fn default() -> Self {
        Head::new(HeadOptions::default())
    }
}
