//! A drop guard that observes elapsed wall-clock seconds into a histogram or summary.

use std::time::Instant;

/// Something that records observations: [`Histogram`](crate::Histogram) and
/// [`Summary`](crate::Summary).
pub trait Observe: Clone + std::fmt::Debug {
    /// Records one observation.
    fn observe(&self, v: f64);
}

/// Observes the elapsed seconds into its metric when dropped, unless stopped or discarded.
#[derive(Debug)]
#[must_use = "the duration is observed when the timer is dropped"]
pub struct Timer<O: Observe> {
    metric: O,
    start: Instant,
    armed: bool,
}

impl<O: Observe> Timer<O> {
    pub(crate) fn new(metric: O) -> Self {
        Timer {
            metric,
            start: Instant::now(),
            armed: true,
        }
    }

    /// Observes now and returns the elapsed seconds.
    pub fn observe_duration(mut self) -> f64 {
        self.armed = false;
        let secs = self.start.elapsed().as_secs_f64();
        self.metric.observe(secs);
        secs
    }

    /// Drops the timer without observing.
    pub fn discard(mut self) {
        self.armed = false;
    }
}

impl<O: Observe> Drop for Timer<O> {
    fn drop(&mut self) {
        if self.armed {
            self.metric.observe(self.start.elapsed().as_secs_f64());
        }
    }
}
