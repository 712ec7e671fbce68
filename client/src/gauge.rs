//! Gauges: values that go up and down, as float ([`Gauge`]) or integer ([`IntGauge`]).

use std::io;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Instant;

use kagari_exposition::MetricType;

use crate::atomic::{unix_now_seconds, AtomicF64, Number};
use crate::collector::{MetricWriter, Series, SeriesLabels};

/// A gauge over any [`Number`] cell; use the [`Gauge`] and [`IntGauge`] aliases.
///
/// ```
/// let g = kagari_client::Gauge::new();
/// g.set(3.0);
/// {
///     let _busy = g.track_inprogress(); // +1 now, -1 when dropped
///     assert_eq!(g.get(), 4.0);
/// }
/// assert_eq!(g.get(), 3.0);
/// ```
#[derive(Debug)]
pub struct GenericGauge<N: Number>(Arc<N>);

/// A float gauge.
pub type Gauge = GenericGauge<AtomicF64>;
/// An integer gauge.
pub type IntGauge = GenericGauge<AtomicI64>;

impl<N: Number> Clone for GenericGauge<N> {
    fn clone(&self) -> Self {
        GenericGauge(self.0.clone())
    }
}

impl<N: Number> Default for GenericGauge<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Number> GenericGauge<N> {
    /// A zero gauge.
    pub fn new() -> Self {
        GenericGauge(Arc::new(N::default()))
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.add(N::ONE);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.0.sub(N::ONE);
    }

    /// Adds `v`.
    #[inline]
    pub fn add(&self, v: N::T) {
        self.0.add(v);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: N::T) {
        self.0.sub(v);
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, v: N::T) {
        self.0.set(v);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> N::T {
        self.0.get()
    }

    /// Sets the value to the current Unix time in seconds (truncated for [`IntGauge`]).
    pub fn set_to_current_time(&self) {
        self.0.set(N::from_f64(unix_now_seconds()));
    }

    /// Increments now and decrements when the returned guard is dropped.
    pub fn track_inprogress(&self) -> InProgressGuard<N> {
        self.inc();
        InProgressGuard(self.clone())
    }

    /// Starts a timer that sets the gauge to the elapsed seconds when dropped or stopped.
    pub fn start_timer(&self) -> GaugeTimer<N> {
        GaugeTimer {
            gauge: self.clone(),
            start: Instant::now(),
            armed: true,
        }
    }
}

/// Decrements its gauge when dropped (see [`GenericGauge::track_inprogress`]).
#[derive(Debug)]
#[must_use = "the gauge is decremented when the guard is dropped"]
pub struct InProgressGuard<N: Number>(GenericGauge<N>);

impl<N: Number> Drop for InProgressGuard<N> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Sets its gauge to the elapsed seconds when dropped (see [`GenericGauge::start_timer`]).
#[derive(Debug)]
#[must_use = "the duration is recorded when the timer is dropped"]
pub struct GaugeTimer<N: Number> {
    gauge: GenericGauge<N>,
    start: Instant,
    armed: bool,
}

impl<N: Number> GaugeTimer<N> {
    /// Records now and returns the elapsed seconds.
    pub fn stop(mut self) -> f64 {
        self.armed = false;
        let secs = self.start.elapsed().as_secs_f64();
        self.gauge.set(N::from_f64(secs));
        secs
    }

    /// Drops the timer without recording.
    pub fn discard(mut self) {
        self.armed = false;
    }
}

impl<N: Number> Drop for GaugeTimer<N> {
    fn drop(&mut self) {
        if self.armed {
            self.gauge
                .set(N::from_f64(self.start.elapsed().as_secs_f64()));
        }
    }
}

impl<N: Number> Series for GenericGauge<N> {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, w: &mut MetricWriter<'_>, labels: SeriesLabels<'_>) -> io::Result<()> {
        w.series_sample("", labels, None, N::to_value(self.get()), None)
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
    fn arithmetic() {
        let g = Gauge::new();
        g.inc();
        g.add(10.5);
        g.dec();
        g.sub(0.5);
        assert_eq!(g.get(), 10.0);
        g.set(-2.0);
        assert_eq!(g.get(), -2.0);
        let i = IntGauge::new();
        i.sub(5);
        assert_eq!(i.get(), -5);
    }

    #[test]
    fn current_time_is_plausible() {
        let g = Gauge::new();
        g.set_to_current_time();
        assert!(g.get() > 1.6e9);
    }

    #[test]
    fn guards() {
        let g = IntGauge::new();
        let a = g.track_inprogress();
        let b = g.track_inprogress();
        assert_eq!(g.get(), 2);
        drop(a);
        assert_eq!(g.get(), 1);
        drop(b);
        assert_eq!(g.get(), 0);

        let t = Gauge::new();
        t.set(-1.0);
        let secs = t.start_timer().stop();
        assert!(secs >= 0.0);
        assert_eq!(t.get(), secs);
        t.set(-1.0);
        t.start_timer().discard();
        assert_eq!(t.get(), -1.0);
        drop(t.start_timer());
        assert!(t.get() >= 0.0);
    }
}
