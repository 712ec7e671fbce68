//! Number parsing and Go-compatible float formatting.

use std::fmt::Write as _;

/// Parses a sample value: decimal or exponent form, `NaN`, `Inf`/`Infinity` (any case, optional
/// sign). Hex, binary, octal and `_` separators are rejected.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Fast path: a plain (possibly signed) integer of up to 15 digits is exact in f64.
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
        let mut n: u64 = 0;
        for &d in digits {
            n = n * 10 + u64::from(d - b'0');
        }
        let v = n as f64;
        return Some(if neg { -v } else { v });
    }
    // Rust's float grammar is the one we want (no hex, no `_`), with `inf`, `infinity` and
    // `nan` in any case. The guard documents (and pins) that hex and `_` are never accepted.
    if b.iter().any(|&c| c == b'_' || c == b'x' || c == b'X') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses a 0.0.4 timestamp: int64 milliseconds.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// Parses an OpenMetrics timestamp: seconds, maybe fractional or in exponent form, never NaN/Inf.
pub(crate) fn parse_seconds(s: &str) -> Option<f64> {
    let v = parse_float(s)?;
    v.is_finite().then_some(v)
}

/// A stack buffer that formats without allocating.
pub(crate) struct NumBuf {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Debug for NumBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl NumBuf {
    pub(crate) fn new() -> Self {
        NumBuf {
            buf: [0; 40],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }
}

impl std::fmt::Write for NumBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            if self.len >= self.buf.len() {
                return Err(std::fmt::Error);
            }
            self.push(b);
        }
        Ok(())
    }
}

/// Formats `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, with Prometheus's spellings
/// `+Inf`, `-Inf` and `NaN`.
pub(crate) fn format_float(v: f64) -> NumBuf {
    let mut out = NumBuf::new();
    if v.is_nan() {
        let _ = out.write_str("NaN");
        return out;
    }
    if v.is_infinite() {
        let _ = out.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return out;
    }
    if v == 0.0 {
        let _ = out.write_str(if v.is_sign_negative() { "-0" } else { "0" });
        return out;
    }
    // Shortest round-trip digits in scientific form, e.g. "-1.2345e-7".
    let mut sci = NumBuf::new();
    let _ = write!(sci, "{v:e}");
    let s = sci.as_bytes();
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let epos = s.iter().position(|&c| c == b'e').unwrap_or(s.len());
    let mantissa = s.get(..epos).unwrap_or(&[]);
    let exp: i32 = std::str::from_utf8(s.get(epos + 1..).unwrap_or(&[]))
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &c in mantissa {
        if c.is_ascii_digit() {
            if let Some(slot) = digits.get_mut(nd) {
                *slot = c;
                nd += 1;
            }
        }
    }
    let digits = digits.get(..nd).unwrap_or(&[]);
    if neg {
        out.push(b'-');
    }
    // strconv's shortest 'g' uses exponent form below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exp) {
        write_exp(&mut out, digits, exp);
    } else if exp < 0 {
        out.push(b'0');
        out.push(b'.');
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        digits.iter().for_each(|&d| out.push(d));
    } else {
        let int_len = exp as usize + 1;
        for i in 0..int_len.max(digits.len()) {
            if i == int_len {
                out.push(b'.');
            }
            out.push(digits.get(i).copied().unwrap_or(b'0'));
        }
    }
    out
}

fn write_exp(out: &mut NumBuf, digits: &[u8], exp: i32) {
    if let Some((first, rest)) = digits.split_first() {
        out.push(*first);
        if !rest.is_empty() {
            out.push(b'.');
            rest.iter().for_each(|&d| out.push(d));
        }
    }
    out.push(b'e');
    out.push(if exp < 0 { b'-' } else { b'+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push(b'0');
    }
    let _ = write!(out, "{e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64, want: &str) {
        assert_eq!(format_float(v).as_str(), want, "formatting {v:?}");
    }

    #[test]
    fn floats_format_like_go() {
        check(1.0, "1");
        check(-1.5, "-1.5");
        check(0.1, "0.1");
        check(123456.0, "123456");
        check(1234567.0, "1.234567e+06");
        check(1e6, "1e+06");
        check(1.6384e6, "1.6384e+06");
        check(2.478268416e9, "2.478268416e+09");
        check(0.0001, "0.0001");
        check(0.00001, "1e-05");
        check(1.5e-300, "1.5e-300");
        check(f64::MAX, "1.7976931348623157e+308");
        check(f64::INFINITY, "+Inf");
        check(f64::NEG_INFINITY, "-Inf");
        check(f64::NAN, "NaN");
        check(0.0, "0");
        check(179886.5000000001, "179886.5000000001");
    }

    #[test]
    fn float_grammar() {
        for ok in [
            "1",
            "-1",
            "+1",
            "1.5",
            ".5",
            "5.",
            "1e5",
            "1E-5",
            "NaN",
            "nan",
            "+Inf",
            "-inf",
            "Infinity",
            "0001.2e-1",
            "9223372036854775808",
        ] {
            assert!(parse_float(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "a", "0x1", "0x1p-3", "1_2", "0b1", "0o1", "1 ", " 1", "1.1.1", ".",
        ] {
            assert!(parse_float(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_seconds("NaN"), None);
        assert_eq!(parse_millis("1.5"), None);
        assert_eq!(parse_millis("9223372036854775808"), None);
        assert_eq!(parse_millis("-5"), Some(-5));
    }
}
