//! Pure function kernels, independent of the AST: each takes samples or values and returns
//! a number (or labels), so they can be tested against hand-computed values.

pub mod extended;
pub mod histogram;
pub mod label;
pub mod math;
pub mod over_time;
pub mod rate;
pub mod time;

/// One float sample of a range: timestamp in milliseconds and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FPoint {
    /// Milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub f: f64,
}

/// One step of Kahan–Neumaier compensated summation: returns the new sum and compensation.
#[inline]
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Whether `a` and `b` are equal within relative `epsilon` (Prometheus `almost.Equal`).
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    let min_normal = f64::from_bits(0x0010_0000_0000_0000);
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < epsilon * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_recovers_lost_bits() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = kahan_sum_inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }

    #[test]
    fn almost_equal_rules() {
        assert!(almost_equal(1.0, 1.0 + 1e-9, 1e-6));
        assert!(!almost_equal(0.0, 1e-300, 1e-6));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, 1e-6));
    }
}
