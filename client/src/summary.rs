//! Summaries: count, sum and streaming quantiles over a sliding time window.
//!
//! Like the Go client, a summary keeps `age_buckets` CKMS streams that all receive every
//! observation; every `max_age / age_buckets` the oldest is cleared and becomes the newest.
//! Quantiles are read from the oldest stream, so they cover between `max_age·(k−1)/k` and
//! `max_age` of history. Observations are buffered (`buf_cap`) and merged in sorted batches.
//! Count and sum are cumulative, never windowed.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kagari_exposition::{MetricType, Value};
use parking_lot::Mutex;

use crate::atomic::{unix_now_seconds, AtomicF64};
use crate::ckms::{Ckms, Target};
use crate::collector::{MetricWriter, Series, SeriesLabels};
use crate::timer::{Observe, Timer};
use crate::Error;

/// Default sliding window length (Go's `DefMaxAge`).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
/// Default number of window buckets (Go's `DefAgeBuckets`).
pub const DEFAULT_AGE_BUCKETS: u32 = 5;
/// Default observation buffer size (Go's `DefBufCap`).
pub const DEFAULT_BUF_CAP: usize = 500;

/// Configuration of a [`Summary`]: objectives (quantile → allowed rank error) and the window.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryOpts {
    objectives: Vec<(f64, f64)>,
    max_age: Duration,
    age_buckets: u32,
    buf_cap: usize,
}

impl Default for SummaryOpts {
    fn default() -> Self {
        SummaryOpts {
            objectives: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            age_buckets: DEFAULT_AGE_BUCKETS,
            buf_cap: DEFAULT_BUF_CAP,
        }
    }
}

impl SummaryOpts {
    /// No objectives (count and sum only), 10 min window in 5 buckets, buffer of 500.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the objective: quantile `q` in (0, 1) within rank error `error` in [0, 1).
    pub fn objective(mut self, q: f64, error: f64) -> Self {
        self.objectives.push((q, error));
        self
    }

    /// Sets the window length.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sets the number of window buckets (at least 1).
    pub fn age_buckets(mut self, n: u32) -> Self {
        self.age_buckets = n;
        self
    }

    /// Sets the observation buffer size (at least 1).
    pub fn buf_cap(mut self, n: usize) -> Self {
        self.buf_cap = n;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        for &(q, e) in &self.objectives {
            if !(q > 0.0 && q < 1.0) {
                return Err(Error::InvalidObjective {
                    quantile: q,
                    error: e,
                    reason: "quantile must be in (0, 1)",
                });
            }
            if !(0.0..1.0).contains(&e) {
                return Err(Error::InvalidObjective {
                    quantile: q,
                    error: e,
                    reason: "error must be in [0, 1)",
                });
            }
        }
        let mut qs: Vec<f64> = self.objectives.iter().map(|o| o.0).collect();
        qs.sort_by(f64::total_cmp);
        if let Some(w) = qs.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
            let q = w.first().copied().unwrap_or(f64::NAN);
            return Err(Error::InvalidObjective {
                quantile: q,
                error: 0.0,
                reason: "duplicate quantile",
            });
        }
        Ok(())
    }
}

/// The observation side: appended to under a short lock by every `observe`.
#[derive(Debug)]
struct Hot {
    buf: Vec<f64>,
    /// An empty buffer with capacity, swapped in when `buf` is handed to the streams.
    spare: Vec<f64>,
    count: u64,
    sum: f64,
}

/// The estimation side: the age-bucketed CKMS streams, merged into in sorted batches.
#[derive(Debug)]
struct Streams {
    streams: Vec<Ckms>,
    head: usize,
    head_expires: Instant,
}

#[derive(Debug)]
struct Core {
    /// Objectives sorted by quantile.
    quantiles: Box<[f64]>,
    stream_duration: Duration,
    buf_cap: usize,
    hot: Mutex<Hot>,
    cold: Mutex<Streams>,
    /// `cold.head_expires` in nanoseconds since `base`, so `observe` can see a rotation is due
    /// without taking the streams' lock.
    expires_ns: AtomicU64,
    base: Instant,
    created: AtomicF64,
}

/// A summary. Cloning gives another handle to the same summary.
///
/// Observations go to a buffer under a short lock; a full buffer is swapped out and merged
/// into the streams under a second lock, so observers do not wait for the merge (as in Go).
///
/// ```
/// use kagari_client::{Summary, SummaryOpts};
/// let s = Summary::with_opts(SummaryOpts::new().objective(0.5, 0.01)).unwrap();
/// for i in 1..=101 {
///     s.observe(f64::from(i));
/// }
/// assert_eq!(s.count(), 101);
/// assert_eq!(s.sum(), 5151.0);
/// let median = s.quantiles()[0].1;
/// assert!((50.0..=52.0).contains(&median));
/// ```
#[derive(Debug, Clone)]
pub struct Summary(Arc<Core>);

impl Default for Summary {
    fn default() -> Self {
        Self::new()
    }
}

impl Streams {
    /// Merges (and empties) a batch into every stream.
    fn insert(&mut self, batch: &mut Vec<f64>) {
        if batch.is_empty() {
            return;
        }
        batch.sort_unstable_by(f64::total_cmp);
        for s in &mut self.streams {
            s.insert_sorted(batch);
        }
        batch.clear();
    }

    /// Clears expired streams, advancing the head.
    fn rotate(&mut self, now: Instant, every: Duration) {
        let k = self.streams.len();
        let mut turns = 0;
        while now >= self.head_expires {
            if let Some(s) = self.streams.get_mut(self.head) {
                s.reset();
            }
            self.head = (self.head + 1) % k.max(1);
            self.head_expires += every;
            turns += 1;
            if turns >= k {
                // Everything is older than the window: start afresh from now.
                self.head_expires = now + every;
                break;
            }
        }
    }

    fn estimate(&self, q: f64) -> f64 {
        self.streams.get(self.head).map_or(f64::NAN, |s| s.query(q))
    }
}

impl Summary {
    /// A summary with no objectives (count and sum only), like Go's default.
    pub fn new() -> Self {
        Self::build(&SummaryOpts::default())
    }

    /// A summary with the given options.
    pub fn with_opts(opts: SummaryOpts) -> Result<Self, Error> {
        opts.validate()?;
        Ok(Self::build(&opts))
    }

    fn build(opts: &SummaryOpts) -> Self {
        let mut objectives = opts.objectives.clone();
        objectives.sort_by(|a, b| a.0.total_cmp(&b.0));
        let targets: Vec<Target> = objectives
            .iter()
            .map(|&(phi, eps)| Target { phi, eps })
            .collect();
        let k = opts.age_buckets.max(1);
        let stream_duration = (opts.max_age / k).max(Duration::from_millis(1));
        let buf_cap = opts.buf_cap.max(1);
        let streams = if targets.is_empty() {
            Vec::new()
        } else {
            (0..k).map(|_| Ckms::new(targets.clone())).collect()
        };
        let base = Instant::now();
        let head_expires = base + stream_duration;
        Summary(Arc::new(Core {
            quantiles: objectives.iter().map(|o| o.0).collect(),
            stream_duration,
            buf_cap,
            hot: Mutex::new(Hot {
                buf: Vec::new(),
                spare: Vec::new(),
                count: 0,
                sum: 0.0,
            }),
            cold: Mutex::new(Streams {
                streams,
                head: 0,
                head_expires,
            }),
            expires_ns: AtomicU64::new(nanos_since(base, head_expires)),
            base,
            created: AtomicF64::new(unix_now_seconds()),
        }))
    }

    /// Records one observation (NaN counts and poisons the sum but never enters the quantiles).
    pub fn observe(&self, v: f64) {
        self.observe_at(v, Instant::now());
    }

    pub(crate) fn observe_at(&self, v: f64, now: Instant) {
        let core = &*self.0;
        let mut hot = core.hot.lock();
        hot.count += 1;
        hot.sum += v;
        if core.quantiles.is_empty() || v.is_nan() {
            return;
        }
        hot.buf.push(v);
        let due = nanos_since(core.base, now) >= core.expires_ns.load(Ordering::Relaxed);
        if hot.buf.len() < core.buf_cap && !due {
            return;
        }
        let batch = Self::take_batch(&mut hot);
        drop(hot);
        self.merge(batch, now, |_| ());
    }

    fn take_batch(hot: &mut Hot) -> Vec<f64> {
        let spare = std::mem::take(&mut hot.spare);
        std::mem::replace(&mut hot.buf, spare)
    }

    /// Merges `batch` into the streams, rotates them, runs `f` on them, and recycles `batch`.
    fn merge<R>(&self, mut batch: Vec<f64>, now: Instant, f: impl FnOnce(&Streams) -> R) -> R {
        let core = &*self.0;
        let r = {
            let mut cold = core.cold.lock();
            cold.insert(&mut batch);
            cold.rotate(now, core.stream_duration);
            core.expires_ns
                .store(nanos_since(core.base, cold.head_expires), Ordering::Relaxed);
            f(&cold)
        };
        let mut hot = core.hot.lock();
        if hot.spare.capacity() == 0 {
            hot.spare = batch;
        }
        r
    }

    /// Runs `f` on up-to-date streams; returns its result with the count and sum.
    fn with_streams<R>(&self, now: Instant, f: impl FnOnce(&Streams) -> R) -> (R, u64, f64) {
        let core = &*self.0;
        let mut hot = core.hot.lock();
        let (count, sum) = (hot.count, hot.sum);
        let batch = Self::take_batch(&mut hot);
        drop(hot);
        (self.merge(batch, now, f), count, sum)
    }

    /// Starts a timer that observes the elapsed seconds when dropped.
    pub fn start_timer(&self) -> Timer<Summary> {
        Timer::new(self.clone())
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.0.hot.lock().count
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        self.0.hot.lock().sum
    }

    /// Unix time in seconds at which the summary was created.
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }

    /// `(quantile, estimate)` for every objective over the current window (NaN when empty).
    pub fn quantiles(&self) -> Vec<(f64, f64)> {
        self.quantiles_at(Instant::now())
    }

    pub(crate) fn quantiles_at(&self, now: Instant) -> Vec<(f64, f64)> {
        let qs = &self.0.quantiles;
        self.with_streams(now, |s| qs.iter().map(|&q| (q, s.estimate(q))).collect())
            .0
    }
}

fn nanos_since(base: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(base).as_nanos()).unwrap_or(u64::MAX)
}

impl Observe for Summary {
    fn observe(&self, v: f64) {
        Summary::observe(self, v);
    }
}

impl Series for Summary {
    const TYPE: MetricType = MetricType::Summary;
    const RESERVED_LABEL: Option<&'static str> = Some("quantile");

    fn encode_series(&self, w: &mut MetricWriter<'_>, labels: SeriesLabels<'_>) -> io::Result<()> {
        let qs = &self.0.quantiles;
        let (written, count, sum) = self.with_streams(Instant::now(), |s| {
            for &q in qs.iter() {
                let v = s.estimate(q);
                w.series_sample("", labels, Some(("quantile", q)), Value::Float(v), None)?;
            }
            Ok::<(), io::Error>(())
        });
        written?;
        w.series_sample("_sum", labels, None, Value::Float(sum), None)?;
        w.series_sample("_count", labels, None, Value::UInt(count), None)?;
        w.series_sample("_created", labels, None, Value::Float(self.created()), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_validation() {
        assert!(Summary::with_opts(SummaryOpts::new().objective(0.0, 0.01)).is_err());
        assert!(Summary::with_opts(SummaryOpts::new().objective(1.0, 0.01)).is_err());
        assert!(Summary::with_opts(SummaryOpts::new().objective(0.5, 1.0)).is_err());
        assert!(
            Summary::with_opts(SummaryOpts::new().objective(0.5, 0.1).objective(0.5, 0.2)).is_err()
        );
        assert!(Summary::with_opts(SummaryOpts::new().objective(0.5, 0.0)).is_ok());
    }

    #[test]
    fn no_objectives_keeps_count_and_sum() {
        let s = Summary::new();
        s.observe(1.0);
        s.observe(2.0);
        assert_eq!((s.count(), s.sum()), (2, 3.0));
        assert!(s.quantiles().is_empty());
    }

    #[test]
    fn window_slides() {
        let opts = SummaryOpts::new()
            .objective(0.5, 0.05)
            .max_age(Duration::from_secs(10))
            .age_buckets(2)
            .buf_cap(3);
        let s = Summary::with_opts(opts).unwrap();
        let t0 = Instant::now();
        for _ in 0..10 {
            s.observe_at(100.0, t0);
        }
        assert_eq!(s.quantiles_at(t0)[0].1, 100.0);
        // After one bucket (5 s) the head stream was cleared; the next one saw everything.
        let t1 = t0 + Duration::from_secs(6);
        for _ in 0..30 {
            s.observe_at(1.0, t1);
        }
        let q = s.quantiles_at(t1)[0].1;
        assert_eq!(q, 1.0, "median over 10×100 and 30×1");
        // After the whole window nothing old is left; only new observations count.
        let t2 = t0 + Duration::from_secs(40);
        assert!(s.quantiles_at(t2)[0].1.is_nan());
        s.observe_at(7.0, t2);
        assert_eq!(s.quantiles_at(t2)[0].1, 7.0);
        assert_eq!(s.count(), 41);
    }

    #[test]
    fn nan_is_counted_not_ranked() {
        let s = Summary::with_opts(SummaryOpts::new().objective(0.5, 0.05)).unwrap();
        s.observe(f64::NAN);
        s.observe(3.0);
        assert_eq!(s.count(), 2);
        assert!(s.sum().is_nan());
        assert_eq!(s.quantiles()[0].1, 3.0);
    }
}
