//! Sample values, timestamps and the staleness marker.

/// A sample timestamp: milliseconds since the Unix epoch, as Prometheus stores it.
pub type Timestamp = i64;

/// The exact bit pattern Prometheus uses for a staleness marker (a signalling-free NaN).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker as an `f64`. Compare with [`is_stale`], never with `==`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// Whether `v` is a staleness marker (exactly [`STALE_NAN_BITS`], not just any NaN).
///
/// ```
/// use kagari_model::{is_stale, STALE_NAN};
/// assert!(is_stale(STALE_NAN));
/// assert!(!is_stale(f64::NAN));
/// ```
#[inline]
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_nan_is_nan_but_not_every_nan_is_stale() {
        assert!(STALE_NAN.is_nan());
        assert!(is_stale(STALE_NAN));
        assert!(!is_stale(f64::NAN));
        assert!(!is_stale(0.0));
    }
}
