//! Prometheus's `humanize*` functions (prometheus/common `helpers/templates`).

use super::gofmt::format_float;
use super::timefmt;

fn g4(v: f64) -> String {
    format_float(v, 'g', Some(4))
}

/// SI prefixes: `1234` → `1.234k`, `0.5` → `500m`.
pub(super) fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return g4(v);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", g4(v))
}

/// Binary prefixes: `1536` → `1.5ki`.
pub(super) fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return g4(v);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// Seconds as `1d 2h 3m 4s`, `1.5s` or `12.3ms`.
pub(super) fn duration(mut v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let whole = v as i64;
        let (s, m, h, d) = (
            whole % 60,
            whole / 60 % 60,
            whole / 3600 % 24,
            whole / 86_400,
        );
        return if d != 0 {
            format!("{sign}{d}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", g4(v))
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// A ratio as a percentage: `0.1234` → `12.34%`.
pub(super) fn percentage(v: f64) -> String {
    format!("{}%", g4(v * 100.0))
}

/// Unix seconds (float) to nanoseconds, truncating like Go's `time.Unix(int64(v), frac*1e9)`.
pub(super) fn unix_float_to_ns(v: f64) -> i128 {
    let secs = v.trunc();
    let nanos = ((v - secs) * 1e9) as i128;
    // Far outside Go's time range: saturate instead of overflowing.
    (secs as i128)
        .saturating_mul(1_000_000_000)
        .saturating_add(nanos)
}

/// Unix seconds as Go's `time.Time.String()` in UTC.
pub(super) fn timestamp(v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    timefmt::time_string(unix_float_to_ns(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_table() {
        for (v, want) in [
            (0.0, "0"),
            (12.0, "12"),
            (999.0, "999"),
            (1000.0, "1k"),
            (1234.0, "1.234k"),
            (12345.678, "12.35k"),
            (1234567.0, "1.235M"),
            (123456789.0, "123.5M"),
            (1e10, "10G"),
            (-2500.0, "-2.5k"),
            (0.5, "500m"),
            (0.001234, "1.234m"),
            (1.5e-7, "150n"),
            (1e27, "1000Y"),
            (1e30, "1e+06Y"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(humanize(v), want, "{v}");
        }
    }

    #[test]
    fn humanize1024_table() {
        for (v, want) in [
            (0.5, "0.5"),
            (1.0, "1"),
            (1024.0, "1ki"),
            (1536.0, "1.5ki"),
            (1048576.0, "1Mi"),
            (123456789.0, "117.7Mi"),
            (-2048.0, "-2ki"),
        ] {
            assert_eq!(humanize1024(v), want, "{v}");
        }
    }

    #[test]
    fn duration_table() {
        for (v, want) in [
            (0.0, "0s"),
            (1.5, "1.5s"),
            (59.99, "59.99s"),
            (60.0, "1m 0s"),
            (61.0, "1m 1s"),
            (3661.0, "1h 1m 1s"),
            (86400.0, "1d 0h 0m 0s"),
            (90061.5, "1d 1h 1m 1s"),
            (123456.0, "1d 10h 17m 36s"),
            (-90.0, "-1m 30s"),
            (0.0123, "12.3ms"),
            (0.000001234, "1.234us"),
        ] {
            assert_eq!(duration(v), want, "{v}");
        }
    }

    #[test]
    fn percentage_and_timestamp() {
        for (v, want) in [
            (0.0, "0%"),
            (0.1234, "12.34%"),
            (0.5, "50%"),
            (1.5, "150%"),
            (0.00012345, "0.01234%"),
        ] {
            assert_eq!(percentage(v), want, "{v}");
        }
        assert_eq!(timestamp(1600000000.0), "2020-09-13 12:26:40 +0000 UTC");
        assert_eq!(timestamp(1600000000.5), "2020-09-13 12:26:40.5 +0000 UTC");
        assert_eq!(timestamp(f64::NAN), "NaN");
    }
}
