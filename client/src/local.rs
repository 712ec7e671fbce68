//! Opt-in unsynchronised fast paths: per-thread buffers that add into a shared metric on
//! [`flush`](LocalCounter::flush) or drop (rust-prometheus's `local` handles).
//!
//! Updates are plain arithmetic on the owning thread; scrapes only see flushed values.

use crate::atomic::Number;
use crate::{GenericCounter, Histogram};

/// A thread-owned buffer for a counter; see [`GenericCounter::local`].
///
/// ```
/// let shared = kagari_client::IntCounter::new();
/// let mut local = shared.local();
/// for _ in 0..1000 {
///     local.inc();
/// }
/// assert_eq!(shared.get(), 0);
/// local.flush();
/// assert_eq!(shared.get(), 1000);
/// ```
#[derive(Debug)]
pub struct LocalCounter<N: Number> {
    shared: GenericCounter<N>,
    pending: N::T,
}

impl<N: Number> LocalCounter<N> {
    /// Adds one locally.
    #[inline]
    pub fn inc(&mut self) {
        self.pending = N::plus(self.pending, N::ONE);
    }

    /// Adds `v` locally; negative or NaN increments are ignored, as on the counter.
    #[inline]
    pub fn inc_by(&mut self, v: N::T) {
        if N::is_non_negative(v) {
            self.pending = N::plus(self.pending, v);
        }
    }

    /// Not yet flushed amount.
    pub fn pending(&self) -> N::T {
        self.pending
    }

    /// Adds the pending amount to the shared counter.
    pub fn flush(&mut self) {
        if self.pending != N::ZERO {
            self.shared.inc_by(self.pending);
            self.pending = N::ZERO;
        }
    }
}

impl<N: Number> Drop for LocalCounter<N> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl<N: Number> GenericCounter<N> {
    /// A thread-owned buffer that adds into this counter when flushed or dropped.
    pub fn local(&self) -> LocalCounter<N> {
        LocalCounter {
            shared: self.clone(),
            pending: N::ZERO,
        }
    }
}

/// A thread-owned buffer for a histogram; see [`Histogram::local`].
#[derive(Debug)]
pub struct LocalHistogram {
    shared: Histogram,
    counts: Box<[u64]>,
    sum: f64,
    count: u64,
}

impl LocalHistogram {
    /// Records one observation locally.
    #[inline]
    pub fn observe(&mut self, v: f64) {
        if let Some(c) = self.counts.get_mut(self.shared.bucket_of(v)) {
            *c += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    /// Adds the pending observations to the shared histogram.
    pub fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        self.shared.add_bulk(&self.counts, self.sum);
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.sum = 0.0;
        self.count = 0;
    }
}

impl Drop for LocalHistogram {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Histogram {
    /// A thread-owned buffer that adds into this histogram when flushed or dropped.
    pub fn local(&self) -> LocalHistogram {
        LocalHistogram {
            shared: self.clone(),
            counts: vec![0; self.bounds().len() + 1].into_boxed_slice(),
            sum: 0.0,
            count: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counter;

    #[test]
    fn counters_flush_on_demand_and_drop() {
        let c = Counter::new();
        {
            let mut l = c.local();
            l.inc();
            l.inc_by(1.5);
            l.inc_by(-3.0);
            assert_eq!(l.pending(), 2.5);
            assert_eq!(c.get(), 0.0);
        }
        assert_eq!(c.get(), 2.5);
    }

    #[test]
    fn histograms_flush_into_the_right_buckets() {
        let h = Histogram::with_buckets(vec![1.0, 2.0]).unwrap();
        let mut l = h.local();
        for v in [0.5, 1.5, 1.7, 9.0] {
            l.observe(v);
        }
        assert_eq!(h.count(), 0);
        l.flush();
        l.flush();
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(1.0, 1), (2.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(s.sum, 12.7);
        l.observe(0.1);
        drop(l);
        assert_eq!(h.count(), 5);
    }

    #[test]
    fn concurrent_local_flushes_add_up() {
        let h = Histogram::with_buckets(vec![10.0]).unwrap();
        let c = crate::IntCounter::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let mut lh = h.local();
                    let mut lc = c.local();
                    for i in 0..10_000 {
                        lh.observe(f64::from(i % 20));
                        lc.inc();
                        if i % 1000 == 0 {
                            lh.flush();
                            lc.flush();
                        }
                    }
                });
                s.spawn(|| {
                    for _ in 0..100 {
                        let snap = h.snapshot();
                        assert_eq!(snap.buckets.last().map(|b| b.1), Some(snap.count));
                    }
                });
            }
        });
        assert_eq!(c.get(), 40_000);
        let s = h.snapshot();
        assert_eq!(s.count, 40_000);
        assert_eq!(s.buckets[0].1, 22_000);
    }
}
