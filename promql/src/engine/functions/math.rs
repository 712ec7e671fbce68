//! Element-wise math kernels: `abs`, `ceil`, `exp`, `ln`, `sqrt`, trig, `clamp`, `round`, `sgn`...

/// Looks up a one-argument math function by its PromQL name.
pub fn simple(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v: f64| v * std::f64::consts::PI / 180.0,
        "deg" => |v: f64| v * 180.0 / std::f64::consts::PI,
        "sgn" => sgn,
        _ => return None,
    })
}

/// `sgn`: -1, 0 or 1 (NaN stays NaN).
pub fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `clamp(v, min, max)`; `None` (drop the sample) when `max < min`.
pub fn clamp(v: f64, min: f64, max: f64) -> Option<f64> {
    if max < min {
        return None;
    }
    Some(v.min(max).max(min))
}

/// `clamp_min` with Go's `math.Max` NaN semantics.
pub fn clamp_min(v: f64, min: f64) -> f64 {
    go_max(v, min)
}

/// `clamp_max` with Go's `math.Min` NaN semantics.
pub fn clamp_max(v: f64, max: f64) -> f64 {
    go_min(v, max)
}

/// Go's `math.Max`: NaN if either argument is NaN.
pub fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN if either argument is NaN.
pub fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// `round(v, to_nearest)`: rounds half up (towards +Inf) to a multiple of `to_nearest`.
pub fn round(v: f64, to_nearest: f64) -> f64 {
    let inv = 1.0 / to_nearest;
    (v * inv + 0.5).floor() / inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn math_kernels() {
        assert_eq!(round(2.5, 1.0), 3.0);
        assert_eq!(round(-2.5, 1.0), -2.0);
        assert_eq!(round(12.34, 0.1), 12.3);
        assert_eq!(round(17.0, 5.0), 15.0);
        assert_eq!(clamp(5.0, 0.0, 3.0), Some(3.0));
        assert_eq!(clamp(5.0, 3.0, 0.0), None);
        assert!(clamp_min(f64::NAN, 1.0).is_nan());
        assert_eq!(sgn(-3.0), -1.0);
        assert_eq!(sgn(0.0), 0.0);
        assert_eq!(simple("deg").map(|f| f(std::f64::consts::PI)), Some(180.0));
        assert!(simple("nope").is_none());
    }
}
