//! The experimental `anchored` and `smoothed` range-selector modifiers.
//!
//! `anchored` adds the newest sample at or before the range start (within the lookback
//! delta) in front of the range's samples. `smoothed` replaces the range boundaries by values
//! linearly interpolated between the neighbouring samples (counter-aware: across a reset the
//! interpolation starts from zero). Rate-like functions then use the boundary values directly,
//! without extrapolation.

use super::FPoint;

/// Linear interpolation at `t` between `p` and `n`; with `counter`, a decrease counts as a
/// reset from zero.
fn interpolate(p: FPoint, n: FPoint, t: i64, counter: bool) -> f64 {
    let frac = if n.t == p.t {
        1.0
    } else {
        (t - p.t) as f64 / (n.t - p.t) as f64
    };
    if counter && n.f < p.f {
        n.f * frac
    } else {
        p.f + (n.f - p.f) * frac
    }
}

/// Newest sample in `(t - lookback, t]` and oldest in `(t, t + lookback]`.
fn neighbours(pts: &[FPoint], t: i64, lookback: i64) -> (Option<FPoint>, Option<FPoint>) {
    let i = pts.partition_point(|p| p.t <= t);
    let prev = i
        .checked_sub(1)
        .and_then(|j| pts.get(j))
        .filter(|p| p.t > t.saturating_sub(lookback))
        .copied();
    let next = pts
        .get(i)
        .filter(|p| p.t <= t.saturating_add(lookback))
        .copied();
    (prev, next)
}

/// The samples of `(start, end]` preceded by the anchor sample; `None` without any sample
/// inside the range.
pub fn anchored(pts: &[FPoint], start: i64, end: i64, lookback: i64) -> Option<Vec<FPoint>> {
    let lo = pts.partition_point(|p| p.t <= start);
    let hi = pts.partition_point(|p| p.t <= end);
    let inside = pts.get(lo..hi).filter(|s| !s.is_empty())?;
    let mut out = Vec::with_capacity(inside.len() + 1);
    if let (Some(anchor), _) = neighbours(pts, start, lookback) {
        out.push(anchor);
    }
    out.extend_from_slice(inside);
    Some(out)
}

/// The range as `[(start, interpolated), samples inside..., (end, interpolated)]`; `None`
/// when the range has no sample and is not bracketed by samples on both sides.
pub fn smoothed(
    pts: &[FPoint],
    start: i64,
    end: i64,
    lookback: i64,
    counter: bool,
) -> Option<Vec<FPoint>> {
    let lo = pts.partition_point(|p| p.t <= start);
    let hi = pts.partition_point(|p| p.t < end);
    let inside = pts.get(lo..hi).unwrap_or(&[]);
    let (prev_s, next_s) = neighbours(pts, start, lookback);
    let (prev_e, next_e) = neighbours(pts, end, lookback);
    let any_inside = pts
        .get(lo..pts.partition_point(|p| p.t <= end))
        .is_some_and(|s| !s.is_empty());
    if !(any_inside || (prev_s.is_some() && next_e.is_some())) {
        return None;
    }
    let v_start = match (prev_s, next_s) {
        (Some(p), Some(n)) => interpolate(p, n, start, counter),
        (Some(p), None) => p.f,
        (None, Some(n)) => n.f,
        (None, None) => return None,
    };
    let v_end = match (prev_e, next_e) {
        (Some(p), Some(n)) => interpolate(p, n, end, counter),
        (Some(p), None) => p.f,
        (None, _) => return None,
    };
    let mut out = Vec::with_capacity(inside.len() + 2);
    out.push(FPoint {
        t: start,
        f: v_start,
    });
    out.extend_from_slice(inside);
    out.push(FPoint { t: end, f: v_end });
    Some(out)
}

/// A plain selector with `smoothed`: the value interpolated at `t` (gauge interpolation).
pub fn smoothed_value(pts: &[FPoint], t: i64, lookback: i64, counter: bool) -> Option<f64> {
    match neighbours(pts, t, lookback) {
        (Some(p), Some(n)) => Some(interpolate(p, n, t, counter)),
        (Some(p), None) => Some(p.f),
        (None, _) => None,
    }
}

/// Increase (`counter`) or delta over extended points, without extrapolation; divided by
/// the range in seconds when `rate_secs` is given.
pub fn simple_increase(pts: &[FPoint], counter: bool, rate_secs: Option<f64>) -> Option<f64> {
    let (first, last) = (pts.first()?, pts.last()?);
    if pts.len() < 2 {
        return None;
    }
    let mut r = last.f - first.f;
    if counter {
        for w in pts.windows(2) {
            if let [a, b] = w {
                if b.f < a.f {
                    r += a.f;
                }
            }
        }
    }
    Some(rate_secs.map_or(r, |s| r / s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<FPoint> {
        v.iter().map(|&(t, f)| FPoint { t, f }).collect()
    }

    #[test]
    fn smoothed_counter_across_resets() {
        // 9 8 5 4 every minute; increase over (15s, 135s] is 12.
        let p = pts(&[(0, 9.0), (60_000, 8.0), (120_000, 5.0), (180_000, 4.0)]);
        let s = smoothed(&p, 15_000, 135_000, 300_000, true).unwrap();
        assert_eq!(simple_increase(&s, true, None), Some(12.0));
        // Bracketed but empty range.
        let p = pts(&[(0, 100.0), (15_000, 10.0)]);
        let s = smoothed(&p, 2_000, 12_000, 300_000, true).unwrap();
        let r = simple_increase(&s, true, Some(10.0)).unwrap();
        assert!((r - 2.0 / 3.0).abs() < 1e-12);
        assert!(smoothed(&p, 20_000, 25_000, 300_000, true).is_none());
    }

    #[test]
    fn anchored_adds_the_previous_sample() {
        let p = pts(&[(0, 1.0), (15_000, 2.0), (60_000, 5.0)]);
        let a = anchored(&p, 5_000, 65_000, 300_000).unwrap();
        assert_eq!(simple_increase(&a, true, None), Some(4.0));
        assert!(anchored(&p, 60_000, 120_000, 300_000).is_none());
        assert_eq!(smoothed_value(&p, 30_000, 300_000, false), Some(3.0));
    }
}
