//! Classic (bucketed) histograms with a hot/cold shard pair so `observe` never takes a lock.
//!
//! Each observation bumps a combined counter whose top bit says which shard is hot, then adds
//! to that shard's sum and, last (release), to its bucket: three atomic updates. The bucket
//! increment is the observation's completion mark. A scrape flips the hot bit under a mutex,
//! waits until the now-cold shard's buckets add up to the number of observations started
//! (then every started observation has completed, its sum included), reads it (a consistent
//! snapshot) and folds it into the hot shard. The Go client keeps a fourth, separate
//! completion counter; summing the buckets at scrape time makes it unnecessary.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kagari_exposition::{MetricType, Value};
use parking_lot::Mutex;

use crate::atomic::{unix_now_seconds, AtomicF64};
use crate::collector::{MetricWriter, Series, SeriesLabels};
use crate::exemplar::{validate_exemplar_labels, ExemplarSlot};
use crate::timer::{Observe, Timer};
use crate::Error;

/// The default bucket upper bounds (`+Inf` is implicit), as in every official client.
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const HOT_BIT: u64 = 1 << 63;
/// Up to this many buckets, the bucket is found by counting the bounds below the value (no
/// branch to mispredict); above, by binary search.
const LINEAR_SEARCH_MAX: usize = 32;
/// Snapshots of histograms with at most this many buckets stay on the stack.
const STACK_BUCKETS: usize = 40;

/// `count` buckets of `width`, the first with upper bound `start`.
pub fn linear_buckets(start: f64, width: f64, count: usize) -> Result<Vec<f64>, Error> {
    if count < 1 {
        return Err(Error::InvalidBuckets {
            reason: "linear_buckets needs a positive count",
        });
    }
    if !start.is_finite() || !width.is_finite() || width <= 0.0 {
        return Err(Error::InvalidBuckets {
            reason: "linear_buckets needs a finite width > 0",
        });
    }
    Ok((0..count).map(|i| start + width * i as f64).collect())
}

/// `count` buckets, the first with upper bound `start`, each `factor` times the previous.
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> Result<Vec<f64>, Error> {
    if count < 1 {
        return Err(Error::InvalidBuckets {
            reason: "exponential_buckets needs a positive count",
        });
    }
    if !start.is_finite() || start <= 0.0 {
        return Err(Error::InvalidBuckets {
            reason: "exponential_buckets needs a start > 0",
        });
    }
    if !factor.is_finite() || factor <= 1.0 {
        return Err(Error::InvalidBuckets {
            reason: "exponential_buckets needs a factor > 1",
        });
    }
    let mut v = Vec::with_capacity(count);
    let mut b = start;
    for _ in 0..count {
        v.push(b);
        b *= factor;
    }
    Ok(v)
}

#[derive(Debug)]
struct Shard {
    /// Non-cumulative bucket counts; their total is the number of completed observations.
    buckets: Box<[AtomicU64]>,
    sum: AtomicF64,
}

impl Shard {
    fn new(n: usize) -> Self {
        Shard {
            buckets: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::new(0.0),
        }
    }

    /// Observations completed in this shard (acquire: their sums are visible afterwards).
    fn completed(&self) -> u64 {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Acquire))
            .fold(0, u64::wrapping_add)
    }
}

#[derive(Debug)]
struct Core {
    /// Finite upper bounds, strictly increasing; bucket `upper.len()` is `+Inf`.
    upper: Arc<[f64]>,
    /// Started observations (low 63 bits) and the hot shard index (top bit).
    count_and_hot: AtomicU64,
    shards: [Shard; 2],
    collect_lock: Mutex<()>,
    exemplars: Box<[ExemplarSlot]>,
    created: AtomicF64,
}

/// A point-in-time copy of a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, cumulative count)` per bucket, ending with `(+Inf, count)`.
    pub buckets: Vec<(f64, u64)>,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

/// A classic histogram. Cloning gives another handle to the same histogram.
///
/// ```
/// use kagari_client::Histogram;
/// let h = Histogram::with_buckets(vec![1.0, 2.0]).unwrap();
/// h.observe(0.5);
/// h.observe(1.5);
/// h.observe(7.0);
/// let s = h.snapshot();
/// assert_eq!(s.buckets, vec![(1.0, 1), (2.0, 2), (f64::INFINITY, 3)]);
/// assert_eq!((s.count, s.sum), (3, 9.0));
/// ```
#[derive(Debug, Clone)]
pub struct Histogram(Arc<Core>);

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks and normalises bucket bounds (a trailing `+Inf` is dropped).
pub(crate) fn validate_buckets(mut upper: Vec<f64>) -> Result<Arc<[f64]>, Error> {
    if upper.last() == Some(&f64::INFINITY) {
        upper.pop();
    }
    if upper.iter().any(|b| b.is_nan()) {
        return Err(Error::InvalidBuckets {
            reason: "bucket bound is NaN",
        });
    }
    if upper.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(Error::InvalidBuckets {
            reason: "bucket bounds must be strictly increasing",
        });
    }
    Ok(upper.into())
}

impl Histogram {
    /// A histogram with [`DEFAULT_BUCKETS`].
    pub fn new() -> Self {
        Self::from_bounds(Arc::from(&DEFAULT_BUCKETS[..]))
    }

    /// A histogram with the given finite upper bounds (strictly increasing; `+Inf` implied).
    pub fn with_buckets(upper: Vec<f64>) -> Result<Self, Error> {
        Ok(Self::from_bounds(validate_buckets(upper)?))
    }

    pub(crate) fn from_bounds(upper: Arc<[f64]>) -> Self {
        let n = upper.len() + 1;
        Histogram(Arc::new(Core {
            upper,
            count_and_hot: AtomicU64::new(0),
            shards: [Shard::new(n), Shard::new(n)],
            collect_lock: Mutex::new(()),
            exemplars: (0..n).map(|_| ExemplarSlot::default()).collect(),
            created: AtomicF64::new(unix_now_seconds()),
        }))
    }

    /// The finite bucket upper bounds.
    pub fn bounds(&self) -> &[f64] {
        &self.0.upper
    }

    #[inline]
    fn bucket_index(&self, v: f64) -> usize {
        let upper = &self.0.upper;
        if v.is_nan() {
            upper.len()
        } else if upper.len() <= LINEAR_SEARCH_MAX {
            // The first bound >= v is preceded by exactly the bounds < v (they increase).
            upper.iter().map(|&b| usize::from(b < v)).sum()
        } else {
            upper.partition_point(|&b| b < v)
        }
    }

    /// Records one observation. NaN is counted in `+Inf` and makes the sum NaN, as in Go.
    #[inline]
    pub fn observe(&self, v: f64) {
        let i = self.bucket_index(v);
        self.observe_at(i, v);
    }

    #[inline]
    fn observe_at(&self, i: usize, v: f64) {
        let core = &*self.0;
        let n = core.count_and_hot.fetch_add(1, Ordering::AcqRel);
        let shard = &core.shards[(n >> 63) as usize];
        shard.sum.add(v);
        // Last, with release: marks the observation complete (see the module docs). `i` is
        // always in range (`bucket_index` returns at most `upper.len()`).
        if let Some(b) = shard.buckets.get(i) {
            b.fetch_add(1, Ordering::Release);
        }
    }

    /// Adds pre-aggregated observations (non-cumulative `counts` per bucket) in one go; the
    /// count is their total.
    pub(crate) fn add_bulk(&self, counts: &[u64], sum: f64) {
        let core = &*self.0;
        let shard_counts = counts.iter().take(core.upper.len() + 1);
        let count = shard_counts.clone().fold(0, |a: u64, c| a.wrapping_add(*c));
        if count == 0 {
            return;
        }
        let n = core.count_and_hot.fetch_add(count, Ordering::AcqRel);
        let shard = &core.shards[(n >> 63) as usize];
        shard.sum.add(sum);
        for (b, c) in shard.buckets.iter().zip(shard_counts) {
            if *c > 0 {
                b.fetch_add(*c, Ordering::Release);
            }
        }
    }

    /// The bucket an observation falls into (`bounds().len()` is `+Inf`).
    pub(crate) fn bucket_of(&self, v: f64) -> usize {
        self.bucket_index(v)
    }

    /// Records one observation and keeps an exemplar for its bucket.
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), Error> {
        validate_exemplar_labels(labels)?;
        let i = self.bucket_index(v);
        self.observe_at(i, v);
        if let Some(slot) = self.0.exemplars.get(i) {
            slot.store(labels, v);
        }
        Ok(())
    }

    /// Starts a timer that observes the elapsed seconds when dropped or stopped.
    pub fn start_timer(&self) -> HistogramTimer {
        Timer::new(self.clone())
    }

    /// Unix time in seconds at which the histogram was created.
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }

    /// Runs `f(non-cumulative bucket counts, count, sum)` on a consistent snapshot.
    fn with_snapshot<R>(&self, f: impl FnOnce(&[u64], u64, f64) -> R) -> R {
        let core = &*self.0;
        let _guard = core.collect_lock.lock();
        let n = core.count_and_hot.fetch_add(HOT_BIT, Ordering::AcqRel);
        let count = n & !HOT_BIT;
        let (cold, hot) = if n & HOT_BIT == 0 {
            (&core.shards[0], &core.shards[1])
        } else {
            (&core.shards[1], &core.shards[0])
        };
        while cold.completed() != count {
            std::thread::yield_now();
        }
        let nb = cold.buckets.len();
        let mut stack = [0u64; STACK_BUCKETS];
        let mut heap = Vec::new();
        let counts: &mut [u64] = if nb <= STACK_BUCKETS {
            &mut stack[..nb]
        } else {
            heap.resize(nb, 0);
            &mut heap
        };
        for (c, b) in counts.iter_mut().zip(cold.buckets.iter()) {
            *c = b.swap(0, Ordering::Relaxed);
        }
        let sum = cold.sum.swap(0.0);
        // Sum first, then buckets with release, as an observation does: the next scrape's
        // wait then also covers these folded counts.
        hot.sum.add(sum);
        for (c, b) in counts.iter().zip(hot.buckets.iter()) {
            if *c > 0 {
                b.fetch_add(*c, Ordering::Release);
            }
        }
        f(counts, count, sum)
    }

    /// A consistent copy of the buckets, count and sum.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let upper = self.0.upper.clone();
        self.with_snapshot(|counts, count, sum| {
            let mut cum = 0u64;
            let buckets = counts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cum += c;
                    (upper.get(i).copied().unwrap_or(f64::INFINITY), cum)
                })
                .collect();
            HistogramSnapshot {
                buckets,
                count,
                sum,
            }
        })
    }

    /// Number of observations so far.
    pub fn count(&self) -> u64 {
        self.with_snapshot(|_, count, _| count)
    }

    /// Sum of observations so far.
    pub fn sum(&self) -> f64 {
        self.with_snapshot(|_, _, sum| sum)
    }
}

/// A timer for a histogram (see [`Histogram::start_timer`]).
pub type HistogramTimer = Timer<Histogram>;

impl Observe for Histogram {
    fn observe(&self, v: f64) {
        Histogram::observe(self, v);
    }
}

impl Series for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
    const RESERVED_LABEL: Option<&'static str> = Some("le");

    fn encode_series(&self, w: &mut MetricWriter<'_>, labels: SeriesLabels<'_>) -> io::Result<()> {
        let core = &*self.0;
        self.with_snapshot(|counts, count, sum| {
            let mut cum = 0u64;
            for (i, c) in counts.iter().enumerate() {
                cum += c;
                let le = core.upper.get(i).copied().unwrap_or(f64::INFINITY);
                let slot = core.exemplars.get(i);
                let value = Value::UInt(cum);
                match slot {
                    Some(slot) => slot.with(|ex| {
                        w.series_sample("_bucket", labels, Some(("le", le)), value, ex)
                    })?,
                    None => w.series_sample("_bucket", labels, Some(("le", le)), value, None)?,
                }
            }
            w.series_sample("_sum", labels, None, Value::Float(sum), None)?;
            w.series_sample("_count", labels, None, Value::UInt(count), None)?;
            w.series_sample("_created", labels, None, Value::Float(self.created()), None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_helpers() {
        assert_eq!(linear_buckets(1.0, 2.0, 3).unwrap(), vec![1.0, 3.0, 5.0]);
        assert_eq!(
            exponential_buckets(1.0, 10.0, 3).unwrap(),
            vec![1.0, 10.0, 100.0]
        );
        assert!(linear_buckets(1.0, 0.0, 3).is_err());
        assert!(linear_buckets(1.0, 1.0, 0).is_err());
        assert!(exponential_buckets(0.0, 2.0, 3).is_err());
        assert!(exponential_buckets(1.0, 1.0, 3).is_err());
    }

    #[test]
    fn bucket_validation() {
        assert!(Histogram::with_buckets(vec![2.0, 1.0]).is_err());
        assert!(Histogram::with_buckets(vec![1.0, 1.0]).is_err());
        assert!(Histogram::with_buckets(vec![f64::NAN]).is_err());
        let h = Histogram::with_buckets(vec![1.0, f64::INFINITY]).unwrap();
        assert_eq!(h.bounds(), &[1.0]);
        assert_eq!(Histogram::new().bounds(), &DEFAULT_BUCKETS);
    }

    #[test]
    fn boundaries_are_inclusive() {
        let h = Histogram::with_buckets(vec![1.0, 2.0]).unwrap();
        for v in [1.0, 2.0, 2.0000001, -5.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(1.0, 2), (2.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(s.count, 4);
    }

    #[test]
    fn many_buckets_use_binary_search_and_heap_snapshot() {
        let bounds = linear_buckets(0.0, 1.0, 100).unwrap();
        let h = Histogram::with_buckets(bounds).unwrap();
        for i in 0..199 {
            h.observe(f64::from(i) / 2.0);
        }
        h.observe(f64::NAN); // counted in +Inf only, as with few buckets
        let s = h.snapshot();
        assert_eq!(s.buckets.len(), 101);
        // v <= 10 : i in 0..=20
        assert_eq!(s.buckets[10], (10.0, 21));
        assert_eq!(s.buckets[99], (99.0, 199));
        assert_eq!(s.buckets[100], (f64::INFINITY, 200));
        assert!(s.sum.is_nan());
        // Snapshots are repeatable (cold shard folded back into hot).
        let again = h.snapshot();
        assert_eq!((again.buckets, again.count), (s.buckets, s.count));
    }

    #[test]
    fn timer_observes() {
        let h = Histogram::new();
        let secs = h.start_timer().observe_duration();
        assert!(secs >= 0.0);
        h.start_timer().discard();
        drop(h.start_timer());
        assert_eq!(h.count(), 2);
    }

    #[test]
    fn exemplar_is_kept_per_bucket() {
        let h = Histogram::with_buckets(vec![1.0]).unwrap();
        h.observe_with_exemplar(0.5, &[("trace_id", "a")]).unwrap();
        h.observe_with_exemplar(5.0, &[("trace_id", "b")]).unwrap();
        assert!(h.0.exemplars.iter().all(ExemplarSlot::is_set));
        assert!(h.observe_with_exemplar(5.0, &[("__bad-", "b")]).is_err());
        assert_eq!(h.count(), 2);
    }
}
