//! Counter and gauge change kernels: `rate`, `increase`, `delta`, `irate`, `idelta`, `deriv`,
//! `predict_linear`, `resets`, `changes`.

use super::{kahan_sum_inc, FPoint};

/// The Prometheus 3.x extrapolated rate over `points` (sorted, in `(range_start, range_end]`).
///
/// `is_counter` handles counter resets and the zero-point limit; `is_rate` divides by the range
/// in seconds (`range_end - range_start`). Returns `None` with fewer than two samples.
pub fn extrapolated_rate(
    points: &[FPoint],
    range_start: i64,
    range_end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let (first, last) = match (points.first(), points.last()) {
        (Some(f), Some(l)) if points.len() >= 2 => (*f, *l),
        _ => return None,
    };
    let mut result = last.f - first.f;
    if is_counter {
        let mut prev = first.f;
        for p in points.iter().skip(1) {
            if p.f < prev {
                result += prev;
            }
            prev = p.f;
        }
    }
    let mut duration_to_start = (first.t - range_start) as f64 / 1000.0;
    let mut duration_to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let avg = sampled_interval / (points.len() - 1) as f64;
    let threshold = avg * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = avg / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.f >= 0.0 {
            duration_to_zero = sampled_interval * (first.f / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = avg / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= (range_end - range_start) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (`is_rate`) or `idelta` from the last two samples. `None` with fewer than two
/// samples or (for `irate`) two samples at the same time.
pub fn instant_value(points: &[FPoint], is_rate: bool) -> Option<f64> {
    let n = points.len();
    if n < 2 {
        return None;
    }
    let (a, b) = (points.get(n - 2)?, points.get(n - 1)?);
    let mut r = if is_rate && b.f < a.f { b.f } else { b.f - a.f };
    if is_rate {
        let interval = b.t - a.t;
        if interval == 0 {
            return None;
        }
        r /= interval as f64 / 1000.0;
    }
    Some(r)
}

/// Least-squares fit of `points` with x measured in seconds from `intercept_time`:
/// returns `(slope, intercept)`.
pub fn linear_regression(points: &[FPoint], intercept_time: i64) -> (f64, f64) {
    let init_y = points.first().map_or(f64::NAN, |p| p.f);
    let mut const_y = true;
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for (i, p) in points.iter().enumerate() {
        if const_y && i > 0 && p.f != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(p.f, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * p.f, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    (slope, sum_y / n - slope * sum_x / n)
}

/// `deriv`: per-second slope; `None` with fewer than two samples.
pub fn deriv(points: &[FPoint]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    Some(linear_regression(points, points.first()?.t).0)
}

/// `predict_linear`: the fitted value `duration_secs` after `eval_time`.
pub fn predict_linear(points: &[FPoint], eval_time: i64, duration_secs: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(points, eval_time);
    Some(slope * duration_secs + intercept)
}

/// `resets`: number of decreases between consecutive samples.
pub fn resets(points: &[FPoint]) -> f64 {
    points
        .windows(2)
        .filter(|w| matches!(w, [a, b] if b.f < a.f))
        .count() as f64
}

/// `changes`: number of value changes (NaN to NaN is no change).
pub fn changes(points: &[FPoint]) -> f64 {
    points
        .windows(2)
        .filter(|w| matches!(w, [a, b] if a.f != b.f && !(a.f.is_nan() && b.f.is_nan())))
        .count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<FPoint> {
        v.iter().map(|&(t, f)| FPoint { t, f }).collect()
    }

    #[test]
    fn rate_of_regular_counter_extrapolates_to_window() {
        // 0,10,..,50 at 0..50s; window (0s? no) (-10s, 50s] → 60s window.
        let p = pts(&[
            (10_000, 10.0),
            (20_000, 20.0),
            (30_000, 30.0),
            (40_000, 40.0),
            (50_000, 50.0),
        ]);
        // duration_to_start 10s < 11s threshold but zero point at 10s → start stays 10s.
        let inc = extrapolated_rate(&p, 0, 50_000, true, false).unwrap();
        assert!((inc - 50.0).abs() < 1e-9, "{inc}");
        let rate = extrapolated_rate(&p, 0, 50_000, true, true).unwrap();
        assert!((rate - 1.0).abs() < 1e-12);
    }

    #[test]
    fn counter_reset_and_zero_point() {
        // 5, 10, 2 at 10s,20s,30s over (0,30]: result = 2-5+10 = 7; zero point 10*(5/7)*2...
        let p = pts(&[(10_000, 5.0), (20_000, 10.0), (30_000, 2.0)]);
        let r = extrapolated_rate(&p, 0, 30_000, true, false).unwrap();
        // sampled 20s, dts 10s (<11s), zero at 20*5/7 = 14.28 > 10 → keep 10; dte 0.
        assert!((r - 7.0 * 30.0 / 20.0).abs() < 1e-9);
        // delta (gauge): 2-5 = -3, extrapolated by 30/20.
        let d = extrapolated_rate(&p, 0, 30_000, false, false).unwrap();
        assert!((d + 4.5).abs() < 1e-9);
        assert_eq!(extrapolated_rate(&p[..1], 0, 30_000, true, true), None);
    }

    #[test]
    fn irate_idelta() {
        let p = pts(&[(0, 1.0), (10_000, 7.0), (20_000, 3.0)]);
        assert_eq!(instant_value(&p, true), Some(0.3));
        assert_eq!(instant_value(&p, false), Some(-4.0));
        assert_eq!(instant_value(&p[..1], false), None);
    }

    #[test]
    fn regression() {
        let p = pts(&[(0, 1.0), (1000, 3.0), (2000, 5.0)]);
        assert!((deriv(&p).unwrap() - 2.0).abs() < 1e-12);
        assert!((predict_linear(&p, 2000, 10.0).unwrap() - 25.0).abs() < 1e-9);
        assert_eq!(
            linear_regression(&pts(&[(0, 4.0), (1000, 4.0)]), 0),
            (0.0, 4.0)
        );
    }

    #[test]
    fn resets_and_changes() {
        let p = pts(&[
            (0, 1.0),
            (1, 2.0),
            (2, 0.0),
            (3, 0.0),
            (4, f64::NAN),
            (5, f64::NAN),
            (6, 1.0),
        ]);
        assert_eq!(resets(&p), 1.0);
        assert_eq!(changes(&p), 4.0);
    }
}
