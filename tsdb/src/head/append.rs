//! [`Transaction`] ([`HeadAppender`] borrowing the head, [`OwnedAppender`] holding an
//! `Arc` of it): samples validated on `append`, logged to the WAL and applied to memory on
//! `commit`.

use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use kagari_model::Labels;

use parking_lot::MutexGuard;

use super::hash::U64Map;
use super::series::{check_order, MemSeries, SeriesRef, SeriesState, TxSlot, Verdict};
use super::Head;
use crate::error::{Error, Result};
use crate::record::{encode_series, RefSeries, SamplesEncoder};

/// The buffers of one transaction, recycled through [`Head`]'s pool so a steady stream of
/// transactions allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct TxBuffers {
    /// The series of the transaction; holding their `Arc`s pins them against garbage
    /// collection (see `Head::truncate`).
    series: Vec<Arc<MemSeries>>,
    /// Per series (same index): the newest `(t, value bits)` accepted so far, committed or
    /// in this transaction.
    newest: Vec<(i64, u64)>,
    /// Ref → index in `series`, consulted when a series' slot does not name this
    /// transaction: another open transaction may have overwritten it after this one added the
    /// series, and the series must not be added (and locked at commit) twice.
    seen: U64Map<u32>,
    samples: Vec<Pending>,
    /// Per sample at commit: whether it is still valid.
    verdicts: Vec<bool>,
    /// Per series at commit: the newest accepted `(t, value bits)`.
    shadow: Vec<(i64, u64)>,
    /// Indices of `series` in ref order, when a commit must lock them that way.
    order: Vec<u32>,
    /// The commit's series record (series not logged yet) and samples record.
    rec_series: Vec<u8>,
    rec_samples: Vec<u8>,
    new_series: Vec<RefSeries>,
}

/// Buffers that grew past this many samples are not kept in the pool.
const POOL_MAX_SAMPLES: usize = 1 << 16;
/// At most this many idle buffer sets are kept.
pub(crate) const POOL_MAX: usize = 64;

impl TxBuffers {
    /// Gives up the series of transaction `id`: frees the slots it owns (unless its commit
    /// did already: `slots_freed`) and unpins them.
    fn clear(&mut self, id: u64, slots_freed: bool) {
        for s in self.series.drain(..) {
            if !slots_freed {
                let mut st = s.state.lock();
                if st.tx.id == id {
                    st.tx = TxSlot::default();
                }
            }
        }
        self.newest.clear();
        self.seen.clear();
        self.samples.clear();
    }

    fn worth_keeping(&self) -> bool {
        self.samples.capacity() <= POOL_MAX_SAMPLES && self.series.capacity() <= POOL_MAX_SAMPLES
    }

    /// Adds a sample of `s` to transaction `id`, pinning `s` (keeping a clone) the first time.
    /// `s` must have been found under a stripe lock, or be a clone taken under one.
    ///
    /// The first open transaction to add a series owns its slot ([`TxSlot`]) until it
    /// commits or rolls back, so the usual case needs no map; a transaction that finds the
    /// slot owned by another one records the series in `seen` instead.
    #[inline(always)]
    fn add(&mut self, id: u64, s: &Arc<MemSeries>, t: i64, v: f64) -> Result<SeriesRef> {
        let r = s.series_ref;
        let mut st = s.state.lock();
        let known = if st.tx.id == id {
            Some(st.tx.idx)
        } else if self.seen.is_empty() {
            None
        } else {
            self.seen.get(&r).copied()
        };
        let idx = match known {
            Some(idx) => idx,
            None => {
                let Ok(idx) = u32::try_from(self.series.len()) else {
                    return Err(Error::InvalidInput {
                        writer: "head appender",
                        reason: "too many series in one transaction".into(),
                    });
                };
                self.series.push(s.clone());
                self.newest.push((st.max_t, st.last_bits));
                if st.tx.id == 0 {
                    st.tx = TxSlot { id, idx };
                } else {
                    self.seen.insert(r, idx);
                }
                idx
            }
        };
        drop(st);
        let Some(newest) = self.newest.get_mut(idx as usize) else {
            return Err(Error::InvalidInput {
                writer: "head appender",
                reason: "transaction slot out of range".into(),
            });
        };
        if check_order(r, newest.0, newest.1, t, v)? == Verdict::Append {
            self.samples.push(Pending { idx, t, v });
            *newest = (t, v.to_bits());
        }
        Ok(r)
    }
}

/// Locks the state of every series of a commit, returned in `series` order. It first tries
/// them in that order without blocking; if one is busy (another commit, or an appender for a
/// moment), it releases them all and locks them in ascending ref order, blocking. Waiting
/// only ever happens in ref order, so commits sharing series cannot deadlock.
fn lock_series<'s>(
    series: &'s [Arc<MemSeries>],
    order: &mut Vec<u32>,
) -> Vec<MutexGuard<'s, SeriesState>> {
    let mut locked = Vec::with_capacity(series.len());
    for s in series {
        match s.state.try_lock() {
            Some(g) => locked.push(g),
            None => break,
        }
    }
    if locked.len() == series.len() {
        return locked;
    }
    drop(locked);
    order.clear();
    order.extend((0..series.len()).filter_map(|i| u32::try_from(i).ok()));
    order.sort_unstable_by_key(|&i| series.get(i as usize).map_or(0, |s| s.series_ref));
    let mut slots: Vec<Option<MutexGuard<'s, SeriesState>>> =
        std::iter::repeat_with(|| None).take(series.len()).collect();
    for &i in order.iter() {
        if let (Some(s), Some(slot)) = (series.get(i as usize), slots.get_mut(i as usize)) {
            *slot = Some(s.state.lock());
        }
    }
    slots.into_iter().flatten().collect()
}

/// Logs the series and valid samples of a commit that found a WAL it did not expect (one
/// attached while it was validating): encodes them under the append lock.
fn log_unencoded(
    wal: &mut crate::wlog::WalWriter,
    series: &[Arc<MemSeries>],
    samples: &[Pending],
    verdicts: &[bool],
) -> Result<()> {
    let new: Vec<RefSeries> = series
        .iter()
        .filter(|s| !s.logged.load(Ordering::Acquire))
        .map(|s| RefSeries {
            series_ref: s.series_ref,
            labels: s.labels.clone(),
        })
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut records: Vec<&[u8]> = Vec::new();
    if !new.is_empty() {
        encode_series(&new, &mut a);
        records.push(&a);
    }
    let mut enc = SamplesEncoder::new(&mut b);
    for (p, _) in samples.iter().zip(verdicts).filter(|(_, ok)| **ok) {
        if let Some(s) = series.get(p.idx as usize) {
            enc.push(s.series_ref, p.t, p.v);
        }
    }
    if !enc.is_empty() {
        records.push(&b);
    }
    wal.log(&records)
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Index into `HeadAppender::series`.
    idx: u32,
    t: i64,
    v: f64,
}

/// An append transaction on a [`Head`], over any handle `H` of it: [`HeadAppender`] borrows
/// the head, [`OwnedAppender`] holds an `Arc<Head>` (`'static` and `Send`, so a scrape loop
/// can keep it in a `Box<dyn …>` across calls). Both behave identically.
///
/// Upstream's rules are applied in [`append`](Self::append): a sample older than
/// [`Head::min_valid_time`] is [`Error::OutOfBounds`]; older than its series' newest sample
/// [`Error::OutOfOrderSample`]; the same timestamp with other value bits
/// [`Error::DuplicateSampleForTimestamp`], with the same bits a silent no-op. A rejected
/// sample does not affect the others. Nothing is visible to readers before
/// [`commit`](Self::commit); [`rollback`](Self::rollback) (or dropping the appender) discards
/// everything.
///
/// ```
/// use kagari_model::Labels;
/// use kagari_tsdb::head::Head;
///
/// let head = Head::default();
/// let up = Labels::from_pairs([("__name__", "up")]).unwrap();
/// let mut app = head.appender();
/// let r = app.append(None, &up, 1_000, 1.0).unwrap();
/// app.append(Some(r), &up, 2_000, 0.0).unwrap();
/// assert!(app.append(Some(r), &up, 1_500, 0.0).is_err()); // out of order
/// app.commit().unwrap();
/// assert_eq!((head.min_time(), head.max_time()), (1_000, 2_000));
/// ```
#[derive(Debug)]
pub struct Transaction<H: Deref<Target = Head>> {
    head: H,
    /// This transaction's id (see [`TxSlot`]).
    id: u64,
    tx: TxBuffers,
    min_valid_time: i64,
    /// Whether `commit` has freed this transaction's series slots already.
    slots_freed: bool,
}

/// An append transaction borrowing the head ([`Head::appender`], [`Db::appender`](crate::Db::appender)).
pub type HeadAppender<'a> = Transaction<&'a Head>;

/// An append transaction holding an `Arc` of the head ([`Head::appender_owned`],
/// [`Db::appender_owned`](crate::Db::appender_owned)): `'static + Send`.
///
/// ```
/// use std::sync::Arc;
/// use kagari_model::Labels;
/// use kagari_tsdb::head::{Head, OwnedAppender};
///
/// let head = Arc::new(Head::default());
/// let up = Labels::from_pairs([("__name__", "up")]).unwrap();
/// let mut app: Box<OwnedAppender> = Box::new(head.appender_owned());
/// let r = app.append(None, &up, 1_000, 1.0).unwrap();
/// app.append(Some(r), &up, 2_000, 1.0).unwrap();
/// std::thread::spawn(move || app.commit().unwrap()).join().unwrap();
/// assert_eq!(head.stats().samples_appended(), 2);
/// ```
pub type OwnedAppender = Transaction<Arc<Head>>;

impl<H: Deref<Target = Head>> Transaction<H> {
    pub(super) fn new(head: H) -> Self {
        let id = head.next_tx_id();
        let tx = head.tx_pool.lock().pop().unwrap_or_default();
        let min_valid_time = head.min_valid_time();
        Transaction {
            head,
            id,
            tx,
            min_valid_time,
            slots_freed: false,
        }
    }

    /// Adds a sample. `series_ref` (from an earlier append) skips the label lookup when it
    /// still names a series; otherwise `labels` identify (or create) the series. Returns the
    /// series' ref.
    pub fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        if t < self.min_valid_time {
            return Err(Error::OutOfBounds {
                t,
                min_valid_time: self.min_valid_time,
            });
        }
        if let Some(r) = series_ref {
            // The series stripe stays read-locked while the sample is added, so truncation
            // cannot remove the series before it is pinned.
            let (head, tx, id): (&Head, _, _) = (&self.head, &mut self.tx, self.id);
            if let Some(res) = head.with_series(r, |s| tx.add(id, s, t, v)) {
                return res;
            }
        }
        if labels.is_empty() {
            return Err(Error::InvalidInput {
                writer: "head appender",
                reason: "series with an empty label set".into(),
            });
        }
        let (s, _) = self.head.get_or_create(labels, None);
        self.tx.add(self.id, &s, t, v)
    }

    /// Number of samples waiting for commit.
    pub fn len(&self) -> usize {
        self.tx.samples.len()
    }

    /// Whether no sample is waiting.
    pub fn is_empty(&self) -> bool {
        self.tx.samples.is_empty()
    }

    /// Logs new series and the samples to the WAL (if the head has one), then applies them to
    /// memory. When this returns `Ok`, the samples are in the WAL file: they survive a crash of
    /// the process (and of the machine with `SyncPolicy::EveryLog`).
    ///
    /// Samples overtaken since `append` by another commit or by a head truncation are dropped
    /// (counted in [`HeadStats::samples_dropped_on_commit`](super::HeadStats)).
    pub fn commit(mut self) -> Result<()> {
        let res = self.commit_inner();
        self.release();
        res
    }

    fn commit_inner(&mut self) -> Result<()> {
        if self.tx.samples.is_empty() {
            return Ok(());
        }
        let head: &Head = &self.head;
        let chunk_range = head.options().chunk_range;
        // Truncation waits for commits in flight (and keeps new ones out while it runs).
        let gate = head.commit_gate.read();
        let TxBuffers {
            series,
            samples,
            newest: _,
            seen: _,
            verdicts,
            shadow,
            order,
            rec_series,
            rec_samples,
            new_series,
        } = &mut self.tx;

        // Lock every series of the transaction and keep them locked until their samples are
        // applied: another commit touching one of them waits, so each series' samples reach
        // the WAL in the order they are applied in. Validation and record encoding happen
        // here, outside the append lock, which only covers the WAL write.
        let min_valid = head.min_valid_time();
        let id = self.id;
        let mut locked = lock_series(series, order);
        for g in locked.iter_mut() {
            if g.tx.id == id {
                g.tx = TxSlot::default();
            }
        }
        self.slots_freed = true;
        shadow.clear();
        shadow.extend(locked.iter().map(|g| (g.max_t, g.last_bits)));
        verdicts.clear();
        // One pass: re-validate each sample and encode the valid ones into the samples record.
        let logging = head.wal_attached.load(Ordering::Acquire);
        rec_samples.clear();
        let mut enc = SamplesEncoder::new(rec_samples);
        let mut dropped = 0u64;
        for p in samples.iter() {
            let (Some(s), Some(slot)) =
                (series.get(p.idx as usize), shadow.get_mut(p.idx as usize))
            else {
                verdicts.push(false);
                continue;
            };
            let ok = p.t >= min_valid
                && matches!(
                    check_order(s.series_ref, slot.0, slot.1, p.t, p.v),
                    Ok(Verdict::Append)
                );
            if ok {
                *slot = (p.t, p.v.to_bits());
                if logging {
                    enc.push(s.series_ref, p.t, p.v);
                }
            } else {
                dropped += 1;
            }
            verdicts.push(ok);
        }
        let any_sample = !enc.is_empty();
        // Series records for series not logged yet; `logged` only changes under the series
        // lock held here, so two commits never both log (or both skip) a series.
        new_series.clear();
        rec_series.clear();
        if logging {
            for s in series.iter() {
                if !s.logged.load(Ordering::Acquire) {
                    new_series.push(RefSeries {
                        series_ref: s.series_ref,
                        labels: s.labels.clone(),
                    });
                }
            }
            if !new_series.is_empty() {
                encode_series(new_series, rec_series);
            }
        }

        let mut deferred = None;
        {
            let mut st = head.append_lock.lock();
            if let Some(wal) = st.wal.as_mut() {
                if !logging {
                    // A WAL attached since the check above: encode under the lock.
                    log_unencoded(wal, series, samples, verdicts)?;
                    for s in series.iter() {
                        s.logged.store(true, Ordering::Release);
                    }
                } else {
                    let mut records: [&[u8]; 2] = [&[], &[]];
                    let mut n = 0;
                    if !rec_series.is_empty() {
                        records[0] = rec_series;
                        n = 1;
                    }
                    if any_sample {
                        if let Some(slot) = records.get_mut(n) {
                            *slot = rec_samples;
                        }
                        n += 1;
                    }
                    wal.log(records.get(..n).unwrap_or_default())?;
                    deferred = wal.take_deferred();
                    if !new_series.is_empty() {
                        for s in series.iter() {
                            s.logged.store(true, Ordering::Release);
                        }
                    }
                }
            }
        }
        new_series.clear();
        // Off the append lock: map in WAL pages allocated ahead of the writes.
        if let Some(d) = deferred {
            d.run();
        }

        // Apply, with only the series locks held.
        let (mut mint, mut maxt, mut applied, mut cut) = (i64::MAX, i64::MIN, 0u64, 0u64);
        let mut res = Ok(());
        for (p, ok) in samples.iter().zip(verdicts.iter()) {
            let (true, Some(g), Some(s)) = (
                *ok,
                locked.get_mut(p.idx as usize),
                series.get(p.idx as usize),
            ) else {
                continue;
            };
            // A chunk cut here goes straight to `chunks_head/` (head/chunks_disk.rs).
            let r = s.series_ref;
            match g.append_with(p.t, p.v, chunk_range, |min_t, max_t, bytes| {
                head.map_chunk(r, min_t, max_t, bytes)
            }) {
                Ok(true) => cut += 1,
                Ok(false) => {}
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
            mint = mint.min(p.t);
            maxt = maxt.max(p.t);
            applied += 1;
        }
        drop(locked);
        if applied > 0 {
            head.observe_time(mint, maxt);
        }
        drop(gate);
        let stats = head.head_stats();
        stats.samples_appended.fetch_add(applied, Ordering::Relaxed);
        stats.chunks_created.fetch_add(cut, Ordering::Relaxed);
        stats
            .samples_dropped_on_commit
            .fetch_add(dropped, Ordering::Relaxed);
        res
    }

    /// Discards every sample of the transaction.
    pub fn rollback(mut self) {
        self.release();
    }

    /// Unpins the series and returns the buffers to the head's pool (idempotent: `commit`
    /// and `Drop` both call it).
    fn release(&mut self) {
        let mut tx = std::mem::take(&mut self.tx);
        tx.clear(self.id, self.slots_freed);
        if tx.worth_keeping() && tx.samples.capacity() > 0 {
            let mut pool = self.head.tx_pool.lock();
            if pool.len() < POOL_MAX {
                pool.push(tx);
            }
        }
    }
}

impl<H: Deref<Target = Head>> Drop for Transaction<H> {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::HeadOptions;

    fn lbl(v: &str) -> Labels {
        Labels::from_pairs([("__name__", "m"), ("i", v)]).unwrap()
    }

    #[test]
    fn rules_are_checked_against_committed_and_pending_samples() {
        let head = Head::default();
        let a = lbl("a");
        let mut app = head.appender();
        let r = app.append(None, &a, 100, 1.0).unwrap();
        assert!(matches!(
            app.append(Some(r), &a, 50, 1.0),
            Err(Error::OutOfOrderSample {
                t: 50,
                max_t: 100,
                ..
            })
        ));
        assert!(matches!(
            app.append(Some(r), &a, 100, 2.0),
            Err(Error::DuplicateSampleForTimestamp { t: 100, .. })
        ));
        app.append(Some(r), &a, 100, 1.0).unwrap(); // same value: no-op
        assert_eq!(app.len(), 1);
        app.commit().unwrap();

        let mut app = head.appender();
        assert!(matches!(
            app.append(None, &a, 99, 1.0),
            Err(Error::OutOfOrderSample { .. })
        ));
        app.append(None, &a, 100, 1.0).unwrap();
        assert!(app.is_empty());
    }

    #[test]
    fn out_of_bounds_is_relative_to_head_max_time() {
        let head = Head::new(HeadOptions { chunk_range: 1000 });
        let mut app = head.appender();
        app.append(None, &lbl("a"), 10_000, 1.0).unwrap();
        app.commit().unwrap();
        let mut app = head.appender();
        // max 10_000 - range/2 = 9_500; a new series is still bounded.
        assert!(matches!(
            app.append(None, &lbl("b"), 9_499, 1.0),
            Err(Error::OutOfBounds {
                t: 9_499,
                min_valid_time: 9_500
            })
        ));
        app.append(None, &lbl("b"), 9_500, 1.0).unwrap();
        app.commit().unwrap();
    }

    #[test]
    fn rollback_discards_and_commit_drops_overtaken_samples() {
        let head = Head::default();
        let a = lbl("a");
        let mut app = head.appender();
        app.append(None, &a, 10, 1.0).unwrap();
        app.rollback();
        assert_eq!(head.max_time(), i64::MIN);
        assert_eq!(head.num_series(), 1); // the series exists, without samples

        let mut slow = head.appender();
        slow.append(None, &a, 20, 1.0).unwrap();
        let mut fast = head.appender();
        fast.append(None, &a, 30, 1.0).unwrap();
        fast.commit().unwrap();
        slow.commit().unwrap();
        assert_eq!(head.stats().samples_appended(), 1);
        assert_eq!(head.stats().samples_dropped_on_commit(), 1);
    }

    #[test]
    fn interleaved_transactions_on_one_series_do_not_add_it_twice() {
        let head = Head::default();
        let a_lbl = lbl("a");
        let mut a = head.appender();
        let r = a.append(None, &a_lbl, 10, 1.0).unwrap();
        let mut b = head.appender();
        b.append(Some(r), &a_lbl, 15, 1.0).unwrap(); // the slot is a's: b records it in `seen`
        a.append(Some(r), &a_lbl, 20, 2.0).unwrap();
        // Still ordered against a's own pending sample, not the committed state.
        assert!(matches!(
            a.append(Some(r), &a_lbl, 5, 0.0),
            Err(Error::OutOfOrderSample { max_t: 20, .. })
        ));
        assert_eq!(a.tx.series.len(), 1);
        a.commit().unwrap(); // locks the series once (twice would deadlock)
        b.commit().unwrap(); // 15 is now older than 20: dropped
        assert_eq!(head.stats().samples_appended(), 2);
        assert_eq!(head.stats().samples_dropped_on_commit(), 1);
        assert_eq!(head.max_time(), 20);

        // The slot is free again after a commit, a rollback or a drop, and a transaction
        // that met the series while another one owned its slot still finds it once.
        let mut a = head.appender();
        a.append(Some(r), &a_lbl, 30, 1.0).unwrap();
        let mut b = head.appender();
        b.append(Some(r), &a_lbl, 40, 1.0).unwrap();
        a.rollback();
        b.append(Some(r), &a_lbl, 50, 1.0).unwrap();
        assert_eq!(b.tx.series.len(), 1);
        let mut c = head.appender();
        c.append(Some(r), &a_lbl, 45, 1.0).unwrap();
        assert!(c.tx.seen.is_empty()); // b did not take the slot: c owns it
        drop(c);
        b.commit().unwrap();
        let mut d = head.appender();
        d.append(Some(r), &a_lbl, 60, 1.0).unwrap();
        assert!(d.tx.seen.is_empty());
        d.commit().unwrap();
        assert_eq!(head.max_time(), 60);
        assert_eq!(head.stats().samples_appended(), 5);
    }

    #[test]
    fn truncation_keeps_series_held_by_an_open_transaction() {
        let head = Head::default();
        let (a, b) = (lbl("a"), lbl("b"));
        let mut app = head.appender();
        let ra = app.append(None, &a, 10, 1.0).unwrap();
        app.append(None, &b, 10, 1.0).unwrap();
        app.commit().unwrap();
        // Both series are empty after truncation; only `a` is held by a transaction.
        let mut open = head.appender();
        open.append(Some(ra), &a, 20, 1.0).unwrap();
        assert_eq!(head.truncate(i64::MAX), 1);
        assert_eq!(head.num_series(), 1);
        assert_eq!(head.series_ref(&a), Some(ra));
        assert_eq!(head.series_ref(&b), None);
        open.rollback();
        assert_eq!(head.truncate(i64::MAX), 1);
        assert_eq!(head.num_series(), 0);
    }

    #[test]
    fn ref_of_unknown_series_falls_back_to_labels() {
        let head = Head::default();
        let mut app = head.appender();
        let r = app.append(Some(12345), &lbl("a"), 1, 1.0).unwrap();
        assert_ne!(r, 12345);
        assert!(app.append(Some(777), &Labels::empty(), 1, 1.0).is_err());
        app.commit().unwrap();
        assert_eq!(head.series_ref(&lbl("a")), Some(r));
    }

    #[test]
    fn commits_sharing_series_in_opposite_orders_do_not_deadlock() {
        // Two transactions hold the same two series in opposite orders and commit at the
        // same moment, over and over: the first lock attempt of one of them fails, it backs
        // off and locks in ref order. Every sample is either applied or dropped as overtaken.
        let head = Head::default();
        let (a, b) = (lbl("a"), lbl("b"));
        let mut app = head.appender();
        let ra = app.append(None, &a, 0, 0.0).unwrap();
        let rb = app.append(None, &b, 0, 0.0).unwrap();
        app.commit().unwrap();
        let rounds = 300i64;
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for (first, second) in [((ra, &a), (rb, &b)), ((rb, &b), (ra, &a))] {
                let (head, barrier) = (&head, &barrier);
                s.spawn(move || {
                    for i in 1..=rounds {
                        let mut app = head.appender();
                        // Both threads use the same timestamps: one wins, one is dropped.
                        app.append(Some(first.0), first.1, i * 10, 1.0).unwrap_or(0);
                        app.append(Some(second.0), second.1, i * 10, 1.0)
                            .unwrap_or(0);
                        barrier.wait();
                        app.commit().unwrap();
                    }
                });
            }
        });
        let stats = head.stats();
        assert_eq!(
            stats.samples_appended() - 2 + stats.samples_dropped_on_commit(),
            4 * rounds as u64
        );
        assert_eq!(head.max_time(), rounds * 10);
        for r in [ra, rb] {
            assert_eq!(head.series(r).unwrap().state.lock().max_t, rounds * 10);
        }
    }
}
