//! Output formatting that matches promtool 2.42 (Go's `%g`, `strconv.Quote`,
//! `time.Duration.String`, `units.Base2Bytes.String`, `time.Time.String`; the Go `time` ones
//! come from `kagari-model`).

use std::fmt::Write as _;

use kagari_model::Labels;

/// Appends `v` as Go's `fmt` `%g` does: shortest round-trip digits, in exponent form when the
/// decimal exponent is < -4 or >= 6 (`1e+06`, `1.5e-05`).
pub(crate) fn push_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d.ddddde<exp>`.
    let mut e = String::with_capacity(32);
    let _ = write!(e, "{v:e}");
    let Some((mantissa, exp)) = e.split_once('e') else {
        out.push_str(&e);
        return;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        out.push_str(mantissa);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        let _ = write!(out, "{a}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Appends `s` quoted as Go's `strconv.Quote` does.
pub(crate) fn push_go_quoted(out: &mut String, s: &str) {
    // Writing into a String cannot fail.
    let _ = kagari_model::write_quoted_go(out, s);
}

/// Appends labels as Prometheus 2.42's `labels.Labels.String()`: `{a="b", c="d"}`.
pub(crate) fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&l.name);
        out.push('=');
        push_go_quoted(out, &l.value);
    }
    out.push('}');
}

/// A millisecond duration as Go's `time.Duration.String()`.
pub(crate) fn go_duration(ms: i64) -> String {
    kagari_model::go_duration_string(ms.saturating_mul(1_000_000))
}

/// Bytes as `units.Base2Bytes.String()`: `71KiB71B`, `1MiB`, `0B`.
pub(crate) fn base2_bytes(mut n: u64) -> String {
    const UNITS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let mut parts: Vec<String> = Vec::new();
    for (i, u) in UNITS.iter().enumerate() {
        if n % 1024 != 0 || (i == 0 && n == 0) {
            let suffix = if i == 0 { "B" } else { "iB" };
            parts.push(format!("{}{u}{suffix}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

/// Milliseconds since the epoch as Go's `time.Unix(ms/1000, 0).UTC().String()`:
/// `2023-11-14 22:00:07 +0000 UTC`.
pub(crate) fn go_time_utc(ms: i64) -> String {
    kagari_model::go_time_string(i128::from(ms.div_euclid(1000)) * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut s = String::new();
        push_float(&mut s, v);
        s
    }

    #[test]
    fn floats_like_go_percent_g() {
        assert_eq!(g(1.0), "1");
        assert_eq!(g(0.5), "0.5");
        assert_eq!(g(123456.0), "123456");
        assert_eq!(g(1234567.0), "1.234567e+06");
        assert_eq!(g(1e6), "1e+06");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(1.7e9), "1.7e+09");
        assert_eq!(g(-2.5e-300), "-2.5e-300");
        assert_eq!(g(f64::NAN), "NaN");
        assert_eq!(g(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn durations_bytes_times() {
        assert_eq!(go_duration(7_185_001), "1h59m45.001s");
        assert_eq!(go_duration(60_000), "1m0s");
        assert_eq!(go_duration(1500), "1.5s");
        assert_eq!(go_duration(5), "5ms");
        assert_eq!(base2_bytes(72_775), "71KiB71B");
        assert_eq!(base2_bytes(1 << 20), "1MiB");
        assert_eq!(base2_bytes(0), "0B");
        assert_eq!(
            go_time_utc(1_699_999_207_000),
            "2023-11-14 22:00:07 +0000 UTC"
        );
        assert_eq!(
            go_time_utc(1_700_013_592_001),
            "2023-11-15 01:59:52 +0000 UTC"
        );
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_go_quoted(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\x01é""#);
    }
}
