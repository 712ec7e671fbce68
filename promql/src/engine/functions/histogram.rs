//! `histogram_quantile` and `histogram_fraction` over classic (`le`-labelled) buckets.

use super::almost_equal;

/// One cumulative classic bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The `le` bound.
    pub upper_bound: f64,
    /// The cumulative count.
    pub count: f64,
}

/// What [`bucket_quantile`] had to repair in its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuantileFixes {
    /// Some bucket count decreased and was raised (the "fixed for monotonicity" info).
    pub forced_monotonic: bool,
    /// Tiny floating-point differences were smoothed away (silent).
    pub fixed_precision: bool,
}

const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

fn prepare(buckets: &mut Vec<Bucket>) -> QuantileFixes {
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Coalesce equal bounds.
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
    let mut fixes = QuantileFixes::default();
    let Some(mut prev) = buckets.first().map(|b| b.count) else {
        return fixes;
    };
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            fixes.fixed_precision = true;
            continue;
        }
        if curr < prev {
            b.count = prev;
            fixes.forced_monotonic = true;
            continue;
        }
        prev = curr;
    }
    fixes
}

/// The φ-quantile estimated from classic buckets, with Prometheus's rules: buckets sorted and
/// coalesced, counts forced monotonic, NaN unless the highest bucket is `+Inf` and there are
/// at least two buckets and observations; linear interpolation inside the bucket, the lowest
/// bucket starting at 0 unless its bound is ≤ 0, and a rank in `+Inf` returning the second
/// highest bound.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, QuantileFixes) {
    let none = QuantileFixes::default();
    if q.is_nan() {
        return (f64::NAN, none);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, none);
    }
    if q > 1.0 {
        return (f64::INFINITY, none);
    }
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    match buckets.last() {
        Some(b) if b.upper_bound == f64::INFINITY => {}
        _ => return (f64::NAN, none),
    }
    let fixes = prepare(buckets);
    let n = buckets.len();
    if n < 2 {
        return (f64::NAN, fixes);
    }
    let observations = buckets.get(n - 1).map_or(0.0, |b| b.count);
    if observations == 0.0 {
        return (f64::NAN, fixes);
    }
    let mut rank = q * observations;
    let b = buckets
        .get(..n - 1)
        .map_or(0, |s| s.partition_point(|x| x.count < rank));
    if b == n - 1 {
        return (
            buckets.get(n - 2).map_or(f64::NAN, |x| x.upper_bound),
            fixes,
        );
    }
    let Some(&cur) = buckets.get(b) else {
        return (f64::NAN, fixes);
    };
    if b == 0 && cur.upper_bound <= 0.0 {
        return (cur.upper_bound, fixes);
    }
    let mut start = 0.0;
    let mut count = cur.count;
    if let Some(prev) = b.checked_sub(1).and_then(|i| buckets.get(i)) {
        start = prev.upper_bound;
        count -= prev.count;
        rank -= prev.count;
    }
    (start + (cur.upper_bound - start) * (rank / count), fixes)
}

/// The estimated fraction of observations between `lower` and `upper` from classic buckets
/// (NaN if the buckets are unusable). Inside a bucket observations are spread linearly; in
/// the infinitely wide first/last buckets they sit at the infinite end.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    match buckets.last() {
        Some(b) if b.upper_bound == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    prepare(buckets);
    let n = buckets.len();
    if n < 2 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    let total = buckets.get(n - 1).map_or(0.0, |b| b.count);
    if total == 0.0 {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    // Sum each bucket's share of [lower, upper]: fully covered buckets count completely,
    // partially covered finite buckets proportionally, partially covered infinite ones not.
    let mut acc = 0.0;
    let mut prev_count = 0.0;
    for (i, b) in buckets.iter().enumerate() {
        let lo_b = if i == 0 {
            if b.upper_bound <= 0.0 {
                f64::NEG_INFINITY
            } else {
                0.0
            }
        } else {
            buckets.get(i - 1).map_or(0.0, |p| p.upper_bound)
        };
        let c = b.count - prev_count;
        prev_count = b.count;
        let (from, to) = (lower.max(lo_b), upper.min(b.upper_bound));
        if to < from || (to == from && !(lo_b == from && b.upper_bound == to)) {
            continue;
        }
        if lower <= lo_b && b.upper_bound <= upper {
            acc += c;
        } else if lo_b.is_finite() && b.upper_bound.is_finite() {
            acc += c * (to - from) / (b.upper_bound - lo_b);
        } else if (lo_b.is_infinite() && lower == lo_b)
            || (b.upper_bound.is_infinite() && upper == b.upper_bound)
        {
            // Observations of an infinitely wide bucket are taken to sit at its infinite end.
            acc += c;
        }
    }
    acc / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[(f64, f64)]) -> Vec<Bucket> {
        v.iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates() {
        let mut bs = b(&[(0.1, 10.0), (0.2, 20.0), (f64::INFINITY, 20.0), (0.5, 20.0)]);
        // rank 10 → first bucket: 0 + 0.1 * (10/10).
        assert_eq!(bucket_quantile(0.5, &mut bs).0, 0.1);
        let mut bs = b(&[(1.0, 0.0), (2.0, 10.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.25, &mut bs).0, 1.25);
        // rank lands in +Inf → second highest bound.
        let mut bs = b(&[(1.0, 1.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.99, &mut bs).0, 1.0);
    }

    #[test]
    fn quantile_edge_cases() {
        let mut no_inf = b(&[(1.0, 1.0), (2.0, 2.0)]);
        assert!(bucket_quantile(0.5, &mut no_inf).0.is_nan());
        let mut empty = b(&[(1.0, 0.0), (f64::INFINITY, 0.0)]);
        assert!(bucket_quantile(0.5, &mut empty).0.is_nan());
        let mut bs = b(&[(1.0, 5.0), (2.0, 3.0), (f64::INFINITY, 10.0)]);
        let (v, fixes) = bucket_quantile(0.5, &mut bs);
        assert!(fixes.forced_monotonic);
        assert_eq!(v, 1.0);
        assert_eq!(bucket_quantile(-0.1, &mut bs).0, f64::NEG_INFINITY);
        let mut neg = b(&[(-1.0, 5.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.1, &mut neg).0, -1.0);
    }

    #[test]
    fn fraction() {
        let mut bs = b(&[(1.0, 2.0), (2.0, 4.0), (f64::INFINITY, 4.0)]);
        assert_eq!(bucket_fraction(0.0, 1.0, &mut bs), 0.5);
        assert_eq!(bucket_fraction(0.5, 1.5, &mut bs), 0.5);
        assert_eq!(
            bucket_fraction(f64::NEG_INFINITY, f64::INFINITY, &mut bs),
            1.0
        );
    }
}
