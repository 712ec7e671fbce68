//! Counters: monotonically increasing totals, as float ([`Counter`]) or integer ([`IntCounter`]).

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use kagari_exposition::{MetricType, Value};

use crate::atomic::{unix_now_seconds, AtomicF64, Number};
use crate::collector::{MetricWriter, Series, SeriesLabels};
use crate::exemplar::{validate_exemplar_labels, ExemplarSlot};
use crate::Error;

#[derive(Debug)]
struct State<N> {
    value: N,
    created: AtomicF64,
    exemplar: ExemplarSlot,
}

/// A counter over any [`Number`] cell; use the [`Counter`] and [`IntCounter`] aliases.
///
/// Cloning gives another handle to the same counter (an `Arc` clone).
///
/// ```
/// let c = kagari_client::IntCounter::new();
/// c.inc();
/// c.inc_by(41);
/// assert_eq!(c.get(), 42);
/// ```
#[derive(Debug)]
pub struct GenericCounter<N: Number>(Arc<State<N>>);

/// A float counter (`f64` bits in an `AtomicU64`, CAS on increment).
pub type Counter = GenericCounter<AtomicF64>;
/// An integer counter (one `fetch_add` per increment).
pub type IntCounter = GenericCounter<AtomicU64>;

impl<N: Number> Clone for GenericCounter<N> {
    fn clone(&self) -> Self {
        GenericCounter(self.0.clone())
    }
}

impl<N: Number> Default for GenericCounter<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Number> GenericCounter<N> {
    /// A zero counter created now (its `_created` time).
    pub fn new() -> Self {
        GenericCounter(Arc::new(State {
            value: N::default(),
            created: AtomicF64::new(unix_now_seconds()),
            exemplar: ExemplarSlot::default(),
        }))
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.value.add(N::ONE);
    }

    /// Adds `v`; a negative or NaN `v` is ignored (a counter never goes down), see
    /// [`try_inc_by`](Self::try_inc_by) to detect that.
    #[inline]
    pub fn inc_by(&self, v: N::T) {
        if N::is_non_negative(v) {
            self.0.value.add(v);
        }
    }

    /// Adds `v`, or fails with [`Error::NegativeIncrement`] if `v` is negative or NaN.
    pub fn try_inc_by(&self, v: N::T) -> Result<(), Error> {
        if N::is_non_negative(v) {
            self.0.value.add(v);
            Ok(())
        } else {
            Err(Error::NegativeIncrement {
                value: N::to_f64(v),
            })
        }
    }

    /// Adds `v` and remembers an exemplar (e.g. `[("trace_id", "abc")]`) for OpenMetrics.
    pub fn inc_by_with_exemplar(&self, v: N::T, labels: &[(&str, &str)]) -> Result<(), Error> {
        validate_exemplar_labels(labels)?;
        self.try_inc_by(v)?;
        self.0.exemplar.store(labels, N::to_f64(v));
        Ok(())
    }

    /// The current total.
    #[inline]
    pub fn get(&self) -> N::T {
        self.0.value.get()
    }

    /// Unix time in seconds at which the counter was created or last reset.
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }

    /// Sets the total back to zero and the created time to now (Python's `reset`).
    pub fn reset(&self) {
        self.0.value.set(N::ZERO);
        self.0.created.set(unix_now_seconds());
        self.0.exemplar.clear();
    }
}

impl<N: Number> Series for GenericCounter<N> {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, w: &mut MetricWriter<'_>, labels: SeriesLabels<'_>) -> io::Result<()> {
        let value = N::to_value(self.get());
        if w.keeps_exemplars() {
            self.0
                .exemplar
                .with(|ex| w.series_sample("_total", labels, None, value, ex))?;
        } else {
            w.series_sample("_total", labels, None, value, None)?;
        }
        w.series_sample("_created", labels, None, Value::Float(self.created()), None)
    }

    #[inline]
    fn touch(&self) -> u64 {
        N::to_f64(self.get()).to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_counter_ignores_decrease() {
        let c = Counter::new();
        c.inc();
        c.inc_by(2.5);
        c.inc_by(-1.0);
        c.inc_by(f64::NAN);
        assert_eq!(c.get(), 3.5);
        assert!(matches!(
            c.try_inc_by(-1.0),
            Err(Error::NegativeIncrement { .. })
        ));
        assert_eq!(c.get(), 3.5);
    }

    #[test]
    fn reset_moves_created() {
        let c = IntCounter::new();
        let before = c.created();
        assert!(before > 1.0e9);
        c.inc_by(7);
        c.reset();
        assert_eq!(c.get(), 0);
        assert!(c.created() >= before);
    }

    #[test]
    fn clones_share_state() {
        let c = IntCounter::new();
        let d = c.clone();
        d.inc();
        assert_eq!(c.get(), 1);
    }

    #[test]
    fn exemplar_validation() {
        let c = Counter::new();
        assert!(c.inc_by_with_exemplar(1.0, &[("trace_id", "x")]).is_ok());
        assert!(c.inc_by_with_exemplar(1.0, &[("bad-name", "x")]).is_err());
        assert!(c.inc_by_with_exemplar(-1.0, &[("trace_id", "x")]).is_err());
        assert_eq!(c.get(), 1.0);
    }
}
