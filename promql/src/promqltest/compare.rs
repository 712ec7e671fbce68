//! The float tolerance rules of the promqltest DSL.

use kagari_model::is_stale;

const EPSILON: f64 = 1e-6;

/// Whether expected `a` and actual `b` are equal under the DSL's rules: stale markers only
/// equal each other, NaNs equal NaNs, otherwise relative error `|a-b| / (|a|+|b|) < 1e-6`,
/// with zero needing an (almost) exact match.
pub fn float_eq(a: f64, b: f64) -> bool {
    if is_stale(a) || is_stale(b) {
        return is_stale(a) && is_stale(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let min_normal = f64::from_bits(0x0010_0000_0000_0000);
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < EPSILON * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::STALE_NAN;

    #[test]
    fn tolerance() {
        assert!(float_eq(1.0, 1.0 + 1e-7));
        assert!(!float_eq(1.0, 1.01));
        assert!(!float_eq(0.0, 1e-10));
        assert!(float_eq(f64::NAN, f64::NAN));
        assert!(!float_eq(STALE_NAN, f64::NAN));
        assert!(float_eq(STALE_NAN, STALE_NAN));
        assert!(float_eq(f64::INFINITY, f64::INFINITY));
        assert!(!float_eq(f64::INFINITY, f64::MAX));
        assert!(!float_eq(f64::INFINITY, f64::NEG_INFINITY));
    }
}
