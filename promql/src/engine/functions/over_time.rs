//! `*_over_time` kernels and the shared φ-quantile. All take a non-empty slice of values
//! (the engine skips empty ranges) and return NaN-safe results like Prometheus.

use super::kahan_sum_inc;

/// `sum_over_time` with Kahan–Neumaier compensation.
pub fn sum(values: &[f64]) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for &v in values {
        (s, c) = kahan_sum_inc(v, s, c);
    }
    s + c
}

/// `avg_over_time` as Prometheus 3.x computes it: a compensated sum, switching to an
/// incremental mean if the sum overflows.
pub fn avg(values: &[f64]) -> f64 {
    let Some((&first, rest)) = values.split_first() else {
        return f64::NAN;
    };
    let (mut sum, mut count, mut mean, mut c) = (first, 1.0, 0.0, 0.0);
    let mut incremental = false;
    for (i, &v) in rest.iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_sum_inc(v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_sum_inc(v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// `min_over_time`: NaN only if every value is NaN.
pub fn min(values: &[f64]) -> f64 {
    let mut m = values.first().copied().unwrap_or(f64::NAN);
    for &v in values {
        if v < m || m.is_nan() {
            m = v;
        }
    }
    m
}

/// `max_over_time`: NaN only if every value is NaN.
pub fn max(values: &[f64]) -> f64 {
    let mut m = values.first().copied().unwrap_or(f64::NAN);
    for &v in values {
        if v > m || m.is_nan() {
            m = v;
        }
    }
    m
}

/// Population variance (`stdvar_over_time`), Welford with compensated sums.
pub fn stdvar(values: &[f64]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &v in values {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Population standard deviation (`stddev_over_time`).
pub fn stddev(values: &[f64]) -> f64 {
    stdvar(values).sqrt()
}

/// Sorts NaN first, then ascending (Prometheus's `vectorByValueHeap` order).
pub fn sort_nan_first(values: &mut [f64]) {
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
}

/// The φ-quantile of `values` with linear interpolation between closest ranks; sorts
/// `values` in place. `q < 0` gives -Inf, `q > 1` gives +Inf, NaN `q` or no values give NaN.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    sort_nan_first(values);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    let lo = values.get(lower as usize).copied().unwrap_or(f64::NAN);
    let hi = values.get(upper as usize).copied().unwrap_or(f64::NAN);
    lo * (1.0 - weight) + hi * weight
}

/// `mad_over_time`: the median of absolute deviations from the median (NaN if any value is).
pub fn mad(values: &[f64]) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    let median = quantile(0.5, &mut v);
    for x in v.iter_mut() {
        *x = (*x - median).abs();
    }
    quantile(0.5, &mut v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_aggregates() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(sum(&v), 10.0);
        assert_eq!(avg(&v), 2.5);
        assert_eq!(min(&v), 1.0);
        assert_eq!(max(&v), 4.0);
        assert_eq!(stdvar(&v), 1.25);
        assert_eq!(stddev(&[2.0, 4.0]), 1.0);
        assert_eq!(min(&[f64::NAN, 3.0]), 3.0);
        assert!(max(&[f64::NAN]).is_nan());
    }

    #[test]
    fn avg_survives_overflow() {
        let v = [f64::MAX, f64::MAX, f64::MAX];
        let a = avg(&v);
        assert!(a.is_finite() && (a / f64::MAX - 1.0).abs() < 1e-12, "{a}");
    }

    #[test]
    fn quantiles() {
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(0.25, &mut v), 1.75);
        assert_eq!(quantile(-1.0, &mut v), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut v).is_nan());
        // median 3, deviations 2,1,0,1,6 → median 1.
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 9.0]), 1.0);
        assert!(mad(&[1.0, f64::NAN, 3.0]).is_nan());
    }
}
