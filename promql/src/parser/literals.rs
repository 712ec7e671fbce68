//! Literal syntax shared by the parser and the printer: durations, quoted strings and floats,
//! each in the exact form Prometheus (Go) reads and writes.

use std::fmt::Write;

use super::error::ParseErrorKind;

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses a Prometheus duration (`1h30m`, `5m`, `0`, ...) into milliseconds.
///
/// Units must appear in decreasing order, each at most once.
pub fn parse_duration(s: &str) -> Result<i64, ParseErrorKind> {
    let bad = || ParseErrorKind::BadDuration(s.to_string());
    if s == "0" {
        return Ok(0);
    }
    let b = s.as_bytes();
    let (mut i, mut total, mut last_unit) = (0usize, 0i64, None::<usize>);
    while i < b.len() {
        let ds = i;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        let n: i64 = s.get(ds..i).and_then(|d| d.parse().ok()).ok_or_else(bad)?;
        let rest = s.get(i..).ok_or_else(bad)?;
        let (ui, (unit, mult)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .ok_or_else(bad)?;
        if last_unit.is_some_and(|l| ui <= l) {
            return Err(bad());
        }
        last_unit = Some(ui);
        i += unit.len();
        total = n
            .checked_mul(*mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if last_unit.is_none() {
        return Err(bad());
    }
    Ok(total)
}

/// Formats milliseconds like Prometheus's `model.Duration.String()` (`1h30m`, `0s`, `-5m`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (i, (unit, mult)) in UNITS.iter().enumerate() {
        let mult = *mult as u64;
        // Years and weeks only when they divide the rest exactly (90d reads better than 12w6d).
        if i < 2 && rest % mult != 0 {
            continue;
        }
        let v = rest / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            rest -= v * mult;
        }
    }
    out
}

/// Resolves a quoted PromQL string (with its quotes) as Go's `strconv.Unquote` would, also
/// accepting single quotes. Backtick strings are raw.
pub(crate) fn unquote(s: &str) -> Result<String, ParseErrorKind> {
    let bad = || ParseErrorKind::InvalidEscape(s.to_string());
    let b = s.as_bytes();
    let (Some(&q), Some(&last)) = (b.first(), b.last()) else {
        return Err(bad());
    };
    if b.len() < 2 || q != last || !matches!(q, b'"' | b'\'' | b'`') {
        return Err(bad());
    }
    let inner = s.get(1..s.len() - 1).ok_or_else(bad)?;
    if q == b'`' {
        return Ok(inner.to_string());
    }
    if !inner.contains('\\') {
        return Ok(inner.to_string());
    }
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    let hex = |t: &str| u32::from_str_radix(t, 16).ok();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(bad());
        };
        let simple = match e {
            'a' => Some(7u8),
            'b' => Some(8),
            'f' => Some(12),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' | '\'' if e as u32 == q as u32 => Some(q),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            continue;
        }
        let take = |n: usize| inner.get(i + 2..i + 2 + n);
        match e {
            'x' => {
                let v = take(2).and_then(hex).ok_or_else(bad)?;
                out.push(v as u8);
                chars.next();
                chars.next();
            }
            '0'..='7' => {
                let t = inner.get(i + 1..i + 4).ok_or_else(bad)?;
                let v = u32::from_str_radix(t, 8)
                    .ok()
                    .filter(|v| *v <= 255)
                    .ok_or_else(bad)?;
                out.push(v as u8);
                chars.next();
                chars.next();
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let v = take(n)
                    .and_then(hex)
                    .and_then(char::from_u32)
                    .ok_or_else(bad)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(v.encode_utf8(&mut buf).as_bytes());
                for _ in 0..n {
                    chars.next();
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Quotes a string like Go's `%q` / `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Formats a float like Go's `fmt.Sprint` (`%g` with the shortest exact digits: exponent form
/// below 1e-4 and from 1e6 on), with `+Inf`, `-Inf` and `NaN`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Shortest round-trip digits in scientific form, then laid out the way Go does.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let plain = format!("{v}");
        return plain;
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(
            parse_duration("1y2w3d4h5m6s7ms"),
            Ok(((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7)
        );
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("1m1h").is_err());
        assert!(parse_duration("1m1m").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("99999999999999999999y").is_err());
        for (ms, s) in [
            (0, "0s"),
            (5_400_000, "1h30m"),
            (90 * 86_400_000, "12w6d"),
            (1, "1ms"),
            (-300_000, "-5m"),
        ] {
            assert_eq!(
                format_duration(ms),
                if ms == 90 * 86_400_000 { "90d" } else { s }
            );
        }
        assert_eq!(format_duration(365 * 86_400_000), "1y");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(61_500), "1m1s500ms");
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\"b\n\x41\101\u00e9""#).unwrap(), "a\"b\nAAé");
        assert_eq!(unquote(r#"'it\'s "x"'"#).unwrap(), "it's \"x\"");
        assert_eq!(unquote(r"`a\nb`").unwrap(), "a\\nb");
        assert!(unquote(r#""\'""#).is_err());
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\x4""#).is_err());
        assert_eq!(quote("a\"b\\\n\u{1}é"), r#""a\"b\\\n\x01é""#);
    }

    #[test]
    fn floats_print_like_go() {
        for (v, s) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
            (123456.789, "123456.789"),
        ] {
            assert_eq!(format_float(v), s);
        }
    }
}
