//! Lock-free numeric cells shared by the metric types.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use kagari_exposition::Value;

/// A numeric atomic cell that a counter or gauge can be built on.
///
/// Implemented for [`AtomicF64`] (float metrics), [`AtomicU64`] (integer counters) and
/// [`AtomicI64`] (integer gauges). All operations are relaxed: metrics need atomicity, not order.
pub trait Number: Send + Sync + std::fmt::Debug + Default + 'static {
    /// The plain value type.
    type T: Copy + PartialOrd + std::fmt::Debug + Send + Sync + 'static;
    /// The additive identity.
    const ZERO: Self::T;
    /// The increment used by `inc`/`dec`.
    const ONE: Self::T;
    /// Adds `v` (wrapping for integers).
    fn add(&self, v: Self::T);
    /// Subtracts `v` (wrapping for integers).
    fn sub(&self, v: Self::T);
    /// Replaces the value.
    fn set(&self, v: Self::T);
    /// Reads the value.
    fn get(&self) -> Self::T;
    /// Converts to the encoder's value type.
    fn to_value(v: Self::T) -> Value;
    /// Converts to `f64` (may lose precision for huge integers).
    fn to_f64(v: Self::T) -> f64;
    /// Converts from `f64` seconds (used by timers and `set_to_current_time`).
    fn from_f64(v: f64) -> Self::T;
    /// Whether `v` is a legal counter increment (non-negative, not NaN).
    fn is_non_negative(v: Self::T) -> bool;
    /// Plain (non-atomic) addition, wrapping for integers.
    fn plus(a: Self::T, b: Self::T) -> Self::T;
}

/// An `f64` stored as its bits in an [`AtomicU64`], updated by compare-and-swap.
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    /// A cell holding `v`.
    pub fn new(v: f64) -> Self {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    /// Adds `v` with a CAS loop.
    #[inline]
    pub fn add(&self, v: f64) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(cur) + v).to_bits();
            match self
                .0
                .compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Reads the value.
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Replaces the value, returning the old one.
    #[inline]
    pub fn swap(&self, v: f64) -> f64 {
        f64::from_bits(self.0.swap(v.to_bits(), Ordering::Relaxed))
    }
}

impl Number for AtomicF64 {
    type T = f64;
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    #[inline]
    fn add(&self, v: f64) {
        AtomicF64::add(self, v);
    }
    #[inline]
    fn sub(&self, v: f64) {
        AtomicF64::add(self, -v);
    }
    #[inline]
    fn set(&self, v: f64) {
        AtomicF64::set(self, v);
    }
    #[inline]
    fn get(&self) -> f64 {
        AtomicF64::get(self)
    }
    fn to_value(v: f64) -> Value {
        Value::Float(v)
    }
    fn to_f64(v: f64) -> f64 {
        v
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn is_non_negative(v: f64) -> bool {
        v >= 0.0
    }
    fn plus(a: f64, b: f64) -> f64 {
        a + b
    }
}

impl Number for AtomicU64 {
    type T = u64;
    const ZERO: u64 = 0;
    const ONE: u64 = 1;
    #[inline]
    fn add(&self, v: u64) {
        self.fetch_add(v, Ordering::Relaxed);
    }
    #[inline]
    fn sub(&self, v: u64) {
        self.fetch_sub(v, Ordering::Relaxed);
    }
    #[inline]
    fn set(&self, v: u64) {
        self.store(v, Ordering::Relaxed);
    }
    #[inline]
    fn get(&self) -> u64 {
        self.load(Ordering::Relaxed)
    }
    fn to_value(v: u64) -> Value {
        Value::UInt(v)
    }
    fn to_f64(v: u64) -> f64 {
        v as f64
    }
    fn from_f64(v: f64) -> u64 {
        v as u64
    }
    fn is_non_negative(_: u64) -> bool {
        true
    }
    fn plus(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
}

impl Number for AtomicI64 {
    type T = i64;
    const ZERO: i64 = 0;
    const ONE: i64 = 1;
    #[inline]
    fn add(&self, v: i64) {
        self.fetch_add(v, Ordering::Relaxed);
    }
    #[inline]
    fn sub(&self, v: i64) {
        self.fetch_sub(v, Ordering::Relaxed);
    }
    #[inline]
    fn set(&self, v: i64) {
        self.store(v, Ordering::Relaxed);
    }
    #[inline]
    fn get(&self) -> i64 {
        self.load(Ordering::Relaxed)
    }
    fn to_value(v: i64) -> Value {
        Value::Int(v)
    }
    fn to_f64(v: i64) -> f64 {
        v as f64
    }
    fn from_f64(v: f64) -> i64 {
        v as i64
    }
    fn is_non_negative(v: i64) -> bool {
        v >= 0
    }
    fn plus(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }
}

/// Seconds since the Unix epoch as `f64` (0 if the clock is before 1970).
pub(crate) fn unix_now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_add_set_swap() {
        let a = AtomicF64::new(1.5);
        a.add(2.25);
        assert_eq!(a.get(), 3.75);
        assert_eq!(a.swap(-1.0), 3.75);
        assert_eq!(a.get(), -1.0);
    }

    #[test]
    fn integer_cells_wrap_and_convert() {
        let u = AtomicU64::default();
        Number::add(&u, 5);
        assert_eq!(Number::get(&u), 5);
        assert_eq!(<AtomicU64 as Number>::to_value(5), Value::UInt(5));
        let i = AtomicI64::default();
        Number::sub(&i, 3);
        assert_eq!(Number::get(&i), -3);
        assert!(!<AtomicI64 as Number>::is_non_negative(-3));
    }
}
